"""Screening speed against a brute-force scan, in the same run, on the held-out test queries.

    python benchmarks/bench_screening.py [--queries eval/screening/test.csv] [--limit 400] [--brute 150]
                                         [--frame 4000]

Brute force = rapidfuzz token_set_ratio of every query against every listed name and alias (lower-cased,
punctuation stripped), top hit taken: the baseline a blocking index has to beat. The machine is shared, so the
figures that carry over between runs are the ratios to brute force measured in the same run, and rates per
CPU-second (process CPU time, which other processes' load distorts less than wall clock). The load average is
printed before and after.

* single names, cold: every cache (normalisation, query forms, token comparisons) cleared first;
* single names, warm: the same names again with the caches filled (blocking and scoring still run per name);
* screen_frame: N distinct synthetic names (seeded typos of listed names) in 1 process and with 2 workers.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process, utils

from carveout.screening import Screener
from carveout.screening.screener import clear_caches

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval" / "screening"))


def _rates(n: int, t0: float, c0: float, children0=None) -> tuple[float, float]:
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if children0 is not None:
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (ch.ru_utime - children0.ru_utime) + (ch.ru_stime - children0.ru_stime)
    return n / wall, n / max(cpu, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", default=str(ROOT / "eval" / "screening" / "test.csv"))
    ap.add_argument("--limit", type=int, default=400)
    ap.add_argument("--brute", type=int, default=150, help="queries for the (slow) brute-force baseline")
    ap.add_argument("--frame", type=int, default=4000, help="distinct names for screen_frame")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}; cpus {os.cpu_count()}")
    with open(args.queries, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)][: args.limit]

    t = time.perf_counter()
    s = Screener(index_path=None, ownership=None)
    build = time.perf_counter() - t
    s.screen("华为技术有限公司")  # load the lazy resources (jieba dictionary, glossaries) before timing
    s.screen("조선련봉총회사")
    parties = s.plist.parties
    ids = parties["party_id"].to_list()
    choices: list[str] = []
    owner: list[int] = []
    for i, (name, aliases) in enumerate(zip(parties["name"].to_list(), parties["aliases"].to_list(), strict=True)):
        for text in [name, *(aliases or [])]:
            choices.append(utils.default_process(text))
            owner.append(i)

    clear_caches()
    t, c = time.perf_counter(), time.process_time()
    ours = [s.screen(r["query"], r["country"] or None, limit=1) for r in rows]
    cold, cold_cpu = _rates(len(rows), t, c)
    t, c = time.perf_counter(), time.process_time()
    for r in rows:
        s.screen(r["query"], r["country"] or None, limit=1)
    warm, warm_cpu = _rates(len(rows), t, c)

    sub = rows[: args.brute]
    t, c = time.perf_counter(), time.process_time()
    brute = [process.extractOne(utils.default_process(r["query"]), choices, scorer=fuzz.token_set_ratio) for r in sub]
    brute_rate, brute_cpu = _rates(len(sub), t, c)

    def ok_ours(r: dict[str, str], res) -> bool:
        return bool(res.matches) and res.status != "clear" and res.matches[0].party_id in r["expected_party_ids"]

    def ok_brute(r: dict[str, str], hit) -> bool:
        return hit is not None and ids[owner[hit[2]]] in r["expected_party_ids"].split("|")

    pos = [i for i, r in enumerate(sub) if r["expected_party_ids"]]
    rec_ours = sum(ok_ours(sub[i], ours[i]) for i in pos) / len(pos)
    rec_brute = sum(ok_brute(sub[i], brute[i]) for i in pos) / len(pos)
    print(
        f"list {len(parties):,} parties / {len(choices):,} names+aliases; index build {build:.2f}s; "
        f"{len(rows)} test queries (brute force on the first {len(sub)})"
    )
    print(f"single, cold   : {cold:8,.0f} names/s  ({cold_cpu:,.0f} per CPU-s)")
    print(f"single, warm   : {warm:8,.0f} names/s  ({warm_cpu:,.0f} per CPU-s)")
    print(f"brute force    : {brute_rate:8,.1f} names/s  ({brute_cpu:,.1f} per CPU-s)  (token_set_ratio, top-1)")
    print(f"recall on the brute-force subset: carveout {rec_ours:.4f}, brute force {rec_brute:.4f}")
    print(f"ratio cold/brute {cold_cpu / brute_cpu:,.1f}x, warm/brute {warm_cpu / brute_cpu:,.1f}x (CPU time)")

    if args.frame:
        from evaluate import synthetic_names

        names = synthetic_names(s, args.frame)
        frame = pl.DataFrame(
            {"name": names, "country": [None] * len(names)}, schema={"name": pl.String, "country": pl.String}
        )
        for workers in (1, 2):
            clear_caches()
            ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t, c = time.perf_counter(), time.process_time()
            out = s.screen_frame(frame, workers=workers)
            rate, rate_cpu = _rates(len(names), t, c, ch0)
            assert out.height == len(names)
            print(
                f"screen_frame {workers} worker(s): {rate:8,.0f} names/s wall ({rate_cpu:,.0f} per CPU-s), "
                f"{rate / brute_rate:,.0f}x brute force wall"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
