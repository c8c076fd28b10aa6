"""``carveout report``: one self-contained, offline HTML file with scenario exposure and the frontier.

The Vega / Vega-Lite / vega-embed JavaScript is inlined from the ``vl-convert-python`` package (its
``javascript_bundle``), so the page needs no network; :func:`write_report` checks that no ``http(s)``
script source remains.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import altair as alt
import polars as pl

from carveout.scenarios.diff import diff
from carveout.scenarios.exposure import exposure
from carveout.scenarios.summary import SHIPPED

ON_FRONTIER, DOMINATED = "on the Pareto frontier", "dominated"
FRONTIER_COLOURS = ["#d62728", "#9e9e9e"]  # red frontier over grey: readable in print and for most colour-blind readers
_REMOTE_SCRIPT = re.compile(r"<script[^>]+src\s*=\s*[\"']https?://", re.I)


def _js_bundle() -> str:
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    # The default bundle defines a global ``vegaEmbed`` (as Altair's own inline HTML template uses it).
    return vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())


def _usd(v: float | None) -> str:
    return "" if v is None else f"${v:,.0f}"


def _table(frame: pl.DataFrame, columns: list[str], money: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in frame.select(columns).iter_rows(named=True):
        cells = []
        for c in columns:
            v = r[c]
            if c in money:
                text = _usd(v)
            elif isinstance(v, list):
                text = ", ".join(map(str, v))
            elif isinstance(v, float):
                text = f"{v:,.1f}"
            else:
                text = "" if v is None else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    # Wide tables scroll inside their own box instead of stretching the page.
    return f'<div class="tbl"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'



def _chart(spec: alt.Chart, div: str) -> str:
    return (f'<div id="{div}"></div><script>vegaEmbed("#{div}", {json.dumps(spec.to_dict())}, '
            '{"actions": false, "renderer": "svg"});</script>')


def write_report(path: str | Path, ledger: pl.DataFrame, scenarios: list[str] | tuple[str, ...] | None = None, *,
                 frontier_scenario: str | None = None, candidates: str | Path | None = None,
                 screen: bool = True, executor: str = "local", shocks: tuple[str, ...] | None = None) -> Path:
    """Write the HTML report: per scenario the verdict changes and exposure by company and fab, and
    the exemption frontier (when ``candidates`` is given, or the shipped VEU candidates otherwise)."""
    path = Path(path)
    names = list(scenarios or [s for s in SHIPPED if s != "baseline"])
    sections, charts = [], []
    fab_rows = []
    for i, name in enumerate(names):
        res = diff(ledger, name, screen=screen)
        s = res.summary()
        ex = exposure(res)
        sections.append(
            f"<h2>{html.escape(name)}</h2><p>Against <b>{html.escape(res.against)}</b> on {res.as_of}: "
            f"{s['rows_changed']:,} rows change verdict; newly licensed {_usd(s['newly_licensed_value_usd'])}; "
            f"cleared {_usd(s['cleared_value_usd'])}.</p>"
        )
        if ex.by_company.height:
            sections.append("<h3>Exposure by company and product line</h3>" + _table(
                ex.by_company, ["company", "company_hq_country", "product_line", "fabs", "newly_licensed_value_usd",
                                "share_of_output_low_pct", "share_of_output_high_pct", "estimate"],
                money=("newly_licensed_value_usd",)))
        if ex.by_fab.height:
            sections.append("<h3>Exposure by fab</h3>" + _table(
                ex.by_fab, ["facility_id", "company", "product_line", "newly_licensed_value_usd",
                            "cleared_value_usd", "capacity_low", "capacity_high", "share_low_pct",
                            "share_high_pct", "estimate", "confidence"],
                money=("newly_licensed_value_usd", "cleared_value_usd")))
            fab_rows.append(ex.by_fab.select("facility_id", "company", "newly_licensed_value_usd",
                                             "cleared_value_usd").with_columns(scenario=pl.lit(name)))
        from carveout.shock.report import two_way_section

        sections.append(two_way_section(res))
        comp = res.aggregates["company"]
        if comp.height:
            sections.append("<h3>Verdict changes by company</h3>" + _table(
                comp.head(15), ["company", "rows", "newly_licensed_value_usd", "cleared_value_usd"],
                money=("newly_licensed_value_usd", "cleared_value_usd")))
        _ = i
    if fab_rows:
        data = pl.concat(fab_rows).unpivot(index=["facility_id", "company", "scenario"],
                                           on=["newly_licensed_value_usd", "cleared_value_usd"],
                                           variable_name="change", value_name="usd")
        chart = alt.Chart(alt.Data(values=data.to_dicts())).mark_bar().encode(
            x=alt.X("usd:Q", title="USD"), y=alt.Y("facility_id:N", title="fab"),
            color=alt.Color("change:N"), row=alt.Row("scenario:N", title=None),
            tooltip=["scenario:N", "company:N", "facility_id:N", "change:N", alt.Tooltip("usd:Q", format=",.0f")],
        ).properties(width=520, height=120, title="Value newly licensed / cleared by fab")
        charts.append(_chart(chart, "fabs"))

    from carveout.scenarios.frontier import frontier
    from carveout.scenarios.model import builtin_dir

    cand = Path(candidates) if candidates else builtin_dir() / "candidates" / "veu_exemptions.yaml"
    front_html = ""
    if cand.exists():
        fr = frontier(ledger, frontier_scenario or "veu_revoked_no_replacement", cand, screen=screen,
                      executor=executor)
        pts = fr.points.with_columns(
            label=pl.col("exemptions").list.join(" + "),
            # Named categories with a fixed colour each, drawn frontier-last so its points are on top: the
            # legend and the marks cannot disagree.
            status=pl.when(pl.col("on_frontier")).then(pl.lit(ON_FRONTIER)).otherwise(pl.lit(DOMINATED)),
        ).sort("on_frontier")
        chart = alt.Chart(alt.Data(values=pts.select("label", "n_exemptions", "security_kept_usd",
                                                      "relief_usd", "status").to_dicts())).mark_circle(
            size=80, opacity=1).encode(
            x=alt.X("relief_usd:Q", title="economic relief for allied firms (USD)"),
            y=alt.Y("security_kept_usd:Q", title="security kept (USD still blocked to Macau/D:5)"),
            color=alt.Color("status:N", title="combination",
                            scale=alt.Scale(domain=[ON_FRONTIER, DOMINATED], range=FRONTIER_COLOURS)),
            order=alt.Order("status:N", sort="ascending"),
            tooltip=["label:N", "status:N", "n_exemptions:Q", alt.Tooltip("security_kept_usd:Q", format=",.0f"),
                     alt.Tooltip("relief_usd:Q", format=",.0f")],
        ).properties(width=620, height=380, title=f"Exemption frontier over {fr.scenario} ({fr.as_of})")
        charts.append(_chart(chart, "frontier"))
        front_html = (f"<h2>Exemption frontier</h2><p>{fr.stats['combinations']} combinations of "
                      f"{len(fr.candidates)} candidates over {fr.stats['signatures']:,} rule signatures "
                      f"({fr.stats['rows']:,} ledger rows) in {fr.stats['total_s']:.1f} s.</p>"
                      + _table(fr.frontier.with_columns(pl.col("exemptions").list.join(" + ")),
                               ["exemptions", "security_kept_usd", "relief_usd"],
                               money=("security_kept_usd", "relief_usd")))
        if fr.stats.get("dominated_extremes"):
            front_html += ("<p><i>Strictly dominated extreme(s), not on the frontier: "
                           + html.escape(str(fr.stats["dominated_extremes"])) + "</i></p>")

    from carveout.shock.report import SHOCKS, shock_section

    shock_html, shock_chart = shock_section(SHOCKS if shocks is None else shocks)
    charts.append(shock_chart)

    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>carveout scenario report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top;max-width:32em;overflow-wrap:break-word}}th{{background:#f3f3f3}}
.tbl{{overflow-x:auto;max-width:100%}}h2{{border-bottom:1px solid #ddd;margin-top:2em}}</style>
<script>{_js_bundle()}</script></head><body>
<h1>Policy scenarios: exposure and the exemption frontier</h1>
<p>Generated {date.today()} by carveout. Ledger: {ledger.height:,} rows. Values are the ledger's USD; shares
and capacities come from the sourced facilities dataset (ranges where the source gives a range or an
estimate). Not legal advice.</p>
{''.join(charts)}
{''.join(sections)}
{front_html}
{shock_html}
</body></html>"""
    if _REMOTE_SCRIPT.search(page):
        raise RuntimeError("report would load a remote script; refusing to write a non-offline page")
    path.write_text(page, encoding="utf-8")
    return path
