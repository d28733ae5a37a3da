"""clv.predict_step: the pieces of ``clv predict`` that need no database.

The COPY text the PostgreSQL writer sends (nulls, empty strings, quotes,
dates, timestamps, doubles), the reader's parse of COPY output, the column
types (the marts' contract types), the engines it serves, and the step on
frames read from the session's DuckDB warehouse, compared with the dbt Python
models' tables there. The step against a real PostgreSQL server is in
tests/test_postgres_portability.py.
"""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from clv import cli, predict_step
from clv.errors import UserError
from clv.warehouse import connect_read_only


def _table() -> pa.Table:
    return pa.table(
        {
            "name": pa.array(["plain", "", None, 'a "quoted", two\nlines'], pa.string()),
            "value": pa.array([0.1, 1 / 3, None, 1e-300], pa.float64()),
            "count": pa.array([1, None, 3, -4], pa.int64()),
            "day": pa.array([date(2026, 1, 2), None, date(1999, 12, 31), date(2026, 12, 3)]),
            "at": pa.array(
                [datetime(2026, 1, 2, 3, 4, 5, 678901), None, datetime(2026, 1, 2), None],
                pa.timestamp("us"),
            ),
        }
    )


@pytest.mark.unit
def test_copy_csv_writes_nulls_unquoted_and_strings_quoted():
    lines = predict_step.copy_csv(_table()).decode().split("\n")
    assert lines[0] == '"plain",0.1,1,2026-01-02,2026-01-02 03:04:05.678901'
    # An empty string is "" and a null nothing: PostgreSQL's CSV format with NULL ''.
    assert lines[1] == '"",0.3333333333333333,,,'
    assert lines[2] == ",,3,1999-12-31,2026-01-02 00:00:00.000000"
    assert lines[3:5] == ['"a ""quoted"", two', 'lines",1e-300,-4,2026-12-03,']


@pytest.mark.unit
def test_copy_csv_reads_back_to_the_same_table():
    """What the writer sends and the reader parses are inverse: every double bit for bit."""
    table = _table()
    columns = [("name", 1043), ("value", 701), ("count", 20), ("day", 1082), ("at", 1114)]
    header = ",".join(name for name, _ in columns).encode() + b"\n"
    frame = predict_step.frame_from_copy(header + predict_step.copy_csv(table), columns)
    assert frame["name"].tolist()[:2] == ["plain", ""]
    assert frame["name"].isna().tolist() == [False, False, True, False]
    assert frame["name"][3] == 'a "quoted", two\nlines'
    assert frame["value"].tolist()[:2] == [0.1, 1 / 3]
    assert frame["value"][3] == 1e-300
    assert frame["count"].isna().tolist() == [False, True, False, False]
    # Dates come as datetime64, as DuckDB's .df() hands them to the dbt Python models.
    assert str(frame["day"].dtype).startswith("datetime64")
    assert frame["day"][3].date() == date(2026, 12, 3)
    assert frame["at"][0].to_pydatetime() == datetime(2026, 1, 2, 3, 4, 5, 678901)


@pytest.mark.unit
def test_frame_from_copy_refuses_a_type_it_does_not_read():
    with pytest.raises(UserError, match="oid 114"):
        predict_step.frame_from_copy(b"doc\n{}\n", [("doc", 114)])


@pytest.mark.unit
@pytest.mark.parametrize(
    ("column_type", "expected", "engine", "unreadable"),
    [
        (
            predict_step.postgres_column_type,
            {"bigint", "double precision", "varchar", "date", "timestamp"},
            "PostgreSQL",
            pa.timestamp("us", tz="UTC"),
        ),
        (
            predict_step.spark_column_type,
            {"bigint", "double", "string", "date", "timestamp"},
            "Spark",
            pa.binary(),
        ),
    ],
    ids=["postgres", "spark"],
)
def test_the_written_columns_have_the_marts_contract_types(
    column_type, expected, engine, unreadable
):
    types = {
        column_type(field.type)
        for schema in predict_step.OUTPUT_TABLES.values()
        for field in schema
    }
    assert types == expected
    with pytest.raises(UserError, match=f"no {engine} type"):
        column_type(unreadable)


