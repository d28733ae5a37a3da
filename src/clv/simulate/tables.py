"""Compatibility name: the raw tables now live in :mod:`clv.contract.tables`.

``clv.quality.warehouse_suites`` still imports ``clv.simulate.tables.SPECS``
(another change rewrites that module); nothing else should.
"""

from clv.contract.tables import SPECS, TS, TableSpec

__all__ = ["SPECS", "TS", "TableSpec"]
