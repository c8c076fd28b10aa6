"""Frontier: Pareto set with no dominated point, both extremes, signatures, local pool and Dask."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
import yaml

from carveout.api import frame_of
from carveout.scenarios.frontier import Candidates, combinations, frontier, pareto

DAY = date(2027, 3, 1)  # VEU revoked, 2026 replacement licences lapsed


def ledger(copies: int = 3) -> pl.DataFrame:
    base = dict(date=DAY, item_kind="equipment", destination="CN", end_user_country="CN", ship_from="US",
                us_origin=True, transaction_type="export", exporter="Applied Materials", exporter_hq_country="US",
                end_user_listed=False, entity_list_footnote=0, end_user_affiliate_of_listed=False)
    fabs = [("SAMSUNG-XIAN", "KR", "advanced_node_nand_fab", 3e6), ("SKH-WUXI", "KR", "advanced_node_dram_fab", 2e6),
            ("TSMC-NANJING", "TW", "advanced_node_logic_fab", 1e6), ("YMTC-WUHAN", "CN", "advanced_node_nand_fab", 4e6)]
    rows = []
    for i in range(copies):
        for fid, hq, use, v in fabs:
            for eccn in ("3B001.c", "3B002.c"):
                rows.append({**base, "facility_id": fid, "end_user_hq_country": hq, "end_use": use,
                             "eccn_declared": eccn, "value_usd": v + i, "end_user_name": f"{fid} Co."})
    return frame_of(rows)


@pytest.fixture()
def files(tmp_path):
    sc = tmp_path / "revoked.yaml"
    sc.write_text(yaml.safe_dump({"name": "revoked", "effective": "2027-01-01"}))
    cands = {
        "candidates": [
            {"id": "xian", "list_edits": {"veu": [{"action": "grant", "site": "SAMSUNG-XIAN", "items": ["*"]}]}},
            {"id": "wuxi", "list_edits": {"veu": [{"action": "grant", "site": "SKH-WUXI", "items": ["*"]}]}},
            {"id": "nanjing", "rules": [{"id": "nanjing_site", "effect": "authorize", "label": "Nanjing site",
                                         "when": "facility_id == 'TSMC-NANJING'", "overcomes": ["part742.",
                                                                                                "part744.23."]}]},
        ]
    }
    c = tmp_path / "cands.yaml"
    c.write_text(yaml.safe_dump(cands, sort_keys=False))
    return sc, c


def _dominated(front: pl.DataFrame, points: pl.DataFrame) -> list:
    bad = []
    for f in front.iter_rows(named=True):
        for p in points.iter_rows(named=True):
            if (p["security_kept_usd"] >= f["security_kept_usd"] and p["relief_usd"] >= f["relief_usd"]
                    and (p["security_kept_usd"] > f["security_kept_usd"] or p["relief_usd"] > f["relief_usd"])):
                bad.append((f["exemptions"], p["exemptions"]))
    return bad


def test_frontier_has_no_dominated_point_and_both_extremes(files):
    sc, cands = files
    res = frontier(ledger(), sc, cands, as_of=DAY, executor="serial", screen=False)
    assert res.points.height == 8
    assert _dominated(res.frontier, res.points) == []
    sets = [tuple(x) for x in res.frontier["exemptions"].to_list()]
    assert () in sets and ("xian", "wuxi", "nanjing") in sets
    none = res.points.filter(pl.col("n_exemptions") == 0).row(0, named=True)
    full = res.points.filter(pl.col("n_exemptions") == 3).row(0, named=True)
    assert none["relief_usd"] == 0 and full["relief_usd"] > 0
    assert none["security_kept_usd"] > full["security_kept_usd"]
    # signatures, not rows: 3 copies of each line differ only in value
    assert res.stats["signatures"] < res.stats["rows"]


def test_signature_scores_match_full_evaluation(files):
    from carveout.scenarios.diff import evaluate_scenario
    from carveout.scenarios.frontier import combo_scenario, load_candidates
    from carveout.scenarios.model import chain, load

    sc, cands = files
    led = ledger()
    res = frontier(led, sc, cands, as_of=DAY, executor="serial", screen=False)
    s = load(sc)
    c = load_candidates(cands)
    full = combo_scenario(s, c.candidates)
    from carveout.scenarios.compile import compile_chain

    out = evaluate_scenario(led, compile_chain(chain(s) + [full]), DAY, screen=False)
    kept = out.filter(pl.col("license_required") == "yes")["value_usd"].sum()
    got = res.points.filter(pl.col("n_exemptions") == 3)["security_kept_usd"].item()
    assert got == pytest.approx(kept)


def test_pareto_ties_and_domination():
    pts = pl.DataFrame({"exemptions": [[], ["a"], ["b"], ["a", "b"]], "n_exemptions": [0, 1, 1, 2],
                        "security_kept_usd": [10.0, 8.0, 7.0, 6.0], "relief_usd": [0.0, 5.0, 4.0, 5.0]})
    front = pareto(pts)
    assert [tuple(x) for x in front["exemptions"].to_list()] == [(), ("a",)]
    assert _dominated(front, pts) == []


def test_combinations_cover_extremes_under_a_limit():
    combos = combinations(12, 100)
    assert len(combos) == 100 and () in combos and tuple(range(12)) in combos
    assert len(combinations(3, 4096)) == 8


def test_candidates_file_errors_name_the_key(tmp_path):
    from carveout.scenarios import ScenarioError
    from carveout.scenarios.frontier import load_candidates

    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"candidates": [{"id": "a", "params": {"nope": 1}}]}))
    with pytest.raises(ScenarioError, match=r"candidates\[0\]\.params\.nope"):
        load_candidates(p)
    assert Candidates.model_fields["candidates"]


def test_local_process_pool_matches_serial(files):
    sc, cands = files
    a = frontier(ledger(1), sc, cands, as_of=DAY, executor="serial", screen=False)
    b = frontier(ledger(1), sc, cands, as_of=DAY, executor="local", workers=2, screen=False)
    assert a.points.sort("exemptions").equals(b.points.sort("exemptions"))


def test_dask_local_cluster_matches_serial(files):
    distributed = pytest.importorskip("distributed")
    sc, cands = files
    a = frontier(ledger(1), sc, cands, as_of=DAY, executor="serial", screen=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        b = frontier(ledger(1), sc, cands, as_of=DAY, executor="dask", scheduler=client, screen=False)
        c = frontier(ledger(1), sc, cands, as_of=DAY, executor="dask", scheduler=cluster.scheduler_address,
                     screen=False)
    assert a.points.sort("exemptions").equals(b.points.sort("exemptions"))
    assert a.points.sort("exemptions").equals(c.points.sort("exemptions"))


# --- incremental evaluation: each combination evaluates only the signatures it can change ---------------


def _auth(cid: str, site: str, overcomes: list[str]) -> dict:
    return {"id": cid, "rules": [{"id": cid, "effect": "authorize", "label": f"authorize {cid}",
                                  "when": f"facility_id == '{site}'", "overcomes": overcomes}]}


def _write(tmp_path, cands: list[dict], scenario: dict | None = None):
    sc = tmp_path / "sc.yaml"
    sc.write_text(yaml.safe_dump(scenario or {"name": "revoked", "effective": "2027-01-01"}, sort_keys=False))
    c = tmp_path / "cands.yaml"
    c.write_text(yaml.safe_dump({"candidates": cands}, sort_keys=False))
    return sc, c


def test_incremental_scores_verified_against_full_evaluation(files):
    sc, cands = files
    res = frontier(ledger(), sc, cands, as_of=DAY, executor="serial", screen=False, verify=True)
    ref = frontier(ledger(), sc, cands, as_of=DAY, executor="serial", screen=False, incremental=False)
    assert res.stats["verified"] == 8 and res.stats["incremental"] and not ref.stats["incremental"]
    a, b = res.points.sort("exemptions"), ref.points.sort("exemptions")
    assert a["exemptions"].to_list() == b["exemptions"].to_list()
    for col in ("security_kept_usd", "relief_usd"):
        assert a[col].to_list() == pytest.approx(b[col].to_list(), rel=1e-12)
    # the three candidates touch three disjoint sites: 4 signature groups, no evaluation beyond the probes
    assert res.stats["signature_groups"] == 4
    assert res.stats["signatures_evaluated"] <= 8 * res.stats["signatures"]


def test_interacting_candidates_authorize_then_require_at_one_site(tmp_path):
    """One candidate authorizes a site, another adds a licence requirement there, a third grants its VEU."""
    sc, c = _write(tmp_path, [
        _auth("nanjing", "TSMC-NANJING", ["part742.", "part744.23."]),
        {"id": "nanjing_req", "rules": [{"id": "nanjing_req", "effect": "require", "label": "Nanjing licence",
                                         "when": "facility_id == 'TSMC-NANJING' and eccn in ['3B001.c']"}]},
        {"id": "nanjing_veu", "list_edits": {"veu": [{"action": "grant", "site": "TSMC-NANJING", "items": ["*"]}]}},
        _auth("xian", "SAMSUNG-XIAN", ["part742.", "part744.23."]),
    ])
    res = frontier(ledger(), sc, c, as_of=DAY, executor="serial", screen=False, verify=True)
    assert res.stats["verified"] == 16
    pts = {tuple(r["exemptions"]): r["security_kept_usd"] for r in res.points.iter_rows(named=True)}
    # the requirement undoes the authorization on the 3B001.c lines only
    assert pts[("nanjing", "nanjing_req")] > pts[("nanjing",)]


def test_redundant_candidates_that_only_matter_together(tmp_path, monkeypatch):
    """Two requirements on the same rows; two candidates lift each (a, a2: the baseline ones; b, b2: the
    scenario's own). A row is freed only by {a or a2} and {b or b2}: no candidate changes it alone, and in
    the full set none is pivotal, so outcome differences alone do not find it; the rule values do."""
    scenario = {"name": "revoked", "effective": "2027-01-01", "rules": [
        {"id": "req_xian", "effect": "require", "label": "Xi'an licence", "when": "facility_id == 'SAMSUNG-XIAN'"}]}
    base = ["part742.", "part744.23."]
    sc, c = _write(tmp_path, [_auth("a", "SAMSUNG-XIAN", base), _auth("a2", "SAMSUNG-XIAN", base),
                              _auth("b", "SAMSUNG-XIAN", ["scenario.req_xian"]),
                              _auth("b2", "SAMSUNG-XIAN", ["scenario.req_xian"])], scenario)
    res = frontier(ledger(), sc, c, as_of=DAY, executor="serial", screen=False, verify=True)
    pts = {tuple(r["exemptions"]): r["relief_usd"] for r in res.points.iter_rows(named=True)}
    assert pts[("a",)] == pts[("b",)] == 0 and pts[("a", "b")] > 0 and pts[("a2", "b2")] == pts[("a", "b")]

    # The verification has teeth: with the footprint reduced to differences of license_required in the probes
    # (no reasons, no rule values) the interaction is missed, and the verification says so.
    import carveout.scenarios.frontier as fr

    monkeypatch.setattr(fr, "_rules_differ", lambda a, b: pl.Series([False] * a.height))
    monkeypatch.setattr(fr, "_outcome", lambda out: out.select(pl.col("license_required").cast(pl.String)))
    with pytest.raises(AssertionError, match="change under candidates that do not touch them"):
        frontier(ledger(), sc, c, as_of=DAY, executor="serial", screen=False, verify=True)


def test_capped_and_parameter_candidates_verified(tmp_path):
    sc, c = _write(tmp_path, [
        {"id": "capped", "rules": [{"id": "xian_site", "effect": "authorize", "label": "Xi'an site licence",
                                    "when": "facility_id == 'SAMSUNG-XIAN'", "overcomes": ["part742.", "part744.23."]}],
         "caps": [{"rule": "xian_site", "facility_id": "SAMSUNG-XIAN", "annual_cap_usd": 5e6}]},
        {"id": "xian_veu", "list_edits": {"veu": [{"action": "grant", "site": "SAMSUNG-XIAN", "items": ["*"]}]}},
        {"id": "delist_ymtc", "list_edits": {"entity_list": [{"action": "remove", "name": "YMTC-WUHAN Co."}]}},
        _auth("wuhan", "YMTC-WUHAN", ["part742.", "part744.23."]),
    ])
    res = frontier(ledger(), sc, c, as_of=DAY, executor="serial", screen=False, verify=True)
    assert res.stats["verified"] == 16


def test_incremental_local_pool_matches_serial_with_units(tmp_path):
    """Combinations that need evaluations beyond the probes run in the pool and give the serial answer."""
    base = ["part742.", "part744.23."]
    sc, c = _write(tmp_path, [_auth("a", "SAMSUNG-XIAN", base), _auth("a2", "SAMSUNG-XIAN", base),
                              _auth("b", "SKH-WUXI", base), _auth("b2", "SKH-WUXI", base)])
    a = frontier(ledger(1), sc, c, as_of=DAY, executor="serial", screen=False)
    b = frontier(ledger(1), sc, c, as_of=DAY, executor="local", workers=2, screen=False)
    assert a.stats["evaluations"] > 10  # 2n+2 probes plus the pairs {a, a2} and {b, b2}
    assert a.points.sort("exemptions").equals(b.points.sort("exemptions"))
