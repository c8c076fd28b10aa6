"""Conditional answers: when a verdict is needs_review because facts are missing, the verdict under each
value those facts can take ("what would settle it").

The values are the ones the rules tell apart (``variants.candidates``, from the cut points); each is a
filled-in copy of the shipment evaluated as an extra row of one ``engine.evaluate`` call, so a
conditional answer is, by construction, what ``check`` says once the fact is supplied. Values with the
same answer are merged: numbers into ranges between thresholds, categories into one entry with the
other values listed under ``also``. A fact that settles nothing alone is tried in pairs with the others.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from carveout import engine
from carveout.rules.asks import fact_named
from carveout.rules.cutpoints import CutPoints
from carveout.variants import ECCN_FACTS, base_facts, candidates, column, evaluate_variants, public, rules_on

MAX_PAIR_ROWS = 1500  # a pair of facts is tried only when its product stays this small
MAX_ALSO = 8


def missing_facts(missing: list[str]) -> list[str]:
    """Frame columns named by ``missing`` entries (in order, once each)."""
    from carveout.facts import SCHEMA

    out: list[str] = []
    for m in missing:
        col = column(fact_named(m))
        if col in SCHEMA and col not in out:
            out.append(col)
    return out


def conditional(
    base: dict, missing: list[str], day: date, as_of: date | None, ruleset: engine.RuleSet | None = None
) -> list[dict[str, Any]]:
    """``[{if: {fact: value}, license_required, reasons, eccn, range?, also?, missing?}, ...]``."""
    facts = missing_facts(missing)
    if not facts:
        return []
    rules, params, cp = rules_on(day, ruleset)
    cands = {f: candidates(f, cp, base, rules, params) for f in facts}
    for f in facts:  # an ECCN given without its paragraph: the values it can take are its paragraphs
        given = base.get(f)
        if f in ECCN_FACTS and given:
            cands[f] = [v for v in cands[f] if v.startswith(f"{given}.")] or cands[f]
    facts = [f for f in facts if cands[f]]
    # Values no rule tells apart (e.g. 150 countries in no list) are tried once; the rest ride along.
    same: dict[Any, list[Any]] = {}
    for f in facts:
        if f not in ECCN_FACTS and not cp.is_opaque(f) and len(cands[f]) > 12 and isinstance(cands[f][0], str):
            groups = cp.classes(f, cands[f])
            cands[f] = [g[0] for g in groups]
            same.update({(f, g[0]): g[1:] for g in groups})
    singles = [{f: v} for f in facts for v in cands[f]]
    out = evaluate_variants(base, singles, as_of, ruleset)
    answers = _answers(out, singles)
    entries: list[dict[str, Any]] = []
    open_values: dict[str, list[Any]] = {}  # values that leave the answer open on their own
    for f in facts:
        mine = [(ch[f], a) for ch, a in zip(singles, answers, strict=True) if f in ch]
        entries += _merge(f, mine, cp, base, same)
        open_values[f] = [v for v, a in mine if a["license_required"] == "needs_review"]
    combos = [c for a, b in itertools.combinations(facts, 2) for c in _pairs(a, b, open_values, cp)]
    if combos and len(combos) <= MAX_PAIR_ROWS:
        out2 = evaluate_variants(base, combos, as_of, ruleset)
        entries += _merge_pairs(combos, _answers(out2, combos))
    return entries


def _pairs(a: str, b: str, open_values: dict[str, list[Any]], cp: CutPoints) -> list[dict[str, Any]]:
    """Both facts at values that settle nothing alone. TPP and die area meet in performance density
    (TPP / area), so for each TPP the areas are chosen to land in each density region."""
    if {a, b} == {"tpp", "die_area_mm2"}:
        dens = [r for r in cp.representatives("performance_density") if r > 0]
        return [{"tpp": t, "die_area_mm2": round(t / r, 3)} for t in open_values["tpp"] if t > 0 for r in dens]
    return [{a: x, b: y} for x in open_values[a] for y in open_values[b]]


def _answers(out, changes) -> list[dict[str, Any]]:
    rows = out.select("license_required", "reasons", "eccn", "missing").to_dicts()
    for r in rows:
        r["reasons"] = [str(x) for x in r["reasons"] or []]
        r["missing"] = list(r["missing"] or [])
    return rows


def _key(a: dict) -> tuple:
    return a["license_required"], tuple(a["reasons"])


def _entry(changes: dict[str, Any], a: dict, **extra: Any) -> dict[str, Any]:
    e = {
        "if": {public(k): v for k, v in changes.items()},
        "license_required": a["license_required"],
        "reasons": a["reasons"],
        "eccn": a["eccn"],
    }
    if a["license_required"] == "needs_review":
        e["missing"] = a["missing"]
    e.update({k: v for k, v in extra.items() if v})
    return e


def _merge(
    fact: str, tried: list[tuple[Any, dict]], cp: CutPoints, base: dict, same: dict[Any, list[Any]]
) -> list[dict[str, Any]]:
    numeric = tried and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in tried)
    if numeric and fact != "entity_list_footnote":
        return _merge_ranges(fact, sorted(tried, key=lambda t: t[0]), cp, base)
    groups: dict[tuple, list[tuple[Any, dict]]] = {}
    for v, a in tried:
        groups.setdefault(_key(a), []).append((v, a))
        groups[_key(a)] += [(m, a) for m in same.get((fact, v), [])]
    return [
        _entry(
            {fact: g[0][0]},
            g[0][1],
            also=[v for v, _ in g[1 : MAX_ALSO + 1]],
            values=len(g) if len(g) > MAX_ALSO + 1 else 0,
        )
        for g in groups.values()
    ]


def _merge_ranges(fact: str, tried: list[tuple[float, dict]], cp: CutPoints, base: dict) -> list[dict[str, Any]]:
    """Neighbouring values with the same answer become one range, written with the rules' thresholds."""
    via, scale = fact, None
    if fact == "die_area_mm2" and base.get("tpp"):
        via, scale = "performance_density", base["tpp"]
    runs: list[list[tuple[float, dict]]] = []
    for v, a in tried:
        if runs and _key(runs[-1][-1][1]) == _key(a):
            runs[-1].append((v, a))
        else:
            runs.append([(v, a)])
    out = []
    for run in runs:
        lo, hi = run[0][0], run[-1][0]
        if scale:  # area grows as density falls
            lo, hi = scale / hi, scale / lo
        text = _range(via, cp, lo, hi)
        out.append(_entry({fact: run[0][0]}, run[0][1], range=text))
    return out


