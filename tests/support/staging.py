"""Which staging model holds each raw table's clean rows."""

from __future__ import annotations

from clv.contract.tables import SPECS

#: raw table -> staging model that holds its clean rows: ``stg_<source>__<table>`` for
#: every table of the raw contract (the `raw_contract` var), so a new raw table needs no
#: edit here.
STAGING_MODELS = {name: f"stg_{spec.source}__{spec.name}" for name, spec in SPECS.items()}
