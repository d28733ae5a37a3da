"""Every raw row ends in staging or in the rejected-rows audit, with the right reason.

The simulator records in its manifest how many clean rows it wrote per table and
how many defective rows it injected per reason; staging must match both exactly.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from clv.warehouse import connect_read_only
from tests.support.staging import STAGING_MODELS

pytestmark = pytest.mark.integration


def parquet_rows(raw_dir, table: str) -> int:
    source, name = table.split(".")
    return pq.ParquetFile(raw_dir / source / f"{name}.parquet").metadata.num_rows


def staged_and_rejected(database, table: str) -> tuple[int, int]:
    with connect_read_only(database) as connection:
        (staged,) = connection.execute(
            f"select count(*) from staging.{STAGING_MODELS[table]}"
        ).fetchone()
        (rejected,) = connection.execute(
            "select count(*) from audit.rejected_rows where source_table = ?", [table]
        ).fetchone()
    return staged, rejected


def test_manifest_names_every_staged_table(simulated_raw):
    _, manifest = simulated_raw
    assert set(manifest["tables"]) == set(STAGING_MODELS)


@pytest.mark.parametrize("table", sorted(STAGING_MODELS))
def test_raw_rows_equal_staged_plus_rejected(warehouse, table):
    raw = parquet_rows(warehouse.raw_dir, table)
    staged, rejected = staged_and_rejected(warehouse.database, table)
    assert raw > 0
    assert staged + rejected == raw, (
        f"{table}: {raw} raw rows, {staged} staged, {rejected} rejected"
    )


@pytest.mark.parametrize("table", sorted(STAGING_MODELS))
def test_clean_rows_staged_and_injected_rows_rejected_with_their_reason(warehouse, table):
    expected = warehouse.manifest["tables"][table]
    staged, _ = staged_and_rejected(warehouse.database, table)
    with connect_read_only(warehouse.database) as connection:
        reasons = dict(
            connection.execute(
                "select reason, count(*) from audit.rejected_rows "
                "where source_table = ? group by reason",
                [table],
            ).fetchall()
        )
    assert staged == expected["clean_rows"]
    assert reasons == {reason: n for reason, n in expected["defects"].items() if n}


def test_defects_were_injected_for_every_reason_somewhere(warehouse):
    """Guards the two tests above against a data set with nothing to reject."""
    with connect_read_only(warehouse.database) as connection:
        reasons = {
            r
            for (r,) in connection.execute(
                "select distinct reason from audit.rejected_rows"
            ).fetchall()
        }
    assert {
        "null_key",
        "duplicate_key",
        "invalid_email",
        "unknown_currency",
        "non_positive_amount",
        "score_out_of_range",
        "future_timestamp",
        "unknown_customer",
        "unknown_order",
        "before_customer_created",
        "refund_exceeds_order",
        "redemption_exceeds_balance",
    } <= reasons


def test_rejected_rows_carry_a_reason_and_the_raw_record(warehouse):
    with connect_read_only(warehouse.database) as connection:
        (incomplete,) = connection.execute(
            "select count(*) from audit.rejected_rows "
            "where reason is null or raw_record is null or detected_at is null"
        ).fetchone()
    assert incomplete == 0


@pytest.mark.parametrize("table", sorted(STAGING_MODELS))
def test_only_rejected_rows_keep_their_raw_text(warehouse, table):
    """raw_record_if_rejected: a staged row's raw_record is null, a rejected row's is not."""
    source, name = table.split(".")
    with connect_read_only(warehouse.database) as connection:
        kept, staged, rejected_without = connection.execute(
            "select count(raw_record) filter (where rejection_reason is null), "
            "count(*) filter (where rejection_reason is null), "
            "count(*) filter (where rejection_reason is not null and raw_record is null) "
            f"from staging.base_{source}__{name}"
        ).fetchone()
    assert staged > 0
    assert (kept, rejected_without) == (0, 0)


def test_build_ran_data_tests_and_unit_tests(warehouse):
    """The build is not green by running nothing."""
    kinds = {}
    for result in warehouse.results:
        kinds[result.node.resource_type] = kinds.get(result.node.resource_type, 0) + 1
    assert kinds.get("test", 0) >= 50
    assert kinds.get("unit_test", 0) >= 5
    assert kinds.get("model", 0) >= 28


@pytest.mark.parametrize("table", sorted(STAGING_MODELS))
def test_hand_made_rows_are_staged_or_rejected_exactly_as_expected(tiny_warehouse, table):
    """A hand-written row for every rule, with its expected reason (tests/fixtures)."""
    expected = tiny_warehouse.manifest[table]
    staged, rejected = staged_and_rejected(tiny_warehouse.database, table)
    with connect_read_only(tiny_warehouse.database) as connection:
        reasons = dict(
            connection.execute(
                "select reason, count(*) from audit.rejected_rows "
                "where source_table = ? group by reason",
                [table],
            ).fetchall()
        )
    assert parquet_rows(tiny_warehouse.raw_dir, table) == expected["raw"]
    assert (staged, rejected) == (expected["staged"], expected["rejected"])
    assert reasons == expected["rejected_by_reason"]


def test_cascaded_rejections_name_the_rejected_parent_and_orphans_do_not(tiny_warehouse):
    """A rejection that follows from another names it; an orphan names a parent never delivered.

    The hand-made rows hold both kinds: order 112 was rejected for its
    currency, so its line is a cascade; order 999 and customer 999 were never
    delivered; order 119 belongs to customer 10, who was rejected for an
    invalid email.
    """
    with connect_read_only(tiny_warehouse.database) as connection:
        rows = connection.execute(
            "select source_table, record_key, reason, parent_source_table, parent_record_key, "
            "parent_reason from audit.rejected_rows "
            "where source_table in ('shop.order_items', 'shop.orders') "
            "and record_key in ('112|1', '999|1', '119', '118')"
        ).fetchall()
    found = {(table, key): rest for table, key, *rest in rows}
    assert found[("shop.order_items", "112|1")] == [
        "unknown_order",
        "shop.orders",
        "112",
        "unknown_currency",
    ]
    assert found[("shop.order_items", "999|1")] == ["unknown_order", "shop.orders", "999", None]
    assert found[("shop.orders", "118")] == ["unknown_customer", "shop.customers", "999", None]
    assert found[("shop.orders", "119")][:3] == ["unknown_customer", "shop.customers", "10"]
    assert found[("shop.orders", "119")][3] is not None


def test_rejection_summary_counts_cascades(tiny_warehouse):
    with connect_read_only(tiny_warehouse.database) as connection:
        summary = dict(
            connection.execute(
                "select source_table, cascaded_rows from audit.rejection_summary"
            ).fetchall()
        )
        (expected,) = connection.execute(
            "select count(*) from audit.rejected_rows "
            "where source_table = 'shop.order_items' and parent_reason is not null"
        ).fetchone()
    assert summary["shop.order_items"] == expected >= 1
    assert summary["shop.customers"] == 0
