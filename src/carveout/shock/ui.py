"""Context for the web UI's /shock page: one shock scenario's tables and chart, and the PRC side of the
two-way exposure today (the same functions as the CLI and the report)."""

from __future__ import annotations

from datetime import date
from typing import Any


def _pct(lo, mid, hi, digits: int = 1) -> str:
    return "" if mid is None else f"{100 * mid:.{digits}f}% ({100 * lo:.{digits}f}–{100 * hi:.{digits}f})"


def context(scenario: str, draws: int) -> dict[str, Any]:
    import polars as pl

    from carveout.scenarios.exposure_prc import prc_exposure
    from carveout.shock.channels import simulate_policy
    from carveout.shock.model import load_params
    from carveout.shock.report import price_chart

    names = list(load_params()["scenarios"])
    draws = max(100, min(int(draws), 20_000))
    day = date.today()
    prc = prc_exposure(day)
    ctx: dict[str, Any] = dict(names=names, scenario=scenario, draws=draws, day=day, result=None, error=None,
                               spec=None, channels=[], fabs=[], markets=[],
                               prc_companies=prc.by_company.to_dicts(), prc_fabs=prc.by_fab.to_dicts())
    if scenario not in names:
        ctx["error"] = f"unknown shock scenario {scenario!r}"
        return ctx
    r = simulate_policy(scenario, draws=draws)
    ctx["result"] = r
    ctx["channels"] = [] if r.channels is None else r.channels.to_dicts()
    ctx["fabs"] = [dict(fab=x["fab"], year=x["year"], bits=_pct(x["bit_output_lost_p5"], x["bit_output_lost_median"],
                                                                 x["bit_output_lost_p95"]),
                        wpm="not found" if x["capacity_lost_wpm_median"] is None else
                        f"{x['capacity_lost_wpm_median']:,.0f} ({x['capacity_lost_wpm_p5']:,.0f}–"
                        f"{x['capacity_lost_wpm_p95']:,.0f})") for x in r.fabs.iter_rows(named=True)]
    ctx["markets"] = [dict(market=x["market"], year=x["year"],
                           share=_pct(x["share_lost_p5"], x["share_lost_median"], x["share_lost_p95"], 2),
                           price=_pct(x["price_effect_p5"], x["price_effect_median"], x["price_effect_p95"]))
                      for x in r.markets.iter_rows(named=True)]
    ctx["spec"] = price_chart(r.markets.with_columns(scenario=pl.lit(scenario))).to_dict()
    return ctx
