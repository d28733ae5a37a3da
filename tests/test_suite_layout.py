"""The test suite's own rules: no test module imports another (or conftest).

What modules share lives in tests/support/ (or tests/fixtures/, pg_server.py,
spark_job.py: helpers, not test modules). The tiers are checked at collection
by tests/conftest.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).parent
#: Imports between test modules still there, each with the change that removes it: none.
CROSS_IMPORT_EXCEPTIONS: set[str] = set()


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules_of(root: Path) -> list[Path]:
    return sorted(root.glob("test_*.py"))


def cross_imports(root: Path) -> list[str]:
    """``module imports other`` for each test module importing a test module or conftest."""
    names = {path.stem for path in modules_of(root)} | {"conftest"}
    return [
        f"{path.name} imports {module}"
        for path in modules_of(root)
        for module in sorted(imported_modules(path))
        if module.split(".")[-1] in names and module.split(".")[0] in ("tests", *names)
    ]


def test_no_test_module_imports_another():
    assert len(modules_of(TESTS)) >= 25
    found = set(cross_imports(TESTS))
    assert found - CROSS_IMPORT_EXCEPTIONS == set(), "move what they share to tests/support/"
    assert CROSS_IMPORT_EXCEPTIONS - found == set(), "stale exceptions: remove them"


def test_a_test_module_importing_another_is_found(tmp_path):
    (tmp_path / "test_a.py").write_text("X = 1\n")
    (tmp_path / "test_b.py").write_text("def f():\n    from tests.test_a import X\n")
    (tmp_path / "test_c.py").write_text("from tests.conftest import SIM_END\n")
    (tmp_path / "test_d.py").write_text("from tests.support.dbt import run_dbt\n")
    assert cross_imports(tmp_path) == [
        "test_b.py imports tests.test_a",
        "test_c.py imports tests.conftest",
    ]
