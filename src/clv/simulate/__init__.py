"""The raw-data simulator behind ``clv generate``: a consumer of the raw contract.

It writes one Parquet file per raw table of the contract (:mod:`clv.contract`,
explained in ``docs/raw_data_contract.md``) plus a ``_manifest.json``. Modules:
:mod:`~clv.simulate.customers`, :mod:`~clv.simulate.orders`,
:mod:`~clv.simulate.email`, :mod:`~clv.simulate.loyalty`,
:mod:`~clv.simulate.marketing` simulate the clean data (pure numpy, no I/O);
:mod:`~clv.simulate.assemble` turns it into the contract's tables;
:mod:`~clv.simulate.corruption` damages rows in place and deletes a few
parents; :mod:`~clv.simulate.defects` appends rule-breaking rows;
:func:`clv.contract.rules.classify` says what staging should reject;
:mod:`~clv.simulate.writer` writes the files and :mod:`~clv.simulate.generator`
runs it all."""

from clv.simulate.generator import generate

__all__ = ["generate"]
