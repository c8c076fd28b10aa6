"""Load test of a real ``carveout serve`` on loopback: /v1/check and /v1/screen.

Bounded: runs for --seconds (default 30) with --concurrency client threads, loopback only, then stops.
Reports requests/s, p50/p99 latency per endpoint, errors (must be zero), and the server's RSS before
and after. Every /v1/check is a stored, hash-chained determination, so this also measures the store.

    python benchmarks/bench_service.py [--seconds 30] [--concurrency 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from carveout.service.testing import Server, make_key

CHECKS = [
    {"date": "2024-01-10", "item": {"kind": "ic", "tpp": 5000, "die_area_mm2": 814}, "destination": "CN",
     "ship_from": "US", "origin": {"us_origin": True}},
    {"date": "2023-03-01", "item": {"kind": "ic", "tpp": 900}, "destination": "DE", "ship_from": "US"},
    {"date": "2025-02-01", "item": {"kind": "computer", "tpp": 4800, "die_area_mm2": 600,
                                    "marketed_for_datacenter": True},
     "destination": "MO", "ship_from": "TW", "end_user": {"name": "Acme Cloud", "country": "MO"}},
    {"date": "2024-06-01", "item": {"kind": "ic"}, "destination": "CN", "ship_from": "US"},
]
SCREENS = [("Huawei Technologies Co., Ltd.", "CN"), ("Semiconductor Manufacturing International", "CN"),
           ("Acme Widgets GmbH", "DE"), ("Samsung Electronics", "KR")]


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def run(seconds: float, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.duckdb"
        key = make_key(db)
        srv = Server(db).start()
        try:
            proc = psutil.Process(srv.proc.pid)
            with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}) as c:  # warm both paths once
                c.post("/v1/check", json=CHECKS[0]).raise_for_status()
                c.get("/v1/screen", params={"name": SCREENS[0][0], "country": SCREENS[0][1]}).raise_for_status()
            rss_before = proc.memory_info().rss
            lat: dict[str, list[float]] = {"check": [], "screen": []}
            errors: dict[str, list[str]] = {"check": [], "screen": []}
            lock = threading.Lock()
            stop_at = time.monotonic() + seconds

            def worker(i: int) -> None:
                n = i
                with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=30) as c:
                    while time.monotonic() < stop_at:
                        n += 1
                        kind = "check" if n % 2 else "screen"
                        t0 = time.perf_counter()
                        try:
                            if kind == "check":
                                r = c.post("/v1/check", json=CHECKS[n % len(CHECKS)])
                            else:
                                name, cc = SCREENS[n % len(SCREENS)]
                                r = c.get("/v1/screen", params={"name": name, "country": cc})
                            ok = r.status_code == 200
                            err = None if ok else f"{r.status_code} {r.text[:120]}"
                        except httpx.HTTPError as e:
                            err = f"{type(e).__name__}: {e}"
                        dt = time.perf_counter() - t0
                        with lock:
                            (errors[kind].append(err) if err else lat[kind].append(dt))

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
            t_start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t_start
            rss_after = proc.memory_info().rss
            with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=120) as c:
                verify = c.get("/v1/audit/verify").json()
        finally:
            srv.stop()
    out = {"seconds": round(elapsed, 1), "concurrency": concurrency,
           "rss_before_mb": round(rss_before / 2**20, 1), "rss_after_mb": round(rss_after / 2**20, 1),
           "audit_verify": {"ok": verify["ok"], "records": verify["checked"]}}
    for kind in ("check", "screen"):
        xs = lat[kind]
        out[kind] = {"requests": len(xs), "errors": len(errors[kind]), "rps": round(len(xs) / elapsed, 1),
                     "p50_ms": round(pct(xs, 0.50) * 1000, 2), "p99_ms": round(pct(xs, 0.99) * 1000, 2),
                     "mean_ms": round(statistics.fmean(xs) * 1000, 2) if xs else None,
                     "first_errors": errors[kind][:3]}
    out["total_rps"] = round((len(lat["check"]) + len(lat["screen"])) / elapsed, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", type=Path, help="also write the report here")
    a = ap.parse_args()
    report = run(min(a.seconds, 120.0), max(1, min(a.concurrency, 64)))
    text = json.dumps(report, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text)
    bad = report["check"]["errors"] + report["screen"]["errors"]
    return 1 if bad or not report["audit_verify"]["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
