"""The supply-shock and two-way-exposure sections of the HTML report (``carveout.report``)."""

from __future__ import annotations

import html

import polars as pl

SHOCKS = ("veu_revoked_no_replacement", "prc_materials_cutoff")


def _pct(lo: float | None, mid: float | None, hi: float | None, digits: int = 1) -> str:
    if mid is None:
        return ""
    return f"{100 * mid:.{digits}f}% ({100 * lo:.{digits}f}–{100 * hi:.{digits}f})"


def shock_section(names: tuple[str, ...] | list[str] = SHOCKS, draws: int = 10_000,
                  years: tuple[int, int] = (2026, 2030)) -> tuple[str, str]:
    """(section HTML, chart HTML): per scenario the fabs' capacity lost, the supply share lost and the price
    effect with their 5-95 % ranges, and one chart of the price bands."""
    from carveout.report import _chart
    from carveout.shock.channels import simulate_policy

    parts, frames = ["<h2>Supply shock: DRAM/NAND supply and prices</h2><p>Monte Carlo over every estimated "
                     "input (docs/shock-model.md). No econometric DRAM/NAND price elasticity was found: the price "
                     "flexibility is calibrated on historic supply shocks and drawn over a range. Median (5–95 %)."
                     "</p>"], []
    for name in names:
        r = simulate_policy(name, years, draws)
        parts.append(f"<h3>{html.escape(name)}</h3><p>{html.escape(r.description)}</p><p><b>"
                     f"{html.escape(r.headline())}</b></p>")
        if r.fabs.height:
            rows = "".join(
                f"<tr><td>{html.escape(x['fab'])}</td><td>{x['year']}</td><td>"
                + ("not found" if x["capacity_lost_wpm_median"] is None else
                   f"{x['capacity_lost_wpm_median']:,.0f} ({x['capacity_lost_wpm_p5']:,.0f}–"
                   f"{x['capacity_lost_wpm_p95']:,.0f})")
                + f"</td><td>{_pct(x['bit_output_lost_p5'], x['bit_output_lost_median'], x['bit_output_lost_p95'])}"
                  "</td></tr>" for x in r.fabs.iter_rows(named=True))
            parts.append("<table><thead><tr><th>fab</th><th>year</th><th>wafer capacity lost (wpm)</th>"
                         "<th>output lost (a fab: against the same fab upgraded; producers: share of their own "
                         f"output)</th></tr></thead><tbody>{rows}</tbody></table>")
        rows = "".join(
            f"<tr><td>{x['market']}</td><td>{x['year']}</td><td>"
            f"{_pct(x['share_lost_p5'], x['share_lost_median'], x['share_lost_p95'], 2)}</td><td>"
            f"{_pct(x['price_effect_p5'], x['price_effect_median'], x['price_effect_p95'])}</td></tr>"
            for x in r.markets.iter_rows(named=True))
        parts.append("<table><thead><tr><th>market</th><th>year</th><th>global bit supply lost</th>"
                     f"<th>price effect</th></tr></thead><tbody>{rows}</tbody></table>")
        frames.append(r.markets.with_columns(scenario=pl.lit(name)))
    chart = price_chart(pl.concat(frames))
    return "".join(parts), _chart(chart, "shock")


def price_chart(markets: pl.DataFrame):
    """Median price effect by year with its 5-95 % band, one panel per scenario (``markets`` frames of
    ``ShockResult`` with a ``scenario`` column)."""
    import altair as alt

    base = alt.Chart(alt.Data(values=markets.to_dicts())).encode(x=alt.X("year:O", title="year"),
                                                                 color=alt.Color("market:N"))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("price_effect_p5:Q", title="price effect", axis=alt.Axis(
        format="%")), y2="price_effect_p95:Q")
    line = base.mark_line(point=True).encode(y="price_effect_median:Q", tooltip=[
        "scenario:N", "market:N", "year:O", alt.Tooltip("price_effect_median:Q", format=".1%"),
        alt.Tooltip("price_effect_p5:Q", format=".1%"), alt.Tooltip("price_effect_p95:Q", format=".1%"),
        alt.Tooltip("share_lost_median:Q", format=".2%")])
    return alt.layer(band, line).properties(width=300, height=220).facet(
        column=alt.Column("scenario:N", title=None)).properties(
        title="Price effect by year: median and 5–95 % band over the draws")


def two_way_section(res) -> str:
    """Two-way exposure table for one scenario diff (U.S. side beside the PRC side)."""
    from carveout.report import _table
    from carveout.scenarios.exposure_prc import two_way_for

    tw = two_way_for(res)
    return ("<h3>Two-way exposure by company: U.S. side (this scenario) and PRC side (inputs under PRC licence, "
            f"{html.escape(res.against)} → scenario)</h3>" + _table(
                tw, ["company", "us_newly_licensed_value_usd", "prc_inputs_licensed", "prc_inputs_licensed_scenario",
                     "prc_inputs_review", "prc_inputs_review_scenario", "prc_china_share_low_pct",
                     "prc_china_share_high_pct", "prc_basis"], money=("us_newly_licensed_value_usd",)))
