"""Command line for screening. Mount `app` (or `screen_command` + `lists_app`) in the main CLI:

    app.command("screen")(screen_command)      # carveout screen NAME | --file parties.csv --out results.csv
    app.add_typer(lists_app, name="lists")     # carveout lists load FILE

Standalone: `python -m carveout.screening.cli screen "Huawei" --country CN`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import ListFormatError
from .index import default_index_path, index_path_beside
from .loaders import load_list
from .screener import STALE_DAYS, Screener

console = Console(width=None if sys.stdout.isatty() else 150)
app = typer.Typer(
    help="Restricted-party screening (Consolidated Screening List and similar lists).", no_args_is_help=True
)
lists_app = typer.Typer(help="Restricted-party list files.", no_args_is_help=True)


@lists_app.callback()
def _lists() -> None:
    """Restricted-party list files (keeps `lists` a group even with one command)."""


def _screener(list_file: Path | None, ownership: list[Path] | None, db: Path | None) -> Screener:
    index = index_path_beside(db) if db else default_index_path()
    return Screener(list_file, index, [str(p) for p in ownership] if ownership else "default")


def _atomic_write_csv(frame: pl.DataFrame, out: Path) -> None:
    """Write to a temp file in the target directory, then rename: readers never see half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        frame.write_csv(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def screen_command(
    name: str | None = typer.Argument(None, help="party name to screen (any script)"),
    country: str | None = typer.Option(None, "--country", "-c", help="ISO-2 country of the party"),
    as_of: str | None = typer.Option(None, "--as-of", help="date of the transaction (YYYY-MM-DD; default today)"),
    file: Path | None = typer.Option(None, "--file", "-f", help="CSV with columns name[,country][,as_of]"),
    out: Path | None = typer.Option(None, "--out", "-o", help="where to write results for --file"),
    list_file: Path | None = typer.Option(None, "--list", help="list file (default: packaged CSL snapshot)"),
    ownership: list[Path] | None = typer.Option(None, "--ownership", help="ownership CSV(s) parent,child,percent"),
    db: Path | None = typer.Option(None, "--db", help="keep the index cache beside this DuckDB file"),
    limit: int = typer.Option(5, "--limit", help="matches to show"),
) -> None:
    """Screen one NAME, or every row of --file into --out."""
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    if (name is None) == (file is None):
        raise typer.BadParameter("give either NAME or --file")
    try:
        s = _screener(list_file, ownership, db)
    except ListFormatError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if file is not None:
        _screen_file(s, file, out, day)
        return
    res = s.screen(name or "", country, day, limit)
    colour = {"match": "red", "possible": "yellow", "clear": "green"}[res.status]
    console.print(
        f"[bold {colour}]{res.status.upper()}[/] score {res.score:.3f}  "
        f"(list {Path(res.list_source).name}, dated {res.list_date})"
    )
    table = Table("score", "list", "party", "matched as", "footnote", "listed since", "why")
    for m in res.matches:
        table.add_row(
            f"{m.score:.3f}",
            m.list_code,
            m.name,
            m.matched_name,
            str(m.el_footnote or ""),
            str(m.listed_since or ""),
            m.explanation,
        )
    console.print(table)
    if res.affiliate is not None:
        console.print(f"ownership: {res.affiliate.note}")
        for link in res.affiliate.chain:
            console.print(f"  {link.parent} -> {link.child} {link.percent:g} % ({link.source or 'no source'})")
    for note in res.notes:
        console.print(f"[dim]note: {note}[/]")


def _screen_file(s: Screener, file: Path, out: Path | None, day: date | None) -> None:
    if out is None:
        raise typer.BadParameter("--file needs --out")
    try:
        frame = pl.read_csv(file, infer_schema_length=0)  # all strings: names must not be coerced
    except (pl.exceptions.PolarsError, OSError) as exc:
        console.print(f"[red]error:[/] {file}: {exc}")
        raise typer.Exit(2) from None
    if "name" not in frame.columns:
        console.print(f"[red]error:[/] {file} line 1: no 'name' column (found {frame.columns})")
        raise typer.Exit(2)
    if "country" not in frame.columns:
        frame = frame.with_columns(country=pl.lit(None, pl.String))
    if "as_of" in frame.columns:
        frame = frame.with_columns(pl.col("as_of").str.to_date(strict=False))
    elif day is not None:
        frame = frame.with_columns(as_of=pl.lit(day))
    with Progress(
        TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("screen", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = s.screen_frame(frame, progress=tick)
    assert result.height == frame.height
    _atomic_write_csv(result, out)
    counts = result.group_by("screen_status").len().sort("screen_status").rows()
    console.print(
        f"{result.height:,} rows -> {out}  "
        + ", ".join(f"{k}: {v:,}" for k, v in counts)
        + f"  (list dated {s.list_date})"
    )
    if day is not None and (day - s.list_date).days > STALE_DAYS:
        console.print(f"[yellow]warning:[/] list dated {s.list_date} is more than {STALE_DAYS} days older than {day}")


@lists_app.command("load")
def load_command(
    file: Path = typer.Argument(..., help="CSL JSON/CSV, trade.gov bulk file or FtM JSON lines"),
) -> None:
    """Validate a list file and print parties by list and the list date."""
    try:
        plist = load_list(file)
    except ListFormatError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    table = Table(
        "list",
        "parties",
        title=f"{file.name} ({plist.format}), list date {plist.list_date} [{plist.list_date_basis}]",
    )
    for code, n in plist.counts_by_list().rows():
        table.add_row(code, f"{n:,}")
    table.add_row("total", f"{len(plist):,}")
    console.print(table)


app.command("screen")(screen_command)
app.add_typer(lists_app, name="lists")
app.command("load")(load_command)

if __name__ == "__main__":
    app()
