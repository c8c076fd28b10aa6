"""15 CFR 774 Supp. 1 — semiconductor manufacturing equipment classified from its attributes: lithography
(3B001.f.1, 3B993.f.1), etch (3B001.c.1.a, 3B993.c.2), deposition (3B993.d.3), ion implantation (3B994.b.2)
and inspection (3B993.q.1). Each paragraph is a dated rule like 3A090; a missing deciding parameter leaves
the rule unknown, so the engine names it. Equipment the rules do not place keeps its declared or base ECCN,
else needs review. Only the paragraphs listed are modelled; other SME needs a declared ECCN.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule

SME23 = "88 FR 73424 (2023-10-25)"
DEC24 = "89 FR 96790 (2024-12-05)"


def _kind(f: Facts, equipment: str) -> pl.Expr:
    """Equipment of this type; equipment described without a type is left to its declared ECCN."""
    return (f.item_kind == "equipment") & (f.equipment_type == equipment).fill_null(False)


# --- Lithography -------------------------------------------------------------------------------


@rule("ccl.3b001.f.1.pre2023", cite="15 CFR 774 Supp. 1, 3B001.f.1 (text before 88 FR 73424)", stage="classify",
      effective="2022-10-07", until="2023-11-16",
      source="long-standing Wassenaar 3.B.1.f.1 wording [C-secondary]; modelled from the start of the timeline",
      yields="3B001.f.1")
def litho_pre2023(f: Facts, p: Params) -> pl.Expr:
    """Step-and-repeat or step-and-scan lithography with a light source below 193 nm, or able to print a
    minimum resolvable feature of 45 nm or less (every immersion DUV scanner before Nov 2023)."""
    return _kind(f, "lithography") & ((f.litho_wavelength_nm < p.litho_wavelength_below_nm)
                                      | (f.litho_mrf_nm <= p.litho_mrf_max_nm))


@rule("ccl.3b001.f.1", cite="15 CFR 774 Supp. 1, 3B001.f.1", stage="classify", effective="2023-11-17",
      source=SME23, yields="3B001.f.1")
def litho(f: Facts, p: Params) -> pl.Expr:
    """Lithography below 193 nm (EUV), or at 193 nm and above with MRF of 45 nm or less and a dedicated chuck
    overlay of 1.50 nm or less."""
    duv = (f.litho_wavelength_nm >= p.litho_wavelength_below_nm) & (f.litho_mrf_nm <= p.litho_mrf_max_nm) & (
        f.litho_overlay_nm <= p.litho_overlay_max_3b001_nm)
    return _kind(f, "lithography") & ((f.litho_wavelength_nm < p.litho_wavelength_below_nm) | duv)


@rule("ccl.3b993.f.1", cite="15 CFR 774 Supp. 1, 3B993.f.1", stage="classify", effective="2024-12-02",
      source=f"{DEC24} [date of this form uncertain]", yields="3B993.f.1")
def litho_3b993(f: Facts, p: Params) -> pl.Expr:
    """DUV lithography (193 nm and above) with MRF of 45 nm or less and a dedicated chuck overlay above
    1.50 nm and at most 2.40 nm."""
    return (_kind(f, "lithography") & (f.litho_wavelength_nm >= p.litho_wavelength_below_nm)
            & (f.litho_mrf_nm <= p.litho_mrf_max_nm) & (f.litho_overlay_nm > p.litho_overlay_max_3b001_nm)
            & (f.litho_overlay_nm <= p.litho_overlay_max_3b993_nm))


# --- Etch --------------------------------------------------------------------------------------


@rule("ccl.3b001.c.1.a", cite="15 CFR 774 Supp. 1, 3B001.c.1.a", stage="classify", effective="2023-11-17",
      source=SME23, yields="3B001.c.1.a")
def etch_isotropic(f: Facts, p: Params) -> pl.Expr:
    """Isotropic dry etch with a SiGe:Si etch selectivity of 100:1 or more."""
    return (_kind(f, "etch") & (f.etch_mode == "isotropic")
            & (f.etch_sige_si_selectivity >= p.etch_sige_selectivity_min))


@rule("ccl.3b993.c.2", cite="15 CFR 774 Supp. 1, 3B993.c.2", stage="classify", effective="2024-12-02",
      source=f"{DEC24} [date of this form uncertain]", yields="3B993.c.2")
def etch_high_aspect(f: Facts, p: Params) -> pl.Expr:
    """Anisotropic dielectric etch for 300 mm wafers enabling features above 30:1 aspect ratio with a top
    lateral dimension below 40 nm."""
    return (_kind(f, "etch") & (f.etch_mode == "anisotropic") & f.etch_dielectric
            & (f.wafer_diameter_mm >= p.wafer_300mm) & (f.etch_aspect_ratio > p.etch_aspect_ratio_min_3b993)
            & (f.etch_top_cd_nm < p.etch_top_cd_max_3b993_nm))


# --- Deposition, ion implantation, inspection --------------------------------------------------


@rule("ccl.3b993.d.3", cite="15 CFR 774 Supp. 1, 3B993.d.3", stage="classify", effective="2024-12-02",
      source=f"{DEC24} [date of this form uncertain]", yields="3B993.d.3")
def deposition_carbon(f: Facts, p: Params) -> pl.Expr:
    """Chemical vapour deposition of a carbon layer denser than 1.6 g/cm3 (hard masks)."""
    return (_kind(f, "deposition") & f.deposition_carbon_cvd
            & (f.deposition_film_density_g_cm3 > p.deposition_carbon_density_min))


@rule("ccl.3b994.b.2", cite="15 CFR 774 Supp. 1, 3B994.b.2", stage="classify", effective="2024-12-02",
      source=DEC24, yields="3B994.b.2")
def implanter(f: Facts, p: Params) -> pl.Expr:
    """300 mm ion implanter: medium current (1 uA-5 mA at 5-300 keV), high current at low energy (> 5 mA
    below 5 keV), or angular accuracy of 0.1 degree or better."""
    b = p.implant_bands_3b994 or {}
    i, e = f.implant_beam_current_ma, f.implant_beam_energy_kev
    band_a = (i > b.get("a_current_min_ma")) & (i < b.get("a_current_max_ma")) & (e > b.get("a_energy_min_kev")) & (
        e < b.get("a_energy_max_kev"))
    band_b = (i > b.get("b_current_min_ma")) & (e < b.get("b_energy_max_kev"))
    angular = f.implant_angular_accuracy_deg <= b.get("angular_max_deg")
    return _kind(f, "ion_implantation") & (f.wafer_diameter_mm == p.wafer_300mm) & (band_a | band_b | angular)


@rule("ccl.3b993.q.1", cite="15 CFR 774 Supp. 1, 3B993.q.1", stage="classify", effective="2024-12-02",
      source=f"{DEC24} [date of this form uncertain]", yields="3B993.q.1")
def inspection(f: Facts, p: Params) -> pl.Expr:
    """Patterned-wafer defect inspection or metrology for 300 mm wafers finding defects of 21 nm or less with
    a light source below 400 nm or an advanced e-beam source."""
    return (_kind(f, "inspection") & f.inspection_patterned_wafer_defects & (f.wafer_diameter_mm >= p.wafer_300mm)
            & (f.inspection_defect_size_nm <= p.inspection_defect_max_nm) & f.inspection_advanced_source)
