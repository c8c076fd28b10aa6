"""The facts frame: the one Polars schema every input is turned into before the rules see it.

A column that the input lacks is added as null, which the engine reads as "unknown", never as "no".
"""

from __future__ import annotations

import polars as pl

ITEM_KINDS = ("ic", "computer", "hbm", "equipment", "software", "technology", "material", "other")
TRANSACTION_TYPES = ("export", "reexport", "in-country transfer")
END_USES = (
    "advanced_node_logic_fab",  # production of logic ICs at 16/14 nm or below / non-planar
    "advanced_node_dram_fab",  # DRAM meeting the advanced-node test of 744.23
    "advanced_node_nand_fab",  # NAND of 128 layers or more
    "unknown_node_fab",  # IC production where the exporter does not know the node (744.23(a)(2)(ii))
    "mature_node_fab",  # IC production known to be below the advanced-node thresholds
    "sme_development",  # development or production of semiconductor manufacturing equipment
    "supercomputer",  # development, production, use ... of a supercomputer
    "ai_model_training",
    "datacenter",
    "military",  # military end use or military end user (744.21)
    "military_intelligence",  # military-intelligence end use or end user (744.22)
    "civil_other",
    "unknown",
)
FOOTNOTES = (1, 3, 4, 5)

# name -> (dtype, what it means). Order is the order of the facts frame.
SCHEMA: dict[str, tuple[pl.DataType, str]] = {
    "row": (pl.UInt32(), "position of the row in the input"),
    "date": (pl.Date(), "date of the export, reexport or transfer"),
    # item
    "item_name": (pl.String(), "item name or model"),
    "item_kind": (pl.String(), "ic | computer | hbm | equipment | software | technology | material | other"),
    "material": (pl.String(), "material, from the closed vocabulary in carveout.materials (PRC rules)"),
    "rare_earth_content_pct": (pl.Float64(), "value share of China-origin rare earths in a foreign-made item, %"),
    "eccn_declared": (pl.String(), "ECCN the exporter declares (used when no parameters are given)"),
    "base_eccn": (pl.String(), "ECCN the item would otherwise fall in (for the .z paragraphs)"),
    "tpp": (pl.Float64(), "total processing performance (bit-TOPS, dense)"),
    "mac_tops": (pl.Float64(), "peak dense MacTOPS at the bit length giving the highest TPP"),
    "bit_length": (pl.Float64(), "bit length of the MAC inputs for mac_tops"),
    "die_area_mm2": (pl.Float64(), "applicable die area: non-planar logic dies, mm2"),
    "marketed_for_datacenter": (pl.Boolean(), "designed or marketed for datacenter use"),
    "interconnect_gb_s": (pl.Float64(), "aggregate bidirectional I/O rate to non-memory ICs, GB/s"),
    "memory_bandwidth_density_gb_s_mm2": (pl.Float64(), "memory bandwidth / package or stack area"),
    "memory_bandwidth_gb_s": (pl.Float64(), "total DRAM bandwidth of the package, GB/s"),
    "performance_density": (pl.Float64(), "TPP / applicable die area (derived)"),
    "below_5g_level": (pl.Boolean(), "item works below the 5G level (FN1 review policy)"),
    # semiconductor manufacturing equipment parameters (rules/part774_sme.py)
    "equipment_type": (pl.String(), "lithography | etch | deposition | ion_implantation | inspection | other"),
    "wafer_diameter_mm": (pl.Float64(), "largest wafer diameter the equipment is designed for, mm"),
    "litho_wavelength_nm": (pl.Float64(), "lithography light source wavelength, nm"),
    "litho_mrf_nm": (pl.Float64(), "lithography minimum resolvable feature size, nm"),
    "litho_overlay_nm": (pl.Float64(), "lithography maximum dedicated chuck overlay, nm"),
    "etch_mode": (pl.String(), "isotropic | anisotropic"),
    "etch_sige_si_selectivity": (pl.Float64(), "largest SiGe:Si etch selectivity (x:1)"),
    "etch_dielectric": (pl.Boolean(), "etch equipment designed for dielectric material"),
    "etch_aspect_ratio": (pl.Float64(), "aspect ratio of the features the etch enables (x:1)"),
    "etch_top_cd_nm": (pl.Float64(), "lateral dimension on the top surface, nm"),
    "deposition_carbon_cvd": (pl.Boolean(), "CVD of a carbon material layer"),
    "deposition_film_density_g_cm3": (pl.Float64(), "deposited film density, g/cm3"),
    "implant_beam_current_ma": (pl.Float64(), "ion implanter beam current, mA"),
    "implant_beam_energy_kev": (pl.Float64(), "ion implanter beam energy, keV"),
    "implant_angular_accuracy_deg": (pl.Float64(), "ion implanter angular accuracy, degrees"),
    "inspection_patterned_wafer_defects": (pl.Boolean(), "patterned-wafer defect inspection or metrology"),
    "inspection_defect_size_nm": (pl.Float64(), "smallest defect the inspection tool detects, nm"),
    "inspection_advanced_source": (pl.Boolean(), "light < 400 nm, e-beam <= 1.65 nm, CFE or >= 2 e-beam sources"),
    # origin and jurisdiction (part 734)
    "us_origin": (pl.Boolean(), "the item is U.S.-origin"),
    "us_controlled_content_pct": (pl.Float64(), "share of controlled U.S.-origin content, percent"),
    "direct_product_of_us_technology": (pl.Boolean(), "foreign item made from U.S. software/technology"),
    "produced_by_us_origin_plant": (pl.Boolean(), "foreign item made by a plant that is a U.S.-tech product"),
    "contains_us_ic": (pl.Boolean(), "foreign SME containing a U.S.-origin IC (734.4(a)(8)/(a)(9))"),
    "cn_origin": (pl.Boolean(), "the item is of PRC origin (PRC rules: re-exports from third countries)"),
    "made_with_cn_re_technology": (pl.Boolean(), "foreign item made with PRC rare-earth technology (2025 No. 61)"),
    "listed_by_first_exporting_country": (pl.Boolean(), "the first exporting country lists the item (734.4(a)(3))"),
    # parties and places
    "exporter": (pl.String(), "shipper's name"),
    "exporter_hq_country": (pl.String(), "shipper's headquarters country (ISO-2)"),
    "ship_from": (pl.String(), "country of export or reexport (ISO-2)"),
    "transaction_type": (pl.String(), "export | reexport | in-country transfer"),
    "destination": (pl.String(), "destination country (ISO-2)"),
    "end_user_name": (pl.String(), "end user's name"),
    "end_user_country": (pl.String(), "end user's country (ISO-2)"),
    "end_user_hq_country": (pl.String(), "headquarters country of the end user or its ultimate parent"),
    "end_user_listed": (pl.Boolean(), "end user is on the Entity List (caller's knowledge or screening)"),
    "entity_list_footnote": (pl.Int8(), "Entity List footnote (1, 3, 4, 5) or 0 for none"),
    "end_user_affiliate_of_listed": (
        pl.Boolean(),
        "end user is owned 50 % or more by listed parties (Affiliates rule)",
    ),
    "end_user_majority_owned_by_d5_hq": (pl.Boolean(), "end user majority-owned by a Macau/D:5-HQ'd entity"),
    "end_use": (pl.String(), "end use, from the documented vocabulary"),
    "facility_id": (pl.String(), "facility id (e.g. SAMSUNG-XIAN) for VEU sites"),
    "end_use_logic_nm": (pl.Float64(), "node of the logic ICs the end use makes, nm (PRC 2025 No. 61 review)"),
    "end_use_memory_layers": (pl.Float64(), "layers of the memory ICs the end use makes (PRC 2025 No. 61 review)"),
    "value_usd": (pl.Float64(), "line value in USD"),
    "quantity": (pl.Float64(), "quantity"),
    # facts a rule cannot see for itself
    "is_informed": (pl.Boolean(), "BIS has informed the exporter that a licence is required"),
    "red_flag": (pl.Boolean(), "an unresolved red flag is known"),
    "us_person_support": (pl.Boolean(), "a U.S. person supports production at the destination facility"),
    "licence_on_file": (pl.Boolean(), "an individual licence covering this shipment is on file"),
    "veu_item_eligible": (
        pl.Boolean(),
        "the item is on the consignee facility's VEU eligible-item list (Supp. 7 to part 748) on the shipment date",
    ),
    "mofcom_licence_on_file": (pl.Boolean(), "a PRC MOFCOM dual-use export licence covers this shipment"),
    "bought_by_copackage_designer": (pl.Boolean(), "HBM bought directly by the co-package designer (740.25(c))"),
    "to_distributor": (pl.Boolean(), "consignee or purchaser is a distributor (740.25(d))"),
    # transition facts: savings clauses and temporary general licences (rules/transitions.py)
    "en_route_on": (pl.Date(), "day the item was loaded aboard a carrier to the port of export under actual orders"),
    "end_user_jv_allied": (
        pl.Boolean(),
        "end user is a joint venture with partners headquartered in the U.S. or A:5/A:6 that are not restricted",
    ),
    "end_user_owned_by_sdn": (pl.Boolean(), "end user is owned 50 % or more by an SDN covered by 744.8"),
    "for_use_outside_prc": (
        pl.Boolean(),
        "the items produced with this shipment are for end users outside the PRC and Macau (2022 TGL)",
    ),
}

