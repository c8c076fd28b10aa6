"""The scenario endpoints: ``carveout.scenarios.diff`` / ``exposure`` / ``frontier`` on a ledger.

A scenario comes as the name of a shipped scenario, a YAML document (text) or the same as JSON; never as
a path (the API does not read the server's files).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from carveout.api import frame_of
from carveout.service import charts, features, safe_yaml
from carveout.service.errors import ApiError, scrub

MAX_ROWS_OUT = 500
MAX_CANDIDATES = 8


def _mod():
    try:
        return features.scenarios()
    except features.Unavailable as e:
        raise ApiError(503, "unavailable", str(e)) from e


def _ledger(store, body) -> pl.DataFrame:
    if body.transactions:
        return frame_of([t.facts() for t in body.transactions]).with_row_index("row", offset=1)
    if body.job_id:
        _done_job(store, body.job_id)
        from carveout.service.runner import _typed_facts

        stored = store.run_inputs(body.job_id)  # the facts each row was checked (and audited) with
        frame = frame_of([_typed_facts(inp.get("facts") or {}) for _, inp in stored])
        return frame.with_columns(row=pl.Series([r for r, _ in stored], dtype=pl.Int64))
    raise ApiError(422, "validation_error", "give `transactions` or a batch `job_id`", field="transactions")


def _done_job(store, job_id: str) -> dict[str, Any]:
    """A finished batch job (its rows are in the store; the upload itself is deleted when the job ends)."""
    run = store.run(job_id)
    if run is None or run.get("kind") != "batch":
        raise ApiError(404, "not_found", f"no batch job {job_id!r}", field="job_id")
    if run.get("status") != "done":
        raise ApiError(409, "job_not_done", f"batch job {job_id} is {run.get('status')}; use a finished job",
                       field="job_id")
    return run


def scenario_of(mod, ref: dict[str, Any] | str | None):
    """A shipped scenario by name, or a request document (YAML text or JSON) whose ``base`` is a shipped one.

    A request document never makes the server read a file: ``base`` must name a shipped scenario, and YAML
    with anchors/aliases or beyond a fixed size is refused before it is built."""
    if ref is None:
        raise ApiError(422, "validation_error", "a scenario is required", field="scenario")
    shipped = list(mod.builtin_names())
    if isinstance(ref, str) and ref.strip() in shipped:
        try:
            return mod.load(ref.strip())
        except mod.ScenarioError as e:  # a shipped file that does not load is the server's problem
            raise ApiError(500, "internal_error", f"shipped scenario {ref.strip()!r} does not load") from e
    try:
        if isinstance(ref, str):
            doc = safe_yaml.load(ref)
            if isinstance(doc, str):
                raise ApiError(422, "invalid_scenario",
                               f"no shipped scenario {ref[:60]!r} (shipped: {', '.join(shipped)})",
                               field="scenario")
        else:
            safe_yaml.check_value(ref)
            doc = ref
    except safe_yaml.UnsafeDocument as e:
        raise ApiError(422, "invalid_scenario", f"scenario: {e}", field="scenario") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ApiError(422, "invalid_scenario", f"scenario is not valid YAML{where}: "
                       f"{getattr(e, 'problem', None) or 'syntax error'}"[:400], field="scenario") from e
    if isinstance(doc, dict) and doc.get("base") is not None and doc.get("base") not in shipped:
        raise ApiError(422, "invalid_scenario", f"scenario.base must name a shipped scenario "
                       f"({', '.join(shipped)}); a request cannot base a scenario on a file", field="scenario.base")
    try:
        return mod.parse(doc, "<request>")
    except mod.ScenarioError as e:
        problems = getattr(e, "problems", None) or []
        first = problems[0][0] if problems else None
        raise ApiError(422, "invalid_scenario", scrub(str(e))[:1000],
                       field=f"scenario.{first}" if first and first != "(top level)" else "scenario",
                       problems=[{"field": p, "message": scrub(m)} for p, m in problems][:50]) from e
    except (ValueError, TypeError, KeyError, FileNotFoundError) as e:
        raise ApiError(422, "invalid_scenario", scrub(f"scenario: {e}")[:1000], field="scenario") from e


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def _rows(df: pl.DataFrame | None, n: int = MAX_ROWS_OUT) -> list[dict[str, Any]]:
    return [] if df is None else _clean(df.head(n).to_dicts())


def builtin(mod=None) -> list[str]:
    mod = mod or _mod()
    return list(mod.builtin_names())


def diff(store, body) -> dict[str, Any]:
    mod = _mod()
    sc = scenario_of(mod, body.scenario)
    ledger = _ledger(store, body)
    as_of = getattr(body, "as_of", None)
    try:
        res = mod.diff(ledger, sc, as_of=as_of)
    except mod.ScenarioError as e:
        raise ApiError(422, "invalid_scenario", scrub(str(e))[:1000], field="scenario") from e
    out: dict[str, Any] = {
        "summary": _clean(res.summary()),
        "warnings": list(res.warnings),
        "rows": _rows(res.rows),
        "rows_truncated": res.rows.height > MAX_ROWS_OUT,
        "aggregates": {k: _rows(v, 100) for k, v in res.aggregates.items()},
    }
    charts_out = {}
    if features.available()["exposure"]:
        exp = mod.exposure(res)
        out["exposure"] = {"by_fab": _rows(exp.by_fab, 200), "by_company": _rows(exp.by_company, 200)}
        fab = [{"facility_id": r["facility_id"], "company": r.get("company"), "change": change,
                "value_usd": r.get(col) or 0.0}
               for r in out["exposure"]["by_fab"]
               for change, col in (("newly licensed", "newly_licensed_value_usd"), ("cleared", "cleared_value_usd"))
               if r.get(col)]
        if fab:
            charts_out["exposure_by_fab"] = charts.bar_chart(
                fab, "facility_id", "value_usd", "change", "Value newly licensed / cleared, by fab",
                color_scale=charts.CHANGE_COLORS)
        comp = [r for r in out["exposure"]["by_company"] if r.get("newly_licensed_value_usd")]
        if comp:
            charts_out["exposure_by_company"] = charts.bar_chart(
                [{"company": r["company"], "product_line": r.get("product_line"),
                  "newly_licensed_value_usd": r["newly_licensed_value_usd"]} for r in comp],
                "company", "newly_licensed_value_usd", "product_line", "Newly licensed value by company")
    dest = out["aggregates"].get("destination") or []
    if dest:
        charts_out["by_destination"] = charts.bar_chart(
            [{"destination": r.get("destination") or "?", "net_value_usd": r.get("net_value_usd") or 0,
              "rows": r.get("rows")} for r in dest], "destination", "net_value_usd", None,
            "Net newly licensed value by destination")
    out["charts"] = charts_out
    out["chart"] = (charts_out.get("exposure_by_company") or charts_out.get("exposure_by_fab")
                    or charts_out.get("by_destination"))
    return out


def candidates_of(fmod, mod, ref: dict[str, Any] | str | None):
    folder = Path(mod.model.builtin_dir() if hasattr(mod, "model") else "") / "candidates"
    shipped = sorted(p.stem for p in folder.glob("*.yaml"))
    if ref is None:
        if not shipped:
            raise ApiError(422, "validation_error", "candidates are required", field="candidates")
        ref = shipped[0]
    try:
        if isinstance(ref, str):
            if ref not in shipped:
                raise ApiError(422, "invalid_candidates", f"no shipped candidates {ref[:60]!r} "
                               f"(shipped: {', '.join(shipped)})", field="candidates")
            return fmod.load_candidates(folder / f"{ref}.yaml")
        try:
            safe_yaml.check_value(ref)
        except safe_yaml.UnsafeDocument as e:
            raise ApiError(422, "invalid_candidates", f"candidates: {e}", field="candidates") from e
        c = fmod.Candidates.model_validate(ref)
        if len(c.candidates) > MAX_CANDIDATES:
            raise ApiError(422, "invalid_candidates", f"at most {MAX_CANDIDATES} candidates per request "
                           f"(2^n designs are evaluated)", field="candidates")
        return c
    except mod.ScenarioError as e:
        raise ApiError(422, "invalid_candidates", scrub(str(e))[:1000], field="candidates") from e
    except ValueError as e:
        raise ApiError(422, "invalid_candidates", scrub(str(e))[:1000], field="candidates") from e


def _fmod():
    try:
        return __import__("carveout.scenarios.frontier", fromlist=["frontier"])
    except ImportError as e:  # the frontier module has not landed in this build
        raise ApiError(503, "unavailable", "carveout.scenarios.frontier is not installed in this build") from e


def _candidates_for(fmod, mod, body):
    cands = candidates_of(fmod, mod, body.candidates)
    limit = getattr(body, "max_combinations", None)
    if limit is not None and limit < cands.max_combinations:
        cands = cands.model_copy(update={"max_combinations": limit})
    return cands


def check_frontier_request(store, body) -> dict[str, Any]:
    """Validate a frontier request without running it (422/404/503 as the synchronous call would).

    Returns what a job records up front: the scenario's name, the ledger source, the number of combinations."""
    mod = _mod()
    fmod = _fmod()
    sc = scenario_of(mod, body.scenario or "baseline")
    cands = _candidates_for(fmod, mod, body)
    if body.transactions:
        source = f"{len(body.transactions)} transactions"
    elif body.job_id:
        run = _done_job(store, body.job_id)
        source = f"job {body.job_id} ({run.get('source')})"
    else:
        raise ApiError(422, "validation_error", "give `transactions` or a batch `job_id`", field="transactions")
    total = len(fmod.combinations(len(cands.candidates), cands.max_combinations))
    return {"scenario": sc.name, "source": source, "combinations": total}


