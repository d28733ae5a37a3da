"""Which extra provides what: the one place clv code asks for an optional dependency.

``pip install -e .`` installs the core: dbt with DuckDB, the numerics and
great-expectations, everything ``make demo`` runs. The other packages come in
extras, pinned in ``pyproject.toml`` (the only place that names a version);
README.md's "Installing" section says which command needs which extra.
:data:`EXTRAS` says which modules each extra makes importable.

Code that needs one calls :func:`require` before it imports the module; a
missing extra is a :class:`MissingExtra` (a :class:`~clv.errors.UserError`),
which the command line prints as one line naming the extra to install, with
exit code 2, never an ImportError traceback::

    from clv.extras import require

    require("orchestration", what="clv.orchestration")
    import dagster
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from clv.errors import UserError

#: Extra -> the modules it makes importable (those clv code imports). Each name
#: is an extra of pyproject.toml's ``[project.optional-dependencies]``
#: (tests/test_extras.py holds the two to each other).
EXTRAS: Mapping[str, tuple[str, ...]] = {
    # dbt-postgres (with psycopg2) and GX's SQL data source: `clv validate --target postgres`.
    "postgres": ("psycopg2", "sqlalchemy"),
    # dbt-spark's session method, pyspark in-process.
    "spark": ("pyspark", "dbt.adapters.spark"),
    # The semantic layer (MetricFlow's `mf` on the dbt project) and the SQLAlchemy
    # dialect BI tools read the published file with.
    "semantic": ("dbt_metricflow", "metricflow", "duckdb_engine", "sqlalchemy"),
    # The Dagster code location clv.orchestration.
    "orchestration": ("dagster", "dagster_dbt", "dagster_webserver"),
    # Tests and lint, lifetimes (`clv cdnow`'s data, scripts/bench_clv.py's reference) and
    # Playwright (the dashboard's browser test, screenshot and benchmark; clv.dashboard.browser).
    "dev": ("lifetimes", "playwright", "pytest"),
}


class MissingExtra(UserError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, extra: str, missing: tuple[str, ...], what: str | None = None) -> None:
        self.extra = extra
        self.missing = missing
        needs = f"{what} needs" if what else "this needs"
        names = ", ".join(missing)
        super().__init__(
            f"{needs} the [{extra}] extra ({names} not installed): pip install -e '.[{extra}]'"
        )


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (only its parent packages)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or hidden (``None``)
        return False


def missing(extra: str, *modules: str) -> tuple[str, ...]:
    """The modules of ``extra`` (all it provides, or just ``modules``) that are not installed."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}: expected one of {', '.join(EXTRAS)}")
    return tuple(module for module in modules or EXTRAS[extra] if not installed(module))


def require(extra: str, *modules: str, what: str | None = None) -> None:
    """Raise :class:`MissingExtra` unless ``extra``'s modules (or just ``modules``) are installed.

    ``what`` names what needs them, for the message (``"--target postgres"``,
    ``"clv cdnow"``). The modules are found, not imported: importing them is
    the caller's business, and stays as lazy as it was.
    """
    absent = missing(extra, *modules)
    if absent:
        raise MissingExtra(extra, absent, what)


@contextmanager
def hidden(*modules: str) -> Iterator[None]:
    """Make ``import <module>`` fail inside the block, for modules not imported yet.

    For a library that imports an optional package at import time only to
    support it if present (great-expectations imports pyspark that way, see
    :mod:`clv.quality`): inside the block it behaves as if the package were
    not installed. A ``None`` entry in ``sys.modules`` is how Python spells
    that (the import raises ImportError); the entries are removed after the
    block, so a later real ``import`` in the same process works. A module
    already imported is left alone: hiding it would save nothing.
    """
    hide = [module for module in modules if module not in sys.modules]
    for module in hide:
        sys.modules[module] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for module in hide:
            if module in sys.modules and sys.modules[module] is None:
                del sys.modules[module]
