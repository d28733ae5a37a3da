"""Partial deliveries stop at the raw gate: ``raw.completeness`` and the row-count ratchet.

Most tests compute the completeness figures with pandas only
(:func:`clv.quality.completeness.figures`, no great-expectations run, no dbt):
clean data passes on several seeds, sizes and end days; a 30 % partial delivery
of each large file, and an orders file missing its last two days, fail naming
the file and the figure. A few run :func:`clv.quality.validate` or the command
line (the one-line messages, no traceback, the ratchet through the real
history file, the accept flag), and one builds with dbt and publishes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv.commands import validate as validate_command
from clv.contract.tables import SPECS
from clv.errors import UserError
from clv.publish import PublishRefused, publish
from clv.quality import QualitySettings, validate
from clv.quality.completeness import Figure, figures
from clv.quality.history import RowCountHistory, row_count_band
from clv.quality.raw_files import preflight, to_frame
from clv.simulate import generate
from tests.support.warehouse import build_warehouse

#: Far after every simulated history: the raw suite's "not in the future" bound.
NOW = datetime(2030, 1, 1)

#: The large files and the figure a 30 % partial delivery of each must fail.
PARTIAL_CASES = {
    "shop.orders": ("shop/orders.parquet", "lines_without_order_share"),
    "shop.order_items": ("shop/order_items.parquet", "orders_without_lines_share"),
    "email.email_sends": ("email/email_sends.parquet", "email_orders_without_send_share"),
    "loyalty.loyalty_points": (
        "loyalty/loyalty_points.parquet",
        "member_orders_without_earn_share",
    ),
    "email.email_subscriptions": (
        "email/email_subscriptions.parquet",
        "sends_without_subscription_share",
    ),
}


def load_frames(raw_dir: Path) -> dict[str, pd.DataFrame]:
    files = {name: preflight(raw_dir, spec) for name, spec in SPECS.items()}
    return {name: to_frame(raw) for name, raw in files.items() if raw.ok}


def failed(found: list[Figure]) -> dict[str, Figure]:
    return {figure.name: figure for figure in found if not figure.passed}


def drop_share(raw_dir: Path, table: str, share: float = 0.3, seed: int = 0) -> None:
    """Delete ``share`` of a raw file's rows at random, in place."""
    path = raw_dir / SPECS[table].path
    data = pq.read_table(path)
    keep = np.random.default_rng(seed).random(data.num_rows) >= share
    pq.write_table(data.filter(keep), path)


def drop_last_days(raw_dir: Path, days: int = 2) -> None:
    """Remove the last ``days`` days of orders, and their lines, in place."""
    orders_path = raw_dir / SPECS["shop.orders"].path
    orders = pq.read_table(orders_path)
    frame = orders.select(["order_id", "ordered_at", "_loaded_at"]).to_pandas()
    end = frame["_loaded_at"].max().floor("D") - pd.Timedelta(days=1)
    late = (frame["ordered_at"] >= end - pd.Timedelta(days=days - 1)).to_numpy()
    pq.write_table(orders.filter(~late), orders_path)
    items_path = raw_dir / SPECS["shop.order_items"].path
    items = pq.read_table(items_path)
    gone = items.column("order_id").to_pandas().isin(frame.loc[late, "order_id"]).to_numpy()
    pq.write_table(items.filter(~gone), items_path)


