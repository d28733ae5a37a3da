"""The MetricFlow semantic layer: every metric equals the mart column its description names.

The semantic models and metrics live beside the marts
(``models/marts/*/_*__semantic.yml``). ``mf`` (dbt-metricflow, the [semantic]
extra) reads ``<project>/target/semantic_manifest.json`` whatever the target
path, so the tests give it a project folder of their own: links to this
project's files, the session build's semantic manifest in its ``target/`` and a
copy of the session warehouse (``mf`` opens the file read-write; the copy keeps
the session's warehouse untouched and unlocked). :data:`CHECKS` says, for every
metric, which mart column it equals at which grain; a metric without a check,
or a check of a metric that no longer exists, fails
:func:`test_every_metric_has_a_mart_check`.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from clv.paths import PROJECT_DIR
from tests.support.dbt import process_env, run_dbt_process

pytestmark = pytest.mark.integration

MF_EXECUTABLE = Path(sys.executable).parent / "mf"
#: What ``mf`` needs of the project: dbt_project.yml, the profile, the folders it names.
PROJECT_ENTRIES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "snapshots")
#: Relative tolerance of a metric against its mart column (and absolute, for zeros).
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Grain:
    """A grain to query metrics at: ``mf`` group-by names and the mart columns they equal."""

    name: str
    group_by: tuple[str, ...]
    mart_keys: tuple[str, ...]


def by_month(column: str) -> Grain:
    return Grain(f"month ({column})", ("metric_time__month",), (column,))


COHORT_AGE = Grain(
    "cohort x age",
    ("cohort__cohort_month__month", "cohort__months_since_acquisition"),
    ("cohort_month", "months_since_acquisition"),
)
COHORT_CHANNEL_AGE = Grain(
    "cohort x channel x age",
    (
        "cohort__cohort_month__month",
        "cohort__acquisition_channel",
        "cohort__months_since_acquisition",
    ),
    ("cohort_month", "acquisition_channel", "months_since_acquisition"),
)
CUSTOMER = Grain("customer", ("customer",), ("customer_id",))
MONTH_SCOPE = Grain(
    "month x scope",
    ("metric_time__month", "equity_scope__scope_type", "equity_scope__scope_value"),
    ("month", "scope_type", "scope_value"),
)


@dataclass(frozen=True)
class Check:
    """A metric equals ``mart.column`` at ``grain``.

    ``expected`` is the SQL the mart side computes when the column alone is not
    the figure (an aggregate over the grain's keys); ``where`` filters the mart.
    """

    mart: str
    column: str
    grain: Grain
    expected: str | None = None
    where: str | None = None

    def mart_query(self) -> str:
        keys = ", ".join(self.grain.mart_keys)
        value = self.expected or self.column
        where = f" where {self.where}" if self.where else ""
        group = f" group by {keys}" if self.expected else ""
        return f"select {keys}, {value} as expected from marts.{self.mart}{where}{group}"


MONTH = by_month("month")
SCOPED = "customer_equity_monthly_by_scope"
COHORT_MONTH = by_month("cohort_month")

#: Every metric the YAML declares -> the mart column it equals, and at which grain.
CHECKS: dict[str, Check] = {
    # customer_equity_monthly
    "customers_new": Check("customer_equity_monthly", "customers_new", MONTH),
    "customers_acquired": Check("customer_equity_monthly", "customers_acquired", MONTH),
    "customers_lost": Check("customer_equity_monthly", "customers_lost", MONTH),
    "customers_active": Check("customer_equity_monthly", "customers_end", MONTH),
    "customer_equity_clv": Check("customer_equity_monthly", "clv", MONTH),
    "customer_equity": Check("customer_equity_monthly", "customer_equity", MONTH),
    "acquisition_equity": Check("customer_equity_monthly", "acquisition_equity", MONTH),
    "retention_equity": Check("customer_equity_monthly", "retention_equity", MONTH),
    # customer_equity_monthly_by_scope (the country and acquisition-channel dimensions)
    "customers_active_by_scope": Check(SCOPED, "customers_end", MONTH_SCOPE),
    "customers_new_by_scope": Check(SCOPED, "customers_new", MONTH_SCOPE),
    "customers_lost_by_scope": Check(SCOPED, "customers_lost", MONTH_SCOPE),
    "customer_equity_clv_by_scope": Check(SCOPED, "clv", MONTH_SCOPE),
    "customer_equity_by_scope": Check(SCOPED, "customer_equity", MONTH_SCOPE),
    "acquisition_equity_by_scope": Check(SCOPED, "acquisition_equity", MONTH_SCOPE),
    # orders by calendar month: no mart has a monthly total, cohort_clv's cohorts add up to it
    "revenue": Check("cohort_clv", "revenue", MONTH, expected="sum(revenue)"),
    "gross_margin": Check("cohort_clv", "gross_margin", MONTH, expected="sum(gross_margin)"),
    "orders": Check("cohort_clv", "orders", MONTH, expected="sum(orders)"),
    "average_order_value": Check(
        "cohort_clv", "revenue", MONTH, expected="sum(revenue) / sum(orders)"
    ),
    # cohorts
    "cohort_size": Check("cohort_clv", "cohort_size", COHORT_AGE),
    "cohort_active_customers": Check("cohort_clv", "active_customers", COHORT_AGE),
    "cohort_ordering_customers": Check("cohort_clv", "ordering_customers", COHORT_AGE),
    "cohort_ordering_rate": Check("cohort_clv", "ordering_rate", COHORT_AGE),
    "cohort_retention_rate": Check("cohort_clv", "retention_rate", COHORT_AGE),
    # customers (metric_time is the cohort month)
    "customer_count": Check(
        "cohort_clv", "cohort_size", COHORT_MONTH, where="months_since_acquisition = 0"
    ),
    "historical_clv_total": Check("customer_clv", "historical_clv", CUSTOMER),
    "historical_clv": Check("customer_clv", "historical_clv", CUSTOMER),
    "simple_clv_total": Check("customer_clv", "simple_clv", CUSTOMER),
    "simple_clv": Check("customer_clv", "simple_clv", CUSTOMER),
    "predicted_clv_12m_total": Check("customer_clv", "predicted_clv_12m", CUSTOMER),
    "predicted_clv_12m": Check("customer_clv", "predicted_clv_12m", CUSTOMER),
    "predicted_clv_12m_customers": Check(
        "customer_clv", "predicted_clv_12m", COHORT_MONTH, expected="count(predicted_clv_12m)"
    ),
    # repeat_customer_rate_monthly
    "customers_to_date": Check("repeat_customer_rate_monthly", "customers_to_date", MONTH),
    "repeat_customers_to_date": Check(
        "repeat_customer_rate_monthly", "repeat_customers_to_date", MONTH
    ),
    "repeat_customer_rate": Check("repeat_customer_rate_monthly", "repeat_customer_rate", MONTH),
    "customers_ordering": Check("repeat_customer_rate_monthly", "customers_ordering", MONTH),
    "returning_customers_ordering": Check(
        "repeat_customer_rate_monthly", "returning_customers_ordering", MONTH
    ),
    "period_repeat_rate": Check("repeat_customer_rate_monthly", "period_repeat_rate", MONTH),
    # email_subscriber_ltv (metric_time is the subscription cohort month)
    "email_subscribers": Check("email_subscriber_ltv", "subscribers", COHORT_MONTH),
    "email_gross_margin": Check("email_subscriber_ltv", "email_gross_margin", COHORT_MONTH),
    "email_spend": Check("email_subscriber_ltv", "email_spend", COHORT_MONTH),
    "email_subscriber_months_on_list": Check(
        "email_subscriber_ltv", "subscriber_months_on_list", COHORT_MONTH
    ),
    "email_unsubscribed_subscribers": Check(
        "email_subscriber_ltv", "unsubscribed_subscribers", COHORT_MONTH
    ),
    "email_subscriber_ltv": Check("email_subscriber_ltv", "subscriber_ltv", COHORT_MONTH),
    # loyalty_monthly
    "loyalty_members": Check("loyalty_monthly", "members", MONTH),
    "points_earned": Check("loyalty_monthly", "points_earned", MONTH),
    "points_redeemed": Check("loyalty_monthly", "points_redeemed", MONTH),
    "points_earned_trailing_12_months": Check(
        "loyalty_monthly", "points_earned_trailing_12_months", MONTH
    ),
    "points_redeemed_trailing_12_months": Check(
        "loyalty_monthly", "points_redeemed_trailing_12_months", MONTH
    ),
    "points_redemption_rate": Check("loyalty_monthly", "redemption_rate", MONTH),
    "nps_responses": Check("loyalty_monthly", "nps_responses", MONTH),
    "nps_promoters": Check("loyalty_monthly", "promoters", MONTH),
    "nps_detractors": Check("loyalty_monthly", "detractors", MONTH),
    "nps": Check("loyalty_monthly", "nps", MONTH),
}

#: Further checks at a second grain: the rates by channel against cohort_clv_by_channel.
CHANNEL_CHECKS: dict[str, Check] = {
    "cohort_ordering_rate": Check("cohort_clv_by_channel", "ordering_rate", COHORT_CHANNEL_AGE),
    "cohort_retention_rate": Check("cohort_clv_by_channel", "retention_rate", COHORT_CHANNEL_AGE),
    "revenue": Check("cohort_clv_by_channel", "revenue", COHORT_CHANNEL_AGE),
    "average_order_value": Check(
        "cohort_clv_by_channel",
        "revenue",
        COHORT_CHANNEL_AGE,
        expected="sum(revenue) / nullif(sum(orders), 0)",
    ),
}

# ---------------------------------------------------------------- running mf


@dataclass(frozen=True)
class MfProject:
    """A project folder ``mf`` can run in, on a copy of a built warehouse."""

    root: Path
    database: Path
    raw_dir: Path

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {
            "CLV_DUCKDB_PATH": str(self.database),
            "CLV_RAW_DIR": str(self.raw_dir),
            "DBT_PROJECT_DIR": str(self.root),
            "DBT_PROFILES_DIR": str(self.root),
        }
        return subprocess.run(
            [str(MF_EXECUTABLE), *args],
            cwd=self.root,
            env=process_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def query(self, metrics: list[str], grain: Grain, out: Path) -> pd.DataFrame:
        """``mf query --metrics ... --group-by ...`` into a DataFrame keyed like the mart."""
        completed = self.run(
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            ",".join(grain.group_by),
            "--csv",
            str(out),
        )
        assert completed.returncode == 0 and out.exists(), completed.stdout + completed.stderr
        frame = pd.read_csv(out)
        return frame.rename(columns=dict(zip(grain.group_by, grain.mart_keys, strict=True)))


def mf_project(root: Path, warehouse, models_dir: Path | None = None) -> MfProject:
    """Link this project's files into ``root`` (``models_dir`` instead of models/ when
    given), with the warehouse's semantic manifest and a copy of its database."""
    root.mkdir(parents=True)
    for entry in PROJECT_ENTRIES:
        source = models_dir if entry == "models" and models_dir else PROJECT_DIR / entry
        (root / entry).symlink_to(source)
    (root / "target").mkdir()
    shutil.copy2(
        warehouse.target_path / "semantic_manifest.json", root / "target" / "semantic_manifest.json"
    )
    database = root / "clv.duckdb"
    shutil.copy2(warehouse.database, database)
    return MfProject(root, database, warehouse.raw_dir)


