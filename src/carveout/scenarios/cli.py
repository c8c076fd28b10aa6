"""``carveout scenario ...``: list, validate, diff and frontier (a Typer sub-app the main CLI mounts)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from carveout.scenarios.model import ScenarioError, builtin_names, load

app = typer.Typer(help="Policy scenarios: list, validate, diff against the baseline, exemption frontier.",
                  no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 150)


def _ledger(path: Path) -> pl.DataFrame:
    from carveout.io.ledger import read_ledger

    led = read_ledger(path)
    return led.facts


def _usd(v: float | None) -> str:
    return "" if v is None else f"{v:,.0f}"


@app.command("list")
def list_() -> None:
    """The shipped scenarios."""
    t = Table(title="Shipped scenarios")
    for c in ("name", "effective", "base", "description"):
        t.add_column(c)
    for name in builtin_names():
        sc = load(name)
        t.add_row(sc.name, str(sc.effective), sc.base or "", sc.description)
    console.print(t)


@app.command()
def validate(file: Path = typer.Argument(..., help="scenario YAML (or the name of a shipped one)")) -> None:
    """Check a scenario file: keys, parameter names, rule expressions; print every problem with its key path."""
    from carveout.scenarios.compile import compile_scenario

    try:
        sc = load(file)
        compiled = compile_scenario(sc)
    except (ScenarioError, FileNotFoundError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    for w in compiled.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    n_rules = len(sc.rules)
    console.print(f"[green]ok[/green] {sc.name}: effective {sc.effective}, {len(sc.params)} parameter override(s), "
                  f"{len(sc.list_edits.veu)} VEU edit(s), {len(sc.list_edits.entity_list)} Entity List edit(s), "
                  f"{n_rules} rule(s), {len(sc.disable)} disabled, {len(sc.caps)} cap(s)")


def _arrow(a: int | None, b: int | None) -> str:
    if a is None and b is None:
        return "—"
    return str(a) if a == b else f"{a} -> {b}"


@app.command()
def diff(
    scenario: str = typer.Argument(..., help="scenario name or YAML path"),
    ledger: Path = typer.Option(..., "--ledger", "-l", help="ledger CSV / Parquet / Excel"),
    against: str = typer.Option("baseline", "--against", help="scenario to compare with"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the changed rows (.parquet or .csv)"),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD, or 'rows' for each row's date "
                                     "(default: the scenario's effective day)"),
    no_screen: bool = typer.Option(False, "--no-screen", help="do not screen end users against the lists"),
) -> None:
    """Rows whose licence verdict changes under SCENARIO, and aggregates by company, fab, exporter..."""
    from carveout.scenarios.diff import diff as run_diff
    from carveout.scenarios.exposure import exposure

    try:
        res = run_diff(_ledger(ledger), scenario, against=against, as_of=as_of, screen=not no_screen)
    except (ScenarioError, FileNotFoundError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    s = res.summary()
    console.print(f"[bold]{res.scenario}[/bold] vs {res.against} on {res.as_of or 'row dates'}: "
                  f"{s['rows_changed']:,} row(s) change verdict; newly licensed {s['newly_licensed_rows']:,} "
                  f"(${_usd(s['newly_licensed_value_usd'])}), cleared {s['cleared_rows']:,} "
                  f"(${_usd(s['cleared_value_usd'])})")
    for w in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    for dim in ("company", "facility", "exporter", "destination", "eccn"):
        agg = res.aggregates[dim]
        if agg.is_empty():
            continue
        t = Table(title=f"by {dim}")
        for c in (agg.columns[0], "rows", "newly licensed USD", "cleared USD"):
            t.add_column(c, justify="left" if c == agg.columns[0] else "right")
        for r in agg.head(10).iter_rows(named=True):
            t.add_row(str(r[agg.columns[0]]), f"{r['rows']:,}", _usd(r["newly_licensed_value_usd"]),
                      _usd(r["cleared_value_usd"]))
        console.print(t)
    if not res.empty:
        ex = exposure(res)
        if ex.by_company.height:
            t = Table(title="exposure by company and product line (share of output at affected fabs)")
            for c in ("company", "line", "fabs", "newly licensed USD", "share low-high %", "estimate"):
                t.add_column(c)
            for r in ex.by_company.iter_rows(named=True):
                lo, hi = r["share_of_output_low_pct"], r["share_of_output_high_pct"]
                share = "" if lo is None else f"{lo:.0f}-{hi:.0f}" if hi is not None else f">={lo:.0f}"
                t.add_row(r["company"], r["product_line"], ", ".join(r["fabs"] or []),
                          _usd(r["newly_licensed_value_usd"]), share, "yes" if r["estimate"] else "")
            console.print(t)
    from carveout.scenarios.exposure_prc import two_way_for

    tw = two_way_for(res, scenario, against)
    res.aggregates["two_way"] = tw
    t = Table(title="two-way exposure by company: U.S. side (this diff) and PRC side (inputs under PRC licence, "
                    f"{res.against} -> {res.scenario})")
    for c in ("company", "U.S.: newly licensed USD", "PRC: inputs licensed", "PRC: inputs to review",
              "China share of those inputs %", "basis"):
        t.add_column(c)
    for r in tw.iter_rows(named=True):
        lo, hi = r["prc_china_share_low_pct"], r["prc_china_share_high_pct"]
        t.add_row(r["company"], _usd(r.get("us_newly_licensed_value_usd") or 0),
                  _arrow(r["prc_inputs_licensed"], r["prc_inputs_licensed_scenario"]),
                  _arrow(r["prc_inputs_review"], r["prc_inputs_review_scenario"]),
                  "not found" if lo is None else f"{lo:.0f}-{hi:.0f}", r["prc_basis"] or "not in facilities.csv")
    console.print(t)
    if out:
        res.write(out)
        console.print(f"wrote {out}")


@app.command()
def frontier(
    scenario: str = typer.Argument("veu_revoked_no_replacement", help="scenario name or YAML path"),
    candidates: Path | None = typer.Option(
        None, "--candidates", "-c",
        help="candidate exemptions (YAML: a list under `candidates:`, each a scenario fragment with an id and "
             "label). Default: the shipped VEU candidates, carveout/data/scenarios/candidates/veu_exemptions.yaml"),
    ledger: Path | None = typer.Option(None, "--ledger", "-l",
                                       help="ledger (default: the embedded synthetic example ledger)"),
    executor: str = typer.Option("local", "--executor", help="local | dask | serial"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786)"),
    workers: int | None = typer.Option(None, "--workers"),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: scenario's effective day)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write all scored combinations (.parquet/.csv)"),
    no_screen: bool = typer.Option(False, "--no-screen"),
) -> None:
    """Pareto set of exemption combinations: security kept vs relief for allied firms.

    Every combination of the candidate exemptions is applied on top of SCENARIO and scored on the ledger.
    """
    from carveout.scenarios.frontier import frontier as run
    from carveout.scenarios.model import builtin_dir

    candidates = candidates or builtin_dir() / "candidates" / "veu_exemptions.yaml"
    if ledger is None:
        from carveout.catalogue_data import example_ledger_path

        ledger = example_ledger_path()

    if executor == "dask" and not scheduler:
        console.print("[red]--executor dask needs --scheduler ADDRESS[/red]")
        raise typer.Exit(2)
    try:
        res = run(_ledger(ledger), scenario, candidates, executor=executor, scheduler=scheduler, workers=workers,
                  as_of=date.fromisoformat(as_of) if as_of else None, screen=not no_screen)
    except (ScenarioError, FileNotFoundError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    st = res.stats
    t = Table(title=f"Frontier over {res.scenario} on {res.as_of}: {st['combinations']} combinations, "
                    f"{st['signatures']:,} signatures for {st['rows']:,} rows, {st['total_s']:.1f} s")
    for c in ("exemptions", "security kept USD", "relief USD"):
        t.add_column(c, justify="left" if c == "exemptions" else "right")
    for r in res.frontier.iter_rows(named=True):
        t.add_row(", ".join(r["exemptions"]) or "(none)", _usd(r["security_kept_usd"]), _usd(r["relief_usd"]))
    console.print(t)
    if st.get("dominated_extremes"):
        console.print(f"[yellow]note:[/yellow] extreme(s) strictly dominated, so not on the frontier: "
                      f"{st['dominated_extremes']}")
    if out:
        pts = res.points.with_columns(pl.col("exemptions").list.join("; "))
        pts.write_parquet(out) if out.suffix == ".parquet" else pts.write_csv(out)
        console.print(f"wrote {out}")
