"""From a policy scenario to the shock's channels, through the one engine.

Two probe shipments per China fab are checked under the policy scenario (``engine.evaluate`` on the
compiled rule set) on the first day of the shock:

- ``upgrade``: a U.S.-origin advanced etch tool (3B001.c) for the fab's advanced-node line, no licence in
  hand. A "yes" means an upgrade needs an individual licence, which BIS said it will not grant for capacity
  or technology upgrades (90 FR 42321): the fab's nodes stop moving (``upgrades_blocked``).
- ``maintenance``: the same tool class as a replacement under a licence on file (the annual site licence
  reported for 2026). A "yes" means even maintenance now needs a new licence decided case by case: the
  tool base decays (``attrition``).

A "needs_review" or "no" leaves the shock file's own setting (an answer the rules cannot give is not
read as either).
"""

from __future__ import annotations

from datetime import date

import polars as pl

FABS = {
    "SKH-WUXI": ("SK hynix Semiconductor (China) Ltd.", "advanced_node_dram_fab"),
    "SAMSUNG-XIAN": ("Samsung China Semiconductor Co., Ltd.", "advanced_node_nand_fab"),
    "SKH-DALIAN": ("Intel Semiconductor (Dalian) Ltd.", "advanced_node_nand_fab"),
}


def probes(fabs: list[str], day: date) -> pl.DataFrame:
    rows = []
    for f in fabs:
        name, use = FABS[f]
        for probe, licence in (("upgrade", False), ("maintenance", True)):
            rows.append(dict(date=day, item_name=f"etch tool ({probe})", item_kind="equipment", eccn="3B001.c",
                             exporter="U.S. tool maker", exporter_hq_country="US", ship_from="US",
                             transaction_type="export", destination="CN", end_user_name=name, end_user_country="CN",
                             end_user_hq_country="KR", end_user_listed=False, entity_list_footnote=0,
                             end_user_affiliate_of_listed=False, end_use=use, facility_id=f, us_origin=True,
                             licence_on_file=licence, value_usd=1.0e7, probe=probe))
    return pl.DataFrame(rows)


def channels(policy_scenario: str, fabs: list[str], day: date) -> pl.DataFrame:
    """Per fab and probe: the U.S. verdict under the policy scenario on ``day`` and what it implies."""
    from carveout.engine import BASELINE, evaluate
    from carveout.scenarios.diff import as_compiled

    rs = BASELINE if policy_scenario == "baseline" else as_compiled(policy_scenario).ruleset
    known = [f for f in fabs if f in FABS]
    if not known:
        return pl.DataFrame(schema={"facility_id": pl.String, "probe": pl.String, "license_required": pl.String})
    out = evaluate(probes(known, day), as_of=day, ruleset=rs, screen=False)
    return out.select("facility_id", "probe", "license_required", "authorization", "review_policy",
                      pl.col("reasons").cast(pl.List(pl.String)).list.join(", ").alias("reasons"))


def derive(sc: dict, table: pl.DataFrame) -> dict:
    """The shock scenario with ``upgrades_blocked`` / ``attrition`` set from the probe verdicts."""
    out = dict(sc)
    v = {(r["facility_id"], r["probe"]): r["license_required"] for r in table.iter_rows(named=True)}
    ups = [v.get((f, "upgrade")) for f in sc.get("fabs", [])]
    mts = [v.get((f, "maintenance")) for f in sc.get("fabs", [])]
    if ups and all(x == "yes" for x in ups):
        out["upgrades_blocked"] = True
    elif ups and all(x == "no" for x in ups):
        out["upgrades_blocked"] = False
    if mts and all(x == "yes" for x in mts):
        out["attrition"] = True
    elif mts and all(x == "no" for x in mts):
        out["attrition"] = False
    return out


def simulate_policy(scenario: str, years: tuple[int, int] = (2026, 2030), draws: int = 10_000, seed: int = 0,
                    params: dict | None = None, overrides: dict | None = None):
    """``model.simulate`` with the channels of fab-based scenarios read from the policy scenario's rules;
    the probe verdicts travel with the result (``ShockResult.channels``)."""
    from carveout.shock.model import load_params, simulate

    params = params or load_params()
    sc = params["scenarios"].get(scenario)
    table = None
    if sc and sc.get("fabs") and sc.get("policy_scenario"):
        table = channels(sc["policy_scenario"], list(sc["fabs"]), date(int(sc.get("start_year", years[0])), 1, 1))
        params = {**params, "scenarios": {**params["scenarios"], scenario: derive(sc, table)}}
    if sc and sc.get("materials") and sc.get("policy_scenario"):
        day = date(int(sc.get("start_year", years[0])), 1, 1)
        mats = [m for block in sc["materials"] for m in params["materials"][block].get("probe_materials", [])]
        prc = prc_licences(sc["policy_scenario"], mats, day)
        table = prc if table is None else pl.concat([table, prc], how="diagonal_relaxed")
        if prc.height and (prc["license_required"] == "no").all():
            # no PRC licence is needed for any of these inputs on that day: there is no lever to cut them off
            params = {**params, "scenarios": {**params["scenarios"], scenario: {**sc, "materials": []}}}
    r = simulate(scenario, years, draws, seed, params, overrides)
    r.channels = table
    return r


def prc_licences(policy_scenario: str, materials: list[str], day: date) -> pl.DataFrame:
    """Does exporting each input from China to Korea need a PRC licence on ``day`` (PRC rules, jurisdiction
    CN, under the policy scenario)? A cut-off needs a licence requirement to deny."""
    from carveout.api import frame_of
    from carveout.engine import BASELINE
    from carveout.jurisdictions import evaluate_in
    from carveout.scenarios.diff import as_compiled

    rs = BASELINE if policy_scenario == "baseline" else as_compiled(policy_scenario).ruleset
    frame = frame_of([dict(date=day, item_kind="material", material=m, ship_from="CN", destination="KR",
                           end_use="advanced_node_nand_fab") for m in materials])
    out = evaluate_in(frame, "CN", day, rs)
    return out.select(pl.col("material").alias("facility_id"), pl.lit("PRC licence").alias("probe"),
                      "license_required", "authorization", "review_policy",
                      pl.col("reasons").list.join(", ").alias("reasons"))
