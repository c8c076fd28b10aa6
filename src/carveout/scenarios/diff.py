"""Scenario diff: the same ledger under two rule sets, the rows whose verdict changes, and aggregates.

Both sides are evaluated by ``engine.evaluate`` on the same day: by default the later of today and the
scenario's ``effective`` day (the ledger is read as a pattern of trade and projected to the day the variant
would apply, "from now on"), or each row's own date with ``as_of="rows"``, or any given date.

Annual caps (``caps:`` in a scenario) are applied after evaluation: rows authorized by a capped rule at
the capped facility are taken in date order within each calendar year (of the row's own date); while the
running total including the row stays within the cap the row stays authorized, and from the first row
that crosses the cap on, the rows are licensed (``license_required = yes``, reason
``scenario.cap_exceeded``). Value within the cap is authorized, value above it is licensed; the crossing
row counts as licensed in full (conservative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from carveout import engine
from carveout.asof import as_date
from carveout.scenarios.compile import Compiled, compile_scenario
from carveout.scenarios.data import facilities
from carveout.scenarios.model import Scenario, load

CAP_REASON = "scenario.cap_exceeded"
VERDICT_COLUMNS = ("license_required", "reasons", "authorization", "review_policy", "license_exceptions")
KEY_COLUMNS = ("row", "date", "exporter", "exporter_hq_country", "item_name", "eccn", "destination",
               "end_user_name", "end_user_country", "end_user_hq_country", "facility_id", "end_use", "value_usd")
DIMENSIONS = {
    "exporter": "exporter",
    "end_user": "end_user_name",
    "facility": "facility_id",
    "company": "company",
    "destination": "destination",
    "eccn": "eccn",
}

ScenarioRef = str | Path | Scenario | Compiled


def as_compiled(ref: ScenarioRef) -> Compiled:
    if isinstance(ref, Compiled):
        return ref
    if isinstance(ref, Scenario):
        return compile_scenario(ref)
    return compile_scenario(load(ref))


def resolve_day(compiled: Compiled, as_of: date | str | None) -> date | None:
    if as_of == "rows":
        return None
    if as_of is None:  # from now on: the later of today and the day the variant takes effect
        return max(compiled.effective, date.today())
    return as_date(as_of)


def apply_caps(out: pl.DataFrame, compiled: Compiled) -> pl.DataFrame:
    """Value within each site's annual cap stays authorized; rows from the one crossing it are licensed."""
    if not compiled.caps or out.is_empty():
        return out
    reasons = pl.col("reasons").cast(pl.List(pl.String))
    year = pl.coalesce(pl.col("date"), pl.col("day")).dt.year()
    out = out.with_columns(_over=pl.lit(False), _year=year)
    for rid, cap in compiled.caps:
        covered = (reasons.list.contains(rid) & (pl.col("facility_id") == cap.facility_id)
                   & (pl.col("license_required") == "no")).fill_null(False)
        run = (pl.when(covered).then(pl.col("value_usd").fill_null(0.0)).otherwise(0.0)
               .cum_sum().over("_year", order_by=[pl.col("date"), pl.col("row")]))
        out = out.with_columns(_over=pl.col("_over") | (covered & (run > cap.annual_cap_usd)))
    enum = out.schema["reasons"]
    cats = list(enum.inner.categories) if isinstance(enum, pl.List) and isinstance(enum.inner, pl.Enum) else []
    if CAP_REASON not in cats:
        new_enum = pl.Enum(cats + [CAP_REASON])
        out = out.with_columns(reasons=pl.col("reasons").cast(pl.List(pl.String)).cast(pl.List(new_enum)))
    else:
        new_enum = enum.inner
    return out.with_columns(
        license_required=pl.when("_over").then(pl.lit("yes")).otherwise(pl.col("license_required")),
        authorization=pl.when("_over").then(None).otherwise(pl.col("authorization")),
        reasons=pl.when("_over").then(
            pl.col("reasons").list.concat(pl.lit([CAP_REASON], dtype=pl.List(new_enum)))
        ).otherwise(pl.col("reasons")),
    ).drop("_over", "_year")


def evaluate_scenario(frame: pl.DataFrame, ref: ScenarioRef, as_of: date | str | None = None,
                      *, screen: bool = True) -> pl.DataFrame:
    """``engine.evaluate`` under the scenario's RuleSet, then its caps."""
    compiled = as_compiled(ref)
    out = engine.evaluate(frame, as_of=resolve_day(compiled, as_of), ruleset=compiled.ruleset, screen=screen)
    return apply_caps(out, compiled)


