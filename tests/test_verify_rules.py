from carveout.rules.checks import verify_classification


def test_classification_has_no_overlap_and_no_gap_in_any_version():
    report = verify_classification()
    assert len(report) >= 4  # pre-2022, Oct 2022, Oct 2023, Dec 2024
    for row in report:
        assert row["overlaps"] == 0, row
        assert row["gaps"] == 0, row
