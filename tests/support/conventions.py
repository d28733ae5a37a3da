"""The project's conventions as rules over dbt's parsed manifest.

After dbt-project-evaluator's rules: documentation on every model and column, a
primary-key test on every model, freshness on every source, enforced contracts on
marts, and its DAG rules (no source() outside staging, no direct join to a
source, at most seven parents, no chain of more than four views, no rejoining of
upstream concepts, no model without tests or docs), each with a commented list
of exceptions; and docs/data_tests.md's policy: every model carries a drift
check with a considered severity or threshold, and says why.

Each rule is a function of a manifest document (``manifest.json`` as a dict)
that returns its offences, empty when the manifest keeps the rule, so it reads
any build's manifest: tests/test_project_conventions.py applies them to the
project (and checks the exception lists for stale entries),
tests/test_contributing_walkthrough.py to a build with CONTRIBUTING.md's mart
added. :func:`violations` runs them all. No rule names a model it checks: a new
model is covered as soon as dbt parses it.
"""

from __future__ import annotations

from collections.abc import Callable

from clv.contract.tables import SPECS

PRIMARY_KEY_TESTS = {"unique", "unique_combination_of_columns"}
#: dbt's default warn_if and error_if: any failing row counts.
DEFAULT_THRESHOLD = "!=0"
#: PostgreSQL's identifier limit: a test's stored-failures relation is named after it.
MAX_RELATION_NAME = 63


def project_models(manifest: dict) -> dict[str, dict]:
    """unique_id -> node of the project's own models."""
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "clv_warehouse"
    }


def project_data_tests(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["package_name"] == "clv_warehouse"
    ]


def sets_a_threshold(test: dict) -> bool:
    """Whether a data test only warns or sets its own warn_if / error_if."""
    config = test["config"]
    return (
        str(config.get("severity", "")).lower() == "warn"
        or "".join(str(config.get("warn_if", DEFAULT_THRESHOLD)).split()) != DEFAULT_THRESHOLD
        or "".join(str(config.get("error_if", DEFAULT_THRESHOLD)).split()) != DEFAULT_THRESHOLD
    )


def marts(manifest: dict) -> dict[str, dict]:
    """unique_id -> node of the models under models/marts/."""
    return {
        uid: node for uid, node in project_models(manifest).items() if node["fqn"][1:2] == ["marts"]
    }


# ------------------------------------------------ documentation, keys, thresholds


def undocumented(manifest: dict) -> list[str]:
    """Models without a description or documented columns, and columns without a description."""
    missing = []
    for uid, node in project_models(manifest).items():
        if not node["description"].strip():
            missing.append(f"{uid}: no description")
        if not node["columns"]:
            missing.append(f"{uid}: no columns documented")
        for name, column in node["columns"].items():
            if not column["description"].strip():
                missing.append(f"{uid}.{name}: no description")
    return sorted(missing)


def models_without_primary_key_test(manifest: dict) -> list[str]:
    tested = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        name = (node.get("test_metadata") or {}).get("name")
        if name in PRIMARY_KEY_TESTS and node.get("attached_node"):
            tested.add(node["attached_node"])
    return sorted(set(project_models(manifest)) - tested)


#: The base_ models' drift check (rejected share per load period) is one test on
#: this audit model, which reads every base_ model and has a row per table and period.
BASE_MODELS_DRIFT_MODEL = "rejection_summary_by_load_period"


def models_without_threshold_test(manifest: dict) -> list[str]:
    """docs/data_tests.md: besides its hard invariants, every model has a drift
    check whose severity or warn_if / error_if is a considered choice. A base_
    model's is the one on BASE_MODELS_DRIFT_MODEL, if that model reads it."""
    models = project_models(manifest)
    thresholded = [test for test in project_data_tests(manifest) if sets_a_threshold(test)]
    covered = {test.get("attached_node") for test in thresholded}
    for uid, node in models.items():
        if node["name"] == BASE_MODELS_DRIFT_MODEL and uid in covered:
            covered |= {
                dependency
                for dependency in node["depends_on"]["nodes"]
                if dependency.split(".")[-1].startswith("base_")
            }
    return sorted(set(models) - covered)


def relation_nodes(manifest: dict) -> list[dict]:
    """A model, a seed, a test whose failures are stored: each is a relation (its alias)."""
    return [
        node
        for node in manifest["nodes"].values()
        if node["package_name"] == "clv_warehouse"
        and (node["resource_type"] != "test" or node["config"].get("store_failures"))
    ]


def names_over_postgres_limit(manifest: dict) -> list[str]:
    """Relations named over 63 characters, which PostgreSQL refuses at build time.

    dbt shortens the aliases of the test names it generates, not of the names
    given with `name:`.
    """
    return sorted(
        f"{node['alias']} ({len(node['alias'])})"
        for node in relation_nodes(manifest)
        if len(node["alias"]) > MAX_RELATION_NAME
    )


