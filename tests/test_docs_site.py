"""`make docs`: one static HTML file with the models, their columns and the exposures.

``dbt docs generate --static`` on a copy of the session warehouse (it opens the
file to read the catalog) writes ``static_index.html``, which embeds the
manifest and the catalog: the README tells readers to open that file, so the
test reads what it embeds rather than trusting that it was written.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.support.dbt import run_dbt, warehouse_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docs_site(warehouse, tmp_path_factory) -> str:
    directory = tmp_path_factory.mktemp("docs_site")
    database = directory / "clv.duckdb"
    shutil.copy2(warehouse.database, database)
    target = directory / "target"
    run_dbt(
        ["docs", "generate", "--static"],
        env=warehouse_env(warehouse.raw_dir, database),
        target_path=target,
    )
    return (target / "static_index.html").read_text()


def embedded(page: str, name: str) -> dict:
    """The JSON document (``manifest`` or ``catalog``) the static page inlines."""
    # dbt's page holds them as a JavaScript object literal: {manifest:{...},catalog:{...}}
    match = re.search(r"[{,]" + name + r":(\{\"metadata\")", page)
    assert match, f"static_index.html embeds no {name}"
    document, _ = json.JSONDecoder().raw_decode(page, match.start(1))
    return document


def test_docs_site_shows_every_exposure_and_what_it_reads(docs_site, warehouse):
    manifest = embedded(docs_site, "manifest")
    built = json.loads((warehouse.target_path / "manifest.json").read_text())
    assert set(manifest["exposures"]) == set(built["exposures"])
    assert {"exposure.clv_warehouse.semantic_layer"} <= set(manifest["exposures"])
    for exposure in manifest["exposures"].values():
        assert exposure["depends_on"]["nodes"], exposure["name"]
        assert exposure["description"].strip(), exposure["name"]


def test_docs_site_catalog_has_every_mart_with_its_columns(docs_site, warehouse):
    catalog = embedded(docs_site, "catalog")
    built = json.loads((warehouse.target_path / "manifest.json").read_text())
    marts = {
        unique_id: node
        for unique_id, node in built["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    assert marts
    missing = [
        unique_id
        for unique_id, node in marts.items()
        if set(catalog["nodes"].get(unique_id, {}).get("columns", {})) != set(node["columns"])
    ]
    assert missing == []
