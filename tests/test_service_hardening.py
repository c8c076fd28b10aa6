"""Server hardening over real HTTP (a uvicorn subprocess): request scenarios cannot read server files, YAML
bombs and decompression bombs are refused, junk uploads never reach the disk, crashed jobs do not loop,
cross-origin writes and foreign Host headers are refused (also with --no-auth), sessions expire, and no
answer shows a server path."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carveout.service.errors import scrub
from carveout.service.testing import Server, make_key
from carveout.store import Store

SHIPMENT = {"date": "2024-01-10", "item": {"kind": "ic", "tpp": 5000, "die_area_mm2": 814}, "destination": "CN",
            "ship_from": "US"}
# under 400 bytes: nine levels of nine aliases, ~387 million scalars once expanded
BOMB = "name: bomb\neffective: 2025-01-01\na: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("hard")
    key = make_key(d / "carveout.duckdb")
    srv = Server(d / "carveout.duckdb", "--max-ledger-rows", "50000",
                 env={"CARVEOUT_MAX_DECODED_BYTES": str(8 << 20), "CARVEOUT_SESSION_TTL": "3"}).start()
    yield srv, key, d
    srv.stop()


@pytest.fixture()
def client(server):
    srv, key, _ = server
    with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=30) as c:
        yield c


def no_server_path(text: str, folder: Path) -> None:
    assert str(folder) not in text and "/tmp/" not in text and "site-packages" not in text, text


def _scenarios(client) -> None:
    if not client.get("/v1/health").json()["features"]["scenarios"]:
        pytest.skip("scenarios not installed")


def test_scenario_base_cannot_name_a_server_file(client, server, tmp_path):
    _scenarios(client)
    secret = tmp_path / "secret.yaml"
    secret.write_text("topsecret_password_field: hunter2\n")
    for base in (str(secret), "../../../../etc/hostname", str(tmp_path / "secret")):
        r = client.post("/v1/scenario/diff", json={"scenario": f"name: probe\neffective: 2025-01-01\nbase: {base}\n",
                                                   "transactions": [SHIPMENT]})
        assert r.status_code == 422 and r.json()["field"] == "scenario.base", r.text
        assert "topsecret" not in r.text and "hunter2" not in r.text
        no_server_path(r.text, server[2])
    r = client.post("/v1/scenario/diff", json={"scenario": {"name": "probe", "effective": "2025-01-01",
                                                            "base": str(secret)}, "transactions": [SHIPMENT]})
    assert r.status_code == 422 and "topsecret" not in r.text
    ok = client.post("/v1/scenario/diff", json={"scenario": "name: on_shipped\neffective: 2025-01-01\n"
                                                "base: flexibility_package\n", "transactions": [SHIPMENT]})
    assert ok.status_code == 200, ok.text  # a shipped base is fine


def test_yaml_alias_bomb_and_oversized_documents_are_refused(client):
    _scenarios(client)
    assert len(BOMB.encode()) < 400
    # the client's timeout, not a timing assertion: unprotected, this request takes about a minute and 2 GB
    r = client.post("/v1/scenario/diff", json={"scenario": BOMB, "transactions": [SHIPMENT]}, timeout=20)
    assert r.status_code == 422 and "alias" in r.json()["message"], r.text
    wide = "name: wide\neffective: 2025-01-01\ndescription: [" + ", ".join(["x"] * 30_000) + "]\n"
    r = client.post("/v1/scenario/diff", json={"scenario": wide, "transactions": [SHIPMENT]}, timeout=20)
    assert r.status_code in (413, 422) and r.status_code != 500, r.text
    deep = {"name": "deep", "params": {}}
    node = deep["params"]
    for _ in range(60):
        node["x"] = {}
        node = node["x"]
    r = client.post("/v1/frontier/jobs", json={"scenario": deep, "transactions": [SHIPMENT]})
    assert r.status_code == 422 and "deeper" in r.json()["message"], r.text
    if client.get("/v1/health").json()["features"]["frontier"]:
        r = client.post("/v1/frontier/jobs", json={"scenario": "baseline", "candidates": deep,
                                                   "transactions": [SHIPMENT]})
        assert r.status_code == 422 and r.json()["field"] == "candidates" and "deeper" in r.text, r.text


def _uploads(folder: Path) -> list[Path]:
    return [p for p in (folder / "uploads").glob("*") if p.is_file()]


def test_random_bytes_named_csv_are_refused_and_not_kept(client, server):
    folder = server[2]
    before = set(_uploads(folder))
    rng = np.random.default_rng(7)
    for payload in (rng.bytes(5000), "\u00e9t\u00e9".encode("latin-1") * 100, b"hello,world\n1,2\n"):
        r = client.post("/v1/batch", files={"file": ("junk.csv", payload, "text/csv")})
        assert r.status_code == 422 and r.json()["field"] == "file", r.text
        no_server_path(r.text, folder)
    r = client.post("/v1/batch", files={"file": ("junk.parquet", rng.bytes(5000), "application/octet-stream")})
    assert r.status_code == 422 and "Parquet" in r.json()["message"]
    assert set(_uploads(folder)) == before


def test_parquet_decompression_bomb_is_refused(client, server):
    n = 20_000  # 20k cells of 3,000 characters: 60 MB decoded, a few kB on disk
    cells = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array(["x" * 3000]))
    buf = io.BytesIO()
    pq.write_table(pa.table({"date": ["2024-01-10"] * n, "item_name": cells}), buf, store_schema=False,
                   compression="zstd")
    assert len(buf.getvalue()) < 200_000
    before = set(_uploads(server[2]))
    r = client.post("/v1/batch", files={"file": ("bomb.parquet", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 413 and "decodes to more than" in r.json()["message"], r.text
    long_cell = io.BytesIO()
    pl.DataFrame({"date": ["2024-01-10"], "item_name": ["y" * 10_000]}).write_parquet(long_cell)
    r = client.post("/v1/batch", files={"file": ("long.parquet", long_cell.getvalue(), "application/octet-stream")})
    assert r.status_code == 422 and "cell" in r.json()["message"], r.text
    assert set(_uploads(server[2])) == before


def test_upload_is_deleted_when_its_job_ends_and_diff_uses_the_stored_rows(client, server):
    csv = "date,item_kind,tpp,die_area_mm2,destination,ship_from\n2024-03-01,ic,5000,800,CN,US\n" \
          "2024-03-01,ic,100,800,DE,US\n"
    job = client.post("/v1/batch", files={"file": ("ok.csv", csv.encode(), "text/csv")})
    assert job.status_code == 202, job.text
    jid = job.json()["id"]
    deadline = time.monotonic() + 60
    while (j := client.get(f"/v1/jobs/{jid}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert j["status"] == "done" and j["done_rows"] == 2
    assert not _uploads(server[2]), "the upload must be gone once its job ended"
    if client.get("/v1/health").json()["features"]["scenarios"]:
        r = client.post("/v1/scenario/diff", json={"scenario": "baseline", "job_id": jid})
        assert r.status_code == 200 and r.json()["summary"], r.text
    assert client.get("/v1/audit/verify").json()["ok"]


def test_a_job_the_server_died_in_twice_is_failed_not_requeued(tmp_path):
    db = tmp_path / "crash.duckdb"
    key = make_key(db)
    upload = tmp_path / "uploads" / "poison.csv"
    upload.parent.mkdir()
    upload.write_text("date,item_kind,tpp,destination,ship_from\n2024-03-01,ic,5000,CN,US\n")
    s = Store(db)  # as a server that died (SIGKILL) in the middle of this job, once before, leaves it
    run = s.create_run("batch", source="poison.csv", upload_path=str(upload), total_rows=1)
    s.update_run(run, status="running", crashes=1)
    s.close()
    with Server(db) as srv:
        j = httpx.get(f"{srv.url}/v1/jobs/{run}", headers={"X-API-Key": key}, timeout=10).json()
    assert j["status"] == "failed" and "not retried" in j["message"], j
    assert not upload.exists()


def test_no_auth_refuses_foreign_host_and_cross_origin_writes(tmp_path):
    db = tmp_path / "noauth.duckdb"
    with Server(db, "--no-auth") as srv:
        port = srv.port
        assert httpx.get(f"{srv.url}/v1/health").status_code == 200
        # DNS rebinding: the browser talks to 127.0.0.1 but says Host: evil.example
        r = httpx.get(f"{srv.url}/v1/health", headers={"Host": f"evil.example:{port}"})
        assert r.status_code == 400 and r.json()["error"] == "bad_host"
        r = httpx.post(f"{srv.url}/v1/check", json=SHIPMENT, headers={"Host": f"evil.example:{port}"})
        assert r.status_code == 400
        # a form on another site posting to the server
        form = {"date": "2024-01-10", "item_kind": "ic", "tpp": "5000", "destination": "CN", "ship_from": "US"}
        for h in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                  {"Referer": "http://evil.example/page"}, {"Sec-Fetch-Site": "cross-site"}):
            r = httpx.post(f"{srv.url}/check", data=form, headers=h)
            assert r.status_code == 403 and r.json()["error"] == "cross_origin", (h, r.text)
            r = httpx.post(f"{srv.url}/v1/batch", files={"file": ("l.csv", b"date,tpp\n2024-01-01,1\n")}, headers=h)
            assert r.status_code == 403, (h, r.text)
        # no Origin at all (an old browser, a plugin): the form still needs its CSRF token
        r = httpx.post(f"{srv.url}/check", data=form)
        assert r.status_code == 403 and r.json()["error"] == "csrf"
        r = httpx.post(f"{srv.url}/v1/batch", files={"file": ("l.csv", b"date,tpp\n2024-01-01,1\n")})
        assert r.status_code == 403 and r.json()["error"] == "csrf"
        with httpx.Client(base_url=srv.url) as c:  # the same origin, with the token of the page it loaded
            page = c.get("/").text
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
            r = c.post("/check", data={**form, "csrf_token": token}, headers={"Origin": srv.url})
            assert r.status_code == 200 and 'id="verdict"' in r.text
            r = c.post("/check", data={**form, "csrf_token": "0" * 64})
            assert r.status_code == 403
            r = c.post("/v1/batch", files={"file": ("l.csv", b"date,tpp\n2024-01-01,1\n")},
                       headers={"X-CSRF-Token": c.get("/v1/csrf").json()["token"]})
            assert r.status_code == 202, r.text
        assert httpx.post(f"{srv.url}/v1/check", json=SHIPMENT).status_code == 200  # JSON needs a preflight


def test_sessions_expire(server):
    srv, key, _ = server
    with httpx.Client(base_url=srv.url) as c:
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"key": key, "next": "/", "csrf_token": token})
        assert r.status_code == 303
        assert c.get("/").status_code == 200
        time.sleep(3.5)  # CARVEOUT_SESSION_TTL=3
        r = c.get("/")
        assert r.status_code == 303 and "/login" in r.headers["location"]
        assert c.post("/v1/check", json=SHIPMENT).status_code == 401


def test_login_form_needs_its_csrf_token(server):
    srv, key, _ = server
    r = httpx.post(f"{srv.url}/login", data={"key": key, "next": "/"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"


def test_scrub_removes_server_paths():
    msg = "/home/ops/.local/share/carveout/uploads/3f2a.csv: invalid utf-8; see /v1/jobs/b_1 or http://h:1/a/b"
    out = scrub(msg, {"/home/ops/.local/share/carveout/uploads/3f2a.csv": "ledger.csv"})
    assert out.startswith("ledger.csv:") and "/v1/jobs/b_1" in out and "http://h:1/a/b" in out
    assert "/etc" not in scrub("open('/etc/carveout/x.yaml') failed")


def test_a_clean_stop_is_not_counted_as_a_crash(tmp_path):
    """SIGTERM mid-job puts the job back in the queue; it resumes and finishes, with no crash counted."""
    db = tmp_path / "stop.duckdb"
    key = make_key(db)
    h = {"X-API-Key": key}
    rows = "\n".join(f"2024-03-01,ic,{100 + i},800,CN,US" for i in range(600))
    csv = ("date,item_kind,tpp,die_area_mm2,destination,ship_from\n" + rows + "\n").encode()
    srv = Server(db, "--chunk-rows", "20", env={"CARVEOUT_CHUNK_PAUSE": "0.05"}).start()
    try:
        jid = httpx.post(f"{srv.url}/v1/batch", files={"file": ("l.csv", csv, "text/csv")}, headers=h,
                         timeout=30).json()["id"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{srv.url}/v1/jobs/{jid}", headers=h, timeout=10).json()["done_rows"] < 40:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        srv.stop()
    s = Store(db)
    run = s.run(jid)
    s.close()
    assert run["status"] == "queued" and 40 <= run["done_rows"] < 600 and not run["crashes"], run
    with Server(db) as srv2:
        deadline = time.monotonic() + 90
        while (j := httpx.get(f"{srv2.url}/v1/jobs/{jid}", headers=h, timeout=10).json())["status"] != "done":
            assert time.monotonic() < deadline and j["status"] != "failed", j
            time.sleep(0.2)
    s = Store(db)
    assert not s.run(jid)["crashes"] and s.verify().ok
    s.close()
