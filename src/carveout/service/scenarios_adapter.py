"""The scenario endpoints: ``carveout.scenarios.diff`` / ``exposure`` / ``frontier`` on a ledger.

A scenario comes as the name of a shipped scenario, a YAML document (text) or the same as JSON; never as
a path (the API does not read the server's files).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from carveout.api import frame_of
from carveout.service import charts, features
from carveout.service.errors import ApiError

MAX_ROWS_OUT = 500


def _mod():
    try:
        return features.scenarios()
    except features.Unavailable as e:
        raise ApiError(503, "unavailable", str(e)) from e


def _ledger(store, body) -> pl.DataFrame:
    if body.transactions:
        return frame_of([t.facts() for t in body.transactions]).with_row_index("row", offset=1)
    if body.job_id:
        run = store.run(body.job_id)
        if run is None or run.get("kind") != "batch" or not run.get("upload_path"):
            raise ApiError(404, "not_found", f"no batch job {body.job_id!r}", field="job_id")
        facts, _ = features.read_ledger(Path(run["upload_path"]))
        return facts if "row" in facts.columns else facts.with_row_index("row", offset=1)
    raise ApiError(422, "validation_error", "give `transactions` or a batch `job_id`", field="transactions")


def scenario_of(mod, ref: dict[str, Any] | str | None):
    if ref is None:
        raise ApiError(422, "validation_error", "a scenario is required", field="scenario")
    try:
        if isinstance(ref, str):
            if ref.strip() in mod.builtin_names():
                return mod.load(ref.strip())
            try:
                doc = yaml.safe_load(ref)
            except yaml.YAMLError as e:
                raise ApiError(422, "invalid_scenario", f"scenario is not valid YAML: {e}"[:400],
                               field="scenario") from e
            if isinstance(doc, str):
                raise ApiError(422, "invalid_scenario",
                               f"no shipped scenario {ref[:60]!r} (shipped: {', '.join(mod.builtin_names())})",
                               field="scenario")
            return mod.parse(doc, "<request>")
        return mod.parse(ref, "<request>")
    except mod.ScenarioError as e:
        problems = getattr(e, "problems", None) or []
        first = problems[0][0] if problems else None
        raise ApiError(422, "invalid_scenario", str(e)[:1000],
                       field=f"scenario.{first}" if first and first != "(top level)" else "scenario",
                       problems=[{"field": p, "message": m} for p, m in problems][:50]) from e
    except (ValueError, TypeError, KeyError, FileNotFoundError) as e:
        raise ApiError(422, "invalid_scenario", f"scenario: {e}"[:1000], field="scenario") from e


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
        raise ApiError(422, "invalid_scenario", str(e)[:1000], field="scenario") from e
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
    out["chart"] = charts_out.get("exposure_by_company") or charts_out.get("by_destination")
    return out


def frontier(store, body) -> dict[str, Any]:
    mod = _mod()
    try:
        fn = mod.frontier
    except Exception as e:  # the frontier module has not landed in this build
        raise ApiError(503, "unavailable", "carveout.scenarios.frontier is not installed in this build") from e
    ledger = _ledger(store, body)
    kwargs: dict[str, Any] = {}
    if body.designs:
        kwargs["designs"] = body.designs
    try:
        res = fn(ledger, **kwargs)
    except (ValueError, TypeError, KeyError) as e:
        raise ApiError(422, "invalid_request", str(e)[:1000], field="designs") from e
    if isinstance(res, pl.DataFrame):
        rows = _rows(res, 2000)
    elif hasattr(res, "points") and isinstance(res.points, pl.DataFrame):
        rows = _rows(res.points, 2000)
    else:
        rows = _clean(res if isinstance(res, list) else getattr(res, "__dict__", {"result": str(res)}))
    chart = None
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        num = [k for k, v in rows[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
        flag = next((k for k in rows[0] if "pareto" in k.lower()), None)
        if len(num) >= 2:
            x = next((k for k in num if "relief" in k), num[0])
            y = next((k for k in num if "security" in k), num[1])
            chart = charts.scatter_chart(rows, x, y, "design", flag, "Exemption designs: relief vs security kept")
    return {"result": rows, "chart": chart}