@pytest.fixture(scope="module")
def other_raws(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """More clean and defective data sets: other seeds, sizes and end days."""
    cases = {
        "1500 clean, ends 2025-03-14": (1500, date(2023, 3, 15), date(2025, 3, 14), 7, 0.0),
        "1500 bad 2 %, ends 2025-06-21": (1500, date(2023, 6, 22), date(2025, 6, 21), 10, 0.02),
        "5000 bad 0.5 %, ends 2026-11-30": (5000, date(2024, 12, 1), date(2026, 11, 30), 42, 0.005),
    }
    out = {}
    for name, (customers, start, end, seed, bad_rows) in cases.items():
        raw_dir = tmp_path_factory.mktemp("completeness_raw")
        generate(
            customers=customers,
            start=start,
            end=end,
            seed=seed,
            out=raw_dir,
            bad_rows=bad_rows,
            verbose=False,
        )
        out[name] = raw_dir
    return out


@pytest.fixture
def raw_copy(simulated_raw, tmp_path: Path) -> Path:
    raw_dir, _ = simulated_raw
    copy = tmp_path / "raw"
    shutil.copytree(raw_dir, copy)
    return copy


# ---------------------------------------------------------------- clean data passes


@pytest.mark.unit
def test_the_session_data_passes_every_figure(simulated_raw):
    raw_dir, _ = simulated_raw
    found = figures(load_frames(raw_dir), QualitySettings(), NOW)
    assert len(found) == 12, [figure.name for figure in found]
    assert not failed(found), failed(found)


@pytest.mark.unit
@pytest.mark.parametrize(
    "case",
    [
        "1500 clean, ends 2025-03-14",
        "1500 bad 2 %, ends 2025-06-21",
        "5000 bad 0.5 %, ends 2026-11-30",
    ],
)
def test_clean_data_passes_on_other_seeds_sizes_and_end_days(other_raws, case):
    found = figures(load_frames(other_raws[case]), QualitySettings(), NOW)
    assert len(found) == 12
    assert not failed(found), failed(found)


@pytest.mark.unit
def test_two_percent_of_rows_lost_everywhere_still_passes(raw_copy):
    """The bands tolerate the ~1-2 % quarantinable defects of --bad-rows / --corrupt-rows."""
    for index, table in enumerate(SPECS):
        drop_share(raw_copy, table, share=0.02, seed=index)
    found = figures(load_frames(raw_copy), QualitySettings(), NOW)
    assert not failed(found), failed(found)


# ---------------------------------------------------------------- partial deliveries fail


@pytest.mark.unit
@pytest.mark.parametrize("table", sorted(PARTIAL_CASES))
def test_a_30_percent_partial_delivery_fails_naming_its_file(raw_copy, table):
    path, figure_name = PARTIAL_CASES[table]
    drop_share(raw_copy, table)
    broken = failed(figures(load_frames(raw_copy), QualitySettings(), NOW))
    assert figure_name in broken, broken
    figure = broken[figure_name]
    assert figure.file == path
    assert figure.value > 0.1  # a 30 % loss shows as a share far above its band


def _recent_order_ids(raw_dir: Path, days: int = 28) -> pd.Series:
    orders = pd.read_parquet(raw_dir / SPECS["shop.orders"].path)
    end = orders["_loaded_at"].max().floor("D")
    return orders.loc[orders["ordered_at"] >= end - pd.Timedelta(days=days), "order_id"]


def _rewrite(raw_dir: Path, table: str, change) -> None:
    path = raw_dir / SPECS[table].path
    data = pq.read_table(path)
    frame = change(data.to_pandas())
    pq.write_table(pa.Table.from_pandas(frame, schema=data.schema, preserve_index=False), path)


def _rng() -> np.random.Generator:
    return np.random.default_rng(1)


def lose_recent_lines(raw_dir: Path) -> None:
    recent = _recent_order_ids(raw_dir)
    _rewrite(
        raw_dir,
        "shop.order_items",
        lambda f: f[~(f["order_id"].isin(recent) & (_rng().random(len(f)) < 0.5))],
    )


def halve_recent_prices(raw_dir: Path) -> None:
    recent = _recent_order_ids(raw_dir)

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["order_id"].isin(recent), "unit_price"] *= 0.5
        return frame

    _rewrite(raw_dir, "shop.order_items", change)


def lose_whole_campaigns(raw_dir: Path) -> None:
    _rewrite(
        raw_dir,
        "email.email_sends",
        lambda f: f[~(f["campaign_id"] % 10 == 3)],  # every tenth campaign's sends
    )


def lose_recent_sends(raw_dir: Path) -> None:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        recent = frame["sent_at"] >= frame["_loaded_at"].max() - pd.Timedelta(days=28)
        return frame[~(recent & (_rng().random(len(frame)) < 0.6))]

    _rewrite(raw_dir, "email.email_sends", change)


def lose_subscribe_events(raw_dir: Path) -> None:
    _rewrite(
        raw_dir,
        "email.email_subscriptions",
        lambda f: f[~((f["event_type"] == "subscribe") & (_rng().random(len(f)) < 0.3))],
    )


#: Every figure the partial-delivery tests above do not trip, with a delivery that must.
MUTATIONS = {
    "subtotal_mismatch_share": drop_share,  # 30 % of order_items, as above
    "recent_lines_per_order_ratio": lose_recent_lines,
    "recent_value_per_line_ratio": halve_recent_prices,
    "campaigns_without_sends_share": lose_whole_campaigns,
    "recent_sends_per_campaign_ratio": lose_recent_sends,
    "unsubscribes_without_subscribe_share": lose_subscribe_events,
}


@pytest.mark.unit
@pytest.mark.parametrize("figure_name", sorted(MUTATIONS))
def test_every_figure_can_fail(raw_copy, figure_name):
    mutation = MUTATIONS[figure_name]
    if mutation is drop_share:
        drop_share(raw_copy, "shop.order_items")
    else:
        mutation(raw_copy)
    broken = failed(figures(load_frames(raw_copy), QualitySettings(), NOW))
    assert figure_name in broken, broken