def threshold_tests_without_description(manifest: dict) -> list[str]:
    """A test that only warns or tolerates failing rows says why in its description."""
    return sorted(
        test["unique_id"]
        for test in project_data_tests(manifest)
        if sets_a_threshold(test) and not test["description"].strip()
    )


def sources_without_freshness(manifest: dict) -> list[str]:
    """Sources without a loaded_at_field, warn and error thresholds, or a description."""
    offences = []
    for source in manifest["sources"].values():
        freshness = source.get("freshness") or {}
        uid = source["unique_id"]
        if not source.get("loaded_at_field"):
            offences.append(f"{uid}: no loaded_at_field")
        for threshold in ("warn_after", "error_after"):
            if not (freshness.get(threshold) or {}).get("count"):
                offences.append(f"{uid}: no freshness {threshold}")
        if not source["description"].strip():
            offences.append(f"{uid}: no description")
    return sorted(offences)


#: Models outside staging that may read a staging model: the reporting period
#: (it finds where the data ends) and the audit (it counts every staged row).
READS_ALL_OF_STAGING = {"reporting_period", "rejection_summary"}


def as_of_models(manifest: dict) -> list[dict]:
    """The as-of cut: the models of models/intermediate/as_of/."""
    return [
        node
        for node in project_models(manifest).values()
        if node["fqn"][1:3] == ["intermediate", "as_of"]
    ]


def staging_read_past_as_of_cut(manifest: dict) -> list[str]:
    """DECISIONLOG.md, "Reporting period": every event a mart counts is cut at the
    as-of date in one place per source, models/intermediate/as_of/. Any other
    model reading a stg_ model directly would count events after the as-of date."""
    models = project_models(manifest)
    return sorted(
        f"{node['name']} reads {dep.split('.')[-1]}"
        for node in models.values()
        if node["fqn"][1] not in ("staging", "audit")
        and node["fqn"][1:3] != ["intermediate", "as_of"]
        and node["name"] not in READS_ALL_OF_STAGING
        for dep in node["depends_on"]["nodes"]
        if dep.split(".")[-1].startswith("stg_")
    )


def marts_without_enforced_contract(manifest: dict) -> list[str]:
    """Every mart is SQL and enforces its contract, with a data_type on every column.

    dbt cannot enforce contracts on Python models, so the dbt Python models
    that fit and score sit in intermediate/predictions and SQL marts publish
    their tables."""
    offences = []
    for uid, node in marts(manifest).items():
        if node["language"] != "sql":
            offences.append(f"{uid}: a mart must be SQL")
        if not node["config"]["contract"]["enforced"]:
            offences.append(f"{uid}: contract not enforced")
        for name, column in node["columns"].items():
            if not column.get("data_type"):
                offences.append(f"{uid}.{name}: no data_type")
    return sorted(offences)


def models_reading_a_mart(manifest: dict) -> list[str]:
    """Marts are the end of the DAG: logic two models share is an intermediate
    model, so no mart and no intermediate reads a mart (tests may)."""
    mart_ids = set(marts(manifest))
    return sorted(
        f"{node['name']} reads {dependency.split('.')[-1]}"
        for node in project_models(manifest).values()
        for dependency in node["depends_on"]["nodes"]
        if dependency in mart_ids
    )


def unit_test_names_too_long(manifest: dict) -> list[str]:
    """dbt names a relation after each unit test; PostgreSQL cuts identifiers at 63 bytes."""
    return sorted(
        test["name"]
        for test in manifest["unit_tests"].values()
        if len(test["name"]) > MAX_RELATION_NAME
    )


# ------------------------------------------------ dbt-project-evaluator's DAG rules
#
# dbt-labs/dbt-project-evaluator (docs/rules/modeling.md, performance.md,
# testing.md, documentation.md), computed here from the parsed manifest: the
# rule functions return the offenders, the tests compare them with an explicit
# exception list. An exception that no longer applies fails too, so each list
# only shrinks. tests/test_project_conventions.py's
# test_each_evaluator_rule_flags_a_fake_offender proves every rule can fail.

#: The evaluator's threshold for fct_too_many_joins is 7; we allow seven parents, not more.
MAX_PARENTS = 7
#: fct_chained_views_dependencies: at most this many views (or ephemerals) in a row above a model.
MAX_VIEW_CHAIN = 4
NON_PHYSICAL = {"view", "ephemeral"}

#: Models outside staging that read a source(): none.
SOURCE_OUTSIDE_STAGING_EXCEPTIONS: set[str] = set()


