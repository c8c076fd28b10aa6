"""Counterfactuals: the smallest changes to facts the user controls that flip the answer.

For an item the answer is its ECCN; for a shipment, whether a licence is required. Only facts a designer
or exporter can change are searched (the item's parameters and its U.S. content and technology; more by
``facts=``), never the regulation's facts (dates, country groups, lists, designations).

Each numeric fact is tried on its *cut-point grid*: just below, at and just above every threshold the
rules compare it against (``rules.cutpoints``); a boolean at its other value. Performance density is a
knob of its own (realised through the die area, area = TPP / density). Singles and pairs of facts are
evaluated as extra rows of one ``engine.evaluate`` call. An alternative is kept when it flips the answer
and no other flipping alternative to the same answer changes a subset of its facts, each by no more grid
steps in the same direction ("minimal on the grid"). Alternatives are ranked by facts changed, then
thresholds crossed, then relative size of the change.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from carveout import engine
from carveout.asof import as_date
from carveout.rules.cutpoints import Cut, CutPoints, cut_points
from carveout.rules.registry import catalogue

ITEM_KNOBS = (
    "tpp",
    "performance_density",
    "marketed_for_datacenter",
    "interconnect_gb_s",
    "memory_bandwidth_density_gb_s_mm2",
    "memory_bandwidth_gb_s",
)
SOURCING_KNOBS = (
    "us_controlled_content_pct",
    "direct_product_of_us_technology",
    "produced_by_us_origin_plant",
    "contains_us_ic",
)
MARGIN = 1e-3  # "just below/above" a threshold: 0.1 % of it (readable, and clear of float rounding)


@dataclass
class Alternative:
    changes: list[dict[str, Any]]  # {fact, from, to, constraint, crossed: [thresholds]}
    set_facts: dict[str, Any]  # the user-level facts to set (tpp, die_area_mm2, ...) to get ``result``
    result: dict[str, Any]  # eccn, license_required, reasons
    stops_applying: list[dict[str, str]]
    starts_applying: list[dict[str, str]]
    cost: tuple[int, int, float]  # facts changed, thresholds crossed, summed relative change
    knobs: dict[str, Any] = field(default_factory=dict)  # the searched facts' new values (density as such)

    def describe(self) -> str:
        conds = " and ".join(c["constraint"] for c in self.changes)
        stop = ", ".join(s["rule"] for s in self.stops_applying) or "none"
        return f"{conds} -> {_answer(self.result)} (stops applying: {stop})"


@dataclass
class CounterfactualResult:
    subject: str  # item | transaction
    as_of: date
    original: dict[str, Any]
    alternatives: list[Alternative] = field(default_factory=list)
    # minimal changes after which the answer waits on a fact the subject does not give (needs_review)
    unsettled: list[Alternative] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)
    explanation: str = ""

    @property
    def smallest(self) -> Alternative | None:
        return self.alternatives[0] if self.alternatives else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "as_of": self.as_of.isoformat(),
            "original": self.original,
            "searched": self.searched,
            "explanation": self.explanation,
            "alternatives": [
                {
                    "changes": a.changes,
                    "set": a.set_facts,
                    "result": a.result,
                    "stops_applying": a.stops_applying,
                    "starts_applying": a.starts_applying,
                    "facts_changed": a.cost[0],
                    "thresholds_crossed": a.cost[1],
                    "relative_change": round(a.cost[2], 4),
                }
                for a in self.alternatives
            ],
            "unsettled": [{"changes": a.changes, "set": a.set_facts, "result": a.result} for a in self.unsettled],
        }


def _answer(result: dict[str, Any]) -> str:
    if "license_required" in result:
        return f"licence {result['license_required']} ({result['eccn']})"
    return str(result["eccn"])


def counterfactual(
    subject: Any,
    as_of: date | str | None = None,
    *,
    facts: tuple[str, ...] | None = None,
    max_facts: int = 2,
    ruleset: engine.RuleSet | None = None,
) -> CounterfactualResult:
    """Minimal changes to user-controlled facts that flip ``subject``'s answer.

    ``subject``: an ItemSpec (or its dict: the answer is the ECCN) or a Transaction (or a dict with an
    ``item``: the answer is the licence verdict). ``facts`` replaces the searched facts (frame column
    names; add e.g. ``destination`` or ``end_use`` to search those too)."""
    from carveout.api import frame_of
    from carveout.model import ItemSpec, Transaction

    rs = ruleset or engine.BASELINE
    is_txn = isinstance(subject, Transaction) or (isinstance(subject, dict) and "item" in subject)
    day = as_date(as_of)
    if is_txn:
        t = subject if isinstance(subject, Transaction) else Transaction.model_validate(subject)
        day = day or t.date or date.today()
        base = {**t.facts(), "date": t.date or day}
        screened = engine.evaluate(frame_of([base]), as_of=day, ruleset=rs)
        for k in ("end_user_listed", "entity_list_footnote", "end_user_affiliate_of_listed"):
            base[k] = screened.row(0, named=True)[k]
    else:
        s = subject if isinstance(subject, ItemSpec) else ItemSpec.model_validate(subject)
        day = day or date.today()
        base = {**s.facts(), "date": day}
    key = ("license_required",) if is_txn else ("eccn",)
    cp = grid_cut_points(base, day, rs)
    knobs = [f for f in (facts or (ITEM_KNOBS + (SOURCING_KNOBS if is_txn else ()))) if _known(base, f)]
    grids = {f: _grid(f, base, cp) for f in knobs}
    grids = {f: g for f, g in grids.items() if g}
    trials: list[dict[str, Any]] = [{}]
    trials += [{f: v} for f, g in grids.items() for v in g]
    for n in range(2, max_facts + 1):
        for combo in itertools.combinations(grids, n):
            trials += [dict(zip(combo, vs, strict=True)) for vs in itertools.product(*(grids[f] for f in combo))]
    rows = [_apply(base, ch) for ch in trials]
    out = engine.evaluate(frame_of(rows), as_of=day, ruleset=rs, screen=False)
    answers = out.select("eccn", "license_required", "reasons", "missing", "eccn_missing").to_dicts()
    original = _result(answers[0], is_txn)
    res = CounterfactualResult("transaction" if is_txn else "item", day, original, searched=list(grids))
    flips, open_ = [], []
    for ch, a in zip(trials[1:], answers[1:], strict=True):
        r = _result(a, is_txn)
        if r[key[0]] == original[key[0]]:
            continue
        if r[key[0]] is None or r.get("license_required") == "needs_review":
            open_.append((ch, r))
        else:
            flips.append((ch, r))
    res.alternatives = _minimal(flips, base, cp, original, key[0])
    settled = {frozenset(a.set_facts) for a in res.alternatives}
    res.unsettled = [a for a in _minimal(open_, base, cp, original, None) if frozenset(a.set_facts) not in settled][:5]
    res.explanation = _explain(res)
    return res


def _minimal(
    found: list[tuple[dict, dict]], base: dict, cp: CutPoints, original: dict, key: str | None
) -> list[Alternative]:
    """Alternatives no other one (to the same answer) dominates on the grid, smallest first."""
    kept = [
        (ch, r)
        for ch, r in found
        if not any(_dominates(o, ch, base, cp) for o, rr in found if o is not ch and (key is None or rr[key] == r[key]))
    ]
    return sorted((_alternative(ch, r, base, cp, original) for ch, r in kept), key=lambda a: (a.cost, a.describe()))


def grid_cut_points(base: dict, day: date, ruleset: engine.RuleSet | None = None) -> CutPoints:
    """The rules' cut points, plus TPP values where performance density crosses its own thresholds at
    this item's die area (TPP changed alone keeps the area, so density moves with it)."""
    cp = cut_points(day, ruleset)
    area = base.get("die_area_mm2")
    if not area:
        return cp
    extra = [Cut("tpp", c.op, c.value * area, c.rule) for c in cp.cuts_for("performance_density")]
    return CutPoints(cp.cuts + extra, cp.matches, cp.opaque)


