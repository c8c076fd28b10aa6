"""MOFCOM/GACC Announcement 2025 No. 18: seven medium and heavy rare earths.

Sm, Gd, Tb, Dy, Lu, Sc, Y (metals, alloys, sputtering targets, SmCo magnet material, oxides,
compounds): licence required from 2025-04-04, all destinations. Not suspended by No. 70.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2025_18", cite="MOFCOM/GACC Announcement 2025 No. 18", stage="require",
      effective="2025-04-04", source="Holland & Knight 2025-04-04 (B); text mirrors (A*)")
def medium_heavy_rare_earths(f: Facts, p: Params) -> pl.Expr:
    """The seven medium/heavy rare earths and their targets, alloys and compounds need a licence to leave
    China; magnets and targets of other compositions need review (they may contain them)."""
    return exported_from_cn() & listed(p.prc_2025_18_items)
