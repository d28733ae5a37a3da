"""``clv generate --corrupt-rows``: rows damaged in place, parents deleted, rejections cascade.

Fast, no dbt: the generator's output is checked with the contract's reference
implementation (:func:`clv.contract.rules.classify`). One small data set
(1,500 customers, the size the dbt tests build) at rate 0.01, with and without
``--bad-rows``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from clv.contract.rules import classify, summarize
from clv.contract.tables import SPECS
from clv.simulate import generate
from clv.simulate.corruption import DELETED, EXPECTED_REASON, KINDS, Corrupted, corrupt
from clv.simulate.generator import simulate

pytestmark = pytest.mark.unit

START, END = date(2023, 1, 1), date(2024, 12, 31)
CUSTOMERS = 1500
SEED = 20231
RATE = 0.01
BAD_ROWS = 0.02
#: dbt fails a build above 5 % rejected per table; cascades must stay well below.
REJECTED_SHARE_CEILING = 0.045
ORPHAN_REASONS = ("unknown_customer", "unknown_order", "unknown_campaign", "unknown_subscriber")


def _generate(out: Path, corrupt_rows: float = 0.0, bad_rows: float = 0.0) -> dict:
    return generate(
        customers=CUSTOMERS,
        start=START,
        end=END,
        seed=SEED,
        out=out,
        bad_rows=bad_rows,
        corrupt_rows=corrupt_rows,
    )


def _read(out: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(out / spec.path) for name, spec in SPECS.items()}


def _col(table: pa.Table, column: str) -> np.ndarray:
    return table[column].combine_chunks().to_numpy(zero_copy_only=False)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> tuple[dict, dict[str, pa.Table]]:
    out = tmp_path_factory.mktemp("plain")
    return _generate(out), _read(out)


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory) -> tuple[Path, dict, dict[str, pa.Table]]:
    out = tmp_path_factory.mktemp("corrupted")
    return out, _generate(out, corrupt_rows=RATE), _read(out)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[dict, dict[str, pa.Table]]:
    out = tmp_path_factory.mktemp("both")
    return _generate(out, corrupt_rows=RATE, bad_rows=BAD_ROWS), _read(out)


@pytest.fixture(scope="module")
def damage() -> Corrupted:
    """The same corruption in memory, with which row got which kind."""
    tables, facts = simulate(CUSTOMERS, START, END, SEED)
    return corrupt(tables, RATE, facts["created_us"], facts["corruption_rng"])


@pytest.fixture(scope="module")
def reasons(corrupted) -> dict[str, np.ndarray]:
    _, _, tables = corrupted
    return classify(tables)


# ---------- determinism, the clean world, in place


def test_same_seed_gives_byte_identical_files(corrupted, tmp_path):
    out, manifest, _ = corrupted
    again = _generate(tmp_path, corrupt_rows=RATE)
    for spec in SPECS.values():
        assert (out / spec.path).read_bytes() == (tmp_path / spec.path).read_bytes(), spec.path
    assert {**manifest, "generated_at": None} == {**again, "generated_at": None}


def test_untouched_rows_are_identical_to_a_run_without_corruption(plain, corrupted, damage):
    _, plain_tables = plain
    _, _, tables = corrupted
    for name, table in tables.items():
        assert table.equals(damage.tables[name]), f"{name}: the file is not what corrupt() made"
        untouched = pa.array(damage.kinds[name] == None)  # noqa: E711 (elementwise)
        clean_rows = pa.array(damage.kept[name][untouched.to_numpy(zero_copy_only=False)])
        assert table.filter(untouched).equals(plain_tables[name].take(clean_rows)), name


def test_rows_are_corrupted_in_place_and_only_parents_deleted(plain, corrupted, damage):
    plain_manifest, plain_tables = plain
    _, manifest, tables = corrupted
    for name, spec in SPECS.items():
        entry, clean = manifest["tables"][name], plain_tables[name]
        assert entry["clean_rows"] == clean.num_rows == plain_manifest["tables"][name]["clean_rows"]
        assert tables[name].num_rows == entry["clean_rows"] - entry["deleted_rows"], name
        assert (entry["deleted_rows"] > 0) == (name in DELETED), name
        assert entry["corrupted_rows"] == sum(entry["corruptions"].values())
        assert entry["corrupted_rows"] + entry["deleted_rows"] == round(RATE * clean.num_rows), name
        # Same keys, same order: the clean keys minus the deleted rows (a code in a
        # composite key may be miswritten, the row's identity stays).
        keys = [column for column in spec.key if column not in spec.categories]
        kept = clean.select(keys).take(pa.array(damage.kept[name]))
        assert tables[name].select(keys).equals(kept), name
        # Every damaged row differs from its clean row.
        damaged = np.flatnonzero(damage.kinds[name] != None)  # noqa: E711
        before = clean.take(pa.array(damage.kept[name][damaged])).to_pylist()
        after = tables[name].take(pa.array(damaged)).to_pylist()
        assert all(b != a for b, a in zip(before, after, strict=True)), name
    # A deleted subscriber loses every row.
    subscribers = _col(tables["email.email_subscriptions"], "subscriber_id")
    clean_subscribers = _col(plain_tables["email.email_subscriptions"], "subscriber_id")
    gone = np.setdiff1d(clean_subscribers, subscribers)
    assert len(gone) and not np.isin(gone, subscribers).any()


def test_every_kind_occurs_at_rate_one_percent(corrupted):
    _, manifest, _ = corrupted
    assert manifest["corrupt_rows"] == RATE
    seen = {kind for e in manifest["tables"].values() for kind in e["corruptions"]}
    assert seen == set(KINDS)


def test_without_corrupt_rows_nothing_is_corrupted(plain):
    manifest, _ = plain
    assert manifest["corrupt_rows"] == 0.0
    for entry in manifest["tables"].values():
        assert (entry["corrupted_rows"], entry["corruptions"], entry["deleted_rows"]) == (0, {}, 0)
        assert entry["expected_rejections"] == {}


# ---------- what the contract makes of it


def test_every_damaged_row_that_breaks_a_rule_is_rejected_for_it(damage, reasons):
    for name, kinds in damage.kinds.items():
        for kind in KINDS:
            got = reasons[name][kinds == kind]
            expected = EXPECTED_REASON[kind]
            if expected is None:
                # Breaks nothing itself: accepted, unless its parent is rejected or the
                # moved entry no longer fits the points balance.
                allowed = {
                    None,
                    *ORPHAN_REASONS,
                    "redemption_exceeds_balance",
                    "expiry_exceeds_balance",
                }
                assert set(got) <= allowed, (name, kind, set(got))
            elif expected == "before_customer_created":
                # Rule 11 comes after the references: an orphan is rejected as one.
                assert set(got) <= {expected, *ORPHAN_REASONS}, (name, kind, set(got))
                assert expected in set(got) or len(got) == 0
            else:
                # Rules 1-8 are checked first, on the row alone.
                assert set(got) <= {expected}, (name, kind, set(got))


def test_rejections_cascade_to_rows_referencing_a_damaged_row(corrupted, damage, reasons):
    _, _, tables = corrupted
    orders = tables["shop.orders"]
    damaged_orders = _col(orders, "order_id")[
        (damage.kinds["shop.orders"] != None) & (reasons["shop.orders"] != None)  # noqa: E711
    ]
    for name in ("shop.order_items", "loyalty.loyalty_points"):
        table = tables[name]
        untouched = damage.kinds[name] == None  # noqa: E711
        cascaded = (
            untouched
            & (reasons[name] == "unknown_order")
            & np.isin(_col(table, "order_id"), damaged_orders)
        )
        assert cascaded.any(), f"{name}: no row rejected because its order was corrupted"


def test_deleted_parents_leave_orphans_with_no_rejected_parent_in_raw(corrupted, reasons):
    _, _, tables = corrupted
    orphans = {}
    for name, spec in SPECS.items():
        for column, (parent, parent_column, code) in spec.references.items():
            value = tables[name][column].combine_chunks()
            absent = ~pc.fill_null(
                pc.is_in(value, value_set=tables[parent][parent_column].combine_chunks()), True
            ).to_numpy(zero_copy_only=False)
            found = int((absent & (reasons[name] == code)).sum())
            orphans[code] = orphans.get(code, 0) + found
    assert all(orphans[code] > 0 for code in ORPHAN_REASONS), orphans


def test_a_rejected_earn_makes_a_later_debit_exceed_the_balance(corrupted, damage, reasons):
    _, _, tables = corrupted
    name = "loyalty.loyalty_points"
    points = tables[name].to_pandas()
    points["reason"] = reasons[name]
    points["damaged"] = damage.kinds[name] != None  # noqa: E711
    rejected_earns = points[(points["entry_type"] == "earn") & points["reason"].notna()]
    debits = points[
        points["reason"].isin(["redemption_exceeds_balance", "expiry_exceeds_balance"])
        & ~points["damaged"]
    ]
    first_rejected_earn = rejected_earns.groupby("customer_id")["entry_at"].min()
    covered = debits["customer_id"].map(first_rejected_earn) < debits["entry_at"]
    assert covered.any(), "no untouched redemption or expiry rejected after a rejected earn"


def test_manifest_expected_rejections_are_classify_on_the_written_files(corrupted, both):
    out, manifest, tables = corrupted
    assert json.loads((out / "_manifest.json").read_text()) == manifest
    for run_manifest, run_tables in ((manifest, tables), both):
        expected = summarize(classify(run_tables))
        assert {n: e["expected_rejections"] for n, e in run_manifest["tables"].items()} == expected


def test_bad_rows_keep_their_meaning_beside_corrupt_rows(both, tmp_path):
    manifest, tables = both
    bad_only = _generate(tmp_path, bad_rows=BAD_ROWS)
    for name, entry in manifest["tables"].items():
        alone = bad_only["tables"][name]
        assert (entry["clean_rows"], entry["defect_rows"], entry["defects"]) == (
            alone["clean_rows"],
            alone["defect_rows"],
            alone["defects"],
        ), name
        appended = tables[name].slice(entry["clean_rows"] - entry["deleted_rows"])
        alone_rows = pq.read_table(tmp_path / SPECS[name].path).slice(alone["clean_rows"])
        assert appended.equals(alone_rows), f"{name}: the appended defect rows changed"


def test_cascades_stay_well_under_the_build_gate(both):
    manifest, tables = both
    for name, entry in manifest["tables"].items():
        share = sum(entry["expected_rejections"].values()) / tables[name].num_rows
        assert share < REJECTED_SHARE_CEILING, f"{name}: {share:.2%} rejected"


def test_generate_refuses_a_rate_outside_0_to_0_2(tmp_path):
    for rate in (-0.01, 0.21):
        with pytest.raises(ValueError, match="corrupt_rows must be between 0 and 0.2"):
            _generate(tmp_path, corrupt_rows=rate)
