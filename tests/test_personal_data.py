"""No raw email leaves the raw layer: staging and everything after it hold hashes only."""

from __future__ import annotations

import pytest

from clv.warehouse import connect_read_only

pytestmark = pytest.mark.integration

EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+"
SCANNED_SCHEMAS = ("staging", "intermediate", "marts", "audit")


def test_no_email_like_value_in_any_built_column(warehouse):
    hits = []
    with connect_read_only(warehouse.database) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ? and data_type = 'VARCHAR'",
            [list(SCANNED_SCHEMAS)],
        ).fetchall()
        assert len(columns) > 20, "expected the staging layer's text columns to be scanned"
        for schema, table, column in columns:
            (count,) = connection.execute(
                f'select count(*) from "{schema}"."{table}" where regexp_matches("{column}", ?)',
                [EMAIL_PATTERN],
            ).fetchone()
            if count:
                hits.append(f"{schema}.{table}.{column}: {count} rows")
    assert not hits, "email-like values found:\n" + "\n".join(hits)
