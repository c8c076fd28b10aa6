"""``carveout changes`` and ``carveout counterfactual``: what changed between two dates, and what would
change the answer. Mounted by cli.py; the work is in ``changes.py`` and ``counterfactual.py``."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)


def _load(path: str) -> dict:
    from carveout.cli import _load as load

    return load(path)


def _fail(msg: str) -> None:
    err.print(f"[red]{msg}[/red]", markup=True, highlight=False)
    raise typer.Exit(2)


def changes_command(
    from_: Annotated[str, typer.Argument(metavar="FROM", help="first date, YYYY-MM-DD")],
    to: Annotated[str, typer.Argument(metavar="TO", help="second date, YYYY-MM-DD")],
    item: Annotated[
        str | None, typer.Option("--item", help="item spec file (JSON/YAML): its ECCN on both dates")
    ] = None,
    txn: Annotated[
        str | None, typer.Option("--txn", help="transaction file: verdict and reasons on both dates")
    ] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="ledger file: rows whose verdict changes")] = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    no_screen: Annotated[bool, typer.Option("--no-screen", help="do not screen end users against the lists")] = False,
) -> None:
    """What changed between FROM and TO: the rules and parameters (with their Federal Register sources), and
    what that did to an item, a shipment or a ledger."""
    from pydantic import ValidationError

    from carveout.changes import changes

    if sum(x is not None for x in (item, txn, ledger)) > 1:
        _fail("give one of --item, --txn, --ledger")
    try:
        res = changes(
            from_,
            to,
            item=_load(item) if item else None,
            txn=_load(txn) if txn else None,
            ledger=ledger,
            screen=not no_screen,
        )
    except (ValueError, ValidationError) as exc:
        _fail(str(exc))
    if format == "json":
        console.print_json(json.dumps(res.to_dict(), default=str))
        return
    _print_changes(res)


def _print_changes(res) -> None:
    head = f"[bold]{res.from_} -> {res.to}[/bold]"
    if res.subject in ("item", "transaction"):
        b, a = res.before, res.after
        verdict = "license_required" if res.subject == "transaction" else "eccn"
        console.print(
            f"{head}  {res.subject}: {b[verdict]} -> {a[verdict]}"
            + (f"  (ECCN {b['eccn']} -> {a['eccn']})" if res.subject == "transaction" else "")
        )
        t = Table("", str(res.from_), str(res.to))
        for k in ("eccn", "license_required", "review_policy", "authorization"):
            if k in b and (b.get(k) or a.get(k)):
                t.add_row(k, str(b.get(k)), str(a.get(k)))
        t.add_row("reasons", "\n".join(b["reasons"]), "\n".join(a["reasons"]))
        if b.get("missing") or a.get("missing"):
            t.add_row("missing", "\n".join(b["missing"]), "\n".join(a["missing"]))
        console.print(t)
        if res.why():
            console.print("[bold]Why[/bold]")
            for line in res.why():
                console.print(f"  {line}", markup=False, highlight=False)
        _print_list("Changes in between that touch it", res.moved_by)
    elif res.subject == "ledger":
        s = res.to_dict()["summary"]
        console.print(
            f"{head}  {s['rows_changed']:,} row(s) change verdict; newly licensed "
            f"{s['newly_licensed_rows']:,} (${s['newly_licensed_value_usd']:,.0f}), cleared "
            f"{s['cleared_rows']:,} (${s['cleared_value_usd']:,.0f})"
        )
        for dim in ("company", "facility", "exporter", "eccn"):
            agg = res.aggregates[dim]
            if agg.is_empty():
                continue
            t = Table(title=f"by {dim}")
            for c in (agg.columns[0], "rows", "newly licensed USD", "cleared USD"):
                t.add_column(c, justify="left" if c == agg.columns[0] else "right")
            for r in agg.head(10).iter_rows(named=True):
                t.add_row(
                    str(r[agg.columns[0]]),
                    f"{r['rows']:,}",
                    f"{r['newly_licensed_value_usd']:,.0f}",
                    f"{r['cleared_value_usd']:,.0f}",
                )
            console.print(t)
        _print_list("Changes in between that touch these rows", res.moved_by)
    else:
        console.print(head)
        _print_list("Rules", res.rules)
        _print_list("Parameters", res.params)


def _print_list(title: str, items: list[dict]) -> None:
    if not items:
        console.print(f"[bold]{title}[/bold]: none")
        return
    console.print(f"[bold]{title}[/bold]")
    for c in items:
        what = f"{c['id']}: {c['change']}"
        src = c.get("source") or ""
        console.print(f"  {c['on']}  {what}" + (f"  [{src}]" if src else ""), markup=False, highlight=False)


def counterfactual_command(
    subject: Annotated[str, typer.Argument(metavar="SPEC|TXN", help="item spec or transaction file (JSON/YAML)")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="evaluate under the rules of this date")] = None,
    facts: Annotated[
        str | None,
        typer.Option(
            "--facts",
            help="comma-separated facts to search instead of the "
            "item's parameters and U.S. content (e.g. tpp,destination)",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """The smallest changes to facts you control (the item's parameters, its U.S. content and technology) that
    flip the classification (SPEC) or the licence verdict (TXN), on the rules' own cut points."""
    from pydantic import ValidationError

    from carveout.counterfactual import counterfactual

    data = _load(subject)
    try:
        res = counterfactual(data, as_of, facts=tuple(f.strip() for f in facts.split(",")) if facts else None)
    except (ValueError, ValidationError) as exc:
        _fail(str(exc))
    if format == "json":
        console.print_json(json.dumps(res.to_dict(), default=str))
        return
    o = res.original
    now = f"licence {o['license_required']}, ECCN {o['eccn']}" if "license_required" in o else f"ECCN {o['eccn']}"
    console.print(f"[bold]{res.subject} on {res.as_of}[/bold]: {now}; searched {', '.join(res.searched)}")
    if res.alternatives:
        t = Table("change", "set", "result", "stops applying")
        for a in res.alternatives:
            result = (
                f"licence {a.result['license_required']} ({a.result['eccn']})"
                if "license_required" in a.result
                else str(a.result["eccn"])
            )
            t.add_row(
                " and ".join(c["constraint"] for c in a.changes),
                ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in a.set_facts.items()),
                result,
                ", ".join(s["rule"] for s in a.stops_applying),
            )
        console.print(t)
    console.print(res.explanation, highlight=False)