def with_company(frame: pl.DataFrame) -> pl.DataFrame:
    """Company owning the facility (facilities.csv), else the end user's name."""
    fac = facilities().select("facility_id", pl.col("company").alias("_company"),
                              pl.col("company_hq_country").alias("_company_hq"))
    out = frame.join(fac, on="facility_id", how="left", maintain_order="left")
    return out.with_columns(
        company=pl.coalesce(pl.col("_company"), pl.col("end_user_name"), pl.lit("(unknown)")),
        company_hq_country=pl.coalesce(pl.col("_company_hq"), pl.col("end_user_hq_country")),
        company_from=pl.when(pl.col("_company").is_not_null()).then(pl.lit("facilities.csv"))
        .otherwise(pl.lit("end user")),
    ).drop("_company", "_company_hq")


@dataclass
class DiffResult:
    """Rows whose verdict changes, with reasons on both sides, and aggregates by dimension."""

    scenario: str
    against: str
    as_of: date | None
    rows: pl.DataFrame
    aggregates: dict[str, pl.DataFrame] = field(default_factory=dict)
    base: pl.DataFrame | None = None  # the evaluated ledger on the `against` side
    other: pl.DataFrame | None = None  # ... and on the scenario side
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.rows.is_empty()

    def __len__(self) -> int:
        return self.rows.height

    def summary(self) -> dict[str, Any]:
        r = self.rows
        newly = r.filter(pl.col("to") == "yes")
        cleared = r.filter(pl.col("from") == "yes")
        return {
            "scenario": self.scenario, "against": self.against, "as_of": self.as_of,
            "rows_changed": r.height,
            "newly_licensed_rows": newly.height,
            "newly_licensed_value_usd": float(newly.get_column("value_usd").fill_null(0).sum()),
            "cleared_rows": cleared.height,
            "cleared_value_usd": float(cleared.get_column("value_usd").fill_null(0).sum()),
        }

    def write(self, path: str | Path) -> Path:
        """Changed rows to Parquet or CSV (lists joined with '; ' in CSV)."""
        path = Path(path)
        if path.suffix == ".parquet":
            self.rows.write_parquet(path)
        elif path.suffix == ".csv":
            flat = self.rows.with_columns(
                [pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c, t in self.rows.schema.items()
                 if isinstance(t, pl.List)])
            flat.write_csv(path)
        else:
            raise ValueError(f"{path}: write .parquet or .csv")
        return path


def _verdict_view(out: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return out.select(
        "row",
        *[pl.col(c).cast(pl.List(pl.String)).alias(f"{prefix}_{c}") if c in ("reasons", "license_exceptions")
          else pl.col(c).alias(f"{prefix}_{c}") for c in VERDICT_COLUMNS],
    )


def diff(ledger: pl.DataFrame, scenario: ScenarioRef, against: ScenarioRef = "baseline",
         as_of: date | str | None = None, *, screen: bool = True) -> DiffResult:
    """Rows of ``ledger`` whose licence verdict differs between ``against`` and ``scenario``.

    ``as_of``: None = the later of today and the scenario's effective day (both sides), "rows" = each
    row's own date, or a date.
    """
    sc = as_compiled(scenario)
    base = as_compiled(against)
    day = resolve_day(sc, as_of)
    a = evaluate_scenario(ledger, base, day if as_of != "rows" else "rows", screen=screen)
    b = evaluate_scenario(ledger, sc, day if as_of != "rows" else "rows", screen=screen)
    changed, aggs = compare(a, b)
    return DiffResult(sc.scenario.name, base.scenario.name, day, changed, aggs, a, b, sc.warnings)


def compare(a: pl.DataFrame, b: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """Rows of two evaluations of one ledger whose verdict differs (``from`` = a, ``to`` = b), with
    reasons on both sides, and the aggregates by dimension. Shared by ``scenario diff`` and ``changes``."""
    keys = [c for c in KEY_COLUMNS if c in b.columns]
    joined = (b.select(keys).join(_verdict_view(a, "base"), on="row", how="left")
              .join(_verdict_view(b, "scen"), on="row", how="left"))
    changed = joined.filter(pl.col("base_license_required").ne_missing(pl.col("scen_license_required")))
    changed = with_company(changed).with_columns(
        pl.col("base_license_required").alias("from"), pl.col("scen_license_required").alias("to"))
    return changed, {name: aggregate(changed, col) for name, col in DIMENSIONS.items()}


def aggregate(changed: pl.DataFrame, by: str) -> pl.DataFrame:
    v = pl.col("value_usd").fill_null(0.0)
    return (
        changed.group_by(by)
        .agg(
            rows=pl.len(),
            newly_licensed_rows=(pl.col("to") == "yes").sum(),
            newly_licensed_value_usd=v.filter(pl.col("to") == "yes").sum(),
            cleared_rows=(pl.col("from") == "yes").sum(),
            cleared_value_usd=v.filter(pl.col("from") == "yes").sum(),
            to_review_rows=(pl.col("to") == "needs_review").sum(),
        )
        .with_columns(net_value_usd=pl.col("newly_licensed_value_usd") - pl.col("cleared_value_usd"))
        .sort("newly_licensed_value_usd", "cleared_value_usd", descending=True)
    )


Side = Literal["base", "scen"]