# How a missing fact is named to the user: derived facts point at what must be supplied.
DERIVED_FROM = {"tpp": "tpp (or mac_tops and bit_length)"}
# A derived fact is missing because these inputs are missing (or unusable).
MISSING_WHEN = {
    "performance_density": (
        ("tpp", None),
        ("die_area_mm2", "die_area_mm2 (applicable die area, > 0, for performance density)"),
    ),
}

# Columns the engine adds; rules may read them but they are never part of a signature.
COMPUTED = ("eccn", "ccl_eccn", "ac_level", "classification", "subject_to_ear", "day", "_epoch")


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema={k: v[0] for k, v in SCHEMA.items()})


# Output columns of the engine; an input column of the same name is an earlier verdict and is replaced.
OUTPUTS = (
    "eccn",
    "eccn_missing",
    "ccl_eccn",
    "classification",
    "ac_level",
    "subject_to_ear",
    "license_required",
    "reasons",
    "missing",
    "license_exceptions",
    "authorization",
    "review_policy",
    "rules_version",
    "rules_date",
    "day",
)
INPUT_ERROR = "input error (see error)"  # how a row with a bad input names what is missing


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Give ``frame`` every fact column with its dtype; extra columns are kept as passengers.

    A plain ``eccn`` column in the input is the exporter's declared ECCN (as in ledger files). A value that
    cannot take its column's type (text in a number column, ``maybe`` in a yes/no column) becomes unknown
    and its row carries the reason in ``error``, so it can only come out ``needs_review``. A ``row`` column
    that is not a row number (a user's id such as ``A-17``) is kept as ``input_row``."""
    from carveout import boundary

    if "eccn" in frame.columns and "eccn_declared" not in frame.columns:
        frame = frame.rename({"eccn": "eccn_declared"})
    frame = frame.drop([c for c in OUTPUTS if c in frame.columns])
    if "row" in frame.columns and not frame.schema["row"].is_integer():
        frame = frame.rename({"row": "input_row"}) if "input_row" not in frame.columns else frame.drop("row")
    if "error" in frame.columns and frame.schema["error"] != pl.String():
        frame = frame.with_columns(pl.col("error").cast(pl.String, strict=False))
    exprs, checks = [], []
    schema = frame.schema  # read once: each DataFrame.schema call builds it anew
    for name, (dtype, _) in SCHEMA.items():
        if name == "row":
            continue
        if name not in schema:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        have = schema[name]
        if have == dtype:
            continue
        col = pl.col(name)
        if have == pl.String() and dtype != pl.String():
            text = boundary.clean_expr(col)
            text = pl.when(text != "").then(text)
            cast, expected = boundary.parse_cell(text, dtype, name)
            lost = text.is_not_null() & cast.is_null()
        else:
            cast, expected = _cast(col, have, dtype)
            lost = col.is_not_null() & cast.is_null()
        checks.append((lost, pl.when(lost).then(pl.format("column {}: {} is not {}", pl.lit(name),
                                                         col.cast(pl.String).str.slice(0, 80), pl.lit(expected)))))
        exprs.append(cast.alias(name))
    # One pass tells which columns lost a value; only those carry a message.
    lost_any = frame.select([lost.any().alias(str(i)) for i, (lost, _) in enumerate(checks)]).row(0) if checks else ()
    messages = [m for (_, m), hit in zip(checks, lost_any, strict=True) if hit]
    out = frame.with_columns([m.alias(f"_m{i}") for i, m in enumerate(messages)]).with_columns(exprs)
    out = boundary.add_errors(out, [f"_m{i}" for i in range(len(messages))])
    out = boundary.validate_ranges(out)
    out = boundary.footnote_implies_listed(out)
    if "row" not in out.columns:
        return out.with_row_index("row")  # UInt32 already
    return out if out.schema["row"] == pl.UInt32 else out.with_columns(pl.col("row").cast(pl.UInt32))


def derived_numbers() -> dict[str, pl.Expr]:
    """TPP from MacTOPS when not given (2 x MacTOPS x bit length), then performance density: computed on
    every row by the engine (they are outputs) and again, unchanged, by ``derive``."""
    tpp = pl.coalesce(pl.col("tpp"), 2 * pl.col("mac_tops") * pl.col("bit_length"))
    area = pl.col("die_area_mm2")
    return {
        "tpp": tpp,
        "performance_density": pl.coalesce(pl.col("performance_density"), pl.when(area > 0).then(tpp / area)),
    }


def _cast(col: pl.Expr, have: pl.DataType, dtype: pl.DataType) -> tuple[pl.Expr, str]:
    """Casts that keep the meaning of a value; anything else becomes null (and an input error): a
    number is no date, ``2`` is not a yes/no, ``True`` is not a TPP, ``4.5`` is no footnote."""
    numeric = have.is_numeric()
    if dtype == pl.String():
        return col.cast(pl.String), "text"
    if dtype == pl.Float64() and numeric:
        return col.cast(pl.Float64), "a number"
    if dtype == pl.Int8() and numeric:
        return pl.when(col == col.floor()).then(col.cast(pl.Int8, strict=False)), "a whole number"
    if dtype == pl.Boolean() and numeric:
        return pl.when(col == 1).then(True).when(col == 0).then(False), "true/false (1/0)"
    if dtype == pl.Date() and isinstance(have, pl.Datetime):
        return col.cast(pl.Date), "a date"
    if have == pl.Null():
        return col.cast(dtype), str(dtype)
    return pl.lit(None, dtype), _EXPECTED.get(dtype, str(dtype))


_EXPECTED = {pl.Float64(): "a number", pl.Boolean(): "true/false", pl.Date(): "a date", pl.Int8(): "a whole number"}


def derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalise and check the facts against their vocabularies (on the distinct signatures, so it is
    cheap), then TPP from MacTOPS when not given (2 x MacTOPS x bit length), then performance density.

    A value outside its vocabulary or range becomes unknown and is named in ``input_error``."""
    from carveout import boundary

    frame = boundary.validate_frame(frame.drop("error", strict=False), error="input_error")
    return frame.with_columns(
        **derived_numbers(),
        # Facts only the user can add (an is-informed letter, a red flag, a licence in hand, U.S.-person
        # support): absent means none was reported.
        is_informed=pl.col("is_informed").fill_null(False),
        red_flag=pl.col("red_flag").fill_null(False),
        licence_on_file=pl.col("licence_on_file").fill_null(False),
        us_person_support=pl.col("us_person_support").fill_null(False),
        mofcom_licence_on_file=pl.col("mofcom_licence_on_file").fill_null(False),
        material=pl.col("material").str.to_lowercase().str.strip_chars().replace("", None),
        # "unknown" is a value a user may write; to the rules it is the same as not knowing.
        end_use=pl.when(pl.col("end_use") == "unknown").then(None).otherwise(pl.col("end_use")),
    )


def fail_closed(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose input had an error (``error`` from a reader or ``conform``, ``input_error`` from the
    vocabulary checks) come out ``needs_review`` naming it, whatever the rules said: a bad input can make a
    rule read "not controlled", so its verdict cannot stand."""
    from carveout import boundary

    if "input_error" in frame.columns:
        frame = boundary.add_errors(frame, ["input_error"])
    if "error" not in frame.columns:
        return frame.with_columns(error=pl.lit(None, pl.String))
    if frame.get_column("error").null_count() == frame.height:
        return frame
    bad = pl.col("error").is_not_null()
    return frame.with_columns(
        license_required=pl.when(bad).then(pl.lit("needs_review")).otherwise(pl.col("license_required")),
        missing=pl.when(bad & ~pl.col("missing").list.contains(INPUT_ERROR))
        .then(pl.col("missing").list.concat(pl.lit([INPUT_ERROR])))
        .otherwise(pl.col("missing")),
    )
