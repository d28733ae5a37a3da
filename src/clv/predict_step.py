"""``clv predict``: the probabilistic CLV fits on engines without dbt Python models.

On DuckDB the dbt Python models of ``models/intermediate/predictions/`` fit
and score inside ``dbt build``. PostgreSQL cannot run dbt Python models, so
there the same work is a step between two dbt selections (README,
"Probabilistic CLV"): it reads the four SQL inputs those models read
(:data:`INPUTS`, schema ``intermediate``), calls the same functions
(:func:`compute`: :mod:`clv.predictions` and :mod:`clv.origins`), and writes
the four tables back under the Python models' names into the schema
:data:`OUTPUT_SCHEMA`, which the dbt project declares as the source
``predictions``. The marts of ``models/marts/predictions/`` and
``int_customers_predicted`` read that source on those targets.

One writer per engine (:data:`WAREHOUSES`): :class:`PostgresPredictionWarehouse`
reads with ``COPY (select ...) TO STDOUT`` and writes with ``COPY ... FROM
STDIN`` (psycopg2's ``copy_expert``), the four tables replaced in one
transaction, so a reader never sees parameters of one run beside scores of
another. :class:`SparkPredictionWarehouse` reads with ``DataFrame.toArrow()``
and writes each table with ``saveAsTable`` (Parquet, overwritten): Spark has
no transaction over four tables, so a reader there can see one table of the
new run beside one of the last (README, "Probabilistic CLV").
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from clv import origins, predictions
from clv.errors import UserError
from clv.extras import require

__all__ = [
    "INPUTS",
    "OUTPUT_SCHEMA",
    "OUTPUT_TABLES",
    "PostgresPredictionWarehouse",
    "SparkPredictionWarehouse",
    "StepResult",
    "compute",
    "copy_csv",
    "postgres_column_type",
    "run",
    "spark_column_type",
    "spark_session_parameters",
    "warehouse_for",
]

#: Where the SQL models the fits read live (every engine builds them).
INPUT_SCHEMA = "intermediate"
#: The inputs: key -> (relation in INPUT_SCHEMA, order by). Ordered, so that a
#: run reads the same rows in the same order whatever the engine's plan.
INPUTS: Mapping[str, tuple[str, str]] = {
    "settings": ("clv_model_settings", "1"),
    "prediction": ("int_customers_summarised_for_prediction", "customer_id"),
    "backtest": ("int_customers_summarised_for_backtest", "customer_id"),
    "purchase_days": ("int_purchase_days_aggregated", "customer_id, purchase_date"),
}

#: The schema the step writes to: the dbt source ``predictions``
#: (models/marts/predictions/_predictions__sources.yml).
OUTPUT_SCHEMA = "predictions"
#: The tables it writes, named after the dbt Python models they stand in for.
OUTPUT_TABLES: Mapping[str, pa.Schema] = {
    "int_clv_models_fitted": predictions.PARAMETER_SCHEMA,
    "int_customers_scored": predictions.PREDICTION_SCHEMA,
    "int_customers_backtested": predictions.BACKTEST_SCHEMA,
    "int_clv_origins_backtested": origins.ORIGIN_SCHEMA,
}


def compute(frames: Mapping[str, pd.DataFrame]) -> dict[str, pa.Table]:
    """The four tables of :data:`OUTPUT_TABLES` from the input frames of :data:`INPUTS`.

    Exactly what the four dbt Python models compute on DuckDB, in the same
    order: the fits first, then the scores and the backtest read the fitted
    parameters back, as the models read ``int_clv_models_fitted``.
    """
    settings = predictions.Settings.from_frame(frames["settings"])
    summaries = {"prediction": frames["prediction"], "backtest": frames["backtest"]}
    parameters = predictions.parameter_table(
        summaries, settings, purchase_days=frames["purchase_days"]
    )
    parameter_frame = parameters.to_pandas()
    return {
        "int_clv_models_fitted": parameters,
        "int_customers_scored": predictions.prediction_table(
            frames["prediction"], parameter_frame, settings
        ),
        "int_customers_backtested": predictions.backtest_table(
            frames["backtest"], parameter_frame, settings
        ),
        "int_clv_origins_backtested": origins.origin_table(
            frames["purchase_days"], origins.OriginSettings.from_frame(frames["settings"])
        ),
    }


# ------------------------------------------------------------------ COPY formats


#: (Arrow type test, PostgreSQL type, Spark type) for the columns of :data:`OUTPUT_TABLES`:
#: the marts' contract types on each engine (varchar, not text, which PostgreSQL's
#: contract check rejects; Spark's TimestampType, not the timestamp_ntz a tz-less
#: Arrow timestamp would otherwise become).
_CONTRACT_TYPES = (
    (pa.types.is_int64, "bigint", "bigint"),
    (pa.types.is_integer, "integer", "int"),
    (pa.types.is_float64, "double precision", "double"),
    (pa.types.is_boolean, "boolean", "boolean"),
    (pa.types.is_date32, "date", "date"),
    (lambda t: pa.types.is_timestamp(t) and t.tz is None, "timestamp", "timestamp"),
    (pa.types.is_string, "varchar", "string"),
)


def _column_type(arrow_type: pa.DataType, engine: str) -> str:
    for matches, postgres, spark in _CONTRACT_TYPES:
        if matches(arrow_type):
            return postgres if engine == "PostgreSQL" else spark
    raise UserError(f"clv predict: no {engine} type for Arrow type {arrow_type}")


def postgres_column_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL type of a column of :data:`OUTPUT_TABLES`: the marts' contract types."""
    return _column_type(arrow_type, "PostgreSQL")


