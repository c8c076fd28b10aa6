"""MOFCOM/GACC Announcement 2025 No. 55: superhard materials (diamond micropowder, single crystals,
wire saws, grinding wheels). Planned for 2025-11-08; suspended from 2025-11-07 by No. 70 until
2026-11-10, so it has not applied yet."""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.mofcom_2025_55", cite="MOFCOM/GACC Announcement 2025 No. 55", stage="require",
      effective="2025-11-08", source="issued 2025-10-09 (People's Daily, ChemRadar: B); suspended by 2025 No. 70")
def superhard(f: Facts, p: Params) -> pl.Expr:
    """Synthetic diamond micropowder and single crystals, diamond wire saws and grinding wheels need a
    licence, unless No. 70's suspension is running."""
    return exported_from_cn() & listed(p.prc_2025_55_items) & pl.lit(not p.prc_no70_suspended)


@rule("prc.mofcom_2025_70.no55", cite="MOFCOM/GACC Announcement 2025 No. 70 (suspends 2025 No. 55)",
      stage="notice", effective="2025-11-08", source="ChemRadar, rawmaterials.net 2025-11-07 (B)")
def superhard_suspended(f: Facts, p: Params) -> pl.Expr:
    """2025 No. 55 would require a licence for this item, but No. 70 suspends it until 2026-11-10."""
    return exported_from_cn() & listed(p.prc_2025_55_items).fill_null(False) & pl.lit(bool(p.prc_no70_suspended))
