"""Frontier benchmark: 1,000 exemption combinations over a generated 1,000,000-line ledger.

Prints the time of the incremental frontier (the ledger reduced to distinct rule signatures; 2n+2 probe
evaluations on all signatures; then each combination evaluates only the signature groups it changes that
no earlier combination or probe has evaluated) and, measured in the same run on a few sample combinations
and extrapolated, the speed-up over (a) evaluating every combination on all signatures (the previous
frontier) and (b) re-running the full ledger evaluation per combination. ``--reference`` also runs the
previous frontier on every combination (``incremental=False``) and checks the scores agree.

    python benchmarks/bench_frontier.py [--rows 1000000] [--combos 1000] [--workers N] [--full-samples 3]
                                        [--reference]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl
import yaml

from carveout.scenarios.compile import compile_chain
from carveout.scenarios.diff import evaluate_scenario
from carveout.scenarios.frontier import _compile, _score, combo_scenario, frontier, load_candidates
from carveout.scenarios.model import chain, load

FABS = [  # facility, end-user HQ, end use, end-user name
    ("SAMSUNG-XIAN", "KR", "advanced_node_nand_fab", "Samsung China Semiconductor Co. Ltd."),
    ("SKH-WUXI", "KR", "advanced_node_dram_fab", "SK hynix Semiconductor (China) Ltd."),
    ("SKH-DALIAN", "KR", "advanced_node_nand_fab", "SK hynix Semiconductor (Dalian) Co., Ltd."),
    ("TSMC-NANJING", "TW", "advanced_node_logic_fab", "TSMC (Nanjing) Co., Ltd."),
    ("TSMC-SONGJIANG", "TW", "mature_node_fab", "TSMC (China) Co., Ltd."),
    ("YMTC-WUHAN", "CN", "advanced_node_nand_fab", "Yangtze Memory Technologies Co., Ltd."),
    ("CXMT-HEFEI", "CN", "advanced_node_dram_fab", "ChangXin Memory Technologies"),
    ("HUAHONG-WUXI-FAB7", "CN", "mature_node_fab", "Hua Hong Semiconductor (Wuxi)"),
]
ECCNS = ["3B001.c", "3B001.d", "3B001.f.1", "3B002.c", "3B993.f.1", "3B994", "3B991", "EAR99"]
EXPORTERS = [("Applied Materials", "US", "US"), ("Lam Research", "US", "US"), ("KLA Corporation", "US", "US"),
             ("Tokyo Electron Ltd.", "JP", "JP"), ("ASML Netherlands B.V.", "NL", "NL"),
             ("SEMES Co., Ltd.", "KR", "KR")]


def _pick(values: list, seed: int) -> pl.Expr:
    """A pseudo-random choice per row (hash of the row index), reproducible without numpy."""
    idx = (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed) % len(values)).cast(pl.Int64)
    return pl.lit(pl.Series(values)).gather(idx)


def _uniform(seed: int) -> pl.Expr:
    return (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed) % 1_000_000).cast(pl.Float64) / 1_000_000


def generate(n: int, seed: int = 7) -> pl.DataFrame:
    fab = (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed) % len(FABS)).cast(pl.Int64)
    exp = (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed + 1) % len(EXPORTERS)).cast(pl.Int64)

    def col(values: list, idx: pl.Expr) -> pl.Expr:
        return pl.lit(pl.Series(values)).gather(idx)

    days = (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed + 2) % 365).cast(pl.Int64)
    return pl.DataFrame({"_": pl.Series([0] * n, dtype=pl.Int8)}).select(
        date=pl.lit(date(2026, 1, 1)) + pl.duration(days=days),
        exporter=col([e[0] for e in EXPORTERS], exp),
        exporter_hq_country=col([e[1] for e in EXPORTERS], exp),
        ship_from=col([e[2] for e in EXPORTERS], exp),
        transaction_type=pl.lit("export"),
        item_kind=pl.lit("equipment"),
        eccn_declared=_pick(ECCNS, seed + 3),
        destination=pl.lit("CN"),
        end_user_country=pl.lit("CN"),
        facility_id=col([f[0] for f in FABS], fab),
        end_user_hq_country=col([f[1] for f in FABS], fab),
        end_use=col([f[2] for f in FABS], fab),
        end_user_name=col([f[3] for f in FABS], fab),
        end_user_listed=col([f[0] in ("YMTC-WUHAN", "CXMT-HEFEI") for f in FABS], fab),
        entity_list_footnote=pl.lit(0, dtype=pl.Int8),
        end_user_affiliate_of_listed=pl.lit(False),  # ownership known: the Affiliates rule is back from 2026-11-10
        us_origin=_uniform(seed + 4) < 0.6,
        us_controlled_content_pct=_pick([0.0, 10.0, 30.0], seed + 5),
        direct_product_of_us_technology=_uniform(seed + 6) < 0.5,
        contains_us_ic=_uniform(seed + 7) < 0.5,
        value_usd=(pl.lit(10_000.0) + _uniform(seed + 8) * 5_000_000.0).round(2),
    )


def candidates_file(folder: Path) -> Path:
    cands = [
        {"id": f"veu_{site.lower()}", "list_edits": {"veu": [{"action": "grant", "site": site, "items": ["*"]}]}}
        for site in ("SAMSUNG-XIAN", "SKH-WUXI", "SKH-DALIAN", "TSMC-NANJING")
    ] + [
        {"id": "allied_maintenance", "rules": [{
            "id": "allied_maintenance", "effect": "authorize", "label": "allied fab maintenance",
            "when": "end_user_hq_country in ['KR', 'TW', 'JP', 'US'] and eccn not in ['3B001.f.1']",
            "overcomes": ["part742.", "part744.23."]}]},
        {"id": "mature_fabs", "rules": [{
            "id": "mature_fabs", "effect": "authorize", "label": "mature-node fabs",
            "when": "end_use == 'mature_node_fab'", "overcomes": ["part742.", "part744.23."]}]},
        {"id": "drop_3b993_3b994", "params": {"sme_rs_specified_eccns": []}},
        {"id": "delist_cxmt", "list_edits": {"entity_list": [
            {"action": "remove", "name": "ChangXin Memory Technologies"}]}},
        {"id": "delist_huahong", "list_edits": {"entity_list": [
            {"action": "remove", "name": "Hua Hong Semiconductor (Wuxi)"}]}},
        {"id": "litho_carveout", "rules": [{
            "id": "litho_carveout", "effect": "authorize", "label": "DUV lithography for allied fabs",
            "when": "eccn in ['3B001.f.1'] and end_user_hq_country in ['KR', 'TW']",
            "overcomes": ["part742.", "part744.23."]}]},
    ]
    p = folder / "candidates.yaml"
    p.write_text(yaml.safe_dump({"candidates": cands, "max_combinations": 1000}, sort_keys=False))
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--combos", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--full-samples", type=int, default=3)
    ap.add_argument("--executor", default="local")
    ap.add_argument("--reference", action="store_true", help="also run the non-incremental frontier in full")
    args = ap.parse_args()

    t = time.perf_counter()
    ledger = generate(args.rows)
    print(f"generated {ledger.height:,} rows in {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sc_path = folder / "revoked.yaml"
        sc_path.write_text(yaml.safe_dump({"name": "bench_revoked", "effective": "2027-01-01"}))
        cpath = candidates_file(folder)
        cands = load_candidates(cpath)
        cands = cands.model_copy(update={"max_combinations": args.combos})
        day = date(2027, 3, 1)

        t = time.perf_counter()
        res = frontier(ledger, sc_path, cands, as_of=day, executor=args.executor, workers=args.workers,
                       screen=False)
        t_front = time.perf_counter() - t
        st = res.stats
        combos = st["combinations"]
        print(f"incremental frontier: {combos:,} combinations x {st['signatures']:,} signatures "
              f"({st['rows']:,} rows), {args.executor} executor, up to {st['workers']} worker(s): {t_front:.1f} s "
              f"(prepare + probes {st['prepare_s']:.1f} s, combinations {st['evaluate_s']:.2f} s); "
              f"{st['signature_groups']} signature groups, {st['evaluations']} evaluations "
              f"({st['signatures_evaluated']:,} signature evaluations, "
              f"{st['signatures_evaluated'] / (combos * st['signatures']):.1%} of one per combination and "
              f"signature); {len(res.frontier)} Pareto points")

        sc = load(sc_path)
        base_chain = chain(sc)
        picks = [(), tuple(range(len(cands.candidates)))] + [(i,) for i in range(len(cands.candidates))]
        picks = picks[: max(1, args.full_samples)]
        # (a) The previous frontier: one evaluation of each combination on ALL signatures (same signature
        # frame as the incremental run: every column any candidate reads), serial, this process.
        from carveout.scenarios import frontier as fmod

        prepared = fmod.prepare(ledger, False).with_columns(_year=pl.col("date").dt.year())
        rulesets = [_compile(base_chain, cands.candidates, c).ruleset for c in picks]
        sig = fmod.signatures(prepared, rulesets, day).with_columns(
            _controlled=pl.lit(True), _d5=pl.lit(True), _allied=pl.lit(True))
        sig_samples = []
        for combo in picks:
            compiled = _compile(base_chain, cands.candidates, combo)
            t = time.perf_counter()
            _score(sig, compiled, day)
            sig_samples.append(time.perf_counter() - t)
        per_sig = sum(sig_samples) / len(sig_samples)
        # (b) Full evaluation of every ledger row per combination.
        samples = []
        for combo in picks:
            compiled = compile_chain(base_chain + [combo_scenario(sc, [cands.candidates[i] for i in combo])])
            t = time.perf_counter()
            out = evaluate_scenario(ledger, compiled, day, screen=False)
            _ = out.select((pl.col("value_usd") * (pl.col("license_required") == "yes")).sum()).item()
            samples.append(time.perf_counter() - t)
        per_full = sum(samples) / len(samples)

        per_combo = t_front / combos
        print(f"incremental, per combination: {per_combo * 1000:.1f} ms wall including preparation and probes; "
              f"{st['evaluate_s'] / combos * 1000:.2f} ms after them")
        print(f"previous frontier (all signatures per combination), per combination: {per_sig * 1000:.0f} ms "
              f"(mean of {len(sig_samples)}, this process) x {combos:,} = {per_sig * combos:,.0f} s estimated "
              f"-> speed-up {per_sig / per_combo:,.0f}x")
        print(f"full ledger evaluation, per combination: {per_full:.2f} s (mean of {len(samples)}, this process) "
              f"x {combos:,} = {per_full * combos:,.0f} s estimated -> speed-up {per_full / per_combo:,.0f}x")
        if args.reference:
            t = time.perf_counter()
            ref = frontier(ledger, sc_path, cands, as_of=day, executor=args.executor, workers=args.workers,
                           screen=False, incremental=False)
            t_ref = time.perf_counter() - t
            a = res.points.sort("exemptions")
            b = ref.points.sort("exemptions")
            worst = max(abs(x - y) / max(abs(y), 1.0) for col in ("security_kept_usd", "relief_usd")
                        for x, y in zip(a[col].to_list(), b[col].to_list(), strict=True))
            print(f"reference (previous frontier, every combination on all signatures): {t_ref:.1f} s "
                  f"({t_ref / combos * 1000:.0f} ms per combination) -> measured speed-up {t_ref / t_front:,.1f}x; "
                  f"largest relative score difference {worst:.1e}")


if __name__ == "__main__":
    main()
