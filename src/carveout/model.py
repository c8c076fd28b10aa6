"""Typed inputs and outputs at the edges; inside, everything is the Polars facts frame."""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from carveout import boundary
from carveout.facts import ITEM_KINDS

Kind = Literal["ic", "computer", "hbm", "equipment", "software", "technology", "other"]
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
        }


class EndUser(_Strict):
    name: str | None = None
    country: Country = None
    headquarters_country: Country = None
    entity_list_footnote: int | None = None
    listed: bool | None = None
    affiliate_of_listed: bool | None = Field(
        default=None, description="owned 50 % or more by listed parties (Affiliates rule, 744.11(a)(3))")

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

    def facts(self) -> dict:
        eu = self.end_user
        return {
            "date": self.date,
            **self.item.facts(),
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
            "end_use": self.end_use,
            "facility_id": self.facility_id,
            "value_usd": self.value_usd,
            "quantity": self.quantity,
            "is_informed": self.is_informed,
            "red_flag": self.red_flag,
            "us_person_support": self.us_person_support,
            "licence_on_file": self.licence_on_file,
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
