"""What a dbt build says it built: the models of its ``target/manifest.json``.

The quality gates (:mod:`clv.quality.warehouse_suites`) and the Spark parity
test take the list of marts and staging models, their columns and declared
types from here, so a new model is covered as soon as dbt builds it. Reads
the JSON only: no dbt import, no great-expectations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from clv.errors import UserError

#: The schemas whose models get a suite, and the name prefix a model needs there.
CHECKED_SCHEMAS = {"staging": "stg_", "marts": ""}


@dataclass(frozen=True)
class ModelContract:
    """What the manifest says one model builds: its relation and its declared columns.

    ``schema`` is the model's schema as the project names it (its ``+schema``,
    such as ``marts``), ``built_in`` the schema dbt built it into: the same,
    except for the marts on PostgreSQL, built into ``marts_build`` until
    ``clv publish --target postgres`` renames that schema to ``marts``
    (macro generate_schema_name).
    """

    schema: str
    name: str
    #: column -> declared data_type (None when the YAML declares none), in YAML order.
    columns: dict[str, str | None]
    contract_enforced: bool = False
    #: ``"source.table"`` of the one source the model is built from (stg_ models), else None.
    source: str | None = None
    #: Why the model may be empty (its YAML's ``config.meta.may_be_empty``), else None.
    may_be_empty: str | None = None
    #: The schema dbt built it into (default: ``schema``).
    built_in: str | None = None
    #: The roles its ``grants`` config lets SELECT it (PostgreSQL's marts: clv_bi).
    select_grantees: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.built_in is None:
            object.__setattr__(self, "built_in", self.schema)

    @property
    def relation_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class DbtManifest:
    """The models and sources of one dbt build, read from its ``manifest.json``."""

    path: Path | None
    models: tuple[ModelContract, ...]
    #: ``"source.table"`` of every source of the project.
    sources: tuple[str, ...] = ()
    #: ``"schema.name"`` of the project's models disabled on this build's target.
    disabled: tuple[str, ...] = ()

    def built_in(self, schema: str) -> str:
        """The schema dbt built the models of ``schema`` into (``schema`` if it has none).

        Raises :class:`UserError` when they were built into more than one.
        """
        built = {model.built_in for model in self.models if model.schema == schema}
        if len(built) > 1:
            raise UserError(
                f"the models of schema {schema} were built into several schemas: "
                f"{', '.join(sorted(map(str, built)))}"
            )
        return str(built.pop()) if built else schema

    def in_schema(self, schema: str) -> list[ModelContract]:
        """The models built into ``schema`` that get a suite, sorted by name."""
        prefix = CHECKED_SCHEMAS.get(schema, "")
        return sorted(
            (m for m in self.models if m.schema == schema and m.name.startswith(prefix)),
            key=lambda m: m.name,
        )

    @classmethod
    def from_dict(cls, document: Mapping, path: Path | None = None) -> DbtManifest:
        """Parse a manifest document: the project's enabled, non-ephemeral models."""
        project = document.get("metadata", {}).get("project_name")
        nodes = document.get("nodes", {})
        sources = document.get("sources", {})

        def own(node: Mapping) -> bool:
            return project is None or node.get("package_name") == project

        def source_of(unique_id: str, seen: frozenset[str] = frozenset()) -> set[str]:
            if unique_id in sources:
                source = sources[unique_id]
                return {f"{source['source_name']}.{source['name']}"}
            node = nodes.get(unique_id)
            if node is None or unique_id in seen or node.get("resource_type") != "model":
                return set()
            found: set[str] = set()
            for parent in node.get("depends_on", {}).get("nodes", []):
                # Another staging model is a reference (base_ models join them to decide
                # rejections), not the source this model stages.
                if nodes.get(parent, {}).get("name", "").startswith("stg_"):
                    continue
                found |= source_of(parent, seen | {unique_id})
            return found

        models = []
        for unique_id, node in nodes.items():
            config = node.get("config", {})
            if (
                node.get("resource_type") != "model"
                or not own(node)
                or not config.get("enabled", True)
                or config.get("materialized") == "ephemeral"
            ):
                continue
            from_sources = source_of(unique_id)
            models.append(
                ModelContract(
                    # The +schema it is configured with (marts), where dbt built it.
                    schema=config.get("schema") or node["schema"],
                    built_in=node["schema"],
                    name=node.get("alias") or node["name"],
                    columns={
                        column.get("name", key): column.get("data_type")
                        for key, column in node.get("columns", {}).items()
                    },
                    contract_enforced=bool(config.get("contract", {}).get("enforced")),
                    source=next(iter(from_sources)) if len(from_sources) == 1 else None,
                    may_be_empty=config.get("meta", {}).get("may_be_empty"),
                    select_grantees=_grantees(config.get("grants"), "select"),
                )
            )
        disabled = sorted(
            f"{node['schema']}.{node.get('alias') or node['name']}"
            for versions in document.get("disabled", {}).values()
            for node in versions
            if node.get("resource_type") == "model" and own(node)
        )
        return cls(
            path,
            tuple(models),
            tuple(sorted(f"{s['source_name']}.{s['name']}" for s in sources.values() if own(s))),
            tuple(disabled),
        )


def _grantees(grants: object, privilege: str) -> tuple[str, ...]:
    """The roles of a node's ``grants`` config for ``privilege`` (a role or a list of them)."""
    if not isinstance(grants, Mapping):
        return ()
    roles = grants.get(privilege) or ()
    return (roles,) if isinstance(roles, str) else tuple(roles)


def load_manifest(path: Path) -> DbtManifest:
    """The manifest of the build being validated (``target/manifest.json``)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"no dbt manifest at {path}: run `dbt build` (it writes target/manifest.json) "
            "or pass --manifest"
        )
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read the dbt manifest {path}: {error}") from error
    return DbtManifest.from_dict(document, path)


# ---------------------------------------------------------------- column types

#: Spellings of one type across engines and information_schema, by canonical name.
_TYPE_SYNONYMS = {
    "double": ("double precision", "double", "float8", "float"),
    "real": ("real", "float4"),
    "text": ("varchar", "character varying", "text", "string", "char", "character"),
    "integer": ("integer", "int", "int4", "signed"),
    "bigint": ("bigint", "int8", "long"),
    "smallint": ("smallint", "int2", "short"),
    "hugeint": ("hugeint", "int128"),
    "boolean": ("boolean", "bool"),
    "date": ("date",),
    "timestamp": ("timestamp", "timestamp without time zone", "datetime", "timestamp_ntz"),
    "timestamptz": ("timestamp with time zone", "timestamptz"),
    "decimal": ("decimal", "numeric"),
}
_CANONICAL = {
    spelling: name for name, spellings in _TYPE_SYNONYMS.items() for spelling in spellings
}


def canonical_type(data_type: str) -> str:
    """One name per type whatever the engine's spelling: ``DOUBLE`` = ``double precision``.

    Lower-cased, without length or precision (``varchar(64)``, ``decimal(18,3)``).
    """
    bare = re.sub(r"\(.*\)", "", data_type).strip().lower()
    bare = re.sub(r"\s+", " ", bare)
    return _CANONICAL.get(bare, bare)
