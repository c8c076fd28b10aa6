"""15 CFR 738 — the Commerce Country Chart: an ECCN's Reasons for Control name chart columns, and an X
in the destination's row for one of those columns means a licence is required (738.4).

The controls an ECCN states are read per day: the 2026 CCL text (``ccl_column_controls``, generated
by scripts/build_country_chart.py) is the latest state, and ``ccl_history.yaml`` replaces it for the
entries whose text changed between 2020 and 2026 (each version with the Federal Register rule that
made it). Every stated control is evaluated: a chart column, named destinations, country groups (read
on the day, so Nicaragua or Cambodia count only while they were members), worldwide, or — where the
engine cannot read the scope — unknown, which the engine turns into needs_review.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import prc
from carveout.rules.params import MODEL_START, Params
from carveout.rules.registry import Facts, note, rule

_CACHE: dict[tuple, tuple[pl.Series, ...]] = {}
_SEED = 738
HISTORY = "ccl_history."  # parameter-name prefix of the dated CCL entries (ccl_history.yaml)
ABSENT = "absent"  # a dated value: the entry did not exist on that day
SNAPSHOT = "snapshot"  # a dated value: the 2026 text applies from that day

note(
    "part738.entry_absent",
    "15 CFR 774 Supp. 1",
    "The declared ECCN did not exist on this date; the item's classification then must be resolved.",
)


def controls_on(p: Params) -> dict[str, list[dict]]:
    """Every ECCN's stated controls as they stood on the parameters' day."""
    out = dict(p.get("ccl_column_controls") or {})
    for name, value in p.as_dict().items():
        if not name.startswith(HISTORY) or value is None or value == SNAPSHOT:
            continue
        eccn = name[len(HISTORY):]
        if value == ABSENT:
            out[eccn] = [{"reason": "-", "applies": "entire", "defer": f"ECCN {eccn} did not exist on this date"}]
        else:
            out[eccn] = list(value)
    return out


def destinations(c: dict, p: Params, everywhere: set[str]) -> set[str]:
    """The destinations one stated control reaches on the parameters' day (US never: not an export)."""
    if "handled_by" in c or "none" in c or "defer" in c:  # another rule, no destination, or the base ECCN
        return set()
    if "column" in c:
        dests = set(_by_column(p.get("country_chart_marks") or {}).get(c["column"], ()))
    elif "destinations" in c:
        dests = set(c["destinations"])
    elif "groups" in c or "countries" in c:
        dests = set(c.get("countries", []))
        for g in c.get("groups", []):
            dests |= set(p.group(g))
        for g in c.get("exclude_groups", []):
            dests -= set(p.group(g))
    elif c.get("worldwide") or "unresolved" in c:
        dests = set(everywhere)
    else:
        dests = set()
    if "CN" in dests:
        dests |= set(prc(p))
    return dests - set(c.get("except", [])) - {"US"}


_COLUMNS: dict[int, dict[str, list[str]]] = {}


def _by_column(marks: dict) -> dict[str, list[str]]:
    """Country Chart column -> destinations marked X (once per chart snapshot)."""
    if id(marks) not in _COLUMNS:
        out: dict[str, list[str]] = {}
        for iso, cols in marks.items():
            for col in cols:
                out.setdefault(col, []).append(iso)
        _COLUMNS[id(marks)] = out
    return _COLUMNS[id(marks)]


def _hq_scope(p: Params) -> set[str]:
    out = set(p.group("D:5")) | {"MO"}
    return out | set(prc(p)) if "CN" in out else out


def _scope_key(c: dict) -> tuple:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(c.items())
                 if k not in ("applies", "reason", "unresolved", "hq"))


_NAMES = ("hit", "para", "listed", "unk", "unk_para", "hq", "hq_para", "defer", "defer_para")
_PART: dict[tuple, dict[str, pl.Series]] = {}


