"""One evaluation path: a facts frame goes through the dated rules and comes out with verdicts.

A single check is a one-row frame, a ledger a million-row frame, a scenario the same frame under other
parameters. Rules are evaluated once per distinct *signature* (the rule epoch and the facts its rules
read, continuous facts by bucket: see ``carveout.signatures``); verdicts are kept per rule set under that
key, so cost grows with distinct signatures not yet seen, not with rows.
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, partial

import polars as pl

from carveout import boundary
from carveout import facts as fx
from carveout.asof import as_date
from carveout.rules import params as prm
from carveout.rules import part738
from carveout.rules.asks import ask
from carveout.rules.registry import F, Rule, all_rules, catalogue, note
from carveout.signatures import Buckets, VerdictCache, analyse, signature_hash

NOT_CAPTURED = "not 3A090/4A090"
AC_FAMILY = r"^[34]A090|\.z"  # declared ECCNs that parameters can contradict
note(
    "engine.no_requirement",
    "15 CFR 730-774 (rules modelled by carveout)",
    "No licence requirement among the modelled rules applies on this date with these facts.",
)
REVIEW = "?"
OPTIONAL = frozenset({"base_eccn", "eccn_declared"})  # facts a rule may read but the user need not give
BASE_MISSING = ("base_eccn (the other CCL entry that describes the item, if any: e.g. 3A001 or 5A002, whose .z "
                "paragraph it then falls in, or 3A991/EAR99 when none; or the entry it falls in while the declared "
                "one does not apply yet)")


@dataclass
class RuleSet:
    """The rules and parameters one evaluation uses: the baseline, or a scenario's variant of it."""

    rules: list[Rule] = field(default_factory=all_rules)
    overrides: list[tuple[date, dict]] = field(default_factory=list)  # (from day, {param: value})
    published_by: date | None = None
    label: str = "baseline"
    plans: dict = field(default_factory=dict, repr=False, compare=False)  # epoch -> cached plan
    buckets: dict = field(default_factory=dict, repr=False, compare=False)  # (epoch, columns) -> key layout
    # Verdicts by signature key; one cache per rule set, so everything the rule set holds is in the key.
    verdicts: VerdictCache = field(default_factory=VerdictCache, repr=False, compare=False)
    # Frame -> frame edits applied to the facts after screening and before the rules (e.g. a scenario's
    # Entity List additions/removals); each may read the ``day`` column. Picklable callables.
    fact_edits: tuple = ()
    jurisdiction: str = "US"  # only this jurisdiction's rules run (registry.Rule.jurisdiction)

    @cached_property
    def boundaries(self) -> list[date]:
        days = set(prm.change_dates(self.jurisdiction))
        for r in self.rules:
            if r.jurisdiction == self.jurisdiction:
                days.update(r.boundaries())
        days.update(d for d, _ in self.overrides)
        return sorted(days)

    @cached_property
    def bounds(self) -> pl.Expr:
        return pl.lit(pl.Series(self.boundaries, dtype=pl.Date))

    def epoch(self, day: date) -> int:
        return bisect.bisect_right(self.boundaries, day)

    def epoch_start(self, epoch: int) -> date:
        return self.boundaries[epoch - 1] if epoch > 0 else date.min

    def params(self, day: date) -> prm.Params:
        p = prm.params_at(day, self.published_by)
        for start, values in sorted(self.overrides, key=lambda o: o[0]):
            if day >= start:
                p = p.with_overrides(values)
        return p

    def version(self, epoch: int) -> str:
        start = self.epoch_start(epoch)
        tag = ("" if self.label == "baseline" else f"+{self.label}") + (
            "" if self.jurisdiction == "US" else f"+{self.jurisdiction}")
        first = "2022-10-07" if self.jurisdiction == "US" or not self.boundaries else self.boundaries[0].isoformat()
        day = f"pre-{first}" if epoch == 0 else start.isoformat()
        return f"{day}@{prm.content_hash()}{tag}"

    def reason_ids(self) -> list[str]:
        ids = list(catalogue())
        ids += [r.id for r in self.rules if r.id not in ids]
        return ids


BASELINE = RuleSet()


def _root_facts(expr: pl.Expr) -> set[str]:
    return {c for c in expr.meta.root_names() if c not in fx.COMPUTED}


def _chain(conds: Sequence[tuple[str, pl.Expr]], none: str) -> pl.Expr:
    """First label whose condition is True; a null condition before it makes the answer unknown."""
    out: pl.Expr | None = None
    for label, cond in reversed(conds):
        nxt = pl.lit(none) if out is None else out
        out = pl.when(cond).then(pl.lit(label)).when(cond.is_null()).then(pl.lit(REVIEW)).otherwise(nxt)
    return out if out is not None else pl.lit(none)


