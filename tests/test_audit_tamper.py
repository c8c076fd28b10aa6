"""The audit trail is tamper-evident: each edit an attacker with write access to the DuckDB file (but not to the
key file) can make is found by ``carveout audit verify`` with no extra argument, which names the first bad record.

Every test builds a real store file, closes it, tampers with it through a separate DuckDB connection (as someone
with the file would), then runs the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

import duckdb
import pytest
from typer.testing import CliRunner

from carveout.model import Transaction
from carveout.service import runner
from carveout.service.cli import app as service_cli
from carveout.store import AuditBroken, Outcome, Store, canonical, link_record

TXN = {"date": "2024-01-10", "item": {"kind": "ic", "tpp": 5000, "die_area_mm2": 800}, "destination": "CN",
       "ship_from": "US"}


def _outcome(i: int) -> Outcome:
    return Outcome(row_no=i, input_kind="facts", inputs={"facts": {"tpp": 4000.0 + i, "destination": "AE"},
                                                         "as_of": "2024-06-01"},
                   license_required="yes", eccn="3A090.a", classification="3A090.a", reasons=["part742.ns.3a090"],
                   missing=[], license_exceptions=["NAC"], authorization="none", review_policy="case_by_case",
                   rules_version="2023-11-17@abc", as_of="2024-06-01")


@pytest.fixture()
def db(tmp_path):
    """Records 1-2: two API checks; 3-8: a six-row batch; 9: another check."""
    path = tmp_path / "audit.duckdb"
    s = Store(path)
    txn = Transaction.model_validate(TXN)
    runner.check_and_store(s, txn)
    runner.check_and_store(s, txn)
    run = s.create_run("batch", source="led.csv", total_rows=6, as_of="2024-06-01")
    s.append(run, [_outcome(i) for i in range(1, 7)], progress={"done_rows": 6})
    s.update_run(run, status="done", finished_at="2024-06-01T00:00:00")
    runner.check_and_store(s, txn)
    s.close()
    return path


def verify(path) -> tuple[int, str]:
    r = CliRunner().invoke(service_cli, ["audit", "verify", "--db", str(path)])
    return r.exit_code, r.output


def tamper(path, *sql: str, params: list | None = None) -> None:
    con = duckdb.connect(str(path))
    for q in sql:
        con.execute(q, params or [])
    con.close()


def test_untouched_store_verifies_and_key_is_private(db):
    code, out = verify(db)
    assert code == 0 and "9 records" in out, out
    key = db.with_name(db.name + ".auditkey")
    assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_text().strip() not in db.read_bytes().decode("latin-1")
    head = json.loads(db.with_name(db.name + ".audithead").read_text())
    assert head["seq"] == 9


@pytest.mark.parametrize("column, value", [
    ("authorization_used", "'VEU'"), ("review_policy", "'presumption_of_approval'"),
    ("license_exceptions", "['ACA']"), ("classification", "'EAR99'"), ("missing", "['tpp']"),
    ("as_of", "'2022-01-01'"), ("license_required", "'no'"), ("eccn", "'EAR99'"), ("reasons", "[]"),
    ("inputs", "'{\"facts\":{\"tpp\":1.0}}'"), ("rules_version", "'x'"), ("scenario", "'other'"),
    ("input_kind", "'transaction'"), ("row_no", "99"), ("created_at", "'2020-01-01'"),
])
def test_editing_any_determination_column_is_found(db, column, value):
    tamper(db, f"UPDATE determinations SET {column} = {value} WHERE id = 5")
    code, out = verify(db)
    assert code == 1 and "broken at record 5" in out, out


@pytest.mark.parametrize("column, value", [
    ("kind", "'check'"), ("created_at", "'2020-01-01'"), ("finished_at", "NULL"), ("status", "'failed'"),
    ("source", "'other.csv'"), ("upload_path", "'/tmp/x'"), ("scenario", "'other'"), ("as_of", "'2020-01-01'"),
    ("total_rows", "7"), ("done_rows", "5"), ("error_rows", "2"), ("errors", "'[1]'"), ("message", "'ok'"),
    ("crashes", "3"),
])
def test_editing_any_runs_column_is_found(db, column, value):
    tamper(db, f"UPDATE runs SET {column} = {value} WHERE kind = 'batch'")
    code, out = verify(db)
    assert code == 1 and "broken at record 3" in out, out  # the batch's first record


def test_deleting_a_record_is_found(db):
    tamper(db, "DELETE FROM determinations WHERE id = 4", "DELETE FROM audit WHERE seq = 4")
    code, out = verify(db)
    assert code == 1 and "broken at record 4" in out and "missing" in out, out


def test_deleting_a_run_is_found(db):
    tamper(db, "DELETE FROM runs WHERE kind = 'batch'")
    code, out = verify(db)
    assert code == 1 and "broken at record 3" in out, out


def test_cutting_the_tail_is_found(db):
    tamper(db, "DELETE FROM determinations WHERE id >= 8", "DELETE FROM audit WHERE seq >= 8")
    code, out = verify(db)
    assert code == 1 and "broken at record 8" in out and "removed" in out, out
    with pytest.raises(AuditBroken):  # and nothing is appended on top of the cut chain
        s = Store(db)
        try:
            s.append(s.create_run("batch"), [_outcome(1)])
        finally:
            s.close()


def _rewrite(path, key: bytes | None) -> None:
    """Rewrite every link from record 1 with recomputed hashes: with a guessed key, or as plain sha256."""
    con = duckdb.connect(str(path))
    con.execute("UPDATE determinations SET license_required = 'no' WHERE id = 5")
    con.execute("UPDATE audit SET verdict = 'no' WHERE seq = 5")
    dets = con.execute("SELECT *, sha256(inputs) AS inputs_hash FROM determinations ORDER BY id")
    cols = [d[0] for d in dets.description]
    rows = [dict(zip(cols, r, strict=True)) for r in dets.fetchall()]
    runs = {r[0]: dict(zip([d[0] for d in con.description], r, strict=True))
            for r in con.execute("SELECT * FROM runs").fetchall()}
    prev = "0" * 64
    for d in rows:
        text = (prev + "\n" + canonical(link_record(d, runs[d["run_id"]]))).encode()
        h = (hashlib.sha256(text).hexdigest() if key is None
             else __import__("hmac").new(key, text, hashlib.sha256).hexdigest())
        con.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, h, d["id"]])
        prev = h
    con.close()
    if key is not None:  # and a head file sealed with the same guessed key
        from carveout.store import head_mac

        path.with_name(path.name + ".audithead").write_text(json.dumps(
            {"seq": len(rows), "hash": prev, "mac": head_mac(key, len(rows), prev)}))


@pytest.mark.parametrize("key", [None, b"\x01" * 32], ids=["sha256", "guessed-key"])
def test_rewriting_the_whole_chain_is_found(db, key):
    _rewrite(db, key)
    code, out = verify(db)
    assert code == 1 and "broken at record 1" in out, out


def test_missing_key_or_head_file_fails(db):
    head = db.with_name(db.name + ".audithead")
    head.unlink()
    code, out = verify(db)
    assert code == 1 and "head file" in out, out
    db.with_name(db.name + ".auditkey").unlink()
    code, out = verify(db)
    assert code == 1 and "broken at record 1" in out and "key" in out, out


def test_key_and_head_paths_are_configurable(tmp_path, monkeypatch):
    keys = tmp_path / "secrets"
    keys.mkdir()
    monkeypatch.setenv("CARVEOUT_AUDIT_KEY", str(keys / "k"))
    monkeypatch.setenv("CARVEOUT_AUDIT_HEAD", str(keys / "h"))
    s = Store(tmp_path / "x.duckdb")
    runner.check_and_store(s, Transaction.model_validate(TXN))
    s.close()
    assert (keys / "k").exists() and (keys / "h").exists()
    assert not (tmp_path / "x.duckdb.auditkey").exists()
    assert verify(tmp_path / "x.duckdb")[0] == 0
    tamper(tmp_path / "x.duckdb", "UPDATE determinations SET review_policy = 'x'")
    assert verify(tmp_path / "x.duckdb")[0] == 1