class Cancelled(Exception):
    """The server is stopping: a frontier job gives up between two chunks of combinations."""


class _ProgressClient:
    """Runs ``frontier``'s chunks of combinations in this thread, one by one, reporting progress after each.

    ``carveout.scenarios.frontier`` has no progress hook, but its Dask path accepts a client object and only
    calls ``map`` and ``gather`` on it; this object is such a client, without a cluster."""

    def __init__(self, progress: Callable[[int], None], stop: threading.Event | None):
        self.progress = progress
        self.stop = stop
        self.done = 0

    def submit(self, fn, *args, **kw):  # presence marks this as a client (frontier then does not close it)
        return (fn, args)

    def map(self, fn, items, pure=False):
        return [(fn, (item,)) for item in items]

    def gather(self, futures):
        out = []
        for fn, args in futures:
            if self.stop is not None and self.stop.is_set():
                raise Cancelled("the server stopped before the frontier finished")
            part = fn(*args)
            out.append(part)
            self.done += len(part)
            self.progress(self.done)
        return out


def _can_report_progress(fmod) -> bool:
    try:  # frontier's Dask path imports distributed.Client before using the client it is given
        import distributed  # noqa: F401
    except ImportError:
        return False
    return hasattr(fmod, "_run_dask")


def frontier(store, body, progress: Callable[[str, int], None] | None = None,
             stop: threading.Event | None = None) -> dict[str, Any]:
    """Run the frontier. ``progress(stage, combinations_done)`` is called as it goes (stages: ``preparing``,
    ``evaluating``; ``combinations_done`` is 0 until evaluation reports), ``stop`` cancels between chunks."""
    mod = _mod()
    fmod = _fmod()
    sc = scenario_of(mod, body.scenario or "baseline")
    cands = _candidates_for(fmod, mod, body)
    if progress:
        progress("reading ledger", 0)
    ledger = _ledger(store, body)
    kw: dict[str, Any] = {"executor": "serial"}
    if progress and _can_report_progress(fmod):
        total = len(fmod.combinations(len(cands.candidates), cands.max_combinations))
        client = _ProgressClient(lambda done: progress("evaluating", done), stop)
        # ~20 progress steps; the chunks run serially in this thread, as with executor="serial"
        kw = {"executor": "dask", "scheduler": client, "chunk": max(1, math.ceil(total / 20))}
    if progress:
        progress("preparing" if kw["executor"] == "dask" else "preparing and evaluating", 0)
    try:
        res = fmod.frontier(ledger, sc, cands, as_of=body.as_of, **kw)
    except mod.ScenarioError as e:
        raise ApiError(422, "invalid_scenario", scrub(str(e))[:1000], field="scenario") from e
    except (ValueError, KeyError, TypeError) as e:
        raise ApiError(422, "invalid_candidates", f"{type(e).__name__}: {e}"[:1000], field="candidates") from e
    if kw["executor"] == "dask":
        res.stats.update(executor="serial", workers=1)  # what actually ran: this thread, chunk by chunk
    points = _rows(res.points, 2000)
    chart = None
    if points:
        chart = charts.scatter_chart(
            [{"relief_usd": p["relief_usd"], "security_kept_usd": p["security_kept_usd"],
              "on_frontier": bool(p.get("on_frontier")),
              "exemptions": ", ".join(map(str, p.get("exemptions") or [])) or "(none)"} for p in points],
            "relief_usd", "security_kept_usd", "exemptions", "on_frontier",
            "Exemption designs: economic relief vs security kept")
    return {"scenario": res.scenario, "as_of": _clean(res.as_of), "candidates": list(res.candidates),
            "frontier": _rows(res.frontier, 500), "points": points, "stats": _clean(res.stats), "chart": chart}
