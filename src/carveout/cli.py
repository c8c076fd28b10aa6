"""The ``carveout`` command: classify, check, run a ledger, screen, simulate, serve."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import click
import polars as pl
import typer
import typer.main
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

from carveout import api, catalogue_data
from carveout.batch import evaluate_ledger, summary
from carveout.io.ledger import LedgerError, atomic_write, read_ledger
from carveout.model import ItemSpec, Transaction

app = typer.Typer(help="U.S. semiconductor export controls as code.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="evaluate under the rules of this date (YYYY-MM-DD)")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="company profile YAML (is-informed letters)")]


def _profile(path: str | None):
    if path is None:
        return None
    from carveout.profiles import ProfileError, load_profile

    try:
        return load_profile(path)
    except ProfileError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]--as-of: {value!r} is not a date YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None


def _load(source: str) -> dict:
    text = sys.stdin.read() if source == "-" else _read(source)
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        err.print(f"[red]{source}{where}: not valid JSON or YAML: {getattr(exc, 'problem', exc)}[/red]")
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        err.print(f"[red]{source}: expected a mapping of fields, got {type(data).__name__}[/red]")
        raise typer.Exit(2)
    return data


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        err.print(f"[red]{path}: {exc.strerror}[/red]")
        raise typer.Exit(2) from None


def _invalid(source: str, exc: ValidationError) -> None:
    for e in exc.errors():
        field = ".".join(str(x) for x in e["loc"]) or "(root)"
        got = e.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        msg = escape(f"{source}: field {field}: {e['msg'].removeprefix('Value error, ')}{got_text}")
        err.print(f"[red]{msg}[/red]", highlight=False)
    raise typer.Exit(2)


@app.command()
def classify(
    spec: Annotated[str, typer.Argument(help="item spec file (JSON or YAML), or - for stdin")],
    as_of: AsOf = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Decide an item's ECCN (3A090 / 4A090 / .z / HBM) from its specs."""
    data = _load(spec)
    try:
        item = ItemSpec.model_validate(data)
    except ValidationError as exc:
        _invalid(spec, exc)
    c = api.classify(item, as_of=_date(as_of))
    if format == "json":
        console.print_json(c.model_dump_json())
    else:
        t = Table(title=f"{c.name or 'item'} — as of {c.as_of} (rules {c.rules_version})")
        t.add_column("ECCN")
        t.add_column("status")
        t.add_column("TPP")
        t.add_column("perf. density")
        t.add_row(c.eccn or "—", c.status, _num(c.tpp), _num(c.performance_density))
        console.print(t)
        for r in c.reasons:
            console.print(f"  • [bold]{r.citation}[/bold] ({r.rule}): {r.summary}")
        if c.missing:
            console.print(f"[yellow]needs_review: missing {', '.join(c.missing)}[/yellow]")
    if c.status == "needs_review":
        raise typer.Exit(3)


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f}"


@app.command()
def check(
    txn: Annotated[str, typer.Argument(help="transaction file (JSON or YAML), or - for stdin")],
    as_of: AsOf = None,
    format: Annotated[str, typer.Option("--format", help="table | json | explain")] = "table",
    profile: ProfileOpt = None,
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="US (EAR), CN (PRC) or US,CN")] = "US",
) -> None:
    """Does this shipment need a licence, and why?"""
    data = _load(txn)
    try:
        t = Transaction.model_validate(data)
    except ValidationError as exc:
        _invalid(txn, exc)
    if jurisdiction.strip().upper() != "US":  # PRC law, or several laws at once
        from carveout.jurisdictions_cli import print_check

        raise typer.Exit(print_check(t, jurisdiction, _date(as_of), format, console, err))
    d = api.check(t, as_of=_date(as_of), profile=_profile(profile))
    if format == "json":
        console.print_json(d.model_dump_json())
        return
    from carveout.render import print_determination

    print_determination(console, d, format)


