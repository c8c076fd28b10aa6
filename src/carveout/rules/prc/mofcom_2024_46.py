"""MOFCOM Announcement 2024 No. 46: dual-use items to the United States (in force 2024-12-03).

Clause 1 bans dual-use exports to U.S. military users and uses (not suspended). Clause 2 makes gallium,
germanium, antimony and superhard-material exports to the U.S. "in principle" not permitted and puts
graphite under stricter end-user/end-use review; it is suspended from 2025-11-09 until 2026-11-27. Its
third-country clause makes anyone transferring China-origin items of this kind to the U.S. liable.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import abroad, china_origin_item, dual_use, in_list, military_end_use, rule
from carveout.rules.registry import Facts

SRC = "Xinhua via News.az 2024-12-03 (B); suspension: Xinhua via Pakistan Today 2025-11-09 (B)"
US = "US"


@rule("prc.mofcom_2024_46.cl1", cite="MOFCOM Announcement 2024 No. 46, clause 1", stage="require",
      effective="2024-12-03", source=SRC)
def us_military(f: Facts, p: Params) -> pl.Expr:
    """Exports of any dual-use item (from China, or China-origin items from anywhere) to U.S. military
    users or uses are banned."""
    return china_origin_item() & (f.destination == US) & military_end_use() & dual_use(p)


@rule("prc.mofcom_2024_46.cl1.policy", cite="MOFCOM Announcement 2024 No. 46, clause 1", stage="policy",
      effective="2024-12-03", source=SRC, yields="prohibited", priority=1)
def us_military_policy(f: Facts, p: Params) -> pl.Expr:
    """A ban, not a licence requirement: no licence will be granted."""
    return (f.destination == US) & military_end_use()


def _cl2(p: Params) -> dict:
    return p.prc_2024_46_cl2_items or {}


@rule("prc.mofcom_2024_46.third_country", cite="MOFCOM Announcement 2024 No. 46 (transfer by any party)",
      stage="require", effective="2024-12-03", source=SRC)
def us_third_country(f: Facts, p: Params) -> pl.Expr:
    """Transferring China-origin gallium, germanium, antimony or superhard items to the U.S. from a third
    country is a violation of clause 2 while it runs (suspended 2025-11-09 to 2026-11-27)."""
    return (abroad() & f.cn_origin & (f.destination == US) & in_list(_cl2(p).get("denied"))
            & pl.lit(not p.prc_2024_46_cl2_suspended))


@rule("prc.mofcom_2024_46.cl2", cite="MOFCOM Announcement 2024 No. 46, clause 2", stage="policy",
      effective="2024-12-03", source=SRC, yields="in principle not permitted", priority=5)
def us_denied(f: Facts, p: Params) -> pl.Expr:
    """Gallium, germanium, antimony and superhard items to the U.S.: licences in principle not granted."""
    return (f.destination == US) & in_list(_cl2(p).get("denied")) & pl.lit(not p.prc_2024_46_cl2_suspended)


@rule("prc.mofcom_2024_46.cl2.graphite", cite="MOFCOM Announcement 2024 No. 46, clause 2", stage="policy",
      effective="2024-12-03", source=SRC, yields="stricter end-user and end-use review", priority=6)
def us_graphite(f: Facts, p: Params) -> pl.Expr:
    """Graphite to the U.S.: stricter review of end users and end uses."""
    return (f.destination == US) & in_list(_cl2(p).get("stricter")) & pl.lit(not p.prc_2024_46_cl2_suspended)


@rule("prc.mofcom_2024_46.cl2.suspended", cite="MOFCOM suspension of 2024 No. 46 clause 2 (2025-11-09)",
      stage="notice", effective="2025-11-09", source=SRC)
def us_suspended(f: Facts, p: Params) -> pl.Expr:
    """Clause 2 (the U.S.-specific denial for Ga/Ge/Sb/superhard items, stricter graphite review) is
    suspended until 2026-11-27; the general licence requirement still applies."""
    items = list(_cl2(p).get("denied") or []) + list(_cl2(p).get("stricter") or [])
    return (f.destination == US) & in_list(items) & pl.lit(bool(p.prc_2024_46_cl2_suspended))
