"""Adapters to the parts of carveout that other packages provide (ledger IO, screening, scenarios).

The service imports them lazily: a part that is not installed makes its endpoint answer 503 with a JSON
error that says so, and ``/v1/health`` lists what is available.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import polars as pl

from carveout.facts import SCHEMA


class Unavailable(RuntimeError):
    """A feature whose package is not installed in this build."""


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def available() -> dict[str, bool]:
    sc = _module("carveout.scenarios")
    return {
        "ledger_io": _has(_module("carveout.io.ledger"), "read_ledger"),
        "screening": _has(_module("carveout.screening"), "screen"),
        "scenarios": _has(sc, "diff"),
        "frontier": _has(sc, "frontier"),
        "exposure": _has(sc, "exposure"),
    }


def _has(mod: Any, attr: str) -> bool:
    try:  # a package's lazy __getattr__ may fail to import a part not landed yet
        return mod is not None and getattr(mod, attr, None) is not None
    except Exception:
        return False


# ---------- ledger ----------
def read_ledger(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``carveout.io.ledger.read_ledger`` when installed; else a plain reader of facts-named columns."""
    mod = _module("carveout.io.ledger")
    if mod is None or not hasattr(mod, "read_ledger"):
        return _fallback_read(path)
    out = mod.read_ledger(path)
    if isinstance(out, tuple):
        return out[0], out[1]
    facts = out.facts  # carveout.io.ledger.Ledger: typed facts plus `line` and `error`
    errors = out.errors if hasattr(out, "errors") else facts.filter(pl.col("error").is_not_null())
    errors = errors.rename({"error": "message"}) if "error" in errors.columns else errors
    return facts, errors


class LedgerUnreadable(ValueError):
    pass


def ledger_error_types() -> tuple[type[BaseException], ...]:
    mod = _module("carveout.io.ledger")
    err = getattr(mod, "LedgerError", None) if mod is not None else None
    return (err,) if err is not None else ()


def _fallback_read(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        raw = pl.read_parquet(path)
    else:
        raw = pl.read_csv(path, infer_schema=False)
    errors = []
    exprs = []
    for name, (dtype, _) in SCHEMA.items():
        if name == "row" or name not in raw.columns:
            continue
        col = raw.get_column(name)
        if dtype == pl.Boolean() and col.dtype == pl.String:
            low = col.str.strip_chars().str.to_lowercase()
            cast = low.replace_strict({"true": True, "yes": True, "1": True, "false": False, "no": False,
                                       "0": False, "": None}, default=None, return_dtype=pl.Boolean)
        else:
            cast = col.cast(dtype, strict=False)
        bad = (col.is_not_null() & cast.is_null() & (col.cast(pl.String).str.strip_chars() != "")).arg_true()
        for i in bad.to_list()[:1000]:
            errors.append({"row": i + 1, "column": name, "value": str(col[i]),
                           "message": f"expected {dtype}"})
        exprs.append(cast.alias(name))
    facts = pl.DataFrame(exprs) if exprs else pl.DataFrame({"_": [None] * raw.height}).drop("_")
    facts = facts.with_row_index("row", offset=1)
    return facts, pl.DataFrame(errors, schema={"row": pl.Int64, "column": pl.String, "value": pl.String,
                                               "message": pl.String})


# ---------- screening ----------
def screen(name: str, country: str | None) -> Any:
    mod = _module("carveout.screening")
    if mod is None or not hasattr(mod, "screen"):
        raise Unavailable("screening is not installed in this build (carveout.screening.screen)")
    return mod.screen(name, country=country)


# ---------- scenarios ----------
def scenarios() -> Any:
    mod = _module("carveout.scenarios")
    if not _has(mod, "diff"):
        raise Unavailable("scenarios are not installed in this build (carveout.scenarios.diff)")
    return mod


def warm() -> None:
    """Load the screening index once at startup, so the first request does not pay for it."""
    import logging

    if not available()["screening"]:
        return
    try:
        _module("carveout.screening").get_screener()
    except Exception:  # the first screen() call will report the problem in its own request
        logging.getLogger("carveout.service").warning("screening index could not be loaded at startup",
                                                      exc_info=True)
