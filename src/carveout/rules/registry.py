"""The rule registry: every rule is a small function plus the catalogue entry that explains it.

A rule's body returns a Polars expression that is True (the paragraph applies), False (it does not) or
null (a fact it needs is unknown). The engine, not the rule, turns null into ``needs_review``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

STAGES = ("classify", "classify_z", "jurisdiction", "require", "authorize", "exception", "policy", "notice")


class Facts:
    """``f.tpp`` reads like the regulation and is just ``pl.col("tpp")``."""

    def __getattr__(self, name: str) -> pl.Expr:
        return pl.col(name)


F = Facts()


@dataclass(frozen=True)
class Rule:
    id: str
    cite: str
    summary: str
    stage: str
    body: Callable[..., pl.Expr]
    effective: date | None = None  # first day in force; None = before the period modelled
    until: date | None = None  # last day in force; None = still in force
    source: str = ""  # Federal Register rule that created this version
    yields: str | None = None  # classification label, exception code, authorization or review policy
    enforced: tuple[tuple[date, bool, str], ...] = ()  # (from, enforced?, source of that statement)
    overcomes: tuple[str, ...] = ()  # authorize/exception: requirement-id prefixes it lifts
    priority: int = 100  # policy stage: lower is checked first
    tags: tuple[str, ...] = field(default=())
    jurisdiction: str = "US"  # whose law: "US" (the EAR) or "CN" (PRC export control, rules/prc/)

    def active(self, on: date) -> bool:
        return (self.effective is None or on >= self.effective) and (self.until is None or on <= self.until)

    def enforced_on(self, on: date) -> tuple[bool, str]:
        state, why = True, ""
        for start, value, source in sorted(self.enforced):
            if on >= start:
                state, why = value, source
        return state, why

    def boundaries(self) -> Iterable[date]:
        if self.effective:
            yield self.effective
        if self.until:
            yield date.fromordinal(self.until.toordinal() + 1)
        for start, _, _ in self.enforced:
            yield start


_REGISTRY: dict[str, Rule] = {}


def _as_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def rule(
    id: str,
    *,
    cite: str,
    stage: str,
    effective: str | date | None = None,
    until: str | date | None = None,
    source: str = "",
    yields: str | None = None,
    enforced: Iterable[tuple[str, bool, str]] = (),
    overcomes: Iterable[str] = (),
    priority: int = 100,
    tags: Iterable[str] = (),
    jurisdiction: str = "US",
) -> Callable[[Callable[..., pl.Expr]], Callable[..., pl.Expr]]:
    """Register a rule; the decorated function's docstring is its plain-language summary."""
    if stage not in STAGES:
        raise ValueError(f"rule {id}: unknown stage {stage!r}")

    def wrap(fn: Callable[..., pl.Expr]) -> Callable[..., pl.Expr]:
        if id in _REGISTRY:
            raise ValueError(f"duplicate rule id {id}")
        _REGISTRY[id] = Rule(
            id=id,
            cite=cite,
            summary=" ".join((fn.__doc__ or "").split()),
            stage=stage,
            body=fn,
            effective=_as_date(effective),
            until=_as_date(until),
            source=source,
            yields=yields,
            enforced=tuple((_as_date(d), v, s) for d, v, s in enforced),  # type: ignore[misc]
            overcomes=tuple(overcomes),
            priority=priority,
            tags=tuple(tags),
            jurisdiction=jurisdiction,
        )
        return fn

    return wrap


@dataclass(frozen=True)
class Note:
    """A catalogue entry for a reason that is not a rule body (e.g. 'nothing matched')."""

    id: str
    cite: str
    summary: str
    stage: str = "note"


_NOTES: dict[str, Note] = {}


def note(id: str, cite: str, summary: str) -> None:
    _NOTES[id] = Note(id, cite, summary)


def all_rules() -> list[Rule]:
    _load_modules()
    return list(_REGISTRY.values())


def catalogue() -> dict[str, Rule | Note]:
    """Every reason id the engine can emit, mapped to its citation and summary."""
    _load_modules()
    return {**_NOTES, **_REGISTRY}


def _load_modules() -> None:
    # Importing the part modules registers their rules; order inside a stage is priority order.
    from carveout.rules import (  # noqa: F401
        part734,
        part738,
        part740,
        part742,
        part744,
        part746,
        part748_veu,
        part774_ccl,
        part774_sme,
        transitions,
        unsourced_lists,
    )
    from carveout.rules.prc import load as _load_prc

    _load_prc()
