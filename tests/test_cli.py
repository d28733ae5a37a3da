"""The command line: clear one-line errors with exit code 2, never a stack trace."""

from __future__ import annotations

import pytest

from clv.cli import main


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "--customers", "0"], "--customers must be at least 1"),
        (["generate", "--start", "2024-02-01", "--end", "2024-01-01"], "is after --end"),
        (["generate", "--bad-rows", "0.9"], "--bad-rows must be between 0 and 0.5"),
        (["generate", "--corrupt-rows", "0.3"], "--corrupt-rows must be between 0 and 0.2"),
        (["generate", "--corrupt-rows", "-0.1"], "--corrupt-rows must be between 0 and 0.2"),
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
