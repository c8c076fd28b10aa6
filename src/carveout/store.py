"""The embedded store: one DuckDB file with runs, determinations, an append-only audit chain and API keys.

Where it lives: ``--db PATH``, else ``$CARVEOUT_DB``, else ``$XDG_DATA_HOME/carveout/carveout.duckdb``
(``~/.local/share/carveout/carveout.duckdb``).

Every determination the service makes (one API check, or one ledger row of a batch) is written twice in
one transaction: the full inputs and outputs in ``determinations``, and a link in ``audit`` holding the
inputs hash, rules version, scenario label, verdict and reason ids, and a hash that covers the previous
link's hash. Changing, deleting or reordering any record breaks the chain from that record on, and
``verify()`` names the first broken link. A batch is written chunk by chunk, each chunk (its
determinations, its audit links and the run's progress) in one transaction, so a killed server loses at
most the chunk it was writing, never an accepted one.

One process owns the file at a time (DuckDB's rule): the CLI's ``keys create`` and ``audit verify`` need
the server stopped, or go through the server's API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

GENESIS = "0" * 64
SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,            -- check | batch
    created_at VARCHAR NOT NULL,
    finished_at VARCHAR,
    status VARCHAR NOT NULL,          -- queued | running | done | failed | interrupted
    source VARCHAR,                   -- uploaded file name
    upload_path VARCHAR,              -- kept so an interrupted job can resume
    scenario VARCHAR NOT NULL,
    as_of VARCHAR,
    total_rows BIGINT,
    done_rows BIGINT NOT NULL DEFAULT 0,
    error_rows BIGINT NOT NULL DEFAULT 0,
    errors VARCHAR,                   -- JSON list of input errors (row, column, message)
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS determinations (
    id BIGINT PRIMARY KEY,            -- equals audit.seq
    run_id VARCHAR NOT NULL,
    row_no BIGINT NOT NULL,
    input_kind VARCHAR NOT NULL,      -- transaction | facts
    inputs VARCHAR NOT NULL,          -- canonical JSON; sha256 of this text is the inputs hash
    as_of VARCHAR,
    license_required VARCHAR,
    eccn VARCHAR,
    classification VARCHAR,
    reasons VARCHAR[],
    missing VARCHAR[],
    license_exceptions VARCHAR[],
    authorization_used VARCHAR,
    review_policy VARCHAR,
    rules_version VARCHAR,
    scenario VARCHAR,
    created_at VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY,
    created_at VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    row_no BIGINT NOT NULL,
    inputs_hash VARCHAR NOT NULL,
    rules_version VARCHAR,
    scenario VARCHAR,
    verdict VARCHAR,
    eccn VARCHAR,
    reasons VARCHAR NOT NULL,         -- JSON list of reason ids
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id VARCHAR PRIMARY KEY,
    label VARCHAR,
    salt VARCHAR NOT NULL,
    hash VARCHAR NOT NULL,            -- sha256(salt || key), hex
    created_at VARCHAR NOT NULL,
    revoked_at VARCHAR
);
"""


def default_db_path() -> Path:
    env = os.environ.get("CARVEOUT_DB")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "carveout" / "carveout.duckdb"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _json_default(v: Any) -> Any:
    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, set | frozenset | tuple):
        return list(v)
    raise TypeError(f"cannot store {type(v).__name__}")


def canonical(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text (and hash)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False,
                      allow_nan=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """The hash of one audit link: the previous link's hash, then the canonical record."""
    return sha256(prev_hash + "\n" + canonical(record))


AUDIT_FIELDS = ("seq", "created_at", "run_id", "row_no", "inputs_hash", "rules_version", "scenario",
                "verdict", "eccn", "reasons")


@dataclass
class Verification:
    ok: bool
    checked: int
    first_broken: int | None = None
    problem: str | None = None
    head: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_broken": self.first_broken,
                "problem": self.problem, "head": self.head}


class StoreBusy(RuntimeError):
    """The DuckDB file is held by another process (usually a running server)."""