# fct_direct_join_to_source: a model reading a source() and another model. The base_
# models are the one documented exception, a rule rather than a list, so a new raw
# table's base_ model needs no entry (CONTRIBUTING.md, "Models";
# docs/raw_data_contract.md, rules 4 and 10-13): unknown_currency,
# unknown_customer, before_customer_created, refund_exceeds_order, ... are
# decided by joining the raw rows to the staged parent (or to the currency
# seed's staging model), so a cascade names its parent. A base_ model may read
# its source and stg_ models, nothing else.
def joins_staging_to_decide_rejections(node: dict) -> bool:
    """A base_ model whose parents besides its source() are all stg_ models."""
    others = [dep for dep in node["depends_on"]["nodes"] if not dep.startswith("source.")]
    return node["name"].startswith("base_") and all(
        dep.split(".")[-1].startswith("stg_") for dep in others
    )


#: Models outside that rule that read a source() and another model: none.
DIRECT_JOIN_TO_SOURCE_EXCEPTIONS: set[str] = set()

#: The raw tables of the contract: the audit has a base_ (and stg_) parent for each.
RAW_TABLES = len(SPECS)

#: fct_too_many_joins: models with more than MAX_PARENTS parents, and how many they may have.
TOO_MANY_PARENTS_EXCEPTIONS = {
    # The audit reads every raw table's base_ model by design: one row per raw table.
    "rejected_rows": RAW_TABLES,
    # Every base_ and stg_ model (raw = staged + rejected) and rejected_rows.
    "rejection_summary": 2 * RAW_TABLES + 1,
    # The one-row-per-customer mart: it joins eight per-customer intermediates (orders,
    # margins, predictions, referrals, ...); an intermediate in between would only rename.
    "customer_clv": 8,
    # The per-period drift view of the audit reads every base_ model, like rejected_rows.
    "rejection_summary_by_load_period": RAW_TABLES,
}

#: fct_chained_views_dependencies: models above a chain of more than MAX_VIEW_CHAIN
#: views or ephemerals, and the depth they have. None since issue 17 made the heavy
#: intermediates tables (the tests re-ran them once per test at a million customers).
CHAINED_VIEWS_EXCEPTIONS: dict[str, int] = {}

#: fct_rejoining_of_upstream_concepts: (in-between model, child) pairs where the child
#: reads a parent and also the parent's child B, B having no other child.
REJOINING_EXCEPTIONS = {
    # The audit: rejection_summary counts raw rows on each base_ model and refused rows
    # on rejected_rows, which reads the same base_ models. Both are the point.
    ("rejected_rows", "rejection_summary"),
    # The as-of cut (DECISIONLOG.md, "Reporting period"): every mart reads events only
    # through int_<table>_as_of, which reads reporting_period; a model that also needs
    # the as-of month reads reporting_period itself.
    ("int_email_subscriptions_as_of", "int_email_subscribers_summarised"),
    ("int_loyalty_points_as_of", "loyalty_monthly"),
    ("int_referrals_as_of", "customer_clv"),
    # A subscriber's value adds the cost of the emails sent to them (int_email_sends_costed)
    # and the orders attributed to them, which were attributed from those same sends.
    ("int_email_orders_attributed", "int_email_subscribers_valued"),
}

#: Models without any data test or unit test, or without a description: none.
UNTESTED_OR_UNDOCUMENTED_EXCEPTIONS: set[str] = set()


def _name(unique_id: str) -> str:
    return unique_id.split(".")[-1]


def _model_children(manifest: dict) -> dict[str, set[str]]:
    """unique_id -> the models and snapshots that read it (tests are not children)."""
    children: dict[str, set[str]] = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] in ("model", "snapshot"):
            for parent in node["depends_on"]["nodes"]:
                children.setdefault(parent, set()).add(uid)
    return children


def sources_outside_staging(manifest: dict) -> set[str]:
    return {
        node["name"]
        for node in project_models(manifest).values()
        if any(dep.startswith("source.") for dep in node["depends_on"]["nodes"])
        and "/staging/" not in "/" + node["original_file_path"]
    }


def direct_joins_to_source(manifest: dict) -> set[str]:
    """Models that read a source() and also another model, seed or snapshot, but for
    the base_ models that join stg_ models to decide rejections."""
    offenders = set()
    for node in project_models(manifest).values():
        parents = node["depends_on"]["nodes"]
        reads_source = any(dep.startswith("source.") for dep in parents)
        if (
            reads_source
            and any(not dep.startswith("source.") for dep in parents)
            and not joins_staging_to_decide_rejections(node)
        ):
            offenders.add(node["name"])
    return offenders


def parent_counts(manifest: dict) -> dict[str, int]:
    """Models with more than MAX_PARENTS distinct parents (models, sources, seeds, snapshots)."""
    counts = {
        node["name"]: len(set(node["depends_on"]["nodes"]))
        for node in project_models(manifest).values()
    }
    return {name: count for name, count in counts.items() if count > MAX_PARENTS}


