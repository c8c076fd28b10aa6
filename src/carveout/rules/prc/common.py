"""Expression helpers shared by the PRC announcement modules."""

from __future__ import annotations

from functools import partial

import polars as pl

from carveout.materials import MATERIALS
from carveout.rules.registry import rule as _rule

CN = "CN"
rule = partial(_rule, jurisdiction=CN)


def is_material() -> pl.Expr:
    """A material item: declared as such, or carrying a material name."""
    return (pl.col("item_kind") == "material") | pl.col("material").is_not_null()


def exported_from_cn() -> pl.Expr:
    """Shipped out of the PRC (the announcements control exports from China)."""
    return pl.col("ship_from") == CN


def abroad() -> pl.Expr:
    """Shipped from a third country (2025 No. 61's and 2024 No. 46's extraterritorial clauses)."""
    return pl.col("ship_from") != CN


def listed(items: dict | None) -> pl.Expr:
    """True if the material is listed, null if only some of its forms are (or it is unknown), else False.

    Items that are not materials are False here: whether the rest of the Dual-Use List covers them is
    the business of ``scope.unmodelled`` (needs review), not of each announcement."""
    if not items:
        return pl.lit(False)
    m = pl.col("material")
    return (
        pl.when(~is_material().fill_null(True) & m.is_null())
        .then(pl.lit(False))
        .when(m.is_null() | ~m.is_in(list(MATERIALS)) | (m == "other"))
        .then(pl.lit(None, pl.Boolean))
        .when(m.is_in(list(items.get("listed") or [])))
        .then(pl.lit(True))
        .when(m.is_in(list(items.get("partly") or [])))
        .then(pl.lit(None, pl.Boolean))
        .otherwise(pl.lit(False))
    )


def in_list(names: list[str] | tuple[str, ...] | None) -> pl.Expr:
    """The material is one of ``names``; an item that is not a material is not (False), an item whose
    kind and material are both unknown might be (null)."""
    m = pl.col("material")
    return pl.when(~is_material().fill_null(True) & m.is_null()).then(pl.lit(False)).otherwise(
        m.is_in(list(names or [])))


def not_suspended(flag: bool | None) -> pl.Expr:
    return pl.lit(not flag)


ITEM_LISTS = ("prc_2023_23_items", "prc_2023_39_items", "prc_2024_33_items", "prc_dual_use_list_items",
              "prc_2025_10_items", "prc_2025_18_items")
SUSPENDED_LISTS = ("prc_2025_55_items", "prc_2025_57_items")  # run only while No. 70 is not suspending them


def dual_use(p) -> pl.Expr:
    """Is the item a PRC dual-use item on this day? Materials: listed in any list in force (Kleene OR);
    other items: unknown (the rest of the Dual-Use List is not modelled)."""
    names = list(ITEM_LISTS) + ([] if p.get("prc_no70_suspended") else list(SUSPENDED_LISTS))
    exprs = [listed(p.get(n)) for n in names if p.get(n)]
    anyl = pl.any_horizontal(exprs) if exprs else pl.lit(False)
    return pl.when(~is_material().fill_null(False)).then(pl.lit(None, pl.Boolean)).otherwise(anyl)


def military_end_use() -> pl.Expr:
    return pl.col("end_use").is_in(["military", "military_intelligence"])


def china_origin_item() -> pl.Expr:
    """Exported from China, or a China-origin item re-exported from a third country."""
    return exported_from_cn() | (abroad() & pl.col("cn_origin"))