@pytest.mark.unit
def test_orders_missing_their_last_two_days_fail(raw_copy):
    drop_last_days(raw_copy, days=2)
    broken = failed(figures(load_frames(raw_copy), QualitySettings(), NOW))
    assert set(broken) == {"recent_orders_volume_ratio"}, broken
    assert broken["recent_orders_volume_ratio"].value == 0
    assert broken["recent_orders_volume_ratio"].file == "shop/orders.parquet"


@pytest.mark.integration
def test_partial_order_items_stop_clv_validate_with_one_line_each(raw_copy, tmp_path, capsys):
    drop_share(raw_copy, "shop.order_items")
    parser = argparse.ArgumentParser(prog="clv")
    validate_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["validate", "--layer", "raw", "--raw-dir", str(raw_copy), "--docs-dir", str(tmp_path)]
    )

    assert args.func(args) == validate_command.GATE_FAILED

    out = capsys.readouterr()
    lines = out.out.splitlines()
    (without_lines,) = [line for line in lines if "completed orders without lines" in line]
    # e.g. "- shop/order_items.parquet: completed orders without lines 16.5 % (allowed <= 3.0 %)"
    assert without_lines.strip().startswith("- shop/order_items.parquet: completed orders")
    assert without_lines.endswith("(allowed <= 3.0 %)")
    assert lines[-1] == "Quality gate failed. Stopped by: raw.completeness."
    assert "Traceback" not in out.out + out.err


@pytest.mark.integration
@pytest.mark.parametrize(
    ("case", "code", "expected"),
    [
        ("garbage order_items", 1, "shop/order_items.parquet: "),
        ("missing raw dir", 2, "no raw data folder at"),
        ("unknown table to accept", 2, "unknown raw table 'orders'"),
    ],
)
def test_the_command_line_never_prints_a_traceback(
    raw_copy, tmp_path, capsys, case, code, expected
):
    from clv.cli import main

    argv = ["validate", "--layer", "raw", "--raw-dir", str(raw_copy)]
    if case == "garbage order_items":
        (raw_copy / SPECS["shop.order_items"].path).write_bytes(b"not parquet at all")
    elif case == "missing raw dir":
        argv[-1] = str(tmp_path / "nowhere")
    else:
        argv += ["--accept-volume-change", "orders"]

    assert main([*argv, "--docs-dir", str(tmp_path / "docs")]) == code

    out = capsys.readouterr()
    assert expected in out.out + out.err
    assert "Traceback" not in out.out + out.err


# ---------------------------------------------------------------- row-count history


def _run(history: RowCountHistory, table: str, rows: int, settings: QualitySettings) -> bool:
    """One raw run as the runner does it: check against the history, record if it passed."""
    low, high, _ = row_count_band(
        history.runs(table),
        settings.row_count_band,
        settings.row_count_max_decline,
        history.peak(table),
    )
    passed = rows >= low and (high is None or rows <= high)
    if passed:
        history.record({table: rows})
    return passed


@pytest.mark.unit
def test_a_slow_decline_cannot_ratchet_through(tmp_path):
    """Five runs, each 8 % smaller (within ±50 % of the last): the third fails."""
    settings = QualitySettings()
    history = RowCountHistory(tmp_path / "counts.json", tmp_path, keep=10)
    counts = [round(10_000 * 0.92**run) for run in range(5)]  # 10000, 9200, 8464, 7787, 7164
    outcomes = [_run(history, "shop.orders", rows, settings) for rows in counts]
    assert outcomes == [True, True, False, False, False]
    assert history.runs("shop.orders") == [10_000, 9_200]


@pytest.mark.unit
def test_a_decline_slower_than_the_window_cannot_ratchet_through(tmp_path):
    """1 % fewer rows a run for 20 runs: the peak outlives the 10 kept runs; the 18th fails."""
    settings = QualitySettings()
    history = RowCountHistory(tmp_path / "counts.json", tmp_path, keep=10)
    counts = [round(10_000 * 0.99**run) for run in range(20)]
    outcomes = [_run(history, "shop.orders", rows, settings) for rows in counts]
    # Run 17 (0.99**16 = 0.851) is 14.9 % below the first; run 18 is 15.7 % below.
    assert outcomes.index(False) == 17
    assert history.peak("shop.orders") == 10_000
    assert len(history.runs("shop.orders")) == 10


