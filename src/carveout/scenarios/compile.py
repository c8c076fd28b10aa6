"""Compile a scenario (and its bases) into an ``engine.RuleSet``.

* ``params`` become a dated override ``(effective, {name: value})``.
* VEU edits become an override of the VEU parameter (``veu_sites``: facility id -> {entity, status,
  eligible_eccns}); the new value is computed from the value in force on the scenario's ``effective`` day
  (after any earlier scenario in the chain), so a grant or revocation holds from that day on.
* Entity List edits become a :class:`EntityListEdits` table that ``evaluate`` applies to the facts frame
  (``end_user_listed``/``entity_list_footnote`` by end-user name) for rows on or after ``effective``,
  after screening, so the scenario's word is final.
* ``disable`` ends a baseline rule the day before ``effective`` (its history before stays intact).
* ``rules`` become :class:`Rule` objects with ids ``scenario.<id>``, in force from ``effective``; they are
  placed before the baseline rules so a scenario review policy is checked first.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from carveout import engine
from carveout.rules import params as prm
from carveout.rules.registry import Rule, all_rules
from carveout.scenarios.expr import compile_expression
from carveout.scenarios.model import Scenario, ScenarioError, SiteCap, chain

VEU_PARAM = "veu_sites"


def normalise_name(name: str | None) -> str:
    """Upper-case, accents and punctuation dropped, company suffixes kept (good enough for an edit table)."""
    if not name:
        return ""
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c)).upper()
    s = re.sub(r"[^A-Z0-9]+", " ", s)
    return " ".join(s.split())


@dataclass(frozen=True)
class EntityListEdits:
    """A name -> (listed, footnote) table applied to the facts frame from ``effective`` on.

    Picklable (plain data), so a compiled RuleSet can go to a process pool or a Dask worker.
    """

    effective: date
    table: tuple[tuple[str, bool, int], ...]  # (normalised name, listed, footnote)

    reads = ("end_user_name",)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        if not self.table:
            return frame
        edits = pl.DataFrame(
            {"_eu_key": [t[0] for t in self.table], "_eu_listed": [t[1] for t in self.table],
             "_eu_fn": [t[2] for t in self.table]},
            schema={"_eu_key": pl.String, "_eu_listed": pl.Boolean, "_eu_fn": pl.Int8},
        )
        key = (pl.col("end_user_name").str.normalize("NFKD").str.replace_all(r"\p{Mn}", "")
               .str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars()
               .str.replace_all(r"\s+", " "))
        day = pl.col("day") if "day" in frame.columns else pl.coalesce(pl.col("date"), pl.lit(date.today()))
        out = frame.with_columns(_eu_key=key).join(edits, on="_eu_key", how="left", maintain_order="left")
        hit = pl.col("_eu_listed").is_not_null() & (day >= pl.lit(self.effective))
        return out.with_columns(
            end_user_listed=pl.when(hit).then(pl.col("_eu_listed")).otherwise(pl.col("end_user_listed")),
            entity_list_footnote=pl.when(hit).then(pl.col("_eu_fn")).otherwise(pl.col("entity_list_footnote")),
        ).drop("_eu_key", "_eu_listed", "_eu_fn")


@dataclass
class Compiled:
    """What a scenario compiles to: the RuleSet, plus the caps applied after evaluation."""

    scenario: Scenario
    ruleset: engine.RuleSet
    caps: list[tuple[str, SiteCap]]  # (rule id, cap)
    effective: date
    warnings: list[str]


def edit_veu_entry(entry: dict | None, e: Any) -> dict:
    """One site's VEU record ({entity, status, eligible_eccns, ...}) after a grant or revocation."""
    entry = dict(entry or {"entity": e.site, "status": "revoked", "eligible_eccns": []})
    items = list(entry.get("eligible_eccns") or [])
    if e.action == "grant":
        if entry.get("status") != "authorized":
            items = []
        entry["status"] = "authorized"
        entry["eligible_eccns"] = sorted(set(items) | set(e.items or []))
        if "eligible_eccns_complete" in entry:
            entry["eligible_eccns_complete"] = True  # the scenario states the list
    elif e.items:
        entry["eligible_eccns"] = [i for i in items if i not in set(e.items)]
        if not entry["eligible_eccns"]:
            entry["status"] = "revoked"
    else:
        entry["status"] = "revoked"
        entry["eligible_eccns"] = []
    return entry


def veu_override(current: Any, edits: list, effective: date, per_site: bool) -> tuple[Any, list[str]]:
    """Apply grant/revoke edits to a VEU parameter value: a per-site record (parameter named by the
    facility id) or a ``veu_sites`` mapping {facility id: record}. Returns the new value and warnings."""
    warnings = []
    if per_site:
        value = copy.deepcopy(current)
        for e in edits:
            if e.action == "revoke" and not value:
                warnings.append(f"VEU site {e.site} has no VEU record on {effective}; revoking it changes nothing")
            value = edit_veu_entry(value, e)
        return value, warnings
    value = copy.deepcopy(dict(current or {}))
    for e in edits:
        if e.action == "revoke" and e.site not in value:
            continue  # not in this mapping (the site's own parameter holds it)
        value[e.site] = edit_veu_entry(value.get(e.site), e)
    return value, warnings


