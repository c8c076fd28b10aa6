"""Scenario files: the documented format, loading, and validation with key-path errors.

A scenario is a YAML file a policy analyst can write. The format (every key is checked, unknown keys are
errors)::

    name: site_licence_annual_caps          # identifier, [a-z0-9_]+
    description: what the variant changes and why
    effective: 2026-01-01                   # first day the variant applies (or "today")
    base: veu_revoked_no_replacement        # optional parent scenario (name of a shipped one, or a path)
    params:                                 # overrides of dated parameters, by name (rules/params/*.yaml)
      hbm_mbd_min: 1.0                      # a value; its type must match the parameter's
    list_edits:
      veu:                                  # Validated End-User sites (15 CFR 748.15, Supp. 7 to part 748)
        - {action: revoke, site: SAMSUNG-XIAN}                      # the whole site
        - {action: revoke, site: SKH-WUXI, items: [3B001.f.1]}      # only these eligible items
        - {action: grant, site: SKH-DALIAN, items: [3B001, 3B002]}  # add a site or items
      entity_list:                          # 15 CFR 744 Supp. 4, as a name -> footnote table
        - {action: add, name: ChangXin Memory Technologies, footnote: 5, aliases: [CXMT]}
        - {action: remove, name: Some Company Ltd}
    disable: [part742.rs.hbm]               # baseline rule ids switched off from `effective`
    rules:                                  # new rules: restricted predicates over named facts
      - id: sme_mature_memory               # becomes reason id "scenario.sme_mature_memory"
        effect: require                     # require | authorize | exception | policy | notice
        label: SME for mature memory fabs in the PRC needs a licence
        citation: proposed
        when: "item_kind == 'equipment' and eccn in ['3B001', '3B002'] and end_use == 'mature_node_fab'"
        overcomes: [part744.23]             # authorize/exception only: requirement-id prefixes lifted
        yields: SITE-LICENCE                # authorization / exception code or review-policy text
    caps:                                   # annual USD caps on what an authorize rule covers per site
      - {rule: site_licence, facility_id: SAMSUNG-XIAN, annual_cap_usd: 2.0e9}

VEU edits become overrides of the VEU parameter (see ``compile``); Entity List edits become a name ->
(listed, footnote) table applied to the facts frame before the rules run. Expressions are validated by
:mod:`carveout.scenarios.expr`.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EFFECTS = ("require", "authorize", "exception", "policy", "notice")
_ID = r"^[a-z0-9][a-z0-9_.\-]*$"


class ScenarioError(ValueError):
    """Invalid scenario: every problem as ``path: reason`` (e.g. ``rules[1].when: unknown fact 'tp'``)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s)"] + [f"  {p}: {m}" for p, m in problems]
        super().__init__("\n".join(lines))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VeuEdit(_Strict):
    action: Literal["grant", "revoke"]
    site: str = Field(description="facility id, e.g. SAMSUNG-XIAN (see data/facilities.csv)")
    items: list[str] | None = Field(default=None, description="eligible items (ECCN paragraphs)")
    param: str | None = Field(default=None, description="VEU parameter to edit (default: detected)")


class EntityEdit(_Strict):
    action: Literal["add", "remove"]
    name: str = Field(min_length=2)
    footnote: Literal[0, 1, 3, 4, 5] = 0
    aliases: list[str] = Field(default_factory=list)


class ListEdits(_Strict):
    veu: list[VeuEdit] = Field(default_factory=list)
    entity_list: list[EntityEdit] = Field(default_factory=list)


class RuleSpec(_Strict):
    id: str = Field(pattern=_ID)
    effect: Literal["require", "authorize", "exception", "policy", "notice"]
    label: str = Field(min_length=3)
    citation: str = "proposed"
    when: str = Field(min_length=1)
    overcomes: list[str] = Field(default_factory=list)
    yields: str | None = None


class SiteCap(_Strict):
    rule: str = Field(pattern=_ID, description="id of an authorize rule of this scenario (or its bases)")
    facility_id: str
    annual_cap_usd: float = Field(gt=0)


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    effective: date
    base: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    list_edits: ListEdits = Field(default_factory=ListEdits)
    disable: list[str] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
    caps: list[SiteCap] = Field(default_factory=list)
    # where the file came from (not part of the format)
    source: str | None = Field(default=None, exclude=True)

    @field_validator("effective", mode="before")
    @classmethod
    def _today(cls, v: Any) -> Any:
        return date.today() if v == "today" else v

    def rule_id(self, spec: RuleSpec) -> str:
        return f"scenario.{spec.id}"


# ------------------------------------------------------------------------------------------------
# loading


