"""``carveout serve``, ``carveout keys create``, ``carveout audit verify|show`` (a Typer sub-app; cli.py mounts it).

Mount with ``app.add_typer(service_cli.app)`` (no name) to get the commands at the top level.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from carveout.store import Store, StoreBusy, default_db_path

app = typer.Typer(no_args_is_help=True, help="Service: REST API + web UI, API keys, audit trail.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys for the REST API and the web UI.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail of stored determinations.")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
console = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)

DbOpt = Annotated[Path | None, typer.Option(
    "--db", help=f"DuckDB store (default: $CARVEOUT_DB or {default_db_path()})", show_default=False)]


KeyOpt = Annotated[Path | None, typer.Option(
    "--audit-key", help="file holding the audit HMAC key (default: $CARVEOUT_AUDIT_KEY or <db>.auditkey)",
    show_default=False)]
HeadOpt = Annotated[Path | None, typer.Option(
    "--audit-head", help="file recording the chain's head (default: $CARVEOUT_AUDIT_HEAD or <db>.audithead)",
    show_default=False)]


def _open(db: Path | None, audit_key: Path | None = None, audit_head: Path | None = None) -> Store:
    try:
        return Store(db, audit_key=audit_key, audit_head=audit_head)
    except StoreBusy as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on (keep 127.0.0.1 unless behind a proxy)")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    db: DbOpt = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="UNSAFE for shared use: trust every request (one person, own machine)")] = False,
    max_body_bytes: Annotated[int, typer.Option(help="largest JSON request body")] = 1 << 20,
    max_upload_bytes: Annotated[int, typer.Option(help="largest ledger upload")] = 64 << 20,
    max_ledger_rows: Annotated[int, typer.Option(help="most rows in one uploaded ledger")] = 250_000,
    chunk_rows: Annotated[int, typer.Option(help="rows per batch chunk (one commit each)")] = 1000,
    max_frontier_jobs: Annotated[int, typer.Option(
        help="most frontier jobs queued or running at once (more get 429)")] = 8,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    audit_key: KeyOpt = None,
    audit_head: HeadOpt = None,
    check_batch: Annotated[int | None, typer.Option(
        help="most concurrent /v1/check requests evaluated and committed together (1: no batching)")] = None,
    check_wait_ms: Annotated[float | None, typer.Option(
        help="how long a check waits for others to batch with, in ms")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="a Host name the server answers to besides loopback and --host (repeatable)")]
    = None,
) -> None:
    """Run the REST API and web UI with uvicorn."""
    import dataclasses
    import os

    import uvicorn

    from carveout.service.app import Settings, create_app
    from carveout.service.guard import LOOPBACK

    if no_auth and host not in ("127.0.0.1", "localhost", "::1"):
        err.print("[yellow]warning:[/] --no-auth on a non-loopback address lets anyone on the network in")
    env = Settings.from_env()  # limits without a flag of their own (e.g. CARVEOUT_SESSION_TTL) come from here
    settings = dataclasses.replace(
        env, db=db or default_db_path(), no_auth=no_auth, max_body_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes, max_ledger_rows=max_ledger_rows, chunk_rows=chunk_rows,
        chunk_pause=float(os.environ.get("CARVEOUT_CHUNK_PAUSE") or 0), max_frontier_jobs=max_frontier_jobs,
        audit_key=audit_key or env.audit_key, audit_head=audit_head or env.audit_head,
        check_batch=env.check_batch if check_batch is None else check_batch,
        check_wait_ms=env.check_wait_ms if check_wait_ms is None else check_wait_ms,
        allowed_hosts=_hosts(host, [*(allowed_host or []), *(h for h in env.allowed_hosts if h not in LOOPBACK)]))
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        application = create_app(settings)
        uvicorn.run(application, host=host, port=port, log_level=log_level, access_log=log_level == "debug")
    except StoreBusy as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from e


def _hosts(host: str, extra: list[str]) -> tuple[str, ...]:
    """Host header values to answer: loopback names, the bound address (unless a wildcard), and --allowed-host."""
    out = ["127.0.0.1", "localhost", "::1", "[::1]"]
    if host not in ("0.0.0.0", "::", ""):
        out.append(host)
    return tuple(dict.fromkeys([*out, *(h.strip().lower() for h in extra if h.strip())]))


@keys_app.command("create")
def keys_create(db: DbOpt = None,
                label: Annotated[str | None, typer.Option(help="who or what the key is for")] = None) -> None:
    """Make an API key and print it once; only its salted sha256 is stored."""
    store = _open(db)
    try:
        key = store.create_key(label)
    finally:
        store.close()
    err.print("New API key (shown once; store it now):")
    print(key)


@keys_app.command("list")
def keys_list(db: DbOpt = None) -> None:
    """Key ids, labels and dates (never the keys)."""
    store = _open(db)
    try:
        t = Table("id", "label", "created", "revoked")
        for k in store.keys():
            t.add_row(k["id"], k["label"] or "", k["created_at"][:19], (k["revoked_at"] or "")[:19])
        console.print(t)
    finally:
        store.close()


@keys_app.command("revoke")
def keys_revoke(key_id: str, db: DbOpt = None) -> None:
    """Revoke a key by id (the part after ``co_``)."""
    store = _open(db)
    try:
        ok = store.revoke_key(key_id)
    finally:
        store.close()
    if not ok:
        err.print(f"[red]no live key {key_id}[/]")
        raise typer.Exit(1)
    err.print(f"revoked {key_id}")


@audit_app.command("verify")
def audit_verify(db: DbOpt = None, audit_key: KeyOpt = None, audit_head: HeadOpt = None,
                 as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Check every record against its keyed hash and the head file; report the first bad record (exit 1)."""
    store = _open(db, audit_key, audit_head)
    try:
        v = store.verify()
    finally:
        store.close()
    if as_json:
        print(json.dumps(v.as_dict()))
    elif v.ok:
        console.print(f"[green]audit chain intact[/]: {v.checked} records, head {v.head}")
    else:
        at = f"record {v.first_broken}" if v.first_broken is not None else "a run"
        console.print(f"[red]audit chain broken at {at}[/]: {v.problem} "
                      f"({v.checked} records verified before it)")
    if not v.ok:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(record_id: Annotated[int, typer.Argument(metavar="ID", help="audit record id")],
               db: DbOpt = None,
               as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Show a stored determination and re-run it with today's engine (exit 3 if the answer changed)."""
    from carveout.service.runner import reproduce

    store = _open(db)
    try:
        out = reproduce(store, record_id)
    finally:
        store.close()
    if out is None:
        err.print(f"[red]no audit record {record_id}[/]")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(out, default=str, indent=2))
    else:
        d = out["determination"]
        t = Table(show_header=False, box=None)
        t.add_row("record", f"#{d['id']}  run {d['run_id']} row {d['row_no']}  ({d['created_at']})")
        t.add_row("stored verdict", f"{d['license_required']}  eccn {d['eccn']}")
        t.add_row("stored reasons", ", ".join(d["reasons"] or []))
        t.add_row("rules version", d["rules_version"] or "")
        t.add_row("scenario", d["scenario"] or "")
        t.add_row("inputs hash", d["audit"]["inputs_hash"] if d.get("audit") else "(missing)")
        again = out.get("reproduced")
        if again:
            t.add_row("today's verdict", f"{again['license_required']}  eccn {again['eccn']}  ({out['method']})")
            t.add_row("today's rules", again["rules_version"]
                      + ("  [yellow](changed)[/]" if out["rules_version_changed"] else "  (same)"))
            t.add_row("same answer", "[green]yes[/]" if out["same_answer"] else "[red]no[/]")
        else:
            t.add_row("re-run", out.get("note", ""))
        console.print(t)
        if again:
            for i, r in enumerate(again["explained"], 1):
                console.print(f"  {i}. [bold]{r['rule']}[/] — {r['citation']}\n     {r['summary']}")
    if out.get("same_answer") is False:
        raise typer.Exit(3)


if __name__ == "__main__":
    app()
