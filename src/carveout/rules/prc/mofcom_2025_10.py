"""MOFCOM/GACC Announcement 2025 No. 10: tungsten, tellurium, bismuth, molybdenum and indium items.

In force 2025-02-04, all destinations; not touched by the November 2025 suspension (No. 70).
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2025_10", cite="MOFCOM/GACC Announcement 2025 No. 10", stage="require",
      effective="2025-02-04", source="Xinhua 2025-02-04 (B); mirror (A*)")
def tungsten_group(f: Facts, p: Params) -> pl.Expr:
    """Ammonium paratungstate, tungsten oxides and carbide need a licence; other tungsten forms and the
    Te/Bi/Mo/In items are listed only in part (details not retrieved), so they need review."""
    return exported_from_cn() & listed(p.prc_2025_10_items)
