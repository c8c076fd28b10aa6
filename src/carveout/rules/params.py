"""Dated parameters: every threshold, list and date the rules read, keyed by the day it took effect.

The YAML files beside this module are the single place a number lives. ``params_at(day)`` gives the
snapshot in force on ``day``; ``published_by`` answers "what had been published by then".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

AC_ECCNS = date(2022, 10, 21)  # 3A090/4A090 took effect on 2022-10-21 (87 FR 62186 DATES, staged)
MODEL_START = date(2020, 1, 1)  # first day the Country Chart, CCL entries and country groups are modelled


@dataclass(frozen=True)
class Dated:
    effective: date
    value: Any
    rule: str | None
    published: date | None
    cite: str | None
    confidence: str | None


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    unit: str | None
    file: str
    values: tuple[Dated, ...]  # sorted by effective date

    def at(self, day: date, published_by: date | None = None) -> Dated | None:
        current = None
        for v in self.values:
            if v.effective > day:
                break
            if published_by is not None and v.published is not None and v.published > published_by:
                continue
            current = v
        return current


def _to_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    return date.fromisoformat(value)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: ~7x faster start-up
    """YAML 1.2 booleans: only true/false. Under YAML 1.1 Norway's code NO would read as False."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def _parse(file: str, text: str) -> dict[str, Param]:
    """Parse one parameter file; a shape error names the file and the parameter."""
    try:
        doc = load_yaml(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{file}: expected a mapping of parameter names, got {type(doc).__name__}")
    out: dict[str, Param] = {}
    for name, entry in doc.items():
        if not isinstance(entry, dict) or "values" not in entry:
            continue  # files may carry other structured data (e.g. history.yaml)
        raw_values = entry.get("values") or {}
        if not isinstance(raw_values, dict):
            raise ValueError(f"{file}: {name}.values must map effective dates to values")
        values = []
        for key, raw in raw_values.items():
            try:
                effective = _to_date(key)
                published = _to_date(raw.get("published")) if isinstance(raw, dict) else None
            except ValueError:
                raise ValueError(f"{file}: {name}: {key!r} is not a date YYYY-MM-DD") from None
            if isinstance(raw, dict) and "value" in raw:
                values.append(Dated(effective, raw.get("value"), raw.get("rule"), published, raw.get("cite"),
                                    raw.get("confidence")))
            else:  # shorthand `2022-10-07: null` or `2022-10-07: 4800`
                values.append(Dated(effective, raw, None, None, None, None))
        values.sort(key=lambda d: d.effective)
        out[str(name)] = Param(str(name), str(entry.get("description", "")), entry.get("unit"), file, tuple(values))
    return out


@cache
def _files() -> dict[str, str]:
    folder = resources.files("carveout.rules") / "params"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".yaml")}


@cache
def all_params() -> dict[str, Param]:
    params: dict[str, Param] = {}
    for file, text in _files().items():
        for name, p in _parse(file, text).items():
            if name in params:
                raise ValueError(f"parameter {name} defined in both {params[name].file} and {file}")
            params[name] = p
    return params


@cache
def content_hash() -> str:
    """Hash of the parameter files and rule modules: two runs with the same hash used the same rules."""
    h = hashlib.sha256()
    for file, text in _files().items():
        h.update(file.encode())
        h.update(text.encode())
    folder = resources.files("carveout.rules")
    for sub in (folder, folder / "prc"):
        for p in sorted(sub.iterdir(), key=lambda p: p.name):
            if p.name.endswith(".py"):
                h.update(p.read_bytes())
    return h.hexdigest()[:12]


def jurisdiction_of(file: str) -> str:
    """Parameter files named ``prc_*.yaml`` hold PRC law; every other file the EAR."""
    return "CN" if file.startswith("prc_") else "US"


def change_dates(jurisdiction: str | None = None) -> list[date]:
    """Days a parameter changes (of one jurisdiction's files, or of all): the engine's epoch boundaries."""
    return sorted({v.effective for p in all_params().values() for v in p.values
                   if jurisdiction is None or jurisdiction_of(p.file) == jurisdiction})


class Params:
    """A snapshot: ``p.tpp_min_a`` or ``p["D:5"]``; a parameter not in force reads as None."""

    def __init__(self, day: date, values: dict[str, Any], sources: dict[str, Dated | None]):
        self.day = day
        self._values = values
        self._sources = sources

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            raise KeyError(f"unknown parameter {name!r}")
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = self._values.get(name)
        return default if value is None else value

    def source(self, name: str) -> Dated | None:
        return self._sources.get(name)

    def group(self, name: str) -> list[str]:
        """A country group as a list of ISO codes (empty when not defined on that day)."""
        return list(self._values.get(name) or [])

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def pre_controls(self) -> bool:
        return self.day < AC_ECCNS

    def with_overrides(self, overrides: dict[str, Any]) -> Params:
        unknown = set(overrides) - set(self._values)
        if unknown:
            raise KeyError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        return Params(self.day, {**self._values, **overrides}, self._sources)


def params_at(day: date, published_by: date | None = None) -> Params:
    """The parameters in force on ``day``.

    Before 2022-10-21 no advanced-computing ECCN existed: every value dated from then reads as
    None and ``pre_controls`` is True, so rules see "not in force" rather than today's numbers.
    """
    values: dict[str, Any] = {}
    sources: dict[str, Dated | None] = {}
    for name, p in all_params().items():
        d = p.at(day, published_by)
        values[name] = None if d is None else d.value
        sources[name] = d
    return Params(day, values, sources)
