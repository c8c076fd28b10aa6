"""The embedded store: one DuckDB file with runs, determinations, an append-only audit chain and API keys.

Where it lives: ``--db PATH``, else ``$CARVEOUT_DB``, else ``$XDG_DATA_HOME/carveout/carveout.duckdb``
(``~/.local/share/carveout/carveout.duckdb``).

Every determination the service makes (one API check, or one ledger row of a batch) is written twice in
one transaction: the full inputs and outputs in ``determinations``, and a link in ``audit``. A link's
hash is an HMAC-SHA256, keyed with a secret kept *outside* the database file (``<db>.auditkey``, mode
0600, made with the store; ``$CARVEOUT_AUDIT_KEY`` or ``audit_key=`` moves it), over the previous link's
hash and the canonical JSON of the *whole* determination plus its run's fixed metadata. Every ``runs``
row carries its own HMAC over all its columns. After each append the chain's head (length and last
hash, itself keyed) is written to a second file outside the database (``<db>.audithead``,
``$CARVEOUT_AUDIT_HEAD``), so a cut tail shows even though what is left of the chain is consistent.
``verify()`` names the first bad record. Someone who can write the database but cannot read the key
can neither edit, delete, reorder nor re-hash a record unseen; someone holding the key can.

A batch is written chunk by chunk, each chunk (its determinations, its audit links and the run's
progress) in one transaction, so a killed server loses at most the chunk it was writing, never an
accepted one.

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
SCHEMA_VERSION = 2
CHAIN = "hmac-sha256/v2"  # how links are made; stores of schema 1 had unkeyed sha256 links

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,            -- check | batch | frontier
    created_at VARCHAR NOT NULL,
    finished_at VARCHAR,
    status VARCHAR NOT NULL,          -- queued | running | done | failed
    source VARCHAR,                   -- uploaded file name
    upload_path VARCHAR,              -- kept while the job runs, so an interrupted job can resume
    scenario VARCHAR NOT NULL,
    as_of VARCHAR,
    total_rows BIGINT,
    done_rows BIGINT NOT NULL DEFAULT 0,
    error_rows BIGINT NOT NULL DEFAULT 0,
    errors VARCHAR,                   -- JSON list of input errors (row, column, message)
    message VARCHAR
);
ALTER TABLE runs ADD COLUMN IF NOT EXISTS crashes BIGINT DEFAULT 0;  -- server stops while it was running
ALTER TABLE runs ADD COLUMN IF NOT EXISTS mac VARCHAR;               -- HMAC of every other column
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
    hash VARCHAR NOT NULL             -- HMAC-SHA256(key, prev_hash || canonical link record)
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

# every column of a determination goes into its link (the inputs as their sha256)
DET_FIELDS = ("id", "run_id", "row_no", "input_kind", "inputs_hash", "as_of", "license_required", "eccn",
              "classification", "reasons", "missing", "license_exceptions", "authorization_used", "review_policy",
              "rules_version", "scenario", "created_at")
# a run's metadata that is fixed once the run exists goes into each of its links; all columns go into its MAC
RUN_FIXED = ("kind", "created_at", "source", "scenario", "as_of")
RUN_FIELDS = ("id", "kind", "created_at", "finished_at", "status", "source", "upload_path", "scenario", "as_of",
              "total_rows", "done_rows", "error_rows", "errors", "message", "crashes")
_RUN_INTS = ("total_rows", "done_rows", "error_rows", "crashes")
AUDIT_FIELDS = ("seq", "created_at", "run_id", "row_no", "inputs_hash", "rules_version", "scenario",
                "verdict", "eccn", "reasons")


def default_db_path() -> Path:
    env = os.environ.get("CARVEOUT_DB")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "carveout" / "carveout.duckdb"


def default_key_path(db: Path) -> Path:
    env = os.environ.get("CARVEOUT_AUDIT_KEY")
    return Path(env).expanduser() if env else db.with_name(db.name + ".auditkey")


def default_head_path(db: Path) -> Path:
    env = os.environ.get("CARVEOUT_AUDIT_HEAD")
    return Path(env).expanduser() if env else db.with_name(db.name + ".audithead")


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


def link_hash(key: bytes, prev_hash: str, record: dict[str, Any]) -> str:
    """One audit link: HMAC-SHA256 under the audit key of the previous link's hash and the canonical record."""
    return hmac.new(key, (prev_hash + "\n" + canonical(record)).encode("utf-8"), hashlib.sha256).hexdigest()


