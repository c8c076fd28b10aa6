"""What to ask the user for when a rule is unknown although every fact it reads is known.

The engine names a missing fact for every unknown requirement; when nothing is missing (a red flag is
reported, an ECCN is given without the paragraph the Country Chart needs), the answer still waits on
something the user can supply, and this table says what. Every entry starts with the fact's name.
"""

from __future__ import annotations

from carveout.facts import SCHEMA

ASK = {
    "part738.country_chart": "eccn (the ECCN's paragraph, e.g. 3B001.c rather than 3B001: the Country Chart "
    "controls only some paragraphs of this entry; the same holds for base_eccn)",
    "part748.15.veu": "veu_item_eligible (whether this item is on the facility's VEU eligible-item list in Supp. 7 "
    "to part 748 on the shipment date; carveout has not captured those lists)",
    "part744.red_flag": "red_flag (an unresolved red flag is reported: resolve it, then report red_flag false)",
}

# Facts a user can supply: the facts frame's columns, and ``eccn`` (a ledger's or an item's declared ECCN).
USER_FACTS = (frozenset(SCHEMA) - {"row", "performance_density"}) | {"eccn", "mac_tops", "bit_length"}


def ask(rule_id: str, cite: str) -> str:
    return ASK.get(rule_id, f"resolve: {rule_id} ({cite})")


def fact_named(entry: str) -> str:
    """The fact a ``missing`` entry names (its first word): 'tpp (or mac_tops ...)' -> 'tpp'."""
    return entry.split(" ", 1)[0].split("(", 1)[0].rstrip(":,")
