"""int_customers_backtested: predicted against actual holdout purchases and spend.

Thin by design: the formulas live in clv.btyd and clv.predictions (tested
there); this reads the refs and calls them. The mart clv_backtest_customers
publishes this table and the mart clv_backtest summarises it.
"""

from clv import predictions


def model(dbt, session):
    dbt.config(materialized="table")
    settings = predictions.Settings.from_frame(dbt.ref("clv_model_settings").df())
    summary = dbt.ref("int_customers_summarised_for_backtest").df()
    parameters = dbt.ref("int_clv_models_fitted").df()
    return predictions.backtest_table(summary, parameters, settings)