def _sets(controls: dict[str, list[dict]], p: Params) -> dict[str, set[str]]:
    """The key sets (see _keys) for some ECCNs' controls on the parameters' day."""
    everywhere = set(p.get("country_chart_marks") or {}) | {"HK"}
    hq_scope = _hq_scope(p)
    scopes: dict[tuple, list[str]] = {}  # many controls share a scope (NS 2, AT 1 ...): resolve once
    sets: dict[str, set[str]] = {n: set() for n in _NAMES}
    for eccn, items in controls.items():
        for c in items:
            applies = c.get("applies", "entire")
            if "defer" in c:  # not binding on this day: the item's other (base) ECCN decides
                if applies == "entire":
                    sets["defer"].add(eccn)
                else:
                    sets["defer_para"].update(f"{eccn}|{t}" for t in applies)
                continue
            sk = _scope_key(c) + (("unresolved", "unresolved" in c),)
            if sk not in scopes:
                scopes[sk] = sorted(destinations(c, p, everywhere))
            dests = scopes[sk]
            if applies == "partial":  # paragraphs the build could not read: unknown wherever it reaches
                sets["unk"].update(f"{eccn}|{iso}" for iso in dests)
                continue
            unknown = "unresolved" in c
            for iso in dests:
                k = f"{eccn}|{iso}"
                if applies == "entire":
                    sets["unk" if unknown else "hit"].add(k)
                else:
                    sets["listed"].add(k)
                    sets["unk_para" if unknown else "para"].update(f"{k}|{t}" for t in applies)
            if c.get("hq"):
                for iso in hq_scope:
                    k = f"{eccn}|{iso}"
                    if applies == "entire":
                        sets["hq"].add(k)
                    else:
                        sets["hq_para"].update(f"{k}|{t}" for t in applies)
    return sets


def _hashed(sets: dict[str, set[str]]) -> dict[str, pl.Series]:
    # Keys travel as 64-bit hashes: a set of integers is far cheaper to build per query than one of strings.
    return {n: pl.Series(list(sets[n]), dtype=pl.String).hash(seed=_SEED) for n in _NAMES}


def _grouped(c: dict) -> bool:
    """Does the control's reach depend on the day's country groups (or headquarters test)?"""
    return bool(c.get("groups") or c.get("exclude_groups") or c.get("hq")) or "CN" in (
        c.get("countries", []) + c.get("destinations", [])
    )


def _day_key(p: Params) -> tuple:
    """What the key sets of a day depend on: the chart, the undated controls, group membership, Hong Kong's
    treatment and the dated CCL versions in force."""
    groups = tuple(tuple(p.group(g)) for g in ("D:1", "D:4", "D:5", "A:5", "A:6", "E:1", "E:2"))
    dated = tuple((k, id(v)) for k, v in sorted(p.as_dict().items()) if k.startswith(HISTORY) and v is not None)
    return (id(p.get("ccl_column_controls") or {}), id(p.get("country_chart_marks") or {}), groups,
            p.get("hong_kong_treated_as_prc"), dated)