def spark_column_type(arrow_type: pa.DataType) -> str:
    """The Spark SQL type of a column of :data:`OUTPUT_TABLES`: the marts' contract types."""
    return _column_type(arrow_type, "Spark")


def copy_csv(table: pa.Table) -> bytes:
    """``table`` as the body of ``COPY ... FROM STDIN WITH (FORMAT csv, NULL '')``.

    No header; a null is an empty unquoted field and every string is quoted
    (so an empty string stays ``""``, not null); doubles are written in the
    shortest form that reads back to the same double; dates ``YYYY-MM-DD``,
    timestamps ``YYYY-MM-DD HH:MM:SS.ffffff``.
    """
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


#: Input columns PostgreSQL folds to lower case (the SQL models write them unquoted)
#: under the names clv.predictions reads, as DuckDB keeps them: the papers' T.
FOLDED_NAMES: Mapping[str, str] = {"t": "T"}

#: Arrow types for the PostgreSQL type oids the inputs use, when read with COPY.
_ARROW_TYPES_BY_OID: Mapping[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    700: pa.float64(),
    701: pa.float64(),
    1700: pa.float64(),  # numeric: the fits work in doubles
    25: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
}


def frame_from_copy(data: bytes, columns: list[tuple[str, int]]) -> pd.DataFrame:
    """A DataFrame from ``COPY ... TO STDOUT WITH (FORMAT csv, HEADER)`` output.

    ``columns`` are (name, type oid) from the query's cursor description.
    Dates and timestamps come as datetime64, as DuckDB's ``.df()`` gives them
    to the dbt Python models.
    """
    types = {}
    for name, oid in columns:
        if oid not in _ARROW_TYPES_BY_OID:
            raise UserError(f"clv predict: column {name} has a PostgreSQL type oid {oid} not read")
        types[name] = _ARROW_TYPES_BY_OID[oid]
    table = pacsv.read_csv(
        io.BytesIO(data),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    frame = table.to_pandas(date_as_object=False)
    return frame.rename(columns=FOLDED_NAMES)


# ------------------------------------------------------------------ warehouses


class PredictionWarehouse(Protocol):
    """What the step needs of an engine: read the inputs, write the outputs."""

    def read(self, relation: str, order_by: str) -> pd.DataFrame: ...

    def write(self, tables: Mapping[str, pa.Table]) -> None: ...


def _identifier(name: str) -> str:
    """A quoted PostgreSQL identifier, folded to lower case as an unquoted one would be.

    The marts select ``T`` unquoted, which PostgreSQL reads as ``t``.
    """
    return '"' + name.lower().replace('"', '""') + '"'


class PostgresPredictionWarehouse:
    """A PostgreSQL database (connection from the ``CLV_PG_*`` variables, as the dbt profile)."""

    def __init__(self, settings: Any = None) -> None:
        require("postgres", "psycopg2", what="clv predict --target postgres")
        from clv.quality.warehouses import PostgresSettings

        self.settings = settings or PostgresSettings.from_env()

    def __str__(self) -> str:
        return str(self.settings)

    def _connect(self) -> Any:
        import psycopg2

        try:
            return psycopg2.connect(connect_timeout=10, **self.settings.connection_kwargs())
        except psycopg2.Error as error:
            raise UserError(f"cannot connect to {self.settings}: {error}".strip()) from error

    def read(self, relation: str, order_by: str) -> pd.DataFrame:
        import psycopg2

        query = f"select * from {_identifier(INPUT_SCHEMA)}.{_identifier(relation)}"
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                try:
                    cursor.execute(f"{query} limit 0")
                except psycopg2.errors.UndefinedTable as error:
                    raise UserError(
                        f"{INPUT_SCHEMA}.{relation} is missing in {self.settings}: run the"
                        " first dbt selection first (README, 'Probabilistic CLV')"
                    ) from error
                columns = [(column.name, column.type_code) for column in cursor.description]
                buffer = io.BytesIO()
                cursor.copy_expert(
                    f"copy ({query} order by {order_by}) to stdout with (format csv, header)",
                    buffer,
                )
        finally:
            connection.close()
        return frame_from_copy(buffer.getvalue(), columns)

    def write(self, tables: Mapping[str, pa.Table]) -> None:
        """Replace every table of ``tables`` in :data:`OUTPUT_SCHEMA`, all in one transaction.

        A table whose columns and types are already right is truncated, not
        dropped, so the dbt views that read it (int_customers_predicted) stay;
        one whose shape changed is dropped with them (the next dbt selection
        recreates them) and created again.
        """
        schema = _identifier(OUTPUT_SCHEMA)
        connection = self._connect()
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(f"create schema if not exists {schema}")
                for name, table in tables.items():
                    relation = f"{schema}.{_identifier(name)}"
                    wanted = [
                        (field.name.lower(), postgres_column_type(field.type))
                        for field in table.schema
                    ]
                    cursor.execute(
                        "select column_name, case data_type when 'character varying'"
                        " then 'varchar' when 'timestamp without time zone' then 'timestamp'"
                        " else data_type end from information_schema.columns"
                        " where table_schema = %s and table_name = %s order by ordinal_position",
                        [OUTPUT_SCHEMA, name],
                    )
                    if [tuple(row) for row in cursor.fetchall()] == wanted:
                        cursor.execute(f"truncate table {relation}")
                    else:
                        cursor.execute(f"drop table if exists {relation} cascade")
                        columns = ", ".join(f"{_identifier(c)} {t}" for c, t in wanted)
                        cursor.execute(f"create table {relation} ({columns})")
                    names = ", ".join(_identifier(field.name) for field in table.schema)
                    cursor.copy_expert(
                        f"copy {relation} ({names}) from stdin with (format csv, null '')",
                        io.BytesIO(copy_csv(table)),
                    )
        finally:
            connection.close()


def spark_session_parameters(profiles: Any = None) -> dict[str, str]:
    """The ``server_side_parameters`` of the dbt profile's ``spark`` output, rendered.

    The step opens the same local warehouse and metastore as ``dbt build
    --target spark`` (session method) because it reads them from the one place
    they are written, profiles.yml; its ``env_var()`` calls are rendered with
    the same environment (``CLV_SPARK_DIR``).
    """
    import jinja2
    import yaml

    from clv.paths import PROJECT_DIR

    document = profiles or yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    outputs = next(iter(document.values()))["outputs"]
    missing = object()

    def env_var(name: str, default: Any = missing) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is missing:
            raise UserError(f"clv predict --target spark: set {name} (profiles.yml reads it)")
        return str(default)

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        key: environment.from_string(str(value)).render(env_var=env_var)
        for key, value in outputs["spark"].get("server_side_parameters", {}).items()
    }


