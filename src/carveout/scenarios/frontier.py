"""The exemption trade-off frontier: which combinations of carve-outs keep the most security for the
most relief?

Given a scenario and candidate exemptions (each a partial scenario: list edits, parameter carve-outs,
rules, disables; defined in YAML, see :class:`Candidates`), every combination of candidates is compiled
on top of the scenario and scored on two axes, both in USD of the ledger's value:

* **security kept** — value of controlled advanced items (3A090/4A090/.z, HBM, and the advanced-SME
  paragraphs) still blocked, i.e. ``license_required == "yes"``, to end users located in, or
  headquartered in, Macau or D:5. "Controlled" is fixed from the scenario without exemptions.
* **economic relief** — value of allied firms (headquartered in KR/TW/JP/NL/US: the owner of the
  facility from facilities.csv, else the end user's headquarters) no longer at risk: the at-risk value
  (``yes`` or ``needs_review``) without exemptions minus the at-risk value with the combination.

The Pareto set over (security kept, relief), both maximised, is returned; it never contains a dominated
point, and the two extremes (no exemptions, all exemptions) are always evaluated and, where not strictly
dominated, represent their ties on the frontier.

Speed: the ledger is reduced once to its DISTINCT rule signatures (every column any rule of any
combination reads, plus the scoring columns) with the summed value per signature. The no-exemption chain,
each candidate alone, all candidates and all-but-one (2n+2 probes) are evaluated on all signatures; from
them each candidate's footprint (the signatures whose outcome or rule values it changes, see ``_touched``)
groups the signatures by the candidates touching them, and a combination C costs only the evaluations of
(group, C & group) pairs no probe or earlier combination has done, on that group's signatures. Scores are
sums of memoised group sums. ``verify=True`` checks this against full evaluation; ``incremental=False``
evaluates every combination on all signatures. The assumption is stated in docs/scenarios.md.
Evaluations run in a local process pool (``concurrent.futures``, spawn) or on a Dask cluster
(``executor="dask"``, ``scheduler=ADDRESS``). Annual caps are applied on the aggregates: per site and
year, covered value above the cap counts as licensed, in proportion across the covered signatures.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import Field, ValidationError

from carveout import engine
from carveout import facts as fx
from carveout.asof import as_date
from carveout.rules.registry import F
from carveout.scenarios.compile import Compiled, compile_chain
from carveout.scenarios.data import ALLIED_HQ, facilities
from carveout.scenarios.model import (
    ListEdits,
    RuleSpec,
    Scenario,
    ScenarioError,
    SiteCap,
    _path,
    _Strict,
    chain,
    load,
    semantic_problems,
)

D5_FALLBACK = ("AF", "BY", "CD", "CF", "CN", "CU", "ER", "HK", "HT", "IQ", "IR", "KP", "LB", "LY", "MM", "NI",
               "RU", "SD", "SO", "SS", "SY", "VE", "ZW")


class Candidate(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")
    label: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    list_edits: ListEdits = Field(default_factory=ListEdits)
    disable: list[str] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
    caps: list[SiteCap] = Field(default_factory=list)


class Objectives(_Strict):
    allied_hq: list[str] = Field(default_factory=lambda: list(ALLIED_HQ))
    controlled_eccns: list[str] = Field(
        default_factory=lambda: ["3A090", "4A090", "3B001", "3B002.c", "3B090", "3B993", "3B994"],
        description="ECCN paragraphs counted as controlled advanced items (besides any 3A090/4A090 level)")


class Candidates(_Strict):
    """A candidates file: the exemptions to combine, and how to score them."""

    candidates: list[Candidate] = Field(min_length=1)
    objectives: Objectives = Field(default_factory=Objectives)
    max_combinations: int = Field(default=4096, ge=2)


def load_candidates(path: str | Path) -> Candidates:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        c = Candidates.model_validate(doc)
    except ValidationError as e:
        raise ScenarioError(str(path), [(_path(err["loc"]), err["msg"]) for err in e.errors()]) from None
    ids = [x.id for x in c.candidates]
    dup = {i for i in ids if ids.count(i) > 1}
    problems = [("candidates", f"duplicate candidate id {i!r}") for i in sorted(dup)]
    for i, cand in enumerate(c.candidates):
        probe = _as_scenario(cand, date(2026, 1, 1), name="probe")
        problems += [(f"candidates[{i}].{p}", m) for p, m in semantic_problems(probe) if not p.startswith("caps")]
    if problems:
        raise ScenarioError(str(path), problems)
    return c


def _as_scenario(c: Candidate, effective: date, name: str) -> Scenario:
    return Scenario(name=name, description=c.label, effective=effective, params=c.params,
                    list_edits=c.list_edits, disable=c.disable, rules=c.rules, caps=c.caps)


def combo_scenario(base: Scenario, cands: list[Candidate]) -> Scenario:
    """One Scenario with the union of the candidates' edits, on the scenario's effective day."""
    params: dict[str, Any] = {}
    veu, ent, disable, rules, caps = [], [], [], [], []
    for c in cands:
        params.update(c.params)
        veu += c.list_edits.veu
        ent += c.list_edits.entity_list
        disable += c.disable
        rules += c.rules
        caps += c.caps
    name = "x_" + "_".join(c.id.replace(".", "_").replace("-", "_") for c in cands) if cands else "x_none"
    return Scenario(name=name[:200], effective=base.effective, params=params,
                    list_edits=ListEdits(veu=veu, entity_list=ent), disable=disable, rules=rules, caps=caps)


def combinations(n: int, limit: int) -> list[tuple[int, ...]]:
    """All subsets when 2**n fits the limit; else every subset by size up to the limit, plus the full set."""
    full = tuple(range(n))
    out: list[tuple[int, ...]] = []
    for k in range(n + 1):
        for c in itertools.combinations(range(n), k):
            if len(out) >= limit - 1 and c != full:
                break
            out.append(c)
    if full not in out:
        out.append(full)
    return out


# ------------------------------------------------------------------------------------------------
# signatures


def _rule_columns(rs: engine.RuleSet, day: date) -> set[str]:
    cols: set[str] = set()
    p = rs.params(day)
    for r in rs.rules:
        if r.active(day):
            cols |= {c for c in r.body(F, p).meta.root_names() if c not in fx.COMPUTED}
    for e in getattr(rs, "fact_edits", ()):
        cols |= set(getattr(e, "reads", ()))
    return cols


def prepare(ledger: pl.DataFrame, screen: bool) -> pl.DataFrame:
    f = fx.derive(fx.conform(ledger))
    if screen:
        f = engine._screen_end_users(f)
    return f


def signatures(prepared: pl.DataFrame, rulesets: list[engine.RuleSet], day: date,
               extra: set[str] = frozenset()) -> pl.DataFrame:
    """Distinct rule signatures with their summed value (``value_usd``) and row count (``n_rows``)."""
    cols = set(extra) | {"eccn_declared", "item_kind", "base_eccn", "tpp", "die_area_mm2",
                         "performance_density", "end_user_country", "end_user_hq_country", "destination",
                         "facility_id"}
    for rs in rulesets:
        cols |= _rule_columns(rs, day)
    cols -= {"row", "value_usd", "date"}
    cols = sorted(c for c in cols if c in prepared.columns)
    return (prepared.group_by(cols + ["_year"] if "_year" in prepared.columns else cols)
            .agg(value_usd=pl.col("value_usd").fill_null(0.0).sum(), n_rows=pl.len()))


# ------------------------------------------------------------------------------------------------
# incremental evaluation: which signatures can a candidate change?
#
# A signature's outcome under a combination C is a function of its facts (after Entity List edits), of the
# value of every active rule on it and of the rules' fixed metadata. A rule that is absent and a rule whose
# body is False on a signature have the same effect. So candidate i cannot change a signature on which,
# in a context X (the other candidates present), it edits no fact and leaves every rule value as it was.
# ``touched_i`` collects the signatures where it does, probed in two contexts (nothing else; every other
# candidate), plus the signatures whose outcome differs in those contexts. With ``K(s)`` the candidates
# touching signature s, the outcome of s under C is the outcome under ``C & K(s)``: signatures are grouped
# by ``K(s)`` (a bit mask) and each (mask, C & mask) pair is evaluated once, on that group only.

OUTCOME = ("license_required", "reasons", "missing", "license_exceptions", "authorization", "review_policy")


def _mask(combo: tuple[int, ...] | list[int]) -> int:
    m = 0
    for i in combo:
        m |= 1 << i
    return m


def _combo(mask: int, n: int) -> tuple[int, ...]:
    return tuple(i for i in range(n) if mask >> i & 1)


def _compile(chain_: list[Scenario], cands: list[Candidate], combo: tuple[int, ...]) -> Compiled:
    return compile_chain(chain_ + [combo_scenario(chain_[-1], [cands[i] for i in combo])])


def _outcome(out: pl.DataFrame) -> pl.DataFrame:
    """The verdict columns, comparable across rule sets (reasons as strings, not per-rule-set enums)."""
    return out.select(pl.col("license_required").cast(pl.String), pl.col("reasons").cast(pl.List(pl.String)),
                      pl.col("missing").cast(pl.List(pl.String)),
                      pl.col("license_exceptions").cast(pl.List(pl.String)),
                      pl.col("authorization").cast(pl.String), pl.col("review_policy").cast(pl.String))


def _differs(a: pl.DataFrame, b: pl.DataFrame) -> pl.Series:
    """Row-wise: does any column differ (null equal to null only)?"""
    cols = [a.get_column(c).ne_missing(b.get_column(c)) for c in a.columns]
    return pl.DataFrame(cols).select(pl.any_horizontal(pl.all())).to_series() if cols else pl.Series([], dtype=bool)


def _rule_values(out: pl.DataFrame, rs: engine.RuleSet, day: date) -> pl.DataFrame:
    """The value (True/False/null) of every rule active on ``day`` on each evaluated signature."""
    _, active, p, _, _ = engine._plan(rs, rs.epoch(day))
    ctx = out.with_columns(ccl_eccn=pl.when(pl.col("eccn") != engine.NOT_CAPTURED).then(pl.col("eccn")),
                           day=pl.lit(day))
    return ctx.select(**{r.id: r.body(F, p).cast(pl.Boolean) for r in active})


def _rules_differ(a: pl.DataFrame, b: pl.DataFrame) -> pl.Series:
    """Row-wise: does any rule's value differ? A rule missing on one side counts as False there."""
    false = pl.Series([False] * max(a.height, b.height), dtype=pl.Boolean)
    cols = [(a.get_column(i) if i in a.columns else false).ne_missing(b.get_column(i) if i in b.columns else false)
            for i in sorted(set(a.columns) | set(b.columns))]
    if not cols:
        return pl.Series([False] * a.height)
    return pl.DataFrame(cols).select(pl.any_horizontal(pl.all())).to_series()


