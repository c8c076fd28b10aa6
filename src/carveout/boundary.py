"""The validated input boundary: every fact that enters carveout, by any door, passes these checks.

Closed vocabularies for categorical facts (countries, ECCNs, item kinds, end uses, transaction types,
Entity List footnotes), one number format for ledger cells, finite numbers in range, and "a footnote
means listed". A value outside its vocabulary is an input error that names the value, what was expected
and the nearest valid values, never a fact the rules could read as "not controlled".

The same checks serve three shapes of input: one value (the Pydantic models of ``check``, REST and the UI),
a column of raw ledger cells (``parse_cell``), and a typed facts frame (``validate_frame``, which the engine
also runs on every frame passed to ``evaluate``).
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib import resources

import polars as pl

from carveout.facts import END_USES, FOOTNOTES, ITEM_KINDS, TRANSACTION_TYPES

COUNTRY_COLUMNS = ("ship_from", "destination", "end_user_country", "end_user_hq_country", "exporter_hq_country")
TRUE = ("true", "yes", "y", "1", "t")
FALSE = ("false", "no", "n", "0", "f")
# Codes people write that ISO assigns elsewhere or not at all: UK and EL are the EU's own codes for the
# United Kingdom and Greece (ISO: GB, GR); the rest are names and abbreviations.
COUNTRY_HINTS = {
    "UK": "GB", "EL": "GR", "USA": "US", "PRC": "CN", "ROK": "KR", "DPRK": "KP", "UAE": "AE", "ROC": "TW",
    "MACAO": "MO", "KOREA": "KR", "SOUTH KOREA": "KR", "NORTH KOREA": "KP", "RUSSIA": "RU", "TAIWAN": "TW",
    "IRAN": "IR", "VIETNAM": "VN", "HOLLAND": "NL", "BRITAIN": "GB", "GREAT BRITAIN": "GB", "BURMA": "MM",
    "MAINLAND CHINA": "CN", "TURKEY": "TR", "CZECH REPUBLIC": "CZ", "KOSOVO": "XK",
}
FOOTNOTE_EXPECTED = f"an Entity List footnote (0 for none, {', '.join(map(str, FOOTNOTES))})"
ECCN_EXPECTED = "a CCL entry or paragraph (e.g. 3A090, 3A090.a, 4A090.b, 3A001.z) or EAR99"
_ENTRY = re.compile(r"([0-9][A-Ea-e][0-9]{3})((?:\.(?:[A-Za-z]{1,4}|[0-9]{1,2}))*)")
_GLUED = re.compile(r"([0-9][A-Ea-e][0-9]{3})\.?([A-Za-z])\.?([0-9]{0,2})")  # 3A090a, 3A090a1: dots left out
# Ledger numbers: plain decimals with a point (1234.5, 1.2e3), or whole numbers grouped by commas in
# thousands (1,234,567). A cell mixing "." and "," is refused: 15.832,0 and 15,832.0 read differently in
# different countries, and guessing is how a 15,832 TPP becomes 15.8.
NUMBER_FORMAT = "a number written 1234.5, 1.2e3 or 1,234 (point for decimals, commas only between thousands)"
_PLAIN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_GROUPED = r"^[+-]?\d{1,3}(,\d{3})+$"


class InputError(ValueError):
    """A value outside its vocabulary or format; the message names field, value, expectation, suggestion."""

    def __init__(self, field: str, value: object, expected: str, suggestions: list[str] | None = None):
        self.field, self.value, self.expected = field, value, expected
        self.suggestions = suggestions or []
        hint = f" (did you mean {' or '.join(self.suggestions)}?)" if self.suggestions else ""
        shown = repr(value) if not isinstance(value, str) else repr(value[:80])
        super().__init__(f"{field}: {shown} is not {expected}{hint}")


def clean(value: str) -> str:
    """NFKC (full-width letters become ASCII), drop invisible format characters (zero-width space, BOM,
    soft hyphen), strip surrounding whitespace."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


