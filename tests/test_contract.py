"""The raw contract is declared once (the ``raw_contract`` var of dbt_project.yml).

Fast checks, no dbt and no data: the contract is consistent with itself; the
page that explains it (docs/raw_data_contract.md) and the dbt sources say what
it declares; the base models' hand-written conditions of rules 1, 2, 6 and 7
test its columns, and the engine-specific email patterns of macros/cross_db.sql
are its regex; the simulator and the tiny fixture only use reasons it gives;
production code reads it from :mod:`clv.contract`, not from the simulator.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from clv.contract import reference as ref
from clv.contract.tables import SPECS
from clv.paths import PROJECT_DIR
from clv.simulate.defects import REASONS as INJECTED_REASONS
from tests.fixtures import make_tiny_raw

pytestmark = pytest.mark.unit

CONTRACT_MD = PROJECT_DIR / "docs" / "raw_data_contract.md"
#: The rule-10 codes (a reference to a row that is not clean).
REFERENCE_CODES = set(ref.REFERENCES)


def _document() -> str:
    return CONTRACT_MD.read_text()


def test_the_documents_reason_table_is_the_contracts_in_its_order():
    codes = []
    for line in _document().splitlines():
        match = re.match(r"^\| (\d+) \| (.+?) \|", line)
        if match:
            codes.extend(re.findall(r"`(\w+)`", match.group(2)))
    assert tuple(codes) == ref.REASONS


def test_the_documents_categorical_values_are_the_contracts():
    """Every "(string: a / b)" of the tables table is the column's value set, and back."""
    documented = {}
    for line in _document().splitlines():
        match = re.match(r"^\| (\w+\.\w+) \| [^|]+ \| (.+) \|$", line)
        if not match or match.group(1) == "source.table":
            continue
        for column, values in re.findall(r"(\w+) \(string: ([\w /]+)\)", match.group(2)):
            documented[(match.group(1), column)] = tuple(values.split(" / "))
    declared = {
        (name, column): values
        for name, spec in SPECS.items()
        for column, values in spec.categories.items()
        if values != ref.CHANNELS
    }
    assert documented == declared
    listed = re.search(r"take\n`([^`]+)`", _document()).group(1)
    assert tuple(listed.split(", ")) == ref.CHANNELS
    channel_columns = {
        (name, column)
        for name, spec in SPECS.items()
        for column, values in spec.categories.items()
        if values == ref.CHANNELS
    }
    assert channel_columns == {
        ("shop.customers", "acquisition_channel"),
        ("marketing.marketing_spend", "channel"),
    }


@pytest.mark.parametrize("name", list(SPECS))
def test_each_tables_reasons_follow_from_its_rules(name):
    """A table's reason codes are in check order and match the rules its spec declares."""
    spec = SPECS[name]
    assert list(spec.reasons) == [code for code in ref.REASONS if code in spec.reasons]
    columns = spec.schema.names
    assert set(spec.key) | set(spec.nullable) <= set(columns)
    assert set(spec.nullable_key) <= set(spec.key) & set(spec.nullable)
    for always in ("null_key", "null_required_value", "duplicate_key"):
        assert always in spec.reasons
    implied = {
        "invalid_email": bool(spec.emails),
        "unknown_currency": spec.currency is not None,
        "unknown_value": bool(spec.categories),
        "future_timestamp": spec.event is not None,
        "before_customer_created": spec.after_customer_created,
        "non_positive_amount": bool(spec.positive or spec.non_negative),
        "score_out_of_range": bool(spec.ranges),
    }
    assert set(spec.positive) | set(spec.non_negative) | set(spec.ranges) <= set(columns)
    for code, applies in implied.items():
        assert (code in spec.reasons) == applies, code
    referenced = {code for _, _, code in spec.references.values()}
    assert set(spec.reasons) & REFERENCE_CODES == referenced
    for table, column, _ in spec.references.values():
        assert column in SPECS[table].schema.names


