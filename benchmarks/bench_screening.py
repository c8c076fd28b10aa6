"""Screening speed and recall vs a brute-force scan, in the same run.

    python benchmarks/bench_screening.py [--queries eval/screening/queries.csv] [--limit 400]

Brute force = rapidfuzz token_set_ratio of every query against every listed name and alias (lower-cased,
punctuation stripped), top hit taken; it is the baseline a blocking index has to beat on speed without losing
recall. Recall here = positive queries whose top-ranked party is an expected one (for carveout: and not
"clear"). carveout runs with cold caches (normalisation and token comparisons cleared first); both rates are wall
clock, with CPU-time rates alongside since other processes on the machine skew wall-clock numbers.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from carveout.screening import Screener
from carveout.screening.screener import clear_caches

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", default=str(ROOT / "eval" / "screening" / "queries.csv"))
    ap.add_argument("--limit", type=int, default=400)
    args = ap.parse_args()
    with open(args.queries, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)][: args.limit]
    positives = [r for r in rows if r["expected_party_ids"]]

    t = time.perf_counter()
    s = Screener(index_path=None)
    build = time.perf_counter() - t
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
    ours_rate = len(rows) / (time.perf_counter() - t)
    ours_cpu = len(rows) / (time.process_time() - c)

    t, c = time.perf_counter(), time.process_time()
    brute = [process.extractOne(utils.default_process(r["query"]), choices, scorer=fuzz.token_set_ratio) for r in rows]
    brute_rate = len(rows) / (time.perf_counter() - t)
    brute_cpu = len(rows) / (time.process_time() - c)

    def ok_ours(r: dict[str, str], res) -> bool:
        return bool(res.matches) and res.status != "clear" and res.matches[0].party_id in r["expected_party_ids"]

    def ok_brute(r: dict[str, str], hit) -> bool:
        return hit is not None and ids[owner[hit[2]]] in r["expected_party_ids"].split("|")

    pos_idx = [i for i, r in enumerate(rows) if r["expected_party_ids"]]
    rec_ours = sum(ok_ours(rows[i], ours[i]) for i in pos_idx) / len(pos_idx)
    rec_brute = sum(ok_brute(rows[i], brute[i]) for i in pos_idx) / len(pos_idx)
    print(
        f"list {len(parties):,} parties / {len(choices):,} names+aliases; index build {build:.2f}s; "
        f"{len(rows)} queries ({len(positives)} positive)"
    )
    print(f"carveout index : {ours_rate:10,.0f} names/s  ({ours_cpu:,.0f} per CPU-s)  recall {rec_ours:.4f}")
    print(
        f"brute force    : {brute_rate:10,.0f} names/s  ({brute_cpu:,.0f} per CPU-s)  recall {rec_brute:.4f}  "
        "(token_set_ratio, top-1)"
    )
    print(f"speed ratio    : {ours_rate / brute_rate:10,.1f}x  ({ours_cpu / brute_cpu:,.1f}x in CPU time)")


if __name__ == "__main__":
    main()