def _keys(p: Params) -> tuple[pl.Series, ...]:
    """Hashed key sets: hits and unknowns, for whole entries ('ECCN|ISO') and paragraphs
    ('ECCN|ISO|para'), on the destination and (headquarters tests) on the end user's headquarters,
    the entries whose controls are paragraph-specific ('ECCN|ISO' listed), and the entries or
    paragraphs that defer to the item's base ECCN ('ECCN', 'ECCN|para').

    Three parts, each cached on what it depends on: the undated entries' controls that do not read
    country groups (once per chart), those that do (per group membership), and the dated entries of
    ccl_history.yaml (per day's versions). A key may sit in two parts; is_in does not mind."""
    marks = p.get("country_chart_marks") or {}
    base = p.get("ccl_column_controls") or {}
    groups = tuple(tuple(p.group(g)) for g in ("D:1", "D:4", "D:5", "A:5", "A:6", "E:1", "E:2"))
    hk = p.get("hong_kong_treated_as_prc")
    dated = {k[len(HISTORY):]: v for k, v in p.as_dict().items() if k.startswith(HISTORY) and v is not None}
    key = _day_key(p)
    if key not in _CACHE:
        names = tuple(sorted(dated))
        static_key = ("static", id(base), id(marks), names)
        if static_key not in _PART:
            _PART[static_key] = _hashed(_sets({e: [c for c in cs if not _grouped(c)] for e, cs in base.items()
                                               if e not in dated}, p))
        group_key = ("groups", id(base), id(marks), groups, hk, names)
        if group_key not in _PART:
            _PART[group_key] = _hashed(_sets({e: [c for c in cs if _grouped(c)] for e, cs in base.items()
                                              if e not in dated}, p))
        own = controls_on(p)
        mine = _hashed(_sets({e: own[e] for e in dated if e in own}, p))
        _CACHE[key] = tuple(
            pl.concat([_PART[static_key][n], _PART[group_key][n], mine[n]]).implode() for n in _NAMES
        )
    return _CACHE[key]


def _prefixes(sub: pl.Expr) -> list[pl.Expr]:
    return [sub.str.extract(r"^([^.]+(?:\.[^.]+){" + str(i) + "})", 1) for i in range(4)]


def _in(k: pl.Expr, keyset: pl.Series) -> pl.Expr:
    return k.hash(seed=_SEED).is_in(keyset).fill_null(False)


def _any_para(k: pl.Expr, prefixes: list[pl.Expr], keyset: pl.Series) -> pl.Expr:
    return pl.any_horizontal([_in(pl.concat_str([k, pl.lit("|"), x]), keyset) for x in prefixes])


def _verdict(eccn: pl.Expr, f: Facts, p: Params) -> pl.Expr:
    """True/False/unknown for one ECCN against the destination's row (and, for controls with a
    headquarters test, the end user's headquarters)."""
    hit, para, listed, unk, unk_para, hq, hq_para, _, _ = _keys(p)
    base = eccn.str.slice(0, 5)
    k = pl.concat_str([base, pl.lit("|"), f.destination])
    kh = pl.concat_str([base, pl.lit("|"), f.end_user_hq_country])
    sub = eccn.str.slice(6)  # paragraph below the ECCN: "f.1" of "3B001.f.1", "" when none
    prefixes = _prefixes(sub)
    no_para = sub == ""
    found = _in(k, hit) | _any_para(k, prefixes, para)
    hq_found = _in(kh, hq) | _any_para(kh, prefixes, hq_para)  # False when the headquarters is unknown
    # Unknown: a control the engine cannot evaluate; paragraph-specific controls and an ECCN given
    # without its paragraph; a headquarters test with the headquarters unknown.
    unknown = (
        _in(k, unk)
        | _any_para(k, prefixes, unk_para)
        | (_in(k, listed) & no_para)
        | (no_para & _in(kh, hq_para))
    )
    # Macau is always in the headquarters scope, so 'ECCN|MO' tells whether the item has such a test.
    km = pl.concat_str([base, pl.lit("|MO")])
    hq_test = _in(km, hq) | _any_para(km, prefixes, hq_para)
    return (
        pl.when(f.destination == "US")
        .then(False)  # not an export
        .when(eccn.is_null() | f.destination.is_null())
        .then(None)
        .when(found | hq_found)
        .then(True)
        .when(unknown | (hq_test & f.end_user_hq_country.is_null()))
        .then(None)
        .otherwise(False)
    )


