"""Ledger files (CSV, Parquet, Excel) to the facts frame, with errors that name file, line and column.

Bad cells do not drop a row: the row keeps going with that fact unknown (so it can only come out
``needs_review``) and carries the error text in ``error``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from carveout.facts import END_USES, FOOTNOTES, ITEM_KINDS, SCHEMA, TRANSACTION_TYPES

# Friendly column names a user may write, mapped to fact names.
ALIASES = {
    "eccn": "eccn_declared", "kind": "item_kind", "item": "item_name", "name": "item_name",
    "end_user": "end_user_name", "listed": "end_user_listed", "footnote": "entity_list_footnote",
    "headquarters_country": "end_user_hq_country", "end_user_headquarters_country": "end_user_hq_country",
    "value": "value_usd", "qty": "quantity",
}
COUNTRY_COLUMNS = ("ship_from", "destination", "end_user_country", "end_user_hq_country", "exporter_hq_country")
COUNTRY_HINTS = {
    "CHINA": "CN", "PRC": "CN", "MACAU": "MO", "MACAO": "MO", "HONG KONG": "HK", "KOREA": "KR",
    "SOUTH KOREA": "KR", "TAIWAN": "TW", "JAPAN": "JP", "NETHERLANDS": "NL", "USA": "US",
    "UNITED STATES": "US", "GERMANY": "DE", "SINGAPORE": "SG", "RUSSIA": "RU", "INDIA": "IN",
}
TRUE = ("true", "yes", "y", "1", "t")
FALSE = ("false", "no", "n", "0", "f")


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


def _check(col: str, raw: pl.Expr, parsed: pl.Expr, expected: str) -> pl.Expr:
    bad = raw.is_not_null() & (raw.str.strip_chars() != "") & parsed.is_null()
    return pl.when(bad).then(pl.format("column {}: {} is not {}", pl.lit(col), raw.str.slice(0, 40), pl.lit(expected)))


def parse_frame(raw: pl.DataFrame, where: Callable[[pl.Expr], pl.Expr] | None = None,
                path: str = "<frame>") -> Ledger:
    """Type a frame of strings into facts; collect per-cell errors instead of failing the file."""
    raw = raw.rename({c: ALIASES.get(c.strip().lower(), c.strip().lower()) for c in raw.columns})
    where = where or (lambda i: pl.format("row {}", i + 1))
    unknown = [c for c in raw.columns if c not in SCHEMA]
    raw = raw.with_row_index("_i")
    exprs, checks = [], []
    for name, (dtype, _) in SCHEMA.items():
        if name == "row" or name not in raw.columns:
            continue
        if raw.schema[name].is_nested():
            exprs.append(pl.lit(None, dtype).alias(name))
            checks.append(pl.when(pl.col(name).is_not_null()).then(pl.format(
                "column {}: a {} value is not {}", pl.lit(name), pl.lit(str(raw.schema[name])), pl.lit(str(dtype)))))
            continue
        if raw.schema[name] == dtype and dtype != pl.String():
            exprs.append(pl.col(name))  # already typed (Parquet): nothing to parse
            continue
        if raw.schema[name] in (pl.Float64(), pl.Float32(), pl.Int64(), pl.Int32()) and dtype == pl.Float64():
            exprs.append(pl.col(name).cast(pl.Float64))
            checks.append(pl.when(pl.col(name) < 0).then(pl.format("column {}: {} is not a non-negative number",
                                                                     pl.lit(name), pl.col(name))))
            continue
        r = pl.col(name).cast(pl.String).str.strip_chars()
        r = pl.when(r == "").then(None).otherwise(r)
        if dtype == pl.Boolean():
            low = r.str.to_lowercase()
            parsed = pl.when(low.is_in(TRUE)).then(True).when(low.is_in(FALSE)).then(False)
            checks.append(_check(name, r, parsed, "true/false"))
        elif dtype == pl.Date():
            parsed = r.str.to_date("%Y-%m-%d", strict=False)
            checks.append(_check(name, r, parsed, "a date YYYY-MM-DD"))
        elif dtype in (pl.Float64(), pl.Int8(), pl.UInt32()):
            parsed = r.str.replace_all(",", "").cast(pl.Float64, strict=False)
            if name == "entity_list_footnote":
                parsed = pl.when(parsed.is_in([0.0, *map(float, FOOTNOTES)])).then(parsed.cast(pl.Int8))
                checks.append(_check(name, r, parsed, f"an Entity List footnote (0, {', '.join(map(str, FOOTNOTES))})"))
            else:
                parsed = pl.when(parsed >= 0).then(parsed)
                checks.append(_check(name, r, parsed, "a non-negative number"))
        elif name in COUNTRY_COLUMNS:
            up = r.str.to_uppercase()
            parsed = pl.when(up.str.contains(r"^[A-Z]{2}$")).then(up)
            hint = up.replace_strict(COUNTRY_HINTS, default=None)
            checks.append(pl.when(r.is_not_null() & parsed.is_null()).then(pl.format(
                "column {}: {} is not an ISO 3166 alpha-2 code{}", pl.lit(name), r.str.slice(0, 40),
                pl.when(hint.is_not_null()).then(pl.format(" (did you mean {}?)", hint)).otherwise(pl.lit(""))))
            )
        elif name in ("item_kind", "transaction_type", "end_use"):
            vocab = {"item_kind": ITEM_KINDS, "transaction_type": TRANSACTION_TYPES, "end_use": END_USES}[name]
            low = r.str.to_lowercase().str.replace_all("_", " ") if name == "transaction_type" else r.str.to_lowercase()
            parsed = pl.when(low.is_in(list(vocab))).then(low)
            checks.append(_check(name, r, parsed, "one of " + " | ".join(vocab)))
        else:
            parsed = r
        exprs.append(parsed.alias(name))
    err = pl.concat_str(checks, separator="; ", ignore_nulls=True) if checks else pl.lit(None, pl.String)
    # Errors are read from the raw text, in the same pass that replaces it with typed values.
    out = raw.with_columns(*exprs, line=where(pl.col("_i")), error=err.replace("", None))
    out = out.with_columns(
        error=pl.when(pl.col("error").is_not_null()).then(pl.format("{}, {}", pl.col("line"), pl.col("error")))
    )
    return Ledger(out.drop("_i"), path, unknown)


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
