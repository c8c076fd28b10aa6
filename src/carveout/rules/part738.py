"""15 CFR 738 — the Commerce Country Chart: an ECCN's Reasons for Control name chart columns, and an X
in the destination's row for one of those columns means a licence is required (738.4). Only the
column-based controls live here; the special destination scopes of 3A090, 4A090, the .z items and
advanced SME are the dated rules of part742.py.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

_CACHE: dict[tuple[int, int], tuple[pl.Series, pl.Series, pl.Series, pl.Series]] = {}
_SEED = 738


def _keys(p: Params) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    """('ECCN|ISO' whole-entry hits, 'ECCN|ISO|para' paragraph hits, 'ECCN|ISO' entries whose controlled
    paragraphs are listed, 'ECCN|ISO' entries whose paragraphs could not be read)."""
    controls, marks = p.get("ccl_column_controls") or {}, p.get("country_chart_marks") or {}
    key = (id(controls), id(marks))
    if key not in _CACHE:
        by_column: dict[str, list[str]] = {}
        for iso, cols in marks.items():
            for c in cols:
                by_column.setdefault(c, []).append(iso)
        entire, para, listed, unread = set(), set(), set(), set()
        for eccn, items in controls.items():
            for c in items:
                dests = c.get("destinations") or by_column.get(c.get("column", ""), [])
                for iso in dests:
                    k = f"{eccn}|{iso}"
                    if c["applies"] == "entire":
                        entire.add(k)
                    elif c["applies"] == "partial":
                        unread.add(k)
                    else:
                        listed.add(k)
                        para.update(f"{k}|{t}" for t in c["applies"])
        # Built once per parameter snapshot: turning 10^4-10^5 strings into a Series is the costly part.
        # Keys travel as 64-bit hashes: a set of integers is far cheaper to build per query than one of strings.
        _CACHE[key] = tuple(
            pl.Series(sorted(x), dtype=pl.String).hash(seed=_SEED).implode() for x in (entire, para, listed, unread)
        )
    return _CACHE[key]


def _verdict(eccn: pl.Expr, f: Facts, p: Params) -> pl.Expr:
    """True/False/unknown for one ECCN against the destination's row."""
    entire, para, listed, unread = _keys(p)
    base = eccn.str.slice(0, 5)
    k = pl.concat_str([base, pl.lit("|"), f.destination])
    sub = eccn.str.slice(6)  # paragraph below the ECCN: "f.1" of "3B001.f.1", "" when none
    prefixes = [sub.str.extract(r"^([^.]+(?:\.[^.]+){" + str(i) + "})", 1) for i in range(4)]
    para_hit = pl.any_horizontal(
        [pl.concat_str([k, pl.lit("|"), x]).hash(seed=_SEED).is_in(para).fill_null(False) for x in prefixes]
    )
    # Paragraph-specific controls and an ECCN given without its paragraph: cannot tell, so unknown.
    vague = (k.hash(seed=_SEED).is_in(listed) & (sub == "")) | k.hash(seed=_SEED).is_in(unread)
    hit = k.hash(seed=_SEED).is_in(entire) | para_hit
    return (
        pl.when(f.destination == "US")
        .then(False)  # not an export
        .when(eccn.is_null() | f.destination.is_null())
        .then(None)
        .when(hit)
        .then(True)
        .when(vague)
        .then(None)
        .otherwise(False)
    )


@rule(
    "part738.country_chart",
    cite="15 CFR 738.4; Supp. 1 to part 738; Supp. 1 to part 774",
    stage="require",
    source="eCFR 2026-07-23 snapshot (country chart and CCL), assumed unchanged since 2022-10-07",
)
def country_chart(f: Facts, p: Params) -> pl.Expr:
    """The item's ECCN names a Country Chart column (NS, MT, NP, CB, RS, CC, FC …) marked X for the
    destination: a licence is required (an ECCN paragraph the chart entry does not name is not caught).
    An item also described by another ECCN (its base ECCN, e.g. 3A001 for a 3A001.z chip) is checked
    against that entry's columns too."""
    other = pl.when(f.base_eccn.is_null()).then(pl.lit(False)).otherwise(_verdict(f.base_eccn, f, p))
    return pl.col("subject_to_ear") & (_verdict(pl.col("ccl_eccn"), f, p) | other)
