"""Computers, assemblies and modules described by what they contain (``ItemSpec.contains``).

4A090.a/.b (and the .z paragraphs) turn on the most capable IC inside. Which IC that is depends on the text
in force (TPP with I/O rate in 2022, TPP with performance density from 2023), so each contained item is
classified by ``engine.evaluate`` for the day in question and the highest level wins: 3A090.a over .b over
unknown over below. The container then carries that IC's specs (or, for an IC known only by its declared
ECCN, the matching 4A090 paragraph), and the ordinary classification rules run on it.
"""

from __future__ import annotations

from datetime import date

from carveout.model import ItemSpec

SPEC_FIELDS = ("tpp", "mac_tops", "bit_length", "precisions", "processing_units", "die_area_mm2",
               "marketed_for_datacenter", "interconnect_gb_s")
_RANK = {"a": 3, "b": 2, None: 1}  # anything else ("-", "c": HBM does not make a computer 4A090) ranks 0


def _has_specs(s: ItemSpec) -> bool:
    return any(getattr(s, k) is not None for k in SPEC_FIELDS)


def resolve_contains(spec: ItemSpec, day: date) -> ItemSpec:
    """The container with the facts of its most capable contained item for ``day`` (unchanged without
    ``contains``). An unknown contained IC that could be the most capable leaves the container unknown."""
    if not spec.contains:
        return spec
    from carveout.api import frame_of  # the one evaluation path; imported late to keep imports one-way
    from carveout.engine import evaluate

    subs = [resolve_contains(c, day) for c in spec.contains]
    subs = [c if c.kind else c.model_copy(update={"kind": "ic"}) for c in subs]
    rows = evaluate(frame_of([{**c.facts(), "date": day} for c in subs]), as_of=day, screen=False)
    levels = rows["ac_level"].to_list()
    ranks = [_RANK.get(lv, 0) for lv in levels]
    best = max(range(len(subs)), key=lambda i: (ranks[i], subs[i].computed_tpp() or 0.0))
    chosen, level = subs[best], levels[best]
    update: dict = {k: getattr(chosen, k) for k in SPEC_FIELDS}
    update.update(contains=None, kind=spec.kind or "computer")
    if spec.memory_bandwidth_gb_s is None:
        update["memory_bandwidth_gb_s"] = chosen.memory_bandwidth_gb_s
    own_declared = spec.eccn is None or spec.eccn.startswith(("3A090", "4A090"))
    if ranks[best] >= 2 and not _has_specs(chosen) and own_declared:
        update["eccn"] = f"4A090.{level}"  # known only by its declared ECCN: the matching 4A090 paragraph
    return spec.model_copy(update=update)
