"""What changed between two dates: the rules and parameters, and what that did to an item, a shipment or
a ledger.

Both dates are evaluated by the one ``engine.evaluate`` path (an item or shipment as two rows of one
frame, each with its own date). The rule changes come from the registry (a rule's ``effective``/``until``
and its enforcement dates), the parameter changes from the dated YAML (each value's Federal Register
rule). A change "moved" the subject when it touches a rule that fired on either date, or a
classification rule when the classification differs; the cut points a fact is compared against on
each date show *how* (e.g. the I/O-rate test of 3A090 is gone on 2023-11-17).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from carveout import engine
from carveout.asof import as_date
from carveout.rules import params as prm
from carveout.rules.cutpoints import cut_points
from carveout.rules.registry import F, Rule

CLASSIFY_STAGES = ("classify", "classify_z")
_NUMERIC_ITEM_FACTS = (
    "tpp",
    "performance_density",
    "interconnect_gb_s",
    "memory_bandwidth_density_gb_s_mm2",
    "memory_bandwidth_gb_s",
    "us_controlled_content_pct",
)


@dataclass
class ChangesResult:
    from_: date
    to: date
    rules: list[dict[str, Any]]  # every rule change in (from, to]
    params: list[dict[str, Any]]  # every parameter change in (from, to]
    subject: str | None = None  # item | transaction | ledger
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    moved_by: list[dict[str, Any]] = field(default_factory=list)  # the changes that touch the subject
    tests: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # fact -> comparisons per date
    rows: pl.DataFrame | None = None  # ledger: rows whose verdict changes
    aggregates: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        if self.subject == "ledger":
            return self.rows is not None and not self.rows.is_empty()
        if self.before is None or self.after is None:
            return bool(self.rules or self.params)
        keys = ("eccn", "license_required", "reasons")
        return any(self.before.get(k) != self.after.get(k) for k in keys)

    def why(self) -> list[str]:
        """Plain sentences: which rules stopped or started deciding, and which comparisons changed."""
        if self.before is None or self.after is None:
            return []
        out = []
        b, a = set(self.before["reasons"]), set(self.after["reasons"])
        by_id = {c["id"]: c for c in self.moved_by if c["kind"] == "rule"}
        for rid in sorted(a - b):
            c = by_id.get(rid)
            out.append(f"{rid} applies on {self.to}" + (f" ({c['change']} {c['on']}, {c['source']})" if c else ""))
        for rid in sorted(b - a):
            c = by_id.get(rid)
            out.append(f"{rid} no longer applies" + (f" ({c['change']} {c['on']}, {c['source']})" if c else ""))
        for fact, d in self.tests.items():
            if d["before"] and not d["after"]:
                out.append(f"{fact} is no longer compared (was {', '.join(d['before'])})")
            elif d["after"] and not d["before"]:
                out.append(f"{fact} is now compared ({', '.join(d['after'])})")
            else:
                out.append(f"{fact}: compared {', '.join(d['before'])} -> {', '.join(d['after'])}")
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.from_.isoformat(),
            "to": self.to.isoformat(),
            "subject": self.subject,
            "changed": self.changed,
        }
        if self.subject in ("item", "transaction"):
            out |= {
                "before": self.before,
                "after": self.after,
                "why": self.why(),
                "moved_by": self.moved_by,
                "tests": self.tests,
            }
        if self.subject == "ledger" and self.rows is not None:
            r = self.rows
            out["summary"] = {
                "rows_changed": r.height,
                "newly_licensed_rows": r.filter(pl.col("to") == "yes").height,
                "cleared_rows": r.filter(pl.col("from") == "yes").height,
                "newly_licensed_value_usd": float(r.filter(pl.col("to") == "yes")["value_usd"].fill_null(0).sum()),
                "cleared_value_usd": float(r.filter(pl.col("from") == "yes")["value_usd"].fill_null(0).sum()),
            }
            out["aggregates"] = {k: v.to_dicts() for k, v in self.aggregates.items()}
            out["moved_by"] = self.moved_by
        if self.subject is None:
            out |= {"rules": self.rules, "params": self.params}
        return out


# --- what changed in the rules --------------------------------------------------------------------


def rule_changes(d1: date, d2: date, ruleset: engine.RuleSet | None = None) -> list[dict[str, Any]]:
    """Rules that came into force, ended, or changed enforcement in (d1, d2], oldest first."""
    rs = ruleset or engine.BASELINE
    out = []
    for r in rs.rules:
        events = []
        if r.effective and d1 < r.effective <= d2:
            events.append(("in force", r.effective, r.source))
        if r.until and d1 <= r.until < d2:
            events.append(("ended", r.until + timedelta(days=1), r.source))
        for start, value, why in r.enforced:
            if d1 < start <= d2:
                events.append(("enforced" if value else "not enforced", start, why))
        for change, day, source in events:
            out.append(
                {
                    "kind": "rule",
                    "id": r.id,
                    "change": change,
                    "on": day.isoformat(),
                    "cite": r.cite,
                    "source": source,
                    "stage": r.stage,
                    "summary": r.summary,
                }
            )
    return sorted(out, key=lambda c: (c["on"], c["id"]))


def param_changes(d1: date, d2: date) -> list[dict[str, Any]]:
    """Parameters whose value differs between d1 and d2, with every dated value in (d1, d2] and its rule."""
    out = []
    for name, p in prm.all_params().items():
        steps = [v for v in p.values if d1 < v.effective <= d2]
        if not steps:
            continue
        before, after = p.at(d1), p.at(d2)
        b, a = (before.value if before else None), (after.value if after else None)
        if b == a:
            continue
        out.append(
            {
                "kind": "param",
                "id": name,
                "change": _delta(b, a),
                "on": steps[-1].effective.isoformat(),
                "file": p.file,
                "description": p.description,
                "source": "; ".join(
                    dict.fromkeys(f"{s.effective}: {s.rule or s.cite or 'source not recorded'}" for s in steps)
                ),
            }
        )
    return sorted(out, key=lambda c: (c["on"], c["id"]))


def _delta(before: Any, after: Any, limit: int = 240) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        parts = []
        added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
        if added:
            parts.append(f"added {', '.join(map(str, added))}")
        if removed:
            parts.append(f"removed {', '.join(map(str, removed))}")
        for k in sorted(set(before) & set(after), key=str):
            if before[k] != after[k]:
                bv, av = before[k], after[k]
                if isinstance(bv, dict) and isinstance(av, dict):
                    changed = [f for f in sorted(set(bv) | set(av)) if bv.get(f) != av.get(f)]
                    scalar = (str, int, float, bool, type(None))
                    # scalars with their values (status: authorized -> revoked), structures by name
                    diffs = [
                        f"{f} {bv.get(f)} -> {av.get(f)}"
                        for f in changed
                        if isinstance(bv.get(f), scalar) and isinstance(av.get(f), scalar)
                    ]
                    diffs += [f for f in changed if not any(d.startswith(f"{f} ") for d in diffs)]
                    parts.append(f"{k} ({'; '.join(diffs)})")
                else:
                    parts.append(f"{k} changed")
        text = "; ".join(parts)
    elif (
        isinstance(before, (list, tuple, type(None)))
        and isinstance(after, (list, tuple))
        or (isinstance(before, (list, tuple)) and after is None)
    ):
        b, a = {_hashable(x) for x in before or []}, {_hashable(x) for x in after or []}
        text = "; ".join(
            x
            for x in (
                f"added {', '.join(sorted(map(str, a - b)))}" if a - b else "",
                f"removed {', '.join(sorted(map(str, b - a)))}" if b - a else "",
            )
            if x
        )
        text = text or "reordered"
    else:
        text = f"{before} -> {after}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Recorder(prm.Params):
    """Params that note which names a rule body reads."""

    def __init__(self, p: prm.Params):
        super().__init__(p.day, p._values, p._sources)
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.names.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.names.add(name)
        return super().get(name, default)

    def group(self, name: str) -> list[str]:
        self.names.add(name)
        return super().group(name)


def params_read(rule: Rule, p: prm.Params) -> set[str]:
    rec = _Recorder(p)
    try:
        rule.body(F, rec)
    except Exception:  # a body that cannot be built on this day reads nothing then
        return set()
    return rec.names


# --- what it did to an item, a shipment, a ledger ------------------------------------------------


def changes(
    from_: date | str,
    to: date | str,
    *,
    item: Any = None,
    txn: Any = None,
    ledger: Any = None,
    ruleset: engine.RuleSet | None = None,
    screen: bool = True,
) -> ChangesResult:
    """What changed between ``from_`` and ``to``; with an item (ItemSpec or dict), a transaction or a ledger
    (frame or path), also what it did to that subject."""
    d1, d2 = as_date(from_, "from"), as_date(to, "to")
    if d1 is None or d2 is None:
        raise ValueError("changes needs two dates, FROM and TO")
    lo, hi = min(d1, d2), max(d1, d2)
    rs = ruleset or engine.BASELINE
    res = ChangesResult(d1, d2, rule_changes(lo, hi, rs), param_changes(lo, hi))
    if sum(x is not None for x in (item, txn, ledger)) > 1:
        raise ValueError("give one of item, txn or ledger")
    if item is not None:
        _for_row(res, _item_facts(item), "item", rs, screen=False)
    elif txn is not None:
        _for_row(res, _txn_facts(txn), "transaction", rs, screen=screen)
    elif ledger is not None:
        _for_ledger(res, ledger, rs, screen)
    return res


def _item_facts(item: Any) -> dict:
    from carveout.model import ItemSpec

    spec = item if isinstance(item, ItemSpec) else ItemSpec.model_validate(item)
    return spec.facts()


def _txn_facts(txn: Any) -> dict:
    from carveout.model import Transaction

    t = txn if isinstance(txn, Transaction) else Transaction.model_validate(txn)
    return t.facts()


def _side(row: dict, item_only: bool) -> dict[str, Any]:
    reasons = [str(r) for r in row["reasons"] or []]
    out = {
        "date": row["day"].isoformat(),
        "eccn": row["eccn"],
        "classification": row["classification"],
        "rules_version": row["rules_version"],
    }
    if item_only:
        out |= {"reasons": [r for r in reasons if r.startswith("ccl.")], "missing": list(row["eccn_missing"] or [])}
    else:
        out |= {
            "license_required": row["license_required"],
            "reasons": reasons,
            "missing": list(row["missing"] or []),
            "review_policy": row["review_policy"],
            "license_exceptions": list(row["license_exceptions"] or []),
            "authorization": row["authorization"],
        }
    return out


def _for_row(res: ChangesResult, facts: dict, subject: str, rs: engine.RuleSet, screen: bool) -> None:
    from carveout.api import frame_of

    out = engine.evaluate(
        frame_of([{**facts, "date": res.from_}, {**facts, "date": res.to}]), ruleset=rs, screen=screen
    )
    a, b = out.row(0, named=True), out.row(1, named=True)
    res.subject = subject
    res.before, res.after = _side(a, subject == "item"), _side(b, subject == "item")
    fired = {str(r) for r in (a["reasons"] or [])} | {str(r) for r in (b["reasons"] or [])}
    fired |= _unresolved([*(a["missing"] or []), *(b["missing"] or [])])
    res.moved_by = _touching(res, fired, reclassified=a["eccn"] != b["eccn"], rs=rs, facts=facts)
    known = {
        k: v
        for k, v in {**facts, "tpp": a["tpp"], "performance_density": a["performance_density"]}.items()
        if v is not None
    }
    res.tests = _tests(res.from_, res.to, [f for f in _NUMERIC_ITEM_FACTS if f in known], rs)


def _touching(
    res: ChangesResult, fired: set[str], reclassified: bool, rs: engine.RuleSet, facts: dict | None = None
) -> list[dict[str, Any]]:
    """The rule and parameter changes that touch rules that fired on either date (and, when the
    classification changed, the classification rules that can read this kind of item)."""
    lo, hi = min(res.from_, res.to), max(res.from_, res.to)
    by_id = {r.id: r for r in rs.rules}
    relevant = {i for i in fired if i in by_id}
    if reclassified:
        relevant |= {
            r.id
            for r in rs.rules
            if r.stage in CLASSIFY_STAGES
            and (r.active(lo) or r.active(hi))
            and _may_apply(r, facts or {}, rs.params(hi if r.active(hi) else lo))
        }
    moved = [c for c in res.rules if c["id"] in relevant]
    read: set[str] = set()
    for rid in relevant:
        for d in (lo, hi):
            if by_id[rid].active(d):
                read |= params_read(by_id[rid], rs.params(d))
    moved += [c for c in res.params if c["id"] in read]
    return moved


def _may_apply(rule: Rule, facts: dict, p: prm.Params) -> bool:
    """False when the rule tests the item's kind (or base ECCN) for values this item does not have."""
    from carveout.rules.cutpoints import expr_cut_points

    cp = expr_cut_points(rule.body(F, p), rule.id)
    for fact in ("item_kind", "base_eccn"):
        tested = cp.values(fact)
        if tested and facts.get(fact) not in tested:
            return False
    return True


