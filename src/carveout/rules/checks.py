"""Rule-set checks in the spirit of Catala's solver, by enumeration over the thresholds' grid: for each
version of the classification rules, every item with all facts known gets exactly one answer."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import polars as pl

from carveout.engine import BASELINE, evaluate
from carveout.rules.registry import F

TPP = [0.0, 1000.0, 1599.99, 1600.0, 2399.99, 2400.0, 3000.0, 4799.99, 4800.0, 4800.01, 21000.0]
PD = [0.5, 1.59, 1.6, 2.5, 3.19, 3.2, 4.0, 5.91, 5.92, 5.93, 30.0]
IO = [0.0, 599.99, 600.0, 900.0]
MBD = [1.0, 2.0, 2.01, 3.3, 10.0]
KINDS = ["ic", "computer", "hbm", "equipment", "other"]


def grid() -> pl.DataFrame:
    rows = [
        dict(item_kind=k, tpp=t, performance_density=pd, die_area_mm2=(t / pd if pd else None),
             marketed_for_datacenter=dc, interconnect_gb_s=io, memory_bandwidth_density_gb_s_mm2=m)
        for k, t, pd, dc, io, m in itertools.product(KINDS, TPP, PD, [True, False], IO, MBD)
    ]
    return pl.DataFrame(rows)


def versions() -> list[date]:
    """The first day of each distinct set of classification rules (plus a day before the first)."""
    days = {r.effective for r in BASELINE.rules if r.stage == "classify" and r.effective}
    days |= {r.until + timedelta(days=1) for r in BASELINE.rules if r.stage == "classify" and r.until}
    return [min(days) - timedelta(days=1), *sorted(days)]


def verify_classification() -> list[dict]:
    g = grid()
    report = []
    for day in versions():
        res = evaluate(g, as_of=day, screen=False)
        active = [r for r in BASELINE.rules if r.stage == "classify" and r.active(day)]
        p = BASELINE.params(day)
        labels: dict[str, list] = {}
        for r in active:
            labels.setdefault(r.yields or r.id, []).append(r.body(F, p))
        per_label = [pl.any_horizontal(exprs).fill_null(False).cast(pl.UInt8) for exprs in labels.values()]
        hits = res.select(n=pl.sum_horizontal(per_label) if per_label else pl.lit(0, pl.UInt8))
        overlaps = int((hits["n"] > 1).sum())
        gaps = int(res["eccn"].is_null().sum())
        report.append({"from": day, "items": g.height, "overlaps": overlaps, "gaps": gaps})
    return report
