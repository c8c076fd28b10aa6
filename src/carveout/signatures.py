"""Signatures and the verdict cache: which rows the rules cannot tell apart, and what they answered.

A row's verdict depends only on its *signature*: the facts the rules of its epoch read, with each
continuous fact replaced by its *bucket* among the thresholds those rules compare it against (a TPP of
4,000 and one of 4,100 meet exactly the same tests of 3A090). So a ledger costs one evaluation per
distinct signature, distinct signatures are bounded by the rules rather than by the data, and a verdict
once computed is kept, under that key, in a bounded LRU on the rule set for the next call.

The key of a signature is a plain tuple (epoch, then one value or bucket per fact the epoch's rules
read), so two keys are equal only when the facts are; the 64-bit hashes below only group rows.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from carveout.rules.cutpoints import _OPS, _literal

NAN = "nan"  # the bucket of NaN: it compares like no number does


@dataclass(frozen=True)
class Buckets:
    """Per continuous fact, the sorted thresholds it is compared against; a fact used in any other way
    (arithmetic, a comparison with another column, a function) is not bucketed and keys on its value."""

    cuts: dict[str, tuple[float, ...]]

    def code(self, fact: str, x: float | None) -> Hashable:
        """``#{t <= x} + #{t < x}``: even between thresholds, odd on one, so equal codes mean equal
        answers to every ``<, <=, ==, !=, >=, >`` against every threshold. A 1-tuple, so a key holding a
        bucket never equals one holding the value itself."""
        if x is None:
            return None
        if math.isnan(x):
            return (NAN,)
        ts = self.cuts[fact]
        return (bisect.bisect_right(ts, x) + bisect.bisect_left(ts, x),)

    def expr(self, fact: str) -> pl.Expr:
        """``code`` as a Polars expression (UInt16; NaN is 65535, null stays null), for grouping rows."""
        col = pl.col(fact)
        ts = self.cuts[fact]
        parts = [(col >= t).cast(pl.UInt16) + (col > t).cast(pl.UInt16) for t in ts] or [pl.lit(0, pl.UInt16)]
        code = pl.sum_horizontal(parts).cast(pl.UInt16)
        return pl.when(col.is_null()).then(None).when(col.is_nan()).then(pl.lit(65535, pl.UInt16)).otherwise(code)

    @staticmethod
    def merge(many: Iterable[Buckets]) -> Buckets:
        """Facts bucketable under every one of ``many``, cut at the union of their thresholds (a finer
        partition than each: still exact for each)."""
        many = list(many)
        if not many:
            return Buckets({})
        common = set.intersection(*(set(b.cuts) for b in many))
        return Buckets({f: tuple(sorted({t for b in many for t in b.cuts[f]})) for f in sorted(common)})


def analyse(exprs: Iterable[pl.Expr], candidates: Iterable[str],
            bounds: Mapping[str, Iterable[float]] | None = None) -> Buckets:
    """Which of ``candidates`` (float facts) ``exprs`` only ever compare with literals or test for null,
    and against which values. Read from the serialised expression trees, so a new threshold or rule is
    picked up without code; anything the walk does not recognise makes the fact unbucketed (exact).

    ``bounds`` are cut too: the limits of a fact's valid range (0, 100, infinity), so a value outside it
    (-5, inf) never shares a bucket, and so a representative, with a valid one. Validation runs on the
    representatives, so without these cuts an ``inf`` could borrow the verdict of a large finite TPP."""
    cands = set(candidates)
    cuts: dict[str, set[float]] = {c: set((bounds or {}).get(c, ())) for c in cands}
    bad: set[str] = set()
    for e in exprs:
        if not cands & set(e.meta.root_names()):
            continue
        _walk(json.loads(e.meta.serialize(format="json")), cands, cuts, bad)
    return Buckets({c: tuple(sorted(cuts[c])) for c in sorted(cands - bad)})


def _bare(node: object) -> str | None:
    return node["Column"] if isinstance(node, dict) and isinstance(node.get("Column"), str) else None


def _walk(node: object, cands: set[str], cuts: dict[str, set[float]], bad: set[str]) -> None:
    if isinstance(node, list):
        for n in node:
            _walk(n, cands, cuts, bad)
        return
    if not isinstance(node, dict):
        return
    col = _bare(node)
    if col is not None:  # reached a candidate column in a use the cases below did not account for
        if col in cands:
            bad.add(col)
        return
    if "BinaryExpr" in node:
        b = node["BinaryExpr"]
        op = _OPS.get(b["op"]) if isinstance(b["op"], str) else None
        if op:
            for side, other in ((b["left"], b["right"]), (b["right"], b["left"])):
                c = _bare(side)
                if c in cands:
                    lits = _values(other)
                    nums = [v for v in lits or [] if v is not None]
                    if lits is None or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in nums):
                        bad.add(c)
                    else:
                        cuts[c].update(float(v) for v in nums)
                    _walk(other, cands, cuts, bad)
                    return
        _walk(b["left"], cands, cuts, bad)
        _walk(b["right"], cands, cuts, bad)
        return
    if "Function" in node:
        fn = node["Function"]
        kind = fn.get("function")
        inputs = fn.get("input", [])
        if kind in ({"Boolean": "IsNull"}, {"Boolean": "IsNotNull"}) and len(inputs) == 1 and _bare(inputs[0]):
            return  # nullness survives bucketing
    for v in node.values():
        _walk(v, cands, cuts, bad)


def _values(node: object) -> list | None:
    """The values a comparison's other side can take when it is a literal or a when/then/otherwise whose
    branches are literals (the predicate may read anything); None for any other shape (arithmetic,
    casts, columns), which leaves the fact unbucketed."""
    if not isinstance(node, dict):
        return None
    if "Literal" in node:
        return _literal(node["Literal"]) or None
    if "Ternary" in node:
        t, f = _values(node["Ternary"]["truthy"]), _values(node["Ternary"]["falsy"])
        return None if t is None or f is None else t + f
    return None


def signature_hash(exprs: Sequence[pl.Expr]) -> pl.Expr:
    """Combine per-column hashes (differently seeded, odd weights, wrapping u64 arithmetic): about 3-4x
    cheaper than hashing a struct of the same columns. Used only to group rows; keys are exact tuples."""
    return pl.sum_horizontal([e.hash(seed=i + 1) * (2 * i + 1) for i, e in enumerate(exprs)])


class VerdictCache:
    """Bounded LRU: signature key -> one row of verdict columns, held in one Polars frame (appended to,
    compacted when half of it is evicted). One per rule set, so its rules, parameters, publication date
    and fact edits are part of every key by construction; the key itself holds the epoch and the facts."""

    def __getstate__(self) -> dict:  # a rule set travels to worker processes without its cache
        return {"capacity": self.capacity}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["capacity"])

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self.slots: OrderedDict[tuple, int] = OrderedDict()
        self.frame: pl.DataFrame | None = None
        self.lock = threading.RLock()
        self.hits = self.misses = 0

    def resolve(self, keys: list[tuple], compute: Callable[[list[int]], pl.DataFrame]) -> pl.DataFrame:
        """The verdict row of each key, in order; ``compute(positions)`` evaluates the keys not cached
        (positions into ``keys``) and returns their rows in that order."""
        with self.lock:
            slots = [self.slots.get(k) for k in keys]
            todo = [i for i, s in enumerate(slots) if s is None]
            for k, s in zip(keys, slots, strict=True):
                if s is not None:
                    self.slots.move_to_end(k)
            self.hits += len(keys) - len(todo)
            self.misses += len(todo)
            if todo:
                fresh = compute(todo)
                base = 0 if self.frame is None else self.frame.height
                self.frame = fresh if self.frame is None else pl.concat([self.frame, fresh], how="vertical_relaxed")
                for j, i in enumerate(todo):
                    self.slots[keys[i]] = slots[i] = base + j
            assert self.frame is not None
            out = self.frame[pl.Series(slots, dtype=pl.UInt32)]
            self._evict()
            return out

    def _evict(self) -> None:
        while len(self.slots) > self.capacity:
            self.slots.popitem(last=False)
        assert self.frame is not None
        if self.frame.height > 2 * max(len(self.slots), 1024):
            live = list(self.slots.items())
            self.frame = self.frame[pl.Series([s for _, s in live], dtype=pl.UInt32)]
            self.slots = OrderedDict((k, i) for i, (k, _) in enumerate(live))
        elif self.frame.n_chunks() > 32:
            self.frame = self.frame.rechunk()

    def clear(self) -> None:
        with self.lock:
            self.slots.clear()
            self.frame = None