def builtin_dir() -> Path:
    return Path(str(resources.files("carveout") / "data" / "scenarios"))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _resolve(ref: str | Path, relative_to: Path | None = None) -> Path:
    p = Path(ref)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_absolute() and relative_to is not None and (relative_to / p).exists():
            return relative_to / p
        if p.exists():
            return p
    cand = builtin_dir() / f"{ref}.yaml"
    if cand.exists():
        return cand
    if relative_to is not None and (relative_to / f"{ref}.yaml").exists():
        return relative_to / f"{ref}.yaml"
    options = builtin_names()
    close = difflib.get_close_matches(str(ref), options, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (shipped: {', '.join(options)})"
    raise FileNotFoundError(f"no scenario {str(ref)!r}{hint}")


def parse(doc: Any, source: str = "<scenario>") -> Scenario:
    """Validate a parsed YAML document; raise :class:`ScenarioError` with every problem's key path."""
    if not isinstance(doc, dict):
        raise ScenarioError(source, [("(top level)", "a scenario is a mapping of keys (name, effective, ...)")])
    try:
        sc = Scenario.model_validate({**doc, "source": source})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                key = err["loc"][-1]
                allowed = _allowed_keys(err["loc"][:-1])
                close = difflib.get_close_matches(str(key), allowed, n=1)
                msg = f"unknown key {key!r}" + (f"; did you mean {close[0]!r}?" if close else
                                                 f"; allowed: {', '.join(allowed)}")
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append((_path(err["loc"]), msg))
        raise ScenarioError(source, problems) from None
    problems = semantic_problems(sc)
    if problems:
        raise ScenarioError(source, problems)
    return sc


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        inner = getattr(ann, "__args__", (ann,))
        nxt = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            return []
        model = nxt
    return [k for k in model.model_fields if k != "source"]


def load(ref: str | Path, relative_to: Path | None = None) -> Scenario:
    """Load a scenario from a YAML path or by the name of a shipped one (``baseline``)."""
    path = _resolve(ref, relative_to)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ScenarioError(str(path), [(where, f"not valid YAML: {getattr(e, 'problem', e)}")]) from None
    return parse(doc, str(path))


def chain(sc: Scenario, _seen: tuple[str, ...] = ()) -> list[Scenario]:
    """The scenario and its bases, root first."""
    if sc.name in _seen:
        raise ScenarioError(sc.source or sc.name, [("base", f"cycle: {' -> '.join(_seen + (sc.name,))}")])
    if not sc.base:
        return [sc]
    rel = Path(sc.source).parent if sc.source and Path(sc.source).exists() else None
    try:
        parent = load(sc.base, rel)
    except FileNotFoundError as e:
        raise ScenarioError(sc.source or sc.name, [("base", str(e))]) from None
    return chain(parent, _seen + (sc.name,)) + [sc]


# ------------------------------------------------------------------------------------------------
# semantic checks: names of parameters, rules and facts


def semantic_problems(sc: Scenario) -> list[tuple[str, str]]:
    from carveout.rules import params as prm
    from carveout.rules.registry import all_rules
    from carveout.scenarios.expr import ExpressionError, compile_expression

    problems: list[tuple[str, str]] = []
    known = prm.all_params()
    snapshot = prm.params_at(sc.effective).as_dict()
    for name, value in sc.params.items():
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            problems.append((f"params.{name}", "unknown parameter" + (f"; did you mean {close[0]!r}?" if close
                                                                       else "")))
            continue
        current = snapshot.get(name)
        if current is None:
            current = next((v.value for v in reversed(known[name].values) if v.value is not None), None)
        why = _type_mismatch(current, value)
        if why:
            problems.append((f"params.{name}", why))
    rule_ids = {r.id for r in all_rules()}
    for i, rid in enumerate(sc.disable):
        if rid not in rule_ids:
            close = difflib.get_close_matches(rid, sorted(rule_ids), n=1)
            problems.append((f"disable[{i}]", f"unknown rule id {rid!r}" + (f"; did you mean {close[0]!r}?"
                                                                              if close else "")))
    seen: set[str] = set()
    for i, spec in enumerate(sc.rules):
        if spec.id in seen:
            problems.append((f"rules[{i}].id", f"duplicate rule id {spec.id!r}"))
        seen.add(spec.id)
        try:
            compile_expression(spec.when, set(known))
        except ExpressionError as e:
            problems.append((f"rules[{i}].when", str(e)))
        if spec.effect in ("authorize", "exception") and not spec.overcomes:
            problems.append((f"rules[{i}].overcomes",
                             f"an {spec.effect} rule must say which requirements it lifts "
                             "(requirement-id prefixes, or [all])"))
        if spec.overcomes and spec.effect not in ("authorize", "exception"):
            problems.append((f"rules[{i}].overcomes",
                             f"only authorize/exception rules overcome; this is {spec.effect}"))
    for i, e in enumerate(sc.list_edits.veu):
        if e.action == "grant" and not e.items:
            problems.append((f"list_edits.veu[{i}].items", "a grant must list the eligible items"))
        if not re.match(r"^[A-Z0-9][A-Z0-9\-]+$", e.site):
            problems.append((f"list_edits.veu[{i}].site", f"{e.site!r} is not a facility id like SAMSUNG-XIAN"))
        if e.param is not None and e.param not in known:
            problems.append((f"list_edits.veu[{i}].param", f"unknown parameter {e.param!r}"))
    for i, e in enumerate(sc.list_edits.entity_list):
        if e.action == "remove" and e.footnote:
            problems.append((f"list_edits.entity_list[{i}].footnote", "a removal takes no footnote"))
    for i, c in enumerate(sc.caps):
        if c.rule not in seen and not sc.base:
            problems.append((f"caps[{i}].rule", f"no authorize rule {c.rule!r} in this scenario"))
        spec = next((r for r in sc.rules if r.id == c.rule), None)
        if spec is not None and spec.effect != "authorize":
            problems.append((f"caps[{i}].rule", f"caps apply to authorize rules; {c.rule!r} is {spec.effect}"))
    return problems


def _type_mismatch(current: Any, value: Any) -> str | None:
    if current is None or value is None:
        return None
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "true/false"
        if isinstance(v, (int, float)):
            return "a number"
        if isinstance(v, str):
            return "text"
        if isinstance(v, (list, tuple)):
            return "a list"
        if isinstance(v, dict):
            return "a mapping"
        return type(v).__name__
    if kind(current) != kind(value):
        return f"expected {kind(current)} like the parameter's current value, got {kind(value)}"
    return None


def json_schema() -> dict[str, Any]:
    """The JSON schema of the scenario format (for editors and the docs)."""
    schema = Scenario.model_json_schema()
    schema.get("properties", {}).pop("source", None)
    return schema
