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
    ).rename({"name": "item_name", "kind": "item_kind"}).pipe(_fill_from_contained)


_IC_COLUMNS = ("mac_tops", "bit_length", "tpp", "die_area_mm2", "marketed_for_datacenter", "interconnect_gb_s",
               "memory_bandwidth_gb_s")


def _fill_from_contained(cat: pl.DataFrame) -> pl.DataFrame:
    """A computer row names the chip it contains (``contains``): its IC figures are that chip's, so 4A090 is
    decided from the GPU itself (one contained chip type per row; carveout.contains handles mixed lists)."""
    if "contains" not in cat.columns:
        return cat
    ics = cat.select(pl.col("item_name").alias("contains"), *[pl.col(c).alias(f"_ic_{c}") for c in _IC_COLUMNS])
    out = cat.join(ics, on="contains", how="left")
    return out.with_columns(
        [pl.coalesce(pl.col(c), pl.col(f"_ic_{c}")).alias(c) for c in _IC_COLUMNS]
    ).drop([f"_ic_{c}" for c in _IC_COLUMNS])


def example_ledger_path() -> Path:
    return data_path("ledger_example.csv")