def view_chain_depths(manifest: dict) -> dict[str, int]:
    """Models above more than MAX_VIEW_CHAIN views or ephemerals in a row, with that depth."""
    nodes = manifest["nodes"]
    depths: dict[str, int] = {}

    def depth(uid: str) -> int:
        if uid not in depths:
            parents = [
                nodes[dep]
                for dep in nodes[uid]["depends_on"]["nodes"]
                if dep in nodes and nodes[dep]["resource_type"] == "model"
            ]
            depths[uid] = max(
                (
                    1 + depth(parent["unique_id"])
                    for parent in parents
                    if parent["config"]["materialized"] in NON_PHYSICAL
                ),
                default=0,
            )
        return depths[uid]

    found = {node["name"]: depth(uid) for uid, node in project_models(manifest).items()}
    return {
        name: found_depth for name, found_depth in found.items() if found_depth > MAX_VIEW_CHAIN
    }


def rejoined_concepts(manifest: dict) -> set[tuple[str, str]]:
    """(B, C) where C reads A and B, B reads A, and C is B's only child (the evaluator's rule)."""
    models = project_models(manifest)
    children = _model_children(manifest)
    offenders = set()
    for child_id, child in models.items():
        parents = set(child["depends_on"]["nodes"])
        for between_id in parents & set(models):
            upstream = set(models[between_id]["depends_on"]["nodes"])
            if upstream & parents and children.get(between_id, set()) == {child_id}:
                offenders.add((_name(between_id), child["name"]))
    return offenders


def untested_or_undocumented(manifest: dict) -> set[str]:
    """Models that no data test or unit test covers, or that have no description."""
    covered = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            covered.update(node["depends_on"]["nodes"])
    for unit_test in manifest.get("unit_tests", {}).values():
        covered.update(unit_test["depends_on"]["nodes"])
    return {
        node["name"]
        for uid, node in project_models(manifest).items()
        if uid not in covered or not node["description"].strip()
    }


def excess(found: dict[str, int], allowed: dict[str, int]) -> list[str]:
    """``name: count (allowed n)`` for each count above its exception (none: 0)."""
    return sorted(
        f"{name}: {count} (allowed {allowed.get(name, 'none')})"
        for name, count in found.items()
        if count > allowed.get(name, 0)
    )


# ------------------------------------------------ all of them


def _beyond(found: set, allowed: set) -> list[str]:
    return sorted(str(offender) for offender in found - allowed)


#: rule -> its offences in a manifest, beyond the rule's exception list.
RULES: dict[str, Callable[[dict], list[str]]] = {
    "every model and column is documented": undocumented,
    "every model has a primary-key test": models_without_primary_key_test,
    "every model has a warn or warn_if / error_if test": models_without_threshold_test,
    "every relation name fits a PostgreSQL identifier": names_over_postgres_limit,
    "every threshold test says why": threshold_tests_without_description,
    "every source has freshness and a loaded_at_field": sources_without_freshness,
    "staging reaches marts only through the as-of cut": staging_read_past_as_of_cut,
    "marts are SQL with enforced contracts": marts_without_enforced_contract,
    "no model reads a mart": models_reading_a_mart,
    "unit test names fit PostgreSQL identifiers": unit_test_names_too_long,
    "no source() outside staging": lambda manifest: _beyond(
        sources_outside_staging(manifest), SOURCE_OUTSIDE_STAGING_EXCEPTIONS
    ),
    "no direct join to a source but the base_ models": lambda manifest: _beyond(
        direct_joins_to_source(manifest), DIRECT_JOIN_TO_SOURCE_EXCEPTIONS
    ),
    "at most seven parents": lambda manifest: excess(
        parent_counts(manifest), TOO_MANY_PARENTS_EXCEPTIONS
    ),
    "no chain of more than four views": lambda manifest: excess(
        view_chain_depths(manifest), CHAINED_VIEWS_EXCEPTIONS
    ),
    "no rejoining of upstream concepts": lambda manifest: _beyond(
        rejoined_concepts(manifest), REJOINING_EXCEPTIONS
    ),
    "no model without tests or docs": lambda manifest: _beyond(
        untested_or_undocumented(manifest), UNTESTED_OR_UNDOCUMENTED_EXCEPTIONS
    ),
}


def violations(manifest: dict) -> list[str]:
    """``rule: offence`` for every offence of every rule in ``manifest``; empty when it keeps them.

    Offences listed in a rule's exceptions are not violations; exceptions that
    no longer apply are the project's test to report
    (tests/test_project_conventions.py), not a new model's.
    """
    return [f"{rule}: {offence}" for rule, check in RULES.items() for offence in check(manifest)]
