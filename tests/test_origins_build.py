"""clv_backtest_by_origin built by dbt equals clv.origins on the same purchase days.

The session's simulated raw data cover two years, too short for the default
12 + 12 months, so this builds the mart and its parents with six months of
calibration and six of holdout, then recomputes the table in Python from the
build's own int_purchase_days_aggregated and clv_model_settings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clv import origins
from clv.warehouse import connect_read_only
from tests.support.dbt import run_dbt, warehouse_env

pytestmark = pytest.mark.scale


def test_the_built_mart_is_the_rolling_origin_table_of_its_purchase_days(
    simulated_raw, tmp_path: Path
):
    raw_dir, _ = simulated_raw
    database = tmp_path / "clv.duckdb"
    run_dbt(
        [
            "build",
            "--select",
            "+clv_backtest_by_origin",
            "--indirect-selection",
            "cautious",
            "--vars",
            "{backtest_min_calibration_months: 6, backtest_holdout_months: 6}",
        ],
        env=warehouse_env(raw_dir, database),
        target_path=tmp_path / "target",
    )
    with connect_read_only(database) as connection:
        built = connection.execute(
            "select * from marts.clv_backtest_by_origin order by calibration_end, clock"
        ).df()
        purchase_days = connection.execute(
            "select * from intermediate.int_purchase_days_aggregated"
        ).df()
        settings = origins.OriginSettings.from_frame(
            connection.execute("select * from intermediate.clv_model_settings").df()
        )
    assert (settings.min_calibration_months, settings.holdout_months) == (6, 6)
    # Two years, six + six months: about a year of origins, each on both clocks.
    assert len(built) >= 2 * 10
    assert set(built["clock"]) == {"calendar", "seasonal"}
    assert built["fit_status"].str.startswith("converged").all()
    expected = origins.origin_table(purchase_days, settings).to_pandas()
    expected = expected.sort_values(["calibration_end", "clock"]).reset_index(drop=True)
    assert list(built.columns) == list(expected.columns)
    for frame in (built, expected):
        for column in ("calibration_end", "holdout_end"):
            frame[column] = pd.to_datetime(frame[column])
    pd.testing.assert_frame_equal(built, expected, check_dtype=False, rtol=1e-9)