@app.command()
def run(
    ledger: Annotated[str, typer.Argument(help="ledger file: .csv, .parquet or .xlsx")],
    out: Annotated[str | None, typer.Option("--out", help="write results (.csv, .parquet, .xlsx)")] = None,
    as_of: AsOf = None,
    profile: ProfileOpt = None,
) -> None:
    """Evaluate a whole shipment ledger; every input row comes out with its verdict."""
    if out and _same_file(ledger, out):
        err.print(f"[red]--out {out} is the input ledger {ledger} (or a link to it): writing there would "
                  "destroy the input; choose another file[/red]")
        raise typer.Exit(2)
    prof = _profile(profile)
    try:
        led = read_ledger(ledger)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if led.unknown_columns:
        err.print(f"[yellow]{ledger}: columns not used by the rules (kept as is): "
                  f"{', '.join(led.unknown_columns)}[/yellow]")
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,}/{task.total:,} rows"), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("evaluating", total=led.facts.height)
        result = evaluate_ledger(led, as_of=_date(as_of), profile=prof,
                                 progress=lambda done, _: bar.update(task, completed=done))
    _print_summary(result, ledger)
    errors = result.filter(pl.col("error").is_not_null())
    if errors.height:
        err.print(f"[yellow]{errors.height} row(s) with input errors (kept, verdict needs_review):[/yellow]")
        for line in errors.head(10).get_column("error").to_list():
            err.print(f"  {line}", markup=False, highlight=False)
    if out:
        try:
            atomic_write(result.drop("day", strict=False), out)
        except (LedgerError, OSError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        console.print(f"wrote {result.height:,} rows to {out}")


def _same_file(source: str, out: str) -> bool:
    """``out`` names the input: the same path, a symbolic link to it or a hard link of it."""
    a, b = Path(source), Path(out)
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and a.samefile(b)
    except OSError:
        return False


def _print_summary(result: pl.DataFrame, title: str) -> None:
    s = summary(result)
    t = Table(title=f"{title}: {result.height:,} rows", show_footer=False)
    for c in ("licence required", "rows", "value (USD)", "input errors"):
        t.add_column(c, justify="right" if c != "licence required" else "left")
    for row in s.iter_rows(named=True):
        t.add_row(row["license_required"], f"{row['rows']:,}", f"{row['value_usd'] or 0:,.0f}", f"{row['rejected']:,}")
    console.print(t)


@app.command()
def rules(as_of: AsOf = None, jurisdiction: Annotated[str, typer.Option(
        "--jurisdiction", help="US (EAR), CN (PRC) or US,CN")] = "US") -> None:
    """List the rules in force on a date with their citations."""
    from carveout.rules.registry import all_rules

    day = _date(as_of) or date.today()
    laws = {j.strip().upper() for j in jurisdiction.split(",")}
    t = Table("id", "stage", "citation", "in force", "summary", title=f"Rules in force on {day} ({jurisdiction})")
    for r in all_rules():
        if r.active(day) and r.jurisdiction in laws:
            enforced, why = r.enforced_on(day)
            span = f"{r.effective or '…'} → {r.until or '…'}" + ("" if enforced else " (not enforced)")
            t.add_row(r.id, r.stage, r.cite, span, r.summary)
    console.print(t)
    from carveout.history_view import ccl_rows, group_rows

    for title, head, rows in ((f"CCL entries on {day}", ("ECCN", "control", "reaches", "version"), ccl_rows(day)),
                              (f"Country groups on {day}", ("group", "members", "version"), group_rows(day))):
        t = Table(*head, title=title)
        for row in rows:
            t.add_row(*row)
        console.print(t)


@app.command("verify-rules")
def verify_rules() -> None:
    """Prove, per rule version, that classification neither overlaps nor leaves a gap on the grid."""
    from carveout.rules.checks import verify_classification

    report = verify_classification()
    t = Table("version from", "items checked", "overlaps", "gaps")
    for row in report:
        t.add_row(str(row["from"]), f"{row['items']:,}", str(row["overlaps"]), str(row["gaps"]))
    console.print(t)
    if any(r["overlaps"] or r["gaps"] for r in report):
        raise typer.Exit(1)


def _differs(reported: str | None, engine_eccn: str | None) -> bool:
    """A published ECCN agrees when one is a prefix of the other (``3A090`` vs ``3A090.a``)."""
    if not reported:
        return False
    rep, got = reported.strip(), (engine_eccn or "needs_review")
    if rep.lower().startswith("not "):
        return got.startswith(rep[4:].strip())
    return not (got.startswith(rep) or rep.startswith(got))


def _why_differs(r: dict, day: date) -> str:
    """Why the engine's answer and a published classification differ, in the thresholds of ``day``."""
    from carveout.rules.params import params_at

    p = params_at(day)
    tpp, pd_, dc = r.get("tpp"), r.get("performance_density"), r.get("marketed_for_datacenter")
    facts = f"TPP {_num(tpp)}, PD {_num(pd_)}, datacenter {dc}"
    if r["item_kind"] == "hbm" and p.hbm_mbd_min is not None:
        tests = f"3A090.c needs memory bandwidth density > {p.hbm_mbd_min} GB/s/mm²"
        facts = f"density {_num(r.get('memory_bandwidth_density_gb_s_mm2'))} GB/s/mm²"
    elif p.pd_min_a2 is not None:
        tests = (f".a: TPP ≥ {p.tpp_min_a:g}, or TPP ≥ {p.tpp_min_a2:g} and PD ≥ {p.pd_min_a2:g}; "
                 f".b: TPP ≥ {p.tpp_min_b1:g} and PD ≥ {p.pd_min_b1:g}, or TPP ≥ {p.tpp_min_b2:g} and "
                 f"PD ≥ {p.pd_min_b2:g} (.a.2/.b.2 only for datacenter parts or TPP ≥ {p.datacenter_tpp_floor:g})")
    elif p.tpp_min_a is not None:
        tests = f"TPP ≥ {p.tpp_min_a:g} and I/O ≥ {p.io_rate_min_a:g} GB/s (2022 text)"
    else:
        tests = "no advanced-computing control was in force"
    return (f"{r['item_name']}: published {r['reported_classification']}, engine "
            f"{r['eccn'] or 'needs_review'} — {facts}; the text in force requires {tests}. "
            "The engine follows the regulation's text; see the catalogue's notes (data/chips.csv).")


@app.command()
def demo(
    out: Annotated[str, typer.Option("--out", help="folder for results and the report")] = "out",
) -> None:
    """The main job on the embedded data: classify the chip catalogue, run the example ledger,
    summarise the policy scenarios and write the report."""
    cat = catalogue_data.chips()
    for day in (date.today(), date(2023, 1, 1)):
        current = day == date.today()
        res = api.evaluate(cat, as_of=day, screen=False)
        t = Table(title=f"Embedded chip catalogue classified as of {day} (rules {res['rules_version'][0]})")
        for c in ("item", "kind", "TPP", "PD", "datacenter", "ECCN", "published (current rules)"):
            t.add_column(c)
        why = []
        for r in res.iter_rows(named=True):
            reported = r.get("reported_classification") or ""
            mark = " ≠" if current and _differs(reported, r["eccn"]) else ""
            t.add_row(r["item_name"], r["item_kind"], _num(r["tpp"]), _num(r["performance_density"]),
                      str(r["marketed_for_datacenter"]), r["eccn"] or "needs_review", reported + mark)
            if mark:
                why.append(_why_differs(r, day))
        console.print(t)
        for line in why:
            console.print(f"  ≠ {line}")
    ledger_path = catalogue_data.example_ledger_path()
    led = read_ledger(ledger_path)
    result = evaluate_ledger(led)
    _print_summary(result, "Embedded example ledger (synthetic, see data/ledger_example.README.md)")
    Path(out).mkdir(parents=True, exist_ok=True)
    atomic_write(result.drop("day", strict=False), Path(out) / "ledger_results.parquet")
    from carveout import scenarios
    from carveout.report import write_report

    console.print(scenarios.summary_table(led.facts))
    path = write_report(Path(out) / "report.html", led.facts)
    console.print(f"results: {Path(out) / 'ledger_results.parquet'}   report: {path}")
    from carveout.shock.channels import simulate_policy  # the supply shock, last line (docs/shock-model.md)

    shock = simulate_policy("veu_revoked_no_replacement")
    shock.write_draws(Path(out) / "shock_veu_revoked_no_replacement.parquet")
    console.print(shock.headline())


@app.command()
def report(
    out: Annotated[str, typer.Option("--out", help="the HTML file to write")] = "out/report.html",
    ledger: Annotated[str | None, typer.Option("--ledger", help="ledger (default: the embedded example)")] = None,
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", help="scenario name or YAML file; repeat for several (default: every shipped one)")] = None,
    candidates: Annotated[str | None, typer.Option(
        "--candidates", help="frontier candidates YAML (default: the shipped VEU candidates)")] = None,
    no_screen: Annotated[bool, typer.Option("--no-screen", help="do not screen end users")] = False,
) -> None:
    """Write the offline HTML report: verdict changes and exposure per scenario, and the exemption frontier."""
    from carveout.report import write_report

    source = ledger or str(catalogue_data.example_ledger_path())
    try:
        led = read_ledger(source)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if Path(out).suffix.lower() not in (".html", ".htm"):
        err.print(f"[red]--out {out}: the report is an HTML file (.html)[/red]")
        raise typer.Exit(2)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    try:
        path = write_report(out, led.facts, scenario or None, candidates=candidates, screen=not no_screen)
    except Exception as exc:  # a scenario that does not load: say which, without a traceback
        from carveout.scenarios.model import ScenarioError

        if not isinstance(exc, ScenarioError | FileNotFoundError):
            raise
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"report: {path} ({led.facts.height:,} ledger rows; "
                  f"{len(scenario) if scenario else 'all shipped'} scenario(s))")


