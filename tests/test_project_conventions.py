"""The project's review checklist, run over dbt's parsed manifest.

After dbt-project-evaluator's rules: documentation on every model and column, a
primary-key test on every model, freshness on every source, no source() outside
staging, enforced contracts on marts; and docs/data_tests.md's policy: every
model carries a drift check with a considered severity or threshold, and says
why.
"""

from __future__ import annotations

import json

import pytest

from tests.support.dbt import run_dbt

PRIMARY_KEY_TESTS = {"unique", "unique_combination_of_columns"}
#: dbt's default warn_if and error_if: any failing row counts.
DEFAULT_THRESHOLD = "!=0"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    target = tmp_path_factory.mktemp("parse_target")
    run_dbt(["parse"], target_path=target)
    return json.loads((target / "manifest.json").read_text())


def project_models(manifest):
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "clv_warehouse"
    }


@pytest.mark.integration
def test_every_model_and_column_is_documented(manifest):
    models = project_models(manifest)
    assert len(models) >= 28
    missing = []
    for uid, node in models.items():
        if not node["description"].strip():
            missing.append(f"{uid}: no description")
        if not node["columns"]:
            missing.append(f"{uid}: no columns documented")
        for name, column in node["columns"].items():
            if not column["description"].strip():
                missing.append(f"{uid}.{name}: no description")
    assert not missing, "\n".join(missing)


@pytest.mark.integration
def test_every_model_has_a_primary_key_test(manifest):
    tested = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        name = (node.get("test_metadata") or {}).get("name")
        if name in PRIMARY_KEY_TESTS and node.get("attached_node"):
            tested.add(node["attached_node"])
    untested = sorted(set(project_models(manifest)) - tested)
    assert not untested, "models without a primary-key test: " + ", ".join(untested)


def project_data_tests(manifest):
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["package_name"] == "clv_warehouse"
    ]


def sets_a_threshold(test):
    """Whether a data test only warns or sets its own warn_if / error_if."""
    config = test["config"]
    return (
        str(config.get("severity", "")).lower() == "warn"
        or "".join(str(config.get("warn_if", DEFAULT_THRESHOLD)).split()) != DEFAULT_THRESHOLD
        or "".join(str(config.get("error_if", DEFAULT_THRESHOLD)).split()) != DEFAULT_THRESHOLD
    )


@pytest.mark.integration
def test_every_model_has_a_threshold_test(manifest):
    """docs/data_tests.md: besides its hard invariants, every model has a drift
    check whose severity or warn_if / error_if is a considered choice."""
    thresholded = [test for test in project_data_tests(manifest) if sets_a_threshold(test)]
    covered = {test.get("attached_node") for test in thresholded}
    uncovered = ", ".join(sorted(set(project_models(manifest)) - covered))
    assert not uncovered, f"models without a warn or warn_if / error_if test: {uncovered}"


#: PostgreSQL's identifier limit: a test's stored-failures relation is named after it.
MAX_RELATION_NAME = 63


@pytest.mark.integration
def test_every_node_name_fits_a_postgres_identifier(manifest):
    """A model, a seed, a test whose failures are stored: each is a relation (its alias).

    dbt shortens the aliases of the test names it generates, not of the names
    given with `name:`, and PostgreSQL refuses a relation name over 63
    characters at build time.
    """
    relations = [
        node
        for node in manifest["nodes"].values()
        if node["package_name"] == "clv_warehouse"
        and (node["resource_type"] != "test" or node["config"].get("store_failures"))
    ]
    assert any(node["resource_type"] == "test" for node in relations)
    too_long = sorted(
        f"{node['alias']} ({len(node['alias'])})"
        for node in relations
        if len(node["alias"]) > MAX_RELATION_NAME
    )
    assert not too_long, "names over 63 characters: " + ", ".join(too_long)


@pytest.mark.integration
def test_every_threshold_test_says_why(manifest):
    """A test that only warns or tolerates failing rows says why in its description."""
    thresholded = [test for test in project_data_tests(manifest) if sets_a_threshold(test)]
    assert thresholded, "no test warns or sets warn_if / error_if"
    unexplained = ", ".join(
        sorted(test["unique_id"] for test in thresholded if not test["description"].strip())
    )
    assert not unexplained, f"threshold tests without a description: {unexplained}"


@pytest.mark.integration
def test_every_source_has_freshness_and_a_loaded_at_field(manifest):
    sources = manifest["sources"].values()
    assert len(sources) == 13
    for source in sources:
        freshness = source.get("freshness") or {}
        assert source.get("loaded_at_field"), source["unique_id"]
        assert (freshness.get("warn_after") or {}).get("count"), source["unique_id"]
        assert (freshness.get("error_after") or {}).get("count"), source["unique_id"]
        assert source["description"].strip(), source["unique_id"]


@pytest.mark.integration
def test_sources_are_read_only_in_staging(manifest):
    offenders = [
        uid
        for uid, node in project_models(manifest).items()
        if node["depends_on"]["nodes"]
        and any(dep.startswith("source.") for dep in node["depends_on"]["nodes"])
        and "/staging/" not in "/" + node["original_file_path"]
    ]
    assert not offenders, offenders


#: Models outside staging that may read a staging model: the reporting period
#: (it finds where the data ends) and the audit (it counts every staged row).
READS_ALL_OF_STAGING = {"reporting_period", "rejection_summary"}


@pytest.mark.integration
def test_staging_reaches_marts_only_through_the_as_of_cut(manifest):
    """DECISIONLOG.md, "Reporting period": every event a mart counts is cut at the
    as-of date in one place per source, models/intermediate/as_of/. Any other
    model reading a stg_ model directly would count events after the as-of date."""
    models = project_models(manifest)
    as_of_models = [n for n in models.values() if n["fqn"][1:3] == ["intermediate", "as_of"]]
    assert len(as_of_models) >= 12
    offenders = sorted(
        f"{node['name']} reads {dep.split('.')[-1]}"
        for node in models.values()
        if node["fqn"][1] not in ("staging", "audit")
        and node["fqn"][1:3] != ["intermediate", "as_of"]
        and node["name"] not in READS_ALL_OF_STAGING
        for dep in node["depends_on"]["nodes"]
        if dep.split(".")[-1].startswith("stg_")
    )
    assert not offenders, "read a staging model past the as-of cut: " + ", ".join(offenders)


@pytest.mark.integration
def test_marts_have_enforced_contracts(manifest):
    """SQL marts enforce contracts; dbt cannot enforce them on Python models, so
    those declare data types that tests/test_predictions_marts.py checks instead."""
    marts = [n for n in project_models(manifest).values() if n["fqn"][1:2] == ["marts"]]
    assert any(node["language"] == "python" for node in marts)
    for node in marts:
        if node["language"] == "sql":
            assert node["config"]["contract"]["enforced"], node["unique_id"]
        for name, column in node["columns"].items():
            assert column.get("data_type"), f"{node['unique_id']}.{name}: no data_type"


@pytest.mark.integration
def test_unit_test_names_fit_postgres_identifiers(manifest):
    """dbt names a relation after each unit test; PostgreSQL cuts identifiers at 63 bytes."""
    names = [test["name"] for test in manifest["unit_tests"].values()]
    assert len(names) >= 5
    too_long = [name for name in names if len(name) > 63]
    assert not too_long, too_long
