"""MOFCOM/GACC Announcement 2025 No. 57: holmium, erbium, thulium, europium, ytterbium items.
Planned for 2025-11-08; suspended by No. 70 (from 2025-11-07) until 2026-11-10."""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2025_57", cite="MOFCOM/GACC Announcement 2025 No. 57", stage="require",
      effective="2025-11-08", source="issued 2025-10-09 (SiliconExpert: B); suspended by 2025 No. 70")
def five_rare_earths(f: Facts, p: Params) -> pl.Expr:
    """Ho, Er, Tm, Eu and Yb metals, alloys, compounds and targets need a licence, unless No. 70's
    suspension is running."""
    return exported_from_cn() & listed(p.prc_2025_57_items) & pl.lit(not p.prc_no70_suspended)


@rule("prc.mofcom_2025_70.no57", cite="MOFCOM/GACC Announcement 2025 No. 70 (suspends 2025 No. 57)",
      stage="notice", effective="2025-11-08", source="ChemRadar, rawmaterials.net 2025-11-07 (B)")
def five_rare_earths_suspended(f: Facts, p: Params) -> pl.Expr:
    """2025 No. 57 would require a licence for this item, but No. 70 suspends it until 2026-11-10."""
    return exported_from_cn() & listed(p.prc_2025_57_items).fill_null(False) & pl.lit(bool(p.prc_no70_suspended))
