"""15 CFR 744 — end-use and end-user controls: the Entity List (744.11), advanced-computing and
semiconductor end uses (744.23), U.S.-person support (744.6), and requirements BIS imposes by
informing an exporter. These attach to who and what-for, not only to the item's ECCN.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import d5_macau, eccn_in, end_use_scope, isin, on_ccl, over_de_minimis
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

OCT22 = "87 FR 62186 (2022-10-13)"
OCT23 = "88 FR 73458 (2023-10-25)"
SME23 = "88 FR 73424 (2023-10-25), FR Doc 2023-23049"
DEC24 = "89 FR 96790 (2024-12-05)"
AID25 = "90 FR 4544 (2025-01-15)"

ADVANCED_FAB = ["advanced_node_logic_fab", "advanced_node_dram_fab", "advanced_node_nand_fab"]


def _subject() -> pl.Expr:
    return pl.col("subject_to_ear")


# --- 744.11 Entity List -------------------------------------------------------------------------


@rule("part744.11.entity_list", cite="15 CFR 744.11; Supp. 4 to part 744", stage="require", priority=10)
def entity_list(f: Facts, p: Params) -> pl.Expr:
    """The end user is on the Entity List: a licence is needed for all items subject to the EAR, and
    no licence exception or VEU authorization overcomes it."""
    return _subject() & f.end_user_listed


@rule(
    "part744.11.policy",
    cite="15 CFR 744.11(b); Supp. 4 to part 744 (entry's review policy)",
    stage="policy",
    yields="presumption of denial",
    priority=10,
)
def entity_list_policy(f: Facts, p: Params) -> pl.Expr:
    """Entity List entries for PRC semiconductor and AI parties carry a presumption of denial (see the
    entry's own policy column for case-by-case carve-outs)."""
    return f.end_user_listed


def _only_by_fn1_fdp(f: Facts, p: Params) -> pl.Expr:
    """A foreign-made item that only the footnote-1 FDP rule (734.9(e)(1)) brings under the EAR."""
    foreign = (f.us_origin == False) & (f.ship_from != "US") & ~over_de_minimis(f, p)  # noqa: E712
    return (f.entity_list_footnote == 1) & foreign & (f.direct_product_of_us_technology | f.produced_by_us_origin_plant)


@rule("part744.11.a2i.exceptions", cite="15 CFR 744.11(a)(2)(i)", stage="notice", source="85 FR 51596 (2020-08-20)")
def fn1_exceptions(f: Facts, p: Params) -> pl.Expr:
    """Foreign-made item subject to the EAR only through the footnote-1 FDP rule: licence exceptions remain
    available for it (not modelled here; check part 740 before applying for a licence)."""
    return f.end_user_listed & _only_by_fn1_fdp(f, p)


@rule(
    "part744.11.policy.fn1_below_5g",
    cite="15 CFR 744.11(a)(2)(i); Supp. 4 to part 744 (Huawei entries' review policy)",
    stage="policy",
    source="85 FR 51596 (2020-08-20)",
    yields="case-by-case",
    priority=9,
)
def fn1_below_5g(f: Facts, p: Params) -> pl.Expr:
    """Footnote-1 FDP items for a level below 5G: case-by-case review (5G-capable items stay presumption of
    denial under the entry)."""
    return f.end_user_listed & _only_by_fn1_fdp(f, p) & f.below_5g_level


AFFILIATES = "90 FR 47201 (2025-09-30)"
AFFILIATES_SUSPENDED = "90 FR 50857 (2025-11-12): suspended 2025-11-10 to 2026-11-09"


@rule(
    "part744.11.affiliates",
    cite="15 CFR 744.11(a)(3), 744.21(a)(3); Supp. 8 to part 744",
    stage="require",
    effective="2025-09-29",
    until="2025-11-09",
    source=AFFILIATES,
    priority=11,
)
def affiliates(f: Facts, p: Params) -> pl.Expr:
    """Affiliates rule: an end user owned 50 % or more (directly or indirectly, alone or together) by
    listed parties inherits their licence requirement; unknown ownership needs review."""
    return _subject() & f.end_user_affiliate_of_listed


@rule(
    "part744.11.affiliates.2026",
    cite="15 CFR 744.11(a)(3), 744.21(a)(3); Supp. 8 to part 744",
    stage="require",
    effective="2026-11-10",
    source=f"{AFFILIATES}; back in force after {AFFILIATES_SUSPENDED}",
    priority=11,
)
def affiliates_2026(f: Facts, p: Params) -> pl.Expr:
    """Affiliates rule, re-imposed from 2026-11-10 after the one-year suspension (absent further action)."""
    return _subject() & f.end_user_affiliate_of_listed


# --- 744.23 advanced computing and semiconductor manufacturing end uses -------------------------


SUPERCOMPUTER_ICS = ["3A001", "3A991", "4A994", "5A002", "5A004", "5A992"]
SUPERCOMPUTER_COMPUTERS = ["4A003", "4A004", "4A994", "5A002", "5A004", "5A992"]
SUPER22 = "744.23(a)(1)(i)-(ii), (a)(2)(i)-(ii) (2022 text)"


def _supercomputer_items(f: Facts) -> pl.Expr:
    """744.23(a)(1) item scope: ICs in 3A001/3A991/4A994/5A002/5A004/5A992, and computers, electronic
    assemblies or components in 4A003/4A004/4A994/5A002/5A004/5A992 (the .z paragraphs included). Not
    all of Categories 3-5: 3A090/4A090 items are caught by 742.6 instead."""
    eccn = pl.col("ccl_eccn")
    ic = f.item_kind.is_in(["ic", "hbm"]) & eccn_in(eccn, SUPERCOMPUTER_ICS)
    computer = f.item_kind.is_in(["computer", "other"]) & eccn_in(eccn, SUPERCOMPUTER_COMPUTERS)
    # an item whose kind is not stated is in scope if its ECCN is on either list
    unknown_kind = f.item_kind.is_null() & eccn_in(eccn, SUPERCOMPUTER_ICS + SUPERCOMPUTER_COMPUTERS)
    return ic | computer | pl.when(unknown_kind.fill_null(False)).then(None).otherwise(False)


@rule(
    "part744.23.a1.supercomputer.2022",
    cite=f"15 CFR {SUPER22}",
    stage="require",
    effective="2022-10-21",
    until="2023-11-16",
    source=OCT22 + "; supercomputer limbs (a)(1)(i)-(ii), (a)(2)(i)-(ii) effective 2022-10-21: an eCFR copy of "
    "744.23 as amended on 2022-10-07 shows them [Reserved] (AlextheYounga/ecfr, docs/regulatory-facts.md)",
)
def supercomputer_2022(f: Facts, p: Params) -> pl.Expr:
    """ICs and computers in the listed ECCNs for a supercomputer in the PRC (and Macau from 2023-01-17)."""
    return (
        _subject()
        & _supercomputer_items(f)
        & (f.end_use == "supercomputer")
        & isin(f.destination, p.legacy_prc_scope)
    )


@rule("part744.23.a1.supercomputer", cite="15 CFR 744.23(a)(1)", stage="require", effective="2023-11-17", source=OCT23)
def supercomputer(f: Facts, p: Params) -> pl.Expr:
    """ICs and computers in the listed ECCNs for a supercomputer located in or destined to Macau or D:5."""
    return (
        _subject()
        & _supercomputer_items(f)
        & (f.end_use == "supercomputer")
        & isin(f.destination, d5_macau(p))
    )


@rule(
    "part744.23.a2.advanced_fab.2022",
    cite="15 CFR 744.23(a)(2)(i) (2022 text)",
    stage="require",
    effective="2022-10-07",
    until="2023-11-16",
    source=OCT22,
)
def advanced_fab_2022(f: Facts, p: Params) -> pl.Expr:
    """Any item subject to the EAR for IC production at a PRC (Macau from 2023-01-17) fab that makes
    advanced-node ICs, whoever owns the fab."""
    return _subject() & isin(f.end_use, ADVANCED_FAB) & isin(f.destination, p.legacy_prc_scope)


@rule(
    "part744.23.a2.advanced_fab", cite="15 CFR 744.23(a)(2)(i)", stage="require", effective="2023-11-17", source=SME23
)
def advanced_fab(f: Facts, p: Params) -> pl.Expr:
    """Any item subject to the EAR for IC production at a fab in Macau or D:5 that makes advanced-node
    ICs (logic 16/14 nm or non-planar; NAND 128 layers or more; DRAM per the dated DRAM test)."""
    return _subject() & isin(f.end_use, ADVANCED_FAB) & isin(f.destination, d5_macau(p))


@rule(
    "part744.23.a2.unknown_node", cite="15 CFR 744.23(a)(2)(ii)", stage="require", effective="2022-10-07", source=OCT22
)
def unknown_node(f: Facts, p: Params) -> pl.Expr:
    """Category 3 B/C/D/E items for an IC fab in the PRC/Macau/D:5 whose node the exporter does not know."""
    scope = end_use_scope(p)
    return (
        _subject()
        & pl.col("ccl_eccn").str.contains(r"^3[B-E][0-9]{3}")
        & (f.end_use == "unknown_node_fab")
        & isin(f.destination, scope)
    )


@rule(
    "part744.23.a3.hq",
    cite="15 CFR 744.23(a)(3)",
    stage="require",
    effective="2023-11-17",
    until="2025-01-12",
    source=OCT23,
)
def hq_d5(f: Facts, p: Params) -> pl.Expr:
    """3A090/4A090/.z items to an entity headquartered (or whose ultimate parent is) in Macau or D:5,
    wherever located."""
    return (
        _subject()
        & pl.col("ac_level").is_in(["a", "b"])
        & isin(f.end_user_hq_country, d5_macau(p))
        & (f.destination != "US")
    )


@rule("part744.23.a3.hq.b", cite="15 CFR 744.23(a)(3)(i)(A)", stage="require", effective="2025-01-13", source=AID25)
def hq_d5_b(f: Facts, p: Params) -> pl.Expr:
    """3A090.b/4A090.b/.z items to an entity headquartered in Macau or D:5 (the .a items moved to 742.6)."""
    return _subject() & (pl.col("ac_level") == "b") & isin(f.end_user_hq_country, d5_macau(p)) & (f.destination != "US")


@rule("part744.23.a3.hbm_hq", cite="15 CFR 744.23(a)(3)(i)(B)", stage="require", effective="2024-12-02", source=DEC24,
      enforced=(("2024-12-02", False, "89 FR 96790 DATES: compliance for the HBM amendments not required before "
                 "2024-12-31"), ("2024-12-31", True, "89 FR 96790 compliance date 2024-12-31")))
def hbm_hq(f: Facts, p: Params) -> pl.Expr:
    """3A090.c HBM to an entity headquartered in Macau or D:5, wherever located."""
    return _subject() & (pl.col("ac_level") == "c") & isin(f.end_user_hq_country, d5_macau(p)) & (f.destination != "US")


@rule(
    "part744.23.a1v.sme_development.2022",
    cite="15 CFR 744.23(a)(1)(v), (a)(2)(v) (2022 text)",
    stage="require",
    effective="2022-10-07",
    until="2023-11-16",
    source=OCT22,
)
def sme_development_2022(f: Facts, p: Params) -> pl.Expr:
    """Any item subject to the EAR (EAR99 included) for the development or production in the PRC (Macau
    from 2023-01-17) of SME in 3B001, 3B002, 3B090, 3B611, 3B991 or 3B992; no headquarters test yet."""
    return _subject() & (f.end_use == "sme_development") & isin(f.destination, p.legacy_prc_scope)


@rule(
    "part744.23.a4.sme_development", cite="15 CFR 744.23(a)(4)", stage="require", effective="2023-11-17", source=SME23
)
def sme_development(f: Facts, p: Params) -> pl.Expr:
    """CCL items (not EAR99) for the development or production of SME in Macau/D:5, or for developers
    headquartered there wherever they are (88 FR 73424 narrowed the item scope and added the HQ test)."""
    return (
        _subject()
        & on_ccl(pl.col("ccl_eccn"))
        & (f.end_use == "sme_development")
        & (isin(f.destination, d5_macau(p)) | isin(f.end_user_hq_country, d5_macau(p)))
    )


@rule(
    "part744.23.policy.allied_hq",
    cite="15 CFR 744.23(d)(2)",
    stage="policy",
    effective="2023-11-17",
    source=f"{OCT23}; {SME23}",
    yields="presumption of approval",
    priority=39,
)
def allied_hq(f: Facts, p: Params) -> pl.Expr:
    """744.23 end uses for an end user headquartered in the U.S., A:5 or A:6 and not majority-owned by
    an entity headquartered in Macau or D:5: presumption of approval (ownership must be known)."""
    allied = isin(f.end_user_hq_country, ["US"] + p.group("A:5") + p.group("A:6"))
    end_uses = isin(f.end_use, [*ADVANCED_FAB, "unknown_node_fab", "sme_development", "supercomputer"])
    return end_uses & allied & (f.end_user_majority_owned_by_d5_hq == False)  # noqa: E712 - null stays null


@rule(
    "part744.23.policy.fab_multinational",
    cite="15 CFR 744.23(d)",
    stage="policy",
    effective="2022-10-07",
    source=OCT22,
    yields="case-by-case",
    priority=40,
)
def fab_multinational(f: Facts, p: Params) -> pl.Expr:
    """Fabs in the PRC owned by companies headquartered outside Macau/D:5: case-by-case review."""
    return isin(f.end_use, ADVANCED_FAB) & ~isin(f.end_user_hq_country, d5_macau(p))


# --- 744.21 / 744.22 military and military-intelligence end uses ---------------------------------


@rule(
    "part744.21.military_supp2",
    cite="15 CFR 744.21(a)(1); Supp. 2 to part 744",
    stage="require",
    effective="2020-06-29",
    source="85 FR 23459 (2020-04-28)",
    priority=15,
)
def military_supp2(f: Facts, p: Params) -> pl.Expr:
    """Supplement 2 items for a military end use or military end user in the PRC, Venezuela, Burma,
    Cambodia or Nicaragua."""
    return (
        _subject()
        & (f.end_use == "military")
        & isin(f.destination, p.military_end_use_supp2_destinations)
        & eccn_in(pl.col("ccl_eccn"), p.military_end_use_supp2_eccns)
    )


@rule(
    "part744.21.military_any",
    cite="15 CFR 744.21(a)(2)",
    stage="require",
    effective="2022-02-24",
    source="87 FR 12226 (published 2022-03-03, effective 2022-02-24)",
)
def military_any(f: Facts, p: Params) -> pl.Expr:
    """Any item subject to the EAR for a military end use or end user in Russia or Belarus."""
    return _subject() & (f.end_use == "military") & isin(f.destination, p.military_end_use_any_item_destinations)


@rule(
    "part744.22.military_intelligence",
    cite="15 CFR 744.22(a)",
    stage="require",
    effective="2021-03-16",
    source="86 FR 4865 (2021-01-15) [date from memory]",
)
def military_intelligence(f: Facts, p: Params) -> pl.Expr:
    """Any item subject to the EAR for a military-intelligence end use or end user in the listed countries."""
    return (
        _subject() & (f.end_use == "military_intelligence") & isin(f.destination, p.military_intelligence_destinations)
    )


@rule(
    "part744.21.policy",
    cite="15 CFR 744.21(e)",
    stage="policy",
    effective="2020-06-29",
    source="85 FR 23459 (2020-04-28)",
    yields="presumption of denial",
    priority=12,
)
def military_policy(f: Facts, p: Params) -> pl.Expr:
    """Military and military-intelligence end uses: applications are reviewed with a presumption of denial."""
    return f.end_use.is_in(["military", "military_intelligence"])


@rule(
    "part744.23.policy.fab_prc",
    cite="15 CFR 744.23(d)",
    stage="policy",
    effective="2022-10-07",
    source=OCT22,
    yields="presumption of denial",
    priority=41,
)
def fab_prc(f: Facts, p: Params) -> pl.Expr:
    """Advanced-node fabs owned by companies headquartered in Macau or D:5: presumption of denial."""
    return isin(f.end_use, ADVANCED_FAB) & isin(f.end_user_hq_country, d5_macau(p))


# --- 744.6 U.S.-person support, and is-informed requirements -------------------------------------


@rule(
    "part744.6.c2.us_person", cite="15 CFR 744.6(c)(2)(i)-(iii)", stage="require", effective="2022-10-12", source=OCT22
)
def us_person(f: Facts, p: Params) -> pl.Expr:
    """A U.S. person supporting IC production at an advanced-node fab, at a fab of unknown node (for
    Category 3 B-E items), or SME development or production, in the PRC/Macau/D:5, needs a licence, even
    for items not subject to the EAR."""
    fab = (
        isin(f.end_use, ADVANCED_FAB)
        | (f.end_use == "sme_development")
        | ((f.end_use == "unknown_node_fab") & pl.col("ccl_eccn").str.contains(r"^3[B-E][0-9]{3}"))
    )
    return f.us_person_support & fab & isin(f.destination, end_use_scope(p))


@rule("part744.is_informed", cite="15 CFR 744.21(b), 744.23(b), 744.6(c)", stage="require")
def is_informed(f: Facts, p: Params) -> pl.Expr:
    """BIS has informed this exporter that a licence is required (an is-informed letter)."""
    return f.is_informed


@rule("part744.red_flag", cite="15 CFR 732 Supp. 3 (Know Your Customer); 744.23 red flags", stage="require")
def red_flag(f: Facts, p: Params) -> pl.Expr:
    """An unresolved red flag: the verdict waits for the red flag to be resolved."""
    return pl.when(f.red_flag).then(pl.lit(None, pl.Boolean)).otherwise(pl.lit(False))
