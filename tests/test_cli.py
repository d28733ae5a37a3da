"""The command line: clear one-line errors with exit code 2, never a stack trace."""

from __future__ import annotations

import pytest

from clv.cli import main
from clv.warehouse import connect_read_only


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "--customers", "0"], "--customers must be at least 1"),
        (["generate", "--start", "2024-02-01", "--end", "2024-01-01"], "is after --end"),
        (["generate", "--bad-rows", "0.9"], "--bad-rows must be between 0 and 0.5"),
        (["generate", "--corrupt-rows", "0.3"], "--corrupt-rows must be between 0 and 0.2"),
        (["generate", "--corrupt-rows", "-0.1"], "--corrupt-rows must be between 0 and 0.2"),
        (["generate", "--years", "3", "--start", "2024-01-01"], "--start or --years, not both"),
        (["generate", "--years", "0"], "--years must be at least 1"),
        (["summary", "--database", "/nonexistent/clv.duckdb"], "no warehouse at"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "\n" not in err
    assert "Traceback" not in err


@pytest.mark.unit
def test_bad_date_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["generate", "--start", "2024-13-01"])
    assert excinfo.value.code == 2
    assert "not an ISO date" in capsys.readouterr().err


@pytest.mark.unit
def test_years_start_on_the_first_of_the_month_that_many_years_back(tmp_path, capsys):
    import pyarrow.parquet as pq

    out = tmp_path / "raw"
    argv = ["generate", "--customers", "40", "--years", "3", "--end", "2026-12-02"]
    assert main([*argv, "--out", str(out)]) == 0
    created = pq.read_table(out / "shop" / "customers.parquet").column("created_at")
    first = min(created.to_pylist()).date()
    assert first.isoformat() >= "2023-12-01"
    assert first.isoformat() < "2024-03-01"  # 40 customers over three years: some early


@pytest.mark.unit
def test_the_rolling_origin_lines_give_each_origin_both_clocks_and_the_means():
    import duckdb

    from clv.warehouse import backtest_by_origin

    connection = duckdb.connect()
    connection.execute("create schema marts")
    assert backtest_by_origin(connection) == []
    connection.execute(
        """
        create table marts.clv_backtest_by_origin as
        select * from (values
            (date '2024-11-30', 'calendar', 1194, 0.307),
            (date '2024-11-30', 'seasonal', 1194, -0.001),
            (date '2024-12-31', 'calendar', 1257, 0.321),
            (date '2024-12-31', 'seasonal', 1257, null)
        ) as t(calibration_end, clock, actual_purchases, purchases_relative_error)
        """
    )
    assert backtest_by_origin(connection) == [
        "calibration end    actual  calendar  seasonal",
        "2024-11-30          1,194    +30.7%     -0.1%",
        "2024-12-31          1,257    +32.1%    failed",
        "calendar clock: mean |error| 31.4%, largest 32.1% over 2 origins",
        "seasonal clock: mean |error| 0.1%, largest 0.1% over 1 origin",
    ]


@pytest.mark.integration
def test_summary_prints_the_warehouse_and_its_headline_figures(warehouse, capsys):
    assert main(["summary", "--database", str(warehouse.database)]) == 0
    out = capsys.readouterr().out
    assert str(warehouse.database) in out
    customers = warehouse.manifest["tables"]["shop.customers"]["clean_rows"]
    lines = {line.split("  ")[1].strip(): line.split()[-1] for line in out.splitlines()[1:6]}
    assert lines["customers"] == f"{customers:,}"
    assert "completed orders" in out
    assert "raw rows quarantined" in out
    assert "BG/NBD next 12 months" in out
    assert "backtest purchases: predicted / actual" in out
    # The session's two years hold no rolling-origin origin: the table is left out.
    with connect_read_only(warehouse.database) as connection:
        (origins,) = connection.execute(
            "select count(*) from marts.clv_backtest_by_origin"
        ).fetchone()
    assert origins == 0
    assert "Rolling-origin backtest" not in out