def _known(base: dict, fact: str) -> bool:
    if fact == "performance_density":
        return bool(base.get("tpp")) and bool(base.get("die_area_mm2"))
    return base.get(fact) is not None


def _value(base: dict, fact: str) -> Any:
    if fact == "performance_density":
        return base["tpp"] / base["die_area_mm2"]
    return base[fact]


def _grid(fact: str, base: dict, cp: CutPoints) -> list[Any]:
    """Values to try for one fact: the other boolean, or around every threshold of a number."""
    v = _value(base, fact)
    if isinstance(v, bool):
        return [not v]
    if isinstance(v, str):
        return []
    out = set()
    for t in cp.thresholds(fact):
        m = abs(t) * MARGIN or MARGIN
        out |= {t - m, t + m} | ({t} if fact != "performance_density" else set())
    b0 = cp.bucket(fact, v)
    best: dict[int, float] = {}  # one value per grid region: the one nearest the original
    for x in sorted(out, key=lambda x: abs(x - v)):
        if x >= 0 and cp.bucket(fact, x) != b0:
            best.setdefault(cp.bucket(fact, x), x)
    return sorted(best.values())


def _apply(base: dict, changes: dict[str, Any]) -> dict:
    """The facts row with the changes made through user-level facts (density through the die area)."""
    r = {**base, **{k: v for k, v in changes.items() if k != "performance_density"}}
    if "performance_density" in changes:
        r["die_area_mm2"] = round(r["tpp"] / changes["performance_density"], 3)
    if "tpp" in changes:
        r["mac_tops"] = r["bit_length"] = None
    r["performance_density"] = None  # derived again from TPP and area
    return r


