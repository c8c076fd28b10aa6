"""The flat facts and the nested Transaction document are one mapping (model.fact_paths): every fact of the
schema has a place in the document, and a document built from facts gives those facts back."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from carveout.facts import SCHEMA
from carveout.model import Transaction, document_of, fact_paths
from carveout.service.runner import transaction_from_facts

# Facts a Transaction computes rather than stores (TPP is given directly here; density is derived).
COMPUTED = {"row", "performance_density"}


def test_every_fact_has_a_place_in_the_document():
    assert set(SCHEMA) - COMPUTED == set(fact_paths())


def _value(col: str):
    dtype = SCHEMA[col][0]
    if col in ("item_kind",):
        return st.sampled_from(["ic", "computer", "hbm", "equipment"])
    if col == "end_use":
        return st.sampled_from(["civil_other", "datacenter", "military"])
    if col == "transaction_type":
        return st.sampled_from(["export", "reexport"])
    if col == "entity_list_footnote":
        return st.sampled_from([0, 1, 4, 5])
    if str(dtype) == "String" and (col.endswith("country") or col in ("destination", "ship_from")):
        return st.sampled_from(["CN", "US", "KR", "DE"])
    if col in ("eccn_declared", "base_eccn"):
        return st.sampled_from(["3A090.a", "3B001.c", "EAR99"])
    if str(dtype) == "Boolean":
        return st.booleans()
    if str(dtype) == "Date":
        return st.dates(min_value=date(2021, 1, 1), max_value=date(2026, 12, 1))
    if dtype.is_numeric():
        return st.integers(min_value=1, max_value=100).map(float)
    return st.text(alphabet="abcdefghij ", min_size=1, max_size=8).map(str.strip).filter(bool)


def _consistent(facts: dict) -> dict:
    """A footnote belongs to an Entity List entry: the boundary refuses footnote with listed false."""
    if facts.get("entity_list_footnote") and facts.get("end_user_listed") is False:
        facts["end_user_listed"] = True
    return facts


SIMPLE = sorted(c for c in fact_paths() if c not in ("mac_tops", "bit_length", "material", "equipment_type",
                                                       "etch_mode", "facility_id", "contains"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(SIMPLE), min_size=1, max_size=8, unique=True).flatmap(
    lambda cols: st.fixed_dictionaries({c: _value(c) for c in cols})).map(_consistent))
def test_document_round_trips_to_the_same_facts(facts):
    t = Transaction.model_validate(document_of(facts))
    back = t.facts()
    for col, value in facts.items():
        if col == "entity_list_footnote" and back.get("end_user_listed") is None:
            continue  # a footnote alone: the model's own contradiction rules decide (see boundary tests)
        assert back[col] == value, (col, value, back[col])
    assert transaction_from_facts(facts) is not None
