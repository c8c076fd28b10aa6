"""Facts only the company knows (an is-informed letter) change the verdict with their own reason."""

from datetime import date

import polars as pl
import pytest

from carveout import check
from carveout.batch import evaluate_ledger
from carveout.catalogue_data import data_path
from carveout.io.ledger import parse_frame
from carveout.profiles import ProfileError, load_profile

H20 = {
    "date": "2025-06-01",
    "exporter": "NVIDIA Corporation",
    "ship_from": "US",
    "transaction_type": "export",
    "destination": "CN",
    "item": {
        "kind": "ic",
        "name": "NVIDIA H20",
        "base_eccn": "3A991.p",
        "tpp": 2368,
        "die_area_mm2": 814,
        "marketed_for_datacenter": True,
    },
    "origin": {"us_origin": True},
    "end_user": {"listed": False, "headquarters_country": "CN"},
    "end_use": "datacenter",
}


def test_is_informed_letter_from_the_profile_requires_a_licence():
    prof = load_profile(data_path("profiles/example_profile.yaml"))
    assert check(H20).license_required == "no"
    d = check(H20, profile=prof)
    assert d.license_required == "yes"
    assert "part744.is_informed" in [r.rule for r in d.reasons]


def test_profile_respects_dates_exporter_and_destination():
    prof = load_profile(data_path("profiles/example_profile.yaml"))
    assert check({**H20, "date": "2025-03-01"}, profile=prof).license_required == "no"  # before the letter
    assert check({**H20, "exporter": "Other Corp"}, profile=prof).license_required == "no"
    other = {**H20, "destination": "DE", "end_user": {"listed": False, "headquarters_country": "DE"}}
    assert check(other, profile=prof).license_required == "no"


def test_ledger_rows_carry_the_profile_note():
    prof = load_profile(data_path("profiles/example_profile.yaml"))
    raw = pl.DataFrame(
        {
            "date": ["2025-06-01"],
            "exporter": ["nvidia corporation"],
            "item": ["NVIDIA H20"],
            "kind": ["ic"],
            "tpp": ["2368"],
            "die_area_mm2": ["814"],
            "marketed_for_datacenter": ["true"],
            "destination": ["CN"],
            "ship_from": ["US"],
            "us_origin": ["true"],
            "listed": ["false"],
            "end_use": ["datacenter"],
        }
    )
    out = evaluate_ledger(parse_frame(raw), profile=prof, as_of=date(2025, 6, 1))
    assert out["license_required"].to_list() == ["yes"]
    assert "is_informed" in out["profile_note"][0]


def test_bad_profile_is_a_clear_error(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("facts:\n  - fact: is_informd\n")
    with pytest.raises(ProfileError, match="facts.0.fact"):
        load_profile(p)
