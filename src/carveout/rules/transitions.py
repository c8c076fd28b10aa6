"""Transitions between versions of the rules: compliance dates, savings clauses and temporary general
licences. None of these is a paragraph of the CFR that lasts; each is a dated statement in a Federal
Register rule (its DATES or savings-clause paragraph) or a time-limited general order.

A transition never turns an unknown fact into "no": a savings clause or a licence that rests on a fact
the user did not give (the day the goods were loaded, a joint venture's partners) simply does not apply,
so the requirement it would lift stands.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from carveout.rules.common import eccn_in, isin
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

DEC24 = "89 FR 96790 (2024-12-05)"
AFF25 = "90 FR 47201 (2025-09-30)"
OCT22 = "87 FR 62186 (2022-10-13)"


@rule(
    "transition.dec2024.compliance_window",
    cite="89 FR 96790, DATES (compliance date 2024-12-31)",
    stage="notice",
    effective="2024-12-02",
    until="2024-12-30",
    source=DEC24,
)
def dec2024_compliance(f: Facts, p: Params) -> pl.Expr:
    """The December 2024 rule is in force, but exporters need not comply with its HBM (3A090.c),
    SME and footnote-5 foreign-direct-product, de minimis (734.4(a)(8)/(a)(9)) and DRAM-definition
    amendments before 2024-12-31: on this date the answer follows the earlier text for those parts."""
    sme = eccn_in(pl.col("ccl_eccn"), (p.get("sme_fdp_eccns") or []) + (p.get("fn5_fdp_eccns") or []))
    return (pl.col("ac_level") == "c") | sme | (f.entity_list_footnote == 5) | (f.end_use == "advanced_node_dram_fab")


@rule(
    "transition.savings.dec2024",
    cite="89 FR 96790, savings clause",
    stage="authorize",
    effective="2024-12-02",
    until="2024-12-31",
    source=DEC24 + " [deadline 2024-12-31 from memory, uncertain]",
    yields="savings clause (89 FR 96790)",
    overcomes=("part738.country_chart", "part742.rs.sme", "part742.rs.hbm", "part744.23.a3.hbm_hq"),
)
def savings_dec2024(f: Facts, p: Params) -> pl.Expr:
    """Items newly controlled by the December 2024 rule that were aboard a carrier to the port of export
    under actual orders on 2024-12-02 may go under their previous eligibility if shipped by 2024-12-31.
    Without the loading date the clause does not apply (fail closed)."""
    newly = eccn_in(pl.col("ccl_eccn"), p.get("savings_dec2024_eccns"))
    # an authorization the exporter cannot show is not held: unknown facts leave the requirement in place
    return (newly & (f.en_route_on <= pl.lit(date(2024, 12, 2)))).fill_null(False)


@rule(
    "transition.tgl.affiliates",
    cite="90 FR 47201, temporary general license (Affiliates rule)",
    stage="authorize",
    effective="2025-09-29",
    until="2025-11-28",
    source=AFF25 + "; Troutman, WilmerHale and KPMG summaries (60-day TGL)",
    yields="temporary general licence (Affiliates rule)",
    overcomes=("part744.11.affiliates",),
)
def tgl_affiliates(f: Facts, p: Params) -> pl.Expr:
    """While the Affiliates rule's temporary general licence ran, a non-listed affiliate of an Entity
    List or MEU party could still be supplied if it was located in an A:5/A:6 country, or was a joint
    venture with unrestricted partners headquartered in the U.S. or A:5/A:6 and located outside E:1/E:2.
    It never covered affiliates owned by SDNs; an unknown SDN ownership leaves the requirement in place."""
    allied = (p.group("A:5") or []) + (p.group("A:6") or [])
    embargoed = (p.group("E:1") or []) + (p.group("E:2") or [])
    located = isin(f.end_user_country, allied)
    jv = f.end_user_jv_allied & ~isin(f.end_user_country, embargoed)
    return (~f.end_user_owned_by_sdn & (located | jv)).fill_null(False)  # unknown: not held


@rule(
    "transition.tgl.go4_2022",
    cite="15 CFR 736 Supp. 1, General Order No. 4 (temporary general license, 2022 text)",
    stage="authorize",
    effective="2022-10-21",
    until="2023-04-07",
    source=OCT22 + " [scope reconstructed from summaries; uncertain]",
    yields="temporary general licence (General Order No. 4)",
    overcomes=("part744.23.a2", "part742.rs.prc"),
)
def tgl_go4_2022(f: Facts, p: Params) -> pl.Expr:
    """The October 2022 temporary general licence let companies headquartered in the U.S. or A:5/A:6
    keep supplying their PRC facilities for assembly, inspection, testing, quality assurance and
    distribution of items destined to end users outside the PRC and Macau, until 2023-04-07. Needs the
    end user's headquarters and the statement that the output leaves the PRC; unknown means no licence."""
    allied = ["US"] + (p.group("A:5") or []) + (p.group("A:6") or [])
    return (isin(f.end_user_hq_country, allied) & f.for_use_outside_prc).fill_null(False)  # unknown: not held
