"""Build the warehouse on Spark and dump what the portability test compares.

Run as a subprocess by ``tests/test_spark_portability.py`` so the JVM that
dbt-spark's session method starts lives and dies with this process, and the
embedded metastore (Derby: one process at a time) is free afterwards. One
JVM for everything: ``dbt run-operation load_raw_spark`` (the raw Parquet
files as external tables), ``dbt build`` of all but the predictions, ``clv
predict``'s step, ``dbt build`` of the predictions' source and what reads it
(README, "Probabilistic CLV"), then the comparison queries, on the
SparkSession dbt created. Usage::

    python tests/spark_job.py <target_path> <out.json>

with CLV_TARGET=spark, CLV_RAW_DIR and CLV_SPARK_DIR set.
"""

from __future__ import annotations

import datetime
import decimal
import json
import sys
from pathlib import Path

from clv.dbt_runner import run_dbt
from clv.manifest import DbtManifest

#: name -> query; each returns a few rows the test compares with DuckDB.
QUERIES = {
    "rejection_summary": (
        "select source_table, raw_rows, staged_rows, rejected_rows "
        "from audit.rejection_summary order by source_table"
    ),
    "rejected_reasons": (
        "select source_table, reason, count(*) from audit.rejected_rows "
        "group by source_table, reason order by source_table, reason"
    ),
}

#: name -> query; rows of doubles the test compares with DuckDB's row by row (1e-9 relative):
#: the predictions Spark gets from ``clv predict``.
PREDICTION_QUERIES = {
    "customer_predictions": (
        "select customer_id, probability_alive, predicted_purchases_12m, predicted_clv_12m"
        " from marts.customer_clv order by customer_id"
    ),
    "model_parameters": (
        "select fit_role, model, parameter, value, standard_error, log_likelihood"
        " from marts.clv_model_parameters order by fit_role, model, parameter"
    ),
    "backtest_customers": (
        "select customer_id, predicted_holdout_purchases, predicted_holdout_spend"
        " from marts.clv_backtest_customers order by customer_id"
    ),
}


def _plain(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def main(target_path: Path, out: Path) -> int:
    load = run_dbt(["run-operation", "load_raw_spark"], target_path=target_path)
    first = run_dbt(["build", "--exclude", "source:predictions+"], target_path=target_path)
    dump: dict[str, object] = {"load_success": load.success, "predict_rows": {}}
    builds = [first]
    if first.success:
        from pyspark.sql import SparkSession

        from clv import predict_step

        # The session dbt-spark started (getOrCreate): Derby allows one process at a time.
        spark = SparkSession.builder.getOrCreate()
        step = predict_step.run(predict_step.SparkPredictionWarehouse(spark))
        dump["predict_rows"] = dict(step.rows)
        second = run_dbt(["build", "--select", "source:predictions+"], target_path=target_path)
        builds.append(second)
    dump["build_success"] = len(builds) == 2 and all(build.success for build in builds)
    dump["statuses"] = [
        (result.node.unique_id, str(result.status), str(result.message or ""))
        for build in builds
        for result in (build.result or [])
    ]
    if dump["build_success"]:
        for name, sql in {**QUERIES, **PREDICTION_QUERIES}.items():
            dump[name] = [[_plain(v) for v in row] for row in spark.sql(sql).collect()]
        sums = {}
        # Every mart of the Spark build's manifest (no hand-kept list): a new mart is compared
        # as soon as dbt builds it; one the manifest lists and Spark lacks fails here.
        marts = DbtManifest.from_dict(json.loads((target_path / "manifest.json").read_text()))
        dump["predict_inputs"] = {
            key: spark.table(f"{predict_step.INPUT_SCHEMA}.{relation}").count()
            for key, (relation, _) in predict_step.INPUTS.items()
        }
        dump["marts"] = [model.name for model in marts.in_schema("marts")]
        dump["disabled_marts"] = [
            name.split(".", 1)[1] for name in marts.disabled if name.startswith("marts.")
        ]
        for mart in dump["marts"]:
            frame = spark.table(f"marts.{mart}")
            numeric = [
                f.name
                for f in frame.schema.fields
                if f.dataType.typeName() in ("double", "float", "integer", "long", "decimal")
            ]
            columns = ["count(*) as row_count", *(f"sum(`{c}`) as `{c}`" for c in numeric)]
            row = spark.sql(f"select {', '.join(columns)} from marts.{mart}").collect()[0]
            sums[mart] = {key: _plain(value) for key, value in row.asDict().items()}
        dump["mart_sums"] = sums
    out.write_text(json.dumps(dump, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
