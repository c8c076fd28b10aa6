"""Typed inputs and outputs at the edges; inside, everything is the Polars facts frame."""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from carveout import boundary
from carveout.facts import ITEM_KINDS
from carveout.materials import MATERIALS

EquipmentType = Literal["lithography", "etch", "deposition", "ion_implantation", "inspection", "other"]
Kind = Literal["ic", "computer", "hbm", "equipment", "software", "technology", "material", "other"]
assert set(ITEM_KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]


class _Strict(BaseModel):
    # extra="forbid": a misspelled key is an error, not a fact silently left unknown; no NaN or infinity.
    model_config = ConfigDict(extra="forbid", strict=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: object, info: ValidationInfo) -> object:
        """``true`` is not a TPP: lax Pydantic would read it as 1."""
        if isinstance(value, bool):
            ann = cls.model_fields[info.field_name].annotation if info.field_name else None
            if ann in _NUMBER_TYPES or set(get_args(ann)) & set(_NUMBER_TYPES):
                raise ValueError(f"{info.field_name}: {value!r} is not a number")
        return value


_NUMBER_TYPES = (int, float)


def _checked(check):
    """A Pydantic pre-validator running one of the boundary's vocabulary checks (None passes: unknown)."""
    def run(value: object, info: ValidationInfo) -> object:
        return None if value is None else check(value, info.field_name or "value")
    return BeforeValidator(run)


Country = Annotated[str | None, _checked(boundary.country)]
Eccn = Annotated[str | None, _checked(boundary.eccn)]


class Precision(_Strict):
    mac_tops: float = Field(ge=0, description="dense MacTOPS at this bit length")
    bit_length: int = Field(gt=0, le=128)


class ProcessingUnit(_Strict):
    name: str | None = None
    mac_tops: float | None = Field(default=None, ge=0)
    bit_length: int | None = Field(default=None, gt=0, le=128)
    precisions: list[Precision] | None = None

    def tpp(self) -> float | None:
        options = [2 * x.mac_tops * x.bit_length for x in self.precisions or []]
        if self.mac_tops is not None and self.bit_length is not None:
            options.append(2 * self.mac_tops * self.bit_length)
        return max(options) if options else None


class SmeSpec(_Strict):
    """Semiconductor manufacturing equipment described by the parameters the CCL entries test (3B001,
    3B993, 3B994); the classification rules are in rules/part774_sme.py and name any parameter missing."""

    equipment_type: EquipmentType | None = None
    wafer_diameter_mm: float | None = Field(default=None, gt=0)
    litho_wavelength_nm: float | None = Field(default=None, gt=0, description="light source wavelength")
    litho_mrf_nm: float | None = Field(default=None, gt=0, description="minimum resolvable feature size")
    litho_overlay_nm: float | None = Field(default=None, ge=0, description="maximum dedicated chuck overlay")
    etch_mode: Literal["isotropic", "anisotropic"] | None = None
    etch_sige_si_selectivity: float | None = Field(default=None, ge=0, description="largest SiGe:Si selectivity (x:1)")
    etch_dielectric: bool | None = Field(default=None, description="designed to etch dielectric material")
    etch_aspect_ratio: float | None = Field(default=None, ge=0, description="aspect ratio enabled (x:1)")
    etch_top_cd_nm: float | None = Field(default=None, ge=0, description="lateral dimension on the top surface")
    deposition_carbon_cvd: bool | None = Field(default=None, description="CVD of a carbon material layer")
    deposition_film_density_g_cm3: float | None = Field(default=None, ge=0)
    implant_beam_current_ma: float | None = Field(default=None, ge=0)
    implant_beam_energy_kev: float | None = Field(default=None, ge=0)
    implant_angular_accuracy_deg: float | None = Field(default=None, ge=0)
    inspection_patterned_wafer_defects: bool | None = Field(
        default=None, description="patterned-wafer defect inspection or metrology")
    inspection_defect_size_nm: float | None = Field(default=None, ge=0, description="smallest defect detected")
    inspection_advanced_source: bool | None = Field(
        default=None, description="light source < 400 nm, e-beam resolution <= 1.65 nm, a CFE source or >= 2 e-beams")


