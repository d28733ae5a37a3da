"""int_customers_scored: each customer's P(alive), expected purchases and value.

Thin by design: the formulas live in clv.btyd and clv.predictions (tested
there); this reads the refs and calls them. The mart customer_clv_predictions
publishes this table; int_customers_predicted hands three of its columns to
customer_clv.
"""

from clv import predictions


def model(dbt, session):
    dbt.config(materialized="table")
    settings = predictions.Settings.from_frame(dbt.ref("clv_model_settings").df())
    summary = dbt.ref("int_customers_summarised_for_prediction").df()
    parameters = dbt.ref("int_clv_models_fitted").df()
    return predictions.prediction_table(summary, parameters, settings)
