"""The ``raw_contract`` var of ``dbt_project.yml``, parsed once.

dbt reads it as ``var('raw_contract')`` (``macros/quarantine.sql``); Python
reads it here. Keeping it a dbt var, not a Python module, is what lets both
sides read one declaration: dbt cannot import Python, and Jinja cannot read a
file at compile time (DECISIONLOG.md, "Raw data and staging").
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from clv.paths import PROJECT_DIR

#: The file that holds the declaration (the dbt project file).
DBT_PROJECT_YML = PROJECT_DIR / "dbt_project.yml"


@cache
def raw_contract() -> dict[str, Any]:
    """The ``vars.raw_contract`` mapping of ``dbt_project.yml`` (tables in file order)."""
    with DBT_PROJECT_YML.open() as handle:
        return yaml.safe_load(handle)["vars"]["raw_contract"]