def veu_params_for(site: str, hint: str | None) -> list[tuple[str, bool]]:
    """Which parameters hold a site's VEU record: [(name, per_site)]. A per-site parameter (named by the
    facility id, as in rules/params/part748_veu.yaml) and a ``veu_sites`` mapping are both edited when
    both exist, so the edit holds whichever the VEU rule reads."""
    known = prm.all_params()
    if hint:
        return [(hint, hint == site)]
    out = []
    if site in known:
        out.append((site, True))
    if VEU_PARAM in known:
        out.append((VEU_PARAM, False))
    if not out:
        raise KeyError(site)
    return out


def compile_scenario(sc: Scenario) -> Compiled:
    """Scenario -> RuleSet over the baseline rules (the one evaluation path)."""
    return compile_chain(chain(sc))


def compile_chain(scenarios: list[Scenario]) -> Compiled:
    """Compile scenarios applied in order (root first); the last one names the result."""
    sc = scenarios[-1]
    rules: list[Rule] = all_rules()
    known_ids = {r.id for r in rules}
    overrides: list[tuple[date, dict]] = []
    edits: list[EntityListEdits] = []
    caps: list[tuple[str, SiteCap]] = []
    extra: list[Rule] = []
    warnings: list[str] = []
    for s in scenarios:
        eff = s.effective
        ov: dict[str, Any] = dict(s.params)
        by_param: dict[tuple[str, bool], list] = {}
        for i, e in enumerate(s.list_edits.veu):
            try:
                for target in veu_params_for(e.site, e.param):
                    by_param.setdefault(target, []).append(e)
            except KeyError:
                raise ScenarioError(s.source or s.name, [(
                    f"list_edits.veu[{i}].site", f"no VEU parameter for {e.site!r}: neither a parameter named "
                    f"after the site nor a {VEU_PARAM!r} mapping is defined")]) from None
        later: list[tuple[date, dict]] = []
        if by_param:
            # The edit is re-applied on every later change of the parameter, so a later dated value
            # (e.g. the 2025-12-31 revocations) is edited too rather than masked by a frozen copy.
            probe = engine.RuleSet(rules=[], overrides=overrides + [(eff, dict(s.params))])
            for (name, per_site), es in by_param.items():
                if name not in prm.all_params():
                    raise ScenarioError(s.source or s.name, [("list_edits.veu", f"no parameter {name!r} "
                                                              "(the VEU sites) is defined")])
                days = [eff] + [v.effective for v in prm.all_params()[name].values if v.effective > eff]
                for d in days:
                    value, w = veu_override(probe.params(d)[name], es, d, per_site)
                    if d == eff:
                        ov[name] = value
                        warnings += w
                    else:
                        later.append((d, {name: value}))
        if ov:
            overrides.append((eff, ov))
        overrides.extend(later)
        if s.list_edits.entity_list:
            table = tuple((normalise_name(n), e.action == "add", e.footnote if e.action == "add" else 0)
                          for e in s.list_edits.entity_list for n in [e.name, *e.aliases])
            edits.append(EntityListEdits(eff, table))
        until = eff - timedelta(days=1)
        disabled = set(s.disable)
        kept = []
        for r in rules:
            if r.id in disabled:
                if r.effective is not None and r.effective > until:
                    continue
                r = replace(r, until=until if r.until is None else min(r.until, until))
            kept.append(r)
        rules = kept
        for spec in s.rules:
            rid = s.rule_id(spec)
            if rid in known_ids:
                raise ScenarioError(s.source or s.name, [("rules", f"rule id {rid!r} defined twice in the chain")])
            known_ids.add(rid)
            compiled = compile_expression(spec.when, set(prm.all_params()))
            overcomes = tuple("" if o == "all" else o for o in spec.overcomes)
            for o in overcomes:
                if o and not any(i.startswith(o) for i in known_ids):
                    warnings.append(f"{s.name}: rule {spec.id} overcomes {o!r}, which matches no rule id yet")
            extra.append(Rule(
                id=rid, cite=spec.citation, summary=spec.label, stage=spec.effect, body=compiled.body(),
                effective=eff, source=f"scenario {s.name}", yields=spec.yields or (
                    spec.label if spec.effect == "policy" else spec.id.upper()),
                overcomes=overcomes, tags=("scenario", s.name),
                **({"priority": 0} if "priority" in Rule.__dataclass_fields__ else {}),
            ))
        for c in s.caps:
            caps.append((f"scenario.{c.rule}", c))
    for rid, c in caps:
        if rid not in known_ids:
            raise ScenarioError(sc.source or sc.name, [("caps", f"no rule {c.rule!r} in the scenario chain")])
    ruleset = engine.RuleSet(rules=extra + rules, overrides=overrides, label=sc.name)
    if edits:
        if not hasattr(ruleset, "fact_edits"):
            raise RuntimeError("this engine.RuleSet has no fact_edits; Entity List edits need it")
        ruleset.fact_edits = tuple(edits)  # type: ignore[attr-defined]
    return Compiled(sc, ruleset, caps, sc.effective, warnings)
