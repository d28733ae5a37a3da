"""CONTRIBUTING.md's "Adding a model, layer by layer", followed literally.

The guide gives its throwaway mart as whole files: fenced blocks whose first
line is a path alone (``-- models/...sql``, ``# models/...yml``). These tests
copy the project, write those blocks where their first lines say, run the
guide's ``dbt build`` line in the copy on a copy of the session warehouse, and
check that every gate takes the new mart up with no Python list edited: dbt
runs every test the guide's YAML declares, great-expectations' marts suite
checks the mart from that build's manifest, and the project conventions
(tests/support/conventions.py) hold on that manifest. One breakage per gate
proves each one bites: a column missing from the YAML (or of another type)
fails dbt's contract, an emptied mart fails its suite, an undocumented column
fails the conventions. Nothing here restates the guide's SQL or YAML.

The guide's excerpts of real files (a first line ``excerpt of <path>``) are
checked against those files, so the page cannot drift from the code it quotes.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from clv.paths import PROJECT_DIR
from tests.support.conventions import PRIMARY_KEY_TESTS, project_models, violations
from tests.support.dbt import (
    DBT_EXECUTABLE,
    failing_nodes_in_run_results,
    run_dbt_process,
    sqlfluff_env,
)

GUIDE = PROJECT_DIR / "CONTRIBUTING.md"
#: A fenced block: its language and its text (without the fences).
FENCED_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: The first line of a block that is a whole new file: a comment holding its path alone.
WHOLE_FILE = re.compile(r"^(?:--|#) (models/\S+\.(?:sql|yml))$")
#: The first line of a block that quotes a real file.
EXCERPT = re.compile(r"^(?:--|#) excerpt of (\S+)$")
#: An excerpt's line that stands for lines it skips.
ELISION = "..."
#: Kept out of the copy of the project, at its root: what the copy must not share.
NOT_COPIED_AT_ROOT = {".git", ".venv", "data", "target", "logs", "dbt_packages"}
NOT_COPIED = {"__pycache__", ".pytest_cache", ".ruff_cache"}


# ---------------------------------------------------------------- reading the guide


@dataclass(frozen=True)
class Block:
    """A fenced code block of the guide."""

    language: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]


def guide_blocks() -> list[Block]:
    return [Block(lang, text) for lang, text in FENCED_BLOCK.findall(GUIDE.read_text())]


def guide_files() -> dict[str, str]:
    """path -> text of every block that is a whole new file (first line included)."""
    files = {}
    for block in guide_blocks():
        match = WHOLE_FILE.match(block.first_line)
        if match:
            assert match.group(1) not in files, f"the guide gives {match.group(1)} twice"
            files[match.group(1)] = block.text
    return files


@dataclass(frozen=True)
class GuideMart:
    """The guide's mart: its files, the YAML they declare, the dbt lines that build it."""

    files: dict[str, str]

    @property
    def sql_path(self) -> str:
        (path,) = [path for path in self.files if path.endswith(".sql")]
        return path

    @property
    def yml_path(self) -> str:
        """The model's YAML (``_<folder>__models.yml``)."""
        (path,) = [path for path in self.files if path.endswith("__models.yml")]
        return path

    @property
    def semantic_path(self) -> str:
        """The semantic layer's YAML (``_<folder>__semantic.yml``)."""
        (path,) = [path for path in self.files if path.endswith("__semantic.yml")]
        return path

    @property
    def name(self) -> str:
        return Path(self.sql_path).stem

    @property
    def declaration(self) -> dict:
        return yaml.safe_load(self.files[self.yml_path])

    @property
    def model(self) -> dict:
        (model,) = [m for m in self.declaration["models"] if m["name"] == self.name]
        return model

    @property
    def unique_id(self) -> str:
        return f"model.clv_warehouse.{self.name}"

    def declared_data_tests(self) -> int:
        """The data tests the YAML declares on the model and its columns."""
        columns = self.model.get("columns", [])
        return len(self.model.get("data_tests", [])) + sum(
            len(column.get("data_tests", [])) for column in columns
        )

    def declared_unit_tests(self) -> list[str]:
        return [
            test["name"]
            for test in self.declaration.get("unit_tests", [])
            if test["model"] == self.name
        ]

    def dbt_lines(self) -> list[str]:
        """The guide's shell lines that run dbt on this mart, in order."""
        return [
            line.strip()
            for block in guide_blocks()
            if block.language == "bash"
            for line in block.text.splitlines()
            if "bin/dbt " in line and self.name in line
        ]

    def with_yaml(self, change) -> dict[str, str]:
        """The mart's files with ``change(model declaration)`` applied to its YAML."""
        declaration = self.declaration
        (model,) = [m for m in declaration["models"] if m["name"] == self.name]
        change(model)
        text = yaml.safe_dump(declaration, sort_keys=False, allow_unicode=True, width=1000)
        return {**self.files, self.yml_path: text}


