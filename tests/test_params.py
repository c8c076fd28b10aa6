from datetime import date

from carveout.rules.params import AC_ECCNS, all_params, params_at


def test_before_first_rule_no_threshold_is_in_force():
    # 3A090 took effect on 2022-10-21 (the Oct 2022 rule was staged, 87 FR 62186 DATES).
    p = params_at(date(2022, 10, 20))
    assert p.pre_controls
    assert p.tpp_min_a is None and p.pd_min_a2 is None


def test_thresholds_follow_their_effective_dates():
    assert params_at(AC_ECCNS).io_rate_min_a == 600
    assert params_at(date(2023, 11, 16)).pd_min_a2 is None
    assert params_at(date(2023, 11, 17)).pd_min_a2 == 5.92
    assert params_at(date(2023, 11, 17)).io_rate_min_a is None
    assert params_at(date(2024, 12, 1)).hbm_mbd_min is None
    assert params_at(date(2024, 12, 2)).hbm_mbd_min == 2.0


def test_published_by_hides_values_not_yet_published():
    # The Oct 2023 rule took effect 2023-11-17 but was published 2023-10-25.
    assert params_at(date(2023, 12, 1), published_by=date(2023, 10, 24)).pd_min_a2 is None
    assert params_at(date(2023, 12, 1), published_by=date(2023, 10, 25)).pd_min_a2 == 5.92


def test_every_dated_value_names_its_rule():
    for p in all_params().values():
        for v in p.values:
            if v.value is not None and v.rule is None:
                raise AssertionError(f"{p.name} {v.effective}: value without its Federal Register rule")


def test_norway_stays_a_country_code():
    assert "NO" in params_at(date(2025, 1, 1))["A:5"]