def link_record(det: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """What a link covers: every determination column and the run's fixed metadata."""
    rec = {k: det.get(k) for k in DET_FIELDS}
    for k in ("reasons", "missing", "license_exceptions"):
        rec[k] = list(rec[k] or [])
    rec["run"] = {k: run.get(k) for k in RUN_FIXED}
    return rec


def run_mac(key: bytes, run: dict[str, Any]) -> str:
    row = {k: (int(run[k]) if k in _RUN_INTS and run.get(k) is not None else run.get(k)) for k in RUN_FIELDS}
    return hmac.new(key, ("run\n" + canonical(row)).encode("utf-8"), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, head: str) -> str:
    return hmac.new(key, f"head\n{seq}\n{head}".encode(), hashlib.sha256).hexdigest()


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


class AuditBroken(RuntimeError):
    """The chain in the file does not agree with its head file or key: nothing is appended to it."""


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


@dataclass
class Group:
    """Verdicts of one run for ``Store.write``; ``new_run`` creates the run in the same transaction."""

    run_id: str
    outcomes: list[Outcome]
    scenario: str = "baseline"
    progress: dict[str, Any] | None = None
    new_run: dict[str, Any] | None = None


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (never overwriting one that exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


class Store:
    """Thread-safe handle on the DuckDB file; every write goes through one lock (the chain is a sequence)."""

    def __init__(self, path: str | Path | None = None, *, audit_key: str | Path | None = None,
                 audit_head: str | Path | None = None):
        self.path = Path(path).expanduser() if path else default_db_path()
        memory = str(self.path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.key_path = None if memory else Path(audit_key).expanduser() if audit_key else default_key_path(self.path)
        self.head_path = (None if memory else Path(audit_head).expanduser() if audit_head
                          else default_head_path(self.path))
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
            empty = not self.con.execute("SELECT 1 FROM audit LIMIT 1").fetchall()
            if empty:
                self.con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('chain', ?)",
                                 [str(SCHEMA_VERSION), CHAIN])
            else:
                self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '1')")
            head = self.con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchall()
        self._seq, self._head = (int(head[0][0]), head[0][1]) if head else (0, GENESIS)
        self.key = self._load_key(create=empty)
        self._run_meta: dict[str, dict[str, Any]] = {}
        self.broken = self._check_head()

    # ---------- the key and the head file (both outside the database) ----------
    def _load_key(self, create: bool) -> bytes | None:
        if self.key_path is None:
            return secrets.token_bytes(32)
        try:
            return bytes.fromhex(self.key_path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            if not create:
                return None
        except (ValueError, OSError):
            return None
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            _write_private(self.key_path, secrets.token_hex(32) + "\n")
        except FileExistsError:  # another process made it just now
            pass
        return bytes.fromhex(self.key_path.read_text(encoding="ascii").strip())

    def _read_head(self) -> tuple[dict[str, Any] | None, str | None]:
        """The head file's content, or a reason it cannot be trusted."""
        if self.head_path is None:
            return {"seq": self._seq, "hash": self._head}, None
        try:
            doc = json.loads(self.head_path.read_text(encoding="utf-8"))
            seq, head, mac = int(doc["seq"]), str(doc["hash"]), str(doc["mac"])
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError, KeyError, TypeError):
            return None, f"head file {self.head_path.name} is unreadable"
        if self.key is None or not hmac.compare_digest(head_mac(self.key, seq, head), mac):
            return None, f"head file {self.head_path.name} does not carry a valid MAC"
        return {"seq": seq, "hash": head}, None

    def _write_head(self) -> None:
        if self.head_path is None or self.key is None:
            return
        doc = {"seq": self._seq, "hash": self._head, "mac": head_mac(self.key, self._seq, self._head),
               "db": self.path.name, "written_at": now()}
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(canonical(doc))
        os.replace(tmp, self.head_path)

    def _check_head(self) -> str | None:
        """Why appending to this chain would hide tampering (None when it would not)."""
        if self.key is None:
            return f"the audit key {self.key_path} is missing or unreadable" if self._seq else None
        head, why = self._read_head()
        if why:
            return why
        if head is None:
            return f"the head file {self.head_path} is missing" if self._seq else None
        if head["seq"] > self._seq:
            return f"the chain ends at record {self._seq} but the head file records {head['seq']}"
        if head["seq"]:
            row = self.con.execute("SELECT hash FROM audit WHERE seq = ?", [head["seq"]]).fetchall()
            if not row or row[0][0] != head["hash"]:
                return f"record {head['seq']} does not carry the hash the head file records"
        return None

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
    def new_run(self, kind: str, *, scenario: str = "baseline", source: str | None = None,
                 upload_path: str | None = None, as_of: date | str | None = None, total_rows: int | None = None,
                 status: str = "queued", errors: list[dict] | None = None) -> dict[str, Any]:
        run = {"id": f"{kind[:1]}_{secrets.token_hex(8)}", "kind": kind, "created_at": now(), "finished_at": None,
               "status": status, "source": source, "upload_path": upload_path, "scenario": scenario,
               "as_of": as_of.isoformat() if isinstance(as_of, date) else as_of, "total_rows": total_rows,
               "done_rows": 0, "error_rows": len(errors or []), "errors": canonical(errors or []),
               "message": None, "crashes": 0}
        return run

    def _insert_run(self, run: dict[str, Any]) -> None:
        if self.key is None:
            raise AuditBroken(f"the audit key {self.key_path} is missing: nothing can be recorded")
        row = {**run, "mac": run_mac(self.key, run)}
        self.con.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))
        self._run_meta[run["id"]] = {k: run[k] for k in RUN_FIXED}

    def _insert_runs(self, runs: list[dict[str, Any]]) -> None:
        """Many new runs in one statement (a group commit of checks makes one run per check)."""
        if len(runs) < 4:
            for r in runs:
                self._insert_run(r)
            return
        if self.key is None:
            raise AuditBroken(f"the audit key {self.key_path} is missing: nothing can be recorded")
        rows = [{**r, "mac": run_mac(self.key, r)} for r in runs]
        ints = {c: pl.Int64 for c in _RUN_INTS}
        frame = pl.DataFrame(rows, schema={c: ints.get(c, pl.String) for c in (*RUN_FIELDS, "mac")})
        self.con.register("_runs_chunk", frame.to_arrow())
        try:
            self.con.execute(f"INSERT INTO runs ({', '.join(frame.columns)}) SELECT * FROM _runs_chunk")
        finally:
            self.con.unregister("_runs_chunk")
        for r in runs:
            self._run_meta[r["id"]] = {k: r[k] for k in RUN_FIXED}

    def create_run(self, kind: str, **kw: Any) -> str:
        run = self.new_run(kind, **kw)
        with self.lock:
            self._insert_run(run)
        return run["id"]

    def _update_run_locked(self, run_id: str, fields: dict[str, Any]) -> None:
        if "errors" in fields and not isinstance(fields["errors"], str):
            fields["error_rows"] = len(fields["errors"])
            fields["errors"] = canonical(fields["errors"])
        cur = self.con.execute(f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE id = ?", [run_id]).fetchall()
        if not cur:
            return
        row = {**dict(zip(RUN_FIELDS, cur[0], strict=True)), **fields}
        if self.key is None:
            raise AuditBroken(f"the audit key {self.key_path} is missing: nothing can be recorded")
        fields = {**fields, "mac": run_mac(self.key, row)}
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.con.execute(f"UPDATE runs SET {cols} WHERE id = ?", [*fields.values(), run_id])

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change a run's columns (and re-seal its MAC) in one transaction."""
        if not fields:
            return
        with self.lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                self._update_run_locked(run_id, fields)
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

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

    def _meta_of(self, run_id: str) -> dict[str, Any]:
        meta = self._run_meta.get(run_id)
        if meta is None:
            row = self.con.execute(f"SELECT {', '.join(RUN_FIXED)} FROM runs WHERE id = ?", [run_id]).fetchall()
            if not row:
                raise KeyError(f"no run {run_id}")
            meta = dict(zip(RUN_FIXED, row[0], strict=True))
            if len(self._run_meta) > 10_000:
                self._run_meta.clear()
            self._run_meta[run_id] = meta
        return meta

    # ---------- determinations + audit chain ----------
    def append(self, run_id: str, outcomes: list[Outcome], scenario: str = "baseline",
               progress: dict[str, Any] | None = None) -> list[int]:
        """Store verdicts and their audit links in one transaction (with the run's progress); returns ids."""
        return self.write([Group(run_id, outcomes, scenario, progress)])[0]

    def write(self, groups: list[Group]) -> list[list[int]]:
        """Store several runs' verdicts, their audit links, new runs and progress in ONE transaction (a group
        commit); the head file is rewritten after the commit. Returns each group's record ids."""
        created = now()
        with self.lock:
            if self.broken:
                raise AuditBroken(
                    f"the audit chain is broken ({self.broken}); run `carveout audit verify`. If this is meant "
                    f"to be a new, empty store, move {self.head_path} and {self.key_path} aside first")
            seq, head = self._seq, self._head
            det_rows, audit_rows, ids = [], [], []
            for g in groups:
                meta = ({k: g.new_run[k] for k in RUN_FIXED} if g.new_run else self._meta_of(g.run_id))
                first = seq + 1
                for o in g.outcomes:
                    seq += 1
                    text = canonical(o.inputs)
                    det = {
                        "id": seq, "run_id": g.run_id, "row_no": int(o.row_no), "input_kind": o.input_kind,
                        "inputs": text, "as_of": o.as_of, "license_required": o.license_required, "eccn": o.eccn,
                        "classification": o.classification, "reasons": list(o.reasons),
                        "missing": list(o.missing), "license_exceptions": list(o.license_exceptions),
                        "authorization_used": o.authorization, "review_policy": o.review_policy,
                        "rules_version": o.rules_version, "scenario": g.scenario, "created_at": created,
                    }
                    ih = sha256(text)
                    h = link_hash(self.key, head, link_record({**det, "inputs_hash": ih}, meta))
                    audit_rows.append({"seq": seq, "created_at": created, "run_id": g.run_id,
                                       "row_no": int(o.row_no), "inputs_hash": ih, "rules_version": o.rules_version,
                                       "scenario": g.scenario, "verdict": o.license_required, "eccn": o.eccn,
                                       "reasons": canonical(list(o.reasons)), "prev_hash": head, "hash": h})
                    det_rows.append(det)
                    head = h
                ids.append(list(range(first, seq + 1)))
            self.con.execute("BEGIN TRANSACTION")
            try:
                self._insert_runs([g.new_run for g in groups if g.new_run])
                if det_rows:
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
                    self.con.register("_det_chunk", det.to_arrow())
                    self.con.register("_aud_chunk", aud.to_arrow())
                    try:
                        self.con.execute(f"INSERT INTO determinations ({', '.join(det.columns)}) "
                                         "SELECT * FROM _det_chunk")
                        self.con.execute(f"INSERT INTO audit ({', '.join(aud.columns)}) SELECT * FROM _aud_chunk")
                    finally:
                        self.con.unregister("_det_chunk")
                        self.con.unregister("_aud_chunk")
                for g in groups:
                    if g.progress:
                        self._update_run_locked(g.run_id, dict(g.progress))
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                for g in groups:
                    if g.new_run:
                        self._run_meta.pop(g.run_id, None)
                raise
            if det_rows:
                self._seq, self._head = seq, head
                self._write_head()
        return ids

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

    def run_inputs(self, run_id: str) -> list[tuple[int, dict[str, Any]]]:
        """A run's stored inputs in row order: (row number, inputs) — what was checked and audited."""
        with self.lock:
            rows = self.con.execute("SELECT row_no, inputs FROM determinations WHERE run_id = ? ORDER BY row_no",
                                    [run_id]).fetchall()
        return [(int(r), json.loads(t)) for r, t in rows]

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

    # ---------- verification ----------
    _WALK = (
        "SELECT a.seq, a.created_at, a.run_id, a.row_no, a.inputs_hash, a.rules_version, a.scenario, a.verdict,"
        " a.eccn, a.reasons, a.prev_hash, a.hash,"
        " d.id, d.run_id AS d_run_id, d.row_no AS d_row_no, d.input_kind, sha256(d.inputs) AS d_inputs_hash,"
        " d.as_of, d.license_required, d.eccn AS d_eccn, d.classification, d.reasons AS d_reasons, d.missing,"
        " d.license_exceptions, d.authorization_used, d.review_policy, d.rules_version AS d_rules_version,"
        " d.scenario AS d_scenario, d.created_at AS d_created_at, "
        + ", ".join(f"r.{c} AS r_{c}" for c in (*RUN_FIELDS, "mac"))
        + " FROM audit a FULL OUTER JOIN determinations d ON d.id = a.seq"
        " LEFT JOIN runs r ON r.id = coalesce(d.run_id, a.run_id)"
        " WHERE coalesce(a.seq, d.id) > ? ORDER BY coalesce(a.seq, d.id) LIMIT ?")

    def _walk(self, page: int = 20_000) -> Iterator[dict[str, Any]]:
        last = -(2**62)
        while True:
            with self.lock:
                cur = self.con.execute(self._WALK, [last, page])
                cols = [d[0] for d in cur.description]
                rows = cur.fetchall()
            if not rows:
                return
            for r in rows:
                yield dict(zip(cols, r, strict=True))
            last = rows[-1][0] if rows[-1][0] is not None else rows[-1][12]

    def _run_problem(self, run: dict[str, Any]) -> str | None:
        if self.key is None or not run.get("mac"):
            return f"run {run['id']} carries no MAC"
        if not hmac.compare_digest(run_mac(self.key, run), run["mac"]):
            return f"run {run['id']} was changed after it was written (its MAC does not match)"
        return None

    def verify(self) -> Verification:
        """Walk the chain from the first link and name the first bad record: a gap, a link that does not point
        at the one before, a determination (any column) or its run's metadata that no longer gives the keyed
        hash, an audit link that disagrees with its determination, a run row changed after it was written, or
        a chain shorter than (or different from) what the head file outside the database records."""
        if self.key is None:
            with self.lock:
                n = self.con.execute("SELECT count(*) FROM audit").fetchall()[0][0]
            if n:
                return Verification(False, 0, 1, f"the audit key {self.key_path} is missing or unreadable, so "
                                    "no record can be checked")
        prev, expected_seq, checked = GENESIS, 1, 0
        hashes_at: dict[int, str] = {}
        head_file, head_why = self._read_head()
        want = head_file["seq"] if head_file else None
        last_run: str | None = None
        for r in self._walk():
            seq = r["seq"] if r["seq"] is not None else r["id"]
            fail = lambda why, at=seq, n=checked: Verification(False, n, at, why)  # noqa: E731
            if r["seq"] is None:
                return fail("determination without audit link")
            if seq != expected_seq:
                return fail(f"record {expected_seq} is missing (the next record is {seq})", expected_seq)
            if r["id"] is None:
                return fail("audit link without determination")
            if r["prev_hash"] != prev:
                return fail("prev_hash does not match the previous link's hash")
            if r["r_id"] is None:
                return fail(f"its run {r['run_id']} is missing")
            run = {k: r[f"r_{k}"] for k in (*RUN_FIELDS, "mac")}
            if run["id"] != last_run:
                why = self._run_problem(run)
                if why:
                    return fail(why)
                last_run = run["id"]
            det = {"id": r["id"], "run_id": r["d_run_id"], "row_no": r["d_row_no"], "input_kind": r["input_kind"],
                   "inputs_hash": r["d_inputs_hash"], "as_of": r["as_of"], "license_required": r["license_required"],
                   "eccn": r["d_eccn"], "classification": r["classification"], "reasons": r["d_reasons"],
                   "missing": r["missing"], "license_exceptions": r["license_exceptions"],
                   "authorization_used": r["authorization_used"], "review_policy": r["review_policy"],
                   "rules_version": r["d_rules_version"], "scenario": r["d_scenario"],
                   "created_at": r["d_created_at"]}
            if not hmac.compare_digest(link_hash(self.key, prev, link_record(det, run)), r["hash"]):
                return fail("the determination or its run's metadata does not match the record's keyed hash")
            try:
                a_reasons = json.loads(r["reasons"])
            except (TypeError, ValueError):
                return fail("the audit link's reasons are not valid JSON")
            mirrored = {"created_at": "d_created_at", "run_id": "d_run_id", "row_no": "d_row_no",
                        "inputs_hash": "d_inputs_hash", "rules_version": "d_rules_version",
                        "scenario": "d_scenario", "verdict": "license_required", "eccn": "d_eccn"}
            off = [k for k, d in mirrored.items() if r[k] != r[d]] + (
                ["reasons"] if a_reasons != list(r["d_reasons"] or []) else [])
            if off:
                return fail(f"the audit link differs from its determination ({', '.join(off)})")
            prev, expected_seq, checked = r["hash"], seq + 1, checked + 1
            if want is not None and seq == want:
                hashes_at[seq] = prev
        last = expected_seq - 1
        if head_why:
            return Verification(False, checked, last + 1 if last else None, head_why)
        if head_file is None and last and self.head_path is not None:
            return Verification(False, checked, last, f"the head file {self.head_path} is missing")
        if head_file is not None:
            if head_file["seq"] > last:
                return Verification(False, checked, last + 1,
                                    f"the chain ends at record {last} but the head file records {head_file['seq']} "
                                    f"records: records {last + 1}..{head_file['seq']} were removed")
            if head_file["seq"] and hashes_at.get(head_file["seq"]) != head_file["hash"]:
                return Verification(False, checked, head_file["seq"],
                                    "the chain was rewritten: this record's hash is not the one the head file "
                                    "records")
        with self.lock:  # runs without a stored verdict (queued or failed jobs, frontier jobs)
            cur = self.con.execute(f"SELECT {', '.join(RUN_FIELDS)}, mac FROM runs WHERE id NOT IN "
                                   "(SELECT DISTINCT run_id FROM determinations) ORDER BY created_at")
            cols = [d[0] for d in cur.description]
            others = [dict(zip(cols, x, strict=True)) for x in cur.fetchall()]
        for run in others:
            why = self._run_problem(run)
            if why:
                return Verification(False, checked, None, why)
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

    def key_live(self, key_id: str) -> bool:
        return self._one("SELECT 1 AS x FROM api_keys WHERE id = ? AND revoked_at IS NULL", [key_id]) is not None

    def keys(self) -> list[dict[str, Any]]:
        return self._rows("SELECT id, label, created_at, revoked_at FROM api_keys ORDER BY created_at")

    def revoke_key(self, key_id: str) -> bool:
        with self.lock:
            n = self.con.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                 [now(), key_id]).fetchall()
        return bool(n and n[0][0])
