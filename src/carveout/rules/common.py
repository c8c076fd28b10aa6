"""Small expression helpers shared by the part modules: destination scopes and ECCN matching."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from carveout.rules.params import Params

MACAU = "MO"  # the EAR always writes "Macau or D:5": Macau is not itself in D:5


def prc(p: Params) -> list[str]:
    """The PRC as the EAR reads it: Hong Kong has been treated as the PRC since 2020."""
    return ["CN", "HK"] if p.get("hong_kong_treated_as_prc", True) else ["CN"]


def d5_macau(p: Params) -> list[str]:
    out = set(p.group("D:5")) | {MACAU}
    if "CN" in out:
        out |= set(prc(p))
    return sorted(out)


def rs_d145(p: Params) -> list[str]:
    """D:1, D:4, D:5 and Macau, excluding any destination also in A:5 or A:6 (742.6(a)(6)(iii))."""
    groups = set(p.group("D:1")) | set(p.group("D:4")) | set(d5_macau(p))
    if "CN" in groups:
        groups |= set(prc(p))
    return sorted(groups - set(p.group("A:5")) - set(p.group("A:6")))


def eccn_in(eccn: pl.Expr, paragraphs: Iterable[str] | None) -> pl.Expr:
    """ECCN equals one of the paragraphs or sits below one ("3B001.c" covers "3B001.c.1.a")."""
    paras = list(paragraphs or [])
    if not paras:
        return pl.lit(False)
    conds = [(eccn == x) | eccn.str.starts_with(x + ".") for x in paras]
    return pl.any_horizontal(conds)


def on_ccl(eccn: pl.Expr) -> pl.Expr:
    """Listed on the CCL (an ECCN, not EAR99 and not 'not 3A090/4A090' without a fallback)."""
    return eccn.str.contains(r"^[0-9][A-E][0-9]{3}")


def category_345(eccn: pl.Expr) -> pl.Expr:
    return eccn.str.contains(r"^[345][A-E][0-9]{3}")


def isin(expr: pl.Expr, values: Iterable[str] | None) -> pl.Expr:
    return expr.is_in(list(values or []))


def end_use_scope(p: Params) -> list[str]:
    """744.23/744.6 destinations: PRC (2022), plus Macau (2023-01-17), then Macau or D:5 (2023-11-17)."""
    return d5_macau(p) if p.get("end_use_scope_d5", False) else list(p.legacy_prc_scope or [])


def over_de_minimis(f, p: Params) -> pl.Expr:
    """734.4(c)-(d): controlled U.S. content above the de minimis level (10 % for E:1/E:2, else 25 %)."""
    embargoed = isin(f.destination, p.group("E:1") + p.group("E:2"))
    limit = pl.when(embargoed).then(pl.lit(p.de_minimis_pct_e1_e2)).otherwise(pl.lit(p.de_minimis_pct_general))
    return f.us_controlled_content_pct > limit


def from_abroad(f) -> pl.Expr:
    """A reexport or an export from abroad (not an export from the U.S., not an in-country transfer)."""
    return (f.ship_from != "US") & (f.transaction_type != "in-country transfer")


def equivalent_controls_reexporter(f, p: Params) -> pl.Expr:
    """742.4(a)(4)(ii) / 742.6(a)(6)(i)(A)(2): a foreign-made item reexported or exported from abroad by
    an entity located in a Supp. 4 to part 742 country, neither it nor its ultimate parent headquartered
    in Macau or D:5 (``exporter_hq_country`` is read as the HQ of the shipper's ultimate parent)."""
    return (
        (f.us_origin == False)  # noqa: E712 - Kleene: null stays null
        & from_abroad(f)
        & isin(f.ship_from, p.get("equivalent_controls_countries"))
        & ~isin(f.exporter_hq_country, d5_macau(p))
    )
