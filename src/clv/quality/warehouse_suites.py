"""The staging, audit and marts suites, taken from dbt's manifest of the build.

dbt's data tests and unit tests are the contract for models: keys, ranges,
accepted values, relationships and every identity of a mart live in the
models' YAML, beside the model, and ``dbt build`` fails on them. These
suites check only what dbt cannot see from inside one build, and take the
list of models from that build's ``target/manifest.json``
(:class:`clv.manifest.DbtManifest`), never from a hand-kept list:

- **every model of the manifest is there, as declared**: for each model in
  schema ``staging`` (its ``stg_`` models) and ``marts``, the relation
  exists in the warehouse being validated, is not empty (unless its YAML says
  why it may be, ``config.meta.may_be_empty``), has the columns
  the manifest declares (exactly those, for a mart with an enforced
  contract) and, where a column declares a ``data_type``, that type
  (:func:`clv.manifest.canonical_type`). A new mart is covered as soon as dbt builds it;
  a mart the manifest lists that the warehouse lacks is a failed suite.
  This ties the file that is published to the build that proved it.
- **the audit agrees with the warehouse**: ``audit.rejection_summary`` has one
  row per source of the manifest, and its ``staged_rows`` equals the rows of
  the ``stg_`` model the manifest builds from that source, counted in the
  same query.
- **trends against history** (``marts.kpi_trends``): the latest month's
  average order value and annual retention within a band around their
  trailing median, a swing no single build's test can judge.

The SQL is portable, so the same suites run on both targets:

- **DuckDB**: great-expectations has no working DuckDB dialect, so
  :mod:`clv.quality.runner` runs the query through a read-only connection
  after dbt has closed the file and validates the resulting DataFrame.
- **PostgreSQL**: the query becomes a query asset of GX's PostgreSQL (SQL)
  data source and every expectation is computed in the database.

Column types are compared in Python, from the warehouse's
``information_schema`` (:func:`type_problems`); a mismatch fails the suite
before great-expectations runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import great_expectations.expectations as gxe

from clv.manifest import DbtManifest, ModelContract, canonical_type
from clv.quality.suites import Expectation, QualitySettings, SuitePlan, between, notes

# ---------------------------------------------------------------- column types


def type_problems(model: ModelContract, actual: Mapping[str, str]) -> tuple[list[str], int]:
    """How the relation differs from its declaration, and how many columns were compared.

    A declared column the relation lacks, a column an enforced contract does
    not declare, and a declared ``data_type`` the column does not have
    (:func:`canonical_type`); a column without a declared type is compared
    by name only.
    """
    by_name = {name.lower(): data_type for name, data_type in actual.items()}
    declared_names = {column.lower() for column in model.columns}
    problems: list[str] = []
    compared = 0
    for column, declared in model.columns.items():
        found = by_name.get(column.lower())
        compared += 1
        if found is None:
            problems.append(
                f"{model.relation_name}: column {column} of the dbt manifest is missing"
            )
            continue
        if declared is None:
            continue
        if canonical_type(declared) != canonical_type(found):
            problems.append(
                f"{model.relation_name}: column {column} is {found}, "
                f"the manifest declares {declared}"
            )
    if model.contract_enforced:
        for column in actual:
            if column.lower() not in declared_names:
                problems.append(
                    f"{model.relation_name}: column {column} is not in its enforced contract"
                )
    return problems, compared


# ---------------------------------------------------------------- SQL helpers


def relation(schema: str, name: str, schemas: Mapping[str, str] | None = None) -> str:
    """The quoted ``"schema"."name"`` of a warehouse relation.

    ``schemas`` maps a schema to the one it is read from (the marts of a
    PostgreSQL build are read from ``marts_build`` before their publication).
    """
    read = (schemas or {}).get(schema, schema)
    return f'"{read}"."{name}"'


def _missing(name: str, layer: str, problem: str) -> SuitePlan:
    return SuitePlan(name, layer, None, problems=[problem], checks=1)


# ---------------------------------------------------------------- one model as declared


def model_plan(
    model: ModelContract,
    layer: str,
    present: Collection[str],
    columns: Mapping[str, Mapping[str, str]],
    where: str,
    schemas: Mapping[str, str] | None = None,
) -> SuitePlan:
    """A model of the manifest: present, not empty, its declared columns and types.

    Its query reads one row: the two expectations ask for at least one row
    (none when the model may be empty) and for the column names, which a
    single row shows, and the types come from the catalog (``columns``).
    Reading the whole table would load every staged row into memory to learn
    that it has one (at a million customers, 14 million email sends).
    """
    name = model.relation_name
    if name not in present:
        return _missing(name, layer, f"{name}: in the dbt manifest, missing from {where}")
    problems, compared = type_problems(model, columns.get(name, {}))
    expectations: list[Expectation] = [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=0 if model.may_be_empty else 1,
            **notes(
                f"{name} is built; it may be empty: {model.may_be_empty}"
                if model.may_be_empty
                else f"{name} is built and not empty (its first row is read)"
            ),
        ),
        gxe.ExpectTableColumnsToMatchSet(
            column_set=list(model.columns),
            exact_match=model.contract_enforced,
            **notes(
                "exactly the columns of its enforced contract"
                if model.contract_enforced
                else "at least the columns its YAML declares"
            ),
        ),
    ]
    return SuitePlan(
        name,
        layer,
        None,
        expectations,
        problems=problems,
        checks=compared,
        query=f"select * from {relation(model.schema, model.name, schemas)} limit 1",
    )


# ---------------------------------------------------------------- staging and audit


def audit_plan(
    manifest: DbtManifest, present: Collection[str], schemas: Mapping[str, str] | None = None
) -> SuitePlan:
    """``audit.rejection_summary``: a row per source, staged rows as staging holds them.

    ``staged_rows_counted`` is the row count of the ``stg_`` model the
    manifest builds from each source, counted in the same query, so the
    summary cannot claim rows staging lacks. (``raw = staged + rejected``
    and the rejected-share gate are dbt's: a data test and the model's
    post-hook.)
    """
    counts = [
        f"select '{model.source}' as source_table, count(*) as staged_rows_counted "
        f"from {relation(model.schema, model.name, schemas)}"
        for model in manifest.in_schema("staging")
        if model.source is not None and model.relation_name in present
    ]
    counted = " union all ".join(counts) or (
        "select cast(null as varchar(64)) as source_table, 0 as staged_rows_counted where 1 = 0"
    )
    query = (
        # -1 when staging lacks the model: never equal to a row count.
        "select checked.*, coalesce(counted.staged_rows_counted, -1) as staged_rows_counted "
        f"from {relation('audit', 'rejection_summary', schemas)} as checked "
        f"left join ({counted}) as counted on counted.source_table = checked.source_table"
    )
    # The sources staging reads (the raw tables), not every source: on PostgreSQL
    # the source `predictions` (what `clv predict` writes) is read by the marts.
    staged_sources = sorted({m.source for m in manifest.in_schema("staging") if m.source})
    expectations = [
        gxe.ExpectColumnDistinctValuesToEqualSet(
            column="source_table",
            value_set=staged_sources,
            **notes("one row per source the dbt manifest stages"),
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="staged_rows",
            column_B="staged_rows_counted",
            **notes("staged_rows equals the rows of the stg_ model"),
        ),
        between("raw_rows", 1, why="every raw table delivered rows"),
    ]
    return SuitePlan("audit.rejection_summary", "staging", None, expectations, query=query)


def staging_plans(
    manifest: DbtManifest,
    present: Collection[str],
    columns: Mapping[str, Mapping[str, str]],
    where: str,
    schemas: Mapping[str, str] | None = None,
) -> list[SuitePlan]:
    """Every ``stg_`` model of the manifest as declared, and the audit's agreement with them."""
    plans = [
        model_plan(model, "staging", present, columns, where, schemas)
        for model in manifest.in_schema("staging")
    ]
    if not plans:
        plans.append(
            _missing("staging", "staging", f"no staging model in the dbt manifest {manifest.path}")
        )
    if "audit.rejection_summary" in present:
        plans.append(audit_plan(manifest, present, schemas))
    else:
        plans.append(
            _missing(
                "audit.rejection_summary",
                "staging",
                f"audit.rejection_summary: missing from {where}",
            )
        )
    return plans