@pytest.mark.unit
def test_duckdb_and_unknown_targets_are_refused_with_a_reason(capsys, monkeypatch):
    with pytest.raises(UserError, match="dbt build"):
        predict_step.warehouse_for("duckdb")
    with pytest.raises(UserError, match="choose postgres or spark"):
        predict_step.warehouse_for("snowflake")
    monkeypatch.setenv("CLV_TARGET", "duckdb")
    assert cli.main(["predict"]) == 2
    assert "fits the models itself" in capsys.readouterr().err
    assert set(predict_step.WAREHOUSES) == {"postgres", "spark"}


@pytest.mark.unit
def test_the_spark_session_opens_the_dbt_profiles_warehouse_and_metastore(monkeypatch):
    """One home for the Spark settings: profiles.yml, rendered as dbt renders it."""
    monkeypatch.setenv("CLV_SPARK_DIR", "/srv/clv-spark")
    parameters = predict_step.spark_session_parameters()
    assert parameters["spark.sql.warehouse.dir"] == "/srv/clv-spark/warehouse"
    assert parameters["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        "jdbc:derby:;databaseName=/srv/clv-spark/metastore_db;create=true"
    )
    monkeypatch.delenv("CLV_SPARK_DIR")
    assert predict_step.spark_session_parameters()["spark.sql.warehouse.dir"] == (
        "data/spark/warehouse"
    )
    parameters = {"k": "{{ env_var('NOPE') }}"}
    profile = {"p": {"outputs": {"spark": {"server_side_parameters": parameters}}}}
    with pytest.raises(UserError, match="set NOPE"):
        predict_step.spark_session_parameters(profile)


class FramesWarehouse:
    """A warehouse for :func:`clv.predict_step.run` over DuckDB: reads inputs, keeps outputs."""

    def __init__(self, database):
        self.database = database
        self.written = None

    def __str__(self):
        return "the DuckDB session warehouse"

    def read(self, relation, order_by):
        with connect_read_only(self.database) as connection:
            query = f"select * from intermediate.{relation} order by {order_by}"
            return connection.execute(query).df()

    def write(self, tables):
        self.written = dict(tables)


#: The key of each table the step writes.
KEYS = {
    "int_clv_models_fitted": ("fit_role", "model", "parameter"),
    "int_customers_scored": ("customer_id",),
    "int_customers_backtested": ("customer_id",),
    "int_clv_origins_backtested": ("calibration_end", "clock"),
}


def max_relative_differences(left: pa.Table, right: pa.Table, key: tuple[str, ...]) -> dict:
    """Per double column, max |left - right| / max(|right|, 1e-300) over the rows matched by key.

    Every other column (fitted_at aside: the time of the fit) must be equal.
    """
    rights = {tuple(row[k] for k in key): row for row in right.to_pylist()}
    lefts = left.to_pylist()
    assert len(lefts) == len(rights)
    worst: dict[str, float] = {}
    for row in lefts:
        other = rights[tuple(row[k] for k in key)]
        for field in left.schema:
            name, ours, theirs = field.name, row[field.name], other[field.name]
            if name == "fitted_at":
                continue
            if pa.types.is_floating(field.type) and ours is not None and theirs is not None:
                difference = abs(ours - theirs) / max(abs(theirs), 1e-300)
                worst[name] = max(worst.get(name, 0.0), difference)
            else:
                assert ours == theirs, (name, row, other)
    return worst


@pytest.mark.integration
def test_the_step_computes_what_the_dbt_python_models_built(warehouse):
    """On DuckDB's own inputs the step's four tables are the in-build models' (to 1e-12)."""
    target = FramesWarehouse(warehouse.database)
    result = predict_step.run(target)
    assert set(result.rows) == set(predict_step.OUTPUT_TABLES)
    assert {name: t.schema for name, t in target.written.items()} == predict_step.OUTPUT_TABLES
    assert result.rows["int_customers_scored"] > 0
    with connect_read_only(warehouse.database) as connection:
        for name, table in target.written.items():
            built = connection.execute(f"select * from intermediate.{name}").fetch_arrow_table()
            worst = max_relative_differences(table, built, KEYS[name])
            assert max(worst.values(), default=0.0) <= 1e-12, (name, worst)
