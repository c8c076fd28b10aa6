"""The scenario endpoints call ``carveout.scenarios`` (diff, frontier, exposure) when it is installed."""

from __future__ import annotations

import inspect
from typing import Any

import polars as pl

from carveout.api import frame_of
from carveout.service import features
from carveout.service.errors import ApiError


def _ledger(store, body) -> pl.DataFrame:
    if body.transactions:
        return frame_of([t.facts() for t in body.transactions])
    if body.job_id:
        run = store.run(body.job_id)
        if run is None or not run.get("upload_path"):
            raise ApiError(404, "not_found", f"no batch job {body.job_id!r}", field="job_id")
        facts, _ = features.read_ledger(__import__("pathlib").Path(run["upload_path"]))
        return facts
    raise ApiError(422, "validation_error", "give transactions or job_id", field="transactions")


def _mod():
    try:
        return features.scenarios()
    except features.Unavailable as e:
        raise ApiError(503, "unavailable", str(e)) from e


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, pl.DataFrame):
        return obj.to_dicts()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return obj


def load_scenario(mod, doc):
    for name in ("load", "load_scenario", "parse", "from_yaml"):
        fn = getattr(mod, name, None)
        if fn is not None:
            try:
                return fn(doc)
            except (ValueError, TypeError, KeyError) as e:
                raise ApiError(422, "invalid_scenario", f"scenario: {e}", field="scenario") from e
    return doc


def diff(store, body) -> dict[str, Any]:
    mod = _mod()
    ledger = _ledger(store, body)
    sc = load_scenario(mod, body.scenario)
    fn = mod.diff
    params = list(inspect.signature(fn).parameters)
    try:
        res = fn(None, sc, ledger) if params[:1] == ["baseline"] else fn(sc, ledger)
    except (ValueError, TypeError, KeyError) as e:
        raise ApiError(422, "invalid_scenario", f"scenario: {e}", field="scenario") from e
    return {"result": _jsonable(res)}


def frontier(store, body) -> dict[str, Any]:
    mod = _mod()
    if not hasattr(mod, "frontier"):
        raise ApiError(503, "unavailable", "carveout.scenarios.frontier is not installed in this build")
    ledger = _ledger(store, body)
    try:
        res = mod.frontier(ledger, designs=body.designs) if body.designs else mod.frontier(ledger)
    except (ValueError, TypeError, KeyError) as e:
        raise ApiError(422, "invalid_request", str(e), field="designs") from e
    return {"result": _jsonable(res)}
