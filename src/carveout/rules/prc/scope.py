"""What the PRC rules do not model, a MOFCOM licence in hand, and the default review policy.

The announcements modelled here cover materials. A non-material item shipped from China may still be on
the Dual-Use Items Export Control List (which lists far more than materials), so it needs review rather
than a "no"; so does a material outside the vocabulary (``other``).
"""

from __future__ import annotations

import polars as pl

from carveout.materials import MATERIALS
from carveout.rules.params import Params
from carveout.rules.prc.common import exported_from_cn, is_material, rule
from carveout.rules.registry import Facts, note

note("prc.no_requirement", "PRC export-control announcements modelled by carveout (rules/prc)",
     "No PRC licence requirement among the modelled announcements applies on this date with these facts.")


@rule("prc.unmodelled", cite="PRC Export Control Law (2020-12-01); Dual-Use Items Export Control List",
      stage="require", source="carveout models materials only (see docs/prc-controls.md)")
def unmodelled(f: Facts, p: Params) -> pl.Expr:
    """An item from China that is not a material in the vocabulary may be on the Dual-Use List: review."""
    known_material = is_material() & f.material.is_in([m for m in MATERIALS if m != "other"])
    return exported_from_cn() & pl.when(known_material).then(pl.lit(False)).otherwise(pl.lit(None, pl.Boolean))


@rule("prc.mofcom_licence", cite="Regulations on Export Control of Dual-Use Items (licensing)", stage="authorize",
      source="Dual-Use Regulations 2024-12-01", yields="MOFCOM dual-use licence",
      overcomes=("prc.mofcom_2023_", "prc.mofcom_2024_33", "prc.dual_use_list", "prc.mofcom_2025_", "prc.unmodelled"))
def licence(f: Facts, p: Params) -> pl.Expr:
    """A MOFCOM dual-use export licence (or a general licence) covering the shipment is on file; bans
    (2024 No. 46 clause 1, 2026 No. 1) are not lifted by it."""
    return f.mofcom_licence_on_file


@rule("prc.review", cite="Regulations on Export Control of Dual-Use Items (licensing)", stage="policy",
      source="Dual-Use Regulations 2024-12-01", yields="MOFCOM dual-use licence review", priority=100)
def default_review(f: Facts, p: Params) -> pl.Expr:
    """An application goes to MOFCOM (via the provincial commerce department) with end-user and end-use
    certificates; some go to the State Council."""
    return pl.lit(True)
