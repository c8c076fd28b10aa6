"""MOFCOM/GACC Announcement 2024 No. 33: antimony and superhard materials need an export licence.

Issued 2024-08-15, in force 2024-09-15, all destinations. Its superhard-materials list was not
retrieved, so those items need review. Repealed on 2024-12-01 (items carried into the Dual-Use List).
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2024_33", cite="MOFCOM/GACC Announcement 2024 No. 33", stage="require",
      effective="2024-09-15", until="2024-11-30", source="issued 2024-08-15; text via mirrors (A*)")
def antimony_superhard(f: Facts, p: Params) -> pl.Expr:
    """Antimony ores, metal and high-purity compounds, and superhard materials, exported from China need
    a licence."""
    return exported_from_cn() & listed(p.prc_2024_33_items)
