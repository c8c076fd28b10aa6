"""MOFCOM/GACC Announcement 2023 No. 39: graphite items need an export licence.

Issued 2023-10-20, in force 2023-12-01, all destinations; it "optimised" the 2006 temporary graphite
controls. Repealed on 2024-12-01 (items carried into the Dual-Use List).
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2023_39", cite="MOFCOM/GACC Announcement 2023 No. 39", stage="require",
      effective="2023-12-01", until="2024-11-30", source="issued 2023-10-20; text via mirror (A*)")
def graphite(f: Facts, p: Params) -> pl.Expr:
    """Natural flake graphite, and artificial graphite above the purity/strength/density thresholds,
    exported from China need a licence."""
    return exported_from_cn() & listed(p.prc_2023_39_items)
