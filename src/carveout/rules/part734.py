"""15 CFR 734 — is the item subject to the EAR at all? U.S. origin, de minimis (734.4), and the
foreign-direct-product rules (734.9). A foreign-made item that none of these reach is outside the EAR,
and only person-based controls (744.6) can still bite.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import d5_macau, eccn_in, equivalent_controls_reexporter, isin, on_ccl, over_de_minimis
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

OCT22 = "87 FR 62186 (2022-10-13)"
MACAU23 = "88 FR 2821 (2023-01-18)"
OCT23 = "88 FR 73458 (2023-10-25)"
DEC24 = "89 FR 96790 (2024-12-05)"
RUSSIA22 = "87 FR 12226 (2022-03-03), effective 2022-02-24"
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
    return over_de_minimis(f, p)


@rule("part734.4.a8.sme_us_ic", cite="15 CFR 734.4(a)(8)", stage="jurisdiction", effective="2024-12-02",
      source=DEC24, enforced=DEC24_COMPLIANCE)
def sme_zero_de_minimis(f: Facts, p: Params) -> pl.Expr:
    """Foreign advanced SME to Macau or D:5 containing any U.S.-origin IC: no de minimis threshold, unless
    the item is excluded from 742.4(a)(4)/742.6(a)(6)(i)(A) (reexporter in a Supp. 4 to part 742 country,
    not headquartered in Macau/D:5: 742.6(a)(6)(i)(A)(2)(iii))."""
    return (eccn_in(pl.col("eccn"), p.get("sme_fdp_eccns")) & isin(f.destination, d5_macau(p))
            & f.contains_us_ic & ~equivalent_controls_reexporter(f, p))


@rule("part734.4.a3.3b993f1", cite="15 CFR 734.4(a)(3)", stage="jurisdiction", effective="2024-12-02",
      source=f"{DEC24} [originating rule assumed; text per eCFR 2026-07-23 transcription]")
def litho_zero_de_minimis(f: Facts, p: Params) -> pl.Expr:
    """Foreign-made 3B993.f.1 lithography tools for an advanced-node logic fab: no de minimis level (any
    controlled U.S. content makes them subject), unless the country they are first exported from lists
    the tool on its own control list."""
    return (eccn_in(pl.col("eccn"), ["3B993.f.1"]) & (f.end_use == "advanced_node_logic_fab")
            & (f.us_controlled_content_pct > 0) & ~f.listed_by_first_exporting_country)


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
    or an advanced-node logic/DRAM fab in Macau or D:5. The equivalent-controls exclusion does not take
    the item out of the EAR: it only lifts the 742.4(a)(4)/742.6(a)(6)(i)(A) requirement (part742.py)."""
    party = (f.entity_list_footnote == 5) | (
        isin(f.end_use, ["advanced_node_logic_fab", "advanced_node_dram_fab"]) & isin(f.destination, d5_macau(p))
    )
    return eccn_in(pl.col("eccn"), p.get("fn5_fdp_eccns")) & party & (_foreign_product(f) | f.contains_us_ic)


@rule("part734.9.f.russia_belarus", cite="15 CFR 734.9(f)", stage="jurisdiction", effective="2022-02-24",
      source=RUSSIA22)
def fdp_russia_belarus(f: Facts, p: Params) -> pl.Expr:
    """Russia/Belarus FDP: foreign CCL items made from U.S. software or technology (or by such a plant),
    destined to Russia or Belarus. Reexports from Supp. 3 to part 746 partner countries are excluded, and
    EAR99 items are reached only by HTS code; both are left to review (part734.9.f.resolve)."""
    partner = isin(f.ship_from, p.get("ru_by_fdp_partner_countries"))
    return (_foreign_product(f) & on_ccl(pl.col("ccl_eccn")) & isin(f.destination, ["RU", "BY"])
            & (f.ship_from != "US") & ~partner)


@rule("part734.9.f.resolve", cite="15 CFR 734.9(f); Supp. 2-4 and 3 to part 746", stage="require",
      effective="2022-02-24", source=RUSSIA22)
def fdp_russia_resolve(f: Facts, p: Params) -> pl.Expr:
    """A foreign item made from U.S. technology going to Russia/Belarus that carveout cannot place: a
    reexport from a Supp. 3 partner country (excluded from the FDP rule; the list carveout holds is not
    verified), or an item without a CCL entry (EAR99 items listed by HTS code in the part 746 supplements are
    reached; those lists are not modelled). The answer waits for a reviewer."""
    partner = isin(f.ship_from, p.get("ru_by_fdp_partner_countries"))
    not_ccl = ~on_ccl(pl.col("ccl_eccn"))
    cond = _foreign_product(f) & isin(f.destination, ["RU", "BY"]) & (f.ship_from != "US") & (partner | not_ccl)
    return pl.when(cond.fill_null(False)).then(pl.lit(None, pl.Boolean)).otherwise(pl.lit(False))


@rule("part734.9.g.fn3", cite="15 CFR 734.9(g)", stage="jurisdiction", effective="2022-02-24", source=RUSSIA22)
def fdp_fn3(f: Facts, p: Params) -> pl.Expr:
    """Russian/Belarusian military-end-user FDP: any foreign item made from U.S. software or technology
    (or by such a plant) when an Entity List party with footnote 3 is a party to the transaction."""
    return (f.entity_list_footnote == 3) & _foreign_product(f)


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
    Macau or D:5. The item is subject to the EAR whoever reexports it; a reexporter in a Supp. 4 to
    part 742 country only escapes the 742.4(a)(4)/742.6(a)(6)(i)(A) requirement (744.11/744.23 still
    apply: 742.6(a)(6)(i)(A)(2)(ii))."""
    return (eccn_in(pl.col("eccn"), p.get("sme_fdp_eccns")) & (_foreign_product(f) | f.contains_us_ic)
            & isin(f.destination, d5_macau(p)))


@rule("part734.not_subject.foreign", cite="15 CFR 734.3(b)", stage="notice")
def not_subject(f: Facts, p: Params) -> pl.Expr:
    """Foreign-made item outside the EAR: no EAR item-based licence requirement applies."""
    return pl.col("subject_to_ear").not_()


