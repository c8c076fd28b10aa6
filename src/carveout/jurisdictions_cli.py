"""Rendering of ``carveout check --jurisdiction CN`` / ``US,CN``: one block per law, then the combined
verdict (yes if any law says yes; needs_review if any needs review and none says yes)."""

from __future__ import annotations

from datetime import date

from rich.console import Console

from carveout.jurisdictions import check_all, parse
from carveout.model import Transaction
from carveout.render import COLOUR as _COLOUR
from carveout.render import print_determination

_NAMES = {"US": "U.S. (EAR, 15 CFR 730-774)", "CN": "PRC (Export Control Law, MOFCOM/GACC announcements)"}


def print_check(t: Transaction, jurisdiction: str, as_of: date | None, format: str, console: Console,
                err: Console) -> int:
    """Print the determination(s); returns the exit code (2 on a bad --jurisdiction)."""
    try:
        codes = parse(jurisdiction)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        return 2
    res = check_all(t, codes, as_of)
    if format == "json":
        console.print_json(res.model_dump_json())
        return 0
    for j, d in res.jurisdictions.items():
        print_determination(console, d, format, heading=_NAMES[j])
    if len(res.jurisdictions) > 1:
        c = _COLOUR[res.license_required]
        console.print(f"[bold {c}]combined ({' + '.join(res.jurisdictions)}): licence required: "
                      f"{res.license_required}[/bold {c}] (decided by {', '.join(res.decided_by)})")
    return 0
