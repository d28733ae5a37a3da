# The two commands a new user needs are `make demo` and `make test`.
# Everything else is a building block of those two or a developer convenience.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# dbt reads these; nothing is sent anywhere and results are reproducible.
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

DEMO_CUSTOMERS ?= 5000
DEMO_BAD_ROWS ?= 0.005
DEMO_SEED ?= 42
RAW_DIR ?= data/raw

DBT := $(BIN)/dbt
DBT_FLAGS := --project-dir . --profiles-dir .

.PHONY: help venv demo generate validate-raw build validate publish test test-fast lint format docs freshness cdnow bench-clv clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 is required (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)  ## Create .venv and install the pinned packages.

generate: $(STAMP)  ## Generate the demo raw data set into data/raw.
	$(BIN)/clv generate --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) \
		--bad-rows $(DEMO_BAD_ROWS) --out $(RAW_DIR)

validate-raw: $(STAMP)  ## Gate: great-expectations checks on the raw files, before dbt reads them.
	$(BIN)/clv validate --layer raw --raw-dir $(RAW_DIR)

build: $(STAMP)  ## Run dbt build on the default (DuckDB) target.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) build $(DBT_FLAGS)

validate: $(STAMP)  ## Run every great-expectations suite (raw, staging, marts); writes Data Docs.
	$(BIN)/clv validate --layer all --raw-dir $(RAW_DIR)

publish: $(STAMP)  ## Gate on the last build and the checks, then publish the marts for BI.
	$(BIN)/clv publish --raw-dir $(RAW_DIR)

freshness: $(STAMP)  ## Check source freshness of the raw data.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) source freshness $(DBT_FLAGS)

demo: generate validate-raw build publish  ## Generate sample data, check, build, publish, show where to look.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(BIN)/clv summary

test: $(STAMP)  ## Run every test: pytest (which drives dbt build, dbt tests, unit tests and sqlfluff).
	$(BIN)/pytest

test-fast: $(STAMP)  ## Run the unit tier only: no dbt, no warehouse, under a minute.
	$(BIN)/pytest -m unit

cdnow: $(STAMP)  ## Build the warehouse on the real CDNOW data; compare the fit with the papers.
	$(BIN)/clv cdnow

bench-clv: $(STAMP)  ## Benchmark the BG/NBD fit against lifetimes and the dbt Python-model step (1M customers).
	$(BIN)/python scripts/bench_clv.py
	$(BIN)/python scripts/bench_clv_warehouse.py --customers 1000000

lint: $(STAMP)  ## Lint SQL (sqlfluff) and Python (ruff).
	@# The dbt templater opens a DuckDB connection: a throwaway file, so lint
	@# works on a fresh clone and never touches (or waits for) the warehouse.
	CLV_DUCKDB_PATH=$${TMPDIR:-/tmp}/clv-lint.duckdb $(BIN)/sqlfluff lint models
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

format: $(STAMP)  ## Format Python with ruff.
	$(BIN)/ruff format src tests scripts

docs: $(STAMP)  ## Generate dbt docs into target/.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) docs generate $(DBT_FLAGS)

clean:  ## Remove generated data, dbt artefacts and the environment.
	rm -rf data target logs $(VENV)
