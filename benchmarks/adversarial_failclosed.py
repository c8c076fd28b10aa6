"""Adversarial fail-closed run: corrupted "yes" transactions through all four doors; count unsafe "no".

    PYTHONPATH=src python benchmarks/adversarial_failclosed.py --bases 120 --seed 7

Each case is one base transaction (verdict "yes") with one fact corrupted (see
``tests/adversarial/corruptions.py``). Every case goes through ``check()`` (Python API), ``evaluate()`` (a frame
per fact and corruption kind), the CLI ledger (``carveout run`` in a subprocess, many cases per CSV file) and
REST batch over HTTP (a real uvicorn server, many cases per upload). A case is safe when the door answers an
input error, "yes" or "needs_review"; "no" is unsafe; a missing row or a crash is reported separately.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import polars as pl  # noqa: E402
from adversarial import corruptions as cx  # noqa: E402
from pydantic import ValidationError  # noqa: E402

SAFE = {"yes", "needs_review", "error"}
CARVEOUT = [sys.executable, "-c", "from carveout.cli import app; app(prog_name='carveout')"]  # `carveout`


def door_check(cases: list[tuple]) -> list[str]:
    from carveout.api import check

    out = []
    for _, flat, _ in cases:
        try:
            out.append(check(cx.nested(flat)).license_required)
        except ValidationError:
            out.append("error")
        except Exception as exc:  # noqa: BLE001 - a crash is reported, not hidden
            out.append(f"crash:{type(exc).__name__}")
    return out


def door_evaluate(cases: list[tuple]) -> list[str]:
    """One frame per (fact, corruption kind, value type): a corrupted column has one dtype for all its rows."""
    from carveout.engine import evaluate

    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, (_, _, c) in enumerate(cases):
        groups[(c.fact, c.kind, type(c.value).__name__)].append(i)
    out: list[str] = [""] * len(cases)
    for (fact, _, _), idx in groups.items():
        rows = [cases[i][1] for i in idx]
        f = cx.frame_with(rows, fact, [cases[i][2].value for i in idx])
        try:
            verdicts = evaluate(f).get_column("license_required").to_list()
        except Exception as exc:  # noqa: BLE001
            verdicts = [f"crash:{type(exc).__name__}"] * len(idx)
        for i, v in zip(idx, verdicts, strict=True):
            out[i] = v
    return out


def door_cli(cases: list[tuple], per_file: int, workdir: Path) -> list[str]:
    out: list[str] = []
    for start in range(0, len(cases), per_file):
        part = cases[start:start + per_file]
        src = workdir / f"cli_{start}.csv"
        dst = workdir / f"cli_{start}.out.parquet"
        src.write_text(cx.ledger_text([flat for _, flat, _ in part]), encoding="utf-8")
        res = subprocess.run([*CARVEOUT, "run", str(src), "--out", str(dst)],
                             capture_output=True, text=True, cwd=workdir)
        if res.returncode != 0 or not dst.exists():
            out.extend([f"crash:exit{res.returncode}"] * len(part))
            continue
        got = pl.read_parquet(dst).sort("row")
        verdicts = dict(zip(got["case"].to_list(), got["license_required"].to_list(), strict=True))
        out.extend(verdicts.get(f"C-{i}", "missing_row") for i in range(len(part)))
    return out


def door_rest(cases: list[tuple], per_upload: int, workdir: Path) -> list[str]:
    import httpx

    from carveout.service.testing import Server, make_key

    db = workdir / "rest.duckdb"
    key = make_key(db)
    out: list[str] = []
    args = ("--max-ledger-rows", str(per_upload + 1), "--chunk-rows", "5000")
    with Server(db, *args) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=120) as c:
        for start in range(0, len(cases), per_upload):
            part = cases[start:start + per_upload]
            text = cx.ledger_text([flat for _, flat, _ in part])
            r = c.post("/v1/batch", files={"file": ("ledger.csv", text.encode("utf-8"), "text/csv")})
            if r.status_code != 202:
                out.extend([f"crash:http{r.status_code}"] * len(part))
                continue
            job_id = r.json()["id"]
            while (job := c.get(f"/v1/jobs/{job_id}").json())["status"] not in ("done", "failed"):
                time.sleep(0.5)
            if job["status"] != "done":
                out.extend(["crash:job_failed"] * len(part))
                continue
            got = pl.read_csv(io.BytesIO(c.get(job["links"]["results_csv"]).content), infer_schema=False)
            by_row = dict(zip(got["row"].cast(pl.Int64).to_list(), got["license_required"].to_list(), strict=True))
            out.extend(by_row.get(i + 1, "missing_row") for i in range(len(part)))
    return out


def run(bases: int, seed: int, per_file: int, doors: list[str], check_sample: int = 0) -> dict:
    import random

    t0 = time.perf_counter()
    base = cx.yes_transactions(bases, seed)
    cases = list(cx.cases(base, random.Random(seed + 1)))
    report: dict = {"bases": bases, "seed": seed, "cases_per_door": len(cases), "doors": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for door in doors:
            t = time.perf_counter()
            door_cases = cases
            if door == "check" and 0 < check_sample < len(cases):
                # one row per call costs ~50 ms: a seeded sample of the same cases keeps the run short
                idx = sorted(random.Random(seed + 2).sample(range(len(cases)), check_sample))
                verdicts = door_check([cases[i] for i in idx])
                door_cases = [cases[i] for i in idx]
            elif door == "check":
                verdicts = door_check(cases)
            elif door == "evaluate":
                verdicts = door_evaluate(cases)
            elif door == "cli":
                verdicts = door_cli(cases, per_file, Path(tmp))
            else:
                verdicts = door_rest(cases, per_file, Path(tmp))
            counts = Counter(verdicts)
            unsafe = [(door_cases[i][2], door_cases[i][1]) for i, v in enumerate(verdicts) if v == cx.UNSAFE]
            report["doors"][door] = {
                "cases": len(verdicts), "unsafe_no": counts.get("no", 0),
                "other": {k: n for k, n in counts.items() if k not in SAFE | {"no"}},
                "answers": dict(counts), "seconds": round(time.perf_counter() - t, 1),
                "unsafe_examples": [f"{c.fact} {c.kind} {c.value!r}" for c, _ in unsafe[:10]],
            }
            print(door, json.dumps(report["doors"][door]), flush=True)
    report["total_cases"] = sum(d["cases"] for d in report["doors"].values())
    report["total_unsafe_no"] = sum(d["unsafe_no"] for d in report["doors"].values())
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bases", type=int, default=120, help="base 'yes' transactions (cases ~ 200 per base)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-file", type=int, default=8000, help="corrupted rows per CLI ledger file / REST upload")
    ap.add_argument("--doors", default="check,evaluate,cli,rest")
    ap.add_argument("--check-sample", type=int, default=0, help="check() door on a seeded sample of this size")
    ap.add_argument("--json", help="also write the report here")
    a = ap.parse_args()
    report = run(a.bases, a.seed, a.per_file, a.doors.split(","), a.check_sample)
    print(json.dumps({k: v for k, v in report.items() if k != "doors"}))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    sys.exit(1 if report["total_unsafe_no"] else 0)


if __name__ == "__main__":
    main()
