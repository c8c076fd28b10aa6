"""15 CFR 742 — Regional Stability (RS) licence requirements for advanced-computing items, HBM and
advanced SME, and the licence review policies of 742.6(b)(10). Each destination scope the regulation
has had is its own dated rule, so an old shipment is judged by the text in force on its date.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import (
    d5_macau,
    eccn_in,
    equivalent_controls_reexporter,
    isin,
    over_de_minimis,
    prc,
    rs_d145,
)
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

OCT22 = "87 FR 62186 (2022-10-13)"
# The Oct 2022 rule was staged: 3B090 and the RS control on 3D001/3E001/4E001 took effect 2022-10-07; the
# new ECCNs 3A090, 4A090, 4D090 and the RS control on 5A992.c/5D992.c on 2022-10-21 (DATES of 87 FR 62186;
# CH Robinson advisory of 2022-10-26; see docs/regulatory-facts.md).
OCT22_21 = "87 FR 62186 (2022-10-13), instructions effective 2022-10-21"
# 89 FR 96790 is effective 2024-12-02, but exporters need not comply with the HBM, FDP, de minimis and
# DRAM-definition amendments until 2024-12-31 (DATES): the requirement is reported, not enforced, between.
DEC24_COMPLIANCE = (
    ("2024-12-02", False, "89 FR 96790 DATES: compliance with this amendment not required before 2024-12-31"),
    ("2024-12-31", True, "89 FR 96790 compliance date 2024-12-31"),
)
MACAU23 = "88 FR 2821 (2023-01-18)"
OCT23 = "88 FR 73458 (2023-10-25)"
SME23 = "88 FR 73424 (2023-10-25), FR Doc 2023-23049"
DEC24 = "89 FR 96790 (2024-12-05)"
AID25 = "90 FR 4544 (2025-01-15)"
JAN26 = "91 FR 1684 (2026-01-15)"
# The AI Diffusion rule's new destinations: compliance was due 2025-05-15, and on 2025-05-13 BIS said it
# would not enforce them (BIS guidance of 2025-05-13; Alston & Bird; see docs/regulatory-facts.md).
AID_NOT_ENFORCED = (
    ("2025-01-13", False, "compliance date 2025-05-15 not reached (90 FR 4544)"),
    ("2025-05-13", False, "BIS statement of 2025-05-13: the AI Diffusion rule will not be enforced"),
)


def _ac(*levels: str) -> pl.Expr:
    return pl.col("ac_level").is_in(list(levels))


def _subject() -> pl.Expr:
    return pl.col("subject_to_ear")


# --- 3A090 / 4A090 / .z ---------------------------------------------------------------------------


@rule(
    "part742.rs.prc",
    cite="15 CFR 742.6(a)(6)(i) (2022 text)",
    stage="require",
    effective="2022-10-21",
    until="2023-11-16",
    source=OCT22_21,
)
def ac_prc_2022(f: Facts, p: Params) -> pl.Expr:
    """3A090/4A090 items to the PRC need a licence (Macau was added on 2023-01-17)."""
    return _subject() & _ac("a", "b") & isin(f.destination, p.legacy_prc_scope)


@rule("part742.rs.d145", cite="15 CFR 742.6(a)(6)(iii)", stage="require", effective="2023-11-17", source=OCT23)
def ac_d145(f: Facts, p: Params) -> pl.Expr:
    """3A090.a/.b, 4A090.a/.b and .z items to D:1, D:4, D:5 or Macau, unless also in A:5 or A:6."""
    return _subject() & _ac("a", "b") & isin(f.destination, rs_d145(p))


@rule("part742.rs.hq_d5.a", cite="15 CFR 742.6(a)(6)(iii)(A)", stage="require", effective="2025-01-13", source=AID25)
def ac_hq_a(f: Facts, p: Params) -> pl.Expr:
    """3A090.a/4A090.a items to an entity headquartered (or with an ultimate parent) in Macau or D:5,
    wherever it is located (moved here from 744.23(a)(3) by the AI Diffusion rule; still enforced)."""
    return _subject() & _ac("a") & isin(f.end_user_hq_country, d5_macau(p)) & (f.destination != "US")


@rule(
    "part742.rs.worldwide.a",
    cite="15 CFR 742.6(a)(6)(iii)(A)",
    stage="require",
    effective="2025-01-13",
    source=AID25,
    enforced=AID_NOT_ENFORCED,
)
def ac_worldwide(f: Facts, p: Params) -> pl.Expr:
    """AI Diffusion text: 3A090.a/4A090.a to any destination worldwide (in the CFR, not enforced)."""
    return _subject() & _ac("a") & ~isin(f.destination, rs_d145(p) + ["US"])


@rule(
    "part742.rs.uae.b",
    cite="15 CFR 742.6(a)(6)(iii)(B)",
    stage="require",
    effective="2026-07-10",
    source="91 FR 43034 (2026-07-14) [attribution of the UAE wording inferred; confidence uncertain]",
)
def ac_uae_b(f: Facts, p: Params) -> pl.Expr:
    """3A090.b/4A090.b to the United Arab Emirates, named explicitly once the UAE joined A:5 (before that
    the UAE was in D:4 and covered by the D:1/D:4/D:5 scope)."""
    return _subject() & _ac("b") & (f.destination == "AE")


@rule("part742.rs.hbm", cite="15 CFR 742.6(a)(6)(i)(B)", stage="require", effective="2024-12-02", source=DEC24,
      enforced=DEC24_COMPLIANCE)
def hbm_d5(f: Facts, p: Params) -> pl.Expr:
    """3A090.c high-bandwidth memory to Macau or D:5."""
    return _subject() & _ac("c") & isin(f.destination, d5_macau(p))


@rule(
    "part742.rs.5a992c",
    cite="15 CFR 742.6(a)(6)(i) (2022 text); ECCNs 5A992.c, 5D992.c",
    stage="require",
    effective="2022-10-21",
    until="2023-11-16",
    source=OCT22_21,
)
def mass_market_2022(f: Facts, p: Params) -> pl.Expr:
    """5A992.c / 5D992.c mass-market items that meet or exceed the 3A090 or 4A090 parameters, to the PRC
    (and Macau from 2023-01-17); replaced by the .z paragraphs on 2023-11-17."""
    paras = ["5A992.c", "5D992.c"]
    item = eccn_in(pl.col("ccl_eccn"), paras).fill_null(False) | eccn_in(f.base_eccn, paras).fill_null(False)
    meets = (f.tpp >= p.tpp_min_a) & (f.interconnect_gb_s >= p.io_rate_min_a)
    return _subject() & item & isin(f.destination, p.legacy_prc_scope) & meets


# --- Semiconductor manufacturing equipment ------------------------------------------------------


@rule(
    "part742.rs.sme.3b090",
    cite="15 CFR 742.6(a)(6)(i) (2022 text), ECCN 3B090",
    stage="require",
    effective="2022-10-07",
    until="2023-11-16",
    source=OCT22,
)
def sme_3b090(f: Facts, p: Params) -> pl.Expr:
    """3B090 equipment (the Oct 2022 SME entry) to the PRC, and Macau from 2023-01-17."""
    return _subject() & eccn_in(pl.col("eccn"), ["3B090"]) & isin(f.destination, p.legacy_prc_scope)


@rule(
    "part742.rs.sme.d5",
    cite="15 CFR 742.4(a)(4), 742.6(a)(6)(i)",
    stage="require",
    effective="2023-11-17",
    source=SME23,
)
def sme_d5(f: Facts, p: Params) -> pl.Expr:
    """Advanced SME (3B001 advanced set, 3B002.c and related) to Macau or D:5 (NS and RS); from
    2024-12-02 not for a foreign-made item that only the SME/FN5 FDP rules or the zero de minimis rules
    bring under the EAR when a reexporter in a Supp. 4 to part 742 country ships it."""
    return (_subject() & eccn_in(pl.col("eccn"), p.sme_advanced_eccns) & isin(f.destination, d5_macau(p))
            & ~_equivalent_controls_excluded(f, p))


def _equivalent_controls_excluded(f: Facts, p: Params) -> pl.Expr:
    """742.4(a)(4)(ii), 742.6(a)(6)(i)(A)(2)(ii)-(iii) (89 FR 96790): the item is foreign-made, below the
    ordinary de minimis level (so only 734.9(e)(3)/(k) or 734.4(a)(8)/(a)(9) reach it) and the reexporter
    qualifies. Before Supp. 4 to part 742 existed the list is empty and nothing is excluded."""
    if not p.get("equivalent_controls_countries"):
        return pl.lit(False)
    return equivalent_controls_reexporter(f, p) & ~over_de_minimis(f, p)


@rule(
    "part742.rs.sme.worldwide",
    cite="15 CFR 742.4(a)(5), 742.6(a)(10)",
    stage="require",
    effective="2024-09-06",
    source="89 FR 72926 (2024-09-06) [origin date from memory; text C-primary]",
)
def sme_worldwide(f: Facts, p: Params) -> pl.Expr:
    """3B001.c.1.a, c.1.c and .q to any destination (License Exception IEC for partner countries)."""
    return _subject() & eccn_in(pl.col("eccn"), p.sme_worldwide_eccns) & (f.destination != "US")


def _specified_sme(p: Params) -> list[str]:
    """3B993/3B994 and their 3D/3E software and technology entries."""
    base = [e[2:] for e in p.get("sme_rs_specified_eccns") or []]
    return [f"3{g}{n}" for n in base for g in "BDE"]


@rule("part742.rs.sme.3b993", cite="15 CFR 742.6(a)(11)", stage="require", effective="2024-12-02",
      source=f"{DEC24}; footnote-5 scope per an eCFR 2026-07-23 transcription [C-secondary]")
def sme_3b993(f: Facts, p: Params) -> pl.Expr:
    """3B993/3B994 (and 3D993/3D994/3E993/3E994) need an RS licence only when an Entity List party with
    footnote 5 is involved; to other Macau/D:5 parties the end-use rules of 744.23 still apply."""
    return _subject() & eccn_in(pl.col("eccn"), _specified_sme(p)) & (f.entity_list_footnote == 5)


# --- Licence review policy ----------------------------------------------------------------------


@rule(
    "part742.policy.h200",
    cite="15 CFR 742.6(b)(10)(iii)(A)(1)",
    stage="policy",
    effective="2026-01-15",
    source=JAN26,
    yields="case-by-case",
    priority=20,
)
def policy_h200(f: Facts, p: Params) -> pl.Expr:
    """Exports from the U.S. to the PRC or Macau of chips under TPP 21,000 and total DRAM bandwidth
    6,500 GB/s: case-by-case review, subject to the exporter's certifications."""
    return (
        _ac("a", "b")
        & (f.transaction_type == "export")
        & (f.ship_from == "US")
        & isin(f.destination, prc(p) + ["MO"])
        & (f.tpp < p.h200_tpp_max)
        & (f.memory_bandwidth_gb_s < p.h200_dram_bandwidth_max)
    )