class ItemSpec(_Strict):
    """An item as a compliance officer describes it from its datasheet."""

    kind: Annotated[Kind | None, _checked(boundary.item_kind)] = None
    name: str | None = None
    eccn: Eccn = Field(default=None, description="declared ECCN, when classified elsewhere")
    base_eccn: Eccn = Field(default=None, description="ECCN it would otherwise have (for .z)")
    tpp: float | None = Field(default=None, ge=0)
    mac_tops: float | None = Field(default=None, ge=0)
    bit_length: int | None = Field(default=None, gt=0, le=128)
    precisions: list[Precision] | None = None
    processing_units: list[ProcessingUnit] | None = None
    die_area_mm2: float | None = Field(default=None, ge=0)
    marketed_for_datacenter: bool | None = None
    interconnect_gb_s: float | None = Field(default=None, ge=0)
    memory_bandwidth_density_gb_s_mm2: float | None = Field(default=None, ge=0)
    memory_bandwidth_gb_s: float | None = Field(default=None, ge=0)
    package_area_mm2: float | None = Field(default=None, gt=0)
    material: str | None = Field(default=None, description="PRC rules: one of carveout.materials.MATERIALS")
    rare_earth_content_pct: float | None = Field(
        default=None, ge=0, le=100, description="value share of China-origin rare earths (2025 No. 61), %")

    @model_validator(mode="after")
    def _material(self) -> ItemSpec:
        if self.material is not None and self.material.strip().lower() not in MATERIALS:
            raise ValueError(f"material {self.material!r} is not in the vocabulary (carveout.materials); "
                             "use 'other' for a material it does not name")
        return self
    contains: list[ItemSpec] | None = Field(
        default=None, description="ICs (or modules) inside a computer, assembly or module, each with specs or an "
        "ECCN: 4A090/.z are decided from them (carveout.contains)")
    below_5g_level: bool | None = Field(
        default=None, description="the item works below the 5G level (Huawei entries' case-by-case policy)")
    sme: SmeSpec | None = Field(default=None, description="equipment parameters the CCL SME entries test")

    def computed_tpp(self) -> float | None:
        """TPP as given, else 2 x MacTOPS x bit length: max over precisions, summed over units."""
        if self.tpp is not None:
            return self.tpp
        if self.processing_units:
            per_unit = [u.tpp() for u in self.processing_units]
            return None if any(t is None for t in per_unit) else sum(per_unit)  # type: ignore[arg-type]
        return ProcessingUnit(mac_tops=self.mac_tops, bit_length=self.bit_length,
                              precisions=self.precisions).tpp()

    def computed_mbd(self) -> float | None:
        if self.memory_bandwidth_density_gb_s_mm2 is not None:
            return self.memory_bandwidth_density_gb_s_mm2
        if self.memory_bandwidth_gb_s is not None and self.package_area_mm2:
            return self.memory_bandwidth_gb_s / self.package_area_mm2
        return None

    def facts(self) -> dict:
        return {
            "item_name": self.name,
            "item_kind": self.kind,
            "eccn_declared": self.eccn,
            "base_eccn": self.base_eccn,
            "tpp": self.computed_tpp(),
            "die_area_mm2": self.die_area_mm2,
            "marketed_for_datacenter": self.marketed_for_datacenter,
            "interconnect_gb_s": self.interconnect_gb_s,
            "memory_bandwidth_density_gb_s_mm2": self.computed_mbd(),
            "memory_bandwidth_gb_s": self.memory_bandwidth_gb_s,
            "material": self.material,
            "rare_earth_content_pct": self.rare_earth_content_pct,
            "below_5g_level": self.below_5g_level,
            **(self.sme or SmeSpec()).model_dump(),
        }


