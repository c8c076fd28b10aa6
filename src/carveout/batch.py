"""Whole ledgers: evaluate in chunks (so a progress bar can move), fail rejected rows closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from carveout.engine import RuleSet, evaluate
from carveout.io.ledger import Ledger
from carveout.profiles import Profile, apply_profile

CHUNK = 500_000


def evaluate_facts(
    frame: pl.DataFrame,
    as_of: date | None = None,
    ruleset: RuleSet | None = None,
    screen: bool = True,
    first_row: int = 0,
) -> pl.DataFrame:
    """The one evaluation wrapper every door's rows go through (CLI ledgers, REST batch jobs, scenarios).

    ``row`` becomes the position in the whole input (``first_row`` + index); a user's own ``row`` column
    was kept as ``input_row`` by the reader. ``engine.evaluate`` turns every row with an input error
    (``error``) into ``needs_review`` naming it, so no door can store such a row as "no"."""
    if "row" in frame.columns and not frame.schema["row"].is_integer():
        frame = frame.rename({"row": "input_row"}) if "input_row" not in frame.columns else frame.drop("row")
    part = frame.with_columns(row=pl.int_range(first_row, first_row + frame.height, dtype=pl.UInt32))
    out = evaluate(part, as_of=as_of, ruleset=ruleset, screen=screen)
    assert out.height == frame.height, "every input row must come out"
    return out


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
        parts.append(evaluate_facts(frame.slice(start, chunk), as_of=as_of, ruleset=ruleset, screen=screen,
                                    first_row=start))
        if progress:
            progress(min(start + chunk, total), total)
    out = pl.concat(parts, how="vertical_relaxed") if parts else frame
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