def normalise_keys(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Dates as dates and the rest as text, so mf's CSV and the mart's rows join."""
    frame = frame.copy()
    for key in keys:
        if key.endswith("month"):
            frame[key] = pd.to_datetime(frame[key]).dt.date
        else:
            frame[key] = frame[key].astype(str)
    return frame


def mart_values(database: Path, check: Check) -> pd.DataFrame:
    connection = duckdb.connect(str(database), read_only=True)
    try:
        frame = connection.execute(check.mart_query()).df()
    finally:
        connection.close()
    return normalise_keys(frame, check.grain.mart_keys)


def equal(left, right) -> bool:
    left_missing = left is None or (isinstance(left, float) and math.isnan(left))
    right_missing = right is None or (isinstance(right, float) and math.isnan(right))
    if left_missing or right_missing:
        return left_missing and right_missing
    return math.isclose(float(left), float(right), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def mismatches(metric: str, check: Check, queried: pd.DataFrame, database: Path) -> list[str]:
    """Rows where ``metric`` (queried with mf) differs from its mart column, or is missing."""
    keys = list(check.grain.mart_keys)
    actual = normalise_keys(queried, check.grain.mart_keys)[[*keys, metric]]
    expected = mart_values(database, check)
    joined = expected.merge(actual, on=keys, how="outer", indicator=True)
    wrong = [
        f"{dict(zip(keys, row[:-3], strict=True))}: mf {row[-2]!r}, "
        f"{check.mart}.{check.column} {row[-3]!r} ({row[-1]})"
        for row in joined[[*keys, "expected", metric, "_merge"]].itertuples(index=False)
        # A group mf returns and the mart has not, or the reverse, fails unless both are null.
        if not equal(row[-3], row[-2])
    ]
    return wrong


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def semantic_manifest(warehouse) -> dict:
    return json.loads((warehouse.target_path / "semantic_manifest.json").read_text())


@pytest.fixture(scope="module")
def project(warehouse, tmp_path_factory) -> MfProject:
    return mf_project(tmp_path_factory.mktemp("mf") / "project", warehouse)


def query_checks(project: MfProject, checks: dict[str, Check], out_dir: Path) -> dict:
    """One ``mf query`` per grain for every metric checked at it: metric -> its DataFrame."""
    grains: dict[str, list[str]] = {}
    by_name = {}
    for metric, check in checks.items():
        grains.setdefault(check.grain.name, []).append(metric)
        by_name[check.grain.name] = check.grain
    results = {}
    for number, (name, metrics) in enumerate(sorted(grains.items())):
        frame = project.query(metrics, by_name[name], out_dir / f"query_{number}.csv")
        results.update({metric: frame for metric in metrics})
    return results


@pytest.fixture(scope="module")
def queried(project, tmp_path_factory) -> dict[str, pd.DataFrame]:
    return query_checks(project, CHECKS, tmp_path_factory.mktemp("mf_queries"))


@pytest.fixture(scope="module")
def queried_by_channel(project, tmp_path_factory) -> dict[str, pd.DataFrame]:
    return query_checks(project, CHANNEL_CHECKS, tmp_path_factory.mktemp("mf_channel_queries"))


# ---------------------------------------------------------------- the tests


def test_mf_validate_configs_passes(project):
    completed = project.run("validate-configs")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Successfully validated the semantics of built manifest (ERRORS: 0" in output
    assert "Successfully validated metrics against data warehouse (ERRORS: 0" in output


def test_every_metric_has_a_mart_check(semantic_manifest):
    declared = {metric["name"] for metric in semantic_manifest["metrics"]}
    assert len(declared) >= 40
    assert sorted(declared - set(CHECKS)) == [], "metrics without a mart check"
    assert sorted(set(CHECKS) - declared) == [], "checks of metrics the YAML does not declare"


def test_each_description_names_the_mart_column_it_equals(semantic_manifest):
    descriptions = {
        metric["name"]: metric["description"] for metric in semantic_manifest["metrics"]
    }
    unnamed = [
        f"{metric}: {check.mart}.{check.column}"
        for checks in (CHECKS, CHANNEL_CHECKS)
        for metric, check in checks.items()
        if f"{check.mart}.{check.column}" not in " ".join(descriptions[metric].split())
    ]
    assert unnamed == []


def test_ratios_are_defined_as_ratios(semantic_manifest):
    """A rate or an average is a ratio of sums (or an expression of sums), never a
    measure aggregated with ``average``, which would average the rows' own rates."""
    averaged = [
        f"{model['name']}.{measure['name']}"
        for model in semantic_manifest["semantic_models"]
        for measure in model["measures"]
        if measure["agg"] in ("average", "median", "percentile")
    ]
    assert averaged == []
    types = {metric["name"]: metric["type"] for metric in semantic_manifest["metrics"]}
    rates = [name for name in types if name.endswith(("_rate", "average_order_value"))]
    assert rates and {name: types[name] for name in rates} == dict.fromkeys(rates, "ratio")
    assert types["nps"] == types["email_subscriber_ltv"] == "derived"


@pytest.mark.parametrize("metric", sorted(CHECKS))
def test_metric_equals_its_mart_column(metric, queried, warehouse):
    check = CHECKS[metric]
    wrong = mismatches(metric, check, queried[metric], warehouse.database)
    assert not wrong, f"{metric} != {check.mart}.{check.column}:\n  " + "\n  ".join(wrong[:10])


@pytest.mark.parametrize("metric", sorted(CHANNEL_CHECKS))
def test_metric_by_channel_equals_cohort_clv_by_channel(metric, queried_by_channel, warehouse):
    check = CHANNEL_CHECKS[metric]
    wrong = mismatches(metric, check, queried_by_channel[metric], warehouse.database)
    assert not wrong, f"{metric} != {check.mart}.{check.column}:\n  " + "\n  ".join(wrong[:10])


def test_semantic_layer_exposure_depends_on_the_marts_its_models_read(warehouse):
    manifest = json.loads((warehouse.target_path / "manifest.json").read_text())
    read = {
        node
        for model in manifest["semantic_models"].values()
        for node in model["depends_on"]["nodes"]
    }
    exposure = manifest["exposures"]["exposure.clv_warehouse.semantic_layer"]
    assert set(exposure["depends_on"]["nodes"]) == read


# ---------------------------------------------------------------- the check can fail

#: cohort_ordering_rate redefined as the average of the rows' ordering_rate: over a
#: cohort's channels that is an average of ratios, not the cohort's own rate.
AVERAGE_OF_RATIOS_MEASURE = """
      - name: ordering_rate_average
        description: The average of cohort_clv_by_channel.ordering_rate (wrong on purpose).
        agg: average
        expr: ordering_rate
"""
RATIO_DEFINITION = """    type: ratio
    type_params:
      numerator: cohort_ordering_customers
      denominator: cohort_size
"""
AVERAGE_DEFINITION = """    type: simple
    type_params:
      measure: ordering_rate_average
"""


def test_an_average_of_ratios_fails_its_mart_check(warehouse, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(PROJECT_DIR / "models", models)
    semantic_yaml = models / "marts" / "customers" / "_customers__semantic.yml"
    text = semantic_yaml.read_text()
    anchor = "        expr: ordering_customers\n"
    assert text.count(anchor) == 1 and text.count(RATIO_DEFINITION) == 1
    text = text.replace(anchor, anchor + AVERAGE_OF_RATIOS_MEASURE.lstrip("\n"))
    semantic_yaml.write_text(text.replace(RATIO_DEFINITION, AVERAGE_DEFINITION))
    wrong_project = mf_project(tmp_path / "project", warehouse, models_dir=models)
    run_dbt_process(
        ["parse"],
        env={"CLV_DUCKDB_PATH": str(wrong_project.database), "CLV_RAW_DIR": str(warehouse.raw_dir)},
        target_path=wrong_project.root / "target",
        log=tmp_path / "parse.log",
        project_dir=wrong_project.root,
    )
    check = CHECKS["cohort_ordering_rate"]
    queried = wrong_project.query(["cohort_ordering_rate"], check.grain, tmp_path / "wrong.csv")
    wrong = mismatches("cohort_ordering_rate", check, queried, warehouse.database)
    assert wrong, "an average of the channels' ordering rates passed the cohort_clv check"
