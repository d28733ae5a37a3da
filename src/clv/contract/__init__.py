"""The raw data contract, declared once: the ``raw_contract`` var of ``dbt_project.yml``.

dbt's staging macros and YAML tests read that block at compile time; this
package reads the same block for Python: the simulator (``clv generate``), the
raw quality gates (``clv validate --layer raw``), the CDNOW loader and the test
fixtures. Modules: :mod:`~clv.contract.declaration` (the block, parsed),
:mod:`~clv.contract.tables` (one :class:`~clv.contract.tables.TableSpec` per raw
table, with its Arrow schema), :mod:`~clv.contract.reference` (value sets, reason
codes, the email regex, currency rates), :mod:`~clv.contract.rules` (a reference
implementation of the rejection rules) and :mod:`~clv.contract.files` (Parquet
files in the contract's shape). ``docs/raw_data_contract.md`` explains it.
"""

from clv.contract.tables import SPECS, TableSpec

__all__ = ["SPECS", "TableSpec"]
