"""Variants of one shipment: the same facts with one or a few changed, evaluated as extra rows of one
``engine.evaluate`` call. Conditional answers, counterfactuals and ``changes`` are all built on this.

The values a fact is tried at come from the rules (``rules.cutpoints``): numbers at a readable point of
every region between the thresholds the rules compare them against, categories at the values the rules
test (ECCNs also at the Country Chart's entries and paragraphs, which the chart rule compares as hashes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import polars as pl

from carveout import engine
from carveout.facts import END_USES, ITEM_KINDS, SCHEMA, TRANSACTION_TYPES
from carveout.model import fact_paths
from carveout.rules.cutpoints import CutPoints, cut_points
from carveout.rules.registry import Rule

# Frame column -> where it sits in a Transaction (dotted path): the models' one mapping.
_PATHS = fact_paths()
# Names shown to the user where they differ from the frame's column (the ledger's and ItemSpec's word).
PUBLIC = {"eccn_declared": "eccn"}
COLUMN = {v: k for k, v in PUBLIC.items()}
COUNTRY_FACTS = ("destination", "ship_from", "end_user_country", "end_user_hq_country", "exporter_hq_country")
ECCN_FACTS = ("eccn_declared", "base_eccn")
_CATEGORY = {"ic": "3A", "hbm": "3A", "computer": "4A", "equipment": "3B", "software": "3D", "technology": "3E"}
# Facts the item passes through (the engine's derived columns): tried values must not be stale.
DERIVED = ("tpp", "performance_density")


def column(fact: str) -> str:
    return COLUMN.get(fact, fact)


def public(col: str) -> str:
    return PUBLIC.get(col, col)


def txn_with(txn: dict, changes: dict[str, Any]) -> dict:
    """A Transaction (as a dict) with facts set, by frame column or public name: the check() side of a
    variant, used to confirm that a variant's answer is what ``check`` says."""
    out = _deepcopy(txn)
    for fact, value in changes.items():
        col = column(fact)
        path = _PATHS.get(col, col).split(".")
        node = out
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if col == "tpp":  # TPP given directly wins over MacTOPS in ItemSpec
            for k in ("mac_tops", "bit_length", "precisions", "processing_units"):
                node.pop(k, None)
        if col == "memory_bandwidth_density_gb_s_mm2":
            node.pop("package_area_mm2", None)
        node[path[-1]] = value
    return out


def _deepcopy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


def eccn_candidates(cp: CutPoints, rules: Iterable[Rule], params: Any) -> list[str]:
    """ECCNs the rules tell apart: the literals they test, the 3A090/4A090 labels they yield, EAR99, and
    the Country Chart's Category 3-5 entries with each paragraph the chart names."""
    out: list[str] = ["EAR99"]
    for col in ("eccn", "ccl_eccn", "base_eccn", "eccn_declared"):
        out += [str(v) for v in cp.values(col)]
    out += [r.yields for r in rules if r.stage == "classify" and r.yields]
    for eccn, items in sorted((params.get("ccl_column_controls") or {}).items()):
        if eccn[:1] not in "345":
            continue
        out.append(eccn)
        for c in items:
            if isinstance(c.get("applies"), list):
                out += [f"{eccn}.{para}" for para in c["applies"]]
    return list(dict.fromkeys(out))


def candidates(col: str, cp: CutPoints, row: dict, rules: Sequence[Rule], params: Any) -> list[Any]:
    """Values worth trying for one fact (frame column) of ``row``: one per region the rules distinguish."""
    dtype = SCHEMA[col][0] if col in SCHEMA else pl.String()
    if dtype == pl.Boolean():
        return [True, False]
    if col == "die_area_mm2":  # read through performance density = TPP / area
        tpp = row.get("tpp")
        reps = [r for r in cp.representatives("performance_density") if r > 0]
        return sorted({round(tpp / r, 3) for r in reps}) if tpp and reps else [100.0, 800.0]
    if col in ("mac_tops", "bit_length"):
        return []
    if dtype.is_numeric():
        if dtype.is_integer():
            return sorted({0, *(int(v) for v in cp.values(col))})
        return cp.representatives(col)
    if col in ECCN_FACTS:  # the item's own CCL category first, so it leads each group of equal answers
        pref = _CATEGORY.get(row.get("item_kind") or "", "")
        found = eccn_candidates(cp, rules, params)
        if col == "base_eccn":  # the entry the item would sit in *otherwise*: not 3A090/4A090, not a .z
            found = [e for e in found if not re.match(r"^[34]A090|.*\.z", e)]
        return sorted(found, key=lambda e: (e != "EAR99", not (pref and e.startswith(pref)), found.index(e)))
    if col == "item_kind":
        return list(ITEM_KINDS)
    if col == "end_use":
        return [e for e in END_USES if e != "unknown"]
    if col == "transaction_type":
        return list(TRANSACTION_TYPES)
    if col in COUNTRY_FACTS:
        marks = params.get("country_chart_marks") or {}
        return sorted({"US", *marks, *(str(v) for v in cp.values(col))})
    return [str(v) for v in cp.values(col)]


def evaluate_variants(
    base: dict, changes: Sequence[dict[str, Any]], as_of: date | None, ruleset: engine.RuleSet | None = None
) -> pl.DataFrame:
    """Evaluate ``base`` (facts-frame row) with each set of changes, all in one ``evaluate`` call.

    Derived facts the caller did not give (TPP from MacTOPS, performance density) are cleared so they
    follow the changed inputs; screening is off because ``base`` already carries its result."""
    from carveout.api import frame_of

    rows = []
    for ch in changes:
        r = dict(base)
        for k, v in ch.items():
            col = column(k)
            r[col] = v
            if col in ("tpp", "die_area_mm2", "mac_tops", "bit_length"):
                r["performance_density"] = base.get("_given_pd")
            if col == "tpp":
                r["mac_tops"] = r["bit_length"] = None
        rows.append(r)
    frame = frame_of(rows) if rows else frame_of([base]).clear()
    return engine.evaluate(frame, as_of=as_of, ruleset=ruleset, screen=False)


def base_facts(frame: pl.DataFrame, evaluated: pl.DataFrame) -> dict:
    """The facts of a one-row input frame, with the screening result the evaluation filled in."""
    row = frame.row(0, named=True)
    out = evaluated.row(0, named=True)
    facts = {k: row.get(k) for k in SCHEMA if k != "row"}
    for k in ("end_user_listed", "entity_list_footnote", "end_user_affiliate_of_listed"):
        facts[k] = out.get(k)
    facts["_given_pd"] = row.get("performance_density")
    return facts


def rules_on(day: date, ruleset: engine.RuleSet | None = None) -> tuple[list[Rule], Any, CutPoints]:
    rs = ruleset or engine.BASELINE
    return [r for r in rs.rules if r.active(day)], rs.params(day), cut_points(day, rs)
