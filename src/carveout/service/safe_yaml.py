"""YAML from a request, read without aliases and within a fixed size.

A few hundred bytes of YAML with nested anchors and aliases (a "billion laughs") expand into billions of
nodes once loaded; PyYAML's ``safe_load`` follows them. Request documents are small and flat (a scenario),
so the service refuses anchors and aliases outright and bounds the node count and nesting depth, by
walking the parser's event stream before anything is built. JSON documents get the same bounds.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 20_000
MAX_DEPTH = 40

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnsafeDocument(ValueError):
    """The document uses anchors/aliases or is larger or deeper than a request document may be."""


def check_events(text: str, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> None:
    nodes = depth = 0
    for ev in yaml.parse(text, Loader=_Loader):
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
            raise UnsafeDocument("YAML anchors and aliases (& and *) are not accepted in a request")
        if isinstance(ev, yaml.ScalarEvent | yaml.SequenceStartEvent | yaml.MappingStartEvent):
            nodes += 1
            if nodes > max_nodes:
                raise UnsafeDocument(f"the document has more than {max_nodes} YAML nodes")
        if isinstance(ev, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            depth += 1
            if depth > max_depth:
                raise UnsafeDocument(f"the document nests deeper than {max_depth} levels")
        elif isinstance(ev, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            depth -= 1


def load(text: str, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """``yaml.safe_load`` after the event check (raises ``UnsafeDocument`` or ``yaml.YAMLError``)."""
    check_events(text, max_nodes, max_depth)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader


def check_value(value: Any, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> None:
    """The same bounds for a document that came as JSON (already parsed, so aliases cannot occur)."""
    nodes = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise UnsafeDocument(f"the document has more than {max_nodes} nodes")
        if isinstance(v, dict | list):
            if d > max_depth:
                raise UnsafeDocument(f"the document nests deeper than {max_depth} levels")
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
