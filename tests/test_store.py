"""The embedded store: determinations, the hash-chained audit log, API keys."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carveout import engine
from carveout.model import Transaction
from carveout.service import features, runner
from carveout.store import GENESIS, Outcome, Store, default_db_path

LEDGER = Path(__file__).resolve().parents[1] / "src" / "carveout" / "data" / "ledger_example.csv"


def _outcome(i: int, verdict: str = "yes") -> Outcome:
    return Outcome(row_no=i, input_kind="facts", inputs={"facts": {"tpp": 5000.0 + i}, "as_of": None},
                   license_required=verdict, eccn="3A090.a", classification="3A090.a",
                   reasons=["ccl.3a090.a.1"], missing=[], license_exceptions=[], authorization=None,
                   review_policy=None, rules_version="2023-11-17@abc")


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "t.duckdb")
    yield s
    s.close()


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.setenv("CARVEOUT_DB", str(tmp_path / "x.duckdb"))
    assert default_db_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("CARVEOUT_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "carveout" / "carveout.duckdb"


def test_chain_links_each_record_to_the_one_before(store):
    run = store.create_run("batch")
    ids = store.append(run, [_outcome(i) for i in range(1, 6)])
    assert ids == [1, 2, 3, 4, 5]
    rows = store._rows("SELECT seq, prev_hash, hash FROM audit ORDER BY seq")
    assert rows[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))
    v = store.verify()
    assert v.ok and v.checked == 5 and v.head == rows[-1]["hash"]


def test_chain_survives_reopen(tmp_path):
    s = Store(tmp_path / "t.duckdb")
    s.append(s.create_run("batch"), [_outcome(1)])
    s.close()
    s = Store(tmp_path / "t.duckdb")
    s.append(s.create_run("batch"), [_outcome(1)])
    assert s.verify().ok and s.verify().checked == 2
    s.close()


@pytest.mark.parametrize("tamper, first, problem", [
    ("UPDATE audit SET verdict = 'no' WHERE seq = 3", 3, "differs"),
    ("UPDATE determinations SET license_required = 'no' WHERE id = 4", 4, "keyed hash"),
    ("UPDATE determinations SET inputs = '{\"facts\":{\"tpp\":1}}' WHERE id = 2", 2, "keyed hash"),
    ("DELETE FROM audit WHERE seq = 3", 3, "without audit link"),
    ("UPDATE audit SET reasons = '[]' WHERE seq = 5", 5, "differs"),
])
def test_tampering_is_found_at_the_first_broken_link(store, tamper, first, problem):
    store.append(store.create_run("batch"), [_outcome(i) for i in range(1, 7)])
    store.con.execute(tamper)
    v = store.verify()
    assert not v.ok and v.first_broken == first and problem in v.problem


def test_rehashing_a_tampered_link_without_the_key_fails_at_that_link(store):
    """Fixing up one link with an unkeyed sha256 (all an attacker without the key file can compute) fails there."""
    import hashlib

    from carveout.store import canonical, link_record

    store.append(store.create_run("batch"), [_outcome(i) for i in range(1, 5)])
    store.con.execute("UPDATE audit SET verdict = 'no' WHERE seq = 2")
    store.con.execute("UPDATE determinations SET license_required = 'no' WHERE id = 2")
    d = store._rows("SELECT *, sha256(inputs) AS inputs_hash FROM determinations WHERE id = 2")[0]
    run = store._rows("SELECT * FROM runs")[0]
    a = store._rows("SELECT * FROM audit WHERE seq = 2")[0]
    forged = hashlib.sha256((a["prev_hash"] + "\n" + canonical(link_record(d, run))).encode()).hexdigest()
    store.con.execute("UPDATE audit SET hash = ? WHERE seq = 2", [forged])
    v = store.verify()
    assert not v.ok and v.first_broken == 2 and "keyed hash" in v.problem


def test_keys_store_only_a_salted_hash(store):
    key = store.create_key("ci")
    assert store.check_key(key)
    assert store.check_key(key + "x") is None and store.check_key("co_00000000_x") is None
    dump = str(store._rows("SELECT * FROM api_keys"))
    assert key.split("_", 2)[2] not in dump
    k2 = store.create_key("other")
    rows = store._rows("SELECT salt, hash FROM api_keys")
    assert len({r["salt"] for r in rows}) == 2
    assert store.revoke_key(key.split("_")[1]) and store.check_key(key) is None and store.check_key(k2)


def test_check_is_stored_and_reproduced(store):
    txn = Transaction.model_validate({"date": "2024-01-10", "item": {"kind": "ic", "tpp": 5000},
                                      "destination": "CN", "ship_from": "US"})
    det, det_id = runner.check_and_store(store, txn)
    out = runner.reproduce(store, det_id)
    assert out["same_answer"] and out["method"] == "carveout.check"
    assert out["determination"]["license_required"] == det.license_required
    store.con.execute("UPDATE determinations SET rules_version = 'old@000' WHERE id = ?", [det_id])
    out = runner.reproduce(store, det_id)
    assert out["rules_version_changed"] is True


def test_ledger_rows_reproduce_through_check(store):
    """Every stored ledger row re-runs through carveout.check (facts -> Transaction) with the same answer."""
    facts, _ = features.read_ledger(LEDGER)
    facts = facts.head(150).with_row_index("row", offset=1)
    result = engine.evaluate(facts)
    ids = store.append(store.create_run("batch"), runner.outcomes_from_frame(facts, result))
    for i in ids[::5]:
        out = runner.reproduce(store, i)
        assert out["method"] == "carveout.check", out["determination"]["inputs"]
        assert out["same_answer"], (out["determination"], out["reproduced"])
    frame = store.results_frame(store.runs(kind="batch")[0]["id"])
    assert frame.height == 150 and frame.schema["reasons"] == pl.List(pl.String)
