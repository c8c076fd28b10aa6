"""Metamorphic fail-closed cases: transactions whose verdict is "yes", each with one fact corrupted.

A corruption makes a fact unknown, malformed, differently written or contradictory; it never replaces it
with another valid value (that would be a different shipment, which may rightly need no licence). The
property: whatever door the corrupted transaction enters by, the answer is an input error, "yes" or
"needs_review", never "no".

Not corrupted by deletion: ``date`` (an absent date means "today", a different question) and the four
facts only the user can report (``is_informed``, ``red_flag``, ``licence_on_file``, ``us_person_support``),
whose absence is defined as "none reported". They are corrupted every other way.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from carveout.facts import END_USES, SCHEMA, TRANSACTION_TYPES

MISSING = object()  # the fact is left out (key deleted, cell empty)
UNSAFE = "no"

COUNTRY = ("ship_from", "destination", "end_user_country", "end_user_hq_country", "exporter_hq_country")
ECCN = ("eccn_declared", "base_eccn")
WORDS = ("item_kind", "end_use", "transaction_type")
BOOLS = tuple(n for n, (t, _) in SCHEMA.items() if t == pl.Boolean())
NUMBERS = ("tpp", "die_area_mm2", "interconnect_gb_s", "us_controlled_content_pct", "value_usd", "quantity")
DEFAULT_FALSE = ("is_informed", "red_flag", "licence_on_file", "us_person_support")
NOT_DELETED = ("date", *DEFAULT_FALSE)

# Flat fact name -> path in the Transaction JSON.
NESTED = {
    "item_name": "item.name", "item_kind": "item.kind", "eccn_declared": "item.eccn", "base_eccn": "item.base_eccn",
    "tpp": "item.tpp", "die_area_mm2": "item.die_area_mm2", "marketed_for_datacenter": "item.marketed_for_datacenter",
    "interconnect_gb_s": "item.interconnect_gb_s",
    "us_origin": "origin.us_origin", "us_controlled_content_pct": "origin.us_controlled_content_pct",
    "direct_product_of_us_technology": "origin.direct_product_of_us_technology",
    "produced_by_us_origin_plant": "origin.produced_by_us_origin_plant", "contains_us_ic": "origin.contains_us_ic",
    "end_user_country": "end_user.country", "end_user_hq_country": "end_user.headquarters_country",
    "end_user_listed": "end_user.listed", "entity_list_footnote": "end_user.entity_list_footnote",
    "end_user_affiliate_of_listed": "end_user.affiliate_of_listed",
    **{k: k for k in ("date", "exporter_hq_country", "ship_from", "transaction_type", "destination", "end_use",
                      "value_usd", "quantity", "is_informed", "red_flag", "us_person_support", "licence_on_file")},
}

UNKNOWN_CODES = ("XX", "UK", "Q9", "EU", "ZZ", "AA", "A1", "??", "CHN", "China", "C N", "EL", "XK1", "0", "N/A")
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")


@dataclass(frozen=True)
class Corruption:
    fact: str
    kind: str  # unknown | case | whitespace | zero_width | full_width | wrong_type | nan | missing | contradiction
    value: Any  # the corrupted value, or MISSING
    partner: tuple[str, Any] | None = None  # a second fact set at the same time (contradictory pair)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def corruptions(fact: str, value: Any, rng: random.Random, base: dict | None = None) -> list[Corruption]:
    """Every corruption of one fact of one transaction (value: the fact's valid value, or None)."""
    out: list[Corruption] = []

    def add(kind: str, v: Any, partner: tuple[str, Any] | None = None) -> None:
        out.append(Corruption(fact, kind, v, partner))

    text = None if value is None else _text(value)
    if fact not in NOT_DELETED and value is not None:
        add("missing", MISSING)
    if text:
        add("whitespace", rng.choice(("  ", "\t", " ")) + text + rng.choice(("  ", " \t", " ")))
        add("zero_width", text[:1] + rng.choice(ZERO_WIDTH) + text[1:])
        add("full_width", "".join(FULL_WIDTH.get(c, c) for c in text))
        add("case", text.swapcase())
    if fact in COUNTRY:
        for code in rng.sample(UNKNOWN_CODES, 3):
            add("unknown", code)
        add("wrong_type", rng.choice((86, True, 3.5)))
        add("unknown", "  ")
    elif fact in ECCN:
        spelled = text or "3A090.a"
        add("unknown", spelled.replace(".", "", 1) if "." in spelled else spelled + "a")  # 3A090a
        add("unknown", rng.choice(("3A09", "A3090.a", "3A090..a", "3A090 .a", "EAR-99", "EAR 99", "3Z090.a", "n/a")))
        add("unknown", rng.choice(("3A998", "9E999", "4A090.a".replace("4A090", "4A099"), "5E990")))  # no such entry
        add("wrong_type", rng.choice((3090, True)))
    elif fact in WORDS:
        add("unknown", rng.choice(("maybe", "ic chip", "semiconductor", "other stuff", "none", "?", "unknown kind")))
        add("wrong_type", rng.choice((1, True, 2.5)))
    elif fact in BOOLS:
        add("unknown", rng.choice(("maybe", "2", "unknown", "?", "sí", "TRUE-ish", "-1")))
        add("wrong_type", rng.choice((2, -1, 0.5)))
        add("nan", math.nan)
    elif fact in NUMBERS:
        if isinstance(value, (int, float)) and value >= 1000:
            add("unknown", f"{value / 1000:.3f},0")  # 15.832,0: a thousands point and a decimal comma
            add("unknown", f"{value:,.1f}")  # 15,832.0: both separators in one cell
        add("nan", math.nan)
        add("nan", rng.choice((math.inf, -math.inf, "1e309", "NaN", "inf")))
        add("unknown", rng.choice(("lots", "-1", "n/a", "1,00", "12 345", "0x10")))
        add("wrong_type", True)
    elif fact == "date":
        add("unknown", rng.choice(("2025-13-01", "2025-02-30", "10/02/2025", "yesterday", "2025-2-1x")))
        add("wrong_type", rng.choice((20250210, 3.5)))
    elif fact == "entity_list_footnote":
        add("unknown", rng.choice((2, 6, -1, 4.5)))
        add("contradiction", 4, ("end_user_listed", False))
    if fact == "eccn_declared" and base and base.get("item_kind") == "ic" and base.get("tpp") is not None:
        add("contradiction", "EAR99")  # the specs say what the chip is; a declaration of EAR99 contradicts them
    return out


# ---------- base transactions ----------
DESTINATIONS = ("CN", "MO", "HK", "RU", "IR", "KP", "BY", "SG", "MY", "AE", "IN", "VN", "DE", "NL", "KR", "TW", "JP",
                "SA", "IL", "GB", "BR", "MX")
ORIGINS = ("US", "US", "US", "KR", "TW", "NL", "JP", "DE", "SG", "CN", "MY")
DECLARED = ("3A090.a", "3A090.b", "4A090.a", "3A001.z", "5A992.z", "3B001.c", "3B993", "3A991", "EAR99", "3E001",
            "3D001", "4A003", "5A002")


def random_facts(rng: random.Random) -> dict[str, Any]:
    """A transaction as flat facts, drawn across the vocabulary (no party names: screening is not tested)."""
    f: dict[str, Any] = {"date": date(2023, 11, 17) + timedelta(days=rng.randrange(0, 800))}
    if rng.random() < 0.7:
        f.update(item_kind="ic", tpp=float(rng.choice((800, 2400, 4800, 5000, 15832, 20000, 1500))),
                 die_area_mm2=float(rng.choice((100, 400, 814, 600))), marketed_for_datacenter=rng.random() < 0.7)
    else:
        f.update(item_kind=rng.choice(("other", "equipment", "software", "technology")),
                 eccn_declared=rng.choice(DECLARED))
    # base_eccn: the entry a .z item would otherwise be in (consistent with a .z declaration), or for a chip
    if f["item_kind"] == "ic" and rng.random() < 0.3:
        f["base_eccn"] = rng.choice(("3A991", "5A992", "4A994", "3A001"))
    elif str(f.get("eccn_declared", "")).endswith(".z") and rng.random() < 0.5:
        f["base_eccn"] = f["eccn_declared"][:5]
    f["ship_from"] = rng.choice(ORIGINS)
    f["destination"] = rng.choice(DESTINATIONS)
    f["transaction_type"] = rng.choice(TRANSACTION_TYPES)
    f["us_origin"] = f["ship_from"] == "US" or rng.random() < 0.3
    f["us_controlled_content_pct"] = float(rng.choice((0, 10, 30, 60)))
    f["direct_product_of_us_technology"] = rng.random() < 0.5
    f["produced_by_us_origin_plant"] = rng.random() < 0.3
    f["end_user_country"] = f["destination"]
    f["end_user_hq_country"] = rng.choice((f["destination"], "CN", "US", "DE", "MO"))
    f["exporter_hq_country"] = rng.choice(("US", "KR", "NL", "JP"))
    listed = rng.random() < 0.15
    f["end_user_listed"] = listed
    f["entity_list_footnote"] = rng.choice((0, 1, 3, 4, 5)) if listed else 0
    f["end_user_affiliate_of_listed"] = rng.random() < 0.05
    f["end_use"] = rng.choice(END_USES)
    f["is_informed"] = rng.random() < 0.05
    f["red_flag"] = rng.random() < 0.05
    f["licence_on_file"] = False
    f["us_person_support"] = rng.random() < 0.1
    f["value_usd"] = float(rng.choice((1000, 25000, 250000, 1500000)))
    f["quantity"] = float(rng.randrange(1, 500))
    return f


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Typed facts frame of flat rows (every schema column present)."""
    schema = {k: v[0] for k, v in SCHEMA.items() if k != "row"}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def yes_transactions(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` distinct random transactions whose verdict is "yes" (found with one evaluate call per draw)."""
    from carveout.engine import evaluate

    rng = random.Random(seed)
    found: list[dict[str, Any]] = []
    while len(found) < n:
        draw = [random_facts(rng) for _ in range(max(200, 4 * n))]
        verdicts = evaluate(frame(draw), screen=False).get_column("license_required").to_list()
        found.extend(d for d, v in zip(draw, verdicts, strict=True) if v == "yes")
    return found[:n]


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """The Transaction JSON of flat facts; MISSING leaves the key out."""
    out: dict[str, Any] = {"item": {}}
    for k, v in flat.items():
        if v is MISSING or v is None or k not in NESTED:
            continue
        node = out
        *parents, leaf = NESTED[k].split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = v.isoformat() if isinstance(v, date) else v
    return out


def apply(flat: dict[str, Any], c: Corruption) -> dict[str, Any]:
    out = dict(flat)
    out[c.fact] = c.value
    if c.partner:
        out[c.partner[0]] = c.partner[1]
    return out


def cell(value: Any) -> str:
    """The text a ledger cell holds for a value (MISSING and None: an empty cell)."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return _text(value)


def cases(bases: list[dict[str, Any]], rng: random.Random) -> Iterator[tuple[int, dict[str, Any], Corruption]]:
    """(base index, corrupted flat facts, corruption) for every fact of every base transaction."""
    facts = [n for n in NESTED]
    for i, base in enumerate(bases):
        for fact in facts:
            for c in corruptions(fact, base.get(fact), rng, base):
                yield i, apply(base, c), c


def ledger_text(rows: list[dict[str, Any]]) -> str:
    """A CSV ledger (every fact column, text cells, quoted) of corrupted flat rows."""
    import csv
    import io

    cols = [n for n in NESTED]
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(["case", *cols])
    for i, r in enumerate(rows):
        w.writerow([f"C-{i}", *[cell(r.get(c)) for c in cols]])
    return buf.getvalue()


def frame_with(rows: list[dict[str, Any]], fact: str, values: list[Any]) -> pl.DataFrame:
    """A facts frame whose column ``fact`` holds ``values`` in whatever type they have (a corrupted column
    of another type, as a caller of ``evaluate`` may pass). MISSING becomes null."""
    base = frame([{k: v for k, v in r.items() if k != fact} for r in rows]).drop(fact)
    vals = [None if v is MISSING else v for v in values]
    kinds = {type(v) for v in vals if v is not None}
    if kinds <= {int, float} and kinds != {int}:
        vals = [None if v is None else float(v) for v in vals]
    try:
        col = pl.Series(fact, vals, strict=True)
    except (TypeError, pl.exceptions.PolarsError):
        col = pl.Series(fact, [None if v is None else _text(v) for v in vals], dtype=pl.String)
    return base.with_columns(col)
