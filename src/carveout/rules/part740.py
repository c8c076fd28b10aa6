"""15 CFR 740 — License Exceptions that can lift an RS requirement for advanced-computing items and
HBM: NAC/ACA (740.8), HBM (740.25), IEC (740.24). An exception is offered only when it overcomes
every requirement that fired; none overcomes an Entity List requirement.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import d5_macau, eccn_in, isin, rs_d145
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

OCT23 = "88 FR 73458 (2023-10-25)"
APR24 = "89 FR 23876 (2024-04-04), FR Doc 2024-07004"
DEC24 = "89 FR 96790 (2024-12-05)"
AC_REQS = ("part742.rs.prc", "part742.rs.d145", "part742.rs.hq_d5", "part744.23.a3.hq")


def _nac_items(f: Facts) -> pl.Expr:
    """3A090/4A090/.z items, except datacenter items meeting 3A090.a (740.8(a))."""
    dc_a = (pl.col("ac_level") == "a") & f.marketed_for_datacenter.fill_null(True)
    return pl.col("ac_level").is_in(["a", "b"]) & ~dc_a


@rule("part740.8.nac.2023", cite="15 CFR 740.8 (2023 text)", stage="exception", effective="2023-11-17",
      until="2024-04-03", source=OCT23, yields="NAC", overcomes=AC_REQS)
def nac_2023(f: Facts, p: Params) -> pl.Expr:
    """Notified Advanced Computing: prior notification to BIS; covered every RS destination until the
    ACA split."""
    return _nac_items(f) & (isin(f.destination, rs_d145(p)) | isin(f.end_user_hq_country, d5_macau(p)))


@rule("part740.8.nac", cite="15 CFR 740.8(a)", stage="exception", effective="2024-04-04", source=APR24,
      yields="NAC", overcomes=AC_REQS)
def nac(f: Facts, p: Params) -> pl.Expr:
    """Notified Advanced Computing: exports/reexports to Macau or D:5, or to parties headquartered there,
    after notifying BIS (at least 25 days ahead) and hearing no objection."""
    to_d5 = isin(f.destination, d5_macau(p)) | isin(f.end_user_hq_country, d5_macau(p))
    return _nac_items(f) & to_d5 & (f.transaction_type != "in-country transfer")


@rule("part740.8.aca", cite="15 CFR 740.8(b)", stage="exception", effective="2024-04-04", source=APR24,
      yields="ACA", overcomes=AC_REQS)
def aca(f: Facts, p: Params) -> pl.Expr:
    """Advanced Computing Authorized: D:1/D:4 destinations outside Macau and D:5, and in-country
    transfers within Macau/D:5; no notification."""
    d14 = isin(f.destination, rs_d145(p)) & ~isin(f.destination, d5_macau(p)) & ~isin(
        f.end_user_hq_country, d5_macau(p))
    transfer = (f.transaction_type == "in-country transfer") & isin(f.destination, d5_macau(p))
    return _nac_items(f) & (d14 | transfer)


@rule("part740.8.nac.notify", cite="15 CFR 740.8(a)(2)", stage="notice", effective="2023-11-17", source=OCT23)
def nac_notify(f: Facts, p: Params) -> pl.Expr:
    """Using NAC requires a notification to BIS through SNAP-R before shipping (licence type C67 in AES)."""
    return _nac_items(f) & (isin(f.destination, d5_macau(p)) | isin(f.end_user_hq_country, d5_macau(p)))


@rule("part740.25.hbm", cite="15 CFR 740.25(a)-(d)", stage="exception", effective="2024-12-02", source=DEC24,
      yields="HBM", overcomes=("part742.rs.hbm", "part744.23.a3.hbm_hq"))
def hbm_exception(f: Facts, p: Params) -> pl.Expr:
    """License Exception HBM: 3A090.c below the 740.25 bandwidth-density ceiling, shipped by an exporter
    headquartered in the U.S. or A:5 (and not, itself or its ultimate parent, in Macau/D:5) (b), bought
    directly by the designer that co-packages it (c), not through a distributor and not for co-packaging
    at an advanced-node fab in Macau/D:5 (d). Every condition must be known to be met."""
    exporter_ok = isin(f.exporter_hq_country, ["US"] + p.group("A:5")) & ~isin(f.exporter_hq_country, d5_macau(p))
    advanced_fab = isin(f.end_use, ["advanced_node_logic_fab", "advanced_node_dram_fab", "advanced_node_nand_fab",
                                    "unknown_node_fab"]) & isin(f.destination, d5_macau(p))
    return ((pl.col("ac_level") == "c")
            & (f.memory_bandwidth_density_gb_s_mm2 < p.hbm_max_memory_bandwidth_density)
            & exporter_ok
            & f.bought_by_copackage_designer
            & (f.to_distributor == False)  # noqa: E712 - null stays null
            & f.end_use.is_not_null() & ~advanced_fab.fill_null(True))


@rule("part740.24.iec", cite="15 CFR 740.24", stage="exception", effective="2024-09-06",
      source="89 FR 72926 (2024-09-06) [memory]", yields="IEC", overcomes=("part742.rs.sme.worldwide",))
def iec(f: Facts, p: Params) -> pl.Expr:
    """Implemented Export Control: worldwide-controlled SME to countries with equivalent controls."""
    return (eccn_in(pl.col("eccn"), p.sme_worldwide_eccns)
            & isin(f.destination, p.iec_countries))