@rule(
    "part742.policy.sme_case_by_case",
    cite="15 CFR 742.6(b)(10)(i); 742.4(b)(2)",
    stage="policy",
    effective="2022-10-07",
    source=f"{OCT22}; {SME23}",
    yields="case-by-case",
    priority=55,
)
def policy_sme(f: Facts, p: Params) -> pl.Expr:
    """Advanced SME where no 744.23 end use is involved (a mature-node fab, a civil end use): case-by-case.
    An unknown end use falls through to the presumption of denial."""
    items = eccn_in(pl.col("eccn"), (p.get("sme_advanced_eccns") or []) + ["3B090"])
    end_use_free = f.end_use.is_in(["mature_node_fab", "civil_other", "datacenter", "ai_model_training"])
    return items & end_use_free & (f.entity_list_footnote != 5)


@rule(
    "part742.policy.hbm_approval",
    cite="15 CFR 742.6(b)(10)(ii)",
    stage="policy",
    effective="2024-12-02",
    source=DEC24,
    yields="presumption of approval",
    priority=56,
)
def policy_hbm(f: Facts, p: Params) -> pl.Expr:
    """3A090.c HBM: presumption of approval unless the end user (or its ultimate parent) is headquartered
    in Macau or D:5; an unknown headquarters falls through to the presumption of denial."""
    return (pl.col("ac_level") == "c") & ~isin(f.end_user_hq_country, d5_macau(p)) & f.end_user_hq_country.is_not_null()