@app.command()
def facilities() -> None:
    """The fabs and sites in the shipped data: the values ``facility_id`` takes (e.g. for VEU sites)."""
    from carveout.scenarios.data import facilities as load

    t = Table("facility_id", "company", "city", "product", "capacity (wafers/month)", "VEU history",
              title="Facilities (data/facilities.csv; sources per row there)")
    for r in load().iter_rows(named=True):
        cap = r["capacity_wafers_per_month"]
        t.add_row(r["facility_id"], r["company"], r["site_city"], (r["product"] or "")[:60],
                  "" if cap is None else f"{cap:,.0f}", (r["veu_status_history"] or "")[:80])
    console.print(t)


class _LazyGroup(TyperGroup):
    """The top-level command group; sub-commands that pull in heavy libraries (screening: pypinyin and the
    list index; service: DuckDB, FastAPI on ``serve``; report and scenarios: Altair) are imported only
    when invoked or listed in the help, so ``carveout check`` and ``classify`` start without them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in _LAZY:
            self._load(name)
        self._load_service()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in _LAZY:
            found = self._load(cmd_name)
        if found is None:  # the service's commands (serve, keys, audit, ...) are not named here
            self._load_service()
            found = super().get_command(ctx, cmd_name)
        return found

    def _load(self, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        module, attr, help_text = _LAZY[name]
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            return None
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name, help=help_text)
        else:
            holder.command(name)(target)
            holder.callback()(lambda: None)  # keep the holder a group so the command keeps its name
        cmd = typer.main.get_group(holder).commands[name]
        self.add_command(cmd, name)
        return cmd

    def _load_service(self) -> None:
        if getattr(self, "_service_loaded", False):
            return
        self._service_loaded = True
        try:
            from carveout.service import cli as service_cli
        except ImportError:
            return
        for name, cmd in typer.main.get_group(service_cli.app).commands.items():
            self.commands.setdefault(name, cmd)


# command -> (module, attribute, help); a missing module or attribute leaves the command out.
_LAZY = {
    "screen": ("carveout.screening.cli", "screen_command", None),
    "lists": ("carveout.screening.cli", "lists_app", "Restricted-party lists."),
    "scenario": ("carveout.scenarios.cli", "app", "Policy scenarios, diff and frontier."),
    "shock": ("carveout.shock.cli", "shock_command", None),
    "changes": ("carveout.whatif_cli", "changes_command", None),
    "counterfactual": ("carveout.whatif_cli", "counterfactual_command", None),
}
app.info.cls = _LazyGroup
_ = json

if __name__ == "__main__":
    app()