@pytest.fixture(scope="module")
def mart() -> GuideMart:
    return GuideMart(guide_files())


# ---------------------------------------------------------------- a copy of the project


def _not_copied(directory: str, names: list[str]) -> set[str]:
    ignored = NOT_COPIED_AT_ROOT if Path(directory) == PROJECT_DIR else set()
    return {name for name in names if name in ignored | NOT_COPIED}


def copy_project(destination: Path, files: Mapping[str, str]) -> Path:
    """The project's files (not .venv, data, target, .git) with ``files`` written in."""
    shutil.copytree(PROJECT_DIR, destination, ignore=_not_copied, symlinks=True)
    for relative, text in files.items():
        assert not (PROJECT_DIR / relative).exists(), f"{relative} exists: the guide's is new"
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # The guide's commands run .venv/bin/dbt from the repository root: this environment's.
    (destination / ".venv").symlink_to(DBT_EXECUTABLE.parent.parent)
    return destination


def put_warehouse(project: Path, warehouse) -> Path:
    """The session warehouse as the copy's data/clv.duckdb, its raw files as data/raw.

    dbt-duckdb names the catalog after the file, and the copied views name it:
    the copy keeps the file name (profiles.yml's default, data/clv.duckdb).
    """
    assert warehouse.database.name == "clv.duckdb"
    data = project / "data"
    data.mkdir()
    shutil.copy2(warehouse.database, data / "clv.duckdb")
    (data / "raw").symlink_to(warehouse.raw_dir)
    return data / "clv.duckdb"


@dataclass(frozen=True)
class GuideBuild:
    """The copy of the project after the guide's dbt lines ran in it."""

    project: Path
    returncode: int
    run_results: dict
    manifest: dict
    log: Path

    @property
    def database(self) -> Path:
        return self.project / "data" / "clv.duckdb"

    @property
    def manifest_path(self) -> Path:
        return self.project / "target" / "manifest.json"

    def status(self, unique_id: str) -> tuple[str, str]:
        (result,) = [r for r in self.run_results["results"] if r["unique_id"] == unique_id]
        return result["status"], result.get("message") or ""