def _missing(result: pl.Expr, facts: Iterable[str]) -> list[pl.Expr]:
    out = []
    for f in sorted(facts):
        if f in fx.MISSING_WHEN:
            for src, label in fx.MISSING_WHEN[f]:
                gone = pl.col(src).is_null() | (pl.col(src) <= 0 if src == "die_area_mm2" else pl.lit(False))
                out.append(
                    pl.when(result.is_null() & pl.col(f).is_null() & gone).then(
                        pl.lit(label or fx.DERIVED_FROM.get(src, src))
                    )
                )
        else:
            out.append(pl.when(result.is_null() & pl.col(f).is_null()).then(pl.lit(fx.DERIVED_FROM.get(f, f))))
    return out


def _ids(pairs: Iterable[tuple[str, pl.Expr]]) -> pl.Expr:
    exprs = [pl.when(cond).then(pl.lit(rid)) for rid, cond in pairs]
    if not exprs:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(exprs).list.drop_nulls()


def _conflict(declared: pl.Expr) -> pl.Expr:
    """A declared ECCN and a base ECCN that name different CCL entries (a 3A090/.z declaration over a
    base entry is not a conflict: that is what .z items are)."""
    base = pl.col("base_eccn")
    return (
        declared.is_not_null()
        & base.is_not_null()
        & ~declared.str.contains(AC_FAMILY)
        & (declared.str.slice(0, 5) != base.str.slice(0, 5))
    ).fill_null(False)


