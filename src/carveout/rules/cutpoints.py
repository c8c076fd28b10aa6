"""Cut points: the thresholds and categorical values each rule compares each fact against.

Read from the rule expressions themselves (Polars' serialised expression tree), never hand-listed, so a
new threshold in a YAML file or a new rule shows up here without code. Three kinds of comparison:

* ``Cut``: a numeric comparison ``fact OP value`` (``>=`` and ``>`` kept apart so a boundary is exact);
* ``Match``: a categorical test: equality (``eq``), membership (``in``), ECCN prefix (``prefix``) or
  regular expression (``regex``);
* ``Opaque``: the fact is compared in a form the tree does not show (e.g. the Country Chart compares
  64-bit hashes of ``ECCN|destination``): its values cannot be enumerated from the expression.

Typical use::

    cp = cut_points(day=date(2024, 6, 1))          # every rule active that day, baseline parameters
    cp.thresholds("tpp")                            # [1600.0, 2400.0, 4800.0]
    cp.cuts_for("tpp")                              # [Cut('tpp', '>=', 4800.0, 'ccl.3a090.a.1'), ...]
    cp.values("end_use")                            # every literal end use some rule distinguishes
    cp.bucket("tpp", 4799.0) == cp.bucket("tpp", 4000.0)   # same truth value for every tpp comparison
    cp.classes("eccn", ["3B001.c", "3B001.c.1", "EAR99"])  # candidates grouped by identical tests

Columns are the frame's column names; engine-computed columns (``eccn``, ``ccl_eccn``, ``ac_level``,
``subject_to_ear``) appear under their own names, the caller decides which facts feed them.
"""

from __future__ import annotations

import bisect
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
_OPS = {
    "GtEq": ">=",
    "Gt": ">",
    "LtEq": "<=",
    "Lt": "<",
    "Eq": "==",
    "NotEq": "!=",
    "EqValidity": "==",
    "NotEqValidity": "!=",
}


@dataclass(frozen=True)
class Cut:
    """``fact OP value`` somewhere in ``rule``'s body."""

    fact: str
    op: str
    value: float
    rule: str

    def holds(self, x: float) -> bool:
        return {
            ">=": x >= self.value,
            ">": x > self.value,
            "<=": x <= self.value,
            "<": x < self.value,
            "==": x == self.value,
            "!=": x != self.value,
        }[self.op]


@dataclass(frozen=True)
class Match:
    """A categorical test: kind is ``eq`` | ``in`` | ``prefix`` | ``regex``; ``values`` its literals."""

    fact: str
    kind: str
    values: tuple[Any, ...]
    rule: str

    def holds(self, x: Any) -> bool:
        if x is None:
            return False
        if self.kind in ("eq", "in"):
            return x in self.values
        s = str(x)
        if self.kind == "prefix":
            return any(s.startswith(v) for v in self.values)
        return any(re.search(v, s) for v in self.values)


@dataclass(frozen=True)
class Opaque:
    """``fact`` is compared in a form the expression does not show (hashes, computed keys)."""

    fact: str
    rule: str


