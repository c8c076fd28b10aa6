"""Micro-batching of single checks: concurrent ``/v1/check`` requests share one ``evaluate`` call and one commit.

One thread — the store's only writer for checks — takes the first waiting request, collects whatever else
arrives within ``max_wait`` seconds (at most ``max_batch`` requests), evaluates them with
``carveout.api.check_many`` (one ``evaluate`` per distinct ``as_of``), and writes every determination, its
audit link and its run in ONE DuckDB transaction (``Store.write``). Each request is answered only after
that commit, so an answered check is always in the audit chain. While one batch is evaluated and
committed, the next one queues up: under load batches grow by themselves; alone, a request waits at most
``max_wait``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date

from carveout import api
from carveout.model import Determination, Transaction
from carveout.store import Group, Outcome, Store, now

log = logging.getLogger("carveout.service")


@dataclass
class _Item:
    txn: Transaction
    as_of: date | None
    future: Future


def outcome_of(txn: Transaction, as_of: date | None, det: Determination) -> Outcome:
    inputs = {"transaction": txn.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
              "as_of": as_of.isoformat() if as_of else None}
    return Outcome(
        row_no=1, input_kind="transaction", inputs=inputs, license_required=det.license_required,
        eccn=det.eccn, classification=det.classification, reasons=[r.rule for r in det.reasons],
        missing=det.missing, license_exceptions=det.license_exceptions, authorization=det.authorization,
        review_policy=det.review_policy, rules_version=det.rules_version, as_of=inputs["as_of"],
    )


def evaluate_and_store(store: Store, items: list[tuple[Transaction, date | None]]
                       ) -> list[tuple[Determination, int]]:
    """Check every (transaction, as_of) and store them all in one transaction; (determination, audit id) each."""
    dets: list[Determination | None] = [None] * len(items)
    by_day: dict[date | None, list[int]] = {}
    for i, (_, as_of) in enumerate(items):
        by_day.setdefault(as_of, []).append(i)
    for as_of, idx in by_day.items():
        for i, det in zip(idx, api.check_many([items[i][0] for i in idx], as_of=as_of), strict=True):
            dets[i] = det
    groups = []
    for (txn, as_of), det in zip(items, dets, strict=True):
        run = store.new_run("check", status="done", total_rows=1)
        run.update(done_rows=1, finished_at=now())
        groups.append(Group(run["id"], [outcome_of(txn, as_of, det)], new_run=run))
    ids = store.write(groups)
    return [(det, i[0]) for det, i in zip(dets, ids, strict=True)]


class CheckBatcher:
    """The writer thread behind ``/v1/check`` and the UI's check form."""

    def __init__(self, store: Store, max_batch: int = 256, max_wait: float = 0.002):
        self.store = store
        self.max_batch = max(1, max_batch)
        self.max_wait = max(0.0, max_wait)
        self.q: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="carveout-checks", daemon=True)
        self.batches = 0
        self.checks = 0

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.q.put(None)
        self.thread.join(timeout=30)

    def submit(self, txn: Transaction, as_of: date | None = None) -> Future:
        fut: Future = Future()
        self.q.put(_Item(txn, as_of, fut))
        return fut

    def _collect(self, first: _Item) -> tuple[list[_Item], bool]:
        batch, stopping = [first], False
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            try:
                left = deadline - time.monotonic()
                nxt = self.q.get(timeout=left) if left > 0 else self.q.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                stopping = True
                break
            batch.append(nxt)
        return batch, stopping

    def _loop(self) -> None:
        while True:
            first = self.q.get()
            if first is None:
                return
            batch, stopping = self._collect(first)
            live = [it for it in batch if it.future.set_running_or_notify_cancel()]
            if live:
                try:
                    results = evaluate_and_store(self.store, [(it.txn, it.as_of) for it in live])
                except Exception:  # nothing was committed; find the culprit by doing them one at a time
                    log.exception("check batch of %d failed; retrying one by one", len(live))
                    for it in live:
                        try:
                            it.future.set_result(evaluate_and_store(self.store, [(it.txn, it.as_of)])[0])
                        except Exception as e:
                            it.future.set_exception(e)
                else:
                    self.batches += 1
                    self.checks += len(live)
                    for it, res in zip(live, results, strict=True):
                        it.future.set_result(res)
            if stopping:
                return
