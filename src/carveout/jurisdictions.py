"""Checking one transaction under several export-control laws at once (``--jurisdiction US,CN``).

Each jurisdiction is the same ``engine.evaluate`` with a ``RuleSet`` that runs only that law's rules
(``RuleSet(jurisdiction="CN")`` selects the PRC rules of ``rules/prc``). The combined verdict is the
strictest: ``yes`` if any jurisdiction says yes, else ``needs_review`` if any needs review, else ``no``.
A shipment must satisfy every law that reaches it, so one "yes" is enough and one "no" is never enough.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel

from carveout import engine
from carveout.model import Determination, Transaction

JURISDICTIONS = ("US", "CN")
# Reasons and missing facts of the EAR classification stage that mean nothing under another law.
_EAR_ONLY_MISSING = ("base_eccn (", "eccn (")


class CombinedDetermination(BaseModel):
    """Per-jurisdiction determinations plus the strictest combined verdict."""

    license_required: Literal["yes", "no", "needs_review"]
    decided_by: list[str]  # the jurisdictions whose verdict equals the combined one
    jurisdictions: dict[str, Determination]
    as_of: date


def parse(value: str | None) -> tuple[str, ...]:
    """``"US,CN"`` -> ("US", "CN"); unknown codes are an input error."""
    codes = tuple(dict.fromkeys(c.strip().upper() for c in (value or "US").split(",") if c.strip()))
    bad = [c for c in codes if c not in JURISDICTIONS]
    if bad or not codes:
        raise ValueError(f"--jurisdiction: {', '.join(bad) or '(empty)'} not one of {', '.join(JURISDICTIONS)}")
    return codes


def ruleset_for(jurisdiction: str, base: engine.RuleSet | None = None) -> engine.RuleSet:
    """The baseline (or a scenario's) rule set, restricted to one jurisdiction's rules."""
    rs = base or engine.BASELINE
    if rs.jurisdiction == jurisdiction:
        return rs
    hit = _CACHE.get((id(rs), jurisdiction))
    if hit is None or hit[0] is not rs:  # the base is kept alive with its variant, so its id stays its own
        # Its own plans, key layouts and verdict cache: an epoch number means another thing under another law.
        variant = replace(rs, jurisdiction=jurisdiction, plans={}, buckets={}, verdicts=engine.VerdictCache())
        hit = _CACHE[(id(rs), jurisdiction)] = (rs, variant)
    return hit[1]


_CACHE: dict[tuple[int, str], tuple[engine.RuleSet, engine.RuleSet]] = {}


def evaluate_in(frame: pl.DataFrame, jurisdiction: str, as_of: date | None = None,
                base: engine.RuleSet | None = None) -> pl.DataFrame:
    """``engine.evaluate`` under one jurisdiction; for a law other than the EAR the EAR-only parts of the
    output (the ECCN classification, its reasons and its missing-fact messages) are cleared."""
    rs = ruleset_for(jurisdiction, base)
    out = engine.evaluate(frame, as_of, ruleset=rs, screen=jurisdiction == "US")
    if jurisdiction == "US":
        return out
    ids = [r.id for r in rs.rules if r.jurisdiction == jurisdiction] + ["engine.no_requirement"]
    return out.with_columns(
        reasons=pl.col("reasons").cast(pl.List(pl.String)).list.eval(
            pl.element().filter(pl.element().is_in(ids)).replace("engine.no_requirement", "prc.no_requirement")),
        missing=pl.col("missing").list.eval(
            pl.element().filter(~pl.any_horizontal([pl.element().str.starts_with(x) for x in _EAR_ONLY_MISSING]))),
        eccn=pl.lit(None, pl.String), classification=pl.lit(None, pl.String),
        eccn_missing=pl.lit([], pl.List(pl.String)),
    )


def combine(verdicts: list[str | None]) -> str:
    """yes if any is yes; needs_review if any needs review (or is missing); no only if all are no."""
    if "yes" in verdicts:
        return "yes"
    if any(v != "no" for v in verdicts):
        return "needs_review"
    return "no"


def evaluate_all(frame: pl.DataFrame, jurisdictions: tuple[str, ...] = JURISDICTIONS, as_of: date | None = None,
                 base: engine.RuleSet | None = None) -> pl.DataFrame:
    """Every row under each law: ``license_required_<J>`` and ``reasons_<J>`` columns plus the combined
    ``license_required``. Rows keep their order (``row``)."""
    out = None
    for j in jurisdictions:
        r = evaluate_in(frame, j, as_of, base).select(
            "row", pl.col("license_required").alias(f"license_required_{j}"),
            pl.col("reasons").cast(pl.List(pl.String)).alias(f"reasons_{j}"), pl.col("missing").alias(f"missing_{j}"),
            pl.col("review_policy").alias(f"review_policy_{j}"))
        out = r if out is None else out.join(r, on="row", how="left", maintain_order="left")
    assert out is not None
    cols = [pl.col(f"license_required_{j}") for j in jurisdictions]
    combined = (pl.when(pl.any_horizontal([c == "yes" for c in cols])).then(pl.lit("yes"))
                .when(pl.any_horizontal([(c != "no").fill_null(True) for c in cols])).then(pl.lit("needs_review"))
                .otherwise(pl.lit("no")))
    return out.with_columns(license_required=combined)


def check_all(txn: Transaction | dict[str, Any], jurisdictions: tuple[str, ...] = JURISDICTIONS,
              as_of: date | None = None, base: engine.RuleSet | None = None) -> CombinedDetermination:
    """``api.check`` under each jurisdiction, and the strictest verdict."""
    from carveout import api

    per = {j: api.check(txn, as_of=as_of, ruleset=ruleset_for(j, base)) for j in jurisdictions}
    verdict = combine([d.license_required for d in per.values()])
    day = next(iter(per.values())).as_of
    return CombinedDetermination(license_required=verdict, decided_by=[j for j, d in per.items()
                                 if d.license_required == verdict], jurisdictions=per, as_of=day)
