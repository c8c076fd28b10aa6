"""Readers for restricted-party lists: packaged CSL projection, trade.gov bulk JSON/CSV, OpenSanctions FtM.

Every reader returns the same Polars frame (see PARTY_SCHEMA) so matching never cares where a list came from.
Bad input raises ListFormatError naming file, line and field: a silently skipped party is a missed match.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from .errors import ListFormatError
from .frdates import FRDater

DEFAULT_LIST_FILE = "consolidated-screening-list-2026-07-31.json"

PARTY_SCHEMA: dict[str, pl.DataType] = {
    "party_id": pl.String(),
    "list_code": pl.String(),
    "list_name": pl.String(),
    "name": pl.String(),
    "aliases": pl.List(pl.String()),
    "countries": pl.List(pl.String()),
    "addresses": pl.List(pl.String()),
    "entity_type": pl.String(),
    "programs": pl.List(pl.String()),
    "fr_notice": pl.String(),
    "listed_since": pl.Date(),
    "listed_since_basis": pl.String(),
    "el_footnote": pl.Int8(),
    "license_requirement": pl.String(),
    "license_policy": pl.String(),
    "source_url": pl.String(),
}

# Footnote markers sit as bare digits after a closing parenthesis ("EAR)4", "734.9(g),3", "734.9(e) 1") or
# right after "EAR" ("EAR2"). Paragraph numbers are in parentheses and never match.
_FN_AFTER_PAREN = re.compile(r"\)\s*,?\s*(\d)(?![\d()])")
_FN_AFTER_EAR = re.compile(r"\bEAR\s?(\d)(?!\d)")
MEANINGFUL_FOOTNOTES = frozenset({1, 3, 4, 5})  # 1,4,5 -> 734.9(e)(1)/(e)(2)/(e)(3); 3 -> 734.9(g)

_CODE_IN_PARENS = re.compile(r"\(([^()]+)\)")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

# OpenSanctions dataset names -> CSL list codes
_OS_DATASETS = {
    "us_ofac_sdn": "SDN",
    "us_ofac_cons": "NS-MBS",
    "us_bis_denied": "DPL",
    "us_trade_csl": "CSL",
    "us_cmic_ns": "CMIC",
    "us_ddtc_debarred": "DTC",
    "us_state_isn": "ISN",
}
_FTM_PARTY_SCHEMAS = {"Person", "Organization", "Company", "LegalEntity", "PublicBody", "Vessel", "Airplane"}


def parse_footnote(license_requirement: str | None) -> int | None:
    """Entity List footnote (1, 3, 4 or 5) encoded in a license_requirement string, else None."""
    if not license_requirement:
        return None
    marks = [int(m.group(1)) for m in _FN_AFTER_PAREN.finditer(license_requirement)]
    marks += [int(m.group(1)) for m in _FN_AFTER_EAR.finditer(license_requirement)]
    useful = [m for m in marks if m in MEANINGFUL_FOOTNOTES]
    return min(useful) if useful else None


def list_code_of(source: str) -> str:
    """'Entity List (EL) - Bureau of Industry and Security' -> 'EL'; '(NS-MBS List)' -> 'NS-MBS'."""
    m = _CODE_IN_PARENS.search(source or "")
    if not m:
        return (source or "UNKNOWN").strip().upper()[:12]
    return re.sub(r"\s+List$", "", m.group(1).strip())


@dataclass
class PartyList:
    """A loaded list: one frame of parties plus the facts every result must carry (date, provenance)."""

    parties: pl.DataFrame
    list_date: date
    source: str
    format: str
    content_hash: str
    list_date_basis: str = "file"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.parties.height

    def counts_by_list(self) -> pl.DataFrame:
        return self.parties.group_by("list_code").len("parties").sort("parties", descending=True)


# ----------------------------------------------------------------------------------------------- helpers


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _record_line(text: str, key: str | None, index: int) -> int | None:
    """Line where element `index` of the top-level array (or of obj[key]) starts; only used on error."""
    dec = json.JSONDecoder()
    if key is None:
        pos = text.index("[")
    else:
        m = re.search(r'"' + re.escape(key) + r'"\s*:\s*\[', text)
        if not m:
            return None
        pos = m.end() - 1
    pos += 1
    for i in range(index + 1):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if i == index:
            return _line_of(text, pos)
        try:
            _, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError:
            return None
    return None


def _str_list(value: Any, path: str, line: int | None, fname: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v.strip()]
    raise ListFormatError(path, line, fname, f"expected a list of strings, got {json.dumps(value)[:80]}")


def _iso_date(value: Any, path: str, line: int | None, fname: str) -> date | None:
    if value in (None, ""):
        return None
    m = _ISO_DAY.match(str(value).strip())
    if not m:
        raise ListFormatError(path, line, fname, f"{value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ListFormatError(path, line, fname, f"{value!r} is not a valid date ({exc})") from None


def _date_from_name(path: str) -> date | None:
    m = _ISO_DAY.search(Path(path).name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _fallback_list_date(path: str, p: Path | None) -> tuple[date, str]:
    d = _date_from_name(path)
    if d:
        return d, "file name"
    if p is not None and p.exists():
        return datetime.fromtimestamp(p.stat().st_mtime).date(), "file modification time"
    return date.today(), "load time"


def _finish(rows: list[dict[str, Any]], dater: FRDater) -> pl.DataFrame:
    """Fill derived columns, make ids unique, and build the typed frame."""
    seen: dict[str, int] = {}
    for r in rows:
        if r.get("listed_since") is None and r.get("fr_notice"):
            r["listed_since"], r["listed_since_basis"] = dater.earliest(r["fr_notice"])
        elif r.get("listed_since") is not None and not r.get("listed_since_basis"):
            r["listed_since_basis"] = "start_date"
        r["el_footnote"] = parse_footnote(r.get("license_requirement")) if r["list_code"] == "EL" else None
        pid = r["party_id"]
        n = seen.get(pid, 0) + 1
        seen[pid] = n
        if n > 1:
            r["party_id"] = f"{pid}~{n}"
    # via Arrow: Polars' own constructor is ~20x slower on list columns built from Python objects
    arrays = {}
    for k, dtype in PARTY_SCHEMA.items():
        vals = [r.get(k) for r in rows]
        if isinstance(dtype, pl.List):
            arrays[k] = pa.array([v or [] for v in vals], type=pa.list_(pa.string()))
        elif dtype == pl.Date():
            arrays[k] = pa.array(vals, type=pa.date32())
        elif dtype == pl.Int8():
            arrays[k] = pa.array(vals, type=pa.int8())
        else:
            arrays[k] = pa.array(vals, type=pa.string())
    frame = pl.from_arrow(pa.table(arrays))
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(PARTY_SCHEMA)


def _synthetic_id(code: str, *parts: Any) -> str:
    h = hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:10]
    return f"{code}-{h}"


# ----------------------------------------------------------------------------------------------- formats


def _load_compact(doc: dict[str, Any], text: str, path: str) -> tuple[list[dict[str, Any]], date | None]:
    tables = doc.get("tables") or {}
    sources = tables.get("sources") or []
    lrs = tables.get("licenceRequirements") or []
    lps = tables.get("licencePolicies") or []
    progs = tables.get("programmes") or []
    urls = tables.get("urls") or []
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise ListFormatError(path, None, "entries", "compact CSL file has no 'entries' array")

    def idx(e: dict[str, Any], i: int, key: str, table: list[str]) -> str | None:
        v = e.get(key)
        if v is None:
            return None
        if not isinstance(v, int) or not 0 <= v < len(table):
            raise ListFormatError(
                path,
                _record_line(text, "entries", i),
                key,
                f"index {v!r} is outside tables ({len(table)} entries)",
            )
        return table[v]

    rows = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise ListFormatError(path, _record_line(text, "entries", i), None, "entry is not an object")
        name = e.get("n")
        if not isinstance(name, str) or not name.strip():
            raise ListFormatError(path, _record_line(text, "entries", i), "n", "entry has no name")
        source = idx(e, i, "s", sources)
        if source is None:
            raise ListFormatError(path, _record_line(text, "entries", i), "s", "entry has no source list")
        code = list_code_of(source)
        line = None
        countries = [c.upper() for c in _str_list(e.get("c"), path, line, "c")]
        pg = e.get("pg")
        programs = [idx(e, i, "pg", progs)] if isinstance(pg, int) else _str_list(pg, path, line, "pg")
        num = e.get("e")
        pid = f"{code}-{num}" if num else _synthetic_id(code, name, countries, e.get("fr"), e.get("lr"))
        rows.append(
            {
                "party_id": pid,
                "list_code": code,
                "list_name": source,
                "name": name.strip(),
                "aliases": _str_list(e.get("a"), path, line, "a"),
                "countries": countries,
                "addresses": [],
                "entity_type": e.get("t"),
                "programs": [p for p in programs if p],
                "fr_notice": e.get("fr"),
                "license_requirement": idx(e, i, "lr", lrs),
                "license_policy": idx(e, i, "lp", lps),
                "source_url": idx(e, i, "u", urls),
            }
        )
    d = _iso_date(str(doc.get("sourceGeneratedAt") or "")[:10] or None, path, None, "sourceGeneratedAt")
    return rows, d


def _address_text(a: dict[str, Any]) -> str:
    return ", ".join(str(a[k]) for k in ("address", "city", "state", "postal_code", "country") if a.get(k))


def _tradegov_row(rec: dict[str, Any], path: str, line: int | None) -> dict[str, Any]:
    name = rec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ListFormatError(path, line, "name", "record has no name")
    source = rec.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ListFormatError(path, line, "source", "record has no source list")
    code = list_code_of(source)
    addrs = rec.get("addresses") or []
    if not isinstance(addrs, list) or not all(isinstance(a, dict) for a in addrs):
        raise ListFormatError(path, line, "addresses", "expected a list of address objects")
    countries: list[str] = []
    for a in addrs:
        c = (a.get("country") or "").strip().upper()
        if c and not re.fullmatch(r"[A-Z]{2}", c):
            raise ListFormatError(path, line, "addresses.country", f"{c!r} is not an ISO 3166 alpha-2 code")
        if c and c not in countries:
            countries.append(c)
    rid = rec.get("id") or rec.get("_id")
    start = _iso_date(rec.get("start_date"), path, line, "start_date")
    return {
        "party_id": str(rid) if rid else _synthetic_id(code, name, countries, rec.get("federal_register_notice")),
        "list_code": code,
        "list_name": source,
        "name": name.strip(),
        "aliases": _str_list(rec.get("alt_names"), path, line, "alt_names"),
        "countries": countries,
        "addresses": [t for t in (_address_text(a) for a in addrs) if t],
        "entity_type": rec.get("type"),
        "programs": _str_list(rec.get("programs"), path, line, "programs"),
        "fr_notice": rec.get("federal_register_notice") or None,
        "listed_since": start,
        "listed_since_basis": "start_date" if start else None,
        "license_requirement": rec.get("license_requirement") or None,
        "license_policy": rec.get("license_policy") or None,
        "source_url": rec.get("source_list_url") or None,
    }


def _earlier(a: date | None, b: date | None) -> date | None:
    return min(x for x in (a, b) if x) if (a or b) else None


def _load_tradegov_json(doc: Any, text: str, path: str) -> tuple[list[dict[str, Any]], date | None]:
    key = "results" if isinstance(doc, dict) else None
    recs = doc.get("results") if isinstance(doc, dict) else doc
    if not isinstance(recs, list):
        raise ListFormatError(path, None, "results", "expected a 'results' array")
    rows = []
    for i, rec in enumerate(recs):
        if not isinstance(rec, dict):
            raise ListFormatError(path, _record_line(text, key, i), None, "record is not an object")
        try:
            rows.append(_tradegov_row(rec, path, None))
        except ListFormatError as exc:
            raise ListFormatError(path, _record_line(text, key, i), exc.field, exc.message) from None
    stamp = doc.get("search_performed_at") if isinstance(doc, dict) else None
    return rows, _iso_date(str(stamp)[:10], path, None, "search_performed_at") if stamp else None


_CSV_LISTS = ("alt_names", "programs")


def _load_tradegov_csv(text: str, path: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    need = {"name", "source"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise ListFormatError(path, 1, None, f"CSV header must contain {sorted(need)}; got {reader.fieldnames}")
    rows = []
    for rec in reader:
        line = reader.line_num
        if None in rec:
            raise ListFormatError(
                path,
                line,
                None,
                f"{len(rec[None]) + len(reader.fieldnames)} cells but the header has {len(reader.fieldnames)}",
            )
        r: dict[str, Any] = {k: (v.strip() if isinstance(v, str) else v) for k, v in rec.items()}
        for k in _CSV_LISTS:
            r[k] = [s.strip() for s in (r.get(k) or "").split(";") if s.strip()]
        addrs = []
        for chunk in (r.get("addresses") or "").split(";"):
            parts = [p.strip() for p in chunk.split(",") if p.strip()]
            if not parts:
                continue
            country = parts[-1] if re.fullmatch(r"[A-Za-z]{2}", parts[-1]) else None
            addrs.append({"address": ", ".join(parts[:-1] if country else parts), "country": country})
        r["addresses"] = addrs
        rows.append(_tradegov_row(r, path, line))
    return rows


def _load_ftm(text: str, path: str) -> list[dict[str, Any]]:
    rows = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            ent = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ListFormatError(path, lineno, None, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(ent, dict) or "schema" not in ent:
            raise ListFormatError(path, lineno, "schema", "FollowTheMoney entity has no schema")
        if ent["schema"] not in _FTM_PARTY_SCHEMAS:
            continue
        props = ent.get("properties")
        if not isinstance(props, dict):
            raise ListFormatError(path, lineno, "properties", "expected an object")
        names = _str_list(props.get("name"), path, lineno, "properties.name")
        if not names:
            raise ListFormatError(path, lineno, "properties.name", "entity has no name")
        datasets = _str_list(ent.get("datasets"), path, lineno, "datasets")
        code = next((_OS_DATASETS[d] for d in datasets if d in _OS_DATASETS), None)
        code = code or (datasets[0].upper() if datasets else "OPENSANCTIONS")
        aliases = names[1:] + _str_list(props.get("alias"), path, lineno, "properties.alias")
        aliases += _str_list(props.get("weakAlias"), path, lineno, "properties.weakAlias")
        countries = [c.upper() for c in _str_list(props.get("country"), path, lineno, "properties.country")]
        countries += [c.upper() for c in _str_list(props.get("jurisdiction"), path, lineno, "jurisdiction")]
        starts = [
            _iso_date(s[:10], path, lineno, "properties.startDate")
            for s in _str_list(props.get("startDate"), path, lineno, "properties.startDate")
        ]
        first = min((s for s in starts if s), default=None)
        rid = ent.get("id")
        rows.append(
            {
                "party_id": str(rid) if rid else _synthetic_id(code, names[0], lineno),
                "list_code": code,
                "list_name": ", ".join(datasets) or "OpenSanctions",
                "name": names[0].strip(),
                "aliases": aliases,
                "countries": list(dict.fromkeys(countries)),
                "addresses": _str_list(props.get("address"), path, lineno, "properties.address"),
                "entity_type": ent["schema"],
                "programs": _str_list(props.get("program"), path, lineno, "program"),
                "fr_notice": None,
                "listed_since": first,
                "listed_since_basis": "startDate" if first else None,
                "license_requirement": None,
                "license_policy": None,
                "source_url": (_str_list(props.get("sourceUrl"), path, lineno, "sourceUrl") or [None])[0],
            }
        )
    return rows


# ----------------------------------------------------------------------------------------------- entry points


def _sniff(text: str, path: str) -> str:
    suffix = Path(path).suffix.lower()
    head = text.lstrip()[:4096]
    if suffix == ".csv":
        return "tradegov_csv"
    if suffix in (".jsonl", ".ndjson", ".ftm"):
        return "ftm"
    if head.startswith("{"):
        first = head.split("\n", 1)[0]
        if '"schema"' in first and '"properties"' in first:
            return "ftm"
        return "json"
    if head.startswith("["):
        return "json"
    if "," in head.split("\n", 1)[0] and "name" in head.split("\n", 1)[0].lower():
        return "tradegov_csv"
    raise ListFormatError(
        path,
        1,
        None,
        "unrecognised list format (expected CSL JSON, trade.gov JSON/CSV, or OpenSanctions FollowTheMoney JSON lines)",
    )


def _parse(raw: bytes, path: str, fs_path: Path | None) -> PartyList:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ListFormatError(path, line, None, f"not UTF-8 (byte {raw[exc.start]:#x})") from None
    digest = hashlib.sha256(raw).hexdigest()
    kind = _sniff(text, path)
    listed: date | None = None
    if kind == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ListFormatError(path, exc.lineno, None, f"not valid JSON ({exc.msg}, column {exc.colno})") from None
        if isinstance(doc, dict) and "entries" in doc and "fieldKey" in doc:
            kind = "csl_compact"
            rows, listed = _load_compact(doc, text, path)
        else:
            kind = "tradegov_json"
            rows, listed = _load_tradegov_json(doc, text, path)
        notices = [r.get("fr_notice") for r in rows]
    elif kind == "tradegov_csv":
        rows = _load_tradegov_csv(text, path)
        notices = [r.get("fr_notice") for r in rows]
    else:
        rows = _load_ftm(text, path)
        notices = []
    if not rows:
        raise ListFormatError(path, None, None, "the list contains no parties")
    basis = "list metadata"
    if listed is None:
        listed, basis = _fallback_list_date(path, fs_path)
    parties = _finish(rows, FRDater.from_notices(notices))
    return PartyList(
        parties=parties,
        list_date=listed,
        source=path,
        format=kind,
        content_hash=digest,
        list_date_basis=basis,
    )


def load_list(path: str | Path | None = None) -> PartyList:
    """Load a list file, detecting its format; with no path, the packaged CSL snapshot."""
    if path is None:
        res = resources.files("carveout").joinpath("data", "csl", DEFAULT_LIST_FILE)
        return _parse(res.read_bytes(), f"carveout/data/csl/{DEFAULT_LIST_FILE}", None)
    p = Path(path)
    if not p.exists():
        raise ListFormatError(p, None, None, "file not found")
    return _parse(p.read_bytes(), str(p), p)