# ---------------------------------------------------------------- marts


def mart_plans(
    manifest: DbtManifest,
    present: Collection[str],
    columns: Mapping[str, Mapping[str, str]],
    settings: QualitySettings,
    where: str,
    schemas: Mapping[str, str] | None = None,
) -> list[SuitePlan]:
    """One plan per mart of the manifest, as declared, plus the KPI trends."""
    plans = [
        model_plan(model, "marts", present, columns, where, schemas)
        for model in manifest.in_schema("marts")
    ]
    if not plans:
        plans.append(_missing("marts", "marts", f"no mart in the dbt manifest {manifest.path}"))
    trend = trend_plan(present, settings, schemas)
    if trend is not None:
        plans.append(trend)
    return plans


def _trend_sql(name: str, monthly: str, settings: QualitySettings) -> str:
    """The latest month's ``name`` and its ratio to the median of the months before it.

    ``monthly`` selects ``month`` and ``value``; months with a null value are
    left out (as if missing). Without ``trend_months`` earlier months the
    median and the ratio are null, which passes.
    """
    months = settings.trend_months
    return (
        f"""
    select
        latest.month,
        latest.value as {name},
        case when history.months = {months} then history.median end
            as {name}_trailing_median,
        case when history.months = {months} and history.median <> 0
            then latest.value / history.median end
            as {name}_ratio_to_trailing_median
    from (
        select month, value from ranked_{name} where months_back = 1
    ) as latest
    cross join (
        select
            count(*) as months,
            percentile_cont(0.5) within group (order by value) as median
        from ranked_{name}
        where months_back between 2 and {months + 1}
    ) as history
    """,
        f"""
    ranked_{name} as (
        select
            month,
            cast(value as double precision) as value,
            row_number() over (order by month desc) as months_back
        from ({monthly}) as monthly
        where value is not null
    )""",
    )


