"""The raw tables of the contract: Arrow schema, key and rule metadata.

One :class:`TableSpec` per raw table, built from the ``tables`` of the
``raw_contract`` var in ``dbt_project.yml``. The simulator's writer casts to
:attr:`TableSpec.schema`; the raw quality gates check files against it; the
defect injector and :mod:`clv.contract.rules` read the rest (keys, the event
timestamp, references, which categorical column takes which values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from clv.contract import reference as ref
from clv.contract.declaration import raw_contract

TS = pa.timestamp("us")

#: The contract's type names and the Arrow type each means in a Parquet file.
ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "double": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "timestamp": TS,
    "date": pa.date32(),
}


@dataclass(frozen=True)
class TableSpec:
    """One raw table: where it lives, its columns and the contract rules that apply."""

    source: str
    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    #: Columns that may be null (apart from those, every column is required).
    nullable: tuple[str, ...] = ()
    #: Key columns that may be null and then count as one value (email_spend.campaign_id).
    nullable_key: tuple[str, ...] = ()
    #: The event timestamp compared with ``_loaded_at`` (None: the table has none).
    event: str | None = None
    emails: tuple[str, ...] = ()
    currency: str | None = None
    #: column -> allowed values.
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Rule 6: amounts that must be above zero, and amounts that must not be below it.
    positive: tuple[str, ...] = ()
    non_negative: tuple[str, ...] = ()
    #: Rule 7: column -> (lowest, highest) allowed value, both included.
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: column -> (referenced table, referenced column, reason code).
    references: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: Whether rule 11 (before_customer_created) applies to :attr:`event`.
    after_customer_created: bool = False
    #: The reason codes the table's base model can give, in the contract's check order.
    reasons: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """``<source>.<table>``, as in the manifest."""
        return f"{self.source}.{self.name}"

    @property
    def path(self) -> str:
        """The file's path relative to the raw dir."""
        return f"{self.source}/{self.name}.parquet"


def _spec(full_name: str, table: dict[str, Any]) -> TableSpec:
    source, name = full_name.split(".")
    return TableSpec(
        source,
        name,
        pa.schema(
            [pa.field(column, ARROW_TYPES[dtype]) for column, dtype in table["columns"].items()]
        ),
        key=tuple(table["key"]),
        nullable=tuple(table.get("nullable", ())),
        nullable_key=tuple(table.get("nullable_key", ())),
        event=table.get("event"),
        emails=tuple(table.get("emails", ())),
        currency=table.get("currency"),
        categories={
            column: ref.VALUE_SETS[value_set]
            for column, value_set in table.get("categories", {}).items()
        },
        positive=tuple(table.get("positive", ())),
        non_negative=tuple(table.get("non_negative", ())),
        ranges={column: tuple(bounds) for column, bounds in table.get("ranges", {}).items()},
        references={
            column: (*ref.REFERENCES[code], code)
            for column, code in table.get("references", {}).items()
        },
        after_customer_created=bool(table.get("after_customer_created", False)),
        reasons=tuple(table["reasons"]),
    )


#: Every raw table by ``<source>.<table>``, in the contract's (and the checks') order.
SPECS: dict[str, TableSpec] = {
    full_name: _spec(full_name, table) for full_name, table in raw_contract()["tables"].items()
}