def _tests(d1: date, d2: date, facts: list[str], rs: engine.RuleSet) -> dict[str, dict[str, list[str]]]:
    """Per fact, the comparisons the rules make on each date, where they differ."""
    a, b = cut_points(d1, rs), cut_points(d2, rs)
    out = {}
    for f in facts:
        before = sorted({f"{c.op} {c.value:g}" for c in a.cuts_for(f)})
        after = sorted({f"{c.op} {c.value:g}" for c in b.cuts_for(f)})
        if before != after:
            out[f] = {"before": before, "after": after}
    return out


def _for_ledger(res: ChangesResult, ledger: Any, rs: engine.RuleSet, screen: bool) -> None:
    from carveout.scenarios.diff import compare

    if not isinstance(ledger, pl.DataFrame):
        from carveout.io.ledger import read_ledger

        ledger = read_ledger(ledger).facts
    a = engine.evaluate(ledger, as_of=res.from_, ruleset=rs, screen=screen)
    b = engine.evaluate(ledger, as_of=res.to, ruleset=rs, screen=screen)
    res.subject = "ledger"
    res.rows, res.aggregates = compare(a, b)
    fired: set[str] = set()
    for col in ("base_reasons", "scen_reasons"):
        fired |= {str(x) for x in res.rows.get_column(col).explode().drop_nulls().unique().to_list()}
    for side in (a, b):
        fired |= _unresolved(side.get_column("missing").explode().drop_nulls().unique().to_list())
    res.moved_by = _touching(res, fired, reclassified=False, rs=rs)


def _hashable(x: Any) -> Any:
    """List items as set members: dicts and lists (e.g. dated chart rows) by their canonical JSON."""
    import json

    return x if isinstance(x, str | int | float | bool | type(None)) else json.dumps(x, sort_keys=True, default=str)


def _unresolved(missing: list[str]) -> set[str]:
    """Rules whose outcome was unknown (``resolve: <rule id> (...)`` in ``missing``): a change to them
    can move a needs_review answer as much as a change to a rule that fired."""
    from carveout.rules.asks import ASK

    asked = {text: rid for rid, text in ASK.items()}
    out = {m.split()[1] for m in missing if isinstance(m, str) and m.startswith("resolve: ") and len(m.split()) > 1}
    return out | {asked[m] for m in missing if m in asked}