@dataclass
class CutPoints:
    cuts: list[Cut] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    opaque: list[Opaque] = field(default_factory=list)

    def facts(self) -> list[str]:
        return sorted({c.fact for c in self.cuts} | {m.fact for m in self.matches} | {o.fact for o in self.opaque})

    def cuts_for(self, fact: str) -> list[Cut]:
        return sorted((c for c in self.cuts if c.fact == fact), key=lambda c: (c.value, c.op, c.rule))

    def thresholds(self, fact: str) -> list[float]:
        """Distinct numeric values ``fact`` is compared against, ascending."""
        return sorted({c.value for c in self.cuts if c.fact == fact})

    def grid(self, fact: str) -> list[float]:
        """One representative per region where every comparison on ``fact`` keeps its truth value:
        each threshold, the float just below it, and one point above the last (and below the first)."""
        ts = self.thresholds(fact)
        if not ts:
            return []
        pts = {math.nextafter(ts[0], -math.inf)}
        for t in ts:
            pts |= {math.nextafter(t, -math.inf), t, math.nextafter(t, math.inf)}
        return sorted(x for x in pts if x >= 0)  # no fact of the schema is negative

    def representatives(self, fact: str) -> list[float]:
        """A readable value in every region: each threshold, the midpoint between neighbours, half the
        first and twice the last. Same regions as ``grid``, rounder numbers. Every numeric fact of the
        facts schema is a size, share or count, so no region below zero is offered (it holds no valid value)."""
        ts = self.thresholds(fact)
        if not ts:
            return []
        pts = {ts[0] / 2 if ts[0] > 0 else ts[0] - 1, ts[-1] * 2 if ts[-1] > 0 else ts[-1] + 1}
        for lo, hi in zip(ts, ts[1:], strict=False):
            pts.add((lo + hi) / 2)
        return sorted(x for x in pts | set(ts) if x >= 0)

    def bucket(self, fact: str, x: float | None) -> int | None:
        """Region index of ``x``: two values with the same index satisfy exactly the same comparisons."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        ts = self.thresholds(fact)
        i = bisect.bisect_left(ts, x)
        return 2 * i + (1 if i < len(ts) and ts[i] == x else 0)

    def bucket_expr(self, fact: str) -> pl.Expr:
        """``bucket`` as a Polars expression (null stays null), for grouping a frame by region."""
        ts = pl.Series(self.thresholds(fact), dtype=pl.Float64)
        col = pl.col(fact).cast(pl.Float64)
        if ts.is_empty():
            return pl.when(col.is_not_null()).then(pl.lit(0, pl.UInt32))
        idx = pl.lit(ts).search_sorted(col, side="left").cast(pl.UInt32)
        return (2 * idx + col.is_in(ts.implode()).cast(pl.UInt32)).cast(pl.UInt32)

    def matches_for(self, fact: str) -> list[Match]:
        return [m for m in self.matches if m.fact == fact]

    def values(self, fact: str) -> list[Any]:
        """Literal values some rule tests ``fact`` against (equality, membership, prefix without its
        trailing dot); regular expressions are in ``patterns``."""
        out: set[Any] = {c.value for c in self.cuts if c.fact == fact and c.op in ("==", "!=")}
        for m in self.matches_for(fact):
            if m.kind in ("eq", "in"):
                out.update(v for v in m.values if v is not None)
            elif m.kind == "prefix":
                out.update(str(v).rstrip(".") for v in m.values)
        return sorted(out, key=lambda v: (str(type(v)), v))

    def patterns(self, fact: str) -> list[str]:
        return sorted({v for m in self.matches_for(fact) if m.kind == "regex" for v in m.values})

    def signature(self, fact: str, value: Any) -> tuple[bool, ...]:
        """Which categorical tests on ``fact`` ``value`` passes (order fixed per CutPoints)."""
        return tuple(m.holds(value) for m in self.matches_for(fact))

    def classes(self, fact: str, candidates: Iterable[Any]) -> list[list[Any]]:
        """Group candidates the categorical tests cannot tell apart (first-seen order)."""
        groups: dict[tuple[bool, ...], list[Any]] = {}
        for v in candidates:
            groups.setdefault(self.signature(fact, v), []).append(v)
        return list(groups.values())

    def is_opaque(self, fact: str) -> bool:
        return any(o.fact == fact for o in self.opaque)


# --- reading expressions -----------------------------------------------------------------------


_BIG_LITERAL = re.compile(r"\[[0-9,]{20000,}\]")  # e.g. 10^5 serialised hashes: no cut point in there


def _tree(expr: pl.Expr) -> dict:
    return json.loads(_BIG_LITERAL.sub("[]", expr.meta.serialize(format="json")))


def _column(node: Any) -> str | None:
    """The column a node reads when it is a bare column (through casts and aliases)."""
    while isinstance(node, dict):
        if "Column" in node:
            return node["Column"]
        inner = node.get("Cast") or node.get("Alias")
        if inner is None:
            return None
        node = inner.get("expr") if isinstance(inner, dict) else inner[0]
    return None


def _literal(lit: dict) -> list[Any]:
    """The Python value(s) of a serialised literal (list/series literals are Arrow IPC bytes)."""
    for key in ("Dyn", "Scalar"):
        if key in lit:
            inner = lit[key]
            if isinstance(inner, dict):
                ((kind, v),) = inner.items()
                if kind == "Null":
                    return [None]
                if kind == "List":
                    return _ipc(v)
                return [v]
            return [inner]
    if "Series" in lit:
        return _ipc(lit["Series"])
    return []


def _ipc(raw: list[int]) -> list[Any]:
    frame = pl.read_ipc_stream(io.BytesIO(bytes(raw)))
    s = frame.to_series(0)
    if isinstance(s.dtype, pl.List):
        s = s.explode()
    return s.to_list()


def _literals(node: Any) -> list[Any] | None:
    """All literal values under ``node`` if it reads no column (e.g. when/then over literals), else None."""
    out: list[Any] = []

    def walk(n: Any) -> bool:
        if isinstance(n, dict):
            if "Ternary" in n:  # when/then/otherwise: the branches give the value, not the predicate
                return walk(n["Ternary"]["truthy"]) and walk(n["Ternary"]["falsy"])
            if "Column" in n:
                return False
            if "Literal" in n:
                out.extend(_literal(n["Literal"]))
                return True
            return all(walk(v) for v in n.values())
        if isinstance(n, list):
            return all(walk(v) for v in n)
        return True

    return out if walk(node) else None


def _is_hash(node: Any) -> bool:
    """Does the expression hash its input (outside literals, which can hold 10^5 serialised hashes)?"""
    if isinstance(node, dict):
        return any(
            k == "Hash" or (isinstance(v, dict) and "Hash" in v) or (k != "Literal" and _is_hash(v))
            for k, v in node.items()
        )
    if isinstance(node, list):
        return any(_is_hash(v) for v in node)
    return node == "Hash"


def _walk(node: Any, rule: str, cp: CutPoints) -> None:
    if isinstance(node, list):
        for n in node:
            _walk(n, rule, cp)
        return
    if not isinstance(node, dict) or "Literal" in node:
        return
    if "BinaryExpr" in node:
        b = node["BinaryExpr"]
        op = _OPS.get(b["op"]) if isinstance(b["op"], str) else None
        if op:
            for side, other, o in ((b["left"], b["right"], op), (b["right"], b["left"], _FLIP[op])):
                col = _column(side)
                lits = _literals(other) if col else None
                if col and lits:
                    for v in lits:
                        if isinstance(v, bool) or v is None:
                            continue
                        if isinstance(v, (int, float)):
                            cp.cuts.append(Cut(col, o, float(v), rule))
                        elif o in ("==", "!="):
                            cp.matches.append(Match(col, "eq", (v,), rule))
                    break
        _walk(b["left"], rule, cp)
        _walk(b["right"], rule, cp)
        return
    if "Function" in node:
        fn = node["Function"]
        inputs, kind = fn.get("input", []), fn.get("function")
        col = _column(inputs[0]) if inputs else None
        if col and len(inputs) > 1:
            lits = _literals(inputs[1]) or []
            if (
                isinstance(kind, dict)
                and "Boolean" in kind
                and isinstance(kind["Boolean"], dict)
                and "IsIn" in kind["Boolean"]
            ):
                if lits:
                    cp.matches.append(Match(col, "in", tuple(lits), rule))
            elif isinstance(kind, dict) and kind.get("StringExpr") == "StartsWith" and lits:
                cp.matches.append(Match(col, "prefix", tuple(lits), rule))
            elif (
                isinstance(kind, dict)
                and isinstance(kind.get("StringExpr"), dict)
                and "Contains" in kind["StringExpr"]
                and lits
            ):
                literal = kind["StringExpr"]["Contains"].get("literal")
                cp.matches.append(Match(col, "regex", tuple(re.escape(v) if literal else v for v in lits), rule))
        if inputs and _is_hash(inputs[0]) and isinstance(kind, dict) and "Boolean" in kind:
            for c in _columns(inputs[0]):
                cp.opaque.append(Opaque(c, rule))
        _walk(inputs, rule, cp)
        return
    for v in node.values():
        _walk(v, rule, cp)


def _columns(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        if "Column" in node and isinstance(node["Column"], str):
            out.add(node["Column"])
        for k, v in node.items():
            if k != "Literal":
                out |= _columns(v)
    elif isinstance(node, list):
        for v in node:
            out |= _columns(v)
    return out


def expr_cut_points(expr: pl.Expr, rule: str = "") -> CutPoints:
    """Cut points of one expression (``rule`` labels where each came from)."""
    cp = CutPoints()
    _walk(_tree(expr), rule, cp)
    cp.cuts = sorted(set(cp.cuts), key=lambda c: (c.fact, c.value, c.op, c.rule))
    seen: set[Match] = set()
    cp.matches = [m for m in cp.matches if not (m in seen or seen.add(m))]
    cp.opaque = sorted(set(cp.opaque), key=lambda o: (o.fact, o.rule))
    return cp


def cut_points(day: date | None = None, ruleset: Any = None) -> CutPoints:
    """Cut points of every rule active on ``day`` (today) under ``ruleset`` (the baseline); cached with the
    rule set's compiled plans per rule epoch (rules and parameters are constant within an epoch), so rule
    sets that share plans share them and no other rule set can see them. Do not mutate."""
    from carveout.engine import BASELINE
    from carveout.rules.registry import F

    rs = ruleset or BASELINE
    day = day or date.today()
    epoch = rs.epoch(day)
    key = ("cut_points", epoch)
    got = rs.plans.get(key)
    if got is not None:
        return got
    p = rs.params(rs.epoch_start(epoch) if epoch > 0 else day)
    out = CutPoints()
    for r in rs.rules:
        if not r.active(day):
            continue
        one = expr_cut_points(r.body(F, p), r.id)
        out.cuts += one.cuts
        out.matches += one.matches
        out.opaque += one.opaque
    rs.plans[key] = out
    return out
