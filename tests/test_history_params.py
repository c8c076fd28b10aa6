"""Country-group membership and dated lists, the day before and the day of each sourced change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from carveout.rules.params import params_at
from carveout.rules.part738 import controls_on

# (group or list parameter, member, day of the change, member from that day?)  Sources: country_groups.yaml.
CHANGES = [
    ("D:5", "RU", date(2021, 3, 18), True),  # 86 FR 14802 (22 CFR 126.1) via the note to D:5
    ("D:5", "KH", date(2021, 12, 9), True),  # 86 FR 70015
    ("D:5", "NI", date(2024, 3, 15), True),  # 89 FR 18780
    ("D:1", "NI", date(2024, 3, 15), True),  # 89 FR 18780
    ("D:5", "CY", date(2024, 5, 30), False),  # 89 FR 40369
    ("D:5", "KH", date(2025, 11, 7), False),  # State removal from 126.1; BIS conforming rule 2026-02-03
    ("A:5", "AE", date(2026, 7, 10), True),  # 91 FR 43034
    ("D:4", "AE", date(2026, 7, 10), False),  # 91 FR 43034
    ("military_end_use_supp2_destinations", "KH", date(2021, 12, 9), True),  # 86 FR 70015
    ("military_end_use_supp2_destinations", "NI", date(2024, 3, 15), True),  # 89 FR 18780
    ("military_end_use_supp2_destinations", "RU", date(2022, 2, 24), False),  # 87 FR 12226: moved to (a)(2)
    ("military_end_use_any_item_destinations", "RU", date(2022, 2, 24), True),  # 87 FR 12226
    ("sme_advanced_eccns", "3B001.f.5", date(2024, 12, 2), True),  # 89 FR 96790 (inference, see facts doc)
    # Supp. 4 to part 742 was created by 89 FR 96790 (2024-12-02); members named by CSIS (Dec 2024)
    ("equivalent_controls_countries", "JP", date(2024, 12, 2), True),
    ("equivalent_controls_countries", "NL", date(2024, 12, 2), True),
    ("equivalent_controls_countries", "GB", date(2024, 12, 2), True),
    ("equivalent_controls_countries", "AU", date(2024, 12, 2), True),
]


# Countries CSIS names as NOT on Supp. 4 to part 742 (C-secondary; the full list is still unverified).
@pytest.mark.parametrize("country", ["KR", "SG", "MY", "TW", "IL"])
def test_supp4_742_leaves_out_the_countries_csis_names(country):
    p = params_at(date(2025, 6, 1))
    assert country not in p.get("equivalent_controls_countries")
    assert country in p.get("equivalent_controls_known_excluded")


@pytest.mark.parametrize(("name", "member", "day", "after"), CHANGES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CHANGES])
def test_membership_changes_on_its_day(name, member, day, after):
    before = member in (params_at(day - timedelta(days=1)).get(name) or [])
    on = member in (params_at(day).get(name) or [])
    assert (before, on) == (not after, after)


def test_the_modelled_period_starts_2020():
    p = params_at(date(2020, 1, 1))
    assert set(p.embargoed_destinations) == {"CU", "IR", "KP", "SY"}
    assert "CN" in p.group("D:1") and "CN" in p.group("D:5")
    assert p.get("ccl_column_controls") and p.get("country_chart_marks")
    assert params_at(date(2019, 12, 31)).get("ccl_column_controls") is None


@pytest.mark.parametrize(
    ("eccn", "day", "state"),
    [
        ("3A090", date(2022, 10, 20), "absent"),
        ("3A090", date(2022, 10, 21), "present"),
        ("3B090", date(2022, 10, 6), "absent"),
        ("3B090", date(2022, 10, 7), "present"),
        ("3B090", date(2023, 11, 16), "present"),
        ("3B090", date(2023, 11, 17), "absent"),
        ("3B994", date(2024, 12, 1), "absent"),
        ("3B994", date(2024, 12, 2), "present"),
        ("3A901", date(2024, 9, 5), "absent"),
        ("3A901", date(2024, 9, 6), "present"),
    ],
)
def test_ccl_entries_exist_only_in_their_period(eccn, day, state):
    controls = controls_on(params_at(day)).get(eccn, [])
    absent = any("did not exist" in str(c.get("defer", "")) for c in controls)
    assert absent == (state == "absent")


def test_3b001_is_ns2_whole_before_the_sme_rule_and_split_after():
    before = controls_on(params_at(date(2023, 11, 16)))["3B001"]
    after = controls_on(params_at(date(2023, 11, 17)))["3B001"]
    assert {"reason": "NS", "applies": "entire", "column": "NS 2"} in before
    ns2 = [c for c in after if c.get("column") == "NS 2"]
    assert ns2 and "c" not in ns2[0]["applies"]


def test_rules_command_shows_the_dated_chart_and_groups():
    from typer.testing import CliRunner

    from carveout.cli import app

    before = CliRunner().invoke(app, ["rules", "--as-of", "2022-06-01"], env={"COLUMNS": "250"})
    after = CliRunner().invoke(app, ["rules", "--as-of", "2024-03-15"], env={"COLUMNS": "250"})
    assert before.exit_code == 0 and after.exit_code == 0, before.output
    assert "CCL entries on 2022-06-01" in before.output and "Country groups on 2022-06-01" in before.output
    row = next(line for line in before.output.splitlines() if line.startswith("│ 3B001"))
    assert "NS 2" in row  # 3B001 was NS Column 2 as a whole before 88 FR 73424
    d5 = lambda out: next(line for line in out.splitlines() if line.startswith("│ D:5"))  # noqa: E731
    assert "NI" not in d5(before.output) and "89 FR 18780" in d5(after.output)


def test_every_history_version_is_listed_in_the_facts_doc():
    from pathlib import Path

    from carveout.rules.params import all_params

    doc = (Path(__file__).resolve().parents[1] / "docs" / "regulatory-facts.md").read_text(encoding="utf-8")
    for name, param in all_params().items():
        if name.startswith("ccl_history."):
            eccn = name.split(".", 1)[1]
            for v in param.values:
                assert f"| {eccn} | {v.effective} |" in doc, (eccn, v.effective)
                assert v.confidence and v.rule, (eccn, v.effective)
