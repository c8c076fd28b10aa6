"""15 CFR 746 — embargoes and special country controls: Cuba, Iran, North Korea and Syria (where the
Country Chart carries no marks because part 746 governs), and Russia and Belarus (746.8)."""

from __future__ import annotations

import polars as pl

from carveout.rules.common import isin, on_ccl
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule


@rule("part746.embargo", cite="15 CFR 746.1-746.4, 746.7, 746.9", stage="require")
def embargo(f: Facts, p: Params) -> pl.Expr:
    """Cuba, Iran, North Korea, Syria: a licence is required for nearly every item subject to the EAR
    (the narrow part 746 exceptions, e.g. some food and medicine, are not modelled)."""
    return pl.col("subject_to_ear") & isin(f.destination, p.get("embargoed_destinations"))


@rule("part746.8.russia_belarus", cite="15 CFR 746.8(a)(1)", stage="require", effective="2022-04-08",
      source="87 FR 22130 (2022-04-14), effective 2022-04-08 for all CCL items")
def russia_belarus(f: Facts, p: Params) -> pl.Expr:
    """Russia and Belarus: a licence is required for every item on the CCL (and many EAR99 items by
    HTS code, which are not modelled)."""
    return pl.col("subject_to_ear") & on_ccl(pl.col("ccl_eccn")) & isin(f.destination, ["RU", "BY"])
