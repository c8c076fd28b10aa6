"""Sniff an uploaded ledger before it is accepted (202): a job must not be the first to find out a file is junk.

A CSV must decode as UTF-8 text without NUL bytes and name at least one ledger column. A Parquet file must
carry its magic bytes at both ends, flat columns, and — measured while it is decoded column by column, not
taken from its metadata — no more than ``max_decoded_bytes`` of data, so a small file that decompresses to
gigabytes is refused. No cell may be longer than ``max_cell_chars``. What is refused never touches the disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl

from carveout.facts import SCHEMA
from carveout.service.errors import ApiError

MAGIC = b"PAR1"


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_decoded_bytes: int = 256 << 20
    max_cell_chars: int = 4096


def _bad(name: str, why: str, status: int = 422, error: str = "unreadable_file", **extra) -> ApiError:
    return ApiError(status, error, f"{name}: {why}", field="file", **extra)


def _known_columns(cols: list[str]) -> bool:
    try:
        from carveout.io.ledger import ALIASES
    except ImportError:  # pragma: no cover - the ledger reader is part of the package
        ALIASES = {}
    names = {ALIASES.get(c.strip().lower(), c.strip().lower()) for c in cols}
    return bool(names & set(SCHEMA))


def _csv(name: str, data: bytes, lim: Limits) -> pl.DataFrame:
    if b"\x00" in data:
        raise _bad(name, "is not a text file (it contains NUL bytes); upload a UTF-8 CSV or a Parquet file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(name, f"is not UTF-8 text (byte {e.start}); save the CSV as UTF-8") from e
    try:
        return pl.read_csv(io.BytesIO(data), infer_schema=False)
    except Exception as e:
        raise _bad(name, f"could not be read as CSV: {str(e).splitlines()[0][:200]}") from e


def _parquet(name: str, data: bytes, lim: Limits) -> tuple[list[str], int]:
    """Column names and row count of a Parquet upload whose decoded size and cells are within the limits.

    String columns are read as dictionaries (what a compressible column usually is on disk), so a column of
    one long value repeated a million times is measured — dictionary value lengths times their uses —
    without ever being expanded."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if len(data) < 12 or data[:4] != MAGIC or data[-4:] != MAGIC:
        raise _bad(name, "is not a Parquet file (no PAR1 magic bytes)")
    try:
        schema = pq.ParquetFile(io.BytesIO(data)).schema_arrow
        nested = [f.name for f in schema if pa.types.is_nested(f.type)]
        if nested:
            raise _bad(name, f"column {nested[0]!r} is nested; a ledger has flat columns")
        texts = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                 or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)
                 or pa.types.is_dictionary(f.type)]
        pf = pq.ParquetFile(io.BytesIO(data), read_dictionary=texts)
        meta = pf.metadata
        if meta.num_rows > lim.max_rows:
            raise _bad(name, f"has {meta.num_rows} rows; the limit is {lim.max_rows}", 413, "too_many_rows",
                       rows=meta.num_rows, limit_rows=lim.max_rows)
        used = 0
        for i in range(meta.num_row_groups):  # column by column, counting what it decodes to
            for c in schema.names:
                col = pf.read_row_group(i, columns=[c]).column(0)
                for chunk in col.chunks:
                    if pa.types.is_dictionary(chunk.type):
                        values = chunk.dictionary
                        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                            lengths = pc.binary_length(values)
                            longest = pc.max(pc.utf8_length(values)).as_py()
                        else:
                            lengths = pc.binary_length(values.cast(pa.binary()))
                            longest = pc.max(lengths).as_py()
                        used += (pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0) + chunk.indices.nbytes
                    else:
                        used += chunk.nbytes
                        longest = (pc.max(pc.utf8_length(chunk)).as_py()
                                   if pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
                                   else None)
                    if longest is not None and longest > lim.max_cell_chars:
                        raise _bad(name, f"column {c!r} has a cell of {longest} characters; the limit is "
                                   f"{lim.max_cell_chars}")
                    if used > lim.max_decoded_bytes:
                        raise _too_big(name, lim)
        return list(schema.names), meta.num_rows
    except ApiError:
        raise
    except Exception as e:
        raise _bad(name, f"could not be read as Parquet: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}"
                   ) from e


def _too_big(name: str, lim: Limits) -> ApiError:
    return _bad(name, f"decodes to more than {lim.max_decoded_bytes} bytes", 413, "too_large",
                limit_bytes=lim.max_decoded_bytes)


def sniff(name: str, suffix: str, data: bytes, lim: Limits) -> int:
    """The number of data rows, or an ``ApiError`` (422 unreadable, 413 too large) saying what is wrong."""
    if suffix in (".parquet", ".pq"):
        columns, rows = _parquet(name, data, lim)
    else:
        frame = _csv(name, data, lim)
        columns, rows = frame.columns, frame.height
        for c in frame.columns:
            longest = frame.get_column(c).str.len_chars().max()
            if longest is not None and longest > lim.max_cell_chars:
                raise _bad(name, f"column {c!r} has a cell of {longest} characters; the limit is "
                           f"{lim.max_cell_chars}")
    if not _known_columns(columns):
        raise _bad(name, "names none of the ledger's columns (e.g. date, item_kind, tpp, destination)")
    if rows > lim.max_rows:
        raise _bad(name, f"has {rows} rows; the limit is {lim.max_rows}", 413, "too_many_rows",
                   rows=rows, limit_rows=lim.max_rows)
    return rows