def _context_free(sig: pl.DataFrame, cand: Candidate, day: date) -> pl.Series:
    """Signatures a candidate touches whatever else is in force: its Entity List names (fact edits), its VEU
    sites and its capped sites."""
    hit = pl.Series([False] * sig.height)
    names = [n for e in cand.list_edits.entity_list for n in [e.name, *e.aliases]]
    if names and "end_user_name" in sig.columns:
        from carveout.scenarios.compile import EntityListEdits, normalise_name

        probe = EntityListEdits(date.min, tuple((normalise_name(n), True, 0) for n in names))
        f = sig.select("end_user_name", end_user_listed=pl.lit(None, pl.Boolean),
                       entity_list_footnote=pl.lit(None, pl.Int8), day=pl.lit(day))
        hit = hit | probe(f).get_column("end_user_listed").is_not_null()
    sites = {e.site for e in cand.list_edits.veu} | {c.facility_id for c in cand.caps}
    if sites:
        hit = hit | sig.get_column("facility_id").is_in(sorted(sites)).fill_null(False)
    return hit


def _cap_keys(base_caps: list[tuple[str, SiteCap]], cands: list[Candidate]) -> list[tuple[str, str]]:
    keys = [(rid, c.facility_id) for rid, c in base_caps]
    keys += [(f"scenario.{c.rule}", c.facility_id) for cand in cands for c in cand.caps]
    return list(dict.fromkeys(keys))


