"""The Dual-Use Items Export Control List (State Council Regulations on Export Control of Dual-Use
Items, in force 2024-12-01).

The List consolidated the stand-alone item announcements and repealed them: from 2024-12-01 the
gallium/germanium (2023 No. 23), graphite (2023 No. 39) and antimony/superhard (2024 No. 33) items are
controlled as List entries. Later announcements (2025 No. 10, No. 18 ...) add to it in their own modules.
"""

from __future__ import annotations

import polars as pl

from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, listed, rule
from carveout.rules.registry import Facts


@rule("prc.dual_use_list", cite="Dual-Use Items Export Control List (2024-12-01); Dual-Use Regulations",
      stage="require", effective="2024-12-01",
      source="State Council decree 2024-09-30, List issued 2024-11-15 (Covington, MoFo: B)")
def consolidated_list(f: Facts, p: Params) -> pl.Expr:
    """Items carried over from 2023 No. 23, 2023 No. 39 and 2024 No. 33 need a MOFCOM dual-use licence
    to leave China."""
    return exported_from_cn() & listed(p.prc_dual_use_list_items)
