"""Load test of a real ``carveout serve`` on loopback: /v1/check and /v1/screen.

Bounded: runs for --seconds (default 30) with --concurrency client threads, loopback only, then stops.
Reports requests/s, p50/p99 latency per endpoint, errors (must be zero), and the server's RSS before
and after. Every /v1/check is a stored, hash-chained determination, so this also measures the store.

    python benchmarks/bench_service.py [--seconds 30] [--concurrency 8] [--json out.json]

``--client wrk`` drives ``POST /v1/check`` alone with wrk (Debian package ``wrk``: a compiled load generator,
one thread, so the client does not starve a 2-core server), rotating over varied transactions, and reports
requests/s, p50/p99 from wrk's latency distribution, non-2xx answers, the client's and the server's CPU
seconds, and whether every answered check is in the audit chain, which must verify afterwards.

    python benchmarks/bench_service.py --client wrk [--seconds 30] [--concurrency 16] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
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


def varied_checks(n: int = 64, seed: int = 20261201) -> list[dict]:
    """Transactions with different items, destinations and dates (a fixed seed: the same set every run)."""
    import random

    rnd = random.Random(seed)
    out = list(CHECKS)
    while len(out) < n:
        txn = {"date": f"{rnd.choice([2023, 2024, 2025])}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
               "item": {"kind": rnd.choice(["ic", "ic", "computer"]), "tpp": rnd.choice([300, 900, 2400, 4800, 5000,
                                                                                          12000]),
                        "die_area_mm2": rnd.choice([300, 600, 814])},
               "destination": rnd.choice(["CN", "DE", "MO", "KR", "AE", "IN", "VN", "JP"]),
               "ship_from": rnd.choice(["US", "US", "TW"]), "origin": {"us_origin": rnd.random() < 0.7}}
        out.append(txn)
    return out


LUA = """
local bodies = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/check", {["Content-Type"] = "application/json", ["X-API-Key"] = "%s"},
                    bodies[(n %% #bodies) + 1])
end
"""


def _wrk_ms(text: str) -> float:
    m = re.match(r"([0-9.]+)(us|ms|s)", text.strip())
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1000.0}[m.group(2)]


def run_wrk(seconds: float, concurrency: int, server_args: list[str]) -> dict:
    import resource
    import shutil
    import subprocess

    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.duckdb"
        key = make_key(db)
        srv = Server(db, *server_args).start()
        try:
            proc = psutil.Process(srv.proc.pid)
            with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}) as c:
                for t in varied_checks():  # warm: every shape once
                    c.post("/v1/check", json=t).raise_for_status()
                warm = c.get("/v1/audit/verify").json()["checked"]
            script = Path(d) / "check.lua"
            bodies = ",".join("[[" + json.dumps(t) + "]]" for t in varied_checks())
            script.write_text(LUA % (bodies, key))
            rss_before = proc.memory_info().rss
            cpu0 = proc.cpu_times()
            ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            res = subprocess.run([wrk, "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s",
                                  "-s", str(script), srv.url], capture_output=True, text=True, check=True)
            ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu1 = proc.cpu_times()
            rss_after = proc.memory_info().rss
            with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=300) as c:
                verify = c.get("/v1/audit/verify").json()
        finally:
            srv.stop()
    text = res.stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0
    sock = re.search(r"Socket errors: (.*)", text)
    client_cpu = (ch1.ru_utime - ch0.ru_utime) + (ch1.ru_stime - ch0.ru_stime)
    server_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    answered = total - non2xx
    return {
        "client": "wrk -t1", "seconds": seconds, "connections": concurrency, "server_args": server_args,
        "check": {"requests": total, "errors": non2xx + (1 if sock else 0), "rps": round(total / seconds, 1),
                  "p50_ms": _wrk_ms(lat.get("50", "")), "p90_ms": _wrk_ms(lat.get("90", "")),
                  "p99_ms": _wrk_ms(lat.get("99", "")), "socket_errors": sock.group(1) if sock else None},
        "client_cpu_s": round(client_cpu, 2), "client_cpu_pct_of_one_core": round(100 * client_cpu / seconds, 1),
        "server_cpu_s": round(server_cpu, 2), "server_cpu_cores": round(server_cpu / seconds, 2),
        "rss_before_mb": round(rss_before / 2**20, 1), "rss_after_mb": round(rss_after / 2**20, 1),
        "audit_verify": {"ok": verify["ok"], "records": verify["checked"],
                         "every_answered_check_recorded": verify["checked"] >= warm + answered},
        "wrk_output": text,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", type=Path, help="also write the report here")
    ap.add_argument("--client", choices=("python", "wrk"), default="python",
                    help="python: httpx threads on /v1/check + /v1/screen; wrk: wrk on /v1/check alone")
    ap.add_argument("--server-arg", action="append", default=[], help="extra `carveout serve` argument")
    a = ap.parse_args()
    seconds, conc = min(a.seconds, 120.0), max(1, min(a.concurrency, 64))
    if a.client == "wrk":
        report = run_wrk(seconds, conc, a.server_arg)
        bad = report["check"]["errors"] or not report["audit_verify"]["every_answered_check_recorded"]
    else:
        report = run(seconds, conc)
        bad = report["check"]["errors"] + report["screen"]["errors"]
    text = json.dumps(report, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text)
    return 1 if bad or not report["audit_verify"]["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