def _contributions(out: pl.DataFrame, cap_keys: list[tuple[str, str]]) -> dict[int, dict[int, list[float]]]:
    """Per signature group (``_mask``) and year: [security kept, allied at risk, then per cap key the covered
    value, its controlled-D:5 part and its allied part] (sums over the group's signatures)."""
    w = pl.col("value_usd")
    yes = pl.col("license_required") == "yes"
    at_risk = pl.col("license_required").is_in(["yes", "needs_review"])
    sd = pl.col("_controlled") & pl.col("_d5")
    aggs = [(w * (yes & sd).cast(pl.Float64)).sum().alias("v0"),
            (w * (at_risk & pl.col("_allied")).cast(pl.Float64)).sum().alias("v1")]
    reasons = pl.col("reasons").cast(pl.List(pl.String))
    for j, (rid, fac) in enumerate(cap_keys):
        cov = (reasons.list.contains(rid) & (pl.col("facility_id") == fac)
               & (pl.col("license_required") == "no")).fill_null(False)
        aggs += [(w * cov.cast(pl.Float64)).sum().alias(f"v{2 + 3 * j}"),
                 (w * (cov & sd).cast(pl.Float64)).sum().alias(f"v{3 + 3 * j}"),
                 (w * (cov & pl.col("_allied")).cast(pl.Float64)).sum().alias(f"v{4 + 3 * j}")]
    res: dict[int, dict[int, list[float]]] = {}
    for row in out.group_by("_mask", "_year").agg(aggs).iter_rows():
        res.setdefault(row[0], {})[row[1]] = [float(x or 0.0) for x in row[2:]]
    return res


