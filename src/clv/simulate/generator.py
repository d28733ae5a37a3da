"""``generate``: simulate the raw tables, corrupt them, add defects, write Parquet and manifest."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from clv.contract import reference as ref
from clv.contract.rules import classify, summarize
from clv.contract.tables import SPECS
from clv.simulate.assemble import World, raw_tables
from clv.simulate.calendar import Window
from clv.simulate.corruption import corrupt
from clv.simulate.customers import simulate_customers
from clv.simulate.defects import inject
from clv.simulate.email import (
    attribute_orders,
    simulate_campaigns,
    simulate_email_spend,
    simulate_sends,
    simulate_subscribers,
)
from clv.simulate.loyalty import (
    simulate_members,
    simulate_nps,
    simulate_points,
    simulate_referrals,
)
from clv.simulate.marketing import simulate_marketing_spend
from clv.simulate.orders import CATEGORIES, CATEGORY_SHARE, simulate_orders
from clv.simulate.writer import write_manifest, write_table

#: Independent random streams, spawned from the seed in this order (never reorder).
STREAMS = (
    "customers",
    "orders",
    "email",
    "attribution",
    "loyalty",
    "marketing",
    "defects",
    "corruption",
)


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.Generator(np.random.PCG64(child))
        for name, child in zip(STREAMS, children, strict=True)
    }


def simulate(customers: int, start: date, end: date, seed: int) -> tuple[dict[str, pa.Table], dict]:
    """The clean raw tables (contract schema) and the facts the defect injector needs."""
    window = Window.from_dates(start, end)
    rng = _streams(seed)
    rates = ref.currency_rates()
    currencies = tuple(rates)
    usd_per_unit = np.array([rates[c] for c in currencies])

    people = simulate_customers(
        customers, window, len(CATEGORIES), CATEGORY_SHARE, rng["customers"]
    )
    orders, items, refunds, catalog = simulate_orders(
        people, window, currencies, usd_per_unit, rng["orders"]
    )
    first_order_at = np.full(len(people), -1, dtype=np.int64)
    first_order_at[orders.customer[orders.is_first]] = orders.ordered_at[orders.is_first]

    subscribers = simulate_subscribers(people, first_order_at, window, rng["email"])
    campaigns = simulate_campaigns(window, rng["email"])
    sends = simulate_sends(subscribers, campaigns, rng["email"])
    email_spend = simulate_email_spend(window, subscribers, campaigns, rates, rng["email"])
    attribute_orders(orders, subscribers, sends, len(people), rng["attribution"])

    members = simulate_members(people, orders, first_order_at, usd_per_unit, window, rng["loyalty"])
    points = simulate_points(members, orders, len(people), window, rng["loyalty"])
    nps = simulate_nps(people, orders, window, rng["loyalty"])
    # Person keys (which make e-mail addresses unique): customers, then subscribers, then invitees.
    next_person_key = len(people) + len(subscribers.subscriber_id) + 1
    referrals = simulate_referrals(people, first_order_at, next_person_key, window, rng["loyalty"])
    next_person_key += len(referrals.referral_id)
    marketing = simulate_marketing_spend(window, people, orders, email_spend, rng["marketing"])

    world = World(
        currencies=currencies,
        customers=people,
        orders=orders,
        items=items,
        refunds=refunds,
        catalog=catalog,
        subscribers=subscribers,
        campaigns=campaigns,
        sends=sends,
        email_spend=email_spend,
        marketing=marketing,
        members=members,
        points=points,
        nps=nps,
        referrals=referrals,
    )
    facts = {
        "window": window,
        "created_us": people.created_at * 1_000_000,
        "next_person_key": next_person_key,
        "defects_rng": rng["defects"],
        "corruption_rng": rng["corruption"],
    }
    return raw_tables(world), facts


def generate(
    customers: int,
    start: date,
    end: date,
    seed: int,
    out: Path | str,
    bad_rows: float = 0.0,
    verbose: bool = False,
    corrupt_rows: float = 0.0,
) -> dict:
    """Simulate the raw data set, write ``out/<source>/<table>.parquet`` and ``out/_manifest.json``.

    Deterministic for a given ``seed`` and arguments. With ``corrupt_rows`` > 0
    about ``corrupt_rows`` × clean rows of every table are damaged in place or
    deleted (see :mod:`clv.simulate.corruption`); with ``bad_rows`` > 0 about
    ``bad_rows`` × clean rows defective rows are appended to every table (see
    :mod:`clv.simulate.defects`, built from the clean rows). Rows neither
    touches stay identical. The manifest's ``expected_rejections`` is
    :func:`clv.contract.rules.classify` on the written tables. Returns the manifest.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if not 0.0 <= bad_rows <= 0.5:
        raise ValueError("bad_rows must be between 0 and 0.5")
    if not 0.0 <= corrupt_rows <= 0.2:
        raise ValueError("corrupt_rows must be between 0 and 0.2")
    began = time.perf_counter()
    out = Path(out)
    tables, facts = simulate(customers, start, end, seed)
    simulated = time.perf_counter()
    defects, counts = inject(
        tables,
        bad_rows,
        facts["window"],
        facts["created_us"],
        facts["next_person_key"],
        facts["defects_rng"],
    )
    corrupted = corrupt(tables, corrupt_rows, facts["created_us"], facts["corruption_rng"])
    written = {}
    for name, spec in SPECS.items():
        kept, bad = corrupted.tables[name], defects[name]
        written[name] = pa.concat_tables([kept, bad]) if bad.num_rows else kept
        write_table(written[name], out / spec.path)
    expected = summarize(classify(written))
    manifest_tables = {}
    for name, spec in SPECS.items():
        clean = tables[name]
        corruptions = corrupted.counts(name)
        manifest_tables[name] = {
            "path": spec.path,
            "clean_rows": clean.num_rows,
            "defect_rows": defects[name].num_rows,
            "defects": {reason: n for reason, n in counts[name].items() if n},
            "corrupted_rows": sum(corruptions.values()),
            "corruptions": corruptions,
            "deleted_rows": clean.num_rows - corrupted.tables[name].num_rows,
            "expected_rejections": expected[name],
        }
    manifest = {
        "seed": seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "customers": customers,
        "bad_rows": bad_rows,
        "corrupt_rows": corrupt_rows,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "tables": manifest_tables,
    }
    write_manifest(manifest, out)
    if verbose:
        elapsed = time.perf_counter() - began
        print(f"Generated {customers:,} customers, {start} to {end}, seed {seed}, into {out}/")
        width = max(len(name) for name in manifest_tables)
        for name, entry in manifest_tables.items():
            extra = f"  (+{entry['defect_rows']:,} defective)" if entry["defect_rows"] else ""
            if entry["corrupted_rows"] or entry["deleted_rows"]:
                extra += (
                    f"  ({entry['corrupted_rows']:,} corrupted, {entry['deleted_rows']:,} deleted)"
                )
            print(f"  {name:<{width}}  {entry['clean_rows']:>12,} rows{extra}")
        print(
            f"Done in {elapsed:.1f} s (simulate {simulated - began:.1f} s, "
            f"defects, checks and write {elapsed - (simulated - began):.1f} s)."
        )
    return manifest


__all__ = ["generate", "simulate"]