@rule(
    "part738.country_chart",
    cite="15 CFR 738.4; Supp. 1 to part 738; Supp. 1 to part 774",
    stage="require",
    effective=MODEL_START,
    source="CCL entries dated per ccl_history.yaml (FR rule per version); other entries and the chart rows from "
    "the eCFR 2026-07-23 snapshot, projected back to 2020-01-01",
)
def country_chart(f: Facts, p: Params) -> pl.Expr:
    """The item's ECCN states a Reason for Control whose scope (a Country Chart column marked X, named
    destinations, country groups as they stood that day, or worldwide) reaches the destination: a
    licence is required. A scope the engine cannot read, or a paragraph-specific control for an ECCN
    given without its paragraph, is unknown. An item also described by another ECCN (its base ECCN,
    e.g. 3A001 for a 3A001.z chip) is checked against that entry's controls too."""
    eccn = pl.col("ccl_eccn")
    by_base = _verdict(f.base_eccn, f, p)  # unknown without a base ECCN, except within the U.S. (no export)
    other = pl.when(f.base_eccn.is_null()).then(_z_alternative(f, p)).otherwise(by_base)
    # A declared entry that did not exist yet, or a paragraph not yet binding (compliance date): the
    # item's other ECCN decides; without one the answer is unknown.
    *_, defer, defer_para = _keys(p)
    base = eccn.str.slice(0, 5)
    deferred = _in(base, defer) | _any_para(base, _prefixes(eccn.str.slice(6)), defer_para)
    own = pl.when(deferred).then(by_base).otherwise(_verdict(eccn, f, p) | other)
    return pl.col("subject_to_ear") & own


def z_undecided() -> pl.Expr:
    """A 3A090/4A090 .a/.b item known only from its parameters: no declared ECCN, no base ECCN, so whether
    another entry's .z paragraph describes it is open."""
    return (
        pl.col("eccn_declared").is_null()
        & pl.col("base_eccn").is_null()
        & pl.col("ac_level").is_in(["a", "b"])
        & pl.col("ccl_eccn").str.contains(r"^[34]A090")
    ).fill_null(False)


def _z_alternative(f: Facts, p: Params) -> pl.Expr:
    """An item classified as 3A090/4A090 .a/.b from its parameters alone, with no base ECCN and no declared
    ECCN, may also be described by an entry with a .z paragraph (3A001, 5A002, ...): it then sits in that
    .z paragraph and carries the entry's own controls too (Supp. 1 to part 774, the .z paragraphs of
    88 FR 73458). When one of those .z entries would need a licence here, or cannot be read, whether the
    item has such a base entry decides the answer: unknown, so the engine asks for base_eccn. When none
    would, the answer does not depend on it: False."""
    dests, hqs, hq_unknown = _z_reach(p)
    if not (dests or hqs or hq_unknown):
        return pl.lit(False)
    # The same test as _verdict on each "<entry>.z", folded into destination sets (unknown counts as reached).
    reached = (
        f.destination.is_null()
        | f.destination.is_in(sorted(dests))
        | f.end_user_hq_country.is_in(sorted(hqs)).fill_null(False)
        | (pl.lit(hq_unknown) & f.end_user_hq_country.is_null())
    ) & (f.destination != "US").fill_null(True)
    return pl.when(z_undecided() & reached).then(pl.lit(None, pl.Boolean)).otherwise(pl.lit(False))


_Z_CACHE: dict[tuple, tuple[frozenset, frozenset, bool]] = {}


def _z_reach(p: Params) -> tuple[frozenset, frozenset, bool]:
    """Where some "<entry>.z" of ``z_base_eccns`` needs a licence or cannot be read, from the same key sets
    as _verdict: destinations reached (found or unknown), end-user headquarters reached, and whether an
    unknown headquarters leaves one open. Plain sets of ISO codes: a handful of literal ECCNs tested
    against the full hashed key sets cost more than every other rule together."""
    bases = tuple(p.z_base_eccns or ())
    key = (bases, *_day_key(p))
    if key not in _Z_CACHE:
        own = controls_on(p)
        sets = _sets({b: own[b] for b in bases if b in own}, p)  # keys of these entries only

        def isos(whole: str, para: str) -> set[str]:  # 'ECCN|ISO' and 'ECCN|ISO|z'
            return {k.split("|")[1] for k in sets[whole]} | {k.split("|")[1] for k in sets[para] if k.endswith("|z")}

        dests = isos("hit", "para") | isos("unk", "unk_para")
        hqs = isos("hq", "hq_para")
        # Macau is always in the headquarters scope: a .z entry with a headquarters test lists it.
        _Z_CACHE[key] = (frozenset(dests - {"US"}), frozenset(hqs), "MO" in hqs)
    return _Z_CACHE[key]