def _combine(combo: tuple[int, ...], groups: list[tuple[int, int]], memo: dict, caps: list[tuple[str, SiteCap]],
             cap_keys: list[tuple[str, str]]) -> tuple[float, float]:
    """Scores of a combination from the memoised group sums; caps applied on the totals per site and year."""
    c_mask = _mask(combo)
    tot: dict[int, list[float]] = {}
    for g, k in groups:
        for year, vec in memo[(g, c_mask & k)].items():
            acc = tot.get(year)
            if acc is None:
                tot[year] = list(vec)
            else:
                for k, v in enumerate(vec):
                    acc[k] += v
    sec = sum(v[0] for v in tot.values())
    risk = sum(v[1] for v in tot.values())
    index = {k: j for j, k in enumerate(cap_keys)}
    for rid, cap in caps:
        j = index[(rid, cap.facility_id)]
        for vec in tot.values():
            c, s, a = vec[2 + 3 * j: 5 + 3 * j]
            if c > cap.annual_cap_usd and c > 0:
                frac = (c - cap.annual_cap_usd) / c
                sec += s * frac
                risk += a * frac
    return float(sec), float(risk)


# ------------------------------------------------------------------------------------------------
# scoring (runs in workers)


@dataclass
class _Job:
    chain: list[Scenario]
    candidates: list[Candidate]
    combos: list[tuple[int, ...]]
    sig: pl.DataFrame
    day: date
    # Incremental mode: per combination, the (subset, signature groups) evaluations it is the first to need.
    units: list[list[tuple[tuple[int, ...], list[int]]]] | None = None
    cap_keys: list[tuple[str, str]] = field(default_factory=list)


def _score(sig: pl.DataFrame, compiled: Compiled, day: date) -> tuple[float, float]:
    """(security kept, value at risk for allied firms) of one combination, evaluated on all signatures."""
    out = engine.evaluate(sig, as_of=day, ruleset=compiled.ruleset, screen=False)
    yes = pl.col("license_required") == "yes"
    at_risk = pl.col("license_required").is_in(["yes", "needs_review"])
    w = pl.col("value_usd")
    sec = out.select((w * (yes & pl.col("_controlled") & pl.col("_d5")).cast(pl.Float64)).sum()).item()
    risk = out.select((w * (at_risk & pl.col("_allied")).cast(pl.Float64)).sum()).item()
    if compiled.caps:
        reasons = pl.col("reasons").cast(pl.List(pl.String))
        for rid, cap in compiled.caps:
            cov = out.filter(reasons.list.contains(rid) & (pl.col("facility_id") == cap.facility_id)
                             & (pl.col("license_required") == "no"))
            if cov.is_empty():
                continue
            by_year = cov.group_by("_year").agg(
                c=w.sum(), s=(w * (pl.col("_controlled") & pl.col("_d5")).cast(pl.Float64)).sum(),
                a=(w * pl.col("_allied").cast(pl.Float64)).sum())
            for c, s, a in by_year.select("c", "s", "a").iter_rows():
                if c > cap.annual_cap_usd and c > 0:
                    frac = (c - cap.annual_cap_usd) / c
                    sec += s * frac
                    risk += a * frac
    return float(sec or 0.0), float(risk or 0.0)


