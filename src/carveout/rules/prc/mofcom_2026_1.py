"""MOFCOM Announcement 2026 No. 1: dual-use items to Japanese military users and uses (2026-01-06).

A ban on exports of all dual-use items to Japanese military users, to military uses, and to any end
user or use that enhances Japan's military capability; a catch-all reaches unlisted items, and any
party in any country transferring China-origin dual-use items to them is liable.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import china_origin_item, military_end_use, rule
from carveout.rules.registry import Facts

SRC = "Greenberg Traurig 2026-02 (B); Jipyong (B)"


@rule("prc.mofcom_2026_1", cite="MOFCOM Announcement 2026 No. 1", stage="require", effective="2026-01-06",
      source=SRC)
def japan_military(f: Facts, p: Params) -> pl.Expr:
    """Any item (catch-all) from China, or China-origin from anywhere, to a Japanese military user or use
    is banned."""
    return china_origin_item() & (f.destination == "JP") & military_end_use()


@rule("prc.mofcom_2026_1.policy", cite="MOFCOM Announcement 2026 No. 1", stage="policy", effective="2026-01-06",
      source=SRC, yields="prohibited", priority=1)
def japan_military_policy(f: Facts, p: Params) -> pl.Expr:
    """A ban: no licence will be granted."""
    return (f.destination == "JP") & military_end_use()
