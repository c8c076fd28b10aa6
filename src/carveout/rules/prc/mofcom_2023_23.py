"""MOFCOM/GACC Announcement 2023 No. 23: gallium and germanium items need an export licence.

Issued 2023-07-03, in force 2023-08-01, all destinations. Repealed on 2024-12-01 when its items moved
into the consolidated Dual-Use Items Export Control List (``dual_use_list_2024``).
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2023_23", cite="MOFCOM/GACC Announcement 2023 No. 23", stage="require",
      effective="2023-08-01", until="2024-11-30", source="issued 2023-07-03; text via mirror (A*)")
def gallium_germanium(f: Facts, p: Params) -> pl.Expr:
    """Gallium and germanium metals and compounds exported from China need a MOFCOM dual-use licence,
    applied for with end-user and end-use certificates."""
    return exported_from_cn() & listed(p.prc_2023_23_items)
