"""15 CFR 748.15 and Supp. 7 to part 748 — Validated End-User authorizations for named fabs in the
PRC. While a site is listed, eligible items go to it without an individual licence; from 2025-12-31
the Korean sites (and Intel Dalian) were removed, and licence review took the VEU's place.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import eccn_in
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

REVOKE25 = "90 FR 42321 (2025-09-02)"


def veu_sites(p: Params) -> dict[str, dict]:
    """Sites authorized on this day: facility id -> {entity, eligible_eccns, status}."""
    return {k: v for k, v in (p.get("veu_sites") or {}).items() if (v or {}).get("status") == "authorized"}


def veu_eligible(f: Facts, p: Params) -> pl.Expr:
    """True when the site's captured list names the item ("*": every item), False when the list is known
    to be complete and does not. Where the Supp. 7 list was not captured, the exporter's own reading of
    its VEU authorization (``veu_item_eligible``) decides, and unknown stays unknown (never a "no")."""
    conds = []
    for site, entry in veu_sites(p).items():
        items = entry.get("eligible_eccns") or []
        listed = pl.lit(True) if "*" in items else eccn_in(pl.col("eccn"), items)
        if entry.get("eligible_eccns_complete", True):
            item_ok = listed
        else:
            item_ok = pl.when(listed.fill_null(False)).then(True).otherwise(f.veu_item_eligible)
        conds.append(pl.when(f.facility_id == site).then(item_ok).otherwise(False))
    return pl.any_horizontal(conds) if conds else pl.lit(False)


@rule("part748.15.veu", cite="15 CFR 748.15; Supp. 7 to part 748", stage="authorize", yields="VEU",
      overcomes=("part742.", "part744.23."))
def veu(f: Facts, p: Params) -> pl.Expr:
    """The consignee facility is a Validated End-User listed in Supp. 7 on this date and the item is on its
    eligible list: the VEU authorization replaces the licence (not for Entity List or is-informed
    requirements). A site whose eligible-item list was not captured gives an unknown, never a "no"."""
    return veu_eligible(f, p) & f.end_use.is_in(["advanced_node_logic_fab", "advanced_node_dram_fab",
                                                 "advanced_node_nand_fab", "mature_node_fab",
                                                 "unknown_node_fab", "civil_other"])


@rule("part748.policy.former_veu", cite="90 FR 42321 (supplementary information)", stage="policy",
      effective="2025-12-31", source=REVOKE25, yields="presumption of approval (operate existing fab only)",
      priority=30)
def former_veu_policy(f: Facts, p: Params) -> pl.Expr:
    """Former VEU fabs: BIS intends to approve licences to keep existing fabs operating, but not to
    expand capacity or upgrade technology."""
    return f.facility_id.is_in(list(p.get("former_veu_sites") or []))


@rule("part750.licence_on_file", cite="15 CFR 750.7 (licence in hand)", stage="authorize",
      yields="individual licence", overcomes=("part7",))
def licence_on_file(f: Facts, p: Params) -> pl.Expr:
    """An individual licence covering this shipment is on file (the caller says so)."""
    return f.licence_on_file