def _evaluate_unit(job: _Job, subset: tuple[int, ...], masks: list[int]) -> dict[int, dict[int, list[float]]]:
    part = job.sig.filter(pl.col("_mask").is_in(masks))
    out = engine.evaluate(part, as_of=job.day, ruleset=_compile(job.chain, job.candidates, subset).ruleset,
                          screen=False)
    return _contributions(out, job.cap_keys)


def _run(job: _Job) -> list:
    """One entry per combination of the job: (combo, security kept, at risk) when every combination is
    evaluated in full; (combo, [((mask, subset mask), {year: sums})]) in incremental mode."""
    res: list = []
    for k, combo in enumerate(job.combos):
        if job.units is None:
            res.append((combo, *_score(job.sig, _compile(job.chain, job.candidates, combo), job.day)))
            continue
        entries = []
        for subset, masks in job.units[k]:
            got = _evaluate_unit(job, subset, masks)
            entries += [((m, _mask(subset)), got.get(m, {})) for m in masks]
        res.append((combo, entries))
    return res


def _touched(sig: pl.DataFrame, cands: list[Candidate], compiled: dict[tuple[int, ...], Compiled],
             combos: list[tuple[int, ...]], day: date, cap_keys: list[tuple[str, str]]) -> tuple:
    """Group the signatures by the candidates that touch them and evaluate what the probes already give.

    Returns (signatures with a ``_mask`` group id, memo {(group, subset mask): sums}, groups [(group id,
    candidate mask)], units {subset mask: group ids still to evaluate}, per combination the units it is
    the first to need)."""
    n = len(cands)
    full = tuple(range(n))
    outs = {s: engine.evaluate(sig, as_of=day, ruleset=c.ruleset, screen=False) for s, c in compiled.items()}
    verdicts = {s: _outcome(o) for s, o in outs.items()}
    values: dict[tuple[int, ...], pl.DataFrame | None] = {}

    def rule_values(s: tuple[int, ...]) -> pl.DataFrame | None:
        if s not in values:
            try:
                values[s] = _rule_values(outs[s], compiled[s].ruleset, day)
            except Exception:  # a rule body that cannot be read back: every signature counts as touched
                values[s] = None
        return values[s]

    touched = {}
    for i in range(n):
        hit = _context_free(sig, cands[i], day)
        rest = tuple(j for j in full if j != i)
        for a, b in (((), (i,)), (rest, full)):
            va, vb = rule_values(a), rule_values(b)
            rules = _rules_differ(va, vb) if va is not None and vb is not None else pl.Series([True] * sig.height)
            hit = hit | _differs(verdicts[a], verdicts[b]) | rules
        touched[f"t{i}"] = hit
    flags = pl.DataFrame(touched) if touched else pl.DataFrame({"t": [False] * sig.height})
    keys = flags.select(_mask=pl.struct(pl.all()).rank("dense").cast(pl.Int64) - 1).to_series()
    first = flags.with_columns(_mask=keys).unique("_mask", keep="first").sort("_mask")
    groups = [(row[-1], sum(1 << i for i in range(n) if row[i])) for row in first.iter_rows()]
    sig = sig.with_columns(_mask=keys)

    memo: dict[tuple[int, int], dict[int, list[float]]] = {}
    for s, out in outs.items():
        sums = _contributions(out.with_columns(_mask=keys), cap_keys)
        sm = _mask(s)
        for g, k in groups:
            if sm & k == sm:  # exactly this subset on this group: no assumption needed
                memo[(g, sm)] = sums.get(g, {})
    units: dict[int, list[int]] = {}
    first_need: dict[int, int] = {}
    for idx, combo in enumerate(combos):
        cm = _mask(combo)
        for g, k in groups:
            key = (g, cm & k)
            if key not in memo and g not in units.get(cm & k, ()):
                units.setdefault(cm & k, []).append(g)
                first_need.setdefault(cm & k, idx)
    by_combo: list[list[tuple[tuple[int, ...], list[int]]]] = [[] for _ in combos]
    for sm, gids in units.items():
        by_combo[first_need[sm]].append((_combo(sm, n), gids))
    return sig, memo, groups, units, by_combo


