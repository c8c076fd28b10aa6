"""15 CFR 734 — is the item subject to the EAR at all? U.S. origin, de minimis (734.4), and the
foreign-direct-product rules (734.9). A foreign-made item that none of these reach is outside the EAR,
and only person-based controls (744.6) can still bite.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import d5_macau, eccn_in, isin
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

OCT22 = "87 FR 62186 (2022-10-13)"
MACAU23 = "88 FR 2821 (2023-01-18)"
OCT23 = "88 FR 73458 (2023-10-25)"
DEC24 = "89 FR 96790 (2024-12-05)"
# Effective 2024-12-02, compliance not required before 2024-12-31 (89 FR 96790 DATES): the engine skips a
# jurisdiction rule that is not enforced on the day, and rules/transitions.py says why.
DEC24_COMPLIANCE = (
    ("2024-12-02", False, "89 FR 96790 DATES: compliance with this amendment not required before 2024-12-31"),
    ("2024-12-31", True, "89 FR 96790 compliance date 2024-12-31"),
)

def _foreign_product(f: Facts) -> pl.Expr:
    """Made abroad from U.S. software/technology, or by a plant that is itself such a direct product."""
    return f.direct_product_of_us_technology | f.produced_by_us_origin_plant


@rule("part734.3.us_origin", cite="15 CFR 734.3(a)(1)-(2)", stage="jurisdiction")
def us_origin(f: Facts, p: Params) -> pl.Expr:
    """U.S.-origin items, and any item in or exported from the United States, are subject to the EAR."""
    return f.us_origin | (f.ship_from == "US")


@rule("part734.4.de_minimis", cite="15 CFR 734.4(c)-(d)", stage="jurisdiction")
def de_minimis(f: Facts, p: Params) -> pl.Expr:
    """Foreign-made item whose controlled U.S. content exceeds de minimis (25 %; 10 % for E:1/E:2)."""
    embargoed = isin(f.destination, p.group("E:1") + p.group("E:2"))
    limit = pl.when(embargoed).then(pl.lit(p.de_minimis_pct_e1_e2)).otherwise(pl.lit(p.de_minimis_pct_general))
    return f.us_controlled_content_pct > limit


@rule("part734.4.a8.sme_us_ic", cite="15 CFR 734.4(a)(8)", stage="jurisdiction", effective="2024-12-02",
      source=DEC24, enforced=DEC24_COMPLIANCE)
def sme_zero_de_minimis(f: Facts, p: Params) -> pl.Expr:
    """Foreign advanced SME to Macau or D:5 containing any U.S.-origin IC: no de minimis threshold."""
    return (eccn_in(pl.col("eccn"), p.get("sme_fdp_eccns")) & isin(f.destination, d5_macau(p))
            & f.contains_us_ic)


@rule("part734.4.a9.fn5_us_ic", cite="15 CFR 734.4(a)(9)", stage="jurisdiction", effective="2024-12-02",
      source=DEC24, enforced=DEC24_COMPLIANCE)
def fn5_zero_de_minimis(f: Facts, p: Params) -> pl.Expr:
    """Foreign SME for a footnote-5 Entity List party containing any U.S.-origin IC: no de minimis."""
    return eccn_in(pl.col("eccn"), p.get("fn5_fdp_eccns")) & (f.entity_list_footnote == 5) & f.contains_us_ic


@rule("part734.9.e1.fn1", cite="15 CFR 734.9(e)(1)", stage="jurisdiction")
def fdp_fn1(f: Facts, p: Params) -> pl.Expr:
    """Entity List footnote 1 (Huawei) FDP: foreign direct products of U.S. technology for an FN1 party."""
    return (f.entity_list_footnote == 1) & _foreign_product(f)


@rule("part734.9.e2.fn4", cite="15 CFR 734.9(e)(2)", stage="jurisdiction", effective="2022-10-21",
      source=OCT22)
def fdp_fn4(f: Facts, p: Params) -> pl.Expr:
    """Entity List footnote 4 FDP (advanced computing / supercomputer entities)."""
    return (f.entity_list_footnote == 4) & _foreign_product(f)


@rule("part734.9.e3.fn5", cite="15 CFR 734.9(e)(3)", stage="jurisdiction", effective="2024-12-02",
      source=DEC24, enforced=DEC24_COMPLIANCE)
def fdp_fn5(f: Facts, p: Params) -> pl.Expr:
    """Footnote 5 FDP: foreign SME made with U.S. technology (or containing such an IC) for an FN5 party
    or an advanced-node logic/DRAM fab in Macau or D:5; not for exporters in equivalent-control countries."""
    party = (f.entity_list_footnote == 5) | (
        isin(f.end_use, ["advanced_node_logic_fab", "advanced_node_dram_fab"]) & isin(f.destination, d5_macau(p))
    )
    exempt = isin(f.ship_from, p.get("equivalent_controls_countries"))
    return eccn_in(pl.col("eccn"), p.get("fn5_fdp_eccns")) & party & (_foreign_product(f) | f.contains_us_ic) & ~exempt


def _ac_items() -> pl.Expr:
    return pl.col("ac_level").is_in(["a", "b"])


@rule("part734.9.h.ac.2022", cite="15 CFR 734.9(h) (2022 text)", stage="jurisdiction",
      effective="2022-10-21", until="2023-11-16", source=OCT22)
def fdp_ac_2022(f: Facts, p: Params) -> pl.Expr:
    """Advanced-computing FDP: foreign 3A090/4A090 items made with U.S. technology, destined to the PRC
    (and Macau from 2023-01-17). In force from 2022-10-21 (87 FR 62186 effective-date list)."""
    return _ac_items() & _foreign_product(f) & isin(f.destination, p.legacy_prc_scope)


@rule("part734.9.h.ac", cite="15 CFR 734.9(h)(1)", stage="jurisdiction", effective="2023-11-17",
      source=OCT23)
def fdp_ac(f: Facts, p: Params) -> pl.Expr:
    """Advanced-computing FDP: foreign 3A090/4A090/.z items made with U.S. technology, destined to Macau
    or D:5, or for a party headquartered there."""
    reach = isin(f.destination, d5_macau(p)) | isin(f.end_user_hq_country, d5_macau(p))
    return _ac_items() & _foreign_product(f) & reach


@rule("part734.9.h.hbm", cite="15 CFR 734.9(h)(1)", stage="jurisdiction", effective="2024-12-02", source=DEC24,
      enforced=DEC24_COMPLIANCE)
def fdp_hbm(f: Facts, p: Params) -> pl.Expr:
    """Advanced-computing FDP extended to 3A090.c: foreign HBM made with U.S. technology (or by such a
    plant), destined to Macau or D:5 or for a party headquartered there (compliance date 2024-12-31)."""
    reach = isin(f.destination, d5_macau(p)) | isin(f.end_user_hq_country, d5_macau(p))
    return (pl.col("ac_level") == "c") & _foreign_product(f) & reach


@rule("part734.9.i.supercomputer.2022", cite="15 CFR 734.9(i) (2022 text)", stage="jurisdiction",
      effective="2022-10-21", until="2023-11-16", source=OCT22)
def fdp_supercomputer_2022(f: Facts, p: Params) -> pl.Expr:
    """Supercomputer FDP: foreign items made with U.S. technology for a supercomputer in the PRC
    (and Macau from 2023-01-17). In force from 2022-10-21 (87 FR 62186 effective-date list)."""
    return (f.end_use == "supercomputer") & _foreign_product(f) & isin(f.destination, p.legacy_prc_scope)


@rule("part734.9.i.supercomputer", cite="15 CFR 734.9(i)", stage="jurisdiction", effective="2023-11-17",
      source=OCT23)
def fdp_supercomputer(f: Facts, p: Params) -> pl.Expr:
    """Supercomputer FDP: foreign items made with U.S. technology for a supercomputer in the PRC or Macau
    (the 2026 text still names only those two; docs/regulatory-facts.md)."""
    return (f.end_use == "supercomputer") & _foreign_product(f) & isin(f.destination, p.legacy_prc_scope)


@rule("part734.9.k.sme", cite="15 CFR 734.9(k)", stage="jurisdiction", effective="2024-12-02", source=DEC24,
      enforced=DEC24_COMPLIANCE)
def fdp_sme(f: Facts, p: Params) -> pl.Expr:
    """SME FDP: foreign advanced SME made with U.S. technology (or containing such an IC), destined to
    Macau or D:5; not for exports from countries with equivalent controls (Supp. 4 to part 742)."""
    exempt = isin(f.ship_from, p.get("equivalent_controls_countries"))
    return (eccn_in(pl.col("eccn"), p.get("sme_fdp_eccns")) & (_foreign_product(f) | f.contains_us_ic)
            & isin(f.destination, d5_macau(p)) & ~exempt)


@rule("part734.not_subject.foreign", cite="15 CFR 734.3(b)", stage="notice")
def not_subject(f: Facts, p: Params) -> pl.Expr:
    """Foreign-made item outside the EAR: no EAR item-based licence requirement applies."""
    return pl.col("subject_to_ear").not_()


