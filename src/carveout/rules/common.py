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
