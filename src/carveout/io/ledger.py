"""Ledger files (CSV, Parquet, Excel) to the facts frame, with errors that name file, line and column.

Bad cells do not drop a row: the row keeps going with that fact unknown (so it can only come out
``needs_review``) and carries the error text in ``error``.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from carveout import boundary
from carveout.facts import SCHEMA

# Friendly column names a user may write, mapped to fact names.
ALIASES = {
    "eccn": "eccn_declared", "kind": "item_kind", "item": "item_name", "name": "item_name",
    "end_user": "end_user_name", "listed": "end_user_listed", "footnote": "entity_list_footnote",
    "headquarters_country": "end_user_hq_country", "end_user_headquarters_country": "end_user_hq_country",
    "value": "value_usd", "qty": "quantity",
}
class LedgerError(ValueError):
    """A ledger that cannot be read at all (not a row-level problem)."""


@dataclass
class Ledger:
    facts: pl.DataFrame  # one row per input row, fact columns typed, plus `line` and `error`
    path: str
    unknown_columns: list[str]

    @property
    def errors(self) -> pl.DataFrame:
        return self.facts.filter(pl.col("error").is_not_null()).select("line", "error")


def _read_raw(path: Path) -> tuple[pl.DataFrame, Callable[[pl.Expr], pl.Expr]]:
    suffix = path.suffix.lower()
    if not path.exists():
        raise LedgerError(f"{path}: no such file")
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            raw = pl.read_csv(path, infer_schema=False, separator="\t" if suffix == ".tsv" else ",",
                              truncate_ragged_lines=False)
            return raw, lambda i: pl.format("{} line {}", pl.lit(str(path)), i + 2)
        if suffix in (".parquet", ".pq"):
            raw = pl.read_parquet(path)  # typed columns are kept; parse_frame only checks them
            return raw, lambda i: pl.format("{} row {}", pl.lit(str(path)), i + 1)
        if suffix in (".xlsx", ".xls"):
            raw = pl.read_excel(path, infer_schema_length=0)
            raw = raw.with_columns(pl.all().cast(pl.String))
            return raw, lambda i: pl.format("{} row {}", pl.lit(str(path)), i + 2)
    except Exception as exc:  # noqa: BLE001 - Polars, Arrow and the Excel reader raise their own types
        raise LedgerError(f"{path}: cannot be read as {suffix[1:]}: {exc}") from None
    raise LedgerError(f"{path}: unsupported ledger format {suffix!r} (expected .csv, .parquet or .xlsx)")


def parse_frame(raw: pl.DataFrame, where: Callable[[pl.Expr], pl.Expr] | None = None,
                path: str = "<frame>") -> Ledger:
    """Type a frame of strings into facts; collect per-cell errors instead of failing the file.

    Every check is the boundary's (``carveout.boundary``): cell formats here, vocabularies and ranges in
    ``validate_frame``. The text of every cell that could not be used is kept in ``unparsed`` (a JSON
    object, column -> raw text); a user's own ``row`` column is kept as ``input_row``."""
    raw = raw.rename({c: ALIASES.get(c.strip().lower(), c.strip().lower()) for c in raw.columns})
    if "row" in raw.columns:
        raw = raw.rename({"row": "input_row"}) if "input_row" not in raw.columns else raw.drop("row")
    where = where or (lambda i: pl.format("row {}", i + 1))
    unknown = [c for c in raw.columns if c not in SCHEMA and c != "input_row"]
    misspelled = _misspelled(unknown, raw.columns)
    facts = [n for n in SCHEMA if n != "row" and n in raw.columns]
    raw = raw.with_row_index("_i").with_columns(
        [pl.col(n).cast(pl.String).alias(f"_raw:{n}") for n in facts if not raw.schema[n].is_nested()]
        + [pl.struct(pl.col(n)).struct.json_encode().str.slice(len(n) + 4).str.strip_suffix("}").alias(f"_raw:{n}")
           for n in facts if raw.schema[n].is_nested()]
    )
    exprs, checks = [], []
    for name in facts:
        dtype = SCHEMA[name][0]
        have = raw.schema[name]
        if have.is_nested():
            exprs.append(pl.lit(None, dtype).alias(name))
            checks.append(pl.when(pl.col(name).is_not_null()).then(pl.format(
                "column {}: a {} value is not {}", pl.lit(name), pl.lit(str(have)), pl.lit(str(dtype)))))
            continue
        if have == dtype and dtype != pl.String():
            exprs.append(pl.col(name))  # already typed (Parquet): ranges are checked below
            continue
        if have.is_numeric() and dtype == pl.Float64():
            exprs.append(pl.col(name).cast(pl.Float64))
            continue
        r = boundary.clean_expr(pl.col(f"_raw:{name}"))
        r = pl.when(r != "").then(r)
        parsed, expected = boundary.parse_cell(r, dtype, name)
        if dtype != pl.String():
            checks.append(pl.when(r.is_not_null() & parsed.is_null()).then(pl.format(
                "column {}: '{}' is not {}", pl.lit(name), r.str.slice(0, 80), pl.lit(expected))))
        exprs.append(parsed.alias(name))
    for col, fact in misspelled.items():
        cell = pl.col(col).cast(pl.String).str.strip_chars()
        checks.append(pl.when(cell.is_not_null() & (cell != "")).then(pl.lit(
            f"column {col}: not a column carveout knows (did you mean {fact}?); its value was not used")))
    err = pl.concat_str(checks, separator="; ", ignore_nulls=True) if checks else pl.lit(None, pl.String)
    # Errors are read from the raw text, in the same pass that replaces it with typed values.
    out = raw.with_columns(*exprs, line=where(pl.col("_i")), error=err.replace("", None))
    out = boundary.validate_frame(out)  # vocabularies (countries, ECCNs, kinds, end uses) and ranges
    lost = [
        pl.when(pl.col(f"_raw:{n}").str.strip_chars().ne("").fill_null(False) & pl.col(n).is_null())
        .then(pl.struct(pl.col(f"_raw:{n}").alias(n)).struct.json_encode().str.slice(1).str.strip_suffix("}"))
        for n in facts
    ] + [
        pl.when(pl.col(c).cast(pl.String).str.strip_chars().ne("").fill_null(False))
        .then(pl.struct(pl.col(c).cast(pl.String)).struct.json_encode().str.slice(1).str.strip_suffix("}"))
        for c in misspelled
    ]
    unparsed = pl.concat_str(lost, separator=",", ignore_nulls=True) if lost else pl.lit("")
    out = out.with_columns(
        error=pl.when(pl.col("error").is_not_null()).then(pl.format("{}, {}", pl.col("line"), pl.col("error"))),
        unparsed=pl.when(unparsed != "").then(pl.concat_str([pl.lit("{"), unparsed, pl.lit("}")])),
    )
    return Ledger(out.drop(["_i", *[c for c in out.columns if c.startswith("_raw:")]]), path, unknown)


