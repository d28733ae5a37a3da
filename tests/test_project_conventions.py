"""The project's review checklist, run over dbt's parsed manifest.

The rules and their commented exception lists live in tests/support/conventions.py
(dbt-project-evaluator's rules and docs/data_tests.md's policy), where
tests/test_contributing_walkthrough.py applies them to a build with
CONTRIBUTING.md's mart added. Here they run on the project as it is, each test
with a sanity check that the parse found what it checks, and each exception list
is checked for stale entries, so it only shrinks.
"""

from __future__ import annotations

import json

import pytest

from clv.contract.tables import SPECS
from tests.support.conventions import (
    CHAINED_VIEWS_EXCEPTIONS,
    DIRECT_JOIN_TO_SOURCE_EXCEPTIONS,
    REJOINING_EXCEPTIONS,
    SOURCE_OUTSIDE_STAGING_EXCEPTIONS,
    TOO_MANY_PARENTS_EXCEPTIONS,
    UNTESTED_OR_UNDOCUMENTED_EXCEPTIONS,
    as_of_models,
    direct_joins_to_source,
    excess,
    joins_staging_to_decide_rejections,
    marts,
    marts_without_enforced_contract,
    models_reading_a_mart,
    models_without_primary_key_test,
    models_without_threshold_test,
    names_over_postgres_limit,
    parent_counts,
    project_data_tests,
    project_models,
    rejoined_concepts,
    relation_nodes,
    sets_a_threshold,
    sources_outside_staging,
    sources_without_freshness,
    staging_read_past_as_of_cut,
    threshold_tests_without_description,
    undocumented,
    unit_test_names_too_long,
    untested_or_undocumented,
    view_chain_depths,
    violations,
)
from tests.support.dbt import run_dbt


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    target = tmp_path_factory.mktemp("parse_target")
    run_dbt(["parse"], target_path=target)
    return json.loads((target / "manifest.json").read_text())


@pytest.mark.integration
def test_every_model_and_column_is_documented(manifest):
    assert len(project_models(manifest)) >= 28
    missing = undocumented(manifest)
    assert not missing, "\n".join(missing)


@pytest.mark.integration
def test_every_model_has_a_primary_key_test(manifest):
    untested = models_without_primary_key_test(manifest)
    assert not untested, "models without a primary-key test: " + ", ".join(untested)


@pytest.mark.integration
def test_every_model_has_a_threshold_test(manifest):
    """docs/data_tests.md: besides its hard invariants, every model has a drift
    check whose severity or warn_if / error_if is a considered choice
    (conventions.models_without_threshold_test)."""
    uncovered = ", ".join(models_without_threshold_test(manifest))
    assert not uncovered, f"models without a warn or warn_if / error_if test: {uncovered}"


@pytest.mark.integration
def test_every_node_name_fits_a_postgres_identifier(manifest):
    """A model, a seed, a test whose failures are stored: each is a relation (its alias).

    dbt shortens the aliases of the test names it generates, not of the names
    given with `name:`, and PostgreSQL refuses a relation name over 63
    characters at build time.
    """
    assert any(node["resource_type"] == "test" for node in relation_nodes(manifest))
    too_long = names_over_postgres_limit(manifest)
    assert not too_long, "names over 63 characters: " + ", ".join(too_long)


@pytest.mark.integration
def test_every_threshold_test_says_why(manifest):
    """A test that only warns or tolerates failing rows says why in its description."""
    thresholded = [test for test in project_data_tests(manifest) if sets_a_threshold(test)]
    assert thresholded, "no test warns or sets warn_if / error_if"
    unexplained = ", ".join(threshold_tests_without_description(manifest))
    assert not unexplained, f"threshold tests without a description: {unexplained}"


@pytest.mark.integration
def test_every_source_has_freshness_and_a_loaded_at_field(manifest):
    # A source per table of the raw contract (the raw_contract var), no more.
    assert len(manifest["sources"]) == len(SPECS)
    offences = sources_without_freshness(manifest)
    assert not offences, "\n".join(offences)


@pytest.mark.integration
def test_staging_reaches_marts_only_through_the_as_of_cut(manifest):
    """DECISIONLOG.md, "Reporting period": every event a mart counts is cut at the
    as-of date in one place per source, models/intermediate/as_of/. Any other
    model reading a stg_ model directly would count events after the as-of date."""
    assert len(as_of_models(manifest)) >= 12
    offenders = staging_read_past_as_of_cut(manifest)
    assert not offenders, "read a staging model past the as-of cut: " + ", ".join(offenders)


@pytest.mark.integration
def test_marts_have_enforced_contracts(manifest):
    """Every mart is SQL and enforces its contract. dbt cannot enforce contracts
    on Python models, so the dbt Python models that fit and score sit in
    intermediate/predictions and SQL marts publish their tables."""
    assert any(node["language"] == "python" for node in project_models(manifest).values())
    assert marts(manifest)
    offences = marts_without_enforced_contract(manifest)
    assert not offences, "\n".join(offences)


@pytest.mark.integration
def test_no_model_reads_a_mart(manifest):
    """Marts are the end of the DAG: logic two models share is an intermediate
    model, so no mart and no intermediate reads a mart (tests may)."""
    assert marts(manifest)
    offenders = models_reading_a_mart(manifest)
    assert not offenders, "models reading a mart: " + ", ".join(offenders)


@pytest.mark.integration
def test_unit_test_names_fit_postgres_identifiers(manifest):
    """dbt names a relation after each unit test; PostgreSQL cuts identifiers at 63 bytes."""
    assert len(manifest["unit_tests"]) >= 5
    too_long = unit_test_names_too_long(manifest)
    assert not too_long, too_long