# ---------- countries ----------
@cache
def _iso() -> list[dict[str, str]]:
    text = (resources.files("carveout") / "data" / "iso3166_1.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes plus every destination the Commerce Country Chart names on any date."""
    from carveout.rules.params import all_params

    codes = {r["alpha_2"] for r in _iso()}
    chart = all_params().get("country_chart_marks")
    for dated in chart.values if chart else ():
        codes.update(k for k in (dated.value or {}) if isinstance(k, str))
    return frozenset(codes)


@cache
def _country_names() -> dict[str, str]:
    names = {r["alpha_3"]: r["alpha_2"] for r in _iso()}
    for r in _iso():
        for n in (r["name"], r["common_name"]):
            if n:
                names[n.upper()] = r["alpha_2"]
    return {**names, **COUNTRY_HINTS}


def suggest_country(text: str) -> list[str]:
    """Nearest valid codes: a known alias or name first, then codes one letter away."""
    up = text.upper()
    names = _country_names()
    out: list[str] = []
    if up in names:
        out.append(names[up])
    for n in difflib.get_close_matches(up, [k for k in names if len(k) > 3], n=2, cutoff=0.8):
        out.append(names[n])
    if len(up) == 2 and not out:
        near = sorted(c for c in countries() if (c[0] == up[0]) != (c[1] == up[1]))
        out.extend(near[:3])
    return list(dict.fromkeys(c for c in out if c in countries()))[:3]


def country(value: object, field: str = "country") -> str:
    if not isinstance(value, str):
        raise InputError(field, value, "an ISO 3166-1 alpha-2 country code (text)")
    code = clean(value).upper()
    if code in countries():
        return code
    if not code:
        raise InputError(field, value, "a country code (leave the field out when it is unknown)")
    raise InputError(field, value, "an ISO 3166-1 alpha-2 country code or a Country Chart destination",
                     suggest_country(code))


# ---------- ECCNs ----------
def eccn(value: object, field: str = "eccn") -> str:
    """A CCL entry or paragraph, case normalised (``3a090.A`` -> ``3A090.a``), or EAR99.

    Case is normalised because CCL numbers have one spelling: digit, upper-case category letter, three
    digits, then lower-case paragraph letters and numbers. A string that is not in that shape (``3A090a``,
    ``3A090 a``) is refused rather than read as some other entry."""
    if not isinstance(value, str):
        raise InputError(field, value, ECCN_EXPECTED)
    text = clean(value)
    if text.upper() == "EAR99":
        return "EAR99"
    m = _ENTRY.fullmatch(text)
    if m:
        entry = m[1].upper()
        known = ccl_entries()
        if known and entry not in known:
            raise InputError(field, value, f"an entry of the Commerce Control List ({entry} is not one: "
                             "Supp. 1 to part 774 as shipped, and the entries the rules name)",
                             difflib.get_close_matches(entry, sorted(known), n=2, cutoff=0.8))
        return entry + m[2].lower()
    glued = _GLUED.fullmatch(text.replace(" ", ""))
    hint = [f"{glued[1].upper()}.{glued[2].lower()}" + (f".{glued[3]}" if glued[3] else "")] if glued else []
    raise InputError(field, value, ECCN_EXPECTED, hint)


@cache
def ccl_entries() -> frozenset[str]:
    """Every CCL entry carveout knows: the entries of Supp. 1 to part 774 in the Country Chart controls
    (eCFR snapshot) and every entry any dated parameter names (e.g. 3B090, which existed 2022-2023)."""
    from carveout.rules.params import all_params

    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            if _ENTRY.fullmatch(value):
                found.add(value[:5].upper())
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for param in all_params().values():
        for dated in param.values:
            walk(dated.value)
    return frozenset(found | RETIRED_ENTRIES)


# Entries no longer in the CCL that a dated rule still reads (history.yaml): 3B090 was created on
# 2022-10-07 and folded into 3B001/3B002 in the October 2023 package.
RETIRED_ENTRIES = frozenset({"3B090"})


# ---------- other closed vocabularies ----------
def _vocabulary(words: tuple[str, ...], what: str, spaces: bool = False) -> Callable[[object, str], str]:
    def check(value: object, field: str) -> str:
        if not isinstance(value, str):
            raise InputError(field, value, f"one of {' | '.join(words)}")
        text = clean(value).lower()
        text = text.replace("_", " ") if spaces else text.replace(" ", "_").replace("-", "_")
        if text in words:
            return text
        near = difflib.get_close_matches(text, words, n=2, cutoff=0.6)
        raise InputError(field, value, f"{what}: one of {' | '.join(words)}", near)

    return check


item_kind = _vocabulary(ITEM_KINDS, "an item kind")
end_use = _vocabulary(END_USES, "an end use")
transaction_type = _vocabulary(TRANSACTION_TYPES, "a transaction type", spaces=True)

# Column -> the check that normalises it (raises InputError when the value is outside the vocabulary).
CATEGORICAL: dict[str, Callable[[object, str], str]] = {
    **{c: country for c in COUNTRY_COLUMNS},
    "eccn_declared": eccn,
    "base_eccn": eccn,
    "item_kind": item_kind,
    "end_use": end_use,
    "transaction_type": transaction_type,
}
# Numeric facts: (low, high, low inclusive). Every number must also be finite.
RANGES: dict[str, tuple[float, float, bool]] = {
    "tpp": (0, float("inf"), True),
    "mac_tops": (0, float("inf"), True),
    "bit_length": (0, 128, False),
    "die_area_mm2": (0, float("inf"), True),
    "interconnect_gb_s": (0, float("inf"), True),
    "memory_bandwidth_density_gb_s_mm2": (0, float("inf"), True),
    "memory_bandwidth_gb_s": (0, float("inf"), True),
    "performance_density": (0, float("inf"), True),
    "us_controlled_content_pct": (0, 100, True),
    "value_usd": (0, float("inf"), True),
    "quantity": (0, float("inf"), True),
}


def footnote_listed(footnote: int | None, listed: bool | None) -> bool | None:
    """An Entity List footnote is a listing's footnote: it implies listed; footnote with listed False is a
    contradiction."""
    if footnote not in (None, 0, *FOOTNOTES):
        raise InputError("entity_list_footnote", footnote, FOOTNOTE_EXPECTED)
    if footnote:
        if listed is False:
            raise ValueError(f"listed: false contradicts entity_list_footnote {footnote} (a footnote belongs to "
                             "an Entity List entry, so the party is listed)")
        return True
    return listed


# ---------- ledger cells ----------
def parse_cell(raw: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, str]:
    """A column of stripped, non-empty text cells -> (typed value or null, what a valid cell looks like)."""
    if dtype == pl.Boolean():
        low = raw.str.to_lowercase()
        return pl.when(low.is_in(TRUE)).then(True).when(low.is_in(FALSE)).then(False), "true/false (or yes/no)"
    if dtype == pl.Date():
        return raw.str.to_date("%Y-%m-%d", strict=False), "a date YYYY-MM-DD"
    if dtype in (pl.Float64(), pl.Float32(), pl.Int8(), pl.Int64(), pl.UInt32()):
        num = (
            pl.when(raw.str.contains(_PLAIN)).then(raw.cast(pl.Float64, strict=False))
            .when(raw.str.contains(_GROUPED)).then(raw.str.replace_all(",", "").cast(pl.Float64, strict=False))
        )
        num = pl.when(num.is_finite()).then(num)  # 1e309 reads as inf: refused
        if name == "entity_list_footnote":
            ok = [0.0, *map(float, FOOTNOTES)]
            return pl.when(num.is_in(ok)).then(num.cast(pl.Int8)), FOOTNOTE_EXPECTED
        return num.cast(dtype), NUMBER_FORMAT
    return raw, "text"


def clean_expr(expr: pl.Expr) -> pl.Expr:
    """The frame form of ``clean``: NFKC, no invisible format characters, no surrounding whitespace."""
    return expr.str.normalize("NFKC").str.replace_all(r"\p{Cf}", "").str.strip_chars()


# ---------- typed frames ----------
def validate_frame(frame: pl.DataFrame, error: str = "error") -> pl.DataFrame:
    """Normalise the categorical facts present, null every value outside its vocabulary or range, and add
    one message per bad value to column ``error`` (created when absent). Rows are never dropped.

    Categorical columns are checked once per distinct value, so a million-row frame with a few hundred
    codes costs a few hundred Python checks."""
    messages: list[pl.Expr] = []
    updates: list[pl.Expr] = []
    for name, check in CATEGORICAL.items():
        if name not in frame.columns or frame.schema[name] != pl.String():
            continue
        good: dict[str, str] = {}
        bad: dict[str, str] = {}
        for v in frame.get_column(name).drop_nulls().unique().to_list():
            try:
                n = check(v, name)
            except InputError as exc:
                if clean(v):
                    bad[v] = f"column {exc}"
                else:
                    good[v] = None  # a blank cell is an unknown fact, like an empty one
                continue
            if n != v:
                good[v] = n
        col = pl.col(name)
        if bad:
            messages.append(col.replace_strict(bad, default=None, return_dtype=pl.String))
        if good or bad:
            updates.append(pl.when(col.is_in(list(bad))).then(None)
                           .otherwise(col.replace_strict(good, default=col, return_dtype=pl.String)).alias(name))
    _ranges(frame, messages, updates)
    if "entity_list_footnote" in frame.columns and frame.schema["entity_list_footnote"].is_numeric():
        fn = pl.col("entity_list_footnote")
        bad_fn = fn.is_not_null() & ~fn.is_in([0, *FOOTNOTES])
        if frame.select(bad_fn.any()).item():
            messages.append(pl.when(bad_fn).then(pl.format(
                "column entity_list_footnote: {} is not an Entity List footnote (0, {})", fn.cast(pl.String),
                pl.lit(", ".join(map(str, FOOTNOTES))))))
            updates.append(pl.when(bad_fn).then(None).otherwise(fn).alias("entity_list_footnote"))
    if not messages and not updates:
        return frame if error in frame.columns else frame.with_columns(pl.lit(None, pl.String).alias(error))
    named = [m.alias(f"_m{i}") for i, m in enumerate(messages)]
    return add_errors(frame.with_columns(named), [f"_m{i}" for i in range(len(named))], error).with_columns(updates)


def _ranges(frame: pl.DataFrame, messages: list[pl.Expr], updates: list[pl.Expr]) -> None:
    """Messages and nulling updates for numbers outside their range (or not finite)."""
    schema = frame.schema
    tests = []
    for name, (lo, hi, inclusive) in RANGES.items():
        if name not in schema or not schema[name].is_numeric():
            continue
        col = pl.col(name).cast(pl.Float64)
        above = col >= lo if inclusive else col > lo
        ok = col.is_finite() & above & (col <= hi)
        tests.append((name, lo, hi, inclusive, col, col.is_not_null() & ~ok))
    if not tests:
        return
    hits = frame.select([t[-1].any().alias(t[0]) for t in tests]).row(0)  # one pass over the frame
    for (name, lo, hi, inclusive, col, bad_expr), hit in zip(tests, hits, strict=True):
        if not hit:
            continue
        span = f"{'[' if inclusive else '('}{lo:g}, {hi:g}]" if hi != float("inf") else f">= {lo:g}"
        messages.append(pl.when(bad_expr).then(pl.format("column {}: {} is not a finite number {}", pl.lit(name),
                                                         col.cast(pl.String), pl.lit(span))))
        updates.append(pl.when(bad_expr).then(None).otherwise(pl.col(name)).alias(name))


def validate_ranges(frame: pl.DataFrame, error: str = "error") -> pl.DataFrame:
    """The number checks of ``validate_frame`` on every row: vectorised, so cheap on a whole ledger. The
    vocabulary checks run on the distinct signatures only; numbers must be checked here, on all rows,
    because a fact no rule reads that day (value_usd, interconnect) is not part of any signature."""
    messages: list[pl.Expr] = []
    updates: list[pl.Expr] = []
    _ranges(frame, messages, updates)
    if not messages:
        return frame
    named = [m.alias(f"_r{i}") for i, m in enumerate(messages)]
    return add_errors(frame.with_columns(named), [f"_r{i}" for i in range(len(named))], error).with_columns(updates)


def add_errors(frame: pl.DataFrame, columns: list[str], error: str = "error") -> pl.DataFrame:
    """Append the messages in ``columns`` to ``error`` ("; "-separated) and drop ``columns``."""
    parts = ([pl.col(error)] if error in frame.columns else []) + [pl.col(c) for c in columns]
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True) if parts else pl.lit(None, pl.String)
    return frame.with_columns(pl.when(joined != "").then(joined).alias(error)).drop(columns)


def footnote_implies_listed(frame: pl.DataFrame, error: str = "error") -> pl.DataFrame:
    """Row by row: a footnote sets ``end_user_listed`` where it is unknown; a footnote beside listed False
    is an input error (the row then needs review)."""
    if "entity_list_footnote" not in frame.columns or "end_user_listed" not in frame.columns:
        return frame
    fn, listed = pl.col("entity_list_footnote"), pl.col("end_user_listed")
    has_fn = (fn.is_not_null() & (fn != 0)).fill_null(False)
    if not frame.select(has_fn.any()).item():
        return frame
    clash = has_fn & (listed == False)  # noqa: E712 - a Polars comparison
    frame = frame.with_columns(
        _fn_msg=pl.when(clash).then(pl.format(
            "column end_user_listed: false contradicts entity_list_footnote {} (a footnote belongs to an Entity List "
            "entry)", fn.cast(pl.String))),
        end_user_listed=pl.when(has_fn & listed.is_null()).then(True).otherwise(listed),
    )
    return add_errors(frame, ["_fn_msg"], error)