@dataclass
class Outcome:
    """One verdict to be stored: the inputs as given and what the engine said."""

    row_no: int
    input_kind: str
    inputs: dict[str, Any]
    license_required: str | None
    eccn: str | None
    classification: str | None
    reasons: list[str]
    missing: list[str]
    license_exceptions: list[str]
    authorization: str | None
    review_policy: str | None
    rules_version: str | None
    as_of: str | None = None


class Store:
    """Thread-safe handle on the DuckDB file; every write goes through one lock (the chain is a sequence)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path else default_db_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as e:  # lock held by another process
            raise StoreBusy(
                f"{self.path} is in use by another process (a running `carveout serve`?): stop it, or use the "
                f"server's API for this. DuckDB said: {e}"
            ) from e
        self.lock = threading.RLock()
        with self.lock:
            self.con.execute(_DDL)
            self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            head = self.con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchall()
        self._seq, self._head = (int(head[0][0]), head[0][1]) if head else (0, GENESIS)

    def close(self) -> None:
        with self.lock:
            self.con.close()

    # ---------- queries ----------
    def _rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        with self.lock:
            cur = self.con.execute(sql, params or [])
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def _one(self, sql: str, params: list | None = None) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    @property
    def head(self) -> tuple[int, str]:
        return self._seq, self._head

    # ---------- runs ----------
    def create_run(self, kind: str, *, scenario: str = "baseline", source: str | None = None,
                   upload_path: str | None = None, as_of: date | None = None, total_rows: int | None = None,
                   status: str = "queued", errors: list[dict] | None = None) -> str:
        run_id = f"{kind[:1]}_{secrets.token_hex(8)}"
        with self.lock:
            self.con.execute(
                "INSERT INTO runs (id, kind, created_at, status, source, upload_path, scenario, as_of, total_rows,"
                " error_rows, errors) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [run_id, kind, now(), status, source, upload_path, scenario,
                 as_of.isoformat() if as_of else None, total_rows, len(errors or []),
                 canonical(errors or [])],
            )
        return run_id

    def update_run(self, run_id: str, **fields: Any) -> None:
        if not fields:
            return
        if "errors" in fields and not isinstance(fields["errors"], str):
            fields["error_rows"] = len(fields["errors"])
            fields["errors"] = canonical(fields["errors"])
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.lock:
            self.con.execute(f"UPDATE runs SET {cols} WHERE id = ?", [*fields.values(), run_id])

    def run(self, run_id: str) -> dict[str, Any] | None:
        r = self._one("SELECT * FROM runs WHERE id = ?", [run_id])
        if r is not None:
            r["errors"] = json.loads(r["errors"] or "[]")
        return r

    def runs(self, status: tuple[str, ...] | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM runs WHERE 1=1", []
        if status:
            sql += f" AND status IN ({','.join('?' * len(status))})"
            params += list(status)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        return self._rows(sql + " ORDER BY created_at", params)

    # ---------- determinations + audit chain ----------
    def append(self, run_id: str, outcomes: list[Outcome], scenario: str = "baseline",
               progress: dict[str, Any] | None = None) -> list[int]:
        """Store verdicts and their audit links in one transaction (with the run's progress); returns ids."""
        if not outcomes:
            if progress:
                self.update_run(run_id, **progress)
            return []
        created = now()
        with self.lock:
            seq, head = self._seq, self._head
            det_rows, audit_rows = [], []
            for o in outcomes:
                seq += 1
                text = canonical(o.inputs)
                ih = sha256(text)
                rec = {"seq": seq, "created_at": created, "run_id": run_id, "row_no": int(o.row_no),
                       "inputs_hash": ih, "rules_version": o.rules_version, "scenario": scenario,
                       "verdict": o.license_required, "eccn": o.eccn, "reasons": list(o.reasons)}
                h = link_hash(head, rec)
                audit_rows.append({**rec, "reasons": canonical(rec["reasons"]), "prev_hash": head, "hash": h})
                det_rows.append({
                    "id": seq, "run_id": run_id, "row_no": int(o.row_no), "input_kind": o.input_kind,
                    "inputs": text, "as_of": o.as_of, "license_required": o.license_required, "eccn": o.eccn,
                    "classification": o.classification, "reasons": list(o.reasons), "missing": list(o.missing),
                    "license_exceptions": list(o.license_exceptions), "authorization_used": o.authorization,
                    "review_policy": o.review_policy, "rules_version": o.rules_version, "scenario": scenario,
                    "created_at": created,
                })
                head = h
            lst = pl.List(pl.String)
            det = pl.DataFrame(det_rows, schema={
                "id": pl.Int64, "run_id": pl.String, "row_no": pl.Int64, "input_kind": pl.String,
                "inputs": pl.String, "as_of": pl.String, "license_required": pl.String, "eccn": pl.String,
                "classification": pl.String, "reasons": lst, "missing": lst, "license_exceptions": lst,
                "authorization_used": pl.String, "review_policy": pl.String, "rules_version": pl.String,
                "scenario": pl.String, "created_at": pl.String})
            aud = pl.DataFrame(audit_rows, schema={
                "seq": pl.Int64, "created_at": pl.String, "run_id": pl.String, "row_no": pl.Int64,
                "inputs_hash": pl.String, "rules_version": pl.String, "scenario": pl.String,
                "verdict": pl.String, "eccn": pl.String, "reasons": pl.String, "prev_hash": pl.String,
                "hash": pl.String})
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.register("_det_chunk", det.to_arrow())
                self.con.register("_aud_chunk", aud.to_arrow())
                self.con.execute(f"INSERT INTO determinations ({', '.join(det.columns)}) SELECT * FROM _det_chunk")
                self.con.execute(f"INSERT INTO audit ({', '.join(aud.columns)}) SELECT * FROM _aud_chunk")
                if progress:
                    cols = ", ".join(f"{k} = ?" for k in progress)
                    self.con.execute(f"UPDATE runs SET {cols} WHERE id = ?", [*progress.values(), run_id])
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            finally:
                self.con.unregister("_det_chunk")
                self.con.unregister("_aud_chunk")
            first = self._seq + 1
            self._seq, self._head = seq, head
        return list(range(first, seq + 1))

    def determination(self, det_id: int) -> dict[str, Any] | None:
        d = self._one("SELECT * FROM determinations WHERE id = ?", [det_id])
        if d is None:
            return None
        a = self._one("SELECT * FROM audit WHERE seq = ?", [det_id])
        d["inputs"] = json.loads(d["inputs"])
        d["audit"] = a and {**a, "reasons": json.loads(a["reasons"])}
        return d

    def run_rows(self, run_id: str) -> int:
        with self.lock:
            return int(self.con.execute("SELECT count(*) FROM determinations WHERE run_id = ?",
                                        [run_id]).fetchall()[0][0])

    def results_frame(self, run_id: str) -> pl.DataFrame:
        """A batch's verdicts in row order (inputs as JSON text, reason ids as lists)."""
        with self.lock:
            cur = self.con.execute(
                "SELECT row_no AS row, id AS audit_id, license_required, eccn, classification, reasons, missing,"
                " license_exceptions, authorization_used AS \"authorization\", review_policy, rules_version,"
                " scenario, inputs"
                " FROM determinations WHERE run_id = ? ORDER BY row_no", [run_id])
            with warnings.catch_warnings():  # DuckDB notes the copy; a result set is small enough
                warnings.simplefilter("ignore")
                tbl = cur.to_arrow_table()
        return pl.from_arrow(tbl)  # type: ignore[return-value]

    def summary(self, run_id: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT license_required, coalesce(json_extract_string(inputs, '$.facts.destination'),"
            " json_extract_string(inputs, '$.transaction.destination'), '?') AS destination,"
            " count(*) AS n FROM determinations WHERE run_id = ? GROUP BY ALL ORDER BY ALL", [run_id])

    def _audit_pages(self, page: int = 50_000) -> Iterator[list[tuple]]:
        last = 0
        cols = ", ".join(AUDIT_FIELDS) + ", prev_hash, hash"
        while True:
            with self.lock:
                rows = self.con.execute(
                    f"SELECT {cols} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", [last, page]).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def verify(self) -> Verification:
        """Walk the chain from the first link: recompute each hash, check each link points at the one before,
        that sequence numbers have no gap, and that every determination matches its link."""
        prev, expected_seq, checked = GENESIS, 1, 0
        n = len(AUDIT_FIELDS)
        for rows in self._audit_pages():
            for r in rows:
                rec = dict(zip(AUDIT_FIELDS, r[:n], strict=True))
                seq = rec["seq"]
                try:
                    rec["reasons"] = json.loads(rec["reasons"])
                except (TypeError, ValueError):
                    return Verification(False, checked, seq, "reasons are not valid JSON")
                if seq != expected_seq:
                    return Verification(False, checked, expected_seq,
                                        f"link {expected_seq} is missing (next link is {seq})")
                if r[n] != prev:
                    return Verification(False, checked, seq, "prev_hash does not match the previous link's hash")
                if link_hash(prev, rec) != r[n + 1]:
                    return Verification(False, checked, seq, "record content does not match its hash")
                prev, expected_seq, checked = r[n + 1], seq + 1, checked + 1
        # determinations must match their links (inputs hash, verdict, reasons) and have no extra rows
        with self.lock:
            bad = self.con.execute(
                "SELECT coalesce(d.id, a.seq) AS id, CASE WHEN a.seq IS NULL THEN 'determination without audit link'"
                " WHEN d.id IS NULL THEN 'audit link without determination'"
                " WHEN sha256(d.inputs) <> a.inputs_hash THEN 'stored inputs do not match the inputs hash'"
                " ELSE 'determination differs from its audit link' END"
                " FROM determinations d FULL OUTER JOIN audit a ON d.id = a.seq"
                " WHERE a.seq IS NULL OR d.id IS NULL OR sha256(d.inputs) <> a.inputs_hash"
                " OR d.license_required IS DISTINCT FROM a.verdict OR d.eccn IS DISTINCT FROM a.eccn"
                " OR d.rules_version IS DISTINCT FROM a.rules_version OR d.scenario IS DISTINCT FROM a.scenario"
                " OR d.run_id <> a.run_id OR d.row_no <> a.row_no"
                " OR to_json(d.reasons)::VARCHAR <> to_json(a.reasons::JSON)::VARCHAR"
                " ORDER BY 1 LIMIT 1").fetchall()
        bad = bad[0] if bad else None
        if bad:
            return Verification(False, checked, int(bad[0]), bad[1])
        return Verification(True, checked, None, None, prev)

    # ---------- API keys ----------
    def create_key(self, label: str | None = None) -> str:
        """Make a key, store only its salted hash, and return the key (shown once)."""
        key_id = secrets.token_hex(4)
        key = f"co_{key_id}_{secrets.token_urlsafe(24)}"
        salt = secrets.token_hex(16)
        with self.lock:
            self.con.execute("INSERT INTO api_keys VALUES (?,?,?,?,?,NULL)",
                             [key_id, label, salt, sha256(salt + key), now()])
        return key

    def check_key(self, key: str | None) -> str | None:
        """The key's id when ``key`` is a live key, else None (constant-time comparison)."""
        if not key or not key.startswith("co_") or key.count("_") < 2:
            return None
        key_id = key.split("_", 2)[1]
        row = self._one("SELECT salt, hash FROM api_keys WHERE id = ? AND revoked_at IS NULL", [key_id])
        if row is None:
            return None
        return key_id if hmac.compare_digest(sha256(row["salt"] + key), row["hash"]) else None

    def keys(self) -> list[dict[str, Any]]:
        return self._rows("SELECT id, label, created_at, revoked_at FROM api_keys ORDER BY created_at")

    def revoke_key(self, key_id: str) -> bool:
        with self.lock:
            n = self.con.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                 [now(), key_id]).fetchall()
        return bool(n and n[0][0])