class EndUser(_Strict):
    name: str | None = None
    country: Country = None
    headquarters_country: Country = None
    entity_list_footnote: int | None = None
    listed: bool | None = None
    affiliate_of_listed: bool | None = Field(
        default=None, description="owned 50 % or more by listed parties (Affiliates rule, 744.11(a)(3))")
    majority_owned_by_d5_hq: bool | None = Field(
        default=None, description="majority-owned by an entity headquartered in Macau or D:5 (744.23(d)(2))")
    jv_allied: bool | None = Field(
        default=None, description="joint venture with unrestricted partners headquartered in the U.S. or A:5/A:6")
    owned_by_sdn: bool | None = Field(default=None, description="owned 50 % or more by an SDN covered by 744.8")

    @model_validator(mode="after")
    def _footnote(self) -> EndUser:
        """A footnote is part of an Entity List entry: it implies listed, and contradicts listed: false."""
        self.listed = boundary.footnote_listed(self.entity_list_footnote, self.listed)
        return self


class Origin(_Strict):
    us_origin: bool | None = None
    us_controlled_content_pct: float | None = Field(default=None, ge=0, le=100)
    direct_product_of_us_technology: bool | None = None
    produced_by_us_origin_plant: bool | None = None
    contains_us_ic: bool | None = None
    cn_origin: bool | None = None
    made_with_cn_re_technology: bool | None = None
    listed_by_first_exporting_country: bool | None = Field(
        default=None, description="the country the item is first exported from lists it on its own control list "
        "(734.4(a)(3))")


class Transaction(_Strict):
    """One shipment line. Unknown facts stay None and lead to needs_review, never to 'no'."""

    date: dt.date | None = None
    item: ItemSpec
    exporter: str | None = None
    exporter_hq_country: Country = None
    ship_from: Country = None
    transaction_type: Annotated[Literal["export", "reexport", "in-country transfer"] | None,
                                _checked(boundary.transaction_type)] = None
    destination: Country = None
    end_user: EndUser = Field(default_factory=EndUser)
    end_use: Annotated[str | None, _checked(boundary.end_use)] = None
    facility_id: str | None = None
    origin: Origin = Field(default_factory=Origin)
    value_usd: float | None = Field(default=None, ge=0)
    quantity: float | None = Field(default=None, ge=0)
    is_informed: bool | None = None
    red_flag: bool | None = None
    us_person_support: bool | None = None
    licence_on_file: bool | None = None
    veu_item_eligible: bool | None = Field(
        default=None, description="the item is on the facility's VEU eligible-item list (Supp. 7 to part 748)")
    mofcom_licence_on_file: bool | None = None
    end_use_logic_nm: float | None = Field(default=None, gt=0)
    end_use_memory_layers: float | None = Field(default=None, gt=0)
    bought_by_copackage_designer: bool | None = Field(
        default=None, description="HBM bought directly by the designer of the IC it is co-packaged with (740.25(c))")
    to_distributor: bool | None = Field(default=None, description="consignee or purchaser is a distributor (740.25(d))")
    en_route_on: dt.date | None = Field(
        default=None, description="day the item was loaded aboard a carrier to the port of export (savings clauses)")
    for_use_outside_prc: bool | None = Field(
        default=None, description="items produced with this shipment go to end users outside the PRC/Macau (2022 TGL)")

    def facts(self) -> dict:
        eu = self.end_user
        item = self.item
        if item.contains and self.date is not None:  # a computer or module: facts of its most capable IC
            from carveout.contains import resolve_contains  # late: contains evaluates through the engine

            item = resolve_contains(item, self.date)
        return {
            "date": self.date,
            **item.facts(),
            **self.origin.model_dump(),
            "exporter": self.exporter,
            "exporter_hq_country": self.exporter_hq_country,
            "ship_from": self.ship_from,
            "transaction_type": self.transaction_type,
            "destination": self.destination,
            "end_user_name": eu.name,
            "end_user_country": eu.country,
            "end_user_hq_country": eu.headquarters_country,
            "end_user_listed": eu.listed,
            # not listed means no footnote; listed without a footnote stated leaves the footnote unknown
            "entity_list_footnote": eu.entity_list_footnote
            if eu.entity_list_footnote is not None else (0 if eu.listed is False else None),
            "end_user_affiliate_of_listed": eu.affiliate_of_listed,
            "end_user_majority_owned_by_d5_hq": eu.majority_owned_by_d5_hq,
            "end_use": self.end_use,
            "facility_id": self.facility_id,
            "value_usd": self.value_usd,
            "quantity": self.quantity,
            "is_informed": self.is_informed,
            "red_flag": self.red_flag,
            "us_person_support": self.us_person_support,
            "licence_on_file": self.licence_on_file,
            "veu_item_eligible": self.veu_item_eligible,
            "mofcom_licence_on_file": self.mofcom_licence_on_file,
            "end_use_logic_nm": self.end_use_logic_nm,
            "end_use_memory_layers": self.end_use_memory_layers,
            "bought_by_copackage_designer": self.bought_by_copackage_designer,
            "to_distributor": self.to_distributor,
            "en_route_on": self.en_route_on,
            "end_user_jv_allied": eu.jv_allied,
            "end_user_owned_by_sdn": eu.owned_by_sdn,
            "for_use_outside_prc": self.for_use_outside_prc,
        }


