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
combination reads, plus the scoring columns) with the summed value per signature; each combination
is one ``engine.evaluate`` over those signatures. Combinations run in a local process pool
(``concurrent.futures``, spawn) or on a Dask cluster (``executor="dask"``, ``scheduler=ADDRESS``).
Annual caps are applied on the aggregates: per site and year, covered value above the cap counts as
licensed, in proportion across the covered signatures.
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
# scoring (runs in workers)


@dataclass
class _Job:
    chain: list[Scenario]
    candidates: list[Candidate]
    combos: list[tuple[int, ...]]
    sig: pl.DataFrame
    day: date


def _score(sig: pl.DataFrame, compiled: Compiled, day: date) -> tuple[float, float]:
    """(security kept, value at risk for allied firms) of one combination on the signatures."""
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


def _run(job: _Job) -> list[tuple[tuple[int, ...], float, float]]:
    res = []
    for combo in job.combos:
        sc = combo_scenario(job.chain[-1], [job.candidates[i] for i in combo])
        compiled = compile_chain(job.chain + [sc])
        res.append((combo, *_score(job.sig, compiled, job.day)))
    return res


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
             as_of: date | None = None, executor: str = "local", scheduler: str | None = None,
             workers: int | None = None, screen: bool = True, chunk: int | None = None) -> FrontierResult:
    """Evaluate every combination of candidate exemptions on top of ``scenario``; return the Pareto set.

    ``executor``: "local" (process pool), "serial" (in this process) or "dask" (``scheduler`` address,
    or a ``distributed.Client`` passed as ``scheduler``).
    """
    t0 = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load(scenario)
    cands = candidates if isinstance(candidates, Candidates) else load_candidates(candidates)
    base_chain = chain(sc)
    day = as_of or max(sc.effective, date.today())
    n = len(cands.candidates)
    combos = combinations(n, cands.max_combinations)

    prepared = prepare(ledger, screen)
    prepared = prepared.with_columns(_year=pl.coalesce(pl.col("date"), pl.lit(day)).dt.year())
    probes = [compile_chain(base_chain + [combo_scenario(sc, cands.candidates[i:i + 1])]).ruleset
              for i in range(n)]
    none = compile_chain(base_chain + [combo_scenario(sc, [])])
    everything = compile_chain(base_chain + [combo_scenario(sc, cands.candidates)])
    sig = signatures(prepared, [none.ruleset, everything.ruleset, *probes], day)

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
    t_prep = time.perf_counter() - t0

    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    size = chunk or max(1, math.ceil(len(combos) / (workers * 4)))
    jobs = [_Job(base_chain, cands.candidates, combos[i:i + size], sig, day) for i in range(0, len(combos), size)]
    t1 = time.perf_counter()
    if executor == "serial" or (executor == "local" and workers == 1):
        results = [r for j in jobs for r in _run(j)]
    elif executor == "local":
        # One Polars thread per worker process: the pool, not Polars, uses the cores (no oversubscription).
        saved = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                results = [r for part in pool.map(_run, jobs) for r in part]
        finally:
            if saved is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = saved
    elif executor == "dask":
        results = _run_dask(jobs, scheduler)
    else:
        raise ValueError(f"unknown executor {executor!r} (local, serial, dask)")
    t_eval = time.perf_counter() - t1

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
        "total_s": time.perf_counter() - t0,
    }
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