def guide_env() -> dict[str, str]:
    """The environment the guide's lines run in: the guide's defaults decide
    (data/clv.duckdb, data/raw), none of this process's CLV_ or DBT_ settings."""
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(("CLV_", "DBT_"))
    }
    return {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


def run_the_guides_dbt_lines(project: Path, mart: GuideMart) -> GuideBuild:
    """Run each of the guide's dbt lines for ``mart`` with bash from the copy's root."""
    lines = mart.dbt_lines()
    assert lines, f"CONTRIBUTING.md has no bash line running dbt on {mart.name}"
    env = guide_env()
    log = project / "guide.log"
    returncode = 0
    with open(log, "a") as output:
        for line in lines:
            output.write(f"$ {line}\n")
            output.flush()
            returncode = subprocess.run(
                ["bash", "-c", line],
                cwd=project,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=600,
            ).returncode
            if returncode != 0:
                break
    target = project / "target"
    return GuideBuild(
        project,
        returncode,
        json.loads((target / "run_results.json").read_text()),
        json.loads((target / "manifest.json").read_text()),
        log,
    )


def assert_built(build: GuideBuild) -> None:
    assert build.returncode == 0, (
        "the guide's dbt build failed:\n  "
        + "\n  ".join(failing_nodes_in_run_results(build.project / "target"))
        + f"\n--- end of its output ---\n{build.log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def guide_build(mart, warehouse, tmp_path_factory) -> GuideBuild:
    """The guide's mart written into a copy of the project and built as the guide says."""
    project = copy_project(tmp_path_factory.mktemp("walkthrough") / "project", mart.files)
    put_warehouse(project, warehouse)
    build = run_the_guides_dbt_lines(project, mart)
    assert_built(build)
    return build


# ---------------------------------------------------------------- the guide itself


@pytest.mark.unit
def test_the_guide_gives_its_mart_as_new_files_and_a_dbt_build_line(mart):
    assert {Path(path).suffix for path in mart.files} == {".sql", ".yml"}, mart.files
    assert all(path.startswith("models/marts/") for path in mart.files), mart.files
    assert Path(mart.yml_path).parent == Path(mart.sql_path).parent
    assert Path(mart.semantic_path).parent == Path(mart.sql_path).parent
    assert mart.model["config"]["contract"]["enforced"] is True
    assert any(f"build --select {mart.name}+" in line for line in mart.dbt_lines())


@pytest.mark.unit
def test_the_guides_excerpts_still_say_what_their_files_say():
    """Each excerpt's lines between ``...`` appear in its file, in that order."""
    excerpts = [
        (EXCERPT.match(block.first_line).group(1), block.text.splitlines()[1:])
        for block in guide_blocks()
        if EXCERPT.match(block.first_line)
    ]
    assert len(excerpts) >= 5
    stale = []
    for relative, lines in excerpts:
        file_lines = (PROJECT_DIR / relative).read_text().splitlines()
        chunks: list[list[str]] = [[]]
        for line in lines:
            if line.strip() == ELISION:
                chunks.append([])
            else:
                chunks[-1].append(line)
        position = 0
        for chunk in filter(None, chunks):
            found = next(
                (
                    start
                    for start in range(position, len(file_lines) - len(chunk) + 1)
                    if file_lines[start : start + len(chunk)] == chunk
                ),
                None,
            )
            if found is None:
                stale.append(f"{relative}: not (or not in this order) in the file:\n{chunk}")
                break
            position = found + len(chunk)
    assert not stale, "\n".join(stale)


# ---------------------------------------------------------------- every gate takes it up


@pytest.mark.scale
def test_the_guides_build_runs_the_mart_and_every_test_it_declares(mart, guide_build):
    assert guide_build.status(mart.unique_id) == ("success", "OK")
    node = guide_build.manifest["nodes"][mart.unique_id]
    assert node["config"]["contract"]["enforced"]
    tests = {
        uid: test
        for uid, test in guide_build.manifest["nodes"].items()
        if test["resource_type"] == "test" and test.get("attached_node") == mart.unique_id
    }
    assert len(tests) == mart.declared_data_tests() >= 5
    statuses = {uid: guide_build.status(uid)[0] for uid in tests}
    assert set(statuses.values()) == {"pass"}, statuses
    primary_keys = [
        uid for uid, test in tests.items() if test["test_metadata"]["name"] in PRIMARY_KEY_TESTS
    ]
    assert primary_keys, "no primary-key test ran on the mart"
    unit_tests = mart.declared_unit_tests()
    assert unit_tests
    for name in unit_tests:
        assert guide_build.status(f"unit_test.clv_warehouse.{mart.name}.{name}")[0] == "pass"
    # The exposure the guide declares is in the manifest, downstream of the mart.
    exposures = guide_build.manifest["exposures"].values()
    assert any(mart.unique_id in exposure["depends_on"]["nodes"] for exposure in exposures)
    with duckdb.connect(str(guide_build.database), read_only=True) as connection:
        (rows,) = connection.execute(f"select count(*) from marts.{mart.name}").fetchone()
    assert rows > 0


@pytest.mark.scale
def test_the_guides_metrics_reach_the_semantic_manifest(mart, guide_build):
    """dbt validated the guide's semantic model and wrote its metrics where ``mf`` reads them."""
    declared = yaml.safe_load(mart.files[mart.semantic_path])
    semantic = json.loads((guide_build.project / "target" / "semantic_manifest.json").read_text())
    models = {model["name"]: model for model in semantic["semantic_models"]}
    (model,) = declared["semantic_models"]
    assert models[model["name"]]["node_relation"]["alias"] == mart.name
    metrics = {metric["name"]: metric for metric in semantic["metrics"]}
    for metric in declared["metrics"]:
        assert metrics[metric["name"]]["type"] == metric["type"]
        assert f"{mart.name}." in metrics[metric["name"]]["description"]
    assert metrics["traffic_source_average_order_value"]["type"] == "ratio"


@pytest.mark.scale
def test_the_guides_mf_query_equals_the_marts_column(mart, guide_build, tmp_path):
    """The guide's ``mf query`` line, run as written (plus ``--csv``), gives the mart's
    average_order_value for every month and traffic source."""
    (line,) = [
        line.strip()
        for block in guide_blocks()
        if block.language == "bash"
        for line in block.text.splitlines()
        if "bin/mf query" in line
    ]
    out = tmp_path / "mf.csv"
    completed = subprocess.run(
        ["bash", "-c", f"{line} --csv {out}"],
        cwd=guide_build.project,
        env=guide_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0 and out.exists(), completed.stdout + completed.stderr
    with out.open() as handle:
        queried = {
            (row["metric_time__month"][:10], row["traffic_source_month__traffic_source"]): float(
                row["traffic_source_average_order_value"]
            )
            for row in csv.DictReader(handle)
        }
    with duckdb.connect(str(guide_build.database), read_only=True) as connection:
        rows = connection.execute(
            f"select month, traffic_source, average_order_value from marts.{mart.name}"
        ).fetchall()
    expected = {(str(month), source): value for month, source, value in rows}
    assert len(expected) > 10 and set(queried) == set(expected)
    wrong = [key for key in expected if not math.isclose(queried[key], expected[key], rel_tol=1e-9)]
    assert wrong == []


@pytest.mark.scale
def test_great_expectations_checks_the_new_mart_from_the_builds_manifest(
    mart, guide_build, warehouse
):
    from clv.quality import validate

    report = validate(
        ("marts",),
        raw_dir=warehouse.raw_dir,
        database=guide_build.database,
        manifest=guide_build.manifest_path,
    )
    suite = report.suite(f"marts.{mart.name}")
    assert suite.success, suite.failures
    # Present, not empty, exactly its declared columns, each of its declared type.
    assert suite.evaluated >= len(mart.model["columns"]) + 2, suite
    assert report.success, "\n".join(report.summary_lines())


@pytest.mark.scale
def test_the_conventions_hold_on_the_builds_manifest(mart, guide_build):
    assert mart.unique_id in project_models(guide_build.manifest)
    assert violations(guide_build.manifest) == []


@pytest.mark.integration
def test_the_guides_sql_passes_sqlfluff(mart, tmp_path):
    project = copy_project(tmp_path / "project", mart.files)
    completed = subprocess.run(
        [str(DBT_EXECUTABLE.with_name("sqlfluff")), "lint", mart.sql_path, "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        env=sqlfluff_env(tmp_path),
        timeout=600,
    )
    (report,) = json.loads(completed.stdout)
    violations_found = [
        f"{v.get('start_line_no')} {v['code']} {v['description']}" for v in report["violations"]
    ]
    assert not violations_found, "\n".join(violations_found)
    assert completed.returncode == 0, completed.stderr[-3000:]


# ---------------------------------------------------------------- and fails when it is broken


def _drop_last_column(model: dict) -> None:
    model["columns"].pop()


def _retype_a_count(model: dict) -> None:
    """The first bigint column declared as text instead."""
    column = next(column for column in model["columns"] if column["data_type"] == "bigint")
    column["data_type"] = "varchar"


@pytest.mark.scale
@pytest.mark.parametrize(
    "breakage", [_drop_last_column, _retype_a_count], ids=["column missing", "other type"]
)
def test_a_yaml_that_differs_from_the_sql_fails_the_contract(mart, breakage, warehouse, tmp_path):
    project = copy_project(tmp_path / "project", mart.with_yaml(breakage))
    put_warehouse(project, warehouse)
    build = run_the_guides_dbt_lines(project, mart)
    assert build.returncode != 0
    status, message = build.status(mart.unique_id)
    assert status == "error"
    assert "contract" in message, message


@pytest.mark.scale
def test_an_emptied_mart_fails_its_great_expectations_suite(mart, guide_build, tmp_path):
    from clv.quality import validate

    database = tmp_path / "clv.duckdb"
    shutil.copy2(guide_build.database, database)
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"delete from marts.{mart.name}")
    report = validate(
        ("marts",),
        raw_dir=guide_build.project / "data" / "raw",
        database=database,
        manifest=guide_build.manifest_path,
    )
    failed = {suite.name: suite.failures for suite in report.suites if not suite.success}
    assert list(failed) == [f"marts.{mart.name}"], failed
    (failures,) = failed.values()
    assert any("expect_table_row_count_to_be_between" in line for line in failures), failures


@pytest.mark.integration
def test_an_undocumented_column_fails_the_conventions(mart, tmp_path):
    undocumented = mart.model["columns"][-1]["name"]

    def undocument_the_last_column(model: dict) -> None:
        del model["columns"][-1]["description"]

    project = copy_project(tmp_path / "project", mart.with_yaml(undocument_the_last_column))
    target = tmp_path / "target"
    run_dbt_process(
        ["parse"], env={}, target_path=target, log=tmp_path / "parse.log", project_dir=project
    )
    manifest = json.loads((target / "manifest.json").read_text())
    assert violations(manifest) == [
        f"every model and column is documented: {mart.unique_id}.{undocumented}: no description"
    ]
