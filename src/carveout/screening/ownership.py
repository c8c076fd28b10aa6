"""Affiliates rule (90 FR 47201): parties owned 50 % or more by listed parties inherit the listing.

Ownership comes from CSV files `parent,child,percent[,source]`: a small sourced default shipped in
carveout/data/ownership_default.csv plus the user's own. Aggregation follows the 50 % rule as BIS modelled
it on OFAC's: an entity is restricted when the stakes held by listed or already-restricted entities add up
to >= 50 %, directly or through restricted intermediaries; this is a fixed point over the graph, so cycles
terminate. The rule is dated: in force 2025-09-29..2025-11-09, suspended 2025-11-10..2026-11-09, back from
2026-11-10."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ListFormatError
from .normalize import normalize

if TYPE_CHECKING:
    from .screener import AffiliateFinding, Screener

RULE_CITE = "90 FR 47201 (FR Doc 2025-19001)"
RULE_START = date(2025, 9, 29)
SUSPENDED_FROM = date(2025, 11, 10)
SUSPENDED_UNTIL = date(2026, 11, 9)
REIMPOSED = date(2026, 11, 10)
THRESHOLD = 50.0
# Lists whose parties pass restrictions to affiliates; the rule names the Entity List, the MEU list and
# certain 744.8 SDN programmes (we take all SDN entries: over-inclusive, flagged for review by the note).
AFFILIATE_LISTS = {"EL": 3, "SDN": 2, "MEU": 1}


@lru_cache(maxsize=4096)
def rule_status(as_of: date) -> tuple[bool, str]:
    """Whether the Affiliates rule applies on `as_of`, and a sentence saying why."""
    if as_of < RULE_START:
        return False, f"Affiliates rule ({RULE_CITE}) not yet in force on {as_of} (effective {RULE_START})"
    if as_of < SUSPENDED_FROM:
        return True, f"Affiliates rule ({RULE_CITE}) in force on {as_of}"
    if as_of <= SUSPENDED_UNTIL:
        return False, (
            f"Affiliates rule ({RULE_CITE}) suspended {SUSPENDED_FROM}..{SUSPENDED_UNTIL}; "
            f"ownership not applied on {as_of}"
        )
    return True, f"Affiliates rule ({RULE_CITE}) in force again from {REIMPOSED}"


@dataclass
class Edge:
    parent: str
    child: str
    percent: float
    source: str | None


def read_ownership_csv(text: str, path: str) -> list[Edge]:
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    if not {"parent", "child", "percent"} <= set(cols):
        raise ListFormatError(path, 1, None, f"header must be parent,child,percent[,source]; got {reader.fieldnames}")
    reader.fieldnames = cols
    edges = []
    for rec in reader:
        line = reader.line_num
        parent, child = (rec.get("parent") or "").strip(), (rec.get("child") or "").strip()
        if not parent:
            raise ListFormatError(path, line, "parent", "empty parent name")
        if not child:
            raise ListFormatError(path, line, "child", "empty child name")
        raw = (rec.get("percent") or "").strip().rstrip("%")
        try:
            pct = float(raw)
        except ValueError:
            raise ListFormatError(path, line, "percent", f"{raw!r} is not a number") from None
        if not 0 <= pct <= 100:
            raise ListFormatError(path, line, "percent", f"{pct} is outside 0..100")
        edges.append(Edge(parent, child, pct, (rec.get("source") or "").strip() or None))
    return edges


@dataclass
class _Listed:
    list_code: str
    party_id: str
    name: str
    el_footnote: int | None

    def rank(self) -> tuple[int, int]:
        return AFFILIATE_LISTS.get(self.list_code, 0), 1 if self.el_footnote else 0


@dataclass
class OwnershipGraph:
    edges: list[Edge] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, spec: str | Path | list[str | Path] | None = "default") -> OwnershipGraph:
        """`"default"` = packaged default only; a path or list of paths = default plus those; None = none."""
        if spec is None:
            return cls()
        res = resources.files("carveout").joinpath("data", "ownership_default.csv")
        graph = cls(
            read_ownership_csv(res.read_text("utf-8"), "carveout/data/ownership_default.csv"),
            ["carveout/data/ownership_default.csv"],
        )
        if spec == "default":
            return graph
        for p in spec if isinstance(spec, list) else [spec]:
            path = Path(p)
            if not path.exists():
                raise ListFormatError(path, None, None, "ownership file not found")
            graph.edges += read_ownership_csv(path.read_text("utf-8-sig"), str(path))
            graph.sources.append(str(path))
        return graph

    def _node_of(self, name: str) -> tuple[str, ...]:
        return normalize(name)

    def affiliate_of(self, name: str, country: str | None, as_of: date, screener: Screener) -> AffiliateFinding:
        from .screener import T_HIGH, AffiliateFinding, OwnershipLink

        in_force, note = rule_status(as_of)
        if not in_force:
            return AffiliateFinding(rule_in_force=False, note=note)
        target = self._node_of(name)
        nodes: dict[tuple[str, ...], str] = {}
        for e in self.edges:
            nodes.setdefault(self._node_of(e.parent), e.parent)
            nodes.setdefault(self._node_of(e.child), e.child)
        if target not in nodes:
            return AffiliateFinding(
                rule_in_force=True,
                note=note + "; no ownership records for this name in " + ", ".join(self.sources),
            )
        listed: dict[tuple[str, ...], _Listed] = {}
        for key in nodes:
            if key == target:
                continue
            scored = screener._score_party_names([key], None)
            for score, pi, _nid, _d in scored[:3]:
                row = screener._rows[pi]
                if score >= T_HIGH and row["list_code"] in AFFILIATE_LISTS:
                    since = row["listed_since"]
                    if since and since > as_of:
                        continue
                    cand = _Listed(row["list_code"], row["party_id"], row["name"], row["el_footnote"])
                    if key not in listed or cand.rank() > listed[key].rank():
                        listed[key] = cand
        # fixed point: add children whose restricted owners hold >= 50 % in aggregate
        owners: dict[tuple[str, ...], list[Edge]] = {}
        for e in self.edges:
            owners.setdefault(self._node_of(e.child), []).append(e)
        restricted: dict[tuple[str, ...], float] = {k: 100.0 for k in listed}
        order: dict[tuple[str, ...], int] = dict.fromkeys(listed, 0)  # when each node became restricted
        changed = True
        while changed:
            changed = False
            for child, es in owners.items():
                if child in restricted:
                    continue
                agg = sum(e.percent for e in es if self._node_of(e.parent) in restricted)
                if agg >= THRESHOLD:
                    restricted[child] = min(agg, 100.0)
                    order[child] = len(order)
                    changed = True
        if target not in restricted:
            agg = sum(e.percent for e in owners.get(target, []) if self._node_of(e.parent) in restricted)
            return AffiliateFinding(
                rule_in_force=True,
                affiliate=False,
                aggregate_percent=agg,
                note=note + f"; restricted owners hold {agg:g} % (< {THRESHOLD:g} %)",
            )
        # walk back through restricted owners to the listed roots
        chain: list[OwnershipLink] = []
        roots: list[_Listed] = []
        seen: set[tuple[str, ...]] = set()
        frontier = [target]
        while frontier:
            node = frontier.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in listed:
                roots.append(listed[node])
                continue
            for e in owners.get(node, []):
                pk = self._node_of(e.parent)
                # only owners restricted before this node explain it (keeps cycles out of the chain)
                if pk in restricted and order[pk] < order[node]:
                    chain.append(OwnershipLink(parent=e.parent, child=e.child, percent=e.percent, source=e.source))
                    frontier.append(pk)
        top = max(roots, key=lambda r: r.rank())
        return AffiliateFinding(
            rule_in_force=True,
            affiliate=True,
            note=note + "; inherits the most restrictive owner's listing",
            inherited_list=top.list_code,
            inherited_party_id=top.party_id,
            inherited_party=top.name,
            el_footnote=top.el_footnote,
            aggregate_percent=restricted[target],
            chain=chain,
        )