def test_only_the_rules_that_compare_rows_are_listed_by_hand():
    """What no column attribute implies: the rules a table's own base model adds."""
    own = {
        name: set(spec.reasons)
        - {"null_key", "null_required_value", "duplicate_key", "invalid_email"}
        - {"unknown_currency", "unknown_value", "future_timestamp", "before_customer_created"}
        - {"non_positive_amount", "score_out_of_range"}
        - REFERENCE_CODES
        for name, spec in SPECS.items()
    }
    assert {name: codes for name, codes in own.items() if codes} == {
        "shop.refunds": {"refund_exceeds_order"},
        "loyalty.loyalty_points": {"redemption_exceeds_balance", "expiry_exceeds_balance"},
    }


def test_the_simulator_and_the_tiny_fixture_use_only_the_contracts_reasons():
    assert set(INJECTED_REASONS) == set(SPECS)
    for name, reasons in INJECTED_REASONS.items():
        assert set(reasons) <= set(SPECS[name].reasons), name
    for name, make_rows in make_tiny_raw.TABLES.items():
        given = {reason for reason, _ in make_rows() if reason is not None}
        assert given <= set(SPECS[name].reasons), name


def _macro_body(name: str) -> str:
    text = (PROJECT_DIR / "macros" / "cross_db.sql").read_text()
    return re.search(r"\{% macro " + name + r"\(.*?%\}(.*?)\{%- endmacro %\}", text, re.S).group(1)


EMAILS = [
    "alice@example.com",
    "Bob@Example.co.uk",
    "a.b+c@sub.domain.org",
    "no-at-sign.example.com",
    "two@@example.com",
    "a@b@example.com",
    "space in@example.com",
    "tab\t@example.com",
    "nodot@example",
    "trailing@example.",
    "dot.at.end@example.com.",
    "@example.com",
    "local@.com",
    "",
]


def test_the_email_patterns_of_every_engine_are_the_contracts_regex():
    """Spark's pattern is the contract's, DuckDB's and PostgreSQL's accept the same addresses."""
    spark = re.search(r"rlike '(.+?)'", _macro_body("spark__is_valid_email")).group(1)
    assert spark.replace("\\\\", "\\") == ref.EMAIL_REGEX
    duckdb_pattern = re.search(
        r"regexp_full_match\(\{\{ expression \}\}, '(.+?)'\)", _macro_body("duckdb__is_valid_email")
    ).group(1)
    postgres = re.search(r"~ '(.+?)'", _macro_body("default__is_valid_email")).group(1)
    assert postgres == f"^{duckdb_pattern}$"
    contract = re.compile(ref.EMAIL_REGEX)
    expected = [contract.search(email) is not None for email in EMAILS]
    assert any(expected) and not all(expected)
    actual = [
        duckdb.sql(
            "select regexp_full_match($email, $pattern)",
            params={"email": email, "pattern": duckdb_pattern},
        ).fetchone()[0]
        for email in EMAILS
    ]
    assert actual == expected


#: Modules that may import the simulator: the simulator itself, `clv generate` and the
#: scale benchmark (`make bench`), which generates its data sets.
MAY_IMPORT_THE_SIMULATOR = {"simulate", "commands/generate.py", "bench.py"}


