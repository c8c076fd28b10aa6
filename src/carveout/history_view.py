"""What the dated regulation looked like on one day, as rows for `carveout rules --as-of D`: the CCL
entries carveout dates (their Reasons for Control and where each reaches) and the country groups."""

from __future__ import annotations

from datetime import date

from carveout.rules.params import params_at
from carveout.rules.part738 import HISTORY, controls_on

GROUPS = ("A:5", "A:6", "D:1", "D:3", "D:4", "D:5", "E:1", "E:2")


def _scope(c: dict) -> str:
    if "column" in c:
        return f"Country Chart {c['column']}"
    if "handled_by" in c:
        return f"rule {c['handled_by']}"
    if "defer" in c:
        return f"not binding: {c['defer']}"
    if "unresolved" in c:
        return f"needs_review: {c['unresolved']}"
    if c.get("worldwide"):
        return "worldwide" + (f" except {', '.join(c['except'])}" if c.get("except") else "")
    if "none" in c:
        return c["none"]
    parts = list(c.get("countries", [])) + list(c.get("destinations", [])) + list(c.get("groups", []))
    out = " or ".join(parts)
    if c.get("exclude_groups"):
        out += f" (not {'/'.join(c['exclude_groups'])})"
    if c.get("hq"):
        out += "; also Macau/D:5-headquartered end users"
    return out


def ccl_rows(day: date) -> list[tuple[str, str, str, str]]:
    """(ECCN, reason and paragraphs, scope, version source) for every dated CCL entry on ``day``."""
    p = params_at(day)
    controls = controls_on(p)
    rows = []
    for name in sorted(k for k in p.as_dict() if k.startswith(HISTORY)):
        eccn = name[len(HISTORY):]
        src = p.source(name)
        version = f"{src.effective} {src.rule or ''} [{src.confidence or '?'}]" if src else "not modelled"
        for c in controls.get(eccn, []):
            applies = c.get("applies", "entire")
            paras = applies if isinstance(applies, str) else ", ".join(applies)
            rows.append((eccn, f"{c.get('reason', '')} {paras}", _scope(c), version))
    return rows


def group_rows(day: date) -> list[tuple[str, str, str]]:
    """(group, members, version source) on ``day``."""
    p = params_at(day)
    out = []
    for g in GROUPS:
        src = p.source(g)
        out.append((g, ", ".join(p.group(g)), f"{src.effective} {src.rule or ''}" if src else "not modelled"))
    return out
