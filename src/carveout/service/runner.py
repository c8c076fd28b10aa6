"""Determinations in and out of the store: single checks, batch jobs in chunks, and re-running a record.

A batch job reads the uploaded ledger once, then evaluates and stores it chunk by chunk; each chunk is
one transaction (verdicts, audit links, progress), so progress is exactly what is durable. Jobs left
``queued`` or ``running`` by a killed server resume on the next start from the first row not yet stored;
a job that was running when the server died ``MAX_CRASHES`` times is marked failed instead (it may be what
killed it), so a poisonous upload cannot put the server in a crash loop. An upload is deleted as soon as
its job ends: what was checked is kept in the store, row by row.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import traceback
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

import carveout
from carveout import engine
from carveout.batch import evaluate_facts
from carveout.facts import SCHEMA
from carveout.model import Determination, Transaction, document_of, fact_paths
from carveout.service import features
from carveout.service.errors import scrub
from carveout.store import Outcome, Store, canonical, now

log = logging.getLogger("carveout.service")

FACT_COLUMNS = [c for c in SCHEMA if c != "row"]
MAX_CRASHES = 2  # a job running when the server died this many times is failed, not re-run


def recover(store: Store, kind: str) -> list[str]:
    """Jobs to re-run after a start: queued ones, and running ones the server died in fewer than
    ``MAX_CRASHES`` times; the others are marked failed (and their uploads deleted)."""
    todo = []
    for r in store.runs(status=("queued", "running"), kind=kind):
        if r["status"] == "running":
            crashes = int(r.get("crashes") or 0) + 1
            if crashes >= MAX_CRASHES:
                log.error("%s job %s was running when the server stopped %d times: marked failed", kind, r["id"],
                          crashes)
                store.update_run(r["id"], status="failed", finished_at=now(), crashes=crashes,
                                 message=f"the server stopped {crashes} times while running this job; "
                                 "it is not retried (upload it again to retry)")
                discard_upload(store, r["id"], r.get("upload_path"))
                continue
            store.update_run(r["id"], crashes=crashes, status="queued")
        todo.append(r["id"])
    return todo


def discard_upload(store: Store, run_id: str, path: str | None) -> None:
    """Delete a finished job's uploaded file; its rows live on in the store."""
    if not path:
        return
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:
        log.warning("could not delete upload of %s", run_id, exc_info=True)
    store.update_run(run_id, upload_path=None)


# ---------- single check ----------
def check_and_store(store: Store, txn: Transaction, as_of: date | None = None) -> tuple[Determination, int]:
    """One check, stored: the server's micro-batcher with a batch of one."""
    from carveout.service.batcher import evaluate_and_store

    return evaluate_and_store(store, [(txn, as_of)])[0]


# ---------- facts rows <-> transactions ----------
def transaction_document(facts: dict[str, Any]) -> dict[str, Any]:
    """The nested Transaction document (as the API takes it) for flat facts; not yet validated."""
    data = document_of(facts)
    item = data["item"]
    if isinstance(item.get("kind"), str):
        item["kind"] = item["kind"].strip().lower()
    if isinstance(item.get("bit_length"), float) and item["bit_length"].is_integer():
        item["bit_length"] = int(item["bit_length"])
    for k in ("destination", "ship_from", "exporter_hq_country"):
        if isinstance(data.get(k), str):
            data[k] = data[k].upper()
    for k in ("country", "headquarters_country"):
        if isinstance(data.get("end_user", {}).get(k), str):
            data["end_user"][k] = data["end_user"][k].upper()
    return data


def transaction_from_facts(facts: dict[str, Any]) -> Transaction | None:
    """The Transaction whose ``facts()`` are these facts, or None when they cannot be expressed as one."""
    known = set(fact_paths())
    if any(k not in known for k, v in facts.items() if v is not None):
        return None  # e.g. a ledger that gives performance_density directly
    try:
        return Transaction.model_validate(transaction_document(facts))
    except ValueError:
        return None


def outcomes_from_frame(facts: pl.DataFrame, result: pl.DataFrame) -> list[Outcome]:
    cols = [c for c in FACT_COLUMNS if c in facts.columns]
    inputs = facts.select(cols).to_dicts()
    res = result.select("row", "license_required", "eccn", "classification",
                        pl.col("reasons").cast(pl.List(pl.String)), "missing", "license_exceptions",
                        "authorization", "review_policy", "rules_version").to_dicts()
    out = []
    extra = [c for c in ("input_row", "error", "unparsed") if c in result.columns]
    extras = result.select(pl.col(extra).cast(pl.String)).to_dicts() if extra else [{}] * result.height
    for inp, r, x in zip(inputs, res, extras, strict=True):
        out.append(Outcome(
            row_no=int(r["row"]), input_kind="facts",
            inputs={"facts": {k: v for k, v in inp.items() if v is not None}, "as_of": None,
                    **{k: v for k, v in x.items() if v is not None}},
            license_required=r["license_required"], eccn=r["eccn"], classification=r["classification"],
            reasons=list(r["reasons"] or []), missing=list(r["missing"] or []),
            license_exceptions=list(r["license_exceptions"] or []), authorization=r["authorization"],
            review_policy=r["review_policy"], rules_version=r["rules_version"],
        ))
    return out