@rule(
    "part738.before_model_start",
    cite="carveout models the EAR from 2020-01-01",
    stage="require",
    until="2019-12-31",
    source="docs/regulatory-facts.md (modelled period)",
)
def before_model_start(f: Facts, p: Params) -> pl.Expr:
    """Before 2020-01-01 the Country Chart, the CCL entries and the country groups are not modelled, so
    no transaction of that date can be cleared: the answer is needs_review (a licence requirement found
    by another rule still says yes)."""
    return pl.lit(None, dtype=pl.Boolean)


_COLUMN_CACHE: dict[tuple, tuple[pl.Series, pl.Series]] = {}


def _column_hits(eccn: pl.Expr, f: Facts, p: Params, column: str) -> pl.Expr:
    """True when the ECCN (or its paragraph) names this Country Chart column and the destination is
    marked X in it: the citation of the column that decided."""
    marks = p.get("country_chart_marks") or {}
    dated = tuple((k, id(v)) for k, v in sorted(p.as_dict().items()) if k.startswith(HISTORY))
    key = (id(p.get("ccl_column_controls")), id(marks), dated, column)
    if key not in _COLUMN_CACHE:
        dests = _by_column(marks).get(column, [])
        entire, paras = set(), set()
        for e, items in controls_on(p).items():
            for c in items:
                if c.get("column") != column or c.get("applies") == "partial":
                    continue
                for iso in dests:
                    if c["applies"] == "entire":
                        entire.add(f"{e}|{iso}")
                    else:
                        paras.update(f"{e}|{iso}|{t}" for t in c["applies"])
        _COLUMN_CACHE[key] = tuple(pl.Series(list(s), dtype=pl.String).hash(seed=_SEED).implode()
                                   for s in (entire, paras))
    entire, paras = _COLUMN_CACHE[key]
    k = pl.concat_str([eccn.str.slice(0, 5), pl.lit("|"), f.destination])
    return _in(k, entire) | _any_para(k, _prefixes(eccn.str.slice(6)), paras)


@rule(
    "part738.column.ns2",
    cite="Supp. 1 to part 738, NS Column 2; 15 CFR 742.4(a)(1)",
    stage="notice",
    effective=MODEL_START,
    source="Reasons for Control of the item's ECCN on this date (ccl_history.yaml / eCFR snapshot)",
)
def ns_column_2(f: Facts, p: Params) -> pl.Expr:
    """National security, Column 2: the item's ECCN names NS Column 2 and the destination's row has an X
    in it (e.g. 3A001 and, before 2023-11-17, all of 3B001 to the PRC)."""
    return pl.col("subject_to_ear").fill_null(False) & (
        _column_hits(pl.col("ccl_eccn"), f, p, "NS 2") | _column_hits(f.base_eccn, f, p, "NS 2").fill_null(False)
    ).fill_null(False)


@rule(
    "part738.column.ns1",
    cite="Supp. 1 to part 738, NS Column 1; 15 CFR 742.4(a)(1)",
    stage="notice",
    effective=MODEL_START,
    source="Reasons for Control of the item's ECCN on this date (ccl_history.yaml / eCFR snapshot)",
)
def ns_column_1(f: Facts, p: Params) -> pl.Expr:
    """National security, Column 1: the item's ECCN names NS Column 1 and the destination's row has an X
    in it (e.g. 3E001 technology)."""
    return pl.col("subject_to_ear").fill_null(False) & (
        _column_hits(pl.col("ccl_eccn"), f, p, "NS 1") | _column_hits(f.base_eccn, f, p, "NS 1").fill_null(False)
    ).fill_null(False)
