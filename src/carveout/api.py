"""The Python API: thin shells around ``engine.evaluate`` that speak Pydantic at the edges."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

import polars as pl

from carveout import engine
from carveout.asof import as_date
from carveout.contains import resolve_contains
from carveout.engine import evaluate
from carveout.facts import DERIVED_FROM, SCHEMA
from carveout.model import Classification, Determination, ItemSpec, Reason, Transaction
from carveout.profiles import Profile, apply_profile
from carveout.rules import params as prm
from carveout.rules.registry import F, Rule, catalogue

__all__ = ["classify", "check", "check_many", "evaluate", "screen", "explain_reasons", "frame_of"]


def frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {k: v[0] for k, v in SCHEMA.items() if k != "row"}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def explain_reasons(ids: list[str], row: dict[str, Any], day: date) -> list[Reason]:
    """Turn reason ids into citations, summaries and the facts each rule read."""
    cat = catalogue()
    out = []
    for rid in ids:
        entry = cat.get(rid)
        if entry is None:
            out.append(Reason(rule=rid, citation="", summary="(scenario rule)"))
            continue
        used: dict[str, object] = {}
        if isinstance(entry, Rule):
            try:
                names = _facts_read(entry, day)
            except TypeError:  # a rule (e.g. a scenario's) whose fields cannot be hashed: not cached
                names = _facts_read.__wrapped__(entry, day)
            for n in names:
                if n in row:
                    used[n] = row[n]
        out.append(Reason(rule=rid, citation=entry.cite, summary=entry.summary,
                          source=getattr(entry, "source", None) or None, facts=used))
    return out


@lru_cache(maxsize=4096)
def _facts_read(entry: Rule, day: date) -> tuple[str, ...]:
    """The facts a rule's body reads on ``day`` (building the body costs more than the rest of a check)."""
    try:
        return tuple(sorted(set(entry.body(F, prm.params_at(day)).meta.root_names())))
    except Exception:  # a body that cannot be built for this day reads no facts
        return ()


def _spec(spec: ItemSpec | dict) -> ItemSpec:
    return spec if isinstance(spec, ItemSpec) else ItemSpec.model_validate(spec)


def classify(spec: ItemSpec | dict, as_of: date | str | None = None) -> Classification:
    """Decide the ECCN of one item from its specs, under the rules in force on ``as_of`` (today)."""
    day = as_date(as_of) or date.today()
    s = resolve_contains(_spec(spec), day)
    row = evaluate(frame_of([{**s.facts(), "date": day}]), as_of=day, screen=False).row(0, named=True)
    return Classification(
        name=s.name,
        eccn=row["eccn"],
        classification=row["classification"],
        status="needs_review" if row["eccn"] is None else "classified",
        missing=list(row["eccn_missing"] or []) if row["eccn"] is None else [],
        reasons=explain_reasons([r for r in row["reasons"] if r.startswith("ccl.")], row, day),
        tpp=row["tpp"],
        performance_density=row["performance_density"],
        as_of=day,
        rules_version=row["rules_version"],
    )


def check(txn: Transaction | dict, as_of: date | str | None = None, ruleset: engine.RuleSet | None = None,
          profile: Profile | None = None, jurisdiction: str | None = None, conditional: bool = True) -> Determination:
    """Does this shipment need a licence, and why? ``evaluate`` on a one-row frame. A needs_review
    answer also carries ``conditional``: the verdict under each value of the missing facts.

    ``jurisdiction="CN"`` answers under PRC law (rules/prc); several laws at once and the combined
    verdict: ``carveout.jurisdictions.check_all``."""
    return check_many([txn], as_of, ruleset, profile, jurisdiction, conditional)[0]


def check_many(txns: list[Transaction | dict], as_of: date | str | None = None,
               ruleset: engine.RuleSet | None = None, profile: Profile | None = None,
               jurisdiction: str | None = None, conditional: bool = True) -> list[Determination]:
    """``check`` for several shipments in ONE ``evaluate`` call (the service micro-batches concurrent
    requests this way); each answer is exactly what ``check`` gives for that shipment alone."""
    if jurisdiction is not None:
        from carveout.jurisdictions import parse, ruleset_for

        codes = parse(jurisdiction)
        if len(codes) != 1:
            raise ValueError("check() answers under one law; use carveout.jurisdictions.check_all for several")
        ruleset = ruleset_for(codes[0], ruleset)
    ts = [t if isinstance(t, Transaction) else Transaction.model_validate(t) for t in txns]
    if not ts:
        return []
    as_of = as_date(as_of)
    facts = []
    for t in ts:
        day = as_of or t.date or date.today()
        t = t.model_copy(update={"item": resolve_contains(t.item, t.date or day)}) if t.item.contains else t
        facts.append({**t.facts(), "date": t.date or day})
    frame = apply_profile(frame_of(facts), profile)
    if ruleset is not None and ruleset.jurisdiction != "US":  # another law: its rules only (jurisdictions.py)
        from carveout.jurisdictions import evaluate_in

        out = evaluate_in(frame, ruleset.jurisdiction, as_of, ruleset)
    else:
        out = evaluate(frame, as_of=as_of, ruleset=ruleset)
    answers = []
    for i, row in enumerate(out.iter_rows(named=True)):
        branches = []
        if conditional and row["license_required"] == "needs_review" and (
                ruleset is None or ruleset.jurisdiction == "US"):
            from carveout.conditional import for_check

            branches = for_check(frame.slice(i, 1), out.slice(i, 1), as_of, ruleset)
        answers.append(Determination(
            license_required=row["license_required"],
            eccn=row["eccn"],
            classification=row["classification"],
            reasons=explain_reasons(list(row["reasons"]), row, row["rules_date"]),
            missing=list(row["missing"] or []),
            license_exceptions=list(row["license_exceptions"] or []),
            authorization=row["authorization"],
            review_policy=row["review_policy"],
            as_of=row["day"],
            rules_version=row["rules_version"],
            conditional=branches,
        ))
    return answers


def screen(name: str, country: str | None = None, **kwargs: Any):
    """Screen one party name against the restricted-party lists (see ``carveout.screening``)."""
    from carveout.screening import screen as _screen

    return _screen(name, country=country, **kwargs)


_ = DERIVED_FROM  # re-exported for renderers
