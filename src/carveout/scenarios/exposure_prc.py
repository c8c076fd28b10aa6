"""PRC-side exposure: the inputs under PRC export control, set beside the U.S.-side exposure.

Per input (``data/prc_inputs.csv``): Korea's import share from China (low/high, sourced or marked
estimate; null where not found, never 0) and whether exporting it from China needs a PRC licence on the
day, under the baseline or a scenario (the PRC rules in ``rules/prc``, the one ``engine.evaluate``).

Per company: the inputs its home fabs import that need a PRC licence that day, and the highest China
share among them. Korean import shares stand for Samsung's and SK hynix's home fabs (company volumes were
not found); for firms headquartered elsewhere the shares were not found and stay null.

Per China fab: its inputs bought inside China are not exports, so PRC export controls do not reach them;
what does reach it is 2025 No. 61 on foreign-made rare-earth targets shipped in from third countries, with
the review policy for the fab's end use (case by case for logic <= 14 nm or memory >= 256 layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import polars as pl

from carveout import engine

# Fab end-use facts No. 61's review policy reads (node or layer count of the line the input serves).
FAB_END_USE = {
    "SAMSUNG-XIAN": {"end_use_memory_layers": 286.0, "why": "V9 (286L) conversion of X2 from 2Q26 (ZDNet Korea, B)"},
    "SKH-DALIAN": {"end_use_memory_layers": 192.0, "why": "192L FG NAND; Fab 2 mid-200L from H2 2027 (B)"},
    "YMTC-WUHAN": {"end_use_memory_layers": 270.0, "why": "270-layer technology reported 2026 (facilities.csv)"},
    "TSMC-NANJING": {"end_use_logic_nm": 12.0, "why": "16/12 nm FinFET (facilities.csv)"},
    "SMIC-SHANGHAI-SN": {"end_use_logic_nm": 7.0, "why": "advanced FinFET (facilities.csv)"},
}


@cache
def prc_inputs() -> pl.DataFrame:
    raw = (resources.files("carveout") / "data" / "prc_inputs.csv").read_bytes()
    return pl.read_csv(raw, infer_schema_length=0).with_columns(
        pl.col("china_share_low_pct", "china_share_high_pct", "import_value_usd").cast(pl.Float64),
        estimate=(pl.col("confidence").str.contains("estimate|C")
                  | (pl.col("china_share_low_pct") != pl.col("china_share_high_pct"))).fill_null(True),
    )


@dataclass
class PrcExposure:
    day: date
    label: str
    by_input: pl.DataFrame
    by_company: pl.DataFrame
    by_fab: pl.DataFrame


def prc_exposure(day: date, ruleset: engine.RuleSet | None = None) -> PrcExposure:
    """PRC-side exposure on ``day`` under ``ruleset`` (baseline or a compiled scenario; its CN rules)."""
    from carveout.api import frame_of
    from carveout.jurisdictions import evaluate_in
    from carveout.scenarios.data import facilities

    rs = ruleset or engine.BASELINE
    inp = prc_inputs()
    rows = [dict(date=day, item_kind="material", material=m, ship_from="CN", destination=c)
            for m, c in zip(inp["material"], inp["importer_country"], strict=True)]
    v = evaluate_in(frame_of(rows), "CN", day, rs)
    by_input = inp.with_columns(
        prc_licence=v["license_required"], prc_review_policy=v["review_policy"],
        prc_rules=v["reasons"].list.join(", "),
    )
    fac = facilities()
    companies = fac.select("company", "company_hq_country").unique().sort("company")
    kr = by_input.filter(pl.col("importer_country") == "KR")
    needs = kr.filter(pl.col("prc_licence") != "no")
    per_material = kr.unique("material")
    summary = dict(
        prc_inputs_licensed=int((per_material["prc_licence"] == "yes").sum()),
        prc_inputs_review=int((per_material["prc_licence"] == "needs_review").sum()),
        prc_china_share_low_pct=needs["china_share_low_pct"].max(),
        prc_china_share_high_pct=needs["china_share_high_pct"].max(),
        kr_import_value_usd=needs["import_value_usd"].sum() if needs["import_value_usd"].null_count() < needs.height
        else None,
    )
    by_company = companies.with_columns(
        *[pl.when(pl.col("company_hq_country") == "KR").then(pl.lit(val)).otherwise(None).alias(k)
          for k, val in summary.items()],
        prc_basis=pl.when(pl.col("company_hq_country") == "KR")
        .then(pl.lit("Korean import shares from China and Korea-wide import values (national data, 2022-24; "
                     "company volumes not found)"))
        .when(pl.col("company_hq_country") == "CN").then(pl.lit("domestic supply: not a PRC export"))
        .otherwise(pl.lit("import shares from China not found for this home country")),
        estimate=pl.lit(True),
    )
    fab_rows = []
    for r in fac.filter(pl.col("site_country") == "CN").iter_rows(named=True):
        facts = FAB_END_USE.get(r["facility_id"], {})
        fab_rows.append(dict(date=day, item_kind="material", material="rare_earth_sputtering_target",
                             rare_earth_content_pct=0.5, cn_origin=False, made_with_cn_re_technology=False,
                             ship_from="JP", destination="CN", facility_id=r["facility_id"],
                             end_use_memory_layers=facts.get("end_use_memory_layers"),
                             end_use_logic_nm=facts.get("end_use_logic_nm")))
    fv = evaluate_in(frame_of(fab_rows), "CN", day, rs)
    by_fab = fac.filter(pl.col("site_country") == "CN").select("facility_id", "company", "product_line").with_columns(
        prc_domestic_inputs=pl.lit("not a PRC export (bought inside China)"),
        prc_no61_foreign_target=fv["license_required"], prc_no61_policy=fv["review_policy"],
        prc_end_use_basis=pl.col("facility_id").replace_strict(
            {k: x["why"] for k, x in FAB_END_USE.items()}, default="node/layers not modelled"),
    )
    return PrcExposure(day, rs.label, by_input, by_company, by_fab)


def two_way(us_by_company: pl.DataFrame, day: date, baseline: engine.RuleSet | None,
            scenario: engine.RuleSet) -> pl.DataFrame:
    """U.S.-side (from ``exposure.exposure``) and PRC-side per company, baseline and scenario side by side."""
    base, var = prc_exposure(day, baseline), prc_exposure(day, scenario)
    us_schema = {"company": pl.String, "us_newly_licensed_value_usd": pl.Float64,
                 "us_share_of_output_low_pct": pl.Float64, "us_share_of_output_high_pct": pl.Float64}
    us = (us_by_company.group_by("company").agg(us_newly_licensed_value_usd=pl.col("newly_licensed_value_usd").sum(),
                                                us_share_of_output_low_pct=pl.col("share_of_output_low_pct").max(),
                                                us_share_of_output_high_pct=pl.col("share_of_output_high_pct").max())
          if us_by_company.height else pl.DataFrame(schema=us_schema))
    cols = ["company", "prc_inputs_licensed", "prc_inputs_review", "prc_china_share_low_pct",
            "prc_china_share_high_pct", "kr_import_value_usd", "prc_basis"]
    out = base.by_company.select(cols).join(
        var.by_company.select("company", pl.col("prc_inputs_licensed").alias("prc_inputs_licensed_scenario"),
                              pl.col("prc_inputs_review").alias("prc_inputs_review_scenario")),
        on="company", how="left")
    # Companies only in the U.S. diff (end users without a fab in facilities.csv) are kept too.
    out = out.join(us, on="company", how="full", coalesce=True).with_columns(
        us_newly_licensed_value_usd=pl.col("us_newly_licensed_value_usd").fill_null(0.0))
    return out.select("company", "us_newly_licensed_value_usd", "us_share_of_output_low_pct",
                      "us_share_of_output_high_pct", "prc_inputs_licensed", "prc_inputs_licensed_scenario",
                      "prc_inputs_review", "prc_inputs_review_scenario", "prc_china_share_low_pct",
                      "prc_china_share_high_pct", "kr_import_value_usd", "prc_basis").sort(
        "us_newly_licensed_value_usd", descending=True)


def two_way_for(res, scenario=None, against=None) -> pl.DataFrame:
    """Two-way exposure for a ``scenarios.diff`` result: its day, its ``against`` side and its scenario
    (``scenario``/``against``: the references the diff was run with, when they are files or objects)."""
    from carveout.scenarios.diff import as_compiled
    from carveout.scenarios.exposure import exposure

    sc = as_compiled(scenario if scenario is not None else res.scenario)
    day = res.as_of or max(sc.effective, date.today())
    ref = against if against is not None else res.against
    base = engine.BASELINE if ref == "baseline" else as_compiled(ref).ruleset
    return two_way(exposure(res).by_company, day, base, sc.ruleset)
