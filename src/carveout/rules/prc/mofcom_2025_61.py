"""MOFCOM Announcement 2025 No. 61: export controls on rare-earth items abroad (extraterritorial).

Part (3), re-export of China-origin Annex 1 items from third countries, applied from publication
(2025-10-09); parts (1) (foreign-made Annex 1 Part 2 items - permanent-magnet and target materials -
with China-origin rare earths at 0.1 % of value or more) and (2) (foreign-made items made with Chinese
rare-earth technology, FDP-style) were to apply from 2025-12-01. No. 70 suspends all of it from
2025-11-07 until 2026-11-10. Review: denial for military users and listed parties; case by case for
logic at 14 nm or below and memory of 256 layers or more.

Which rare earths Annex 1 Part 1 names is read here as the controlled medium/heavy rare earths (2025 No. 18
and No. 57 items); the Annex itself was not retrieved (inference, C).
"""

from __future__ import annotations

import polars as pl

from carveout.materials import RARE_EARTHS, RE_PART2
from carveout.rules.params import Params
from carveout.rules.prc.common import abroad, in_list, military_end_use, rule
from carveout.rules.registry import Facts

SRC = "sscollege.cn translation (A*); CM Trade Law; Tom's Hardware 2025-10-10 (B); checked with search"
ANNEX1 = tuple(dict.fromkeys(RARE_EARTHS + RE_PART2))


def _live(p: Params) -> pl.Expr:
    return pl.lit(not p.prc_no70_suspended)


def _p1(f: Facts, p: Params) -> pl.Expr:
    return (abroad() & ~f.cn_origin & in_list(RE_PART2)
            & (f.rare_earth_content_pct >= (p.prc_2025_61_value_threshold_pct or 0.1)))


def _p2(f: Facts, p: Params) -> pl.Expr:
    return abroad() & ~f.cn_origin & in_list(ANNEX1) & f.made_with_cn_re_technology


def _p3(f: Facts, p: Params) -> pl.Expr:
    return abroad() & f.cn_origin & in_list(ANNEX1)


@rule("prc.mofcom_2025_61.p3", cite="MOFCOM Announcement 2025 No. 61, part (3)", stage="require",
      effective="2025-10-09", source=SRC)
def reexport_china_origin(f: Facts, p: Params) -> pl.Expr:
    """Re-exporting China-origin rare-earth items (Annex 1) from a third country needs a MOFCOM licence."""
    return _p3(f, p) & _live(p)


@rule("prc.mofcom_2025_61.p1", cite="MOFCOM Announcement 2025 No. 61, part (1) (0.1 % value de minimis)",
      stage="require", effective="2025-12-01", source=SRC)
def foreign_made_de_minimis(f: Facts, p: Params) -> pl.Expr:
    """A foreign-made permanent-magnet or target material whose China-origin rare-earth content is 0.1 %
    of its value or more needs a MOFCOM licence to be exported from the third country."""
    return _p1(f, p) & _live(p)


@rule("prc.mofcom_2025_61.p2", cite="MOFCOM Announcement 2025 No. 61, part (2) (Chinese technology, FDP-style)",
      stage="require", effective="2025-12-01", source=SRC)
def foreign_direct_product(f: Facts, p: Params) -> pl.Expr:
    """A foreign-made rare-earth item made with Chinese rare-earth mining, separation, smelting, magnet or
    recycling technology needs a MOFCOM licence."""
    return _p2(f, p) & _live(p)


@rule("prc.mofcom_2025_70.no61", cite="MOFCOM/GACC Announcement 2025 No. 70 (suspends 2025 No. 61)",
      stage="notice", effective="2025-11-07", source="ChemRadar, rawmaterials.net 2025-11-07 (B)")
def suspended(f: Facts, p: Params) -> pl.Expr:
    """2025 No. 61 would reach this item, but No. 70 suspends it until 2026-11-10."""
    hit = _p3(f, p).fill_null(False)
    if p.prc_2025_61_value_threshold_pct is not None:
        hit = hit | _p1(f, p).fill_null(False) | _p2(f, p).fill_null(False)
    return hit & pl.lit(bool(p.prc_no70_suspended))


@rule("prc.mofcom_2025_61.military", cite="MOFCOM Announcement 2025 No. 61 (licensing policy)", stage="policy",
      effective="2025-10-09", source=SRC, yields="presumption of denial", priority=2)
def military_policy(f: Facts, p: Params) -> pl.Expr:
    """Licences for rare-earth items are in principle denied for military users and uses."""
    return in_list(ANNEX1) & military_end_use() & _live(p)


@rule("prc.mofcom_2025_61.advanced_chips", cite="MOFCOM Announcement 2025 No. 61 (licensing policy)",
      stage="policy", effective="2025-10-09", source=SRC, yields="case-by-case review", priority=8)
def advanced_chip_policy(f: Facts, p: Params) -> pl.Expr:
    """Rare-earth items for R&D or production of logic ICs at 14 nm or below, or memory of 256 layers or
    more, are reviewed case by case."""
    return in_list(ANNEX1) & _live(p) & (
        (f.end_use_logic_nm <= p.prc_2025_61_review_logic_nm).fill_null(False)
        | (f.end_use_memory_layers >= p.prc_2025_61_review_memory_layers).fill_null(False))
