"""The embedded data shipped inside the package, each file with its sources beside it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import polars as pl


def data_path(name: str) -> Path:
    return Path(str(resources.files("carveout") / "data" / name))


def chips() -> pl.DataFrame:
    """Real chips with published specs (data/chips.csv; figures marked derived/estimate there)."""
    raw = pl.read_csv(data_path("chips.csv"), infer_schema_length=0)
    num = ["mac_tops", "bit_length", "tpp", "die_area_mm2", "interconnect_gb_s", "memory_bandwidth_gb_s",
           "package_area_mm2", "memory_bandwidth_density_gb_s_mm2"]
    return raw.with_columns(
        [pl.col(c).cast(pl.Float64, strict=False) for c in num]
        + [pl.col("marketed_for_datacenter").str.to_lowercase().replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean)]
    ).rename({"name": "item_name", "kind": "item_kind"})


def example_ledger_path() -> Path:
    return data_path("ledger_example.csv")
