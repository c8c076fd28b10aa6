"""Whole ledgers: evaluate in chunks (so a progress bar can move), fail rejected rows closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from carveout.engine import RuleSet, evaluate
from carveout.io.ledger import Ledger
from carveout.profiles import Profile, apply_profile

CHUNK = 500_000


def evaluate_ledger(
    ledger: Ledger,
    as_of: date | None = None,
    ruleset: RuleSet | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
    screen: bool = True,
    profile: Profile | None = None,
) -> pl.DataFrame:
    """Rows out = rows in, in input order; a row with an input error is never cleared."""
    frame = apply_profile(ledger.facts, profile)
    parts = []
    total = frame.height
    for start in range(0, max(total, 1), chunk):
        part = frame.slice(start, chunk).with_columns(row=pl.int_range(start, start + min(chunk, total - start),
                                                                        dtype=pl.UInt32))
        parts.append(evaluate(part, as_of=as_of, ruleset=ruleset, screen=screen))
        if progress:
            progress(min(start + chunk, total), total)
    out = pl.concat(parts, how="vertical_relaxed") if parts else frame
    if "error" in out.columns and out.height:
        bad = pl.col("error").is_not_null()
        out = out.with_columns(
            license_required=pl.when(bad).then(pl.lit("needs_review")).otherwise(pl.col("license_required")),
            missing=pl.when(bad).then(pl.col("missing").list.concat(pl.lit(["input error (see error)"])))
            .otherwise(pl.col("missing")),
        )
    assert out.height == total, "every input row must come out"
    return out


def summary(result: pl.DataFrame) -> pl.DataFrame:
    """Counts and value by verdict — the table the CLI prints after a run."""
    return (
        result.group_by("license_required")
        .agg(rows=pl.len(), value_usd=pl.col("value_usd").sum(), rejected=pl.col("error").is_not_null().sum()
             if "error" in result.columns else pl.lit(0))
        .sort("license_required")
    )