def trend_plan(
    present: Collection[str], settings: QualitySettings, schemas: Mapping[str, str] | None = None
) -> SuitePlan | None:
    """The latest month's average order value and annual retention against their history.

    Average order value per month = revenue ÷ valid orders of ``cohort_clv``
    summed over cohorts; annual retention from ``customer_equity_monthly``.
    Each must lie within ``±trend_band`` of the median of the previous
    ``trend_months`` months: a swing beyond that is far more often a broken
    join, a currency or unit error or a partial load than a real change.
    Without that much history the ratio is null and the check passes.
    """
    sources = {}
    if "marts.cohort_clv" in present:
        sources["average_order_value"] = (
            "select month, sum(revenue) / nullif(sum(orders), 0) as value "
            f"from {relation('marts', 'cohort_clv', schemas)} group by month"
        )
    if "marts.customer_equity_monthly" in present:
        sources["retention_rate_annual"] = (
            "select month, retention_rate_annual as value "
            f"from {relation('marts', 'customer_equity_monthly', schemas)}"
        )
    if not sources:
        return None
    ctes, parts = [], []
    for name, monthly in sources.items():
        part, ranked = _trend_sql(name, monthly, settings)
        ctes.append(ranked)
        ctes.append(f"{name} as ({part})")
        parts.append(name)
    if len(parts) == 1:
        (only,) = parts
        body = f"select * from {only}"
    else:
        first, second = parts
        columns = [
            f"{part}.{column}"
            for part in parts
            for column in (part, f"{part}_trailing_median", f"{part}_ratio_to_trailing_median")
        ]
        body = (
            f"select coalesce({first}.month, {second}.month) as month, {', '.join(columns)} "
            f"from {first} full outer join {second} on {first}.month = {second}.month"
        )
    # GX's query assets must start with SELECT: the CTEs go inside a derived table.
    query = f"select * from (with {', '.join(ctes)} {body}) as kpi_trends"
    low, high = 1 - settings.trend_band, 1 + settings.trend_band
    expectations = [
        between(
            f"{name}_ratio_to_trailing_median",
            low,
            high,
            why=(
                f"latest month within ±{settings.trend_band:.0%} of the median of the "
                f"{settings.trend_months} months before it"
            ),
        )
        for name in parts
    ]
    return SuitePlan("marts.kpi_trends", "marts", None, expectations, query=query)
