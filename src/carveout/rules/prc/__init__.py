"""PRC export controls (jurisdiction "CN"): one module per MOFCOM/GACC announcement.

The rules run through the same engine as the EAR; a ``RuleSet(jurisdiction="CN")`` selects them. Item
lists, suspensions and thresholds are dated parameters in ``rules/params/prc_controls.yaml``.
"""

from __future__ import annotations


def load() -> None:
    # Importing the modules registers their rules.
    from carveout.rules.prc import (  # noqa: F401
        dual_use_list_2024,
        mofcom_2023_23,
        mofcom_2023_39,
        mofcom_2024_33,
        mofcom_2024_46,
        mofcom_2025_10,
        mofcom_2025_18,
        mofcom_2025_55,
        mofcom_2025_57,
        mofcom_2025_61,
        mofcom_2026_1,
        scope,
    )