def set_facts(base: dict, changes: dict[str, Any]) -> dict[str, Any]:
    """The facts a user sets to realise ``changes`` (public names, as in a Transaction or ItemSpec)."""
    r = _apply(base, changes)
    keys = [k for k in changes if k != "performance_density"]
    if "performance_density" in changes:
        keys.append("die_area_mm2")
    if "memory_bandwidth_gb_s" in changes and base.get("memory_bandwidth_density_gb_s_mm2") is not None:
        keys.append("memory_bandwidth_density_gb_s_mm2")  # keep the density as it was, not recomputed
    return {k: r[k] for k in keys}


def _result(a: dict, is_txn: bool) -> dict[str, Any]:
    out = {"eccn": a["eccn"], "reasons": [str(x) for x in a["reasons"] or []]}
    if is_txn:
        out["license_required"] = a["license_required"]
        missing = a["missing"]
    else:
        out["reasons"] = [x for x in out["reasons"] if x.startswith("ccl.")]
        missing = a["eccn_missing"] if a["eccn"] is None else []
    if missing:
        out["missing"] = list(missing)
    return out


def _steps(fact: str, base: dict, new: Any, cp: CutPoints) -> int:
    """Signed grid steps from the original value (booleans: 1)."""
    old = _value(base, fact)
    if isinstance(old, bool):
        return 1
    return cp.bucket(fact, new) - cp.bucket(fact, old)


def _dominates(o: dict, a: dict, base: dict, cp: CutPoints) -> bool:
    """``o`` changes a subset of ``a``'s facts, each in the same direction by no more grid steps."""
    if not set(o) <= set(a) or o == a:
        return False
    for f in o:
        so, sa = _steps(f, base, o[f], cp), _steps(f, base, a[f], cp)
        if so * sa <= 0 or abs(so) > abs(sa):
            return False
    return True


