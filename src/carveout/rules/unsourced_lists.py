"""Notices on verdicts that rest on a list carveout holds but could not check against the CFR text.

Two lists are still unverified (docs/regulatory-facts.md, "Lists not checked against the CFR"):
Supp. No. 4 to part 742 (countries with equivalent SME controls: public summaries count 33, carveout
holds 34 and cannot tell which entry is wrong) and Supp. No. 2 to part 744 (the ECCNs 744.21 reaches).
Each verdict that depends on one of them carries the notice, so a reviewer knows to check it.

Issue #11 (2026-12-01) looked for the CFR text of both supplements and did not find a readable copy:
the eCFR mirrors in the code index hold sections, not supplements, and the Federal Register and annual
CFR copies that contain them (89 FR 96790; 85 FR 23459; CFR 2025 title 15 vol. 2) could only be read
from their first page. Both notices therefore stay. What was sourced instead: the 744.21 destinations
(eCFR copy), and the Supp. 4 members and non-members CSIS names (tests/test_history_params.py).
"""

from __future__ import annotations

import polars as pl

from carveout.rules.common import d5_macau, eccn_in, isin
from carveout.rules.params import Params
from carveout.rules.registry import Facts, rule


@rule(
    "unsourced.supp4_742",
    cite="15 CFR part 742, Supp. No. 4 (list held from a secondary source, not checked against the CFR)",
    stage="notice",
    effective="2024-12-02",
    source="89 FR 96790; CSIS (Dec 2024) counts 33 countries, carveout holds 34",
)
def equivalent_controls_list(f: Facts, p: Params) -> pl.Expr:
    """The answer depends on whether the exporting country is on the equivalent-controls list (Supp. 4
    to part 742), which carveout could not check against the CFR: verify the country before relying on it."""
    sme = eccn_in(pl.col("ccl_eccn"), (p.get("sme_fdp_eccns") or []) + (p.get("fn5_fdp_eccns") or []))
    reach = isin(f.destination, d5_macau(p)) | (f.entity_list_footnote == 5)
    return sme.fill_null(False) & ~f.us_origin.fill_null(False) & reach & isin(f.ship_from, p.get(
        "equivalent_controls_countries"))


@rule(
    "unsourced.supp2_744",
    cite="15 CFR part 744, Supp. No. 2 (ECCN list held from memory, not checked against the CFR)",
    stage="notice",
    effective="2020-06-29",
    source="85 FR 23459 (2020-04-28) expanded the list; carveout's copy is unverified",
)
def military_supp2_list(f: Facts, p: Params) -> pl.Expr:
    """The answer for this military end use depends on whether the item's ECCN is on Supp. 2 to part 744,
    a list carveout could not check against the CFR: verify the ECCN before relying on a 'no'."""
    return (f.end_use == "military") & isin(f.destination, p.get("military_end_use_supp2_destinations"))