def test_production_code_reads_the_contract_not_the_simulator():
    package = PROJECT_DIR / "src" / "clv"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if (
            relative in MAY_IMPORT_THE_SIMULATOR
            or relative.split("/")[0] in MAY_IMPORT_THE_SIMULATOR
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(name == "clv.simulate" or name.startswith("clv.simulate.") for name in names):
                offenders.append(relative)
    assert offenders == []


def test_every_base_model_serialises_its_rows_by_the_contract():
    """No base model lists its raw columns or its key again: the *_of macros read the contract.

    The model that reads a raw table's source() serialises it (the loyalty
    points' is base_loyalty__loyalty_points_checked, which the ledger walk reads);
    a base model that reads no source serialises nothing."""
    found = {}
    for path in sorted((PROJECT_DIR / "models" / "staging").glob("*/base/base_*.sql")):
        text = path.read_text()
        assert "raw_record(" not in text, path.name
        assert "record_key(" not in text, path.name
        sources = re.findall(r"source\('(\w+)', '(\w+)'\)", text)
        serialised = re.findall(r"(?:raw_record|record_key)_of\('([\w.]+)'\)", text)
        if not sources:
            assert serialised == [], path.name
            continue
        assert len(sources) == 1, path.name
        found[".".join(sources[0])] = serialised
    assert found == {name: [name, name] for name in SPECS}


def test_the_dbt_sources_document_the_contracts_columns():
    """Each source table's YAML describes exactly the contract's columns, in file order."""
    documented = {}
    for path in sorted((PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                columns = [column["name"] for column in table["columns"]]
                documented[f"{source['name']}.{table['name']}"] = columns
    assert documented == {name: spec.schema.names for name, spec in SPECS.items()}


def _checking_model(spec) -> Path:
    """The base model that reads the raw table's source() and checks its rows."""
    folder = PROJECT_DIR / "models" / "staging" / spec.source / "base"
    reads = f"source('{spec.source}', '{spec.name}')"
    [path] = [path for path in folder.glob("base_*.sql") if reads in path.read_text()]
    return path


def _null_checked(text: str, reason: str) -> set[str]:
    """The columns whose null gives ``reason`` in a base model's row checks, as aliases."""
    block = re.search(r"when\s+((?:(?!when).)*?)\s+then '" + reason + "'", text, re.S).group(1)
    return set(re.findall(r"(?:renamed\.)?(\w+) is null", block))


@pytest.mark.parametrize("name", list(SPECS))
def test_each_base_model_checks_the_contracts_keys_and_required_columns(name):
    """Rules 1 and 2 in SQL null-check exactly the key and the required columns of the contract."""
    spec = SPECS[name]
    text = _checking_model(spec).read_text()
    raw_of = {
        alias: raw
        for raw, alias in re.findall(
            r"\{\{ (?:dbt\.safe_cast|hash_email)\('(\w+)'[^}]*\}\}\s+as (\w+)", text
        )
    }
    key = set(spec.key) - set(spec.nullable_key)
    required = set(spec.schema.names) - set(spec.key) - set(spec.nullable)
    assert {raw_of[alias] for alias in _null_checked(text, "null_key")} == key
    assert {raw_of[alias] for alias in _null_checked(text, "null_required_value")} == required


@pytest.mark.parametrize("name", list(SPECS))
def test_each_base_model_checks_the_contracts_amounts_and_ranges(name):
    """Rules 6 and 7 in SQL test exactly the contract's positive, non-negative, ranged columns."""
    spec = SPECS[name]
    text = _checking_model(spec).read_text()
    raw_of = {
        alias: raw
        for raw, alias in re.findall(r"\{\{ dbt\.safe_cast\('(\w+)'[^}]*\}\}\s+as (\w+)", text)
    }
    positive, non_negative, ranges = set(), set(), {}
    amounts = re.search(r"when\s+((?:(?!when).)*?)\s+then 'non_positive_amount'", text, re.S)
    if amounts:
        positive = {raw_of[a] for a in re.findall(r"(?:renamed\.)?(\w+) <= 0\b", amounts.group(1))}
        non_negative = {
            raw_of[a] for a in re.findall(r"(?:renamed\.)?(\w+) < 0\b", amounts.group(1))
        }
    scores = re.search(r"when (\w+) < (\d+) or \1 > (\d+) then 'score_out_of_range'", text)
    if scores:
        ranges = {raw_of[scores.group(1)]: (int(scores.group(2)), int(scores.group(3)))}
    assert positive == set(spec.positive)
    assert non_negative == set(spec.non_negative)
    assert ranges == spec.ranges