# ---------- reproduce ----------
def reproduce(store: Store, det_id: int) -> dict[str, Any] | None:
    """Re-run ``carveout.check`` on a stored determination's inputs and compare with what was stored."""
    d = store.determination(det_id)
    if d is None:
        return None
    inp = d["inputs"]
    as_of = date.fromisoformat(inp["as_of"]) if inp.get("as_of") else None
    how = "carveout.check"
    ruleset = None
    if d["scenario"] not in (None, "baseline"):
        return {"determination": _public(d), "reproduced": None, "same_answer": None,
                "note": f"scenario {d['scenario']!r} cannot be rebuilt from the store; re-run the scenario file"}
    if d["input_kind"] == "transaction":
        txn = Transaction.model_validate(inp["transaction"])
    else:
        txn = transaction_from_facts(_typed_facts(inp["facts"]))
    if txn is not None:
        now_det = carveout.check(txn, as_of=as_of, ruleset=ruleset)
        again = {"license_required": now_det.license_required, "eccn": now_det.eccn,
                 "reasons": [r.rule for r in now_det.reasons], "rules_version": now_det.rules_version,
                 "explained": [r.model_dump(mode="json") for r in now_det.reasons]}
    else:  # facts a Transaction cannot carry: the same evaluation on the one stored row
        how = "carveout.evaluate (one row)"
        frame = carveout.api.frame_of([_typed_facts(inp["facts"])])
        row = engine.evaluate(frame, as_of=as_of).row(0, named=True)
        again = {"license_required": row["license_required"], "eccn": row["eccn"],
                 "reasons": [str(r) for r in row["reasons"]], "rules_version": row["rules_version"],
                 "explained": [r.model_dump(mode="json") for r in
                               carveout.api.explain_reasons(list(row["reasons"]), row, row["rules_date"])]}
    same = (again["license_required"] == d["license_required"] and again["eccn"] == d["eccn"]
            and again["reasons"] == list(d["reasons"] or []))
    return {
        "determination": _public(d),
        "reproduced": again,
        "method": how,
        "same_answer": same,
        "rules_version_changed": again["rules_version"] != d["rules_version"],
    }


def _typed_facts(facts: dict[str, Any]) -> dict[str, Any]:
    out = dict(facts)
    if isinstance(out.get("date"), str):
        out["date"] = date.fromisoformat(out["date"])
    return out


def _public(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "run_id", "row_no", "input_kind", "inputs", "license_required", "eccn", "classification",
            "reasons", "missing", "license_exceptions", "authorization_used", "review_policy", "rules_version",
            "scenario", "created_at", "audit")
    return {k: d.get(k) for k in keys}