def _misspelled(unknown: list[str], present: list[str]) -> dict[str, str]:
    """Unknown columns that look like a fact the ledger lacks (``is_informd``): their values would be
    silently dropped, so every row that fills one gets an error instead."""
    names = [n for n in SCHEMA if n != "row"] + list(ALIASES)
    out = {}
    for c in unknown:
        match = difflib.get_close_matches(c, names, n=1, cutoff=0.85)
        if match:
            fact = ALIASES.get(match[0], match[0])
            if fact not in present:
                out[c] = fact
    return out


def read_ledger(path: str | os.PathLike) -> Ledger:
    p = Path(path)
    raw, where = _read_raw(p)
    if raw.height == 0:
        return Ledger(raw.with_columns(line=pl.lit(None, pl.String), error=pl.lit(None, pl.String)), str(p), [])
    return parse_frame(raw, where, str(p))


def atomic_write(frame: pl.DataFrame, out: str | os.PathLike) -> Path:
    """Write to a temp file beside ``out`` and rename: a failure never leaves a partial file."""
    dest = Path(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    try:
        suffix = dest.suffix.lower()
        if suffix in (".parquet", ".pq"):
            frame.write_parquet(tmp)
        elif suffix == ".xlsx":
            flat(frame).write_excel(tmp)
        elif suffix in (".csv", ".txt"):
            flat(frame).write_csv(tmp)
        elif suffix == ".json":
            frame.write_json(tmp)
        else:
            raise LedgerError(f"{dest}: unsupported output format {suffix!r} (.csv, .parquet, .xlsx, .json)")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; the result is an ordinary file
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become '; '-joined text for CSV and Excel."""
    return frame.with_columns(
        [pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c, t in frame.schema.items()
         if isinstance(t, pl.List)]
    )


def today() -> date:
    return date.today()
