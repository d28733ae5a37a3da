"""The CDNOW data set as raw shop tables: real purchases no one here made.

CDNOW_sample.txt (shipped by lifetimes, the test-only reference of the
``[dev]`` extra) holds the purchases of 2,357 customers, a 1/10 sample of the
cohort that first bought at the online music shop CDNOW in the first quarter
of 1997, up to the end of June 1998: 6,919 lines of
``<master id> <sample id> <yyyymmdd> <CDs> <dollars>``.
Fader, Hardie & Lee (2005) fit BG/NBD to it (Marketing Science 24(2), 275–284)
and Gamma-Gamma (Journal of Marketing Research 42(4), 415–430).

:func:`write_cdnow_raw` writes it in the raw data contract
(docs/raw_data_contract.md) so the unchanged dbt project builds on it:

- ``shop.customers``: one per sample id, created on the day of the first
  purchase; CDNOW records no e-mail or channel, so a placeholder address
  ``cdnow-<id>@example.invalid`` and the channel ``direct`` stand in;
- ``shop.orders``: one per line, at noon, completed, in USD, ``order_total`` =
  the dollar amount; no tax, shipping, discount or fulfilment cost;
- ``shop.order_items``: one line per order, ``quantity`` = CDs; CDNOW records
  no cost, so ``unit_cost`` is 0 and margin equals revenue;
- every other raw table is written empty (no e-mail, loyalty or marketing
  data): those marts are empty, not broken.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from clv.contract.files import loaded_at, to_arrow, write_table
from clv.contract.tables import SPECS
from clv.errors import UserError
from clv.extras import require

#: Published window of Fader, Hardie & Lee (2005): calibration to week 39,
#: holdout to week 78.
CALIBRATION_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"

DAY = 86_400
NOON = 12 * 3_600


def cdnow_sample_path() -> Path:
    """CDNOW_sample.txt inside the installed lifetimes package (not imported).

    lifetimes comes with the ``[dev]`` extra: without it, raises
    :class:`clv.extras.MissingExtra`.
    """
    require("dev", "lifetimes", what="the CDNOW data (shipped with lifetimes)")
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise UserError("the lifetimes package has no location to read CDNOW_sample.txt from")
    path = Path(spec.origin).parent / "datasets" / "CDNOW_sample.txt"
    if not path.is_file():
        raise UserError(f"CDNOW_sample.txt not found in the lifetimes package at {path}")
    return path


def read_cdnow(path: Path) -> pd.DataFrame:
    """The transactions: customer_id (the sample id), day, cds, amount."""
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "day", "cds", "amount"],
        dtype={"master_id": "int64", "customer_id": "int64", "day": "str"},
    )
    frame["day"] = pd.to_datetime(frame["day"], format="%Y%m%d")
    if frame.isna().any().any() or (frame["amount"] < 0).any() or (frame["cds"] <= 0).any():
        raise UserError(f"{path}: unexpected empty or negative values")
    return frame[["customer_id", "day", "cds", "amount"]]


def _seconds(days: pd.Series) -> np.ndarray:
    return days.to_numpy(dtype="datetime64[s]").astype(np.int64)


def raw_tables(transactions: pd.DataFrame) -> dict[str, pa.Table]:
    """Every raw table of the contract, the shop tables filled from CDNOW."""
    first_day = transactions.groupby("customer_id")["day"].min().sort_index()
    created = _seconds(first_day)
    n_customers = len(first_day)
    customers = {
        "customer_id": first_day.index.to_numpy(),
        "email": [f"cdnow-{cid}@example.invalid" for cid in first_day.index],
        "created_at": created,
        "country": ["US"] * n_customers,
        "acquisition_channel": ["direct"] * n_customers,
        "referred_by_customer_id": pa.nulls(n_customers, pa.int64()),
        "_loaded_at": loaded_at(created),
    }
    ordered = transactions.sort_values(["day", "customer_id"], kind="stable").reset_index(drop=True)
    n_orders = len(ordered)
    order_ids = np.arange(1, n_orders + 1)
    ordered_at = _seconds(ordered["day"]) + NOON
    amount = ordered["amount"].to_numpy(dtype=np.float64)
    zeros = np.zeros(n_orders)
    orders = {
        "order_id": order_ids,
        "customer_id": ordered["customer_id"].to_numpy(),
        "ordered_at": ordered_at,
        "status": ["completed"] * n_orders,
        "currency": ["USD"] * n_orders,
        "order_total": amount,
        "discount": zeros,
        "shipping": zeros,
        "tax": zeros,
        "fulfillment_cost": zeros,
        "utm_source": pa.nulls(n_orders, pa.string()),
        "utm_campaign": pa.nulls(n_orders, pa.string()),
        "_loaded_at": loaded_at(ordered_at),
    }
    cds = ordered["cds"].to_numpy(dtype=np.int32)
    order_items = {
        "order_id": order_ids,
        "line_no": np.ones(n_orders, dtype=np.int32),
        "sku": ["CD"] * n_orders,
        "category": ["music"] * n_orders,
        "quantity": cds,
        "unit_price": amount / cds,
        "unit_cost": zeros,
        "_loaded_at": loaded_at(ordered_at),
    }
    filled = {
        "shop.customers": to_arrow("shop.customers", customers),
        "shop.orders": to_arrow("shop.orders", orders),
        "shop.order_items": to_arrow("shop.order_items", order_items),
    }
    return {name: filled.get(name, spec.schema.empty_table()) for name, spec in SPECS.items()}


def write_cdnow_raw(out: Path, source: Path | None = None) -> dict[str, int]:
    """Write the CDNOW raw tables under ``out``; returns rows per table."""
    transactions = read_cdnow(source or cdnow_sample_path())
    counts = {}
    for name, table in raw_tables(transactions).items():
        write_table(table, out / SPECS[name].path)
        counts[name] = table.num_rows
    return counts


#: dbt vars of the CDNOW build: the published windows, weeks as days / 7.
DBT_VARS = {
    "calibration_end": CALIBRATION_END,
    "holdout_end": HOLDOUT_END,
    "as_of_date": HOLDOUT_END,
    "clv_time_unit": "week",
}

#: Published maximum-likelihood estimates for CDNOW_sample (calibration to week 39):
#: BG/NBD, Fader, Hardie & Lee (2005a), section 5 (LL = -9582.4); Gamma-Gamma on
#: the 946 repeat customers, Fader & Hardie (2013), "The Gamma-Gamma Model of
#: Monetary Value", p. 4.
PUBLISHED = {
    ("bg_nbd", "r"): 0.243,
    ("bg_nbd", "alpha"): 4.414,
    ("bg_nbd", "a"): 0.793,
    ("bg_nbd", "b"): 2.426,
    ("gamma_gamma", "p"): 6.25,
    ("gamma_gamma", "q"): 3.74,
    ("gamma_gamma", "gamma"): 15.44,
}


def build_cdnow_warehouse(raw_dir: Path, database: Path, target_path: Path) -> dict[str, int]:
    """Write the CDNOW raw tables to ``raw_dir`` and ``dbt build`` them into ``database``.

    Returns the raw row counts; raises :class:`UserError` naming the failed
    nodes when the build fails.
    """
    import json

    from clv.dbt_runner import run_dbt

    counts = write_cdnow_raw(raw_dir)
    database.parent.mkdir(parents=True, exist_ok=True)
    result = run_dbt(
        ["build", "--vars", json.dumps(DBT_VARS)],
        # Always DuckDB (the dbt Python models fit here), whatever CLV_TARGET the shell exports.
        env={"CLV_TARGET": "duckdb", "CLV_RAW_DIR": str(raw_dir), "CLV_DUCKDB_PATH": str(database)},
        target_path=target_path,
    )
    if not result.success:
        failed = [
            f"{r.node.name}: {r.message}"
            for r in result.result
            if str(r.status) not in ("success", "pass", "warn")
        ]
        raise UserError("dbt build on CDNOW failed: " + "; ".join(failed))
    return counts