def _jobs(chain_: list[Scenario], cands: list[Candidate], combos: list[tuple[int, ...]], sig: pl.DataFrame,
          day: date, cap_keys: list[tuple[str, str]], by_combo: list | None, chunk: int | None,
          workers: int) -> list[_Job]:
    """Contiguous chunks of combinations: ``chunk`` each if given, else about ``workers * 4`` chunks of
    equal work (evaluations in incremental mode)."""
    if chunk or by_combo is None:
        size = chunk or max(1, math.ceil(len(combos) / (workers * 4)))
        bounds = list(range(0, len(combos), size)) + [len(combos)]
    else:
        total = sum(len(u) for u in by_combo)
        target = max(1, math.ceil(total / (workers * 4)))
        bounds, acc = [0], 0
        for k, u in enumerate(by_combo):
            acc += len(u)
            if acc >= target and k + 1 < len(combos):
                bounds.append(k + 1)
                acc = 0
        bounds.append(len(combos))
    return [_Job(chain_, cands, combos[a:b], sig, day, None if by_combo is None else by_combo[a:b], cap_keys)
            for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _combo_caps(base_caps: list[tuple[str, SiteCap]], cands: list[Candidate], combo: tuple[int, ...],
                known: set[str], sc: Scenario) -> list[tuple[str, SiteCap]]:
    """The caps a combination compiles to (the chain's, then the candidates' in order), checked as
    ``compile_chain`` checks them."""
    ids = known | {f"scenario.{spec.id}" for i in combo for spec in cands[i].rules}
    caps = list(base_caps)
    for i in combo:
        for c in cands[i].caps:
            if f"scenario.{c.rule}" not in ids:
                raise ScenarioError(sc.source or sc.name, [("caps", f"no rule {c.rule!r} in the scenario chain")])
            caps.append((f"scenario.{c.rule}", c))
    return caps


def _verify(sig: pl.DataFrame, chain_: list[Scenario], cands: list[Candidate], combos: list[tuple[int, ...]],
            day: date, groups: list[tuple[int, int]], results: list) -> int:
    """Evaluate every combination on all signatures and check (1) each signature's outcome equals its outcome
    under the combination restricted to the candidates that touch it (what the incremental scores assume)
    and (2) the scores agree. Raises AssertionError listing what differs."""
    n = len(cands)
    cache: dict[int, pl.DataFrame] = {}

    def outcome(sm: int) -> pl.DataFrame:
        if sm not in cache:
            rs = _compile(chain_, cands, _combo(sm, n)).ruleset
            cache[sm] = _outcome(engine.evaluate(sig, as_of=day, ruleset=rs, screen=False))
        return cache[sm]

    got = {c: (s, r) for c, s, r in results}
    bad = []
    for combo in combos:
        sec, risk = _score(sig, _compile(chain_, cands, combo), day)
        s2, r2 = got[combo]
        if not (math.isclose(sec, s2, rel_tol=1e-9, abs_tol=1e-6) and math.isclose(risk, r2, rel_tol=1e-9,
                                                                                      abs_tol=1e-6)):
            bad.append(f"{combo}: incremental ({s2}, {r2}) != full ({sec}, {risk})")
        cm = _mask(combo)
        for g, k in groups:
            if cm & k == cm:
                continue
            rows = sig.get_column("_mask") == g
            diff = _differs(outcome(cm).filter(rows), outcome(cm & k).filter(rows))
            if diff.any():
                bad.append(f"{combo}: {int(diff.sum())} signature(s) of group {g} (touched by "
                           f"{_combo(k, n)}) change under candidates that do not touch them")
    if bad:
        raise AssertionError("incremental frontier differs from full evaluation:\n" + "\n".join(bad[:50]))
    return len(combos)


# ------------------------------------------------------------------------------------------------


@dataclass
class FrontierResult:
    scenario: str
    as_of: date
    candidates: list[str]
    points: pl.DataFrame  # every combination: exemptions, n, security_kept_usd, relief_usd, on_frontier
    frontier: pl.DataFrame  # the Pareto set, by security kept descending
    stats: dict[str, Any] = field(default_factory=dict)
    extremes: pl.DataFrame | None = None  # no exemptions and all exemptions (always evaluated)


def pareto(points: pl.DataFrame) -> pl.DataFrame:
    """Non-dominated points (maximise both). Ties keep one point: an extreme if any, else the fewest
    exemptions."""
    n_all = points.get_column("n_exemptions").max()
    ranked = points.with_columns(
        _pref=pl.when((pl.col("n_exemptions") == 0) | (pl.col("n_exemptions") == n_all)).then(0).otherwise(1)
    ).sort("security_kept_usd", "relief_usd", "_pref", "n_exemptions", descending=[True, True, False, False])
    reps = ranked.unique(subset=["security_kept_usd", "relief_usd"], keep="first", maintain_order=True)
    keep, best_relief = [], -math.inf
    for i, rel in enumerate(reps.get_column("relief_usd").to_list()):
        if rel > best_relief:
            keep.append(i)
            best_relief = rel
    return reps[keep].drop("_pref")


def frontier(ledger: pl.DataFrame, scenario: str | Path | Scenario, candidates: Candidates | str | Path, *,
             as_of: date | str | None = None, executor: str = "local", scheduler: str | None = None,
             workers: int | None = None, screen: bool = True, chunk: int | None = None,
             incremental: bool = True, verify: bool = False) -> FrontierResult:
    """Evaluate every combination of candidate exemptions on top of ``scenario``; return the Pareto set.

    ``executor``: "local" (process pool), "serial" (in this process) or "dask" (``scheduler`` address,
    or a ``distributed.Client`` passed as ``scheduler``). ``incremental=False`` evaluates every combination
    on all signatures (the reference). ``verify=True`` also evaluates every combination in full, in this
    process, and raises ``AssertionError`` unless every signature's outcome under each combination equals the
    outcome the incremental scores assumed and the scores agree (for tests and small candidate sets).
    """
    t0 = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load(scenario)
    cands = candidates if isinstance(candidates, Candidates) else load_candidates(candidates)
    base_chain = chain(sc)
    day = as_date(as_of) or max(sc.effective, date.today())
    n = len(cands.candidates)
    combos = combinations(n, cands.max_combinations)
    full = tuple(range(n))

    prepared = prepare(ledger, screen)
    prepared = prepared.with_columns(_year=pl.coalesce(pl.col("date"), pl.lit(day)).dt.year())
    # Probe subsets: nothing, each candidate alone, everything, everything but one (evaluated on all signatures).
    probe_sets = list(dict.fromkeys([(), *[(i,) for i in range(n)], full,
                                     *[tuple(j for j in full if j != i) for i in range(n)]]))
    compiled = {s: _compile(base_chain, cands.candidates, s) for s in probe_sets}
    none = compiled[()]
    sig = signatures(prepared, [c.ruleset for c in compiled.values()], day)

    # Fixed masks: controlled (from the no-exemption run), D:5/Macau end user, allied firm.
    p = none.ruleset.params(day)
    try:
        from carveout.rules.common import d5_macau
        d5 = d5_macau(p)
    except Exception:  # country groups not defined: the EAR's D:5 list as of 2026-07-23
        d5 = list(D5_FALLBACK) + ["MO"]
    base_eval = engine.evaluate(sig, as_of=day, ruleset=none.ruleset, screen=False)
    paras = cands.objectives.controlled_eccns
    eccn = pl.col("eccn")
    controlled = (pl.col("ac_level").is_not_null()
                  | pl.any_horizontal([(eccn == x) | eccn.str.starts_with(x + ".") for x in paras])).fill_null(False)
    fac = facilities().select("facility_id", pl.col("company_hq_country").alias("_owner_hq"))
    sig = (sig.with_columns(_controlled=base_eval.select(controlled.alias("c")).to_series())
           .join(fac, on="facility_id", how="left", maintain_order="left")
           .with_columns(
               _d5=(pl.col("end_user_country").is_in(d5) | pl.col("end_user_hq_country").is_in(d5)).fill_null(False),
               _allied=pl.coalesce(pl.col("_owner_hq"), pl.col("end_user_hq_country"))
               .is_in(cands.objectives.allied_hq).fill_null(False),
           ).drop("_owner_hq"))
    cap_keys = _cap_keys(none.caps, cands.candidates)
    memo: dict[tuple[int, int], dict[int, list[float]]] = {}
    groups: list[tuple[int, int]] = []
    units: dict[int, list[int]] = {}
    by_combo = None
    if incremental:
        sig, memo, groups, units, by_combo = _touched(sig, cands.candidates, compiled, combos, day, cap_keys)
    t_prep = time.perf_counter() - t0

    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    jobs = _jobs(base_chain, cands.candidates, combos, sig, day, cap_keys, by_combo, chunk, workers)
    t1 = time.perf_counter()
    todo = [j for j in jobs if not incremental or any(j.units)] if executor != "dask" else jobs
    if not todo:
        parts: list = []
    elif executor == "serial" or (executor == "local" and (workers == 1 or len(todo) == 1)):
        parts = [r for j in todo for r in _run(j)]
    elif executor == "local":
        # One Polars thread per worker process: the pool, not Polars, uses the cores (no oversubscription).
        saved = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn")) as pool:
                parts = [r for part in pool.map(_run, todo) for r in part]
        finally:
            if saved is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = saved
    elif executor == "dask":
        parts = _run_dask(jobs, scheduler)
    else:
        raise ValueError(f"unknown executor {executor!r} (local, serial, dask)")
    if incremental:
        for _, entries in parts:
            memo.update(entries)
        known = {r.id for r in none.ruleset.rules}
        results = []
        for combo in combos:
            caps = _combo_caps(none.caps, cands.candidates, combo, known, sc)
            results.append((combo, *_combine(combo, groups, memo, caps, cap_keys)))
    else:
        results = parts
    t_eval = time.perf_counter() - t1

    stats_verify = _verify(sig, base_chain, cands.candidates, combos, day, groups, results) if verify else None
    names = [c.id for c in cands.candidates]
    risk0 = next(r for c, _, r in results if c == ())
    points = pl.DataFrame(
        {
            "exemptions": [[names[i] for i in c] for c, _, _ in results],
            "n_exemptions": [len(c) for c, _, _ in results],
            "security_kept_usd": [s for _, s, _ in results],
            "allied_at_risk_usd": [r for _, _, r in results],
            "relief_usd": [risk0 - r for _, _, r in results],
        },
        schema={"exemptions": pl.List(pl.String), "n_exemptions": pl.Int64, "security_kept_usd": pl.Float64,
                "allied_at_risk_usd": pl.Float64, "relief_usd": pl.Float64},
    )
    front = pareto(points)
    on = set(tuple(x) for x in front.get_column("exemptions").to_list())
    points = points.with_columns(on_frontier=pl.Series([tuple(x) in on for x in points["exemptions"].to_list()]))
    stats = {
        "rows": ledger.height, "signatures": sig.height, "combinations": len(combos), "executor": executor,
        "workers": workers if executor != "serial" else 1, "prepare_s": t_prep, "evaluate_s": t_eval,
        "total_s": time.perf_counter() - t0, "incremental": incremental,
    }
    if incremental:
        stats.update(signature_groups=len(groups), evaluations=len(probe_sets) + sum(len(u) for u in units.values()),
                     signatures_evaluated=len(probe_sets) * sig.height + sum(
                         sig.filter(pl.col("_mask").is_in(ms)).height for ms in units.values()))
    if stats_verify is not None:
        stats["verified"] = stats_verify
    ext = points.filter((pl.col("n_exemptions") == 0) | (pl.col("n_exemptions") == n))
    dominated = [tuple(x) for x in ext.filter(~pl.col("on_frontier")).get_column("exemptions").to_list()]
    stats["dominated_extremes"] = [list(x) for x in dominated]
    return FrontierResult(sc.name, day, names, points, front, stats, ext)


def _run_dask(jobs: list[_Job], scheduler: Any) -> list:
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - optional extra
        raise RuntimeError("executor 'dask' needs the 'scale' extra: pip install 'carveout[scale]'") from e
    own = not hasattr(scheduler, "submit")
    client = Client(scheduler) if own else scheduler
    try:
        futures = client.map(_run, jobs, pure=False)
        return [r for part in client.gather(futures) for r in part]
    finally:
        if own:
            client.close()
