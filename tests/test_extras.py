"""The installable pieces: pins and extras in pyproject.toml, and what a missing extra says.

``make demo`` installs the core only (``pip install -e .``); each extra adds
one target or tool. A missing extra is one line naming the extra to install,
exit code 2, never an ImportError traceback (:mod:`clv.extras`). And nothing
that does not use Spark imports pyspark, which great-expectations would do at
import time (:mod:`clv.quality`).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import tomllib

import pytest
from packaging.requirements import Requirement

from clv import extras
from clv.cli import main
from clv.extras import EXTRAS, MissingExtra, hidden, require
from clv.paths import PROJECT_DIR

pytestmark = pytest.mark.unit

PROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
CORE = [Requirement(line) for line in PROJECT["dependencies"]]
OPTIONAL = {
    extra: [Requirement(line) for line in lines]
    for extra, lines in PROJECT["optional-dependencies"].items()
}
#: What a DuckDB user must not download (the issue: "should not download Spark").
NOT_IN_CORE = {
    "pyspark",
    "dbt-spark",
    "dagster",
    "dagster-dbt",
    "dagster-webserver",
    "dbt-postgres",
    "psycopg2-binary",
    "sqlalchemy",
    "dbt-metricflow",
    "metricflow",
    "duckdb-engine",
    "lifetimes",
    "playwright",
    "pytest",
}


def canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def self_references(requirements: list[Requirement]) -> list[Requirement]:
    return [r for r in requirements if canonical(r.name) == canonical(PROJECT["name"])]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


# ---------------------------------------------------------------- pyproject.toml


def test_every_dependency_is_pinned_exactly():
    loose = [
        f"{where}: {r}"
        for where, requirements in [("core", CORE), *OPTIONAL.items()]
        for r in requirements
        if r not in self_references(requirements)
        and (len(r.specifier) != 1 or next(iter(r.specifier)).operator != "==")
    ]
    assert loose == []


def test_the_core_has_no_spark_dagster_postgres_or_test_tools():
    assert {canonical(r.name) for r in CORE} & NOT_IN_CORE == set()


def test_the_core_has_what_make_demo_runs():
    names = {canonical(r.name) for r in CORE}
    assert {"dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "plotly"} <= names


def test_dev_holds_every_other_extra_by_self_reference():
    (own,) = self_references(OPTIONAL["dev"])
    assert own.extras == set(OPTIONAL) - {"dev"}


def test_each_package_has_one_version():
    """A package two extras need (sqlalchemy: [postgres] and [semantic]) is listed by
    both, with the same pin; a core package is never repeated in an extra."""
    pins: dict[str, set[str]] = {}
    for requirements in OPTIONAL.values():
        for r in requirements:
            if r not in self_references(requirements):
                pins.setdefault(canonical(r.name), set()).add(str(r.specifier))
    assert {name: versions for name, versions in pins.items() if len(versions) > 1} == {}
    assert {canonical(r.name) for r in CORE} & set(pins) == set()
    core = [canonical(r.name) for r in CORE]
    assert sorted(name for name in set(core) if core.count(name) > 1) == []


def test_the_full_environment_keeps_every_pin():
    # The tests run with [dev]: an extra whose dependencies moved a pinned package
    # (dbt-metricflow pulling another dbt-core or duckdb, say) shows here.
    from importlib.metadata import PackageNotFoundError, version

    def installed_version(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    moved = {
        canonical(r.name): (str(r.specifier), installed_version(r.name))
        for requirements in [CORE, *OPTIONAL.values()]
        for r in requirements
        if r not in self_references(requirements)
        and not r.specifier.contains(installed_version(r.name) or "0")
    }
    assert moved == {}


def test_every_extra_clv_names_is_in_pyproject():
    assert set(EXTRAS) <= set(OPTIONAL)


def test_every_module_clv_names_is_installed_in_the_full_environment():
    # The tests run with every extra installed ([dev]): a misspelt module name shows here.
    assert {extra: extras.missing(extra) for extra in EXTRAS} == {extra: () for extra in EXTRAS}


# ---------------------------------------------------------------- clv.extras


def test_require_passes_when_installed_and_names_the_extra_when_not(monkeypatch):
    require("postgres")
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(MissingExtra) as excinfo:
        require("postgres", what="--target postgres")
    assert str(excinfo.value) == (
        "--target postgres needs the [postgres] extra (psycopg2 not installed): "
        "pip install -e '.[postgres]'"
    )
    assert excinfo.value.extra == "postgres"
    assert excinfo.value.missing == ("psycopg2",)


def test_require_finds_dotted_modules_without_their_parent(monkeypatch):
    monkeypatch.setitem(sys.modules, "dbt.adapters", None)
    assert extras.missing("spark", "dbt.adapters.spark") == ("dbt.adapters.spark",)


def test_require_refuses_an_unknown_extra():
    with pytest.raises(ValueError, match="unknown extra 'dashboard'"):
        require("dashboard")


def test_hidden_makes_an_import_fail_then_restores_it():
    name = "json.tool"  # a stdlib module not imported yet in this process
    sys.modules.pop(name, None)
    with hidden(name), pytest.raises(ImportError):
        importlib.import_module(name)
    assert importlib.import_module(name).__name__ == name


def test_hidden_leaves_an_imported_module_alone():
    with hidden("json"):
        import json

        assert json.dumps(1) == "1"
    assert sys.modules["json"] is json


# ---------------------------------------------------------------- the command line


def test_validate_on_postgres_without_the_extra_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    argv = ["validate", "--target", "postgres", "--layer", "all", "--raw-dir", str(tmp_path)]
    assert main([*argv, "--docs-dir", str(tmp_path / "docs")]) == 2
    assert one_error_line(capsys) == (
        "clv validate: error: --target postgres needs the [postgres] extra "
        "(psycopg2 not installed): pip install -e '.[postgres]'"
    )
    assert not (tmp_path / "docs").exists()


def test_cdnow_without_lifetimes_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "lifetimes", None)
    argv = ["cdnow", "--raw-dir", str(tmp_path / "raw"), "--database", str(tmp_path / "c.duckdb")]
    assert main(argv) == 2
    assert one_error_line(capsys) == (
        "clv cdnow: error: the CDNOW data (shipped with lifetimes) needs the [dev] extra "
        "(lifetimes not installed): pip install -e '.[dev]'"
    )


# ---------------------------------------------------------------- no pyspark without Spark

#: Run as a file, not ``-c``: under ``-c`` pyspark 4.3 may take the process for a
#: doctest run and ``sys.exit(0)`` it, so a check after the import would never run.
IMPORT_CHECK = textwrap.dedent(
    """
    import sys
    import warnings

    import clv.cli, clv.publish, clv.quality
    from clv.cli import main

    rc = main(["validate", "--layer", "raw", "--raw-dir", sys.argv[1], "--docs-dir", sys.argv[2]])
    assert rc == 1, rc  # the gate failed, after GX made its context and Data Docs
    assert "pyspark" not in sys.modules, "pyspark imported"
    print("no pyspark")
    # Spark still works in the same process after great-expectations was imported.
    try:
        import pyspark
    except ImportError:
        print("pyspark not installed")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pyspark.sql import SparkSession
        print("pyspark", pyspark.__version__, SparkSession.__name__)
    """
)


def test_great_expectations_is_imported_without_pyspark(tmp_path):
    script = tmp_path / "import_check.py"
    script.write_text(IMPORT_CHECK)
    (tmp_path / "raw").mkdir()  # empty: every raw suite fails, and Data Docs are written
    completed = subprocess.run(
        [sys.executable, "-W", "default", str(script), str(tmp_path / "raw"), str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "no pyspark" in completed.stdout
    assert "pyspark 4" in completed.stdout or "pyspark not installed" in completed.stdout
    assert "FutureWarning" not in completed.stderr
    assert "Skipping doctests" not in completed.stderr
    assert (tmp_path / "d" / "index.html").is_file()
