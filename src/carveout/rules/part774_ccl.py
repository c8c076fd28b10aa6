"""15 CFR 774, Supplement No. 1 — the Commerce Control List entries for advanced computing.

ECCN 3A090 had two shapes: the October 2022 text (TPP with an I/O transfer-rate test) and the
October 2023 text (TPP with performance density, and a datacenter carve-out). Each shape is its own
set of dated rules; 4A090 mirrors 3A090 for computers, assemblies and components containing such ICs.
For a computer, the item facts describe the most capable IC inside it.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.registry import Facts, note, rule

OCT22 = "87 FR 62186 (2022-10-13)"
OCT23 = "88 FR 73458 (2023-10-25)"
DEC24 = "89 FR 96790 (2024-12-05)"

note("ccl.declared", "15 CFR 774 Supp. 1", "ECCN as declared by the exporter; no parameters to check it against.")
note("ccl.not_3a090", "15 CFR 774 Supp. 1, 3A090/4A090 (and the SME paragraphs of rules/part774_sme.py)",
     "The item's parameters meet none of the paragraphs classified from specs (3A090/4A090, or the modelled "
     "SME paragraphs for equipment); it falls to another ECCN or EAR99.")
note("ccl.pre_oct2022", "87 FR 62186",
     "No advanced-computing ECCN existed before 2022-10-21 (3A090/4A090 took effect on 2022-10-21); they do not "
     "apply on this date.")


# --- Version A: 2022-10-21 to 2023-11-16 -------------------------------------------------------

def _meets_2022(f: Facts, p: Params) -> pl.Expr:
    return (f.tpp >= p.tpp_min_a) & (f.interconnect_gb_s >= p.io_rate_min_a)


@rule("ccl.3a090.2022", cite="15 CFR 774 Supp. 1, 3A090.a (2022 text)", stage="classify",
      effective="2022-10-21", until="2023-11-16", source=OCT22 + ", effective 2022-10-21",
      yields="3A090.a")
def ic_2022(f: Facts, p: Params) -> pl.Expr:
    """IC with TPP of 4800 or more and an I/O transfer rate of 600 GB/s or more to non-memory ICs."""
    return (f.item_kind == "ic") & _meets_2022(f, p)


@rule("ccl.4a090.2022", cite="15 CFR 774 Supp. 1, 4A090.a (2022 text)", stage="classify",
      effective="2022-10-21", until="2023-11-16", source=OCT22 + ", effective 2022-10-21",
      yields="4A090.a")
def computer_2022(f: Facts, p: Params) -> pl.Expr:
    """Computer, assembly or component containing an IC that meets the 2022 3A090 limits."""
    return (f.item_kind == "computer") & _meets_2022(f, p)


# --- Version B: from 2023-11-17 ------------------------------------------------------------------

def _in_scope(f: Facts, p: Params) -> pl.Expr:
    """Note 2: only datacenter ICs are caught below TPP 4800 (Kleene: unknown only if it matters)."""
    return f.marketed_for_datacenter | (f.tpp >= p.datacenter_tpp_floor)


def _a1(f: Facts, p: Params) -> pl.Expr:
    return f.tpp >= p.tpp_min_a


def _a2(f: Facts, p: Params) -> pl.Expr:
    return _in_scope(f, p) & (f.tpp >= p.tpp_min_a2) & (f.performance_density >= p.pd_min_a2)


def _not_a(f: Facts, p: Params) -> pl.Expr:
    return ~(_a1(f, p) | _a2(f, p))


def _b1(f: Facts, p: Params) -> pl.Expr:
    band = (f.tpp >= p.tpp_min_b1) & (f.tpp < p.tpp_min_a)
    pd = (f.performance_density >= p.pd_min_b1) & (f.performance_density < p.pd_min_a2)
    return _in_scope(f, p) & band & pd & _not_a(f, p)


def _b2(f: Facts, p: Params) -> pl.Expr:
    pd = (f.performance_density >= p.pd_min_b2) & (f.performance_density < p.pd_min_a2)
    return _in_scope(f, p) & (f.tpp >= p.tpp_min_b2) & pd & _not_a(f, p)


@rule("ccl.3a090.c", cite="15 CFR 774 Supp. 1, 3A090.c", stage="classify", effective="2024-12-02",
      source=DEC24, yields="3A090.c")
def hbm(f: Facts, p: Params) -> pl.Expr:
    """High-bandwidth memory with a memory bandwidth density greater than 2 GB/s/mm2."""
    return (f.item_kind == "hbm") & (f.memory_bandwidth_density_gb_s_mm2 > p.hbm_mbd_min)


@rule("ccl.3a090.a.1", cite="15 CFR 774 Supp. 1, 3A090.a.1", stage="classify", effective="2023-11-17",
      source=OCT23, yields="3A090.a")
def ic_a1(f: Facts, p: Params) -> pl.Expr:
    """IC with a total processing performance of 4800 or more (datacenter or not)."""
    return (f.item_kind == "ic") & _a1(f, p)


@rule("ccl.3a090.a.2", cite="15 CFR 774 Supp. 1, 3A090.a.2", stage="classify", effective="2023-11-17",
      source=OCT23, yields="3A090.a")
def ic_a2(f: Facts, p: Params) -> pl.Expr:
    """Datacenter IC with TPP of 1600 or more and performance density of 5.92 or more."""
    return (f.item_kind == "ic") & _a2(f, p)


@rule("ccl.3a090.b.1", cite="15 CFR 774 Supp. 1, 3A090.b.1", stage="classify", effective="2023-11-17",
      source=OCT23, yields="3A090.b")
def ic_b1(f: Facts, p: Params) -> pl.Expr:
    """Datacenter IC with TPP from 2400 to under 4800 and performance density from 1.6 to under 5.92."""
    return (f.item_kind == "ic") & _b1(f, p)


@rule("ccl.3a090.b.2", cite="15 CFR 774 Supp. 1, 3A090.b.2", stage="classify", effective="2023-11-17",
      source=OCT23, yields="3A090.b")
def ic_b2(f: Facts, p: Params) -> pl.Expr:
    """Datacenter IC with TPP of 1600 or more and performance density from 3.2 to under 5.92."""
    return (f.item_kind == "ic") & _b2(f, p)


@rule("ccl.4a090.a", cite="15 CFR 774 Supp. 1, 4A090.a", stage="classify", effective="2023-11-17",
      source=OCT23, yields="4A090.a")
def computer_a(f: Facts, p: Params) -> pl.Expr:
    """Computer, assembly or component containing an IC that meets or exceeds the limits of 3A090.a."""
    return (f.item_kind == "computer") & (_a1(f, p) | _a2(f, p))


@rule("ccl.4a090.b", cite="15 CFR 774 Supp. 1, 4A090.b", stage="classify", effective="2023-11-17",
      source=OCT23, yields="4A090.b")
def computer_b(f: Facts, p: Params) -> pl.Expr:
    """Computer, assembly or component containing an IC that meets or exceeds the limits of 3A090.b."""
    return (f.item_kind == "computer") & (_b1(f, p) | _b2(f, p))


@rule("ccl.z", cite="15 CFR 774 Supp. 1, 3A001.z, 4A003.z, 4A004.z, 4A005.z, 5A002.z, 5A004.z, 5A992.z, "
      "5D002.z, 5D992.z", stage="classify_z", effective="2023-11-17", source=OCT23)
def dot_z(f: Facts, p: Params) -> pl.Expr:
    """An item that would sit in one of these ECCNs but meets 3A090.a/.b or 4A090 parameters is '.z'."""
    return pl.col("base_eccn").is_in(p.z_base_eccns or []) & pl.col("ac_level").is_in(["a", "b"])
