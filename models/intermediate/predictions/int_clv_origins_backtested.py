"""int_clv_origins_backtested: the rolling-origin backtest, both clocks.

Thin by design: the origins, fits and figures live in clv.origins (tested
there); this reads the refs and calls it. The mart clv_backtest_by_origin
publishes this table.
"""

from clv import origins


def model(dbt, session):
    dbt.config(materialized="table")
    settings = origins.OriginSettings.from_frame(dbt.ref("clv_model_settings").df())
    purchase_days = dbt.ref("int_purchase_days_aggregated").df()
    return origins.origin_table(purchase_days, settings)