class Reason(BaseModel):
    rule: str
    citation: str
    summary: str
    source: str | None = None
    facts: dict[str, object] = Field(default_factory=dict)


class Classification(BaseModel):
    name: str | None
    eccn: str | None
    classification: str | None
    status: Literal["classified", "needs_review"]
    missing: list[str]
    reasons: list[Reason]
    tpp: float | None
    performance_density: float | None
    as_of: date
    rules_version: str


class ConditionalAnswer(BaseModel):
    """The verdict if a missing fact had this value (``if``); ``also`` lists other values with the same
    answer, ``range`` the span of a number between the rules' thresholds."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    if_: dict[str, Any] = Field(alias="if")
    license_required: Literal["yes", "no", "needs_review"]
    reasons: list[str]
    eccn: str | None = None
    range: str | None = None
    also: list[Any] = Field(default_factory=list)
    values: int | None = Field(default=None, description="how many values share this answer, when many")
    missing: list[str] = Field(default_factory=list)


class Determination(BaseModel):
    license_required: Literal["yes", "no", "needs_review"]
    eccn: str | None
    classification: str | None
    reasons: list[Reason]
    missing: list[str]
    license_exceptions: list[str]
    authorization: str | None
    review_policy: str | None
    as_of: date
    rules_version: str
    conditional: list[ConditionalAnswer] = Field(
        default_factory=list, description="needs_review only: the verdict under each value of a missing fact")


def fact_paths() -> dict[str, str]:
    """Facts-frame column -> dotted path of the field in a Transaction document that sets it.

    The one mapping between the flat facts (ledgers, the frame) and the nested document (JSON, the API,
    the UI form), derived from the models so a new field cannot be forgotten in one door: the item's own
    words (name, kind, eccn) and the end user's short names are the only renames.
    """
    from carveout.facts import SCHEMA

    renames = {
        "item": {"name": "item_name", "kind": "item_kind", "eccn": "eccn_declared"},
        "end_user": {"name": "end_user_name", "country": "end_user_country",
                     "headquarters_country": "end_user_hq_country", "entity_list_footnote": "entity_list_footnote"},
    }
    paths: dict[str, str] = {}
    for f in Transaction.model_fields:
        if f in SCHEMA:
            paths[f] = f
    for f in ItemSpec.model_fields:
        col = renames["item"].get(f, f)
        if col in SCHEMA:
            paths[col] = f"item.{f}"
    for f in SmeSpec.model_fields:
        if f in SCHEMA:
            paths[f] = f"item.sme.{f}"
    for f in Origin.model_fields:
        if f in SCHEMA:
            paths[f] = f"origin.{f}"
    for f in EndUser.model_fields:
        col = renames["end_user"].get(f, f"end_user_{f}")
        if col in SCHEMA:
            paths[col] = f"end_user.{f}"
    return paths


def document_of(facts: dict) -> dict:
    """The nested Transaction document for flat facts (None values left out); not yet validated."""
    doc: dict = {"item": {}}
    paths = fact_paths()
    for col, value in facts.items():
        if value is None or col not in paths:
            continue
        node = doc
        *parents, leaf = paths[col].split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return doc
