"""``clv calc``: the discounted CLV calculator on the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from clv.cli import main
from clv.formulas import discounted_clv

pytestmark = pytest.mark.unit

SMALL_FIRM_ARGV = [
    "calc",
    "--purchases-per-year",
    "10",
    "--spend-per-purchase",
    "200",
    "--gross-margin",
    "0.41",
    "--marketing-cost",
    "20",
    "--acquisition-rate",
    "0.02",
    "--retention-rate",
    "0.8",
]
LARGE_FIRM_ARGV = [
    "calc",
    "--purchases-per-year",
    "3",
    "--spend-per-purchase",
    "400",
    "--gross-margin",
    "0.5",
    "--marketing-cost",
    "20",
    "--acquisition-rate",
    "0.04",
    "--retention-rate",
    "0.8",
]


def with_flag(argv: list[str], flag: str, value: str) -> list[str]:
    """``argv`` with ``flag`` set to ``value`` (replaced if present, else appended)."""
    if flag in argv:
        argv = list(argv)
        argv[argv.index(flag) + 1] = value
        return argv
    return [*argv, flag, value]


def run_json(argv: list[str], capsys) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_table_reproduces_small_firm_example(capsys):
    assert main(SMALL_FIRM_ARGV) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[-1] == "CLV: 699.28"
    year_rows = [line.split() for line in lines if line[:4].strip().isdigit()]
    assert [row[0] for row in year_rows] == ["1", "2", "3", "4", "5"]
    assert year_rows[0][-2:] == ["581.82", "-418.18"]
    assert year_rows[-1][-2:] == ["162.77", "699.28"]
    assert "1,000.00" in out  # the acquisition cost 20 / 0.02


def test_table_reproduces_large_firm_example(capsys):
    assert main(LARGE_FIRM_ARGV) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "CLV: 731.98"


@pytest.mark.parametrize(
    ("argv", "kwargs", "rounded"),
    [
        (SMALL_FIRM_ARGV, {"purchases_per_year": 10, "spend_per_purchase": 200, "gross_margin": 0.41, "acquisition_rate": 0.02}, 699.28),  # noqa: E501
        (LARGE_FIRM_ARGV, {"purchases_per_year": 3, "spend_per_purchase": 400, "gross_margin": 0.5, "acquisition_rate": 0.04}, 731.98),  # noqa: E501
    ],
)  # fmt: skip
def test_json_clv_equals_the_formula(argv, kwargs, rounded, capsys):
    payload = run_json(argv, capsys)
    expected = discounted_clv(
        **kwargs, marketing_cost=20, retention_rate=0.8, discount_rate=0.1, years=5
    )
    assert payload["clv"] == expected.clv
    assert round(payload["clv"], 2) == rounded
    assert payload["method"] == "discounted_clv"
    assert payload["inputs"] == {
        **{key: float(value) for key, value in kwargs.items()},
        "marketing_cost": 20.0,
        "retention_rate": 0.8,
        "discount_rate": 0.1,
        "years": 5,
    }
    assert payload["acquisition_cost"] == pytest.approx(expected.acquisition_cost)
    assert [row["year"] for row in payload["years"]] == [1, 2, 3, 4, 5]
    assert payload["years"][-1]["cumulative_clv"] == payload["clv"]
    for row, expected_row in zip(payload["years"], expected.rows, strict=True):
        assert row == {
            "year": expected_row.year,
            "survival": expected_row.survival,
            "discount_factor": expected_row.discount_factor,
            "expected_contribution": expected_row.expected_contribution,
            "cumulative_clv": expected_row.cumulative_clv,
        }


def test_defaults_are_ten_percent_and_five_years(capsys):
    defaults = run_json(SMALL_FIRM_ARGV, capsys)
    explicit = run_json([*SMALL_FIRM_ARGV, "--discount-rate", "0.10", "--years", "5"], capsys)
    assert defaults == explicit
    assert defaults["inputs"]["discount_rate"] == 0.1
    assert len(defaults["years"]) == 5


def test_one_year_by_hand(capsys):
    payload = run_json([*SMALL_FIRM_ARGV, "--years", "1"], capsys)
    assert payload["clv"] == pytest.approx(800 * 0.8 / 1.1 - 1000)
    assert len(payload["years"]) == 1


def test_clv_rises_with_retention_and_falls_with_discount_rate(capsys):
    by_retention = [
        run_json(with_flag(SMALL_FIRM_ARGV, "--retention-rate", r), capsys)["clv"]
        for r in ("0.5", "0.8", "0.9")
    ]
    assert by_retention == sorted(by_retention)
    by_discount = [
        run_json(with_flag(SMALL_FIRM_ARGV, "--discount-rate", d), capsys)["clv"]
        for d in ("0", "0.1", "0.3")
    ]
    assert by_discount == sorted(by_discount, reverse=True)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--purchases-per-year", "-1", "--purchases-per-year must be 0 or more, got -1"),
        ("--spend-per-purchase", "-200", "--spend-per-purchase must be 0 or more"),
        ("--spend-per-purchase", "nan", "--spend-per-purchase must be a finite number"),
        ("--gross-margin", "1.5", "--gross-margin must be between 0 and 1"),
        ("--gross-margin", "41", "--gross-margin must be between 0 and 1 (a fraction: 0.41 for 41 %)"),  # noqa: E501
        ("--marketing-cost", "-20", "--marketing-cost must be 0 or more"),
        ("--marketing-cost", "inf", "--marketing-cost must be a finite number"),
        ("--acquisition-rate", "0", "--acquisition-rate must be more than 0 and at most 1, got 0"),
        ("--acquisition-rate", "2", "--acquisition-rate must be more than 0 and at most 1"),
        ("--retention-rate", "1.01", "--retention-rate must be between 0 and 1"),
        ("--retention-rate", "-0.1", "--retention-rate must be between 0 and 1"),
        ("--discount-rate", "-0.05", "--discount-rate must be 0 or more"),
        ("--years", "0", "--years must be between 1 and 100, got 0"),
        ("--years", "101", "--years must be between 1 and 100, got 101"),
    ],
)  # fmt: skip
def test_invalid_input_is_one_line_naming_the_flag(flag, value, message, capsys):
    assert main(with_flag(SMALL_FIRM_ARGV, flag, value)) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(f"clv calc: error: {message}")
    assert "\n" not in err
    assert "Traceback" not in err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (with_flag(SMALL_FIRM_ARGV, "--retention-rate", "high"), "argument --retention-rate: invalid float value: 'high'"),  # noqa: E501
        (with_flag(SMALL_FIRM_ARGV, "--years", "2.5"), "argument --years: invalid int value: '2.5'"),  # noqa: E501
        (SMALL_FIRM_ARGV[:-2], "the following arguments are required: --retention-rate"),
        (["calc"], "the following arguments are required: --purchases-per-year"),
    ],
)  # fmt: skip
def test_argparse_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_installed_command_exits_2_without_traceback():
    argv = with_flag(SMALL_FIRM_ARGV, "--retention-rate", "80")
    completed = subprocess.run(
        [sys.executable, "-m", "clv.cli", *argv], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.strip() == (
        "clv calc: error: --retention-rate must be between 0 and 1 "
        "(a fraction: 0.8 for 80 %), got 80"
    )


def test_help_documents_defaults_and_example(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["calc", "--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert "default: 0.10" in out
    assert "default: 5" in out
    assert "CLV 699.28" in out
