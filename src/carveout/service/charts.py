"""Vega-Lite specs built with Altair on the server; the browser renders them with the vendored vega-embed."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

VERDICT_COLORS = alt.Scale(domain=["yes", "needs_review", "no"], range=["#c0392b", "#e0a800", "#2e8b57"])
CHANGE_COLORS = alt.Scale(domain=["newly licensed", "cleared"], range=["#c0392b", "#2e8b57"])


def verdicts_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars: ledger rows by destination, coloured by verdict."""
    df = pl.DataFrame(rows, schema={"license_required": pl.String, "destination": pl.String, "n": pl.Int64})
    chart = (
        alt.Chart(alt.Data(values=df.to_dicts()))
        .mark_bar()
        .encode(
            x=alt.X("destination:N", sort="-y", title="destination"),
            y=alt.Y("sum(n):Q", title="ledger rows"),
            color=alt.Color("license_required:N", scale=VERDICT_COLORS, title="licence required"),
            tooltip=["destination:N", "license_required:N", "n:Q"],
        )
        .properties(width="container", height=260, title="Verdicts by destination")
    )
    return chart.to_dict()


def _tooltips(rows: list[dict[str, Any]]) -> list[alt.Tooltip]:
    if not rows:
        return []
    return [alt.Tooltip(k, type="quantitative" if isinstance(v, int | float) and not isinstance(v, bool)
                        else "nominal") for k, v in rows[0].items()]


def bar_chart(rows: list[dict[str, Any]], x: str, y: str, color: str | None = None,
              title: str = "", color_scale: alt.Scale | None = None) -> dict[str, Any]:
    enc: dict[str, Any] = {"x": alt.X(f"{x}:N", sort="-y"), "y": alt.Y(f"{y}:Q"), "tooltip": _tooltips(rows)}
    if color:
        enc["color"] = alt.Color(f"{color}:N", scale=color_scale) if color_scale else alt.Color(f"{color}:N")
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(**enc).properties(
        width="container", height=260, title=title).to_dict()


def scatter_chart(rows: list[dict[str, Any]], x: str, y: str, label: str, pareto: str | None = None,
                  title: str = "") -> dict[str, Any]:
    base = alt.Chart(alt.Data(values=rows))
    enc: dict[str, Any] = {"x": alt.X(f"{x}:Q"), "y": alt.Y(f"{y}:Q"), "tooltip": _tooltips(rows)}
    if pareto:
        enc["color"] = alt.Color(f"{pareto}:N", title="Pareto")
    return base.mark_circle(size=80).encode(**enc).properties(width="container", height=300,
                                                             title=title).to_dict()
