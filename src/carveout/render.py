"""Terminal rendering of one determination, shared by ``carveout check`` under one law or several, so
the two print the same facts in the same words."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from carveout.model import Determination

COLOUR = {"yes": "red", "no": "green", "needs_review": "yellow"}


def print_determination(console: Console, d: Determination, format: str, heading: str = "") -> None:
    """Verdict line, policy, exceptions, authorization and missing facts; then the decision path with
    citations, versions and facts (``explain``, followed by what would settle a needs_review) or a table
    of the rules that fired (``table``)."""
    c = COLOUR[d.license_required]
    lead = f"[bold]{heading}[/bold]: " if heading else ""
    console.print(f"{lead}[bold {c}]licence required: {d.license_required}[/bold {c}]"
                  f"  ECCN {d.eccn or '—'}  as of {d.as_of}  rules {d.rules_version}")
    if d.review_policy:
        console.print(f"review policy: {d.review_policy}")
    if d.license_exceptions:
        console.print(f"licence exceptions available: {', '.join(d.license_exceptions)}")
    if d.authorization:
        console.print(f"authorized under: {d.authorization}")
    if d.missing:
        console.print(f"[yellow]missing facts: {', '.join(d.missing)}[/yellow]")
    if format == "explain":
        from carveout.conditional import print_conditional

        console.print("\n[bold]Decision path[/bold]")
        for i, r in enumerate(d.reasons, 1):
            console.print(f"{i}. [bold]{r.citation}[/bold] — {r.summary}")
            if r.source:
                console.print(f"   version: {r.source}")
            if r.facts:
                console.print(f"   facts used: {', '.join(f'{k}={v}' for k, v in r.facts.items())}")
        print_conditional(console, d)
        return
    t = Table("rule", "citation", "summary")
    for r in d.reasons:
        t.add_row(r.rule, r.citation, r.summary)
    console.print(t)