@pytest.mark.unit
def test_the_history_keeps_the_last_runs_and_reads_the_old_format(tmp_path):
    path = tmp_path / "counts.json"
    key = str(tmp_path.resolve())
    path.write_text(json.dumps({key: {"shop.orders": {"rows": 500, "recorded_at": "x"}}}))
    history = RowCountHistory(path, tmp_path, keep=3)
    assert history.runs("shop.orders") == [500]
    for rows in (510, 520, 530):
        history.record({"shop.orders": rows})
    assert RowCountHistory(path, tmp_path).runs("shop.orders") == [510, 520, 530]
    # Growth is measured against the latest run, decline against the largest.
    assert row_count_band([510, 530, 520], 0.5, 0.15)[:2] == (451, 780)


@pytest.mark.integration
def test_accept_volume_change_lets_a_deliberate_change_through(simulated_raw, tmp_path):
    raw_dir, _ = simulated_raw
    orders = pq.read_metadata(raw_dir / SPECS["shop.orders"].path).num_rows
    history_path = tmp_path / "raw_row_counts.json"
    # Earlier runs saw more orders: today's count is 15.4 % below the largest.
    earlier = [round(orders / 0.92**2), round(orders / 0.92)]
    key = str(raw_dir.resolve())
    runs = [{"rows": rows, "recorded_at": "x"} for rows in earlier]
    history_path.write_text(json.dumps({key: {"shop.orders": {"runs": runs}}}))

    refused = validate(("raw",), raw_dir=raw_dir, database=None, history_path=history_path, now=NOW)
    assert [s.name for s in refused.suites if not s.success] == ["raw.shop.orders"]
    assert "expect_table_row_count_to_be_between" in refused.suite("raw.shop.orders").failures[0]

    accepted = validate(
        ("raw",),
        raw_dir=raw_dir,
        database=None,
        history_path=history_path,
        now=NOW,
        accept_volume_change=("shop.orders",),
    )
    assert accepted.success, accepted.summary_lines()
    assert RowCountHistory(history_path, raw_dir).runs("shop.orders") == [orders]
    # Other tables kept their history and gained this run.
    assert len(RowCountHistory(history_path, raw_dir).runs("shop.customers")) == 1

    with pytest.raises(UserError, match="unknown raw table 'shop.order'"):
        validate(("raw",), raw_dir=raw_dir, database=None, accept_volume_change=("shop.order",))


@pytest.mark.integration
def test_publish_holds_raw_counts_to_the_history_without_extending_it(
    warehouse, tmp_path, monkeypatch
):
    """publish's checks read the history clv validate keeps, and leave it as it was."""
    import clv.quality
    from clv.publish import default_checks

    orders = pq.read_metadata(warehouse.raw_dir / SPECS["shop.orders"].path).num_rows
    history_path = tmp_path / "raw_row_counts.json"
    # Earlier deliveries held twice as many orders: today's file is half of them.
    RowCountHistory(history_path, warehouse.raw_dir).record({"shop.orders": orders * 2})
    written = history_path.read_bytes()
    monkeypatch.setattr(clv.quality, "DEFAULT_HISTORY_PATH", history_path)

    report = default_checks(
        warehouse.database, warehouse.raw_dir, warehouse.target_path / "manifest.json"
    )

    assert not report.success
    assert any(
        "shop/orders.parquet" in line and "row_count" in line for line in report.failure_lines()
    ), report.failure_lines()
    assert history_path.read_bytes() == written


# ---------------------------------------------------------------- end to end with dbt


@pytest.mark.fault
def test_publish_refuses_a_partial_order_items_delivery(warehouse, tmp_path):
    """A good publication, then a build on partial order_items: publish refuses, file unchanged."""
    published = tmp_path / "published" / "clv.duckdb"
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy2(warehouse.database, good / "clv.duckdb")
    shutil.copy2(warehouse.target_path / "run_results.json", good / "run_results.json")
    shutil.copy2(warehouse.target_path / "manifest.json", good / "manifest.json")
    publish(good / "clv.duckdb", published, good / "run_results.json", warehouse.raw_dir)
    before = hashlib.sha256(published.read_bytes()).hexdigest()

    partial_raw = tmp_path / "partial_raw"
    shutil.copytree(warehouse.raw_dir, partial_raw)
    drop_share(partial_raw, "shop.order_items")
    # Every remaining line is valid: dbt builds it without complaint.
    built = build_warehouse(partial_raw, tmp_path / "partial_build", warehouse.manifest)

    with pytest.raises(PublishRefused) as refused:
        publish(built.database, published, built.target_path / "run_results.json", partial_raw)

    assert refused.value.gate == "mart checks"
    assert refused.value.reason.startswith(
        "shop/order_items.parquet: completed orders without lines"
    )
    assert "(allowed <= 3.0 %)" in refused.value.reason
    assert "Traceback" not in str(refused.value)
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
