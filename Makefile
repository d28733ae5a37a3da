# The two commands a new user needs are `make demo` and `make test`.
# Everything else is a building block of those two or a developer convenience.
# `make demo` and its steps install the core packages only (`pip install -e .`:
# dbt on DuckDB, the numerics, great-expectations); `make test`, lint, cdnow and
# the benchmarks install every extra too (`pip install -e ".[dev]"`), into the
# same .venv. The versions are in pyproject.toml.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two install stamps: the core (what `make demo` uses), and [dev] (every extra).
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
# `make dagster` adds the [orchestration] extra only.
ORCHESTRATION_STAMP := $(VENV)/.installed-orchestration-stamp

# dbt reads these; nothing is sent anywhere and results are reproducible.
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

DEMO_CUSTOMERS ?= 5000
DEMO_BAD_ROWS ?= 0.005
DEMO_SEED ?= 42
# Three years and the current month: the rolling-origin backtest gets 12 or 13 origins.
DEMO_YEARS ?= 3
RAW_DIR ?= data/raw

DBT := $(BIN)/dbt
DBT_FLAGS := --project-dir . --profiles-dir .

.PHONY: help venv demo generate validate-raw build build-postgres build-spark validate publish pipeline dashboard dagster test test-fast lint format docs freshness cdnow bench bench-clv bench-dashboard clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

define create_venv
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 is required (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
endef

$(STAMP): pyproject.toml
	$(create_venv)
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

# [dev] holds the core, so it stamps both; on an existing core .venv it adds the extras.
$(DEV_STAMP): pyproject.toml
	$(create_venv)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP) $(DEV_STAMP)

$(ORCHESTRATION_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[orchestration]"
	@touch $(ORCHESTRATION_STAMP)

venv: $(DEV_STAMP)  ## Create .venv with everything make test uses: the core and every extra ([dev]).

generate: $(STAMP)  ## Generate the demo raw data set into data/raw.
	$(BIN)/clv generate --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --years $(DEMO_YEARS) \
		--bad-rows $(DEMO_BAD_ROWS) --out $(RAW_DIR)

validate-raw: $(STAMP)  ## Gate: great-expectations checks on the raw files, before dbt reads them.
	$(BIN)/clv validate --layer raw --raw-dir $(RAW_DIR)

build: $(STAMP)  ## Run dbt build on the default (DuckDB) target.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) build $(DBT_FLAGS)

# The first selection's run_results.json, kept for `clv publish --target postgres`
# (the second selection overwrites target/run_results.json).
PG_FIRST_RESULTS := target/run_results_before_predict.json

build-postgres: $(STAMP)  ## dbt build on PostgreSQL (CLV_PG_* variables, [postgres] extra) around clv predict, then publish the marts.
	CLV_TARGET=postgres CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) build $(DBT_FLAGS) --exclude "source:predictions+"
	cp target/run_results.json $(PG_FIRST_RESULTS)
	CLV_TARGET=postgres $(BIN)/clv predict --target postgres
	CLV_TARGET=postgres CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) build $(DBT_FLAGS) --select "source:predictions+"
	CLV_TARGET=postgres $(BIN)/clv publish --target postgres --run-results $(PG_FIRST_RESULTS) --run-results target/run_results.json

build-spark: $(STAMP)  ## dbt build on local Spark (CLV_SPARK_DIR, [spark] extra, Java 17) around clv predict.
	CLV_TARGET=spark CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) run-operation load_raw_spark $(DBT_FLAGS)
	CLV_TARGET=spark CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) build $(DBT_FLAGS) --exclude "source:predictions+"
	CLV_TARGET=spark $(BIN)/clv predict --target spark
	CLV_TARGET=spark CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) build $(DBT_FLAGS) --select "source:predictions+"

validate: $(STAMP)  ## Run every great-expectations suite (raw, staging, marts); writes Data Docs.
	$(BIN)/clv validate --layer all --raw-dir $(RAW_DIR)

publish: $(STAMP)  ## Gate on the last build and the checks, then publish the marts for BI.
	$(BIN)/clv publish --raw-dir $(RAW_DIR)

freshness: $(STAMP)  ## Check source freshness of the raw data.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) source freshness $(DBT_FLAGS)

pipeline: $(STAMP)  ## The nightly run, as cron runs it: raw gate, dbt build, publish (clv run-pipeline).
	$(BIN)/clv run-pipeline --raw-dir $(RAW_DIR)

dashboard: $(STAMP)  ## Write the dashboard (one HTML file) from the published marts; print its path.
	$(BIN)/clv dashboard

demo: generate pipeline  ## Generate sample data, then the pipeline (check, build, publish); show where to look.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(BIN)/clv summary
	@# Last, so that the demo ends by printing where the dashboard is.
	$(BIN)/clv dashboard

dagster: $(ORCHESTRATION_STAMP)  ## Serve the Dagster UI for the pipeline on http://127.0.0.1:3000 (Ctrl-C stops it).
	mkdir -p data/dagster
	DAGSTER_HOME=$(abspath data/dagster) CLV_RAW_DIR=$(abspath $(RAW_DIR)) \
		$(BIN)/dagster dev -m clv.orchestration -h 127.0.0.1 -p 3000

test: $(DEV_STAMP)  ## Run every test: pytest (which drives dbt build, dbt tests, unit tests and sqlfluff).
	$(BIN)/pytest

test-fast: $(DEV_STAMP)  ## Run the unit tier only: no dbt, no warehouse, under a minute.
	$(BIN)/pytest -m unit

cdnow: $(DEV_STAMP)  ## Build the warehouse on the real CDNOW data; compare the fit with the papers.
	$(BIN)/clv cdnow

# One scale or engine at a time, e.g. BENCH_ARGS="--scales S --engines duckdb": results accumulate.
BENCH_ARGS ?=
bench: $(DEV_STAMP)  ## Benchmark dbt build, tests, daily run, validate, publish at 10k/100k/1M customers (bench/results.json).
	$(BIN)/python scripts/bench_scale.py $(BENCH_ARGS)

bench-clv: $(DEV_STAMP)  ## Benchmark the BG/NBD fit (vs lifetimes), the dbt Python-model step and the seasonal clock (1M customers).
	$(BIN)/python scripts/bench_clv.py
	$(BIN)/python scripts/bench_clv_warehouse.py --customers 1000000
	$(BIN)/python scripts/bench_clv_seasonal.py --customers 1000000

bench-dashboard: $(DEV_STAMP)  ## Time clv dashboard and the page's load in chromium on the demo's published marts.
	$(BIN)/python scripts/bench_dashboard.py

lint: $(DEV_STAMP)  ## Lint SQL (sqlfluff) and Python (ruff).
	@# The dbt templater opens a DuckDB connection: a throwaway file, so lint
	@# works on a fresh clone and never touches (or waits for) the warehouse.
	CLV_DUCKDB_PATH=$${TMPDIR:-/tmp}/clv-lint.duckdb $(BIN)/sqlfluff lint models
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

format: $(DEV_STAMP)  ## Format Python with ruff.
	$(BIN)/ruff format src tests scripts

docs: $(STAMP)  ## Generate dbt docs into target/; open target/static_index.html in a browser.
	CLV_RAW_DIR=$(abspath $(RAW_DIR)) $(DBT) docs generate --static $(DBT_FLAGS)
	@echo "docs: open $(abspath target/static_index.html) in a browser (one file, no server needed)"

clean:  ## Remove generated data, dbt artefacts and the environment.
	rm -rf data target logs $(VENV)