class SparkPredictionWarehouse:
    """A Spark warehouse through a local session, configured as the dbt profile's ``spark``.

    In a process where dbt-spark's session method already started Spark (the
    portability test), ``getOrCreate`` returns that session. Otherwise it
    starts one on the same warehouse directory and embedded metastore, which
    Derby lets one process open at a time: run it after ``dbt build`` exits.
    """

    def __init__(self, session: Any = None) -> None:
        require("spark", "pyspark", what="clv predict --target spark")
        if session is None:
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.enableHiveSupport()
            for key, value in spark_session_parameters().items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
        self.session = session

    def __str__(self) -> str:
        warehouse = self.session.conf.get("spark.sql.warehouse.dir", "?")
        return f"Spark {self.session.version} (warehouse {warehouse})"

    def read(self, relation: str, order_by: str) -> pd.DataFrame:
        name = f"{INPUT_SCHEMA}.{relation}"
        if not self.session.catalog.tableExists(name):
            raise UserError(
                f"{name} is missing in {self}: run the first dbt selection first"
                " (README, 'Probabilistic CLV')"
            )
        table = self.session.sql(f"select * from {name} order by {order_by}").toArrow()
        # Decimals (Spark's exact division) as doubles: the fits work in doubles.
        fields = [
            pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f
            for f in table.schema
        ]
        frame = table.cast(pa.schema(fields)).to_pandas(date_as_object=False)
        return frame.rename(columns=FOLDED_NAMES)

    def write(self, tables: Mapping[str, pa.Table]) -> None:
        """Overwrite every table of ``tables`` in :data:`OUTPUT_SCHEMA` (Parquet), one by one."""
        self.session.sql(f"create database if not exists {OUTPUT_SCHEMA}")
        for name, table in tables.items():
            schema = ", ".join(
                f"`{field.name}` {spark_column_type(field.type)}" for field in table.schema
            )
            frame = self.session.createDataFrame(table.to_pandas(), schema=schema)
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"{OUTPUT_SCHEMA}.{name}")


#: The engines ``clv predict`` writes to; DuckDB fits inside ``dbt build``.
WAREHOUSES = {"postgres": PostgresPredictionWarehouse, "spark": SparkPredictionWarehouse}


def warehouse_for(target: str, **kwargs: Any) -> PredictionWarehouse:
    """The warehouse of ``target``; a :class:`UserError` for one the step does not serve."""
    if target == "duckdb":
        raise UserError(
            "clv predict is for PostgreSQL and Spark: on DuckDB `dbt build` fits the models itself"
        )
    if target not in WAREHOUSES:
        raise UserError(f"clv predict: unknown target {target!r}; choose postgres or spark")
    return WAREHOUSES[target](**kwargs)


@dataclass(frozen=True)
class StepResult:
    """What a run wrote: rows per table of :data:`OUTPUT_TABLES`."""

    warehouse: str
    rows: Mapping[str, int]


def run(warehouse: PredictionWarehouse) -> StepResult:
    """Read the inputs from ``warehouse``, fit and score, write the four tables back."""
    frames = {key: warehouse.read(relation, order) for key, (relation, order) in INPUTS.items()}
    tables = compute(frames)
    warehouse.write(tables)
    return StepResult(str(warehouse), {name: table.num_rows for name, table in tables.items()})
