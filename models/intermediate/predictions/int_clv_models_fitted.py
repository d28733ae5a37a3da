"""int_clv_models_fitted: BG/NBD and Gamma-Gamma fitted in the warehouse.

Thin by design: the numerics and the table's shape live in clv.btyd and
clv.predictions (tested there); this reads the refs and calls them. The mart
clv_model_parameters publishes this table; int_customers_scored and
int_customers_backtested read it.
"""

from clv import predictions


def model(dbt, session):
    dbt.config(materialized="table")
    settings = predictions.Settings.from_frame(dbt.ref("clv_model_settings").df())
    summaries = {
        "prediction": dbt.ref("int_customers_summarised_for_prediction").df(),
        "backtest": dbt.ref("int_customers_summarised_for_backtest").df(),
    }
    purchase_days = dbt.ref("int_purchase_days_aggregated").df()
    return predictions.parameter_table(summaries, settings, purchase_days=purchase_days)