class _Steps:
    """The with_columns/drop calls of the stages, recorded once per rule epoch and replayed on each frame
    of signatures: building ~70 rule expressions costs as much as running them on a small frame."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []

    def with_columns(self, *exprs: pl.Expr, **named: pl.Expr) -> _Steps:
        self.ops.append(("with", exprs, named))
        return self

    def drop(self, columns: list[str]) -> _Steps:
        self.ops.append(("drop", columns))
        return self

    def fill_missing(self, review: pl.Expr, named: pl.Expr) -> _Steps:
        """Missing facts matter only where the answer is needs_review: the (large) expression that names
        them runs on those signatures alone."""
        self.ops.append(("missing", review, named))
        return self

    def expressions(self) -> list[pl.Expr]:
        """Every expression the steps run (what the signature buckets must keep exact)."""
        out: list[pl.Expr] = []
        for op in self.ops:
            if op[0] == "with":
                out += [*op[1], *op[2].values()]
            elif op[0] == "missing":
                out += [op[1], op[2]]
        return out

    def apply(self, df: pl.DataFrame) -> pl.DataFrame:
        for op in self.ops:
            if op[0] == "with":
                df = df.with_columns(*op[1], **op[2])
            elif op[0] == "drop":
                df = df.drop(op[1])
            elif df.select(op[1].any()).item():
                df = pl.concat(
                    [
                        df.filter(~op[1]).with_columns(missing=pl.col("_class_missing")),
                        df.filter(op[1]).with_columns(missing=op[2]),
                    ],
                    how="vertical_relaxed",
                )
            else:
                df = df.with_columns(missing=pl.col("_class_missing"))
        return df


def _classify(sig: _Steps, rules: list[Rule], p: prm.Params, day: date) -> _Steps:
    """Part 774: which 3A090/4A090 paragraph (or .z, or none) the item falls in."""
    cls = [r for r in rules if r.stage == "classify"]
    bodies = {r.id: r.body(F, p).cast(pl.Boolean) for r in cls}
    labels: dict[str, list[str]] = {}
    for r in cls:
        labels.setdefault(r.yields or r.id, []).append(r.id)
    conds = [(lab, pl.any_horizontal([bodies[i] for i in ids])) for lab, ids in labels.items()]
    # any_horizontal is Kleene: True if any True, null if none True and any null.
    sig = sig.with_columns(**{f"_c:{i}": e for i, e in bodies.items()})
    conds = [(lab, pl.any_horizontal([pl.col(f"_c:{i}") for i in ids])) for lab, ids in labels.items()]
    label = _chain(conds, NOT_CAPTURED)
    declared = pl.col("eccn_declared").str.strip_chars()
    uses_specs = pl.col("item_kind").is_in(["ic", "computer", "hbm"]) | (
        (pl.col("item_kind") == "equipment") & pl.col("equipment_type").is_not_null())  # SME from its parameters
    # A declared ECCN is the exporter's classification; parameters, when given, are checked against it.
    eccn = (
        pl.when(declared.is_not_null() & ~uses_specs.fill_null(False))
        .then(declared)
        .when(pl.col("_label") == REVIEW)
        .then(declared)  # unknown parameters: fall back on the declaration
        .when(pl.col("_label") == NOT_CAPTURED)
        # below the thresholds: the base ECCN, else a declared ECCN outside the 3A090 family, else unknown
        .then(
            pl.coalesce(
                pl.col("base_eccn"), pl.when(~declared.str.contains(AC_FAMILY)).then(declared), pl.lit(NOT_CAPTURED)
            )
        )
        .otherwise(pl.col("_label"))
    )
    fired = [(i, pl.col(f"_c:{i}")) for r in cls for i in [r.id]]
    missing = [m for r in cls for m in _missing(pl.col(f"_c:{r.id}"), _root_facts(bodies[r.id]))]
    sig = sig.with_columns(_label=label).with_columns(
        eccn=eccn,
        classification=pl.when(pl.col("_label") == REVIEW).then(None).otherwise(pl.col("_label")),
        _class_reasons=pl.concat_list(
            [
                _ids(fired),
                pl.when(declared.is_not_null() & ((pl.col("_label") == REVIEW) | ~uses_specs.fill_null(False)))
                .then(pl.lit(["ccl.declared"]))
                .otherwise(pl.lit([], dtype=pl.List(pl.String))),
                pl.when((pl.col("_label") == NOT_CAPTURED) & (uses_specs.fill_null(False) | declared.is_null()))
                .then(pl.lit(["ccl.not_3a090" if not p.pre_controls else "ccl.pre_oct2022"]))
                .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            ]
        ),
        _class_missing=pl.when((pl.col("_label") == REVIEW) & declared.is_null())
        .then(
            pl.concat_list(
                [
                    pl.concat_list(missing) if missing else pl.lit([], dtype=pl.List(pl.String)),
                    pl.when(pl.col("item_kind").is_null())
                    .then(pl.lit(["item_kind"]))
                    .otherwise(pl.lit([], dtype=pl.List(pl.String))),
                ]
            )
            .list.drop_nulls()
            .list.unique()
        )
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
    )
    # Which 3A090 family the item meets: .z items keep the paragraph of the IC they incorporate.
    level = (
        pl.when(pl.col("classification").str.contains(r"^[34]A090.*\.a$"))
        .then(pl.lit("a"))
        .when(pl.col("classification").str.contains(r"^[34]A090.*\.b$"))
        .then(pl.lit("b"))
        .when(pl.col("classification").str.contains(r"^[34]A090.*\.c$"))
        .then(pl.lit("c"))
        .when(pl.col("eccn").str.contains(r"^[34]A090(\.a(\..*)?)?$"))
        .then(pl.lit("a"))
        .when(pl.col("eccn").str.contains(r"^[34]A090\.b"))
        .then(pl.lit("b"))
        .when(pl.col("eccn").str.contains(r"^3A090\.c"))
        .then(pl.lit("c"))
        .when(pl.col("eccn").str.contains(r"\.z"))
        .then(pl.lit("a"))  # declared .z: assume the wider scope
        # no ECCN declared and no specs to read: whether it is a 3A090/.z item is unknown
        .when(~uses_specs.fill_null(False) & declared.is_null()
              & ((pl.col("eccn") == NOT_CAPTURED) | pl.col("base_eccn").is_in(p.z_base_eccns or [])))
        .then(pl.lit(None, pl.String))
        .when(pl.col("eccn").is_not_null())
        .then(pl.lit("-"))  # classified, not an advanced-computing item
    )
    # The CCL entry the item falls in for the other parts; unknown (null) when the item is below the
    # 3A090 thresholds and no other ECCN was given, so category-based rules cannot read a "no" into it.
    # The CCL entry the other parts read: the ECCN, else whatever the exporter declared (even a 3A090
    # paragraph the parameters contradict), else unknown.
    sig = sig.with_columns(
        ac_level=level,
        ccl_eccn=pl.when(_conflict(declared))
        .then(None)  # the exporter's two statements disagree: which entry applies is unknown
        .when(pl.col("eccn") != NOT_CAPTURED)
        .then(pl.col("eccn"))
        .otherwise(declared),
    )
    # .z: an item whose base ECCN has a .z paragraph and that meets 3A090.a/.b parameters.
    for r in (r for r in rules if r.stage == "classify_z"):
        cond = r.body(F, p).cast(pl.Boolean).fill_null(False)
        sig = sig.with_columns(
            eccn=pl.when(cond).then(pl.col("base_eccn") + ".z").otherwise(pl.col("eccn")),
            ccl_eccn=pl.when(cond).then(pl.col("base_eccn") + ".z").otherwise(pl.col("ccl_eccn")),
            _class_reasons=pl.when(cond)
            .then(pl.col("_class_reasons").list.concat(pl.lit([r.id])))
            .otherwise(pl.col("_class_reasons")),
        )
    return sig.drop([f"_c:{i}" for i in bodies] + ["_label"])


def _license(sig: _Steps, rules: list[Rule], p: prm.Params, day: date) -> _Steps:
    """Parts 734-748: requirements, authorizations, exceptions, review policy, notices."""
    by_stage: dict[str, list[Rule]] = {}
    for r in rules:
        by_stage.setdefault(r.stage, []).append(r)
    # Part 734 first: is the item subject to the EAR at all? (Kleene OR over the jurisdiction rules.)
    jur = [r for r in by_stage.get("jurisdiction", []) if r.enforced_on(day)[0]]  # compliance dates
    jexprs = {r.id: r.body(F, p).cast(pl.Boolean) for r in jur}
    sig = sig.with_columns(**{f"_r:{i}": e for i, e in jexprs.items()})
    jcols = [pl.col(f"_r:{r.id}") for r in jur]
    sig = sig.with_columns(subject_to_ear=pl.any_horizontal(jcols) if jcols else pl.lit(True))
    jur_missing = [m for r in jur for m in _missing(pl.col(f"_r:{r.id}"), _root_facts(jexprs[r.id]))]
    exprs = {
        r.id: r.body(F, p).cast(pl.Boolean) for r in rules if r.stage not in ("classify", "classify_z", "jurisdiction")
    }
    sig = sig.with_columns(**{f"_r:{i}": e for i, e in exprs.items()})
    col = {i: pl.col(f"_r:{i}") for i in exprs}

    enforced_reqs, unenforced = [], []
    for r in by_stage.get("require", []):
        (enforced_reqs if r.enforced_on(day)[0] else unenforced).append(r)

    def overcome(req: Rule, by: Iterable[Rule]) -> pl.Expr:
        return pl.any_horizontal(
            [col[a.id].fill_null(False) for a in by if req.id.startswith(a.overcomes)] or [pl.lit(False)]
        )

    auths = by_stage.get("authorize", [])

    def overcome_kleene(req: Rule) -> pl.Expr:  # an authorization whose coverage is unknown stays unknown
        return pl.any_horizontal([col[a.id] for a in auths if req.id.startswith(a.overcomes)] or [pl.lit(False)])

    uncovered = [col[r.id].fill_null(False) & ~overcome_kleene(r) for r in enforced_reqs]
    # Materialised once, then referenced: keeps the expression graph small for one-row checks.
    sig = sig.with_columns(
        _any_yes=pl.any_horizontal(uncovered).fill_null(False) if uncovered else pl.lit(False),
        _any_true=pl.any_horizontal([col[r.id].fill_null(False) for r in enforced_reqs] or [pl.lit(False)]),
        # An unknown requirement matters unless an authorization that would lift it is in hand.
        _any_null=pl.any_horizontal(
            [col[r.id].is_null() & ~overcome(r, auths) for r in enforced_reqs] + [u.is_null() for u in uncovered]
            or [pl.lit(False)]
        ),
    )
    any_yes, any_true, any_null = pl.col("_any_yes"), pl.col("_any_true"), pl.col("_any_null")
    status = pl.when(any_yes).then(pl.lit("yes")).when(any_null).then(pl.lit("needs_review")).otherwise(pl.lit("no"))
    used_auth = [(a.id, col[a.id].fill_null(False) & any_true & ~any_yes & ~any_null) for a in auths]
    # An exception is usable only if it overcomes every requirement that fired.
    excs = by_stage.get("exception", [])
    exc_ok = []
    for e in excs:
        blocked = [col[r.id].fill_null(False) for r in enforced_reqs if not r.id.startswith(e.overcomes)]
        ok = col[e.id].fill_null(False) & any_yes
        if blocked:
            ok = ok & ~pl.any_horizontal(blocked)
        exc_ok.append((e, ok))
    policies = sorted(by_stage.get("policy", []), key=lambda r: r.priority)
    policy = _chain([(r.yields or r.id, col[r.id].fill_null(False)) for r in policies], "")
    policy_rule = _chain([(r.id, col[r.id].fill_null(False)) for r in policies], "")  # the one that decided
    notices = [(r.id, col[r.id].fill_null(False)) for r in by_stage.get("notice", [])]
    notices += [(r.id, col[r.id].fill_null(False)) for r in unenforced]
    # base_eccn is named by its own, clearer message below; a declared ECCN is optional (specs classify).
    missing = [m for r in enforced_reqs for m in _missing(col[r.id], _root_facts(exprs[r.id]) - OPTIONAL)]
    missing += [pl.when(pl.col("subject_to_ear").is_null()).then(m) for m in jur_missing]
    missing.append(
        pl.when(pl.col("ccl_eccn").is_null() & _conflict(pl.col("eccn_declared"))).then(
            pl.lit("eccn (the declared ECCN and the base ECCN name different entries)")
        )
    )
    missing.append(
        pl.when(pl.col("ccl_eccn").is_null() & (pl.col("eccn") == NOT_CAPTURED)).then(
            pl.lit("base_eccn (the item's ECCN below the 3A090 thresholds, e.g. 3A991 or EAR99)")
        )
    )
    # A rule that is unknown although every fact it reads is known (a red flag, a chart control that
    # names paragraphs the item's ECCN does not state) is named itself.
    for r in enforced_reqs:
        roots = _root_facts(exprs[r.id])
        if "base_eccn" in roots:  # an optional fact: named when a rule that reads it stayed unknown
            gone = col[r.id].is_null() & pl.col("base_eccn").is_null() & pl.col("ccl_eccn").is_not_null()
            missing.append(pl.when(gone).then(pl.lit(BASE_MISSING)))
        known = [pl.col(c).is_not_null() for c in sorted(roots - OPTIONAL)]
        if "base_eccn" in roots:  # unknown only for want of the .z base entry: base_eccn says it all
            known.append(~part738.z_undecided())
        # an unknown computed input (ECCN, subject to the EAR) is named where it is computed
        computed = ("eccn", "ccl_eccn", "ac_level", "subject_to_ear")
        known += [pl.col(c).is_not_null() for c in computed if c in exprs[r.id].meta.root_names()]
        missing.append(
            pl.when(col[r.id].is_null() & pl.all_horizontal(known or [pl.lit(True)])).then(
                pl.lit(ask(r.id, r.cite))
            )
        )

    # An authorization whose coverage is unknown (a VEU site whose eligible-item list was not captured).
    missing += [pl.when(col[a.id].is_null() & any_true & ~any_yes).then(pl.lit(ask(a.id, a.cite)))
                for a in auths]

    sig = sig.with_columns(license_required=status).with_columns(
        _reasons=pl.concat_list(
            [
                pl.col("_class_reasons"),
                _ids((r.id, pl.col(f"_r:{r.id}").fill_null(False)) for r in jur),
                _ids((r.id, col[r.id].fill_null(False)) for r in enforced_reqs),
                _ids(used_auth),
                _ids((e.id, ok) for e, ok in exc_ok),
                pl.when((pl.col("license_required") == "yes") & (policy_rule != ""))
                .then(pl.concat_list([policy_rule]))
                .otherwise(pl.lit([], dtype=pl.List(pl.String))),
                _ids(notices),
                pl.when(pl.col("license_required") == "no")
                .then(pl.lit(["engine.no_requirement"]))
                .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            ]
        ).list.unique(maintain_order=True),
        license_exceptions=_ids((e.yields or e.id, ok) for e, ok in exc_ok).list.unique(maintain_order=True),
        authorization=pl.concat_str(
            [
                pl.when(ok).then(pl.lit(a_yield))
                for (a_id, ok), a_yield in zip(used_auth, [a.yields or a.id for a in auths], strict=True)
            ]
            or [pl.lit(None, pl.String)],
            separator="; ",
            ignore_nulls=True,
        ).replace("", None),
        review_policy=pl.when(pl.col("license_required") == "yes").then(
            pl.when(policy == REVIEW).then(pl.lit("needs_review")).when(policy == "").then(None).otherwise(policy)
        ),
    )
    # Missing facts matter only where the answer is needs_review: the (large) expression that names them
    # runs on those signatures alone.
    review = pl.col("license_required") == "needs_review"
    named = (
        pl.concat_list(
            [pl.col("_class_missing"), pl.concat_list(missing) if missing else pl.lit([], pl.List(pl.String))]
        )
        .list.drop_nulls()
        .list.unique(maintain_order=True)
    )
    sig = sig.fill_missing(review, named)
    sig = sig.with_columns(eccn_missing=pl.col("_class_missing"))
    return sig.drop([f"_r:{i}" for i in [*jexprs, *exprs]] + ["_any_yes", "_any_true", "_any_null"])


# The verdict columns evaluate() appends (facts.OUTPUTS also names the helper columns it replaces).
OUTPUT_COLUMNS = tuple(c for c in fx.OUTPUTS if c not in ("ccl_eccn", "day"))
# Frames up to this height find their signatures in Python (no hashing pass): one-row checks.
SMALL = 32
# A continuous fact with more distinct values than this in a sample of a large frame is hashed by bucket
# rather than by value (the worst case: every row its own numbers). Tests set 0 (always) and a huge value.
BUCKET_AT = 64
_DERIVED = fx.derived_numbers()
# Continuous facts key on their bucket (False: on their value; the tests' unbucketed reference).
BUCKETED = True


def evaluate(
    frame: pl.DataFrame,
    as_of: date | str | None = None,
    *,
    ruleset: RuleSet | None = None,
    screen: bool = True,
) -> pl.DataFrame:
    """Evaluate every row; the input columns come back with the verdict columns appended.

    ``as_of`` evaluates every row under the rules of that day; otherwise each row's own ``date`` is
    used (today where it is empty). Each distinct signature (see ``carveout.signatures``) is evaluated
    once and its verdict kept in the rule set's cache, so a repeated shape costs a lookup.
    """
    rs, as_of = ruleset or BASELINE, as_date(as_of)  # an ISO string is a date too
    if frame.height == 0:  # same columns and types as a real result, no rows
        return evaluate(frame.clear(1), as_of, ruleset=rs, screen=False).clear()
    f = fx.conform(frame)
    if screen:
        f = _screen_end_users(f)
    day = pl.lit(as_of or date.today()) if as_of else pl.coalesce(pl.col("date"), pl.lit(date.today()))
    if rs.fact_edits:
        f = f.with_columns(day=day)
        for edit in rs.fact_edits:
            f = edit(f)
        day = pl.col("day")
    # Derived numbers (TPP from MacTOPS, performance density) on every row: they are outputs, and the
    # buckets of the derived values, not of their sources, are what the rules compare.
    if as_of and not rs.fact_edits:  # one day for every row
        epoch = pl.lit(rs.epoch(as_of), dtype=pl.UInt16)
    else:
        epoch = rs.bounds.search_sorted(day, side="right").cast(pl.UInt16)
    f = f.with_columns(day=day, _epoch=epoch, **_DERIVED)
    epochs = (
        sorted(set(f.get_column("_epoch").to_list()))
        if f.height <= SMALL
        else (f.get_column("_epoch").unique().sort().to_list())
    )
    plans = {e: _plan(rs, e) for e in epochs}
    cols = sorted(set().union(*(plans[e][3] for e in epochs)))
    table, row_key = _verdicts(rs, f, cols, epochs)
    if f.height > SMALL or table.height != f.height or row_key.to_list() != list(range(f.height)):
        table = table[row_key]
    # A row with an input error comes out needs_review naming it, whatever the rules said.
    return fx.fail_closed(pl.concat([f.drop("_epoch"), table], how="horizontal"))


def _verdicts(rs: RuleSet, f: pl.DataFrame, cols: list[str], epochs: list[int]) -> tuple[pl.DataFrame, pl.Series]:
    """One verdict row per distinct signature key and, per row of ``f``, the position of its key."""
    small = f.height <= SMALL
    if small:  # a check: rows are their own candidates, grouped in Python below
        reps = f
    else:
        # Group rows by a hash of their facts (columns that are not empty). Continuous facts with many
        # distinct values in a sample are hashed by bucket instead (exact either way: buckets only merge
        # rows the rules cannot tell apart), so distinct groups stay bounded by the rules.
        present = [c for c in cols if f.get_column(c).null_count() < f.height]
        sample = f.gather_every(max(1, f.height // 4096))
        wide = [
            c
            for c in present
            if fx.SCHEMA.get(c, (None,))[0] == pl.Float64 and sample.get_column(c).n_unique() > BUCKET_AT
        ]
        merged = Buckets.merge(_buckets(rs, e) for e in epochs) if wide else Buckets({})  # exact for all
        parts = [merged.expr(c) if c in wide and c in merged.cuts else pl.col(c) for c in present]
        f = f.select([*cols, "_epoch"]).with_columns(_sig=signature_hash([*parts, pl.col("_epoch")]))
        reps = f.unique(subset="_sig", keep="any")
    layout = {e: _layout(rs, e, cols) for e in epochs}
    slot: dict[tuple, int] = {}
    first: list[int] = []  # representative row of each distinct key
    pos: list[int] = []  # distinct key of each representative
    names = reps.columns
    at = [names.index(c) for c in cols]
    ep = names.index("_epoch")
    for i, r in enumerate(reps.rows()):
        e = r[ep]
        key = (e, *[code(r[at[j]]) if code else r[at[j]] for j, code in layout[e]])
        k = slot.get(key)
        if k is None:
            k = slot[key] = len(first)
            first.append(i)
        pos.append(k)

    def compute(todo: list[int]) -> pl.DataFrame:
        return _run(rs, reps[pl.Series([first[k] for k in todo], dtype=pl.UInt32)], cols)

    table = rs.verdicts.resolve(list(slot), compute)
    key_of_rep = pl.Series(pos, dtype=pl.UInt32)
    if small:
        return table, key_of_rep
    return table, f.get_column("_sig").replace_strict(reps.get_column("_sig"), key_of_rep, return_dtype=pl.UInt32)


def _run(rs: RuleSet, reps: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """The rules on representative rows (one per signature not cached yet): verdict columns, same order."""
    sigs = fx.derive(fx.conform(reps.select([*cols, "_epoch"]).with_row_index("_at")))
    epochs = sigs.get_column("_epoch").unique().sort().to_list()
    reason_enum = pl.Enum(rs.reason_ids())

    def run(e: int) -> pl.DataFrame:  # eager on the small signature frame: cheaper than the lazy optimiser
        start, _, _, _, steps = _plan(rs, e)
        part = steps.apply(sigs.filter(pl.col("_epoch") == e))
        return part.with_columns(rules_version=pl.lit(rs.version(e)), rules_date=pl.lit(start))

    # Epochs are independent and Polars releases the GIL while it works: run them side by side.
    if len(epochs) > 1:
        with ThreadPoolExecutor(max_workers=min(len(epochs), os.cpu_count() or 1)) as pool:
            parts = list(pool.map(run, epochs))
    else:
        parts = [run(e) for e in epochs]
    out = pl.concat(parts, how="vertical_relaxed").sort("_at")
    return out.with_columns(reasons=pl.col("_reasons").cast(pl.List(reason_enum))).select(
        [*OUTPUT_COLUMNS, "input_error"])  # input_error: vocabulary checks of derive, per signature


def _layout(rs: RuleSet, epoch: int, cols: list[str]) -> list[tuple[int, object]]:
    """Which of ``cols`` make up a signature key in ``epoch`` (the facts its rules read), each with its
    bucket function when it is a continuous fact the rules only compare with thresholds (else None: the
    value itself; a bucket is a 1-tuple, so it never equals a value)."""
    got = rs.buckets.get((epoch, BUCKETED, *cols))
    if got is None:
        mine, b = _plan(rs, epoch)[3], _buckets(rs, epoch)
        floats = {c for c in cols if fx.SCHEMA.get(c, (None,))[0] == pl.Float64}
        got = [
            (i, partial(b.code, c) if c in b.cuts else _signed if c in floats else None)
            for i, c in enumerate(cols)
            if c in mine
        ]
        rs.buckets[(epoch, BUCKETED, *cols)] = got
    return got


def _signed(x: float | None) -> object:
    """An exact float in a key: 0.0 and -0.0 are equal in Python but not in every arithmetic a rule might
    do with them (1/x), so a zero keeps its sign."""
    return ("zero", math.copysign(1.0, x)) if x == 0 else x


def _buckets(rs: RuleSet, epoch: int) -> Buckets:
    """The continuous facts of ``epoch``'s signature that every expression of its plan only compares with
    literals (or tests for null), with their thresholds; cached on the rule set. Derivation (TPP, density)
    happens on the rows before, so the buckets are of the derived values."""
    key = ("buckets", epoch, BUCKETED)  # kept with the compiled plans: rule sets that share plans share it
    got = rs.plans.get(key)
    if got is None:
        _, _, _, cols, steps = _plan(rs, epoch)
        floats = [c for c in cols if c in fx.SCHEMA and fx.SCHEMA[c][0] == pl.Float64]
        bounds = {c: (lo, hi) for c, (lo, hi, _) in boundary.RANGES.items()}
        got = rs.plans[key] = analyse(steps.expressions(), floats, bounds) if BUCKETED else Buckets({})
    return got


def _plan(rs: RuleSet, epoch: int) -> tuple[date, list[Rule], prm.Params, set[str], _Steps]:
    """Rules, parameters and the facts they read for one epoch, compiled once and cached on the rule set."""
    cached = rs.plans.get(epoch)
    if cached is None:
        with _PLAN_LOCK:
            cached = rs.plans.get(epoch)
            if cached is not None:
                return cached
            start = rs.epoch_start(epoch) if epoch > 0 else date(2000, 1, 1)
            active = [r for r in rs.rules if r.active(start) and r.jurisdiction == rs.jurisdiction]
            p = rs.params(start)
            cols: set[str] = set()
            for r in active:
                names = set(r.body(F, p).meta.root_names())
                cols |= {c for c in names if c not in fx.COMPUTED}
                if "day" in names:  # a rule reading the date within an epoch: the day is part of the signature
                    cols.add("day")
            cols |= {"eccn_declared", "item_kind", "base_eccn"}  # read by the classification stage itself
            if cols & {"tpp", "performance_density"}:  # their missing-fact names read the sources
                cols |= {"tpp", "mac_tops", "bit_length", "die_area_mm2", "performance_density"}
            steps = _license(_classify(_Steps(), active, p, start), active, p, start)
            # Whatever else the engine's own expressions read is part of the signature too: a verdict
            # cached under a key must not depend on anything outside it.
            for e in steps.expressions():
                cols |= {c for c in e.meta.root_names() if c in fx.SCHEMA or c == "day"}
            cols.discard("row")
            cached = rs.plans[epoch] = (start, active, p, cols, steps)
    return cached


_PLAN_LOCK = threading.Lock()


def _screen_end_users(f: pl.DataFrame) -> pl.DataFrame:
    """Fill ``end_user_listed``/footnote from the restricted-party lists where the caller did not say.

    An Entity List match listed on or before the shipment date sets listed (with its footnote); a match
    on another list, or a grey-zone score, leaves the fact unknown so the row needs review; a clear
    result sets listed False. The match itself travels in ``screen_*`` columns for the reasons.
    """
    todo = pl.col("end_user_listed").is_null() & pl.col("end_user_name").is_not_null()
    if f.get_column("end_user_listed").null_count() == 0 or f.get_column("end_user_name").null_count() == f.height:
        return f  # every listed status stated, or no name to screen (cheap: counts are metadata)
    if f.height == 0 or not f.select(todo.any()).item():
        return f
    try:
        from carveout.screening import screen_frame
    except ImportError:  # screening unavailable: the listed fact stays unknown (fails closed)
        return f
    parties = (
        f.filter(todo)
        .select(name=pl.col("end_user_name"), country=pl.col("end_user_country"))
        .unique(maintain_order=True)
    )
    hits = screen_frame(parties).select(
        end_user_name=pl.col("name"),
        end_user_country=pl.col("country"),
        screen_status=pl.col("screen_status"),
        screen_list=pl.col("screen_list"),
        screen_party=pl.col("screen_party"),
        screen_score=pl.col("screen_score"),
        _basis=pl.col("screen_basis"),
        _fn=pl.col("el_footnote").cast(pl.Int8),
        _since=pl.col("listed_since"),
        list_date=pl.col("list_date"),
    )
    f = f.join(
        hits,
        on=["end_user_name", "end_user_country"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
        suffix="_scr",
    )
    on_el = (pl.col("screen_status") == "match") & (pl.col("screen_list") == "EL")
    listed_then = on_el & (pl.col("_since").is_null() | (pl.col("_since") <= pl.coalesce("date", pl.lit(date.today()))))
    listed = (
        pl.when(~todo)
        .then(pl.col("end_user_listed"))
        .when(listed_then)
        .then(True)
        .when(on_el)
        .then(False)  # listed only after this shipment's date
        .when(pl.col("screen_status") == "clear")
        .then(False)
        .otherwise(None)
    )
    footnote = (
        pl.when(~todo)
        .then(pl.col("entity_list_footnote"))
        .when(listed_then)
        .then(pl.coalesce(pl.col("_fn"), pl.lit(0, pl.Int8)))
        .when(pl.col("screen_status") == "clear")
        .then(pl.lit(0, pl.Int8))
        .otherwise(pl.col("entity_list_footnote"))
    )
    # Ownership: the screening's ownership graph decides where the name was screened (a chain to listed
    # owners, or none in the loaded ownership data); a caller's own statement is kept.
    affiliate = (
        pl.when(pl.col("end_user_affiliate_of_listed").is_not_null())
        .then(pl.col("end_user_affiliate_of_listed"))
        .when(~todo)
        .then(None)
        .when((pl.col("_basis") == "affiliate") & (pl.col("screen_status") == "match"))
        .then(True)
        .when(pl.col("screen_status").is_in(["clear", "match"]))
        .then(False)
        .otherwise(None)
    )
    return f.with_columns(
        end_user_listed=listed, entity_list_footnote=footnote, end_user_affiliate_of_listed=affiliate
    ).drop("_fn", "_since", "_basis")