# ------------------------------------------------ dbt-project-evaluator's DAG rules
#
# Each rule's offenders are compared with its exception list
# (tests/support/conventions.py): an exception that no longer applies fails too.


@pytest.mark.integration
def test_no_source_outside_staging(manifest):
    assert sources_outside_staging(manifest) == SOURCE_OUTSIDE_STAGING_EXCEPTIONS


@pytest.mark.integration
def test_no_direct_join_to_source_but_the_base_models(manifest):
    # The rule's exemption is in use: base_ models join stg_ models (orders, customers, rates).
    assert (
        sum(
            joins_staging_to_decide_rejections(node)
            and any(not dep.startswith("source.") for dep in node["depends_on"]["nodes"])
            for node in project_models(manifest).values()
        )
        >= 10
    )
    found = direct_joins_to_source(manifest)
    assert found - DIRECT_JOIN_TO_SOURCE_EXCEPTIONS == set(), "read a source and a model"
    assert DIRECT_JOIN_TO_SOURCE_EXCEPTIONS - found == set(), "stale exceptions: remove them"


@pytest.mark.integration
def test_no_model_has_more_than_seven_parents(manifest):
    found = parent_counts(manifest)
    assert not excess(found, TOO_MANY_PARENTS_EXCEPTIONS), excess(
        found, TOO_MANY_PARENTS_EXCEPTIONS
    )
    stale = sorted(set(TOO_MANY_PARENTS_EXCEPTIONS) - set(found))
    assert not stale, f"stale exceptions, remove them: {stale}"


@pytest.mark.integration
def test_no_chain_of_views_deeper_than_four(manifest):
    found = view_chain_depths(manifest)
    assert not excess(found, CHAINED_VIEWS_EXCEPTIONS), excess(found, CHAINED_VIEWS_EXCEPTIONS)
    stale = sorted(set(CHAINED_VIEWS_EXCEPTIONS) - set(found))
    assert not stale, f"stale exceptions, remove them: {stale}"


@pytest.mark.integration
def test_no_rejoining_of_upstream_concepts(manifest):
    found = rejoined_concepts(manifest)
    assert found - REJOINING_EXCEPTIONS == set(), "fold the in-between model into its child"
    assert REJOINING_EXCEPTIONS - found == set(), "stale exceptions: remove them"


@pytest.mark.integration
def test_no_model_without_tests_or_docs(manifest):
    assert untested_or_undocumented(manifest) == UNTESTED_OR_UNDOCUMENTED_EXCEPTIONS


@pytest.mark.integration
def test_the_project_keeps_every_rule(manifest):
    """conventions.violations, which a build with a new model is held to, finds nothing here."""
    assert violations(manifest) == []


def _fake_manifest(models: dict[str, tuple[str, list[str]]]) -> dict:
    """A manifest fragment: name -> (materialized, parents); 'src_x' parents are sources.

    Every model has a description; a model named 'untested_*' has no test, the others one.
    """

    def uid(name: str) -> str:
        return (
            f"source.clv_warehouse.raw.{name}"
            if name.startswith("src_")
            else (f"model.clv_warehouse.{name}")
        )

    nodes = {}
    for name, (materialized, parents) in models.items():
        folder = "staging" if name.startswith(("stg_", "base_")) else "marts"
        nodes[uid(name)] = {
            "unique_id": uid(name),
            "name": name,
            "resource_type": "model",
            "package_name": "clv_warehouse",
            "original_file_path": f"models/{folder}/{name}.sql",
            "description": "One row per thing.",
            "config": {"materialized": materialized},
            "depends_on": {"nodes": [uid(parent) for parent in parents]},
        }
        if not name.startswith("untested_"):
            nodes[f"test.clv_warehouse.unique_{name}"] = {
                "resource_type": "test",
                "package_name": "clv_warehouse",
                "depends_on": {"nodes": [uid(name)]},
            }
    return {"nodes": nodes, "unit_tests": {}}


@pytest.mark.unit
def test_each_evaluator_rule_flags_a_fake_offender():
    """Each rule finds the one offender planted in a manifest fragment, and nothing else."""
    eight = [f"stg_{letter}" for letter in "abcdefgh"]
    fake = _fake_manifest(
        {
            **{name: ("view", [f"src_{name[-1]}"]) for name in eight},
            "int_mart_reads_source": ("table", ["src_a"]),
            "int_joins_source": ("table", ["src_a", "stg_b"]),
            "base_joins_staging": ("table", ["src_c", "stg_d"]),
            "base_joins_intermediate": ("table", ["src_c", "on_five_views"]),
            "v1": ("view", ["stg_a"]),
            "v2": ("view", ["v1"]),
            "v3": ("view", ["v2"]),
            "v4": ("view", ["v3"]),
            "on_five_views": ("table", ["v4"]),
            "in_between": ("table", ["stg_a"]),
            "rejoins": ("table", ["stg_a", "in_between"]),
            "wide": ("table", eight),
            "untested_model": ("table", ["stg_a"]),
        }
    )
    # int_mart_reads_source and int_joins_source sit in marts/: both read a source there.
    assert sources_outside_staging(fake) == {"int_mart_reads_source", "int_joins_source"}
    assert direct_joins_to_source(fake) == {"int_joins_source", "base_joins_intermediate"}
    assert parent_counts(fake) == {"wide": 8}
    # stg_a, v1..v4: five views in a row above on_five_views.
    assert view_chain_depths(fake) == {"on_five_views": 5}
    assert rejoined_concepts(fake) == {("in_between", "rejoins")}
    assert untested_or_undocumented(fake) == {"untested_model"}
