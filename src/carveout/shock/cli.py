"""``carveout shock SCENARIO``: capacity lost, supply share lost and the price range, by year."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def _range(text: str, what: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        err.print(f"[red]{what}: {text!r} is not LOW:HIGH[/red]")
        raise typer.Exit(2) from None
    return lo, hi


def _pct(lo: float | None, mid: float | None, hi: float | None, digits: int = 1) -> str:
    if mid is None:
        return "—"
    return f"{100 * mid:.{digits}f}% ({100 * lo:.{digits}f}–{100 * hi:.{digits}f})"


def shock_command(
    scenario: Annotated[str, typer.Argument(help="shock scenario in the parameters (e.g. veu_revoked_no_replacement)")],
    years: Annotated[str, typer.Option("--years", help="FIRST:LAST year")] = "2026:2030",
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws", min=1)] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    params: Annotated[Path | None, typer.Option("--params", help="your copy of shock/params.yaml")] = None,
    elasticity: Annotated[str | None, typer.Option(
        "--elasticity", help="your own price elasticity of demand as LOW:HIGH (e.g. -0.6:-0.25), both markets")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write every draw to this Parquet file")] = None,
    executor: Annotated[str, typer.Option("--executor", help="sweeps (several scenarios): serial | local | dask")
                        ] = "serial",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address")] = None,
) -> None:
    """Supply shock from a scenario: capacity lost per fab, share of global DRAM/NAND bit supply lost and
    the price effect (median and 5–95 % range over the draws). Several scenarios (comma-separated, or
    ``all``) run as a sweep, optionally on a Dask cluster."""
    from carveout.shock.channels import simulate_policy
    from carveout.shock.model import load_params

    y0, y1 = (int(x) for x in _range(years, "--years"))
    p = load_params(params)
    overrides = {}
    if elasticity:
        e1, e2 = sorted(abs(x) for x in _range(elasticity, "--elasticity"))
        if e1 <= 0:
            err.print("[red]--elasticity must be non-zero[/red]")
            raise typer.Exit(2)
        for m in p["markets"]:
            overrides[f"markets.{m}.price_flexibility"] = {"low": 1 / e2, "high": 1 / e1, "estimate": True,
                                                           "source": f"user elasticity {elasticity}"}
    names = list(p["scenarios"]) if scenario == "all" else [x.strip() for x in scenario.split(",") if x.strip()]
    if len(names) > 1:
        _sweep(names, (y0, y1), draws, seed, p, overrides, executor, scheduler)
        return
    try:
        r = simulate_policy(scenario, (y0, y1), draws, seed, p, overrides)
    except (KeyError, ValueError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"[bold]{r.scenario}[/bold]: {r.description}")
    if r.policy_scenario:
        console.print(f"policy scenario: {r.policy_scenario}; {r.draws:,} draws, years {y0}-{y1}")
    if r.channels is not None and r.channels.height:
        t = Table(title=f"rules under {r.policy_scenario} for the shipments the shock depends on (carveout engine)")
        for c in ("fab / input", "probe", "licence required", "authorized by", "review policy"):
            t.add_column(c)
        for row in r.channels.iter_rows(named=True):
            t.add_row(row["facility_id"], row["probe"], row["license_required"], row["authorization"] or "",
                      row["review_policy"] or "")
        console.print(t)
    if r.fabs.height:
        t = Table(title="capacity and output lost: median (5–95 %)")
        for c in ("fab / producers", "year", "wafer capacity lost (wpm)",
                  "output lost (fab: vs. upgraded; producers: own output)"):
            t.add_column(c)
        for row in r.fabs.iter_rows(named=True):
            wpm = ("not found" if row["capacity_lost_wpm_median"] is None else
                   f"{row['capacity_lost_wpm_median']:,.0f} ({row['capacity_lost_wpm_p5']:,.0f}–"
                   f"{row['capacity_lost_wpm_p95']:,.0f})")
            t.add_row(row["fab"], str(row["year"]), wpm, _pct(row["bit_output_lost_p5"], row["bit_output_lost_median"],
                                                              row["bit_output_lost_p95"]))
        console.print(t)
    t = Table(title="global supply share lost and price effect: median (5–95 %)")
    for c in ("market", "year", "supply share lost", "price effect"):
        t.add_column(c)
    for row in r.markets.iter_rows(named=True):
        t.add_row(row["market"], str(row["year"]), _pct(row["share_lost_p5"], row["share_lost_median"],
                                                        row["share_lost_p95"], 2),
                  _pct(row["price_effect_p5"], row["price_effect_median"], row["price_effect_p95"], 1))
    console.print(t)
    n_est = int(r.assumptions["estimate"].sum())
    console.print(f"{n_est} of {r.assumptions.height} inputs are estimates (drawn over their ranges); no econometric "
                  "DRAM/NAND elasticity was found, the price flexibility is calibrated on historic shocks "
                  "(docs/shock-model.md).")
    if out:
        console.print(f"draws: {r.write_draws(out)}")
    console.print(r.headline())


def _sweep(names: list[str], years: tuple[int, int], draws: int, seed: int, params: dict, overrides: dict,
           executor: str, scheduler: str | None) -> None:
    from carveout.shock.sweep import Job, sweep

    unknown = [n for n in names if n not in params["scenarios"]]
    if unknown:
        err.print(f"[red]unknown shock scenario(s): {', '.join(unknown)}[/red]")
        raise typer.Exit(2)
    res = sweep([Job(n, n, overrides, years, draws, seed, params) for n in names], executor, scheduler)
    t = Table(title=f"shock sweep ({executor}): price effect, median (5–95 %)")
    for c in ("scenario", "market", *map(str, range(years[0], years[1] + 1))):
        t.add_column(c)
    for (sc, m), grp in res.group_by(["scenario", "market"], maintain_order=True):
        g = grp.sort("year")
        t.add_row(str(sc), str(m), *[_pct(r["price_effect_p5"], r["price_effect_median"], r["price_effect_p95"], 0)
                                     for r in g.iter_rows(named=True)])
    console.print(t)
