"""A Rich table over the shipped scenarios: what each does to a ledger, against the baseline."""

from __future__ import annotations

import polars as pl
from rich.table import Table

from carveout.scenarios.diff import diff
from carveout.scenarios.model import builtin_names

SHIPPED = ("baseline", "veu_revoked_no_replacement", "site_licence_annual_caps", "sme_mature_memory_nodes",
           "hbm_threshold_lowered", "flexibility_package")


def _usd(v: float) -> str:
    for unit, div in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(v) >= div:
            return f"${v / div:,.1f}{unit}"
    return f"${v:,.0f}"


def summary_table(ledger: pl.DataFrame, scenarios: tuple[str, ...] | list[str] | None = None, *,
                  screen: bool = True) -> Table:
    """One row per scenario: rows changed, value newly licensed / cleared, most affected company."""
    names = list(scenarios or [n for n in SHIPPED if n in builtin_names()])
    table = Table(title="Policy scenarios against today's rules", show_lines=False)
    for col, justify in (("scenario", "left"), ("effective", "left"), ("rows changed", "right"),
                         ("newly licensed", "right"), ("cleared", "right"), ("most affected company", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name in names:
        r = diff(ledger, name, screen=screen)
        s = r.summary()
        comp = r.aggregates["company"]
        top = ""
        if comp.height:
            row = comp.with_columns(_abs=pl.col("net_value_usd").abs()).sort("_abs", descending=True).row(0, named=True)
            top = f"{row['company']} ({_usd(row['net_value_usd'])} net)"
        table.add_row(name, str(r.as_of or "row dates"), f"{s['rows_changed']:,}",
                      _usd(s["newly_licensed_value_usd"]), _usd(s["cleared_value_usd"]), top)
    table.caption = "Both sides evaluated on each scenario's effective day; values are the ledger's USD."
    return table
