"""Company profiles: facts a rule cannot see for itself, kept per company and dated.

An "is-informed" letter from BIS attaches to one exporter (and usually to some items and destinations);
a known red flag or a licence in hand attaches to a party. A profile file lists such facts; applying it
sets the matching fact on the matching ledger rows, and the rule that reads the fact gives the reason.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROFILE_FACTS = ("is_informed", "red_flag", "licence_on_file", "us_person_support")


class ProfileFact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fact: Literal["is_informed", "red_flag", "licence_on_file", "us_person_support"]
    exporter: str | None = Field(default=None, description="applies to shipments by this exporter")
    end_user: str | None = Field(default=None, description="applies to shipments to this end user")
    effective: date | None = None
    until: date | None = None
    destinations: list[str] | None = Field(default=None, description="ISO-2 codes; none = any")
    items: list[str] | None = Field(default=None, description="item names or ECCN prefixes; none = any item")
    note: str = ""
    source: str = ""


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facts: list[ProfileFact]


class ProfileError(ValueError):
    pass


def load_profile(path: str | Path) -> Profile:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return Profile.model_validate(data)
    except OSError as exc:
        raise ProfileError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        e = exc.errors()[0]
        raise ProfileError(f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from None


def apply_profile(frame: pl.DataFrame, profile: Profile | None) -> pl.DataFrame:
    """Set each profile fact to True on the rows it matches (names compared case-insensitively)."""
    if profile is None or not profile.facts:
        return frame
    day = pl.col("date") if "date" in frame.columns else pl.lit(date.today())
    notes = []
    for pf in profile.facts:
        cond = pl.lit(True)
        if pf.exporter:
            cond &= _col(frame, "exporter").str.to_lowercase() == pf.exporter.lower()
        if pf.end_user:
            cond &= _col(frame, "end_user_name").str.to_lowercase() == pf.end_user.lower()
        if pf.effective:
            cond &= day >= pf.effective
        if pf.until:
            cond &= day <= pf.until
        if pf.destinations:
            cond &= _col(frame, "destination").str.to_uppercase().is_in([d.upper() for d in pf.destinations])
        if pf.items:
            name = _col(frame, "item_name").str.to_lowercase()
            eccn = _col(frame, "eccn_declared").fill_null("")
            cond &= pl.any_horizontal(
                [(name == it.lower()) | eccn.str.starts_with(it) for it in pf.items]
            )
        cond = cond.fill_null(False)
        current = _col(frame, pf.fact, pl.Boolean)
        frame = frame.with_columns(pl.when(cond).then(True).otherwise(current).alias(pf.fact))
        notes.append(pl.when(cond).then(pl.lit(f"{pf.fact}: {pf.note or pf.source}")))
    return frame.with_columns(profile_note=pl.concat_str(notes, separator="; ", ignore_nulls=True).replace("", None))


def _col(frame: pl.DataFrame, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype)