def _range(fact: str, cp: CutPoints, lo: float, hi: float) -> str:
    ts = cp.thresholds(fact)
    b_lo, b_hi = cp.bucket(fact, lo), cp.bucket(fact, hi)
    parts = []
    if b_lo:
        parts.append(f">= {ts[(b_lo - 1) // 2]:g}" if b_lo % 2 else f"> {ts[b_lo // 2 - 1]:g}")
    if b_hi % 2:
        parts.append(f"<= {ts[(b_hi - 1) // 2]:g}")
    elif b_hi // 2 < len(ts):
        parts.append(f"< {ts[b_hi // 2]:g}")
    return f"{fact} " + " and ".join(parts) if parts else f"any {fact}"


def _merge_pairs(combos: list[dict], answers: list[dict]) -> list[dict[str, Any]]:
    """Pairs that settle the answer, one entry per distinct answer (the first pair that gives it)."""
    groups: dict[tuple, list[tuple[dict, dict]]] = {}
    for ch, a in zip(combos, answers, strict=True):
        if a["license_required"] != "needs_review":
            groups.setdefault((tuple(ch), *_key(a)), []).append((ch, a))
    return [
        _entry(g[0][0], g[0][1], also=[{public(k): v for k, v in ch.items()} for ch, _ in g[1:4]])
        for g in groups.values()
    ]


def for_check(frame, evaluated, as_of: date | None, ruleset: engine.RuleSet | None = None) -> list[dict[str, Any]]:
    """Conditional answers for a one-row check (empty unless it needs review)."""
    row = evaluated.row(0, named=True)
    if row["license_required"] != "needs_review":
        return []
    return conditional(base_facts(frame, evaluated), list(row["missing"] or []), row["day"], as_of, ruleset)


def describe(entry: dict[str, Any]) -> str:
    """One line of 'what would settle it': 'if base_eccn = 3A991 (or EAR99, …) -> no [reasons]'."""
    cond = entry.get("range") or " and ".join(f"{k} = {_fmt(v)}" for k, v in entry["if"].items())
    also = entry.get("also") or []
    if also and not entry.get("range"):
        more = entry.get("values") or 0
        shown = ", ".join(
            _fmt(a) if not isinstance(a, dict) else " and ".join(f"{k} = {_fmt(v)}" for k, v in a.items())
            for a in also[:4]
        )
        extra = more - 1 - len(also[:4]) if more else len(also) - len(also[:4])
        cond += f" (or {shown}{f' and {extra} more' if extra > 0 else ''})"
    verdict = entry["license_required"]
    rules = [r for r in entry["reasons"] if not r.startswith(("engine.", "part734.3"))]
    why = f" [{', '.join(rules)}]" if rules else ""
    eccn = f" as {entry['eccn']}" if entry.get("eccn") else ""
    tail = f"; still missing {', '.join(m.split(' ', 1)[0] for m in entry['missing'])}" if entry.get("missing") else ""
    return f"if {cond} -> {verdict}{eccn}{why}{tail}"


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def print_conditional(console: Any, determination: Any) -> None:
    """The ``check --format explain`` section: the verdict under each value of the missing facts."""
    entries = [e.model_dump(by_alias=True) for e in determination.conditional]
    if not entries:
        return
    console.print("\n[bold]What would settle it[/bold]")
    for e in entries:
        console.print(f"  • {describe(e)}", markup=False, highlight=False)