def _alternative(ch: dict, r: dict, base: dict, cp: CutPoints, original: dict) -> Alternative:
    changes, crossed_n, rel = [], 0, 0.0
    for f, v in ch.items():
        old = _value(base, f)
        crossed = _crossed(cp, f, old, v) if not isinstance(old, bool) else []
        crossed_n += len(crossed) or 1
        if not isinstance(old, bool):
            rel += abs(v - old) / abs(old) if old else 1.0
        else:
            rel += 1.0
        changes.append(
            {
                "fact": f,
                "from": _round(old),
                "to": _round(v),
                "constraint": _constraint(f, old, v, cp),
                "crossed": crossed,
                "crossed_text": _crossed_text(f, crossed, cp, base.get("die_area_mm2")),
            }
        )
    cat = catalogue()
    gone = [x for x in original["reasons"] if x not in r["reasons"]]
    new = [x for x in r["reasons"] if x not in original["reasons"]]

    def cite(ids: list[str]) -> list[dict[str, str]]:
        return [{"rule": i, "cite": getattr(cat.get(i), "cite", "")} for i in ids if not i.startswith("engine.")]

    return Alternative(changes, set_facts(base, ch), r, cite(gone), cite(new), (len(ch), crossed_n, rel), dict(ch))


def _crossed_text(fact: str, crossed: list[float], cp: CutPoints, area: float | None) -> list[str]:
    """Thresholds as text; a TPP value that is really a density threshold at this die area says so."""
    pd_cuts = cp.thresholds("performance_density")
    out = []
    for t in crossed:
        dens = [d for d in pd_cuts if fact == "tpp" and area and abs(t - d * area) <= 1e-9 * max(t, 1.0)]
        out.append(f"{t:g} (density {dens[0]:g} at {area:g} mm2)" if dens else f"{t:g}")
    return out


def _crossed(cp: CutPoints, fact: str, old: float, new: float) -> list[float]:
    """Thresholds the change moves across (the value's side of the comparison changes)."""
    return [t for t in cp.thresholds(fact) if (old >= t) != (new >= t) or (old > t) != (new > t)]


def _constraint(fact: str, old: Any, new: Any, cp: CutPoints) -> str:
    name = fact.replace("_", " ")
    if isinstance(old, bool):
        return f"{'not ' if not new else ''}{name}" if fact == "marketed_for_datacenter" else f"{fact} = {new}"
    ts = cp.thresholds(fact)
    b = cp.bucket(fact, new)
    if b % 2:
        t = ts[(b - 1) // 2]
        return f"{name} {'<=' if new < old else '>='} {t:g}"
    if new < old:
        return f"{name} below {ts[b // 2]:g}"
    return f"{name} above {ts[b // 2 - 1]:g}"


def _round(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def _explain(res: CounterfactualResult) -> str:
    if not res.alternatives:
        text = (
            f"No change to {', '.join(res.searched) or 'the searched facts'} within the cut-point grid settles "
            f"a different answer than {_answer(res.original)}."
        )
        if res.unsettled:
            u = res.unsettled[0]
            text += (
                f" The nearest change that moves it, {' and '.join(c['constraint'] for c in u.changes)}, leaves "
                f"it waiting on {', '.join(m.split(' ', 1)[0] for m in u.result.get('missing', [])) or 'review'}."
            )
        return text
    a = res.smallest
    crossed = [
        f"{c['fact']} across {', '.join(c['crossed_text'])}"
        if c["crossed"]
        else f"{c['fact']} {c['from']} -> {c['to']}"
        for c in a.changes
    ]
    why = (
        f"it changes {a.cost[0]} fact{'s' if a.cost[0] > 1 else ''}"
        + f" and crosses {a.cost[1]} cut point{'s' if a.cost[1] > 1 else ''} ({'; '.join(crossed)})"
        + f", a relative change of {a.cost[2]:.0%}"
    )
    others = len(res.alternatives) - 1
    return (
        f"Smallest: {a.describe()}. It is the smallest because {why}; alternatives are ranked by facts "
        f"changed, then thresholds crossed, then relative change ({others} other minimal alternative"
        f"{'s' if others != 1 else ''})."
    )


def frame_for(res: CounterfactualResult) -> pl.DataFrame:
    """The alternatives as a table (one row per alternative)."""
    return pl.DataFrame(
        [
            {
                "change": " and ".join(c["constraint"] for c in a.changes),
                "set": str(a.set_facts),
                "result": _answer(a.result),
                "stops_applying": ", ".join(s["rule"] for s in a.stops_applying),
                "facts": a.cost[0],
                "thresholds": a.cost[1],
            }
            for a in res.alternatives
        ]
    )
