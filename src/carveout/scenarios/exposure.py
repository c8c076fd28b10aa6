"""Exposure of firms and fabs to a scenario: the diff joined with the sourced facilities dataset.

Per fab: value of shipments newly licensed (and cleared) by the scenario, the fab's capacity and its share
of the owner's output (low/high from :mod:`carveout.scenarios.data`), with provenance. Per company and
product line: the newly licensed value, the affected fabs, and the share of the company's output made at
them (sum of the affected fabs' shares within one product line, low/high). Shares of different product
lines (DRAM vs NAND) are never added together.

A fab is "affected" when at least one of its shipments is newly licensed. Where an input is an estimate,
the low/high columns carry the range and ``estimate`` is true.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from carveout.scenarios.data import company_exposure, facilities, korea_china_context
from carveout.scenarios.diff import DiffResult


@dataclass
class Exposure:
    by_fab: pl.DataFrame
    by_company: pl.DataFrame
    context: pl.DataFrame  # macro context: Korean chip exports to the PRC (sourced / estimate)


def exposure(result: DiffResult) -> Exposure:
    rows = result.rows.filter(pl.col("facility_id").is_not_null())
    v = pl.col("value_usd").fill_null(0.0)
    per_fab = rows.group_by("facility_id").agg(
        newly_licensed_rows=(pl.col("to") == "yes").sum(),
        newly_licensed_value_usd=v.filter(pl.col("to") == "yes").sum(),
        cleared_value_usd=v.filter(pl.col("from") == "yes").sum(),
    )
    fac = facilities()
    by_fab = (
        per_fab.join(fac, on="facility_id", how="left")
        .with_columns(
            company=pl.coalesce("company", pl.lit("(not in facilities.csv)")),
            estimate=(pl.col("confidence").str.to_lowercase().str.contains("estimate").fill_null(True)
                      | (pl.col("share_low_pct") != pl.col("share_high_pct")).fill_null(False)
                      | (pl.col("capacity_low") != pl.col("capacity_high")).fill_null(False)),
        )
        .select("facility_id", "company", "company_hq_country", "product_line", "newly_licensed_rows",
                "newly_licensed_value_usd", "cleared_value_usd", "capacity_low", "capacity_high",
                "capacity_basis", "share_low_pct", "share_high_pct", "share_basis", "share_text", "estimate",
                "confidence", "source")
        .sort("newly_licensed_value_usd", descending=True)
    )
    affected = by_fab.filter(pl.col("newly_licensed_value_usd") > 0)
    by_line = affected.group_by("company", "company_hq_country", "product_line").agg(
        fabs=pl.col("facility_id").sort(),
        newly_licensed_value_usd=pl.col("newly_licensed_value_usd").sum(),
        share_of_output_low_pct=pl.col("share_low_pct").sum(),  # null shares count as 0 in the low bound
        share_of_output_high_pct=pl.when(pl.col("share_high_pct").is_null().any()).then(None)
        .otherwise(pl.col("share_high_pct").sum()),
        capacity_low=pl.col("capacity_low").sum(),
        capacity_high=pl.when(pl.col("capacity_high").is_null().any()).then(None)
        .otherwise(pl.col("capacity_high").sum()),
        estimate=pl.col("estimate").any(),
    )
    # Rows without a known fab still count towards the company's value (end-user name as company).
    other = (result.rows.filter(pl.col("facility_id").is_null() & (pl.col("to") == "yes"))
             .group_by("company", "company_hq_country")
             .agg(newly_licensed_value_usd=v.sum())
             .with_columns(product_line=pl.lit("(no facility)"), fabs=pl.lit([], dtype=pl.List(pl.String)),
                           share_of_output_low_pct=pl.lit(None, pl.Float64),
                           share_of_output_high_pct=pl.lit(None, pl.Float64),
                           capacity_low=pl.lit(None, pl.Float64), capacity_high=pl.lit(None, pl.Float64),
                           estimate=pl.lit(False)))
    by_company = pl.concat([by_line, other.select(by_line.columns)], how="vertical_relaxed").sort(
        "newly_licensed_value_usd", descending=True)
    china = (company_exposure().filter(pl.col("metric").str.contains("China share"))
             .sort("period").group_by("company", maintain_order=True).last()
             .select("company", pl.col("value").alias("china_share_of_revenue_pct"),
                     pl.col("period").alias("china_share_period")))
    by_company = by_company.join(china, on="company", how="left")
    return Exposure(by_fab, by_company, korea_china_context())