@rule(
    "part742.policy.d5_denial",
    cite="15 CFR 742.6(b)(10)",
    stage="policy",
    effective="2022-10-07",
    source=OCT22,
    yields="presumption of denial",
    priority=60,
)
def policy_d5(f: Facts, p: Params) -> pl.Expr:
    """Advanced-computing items, HBM and advanced SME to Macau or D:5, or to entities headquartered there."""
    items = (
        pl.col("ac_level").is_in(["a", "b", "c"])
        | eccn_in(pl.col("eccn"), (p.get("sme_advanced_eccns") or []) + ["3B090"])
        | eccn_in(pl.col("eccn"), p.get("sme_rs_specified_eccns"))
    )
    return items & (isin(f.destination, d5_macau(p)) | isin(f.end_user_hq_country, d5_macau(p)))


@rule(
    "part742.policy.d14_approval",
    cite="15 CFR 742.6(b)(10)",
    stage="policy",
    effective="2023-11-17",
    source=OCT23,
    yields="presumption of approval",
    priority=70,
)
def policy_d14(f: Facts, p: Params) -> pl.Expr:
    """Advanced-computing items to D:1 or D:4 destinations outside Macau and D:5."""
    return _ac("a", "b") & isin(f.destination, rs_d145(p)) & ~isin(f.destination, d5_macau(p))