# ---------- batch jobs ----------
class JobRunner:
    """One background thread processing queued batch jobs in order, chunk by chunk."""

    def __init__(self, store: Store, chunk_rows: int = 1000, chunk_pause: float = 0.0):
        self.store = store
        self.chunk_rows = max(1, chunk_rows)
        self.chunk_pause = chunk_pause  # seconds between chunks (tests use it to catch a job mid-way)
        self.q: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="carveout-jobs", daemon=True)
        self._stop = threading.Event()

    def start(self) -> None:
        for run_id in recover(self.store, "batch"):
            log.info("resuming batch %s", run_id)
            self.q.put(run_id)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.q.put(None)
        self.thread.join(timeout=10)

    def submit(self, run_id: str) -> None:
        self.q.put(run_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            run_id = self.q.get()
            if run_id is None:
                return
            try:
                self._process(run_id)
            except Exception as e:  # a job failure is the job's, not the server's
                log.error("batch %s failed:\n%s", run_id, traceback.format_exc())
                self.store.update_run(run_id, status="failed", finished_at=now(),
                                      message=f"{type(e).__name__}: processing failed; see server log")
            run = self.store.run(run_id)
            if run is None:
                continue
            if run["status"] in ("done", "failed"):
                discard_upload(self.store, run_id, run.get("upload_path"))
            elif self._stop.is_set() and run["status"] == "running":  # a clean stop is not a crash
                self.store.update_run(run_id, status="queued")

    def _process(self, run_id: str) -> None:
        run = self.store.run(run_id)
        if run is None or not run["upload_path"]:
            return
        path = Path(run["upload_path"])
        if not path.exists():
            self.store.update_run(run_id, status="failed", message="uploaded file is gone", finished_at=now())
            return
        try:
            facts, errors = features.read_ledger(path)
        except features.ledger_error_types() + (OSError, ValueError) as e:
            self.store.update_run(run_id, status="failed", finished_at=now(),
                                  message=scrub(str(e), {str(path): run.get("source") or "upload"})[:500])
            return
        err_list = errors.head(1000).to_dicts() if errors is not None and errors.height else []
        done = self.store.run_rows(run_id)  # what is already durable (resume after a kill)
        self.store.update_run(run_id, status="running", total_rows=facts.height, done_rows=done,
                              errors=err_list)
        as_of = date.fromisoformat(run["as_of"]) if run["as_of"] else None
        for start in range(done, facts.height, self.chunk_rows):
            if self._stop.is_set():
                return
            chunk = facts.slice(start, self.chunk_rows)
            # the shared wrapper: same input-error handling as the CLI; rows numbered from 1 in the store
            result = evaluate_facts(chunk, as_of=as_of, first_row=start + 1)
            outs = outcomes_from_frame(chunk, result)
            if as_of:
                for o in outs:
                    o.inputs["as_of"] = as_of.isoformat()
                    o.as_of = as_of.isoformat()
            self.store.append(run_id, outs, scenario=run["scenario"],
                              progress={"done_rows": start + chunk.height})
            if self.chunk_pause:
                self._stop.wait(self.chunk_pause)
        self.store.update_run(run_id, status="done", finished_at=now(), done_rows=facts.height)


def summary_of(store: Store, run_id: str) -> dict[str, Any]:
    rows = store.summary(run_id)
    by_verdict: dict[str, int] = {}
    for r in rows:
        by_verdict[r["license_required"]] = by_verdict.get(r["license_required"], 0) + r["n"]
    return {"by_verdict": by_verdict, "by_destination": rows}


_ = canonical


# ---------- frontier jobs ----------
class FrontierRunner:
    """One background thread running queued frontier jobs in order (``POST /v1/frontier/jobs``).

    A job is a ``runs`` row of kind ``frontier``: ``total_rows``/``done_rows`` count combinations, ``message``
    holds the current stage (or the error). The request and the finished result are JSON files in
    ``folder``; jobs left ``queued``/``running`` by a stopped server are re-run from the start on the next start.
    """

    def __init__(self, store: Store, folder: Path):
        self.store = store
        self.folder = folder
        self.q: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="carveout-frontier", daemon=True)
        self._stop = threading.Event()

    def request_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.request.json"

    def result_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for run_id in recover(self.store, "frontier"):
            if self.request_path(run_id).exists():
                log.info("re-running frontier job %s", run_id)
                self.store.update_run(run_id, status="queued", done_rows=0, message="queued (server restarted)")
                self.q.put(run_id)
            else:
                self.store.update_run(run_id, status="failed", finished_at=now(), message="request file is gone")
        for r in self.store.runs(status=("failed",), kind="frontier"):
            self.request_path(r["id"]).unlink(missing_ok=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.q.put(None)
        self.thread.join(timeout=10)

    def submit(self, body: Any, scenario: str, source: str, combinations: int) -> str:
        run_id = self.store.create_run("frontier", scenario=scenario[:200], source=source[:300],
                                       total_rows=combinations)
        self.store.update_run(run_id, message="queued")
        self.request_path(run_id).write_text(body.model_dump_json(), encoding="utf-8")
        self.q.put(run_id)
        return run_id

    def result(self, run_id: str) -> dict[str, Any] | None:
        p = self.result_path(run_id)
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None

    def _loop(self) -> None:
        while not self._stop.is_set():
            run_id = self.q.get()
            if run_id is None:
                return
            try:
                self._process(run_id)
            except Exception as e:  # a job failure is the job's, not the server's
                log.error("frontier %s failed:\n%s", run_id, traceback.format_exc())
                self.store.update_run(run_id, status="failed", finished_at=now(),
                                      message=f"{type(e).__name__}: the frontier failed; see server log")
            run = self.store.run(run_id)
            if run is not None and run["status"] in ("done", "failed"):
                self.request_path(run_id).unlink(missing_ok=True)
            elif run is not None and self._stop.is_set() and run["status"] == "running":
                self.store.update_run(run_id, status="queued")

    def _process(self, run_id: str) -> None:
        from carveout.service import scenarios_adapter as sa
        from carveout.service.errors import ApiError
        from carveout.service.routes_api import FrontierRequest

        run = self.store.run(run_id)
        if run is None or run["status"] not in ("queued", "running"):
            return
        body = FrontierRequest.model_validate_json(self.request_path(run_id).read_text(encoding="utf-8"))
        self.store.update_run(run_id, status="running", message="starting")

        def progress(stage: str, done: int) -> None:
            self.store.update_run(run_id, done_rows=done, message=stage)

        try:
            out = sa.frontier(self.store, body, progress=progress, stop=self._stop)
        except sa.Cancelled:  # stays "running": re-run on the next start
            self.store.update_run(run_id, message="interrupted: the server stopped; re-runs on restart")
            return
        except ApiError as e:  # e.g. the batch job's upload vanished, or the ledger does not fit the candidates
            self.store.update_run(run_id, status="failed", finished_at=now(),
                                  message=scrub(f"{e.error}: {e.message}")[:500])
            return
        tmp = self.result_path(run_id).with_suffix(".tmp")
        tmp.write_text(json.dumps(out), encoding="utf-8")
        tmp.replace(self.result_path(run_id))
        self.store.update_run(run_id, status="done", finished_at=now(), done_rows=run["total_rows"] or 0,
                              message="done")
