"""REST API, version 1. Every route calls the same Python API the CLI uses (``carveout.check`` & co.)."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, File, Form, Query, Request, Security, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

import carveout
from carveout import engine
from carveout.model import Classification, Determination, ItemSpec, Transaction
from carveout.rules import params as prm
from carveout.service import features, runner, uploads
from carveout.service.auth import api_key_header, principal
from carveout.service.errors import ApiError

log = logging.getLogger("carveout.service")
AsOf = Query(None, description="evaluate under the rules in force on this day (default: the shipment's date)")


def require_key(request: Request, _key: str | None = Security(api_key_header)) -> str:
    from carveout.service.auth import require_key as _require

    return _require(request)


router = APIRouter(prefix="/v1", tags=["v1"])
authed = [Depends(require_key)]


class Error(BaseModel):
    error: str
    message: str
    field: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "missing or invalid X-API-Key"},
    413: {"model": Error, "description": "body over the size limit"},
    422: {"model": Error, "description": "invalid input; `field` names it (e.g. item.tpp)"},
}


class Health(BaseModel):
    status: str
    version: str
    rules_version: str
    features: dict[str, bool]
    auth: Literal["api-key", "none"]


class CheckResult(Determination):
    audit_id: int = Field(description="id of the audit record (GET /v1/audit/{id})")


class JobLinks(BaseModel):
    self: str
    results_csv: str
    results_parquet: str


class Job(BaseModel):
    id: str
    status: str
    source: str | None
    scenario: str
    total_rows: int | None
    done_rows: int
    error_rows: int
    errors: list[dict[str, Any]]
    message: str | None
    created_at: str
    finished_at: str | None
    links: JobLinks
    summary: dict[str, Any] | None = None


class Verify(BaseModel):
    ok: bool
    checked: int
    first_broken: int | None
    problem: str | None
    head: str | None


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    return Health(status="ok", version=carveout.__version__, rules_version=current_rules_version(),
                  features=features.available(),
                  auth="none" if request.app.state.settings.no_auth else "api-key")


@router.get("/csrf", dependencies=authed, responses=ERRORS)
def csrf(request: Request) -> Response:
    """A CSRF token for writes without X-API-Key (multipart uploads from a script under --no-auth, say);
    send it back as the X-CSRF-Token header, with the cookie this response sets."""
    from carveout.service import guard

    token, new_cookie = guard.csrf_token(request)
    resp = Response(f'{{"token":"{token}"}}', media_type="application/json")
    guard.set_csrf_cookie(resp, new_cookie)
    return resp


def current_rules_version(day: date | None = None) -> str:
    rs = engine.BASELINE
    return rs.version(rs.epoch(day or date.today()))


@router.post("/classify", response_model=Classification, dependencies=authed, responses=ERRORS)
async def classify(item: ItemSpec, as_of: date | None = AsOf) -> Classification:
    """Decide the ECCN of one item (Part 774: 3A090, 4A090, .z) from its datasheet facts."""
    return await run_in_threadpool(carveout.classify, item, as_of)


@router.post("/check", response_model=CheckResult, dependencies=authed, responses=ERRORS)
async def check(request: Request, txn: Transaction, as_of: date | None = AsOf) -> CheckResult:
    """Does this shipment need a licence, and why? The determination is stored in the audit trail."""
    det, det_id = await asyncio.wrap_future(request.app.state.checks.submit(txn, as_of))  # after the commit
    return CheckResult(**det.model_dump(), audit_id=det_id)


@router.post("/batch", response_model=Job, status_code=202, dependencies=authed, responses=ERRORS)
async def batch(request: Request, file: UploadFile = File(description="ledger: .csv or .parquet"),
                as_of: date | None = Form(None)) -> Job:
    """Upload a ledger; it is checked in the background, chunk by chunk (poll GET /v1/jobs/{id})."""
    return await run_in_threadpool(_accept_upload, request, file, as_of)


def _accept_upload(request: Request, file: UploadFile, as_of: date | None) -> Job:
    st = request.app.state
    name = Path(file.filename or "ledger.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ApiError(415, "unsupported_file", f"{name}: upload a .csv or .parquet ledger", field="file")
    data = file.file.read()
    if not data:
        raise ApiError(422, "empty_file", f"{name} is empty", field="file")
    s = st.settings
    n = uploads.sniff(name, suffix, data, uploads.Limits(max_rows=s.max_ledger_rows,
                                                         max_decoded_bytes=s.max_decoded_bytes,
                                                         max_cell_chars=s.max_cell_chars))
    if n == 0:
        raise ApiError(422, "empty_file", f"{name} has a header but no rows", field="file")
    dest = st.upload_dir / f"{secrets.token_hex(8)}{suffix}"
    dest.write_bytes(data)
    run_id = st.store.create_run("batch", source=name, upload_path=str(dest), as_of=as_of, total_rows=n)
    st.runner.submit(run_id)
    return _job(st.store, run_id)


def _job(store, run_id: str, with_summary: bool = False) -> Job:
    r = store.run(run_id)
    if r is None or r["kind"] != "batch":
        raise ApiError(404, "not_found", f"no batch job {run_id!r}", field="id")
    base = f"/v1/jobs/{run_id}"
    return Job(
        id=r["id"], status=r["status"], source=r["source"], scenario=r["scenario"], total_rows=r["total_rows"],
        done_rows=r["done_rows"], error_rows=r["error_rows"], errors=r["errors"][:20], message=r["message"],
        created_at=r["created_at"], finished_at=r["finished_at"],
        links=JobLinks(self=base, results_csv=f"{base}/results?format=csv",
                       results_parquet=f"{base}/results?format=parquet"),
        summary=runner.summary_of(store, run_id) if with_summary else None,
    )


@router.get("/jobs/{job_id}", response_model=Job, dependencies=authed, responses=ERRORS)
def job(request: Request, job_id: str) -> Job:
    """Progress of a batch job: rows done so far are durable."""
    return _job(request.app.state.store, job_id, with_summary=True)


@router.get("/jobs/{job_id}/results", dependencies=authed, responses={
    **ERRORS, 200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
                    "description": "one row per ledger row: verdict, reasons, audit id"}})
def job_results(request: Request, job_id: str, format: Literal["csv", "parquet"] = "csv") -> Response:
    """Download the verdicts stored so far (all of them once the job is done)."""
    store = request.app.state.store
    _job(store, job_id)
    df = store.results_frame(job_id)
    buf = io.BytesIO()
    if format == "parquet":
        df.write_parquet(buf)
        media = "application/vnd.apache.parquet"
    else:
        df.with_columns(pl.col(c).list.join(";") for c in ("reasons", "missing", "license_exceptions")).write_csv(buf)
        media = "text/csv"
    return Response(buf.getvalue(), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{job_id}.{format}"'})


@router.get("/jobs/{job_id}/chart", dependencies=authed, responses=ERRORS)
def job_chart(request: Request, job_id: str) -> dict[str, Any]:
    """Vega-Lite spec of the job's verdicts by destination (used by the web UI)."""
    from carveout.service.charts import verdicts_chart

    store = request.app.state.store
    _job(store, job_id)
    return verdicts_chart(store.summary(job_id))


@router.get("/screen", dependencies=authed, responses={**ERRORS, 503: {"model": Error}})
async def screen(name: str = Query(min_length=1, max_length=300, description="party name"),
                 country: str | None = Query(None, min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")
                 ) -> dict[str, Any]:
    """Screen a party name against the restricted-party lists."""
    try:
        res = await run_in_threadpool(features.screen, name, country.upper() if country else None)
    except features.Unavailable as e:
        raise ApiError(503, "unavailable", str(e)) from e
    return res.model_dump(mode="json") if hasattr(res, "model_dump") else res


class DiffRequest(BaseModel):
    scenario: dict[str, Any] | str = Field(
        description="a shipped scenario's name (GET /v1/scenarios), or a scenario document as YAML text or JSON")
    transactions: list[Transaction] | None = Field(None, max_length=10_000)
    job_id: str | None = Field(None, description="use a stored batch job's ledger instead of transactions")
    as_of: date | None = Field(None, description="evaluate both sides on this day (default: the scenario's)")


class FrontierRequest(BaseModel):
    scenario: dict[str, Any] | str | None = Field(None, description="scenario the exemptions build on (baseline)")
    candidates: dict[str, Any] | str | None = Field(
        None, description="a shipped candidates file's name (e.g. veu_exemptions) or the document as JSON")
    transactions: list[Transaction] | None = Field(None, max_length=2_000)
    job_id: str | None = Field(None, description="use a stored batch job's ledger instead of transactions")
    as_of: date | None = None
    max_combinations: int | None = Field(
        None, ge=2, le=4096, description="evaluate at most this many exemption designs (the subsets by size, "
        "smallest first, plus all exemptions together); default: the candidates file's limit")


class FrontierJobLinks(BaseModel):
    self: str


class FrontierJob(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    stage: str | None = Field(description="what it is doing now (reading ledger, preparing, evaluating, done), "
                              "or why it failed")
    scenario: str
    source: str | None = Field(description="the ledger: a batch job or N transactions")
    total_combinations: int | None
    done_combinations: int
    created_at: str
    finished_at: str | None
    links: FrontierJobLinks
    result: dict[str, Any] | None = Field(
        None, description="once done: the same answer as the synchronous POST /v1/frontier")


@router.get("/scenarios", dependencies=authed, responses={**ERRORS, 503: {"model": Error}})
def scenario_list() -> dict[str, list[str]]:
    """Names of the scenarios shipped with carveout."""
    from carveout.service import scenarios_adapter as sa

    return {"builtin": sa.builtin()}


@router.post("/scenario/diff", dependencies=authed, responses={**ERRORS, 503: {"model": Error}})
async def scenario_diff(request: Request, body: DiffRequest) -> dict[str, Any]:
    """Row-level changes and aggregates of a scenario against the baseline."""
    from carveout.service import scenarios_adapter as sa

    return await run_in_threadpool(sa.diff, request.app.state.store, body)


@router.post("/frontier/jobs", response_model=FrontierJob, status_code=202, dependencies=authed,
             responses={**ERRORS, 404: {"model": Error}, 503: {"model": Error},
                        429: {"model": Error, "description": "too many frontier jobs queued or running; retry"}})
async def frontier_job_create(request: Request, body: FrontierRequest) -> FrontierJob:
    """Start a frontier run in the background; poll GET /v1/frontier/jobs/{id} for progress and the result.

    The request is validated first (same 422/404/503 answers as POST /v1/frontier)."""
    from carveout.service import scenarios_adapter as sa

    st = request.app.state
    info = await run_in_threadpool(sa.check_frontier_request, st.store, body)
    busy = len(st.store.runs(status=("queued", "running"), kind="frontier"))
    if busy >= st.settings.max_frontier_jobs:
        raise ApiError(429, "busy", f"{busy} frontier jobs are queued or running (the limit is "
                       f"{st.settings.max_frontier_jobs}); retry later", headers={"Retry-After": "10"})
    run_id = st.frontier_runner.submit(body, info["scenario"], info["source"], info["combinations"])
    return _frontier_job(request, run_id)


@router.get("/frontier/jobs/{job_id}", response_model=FrontierJob, dependencies=authed,
            responses={**ERRORS, 404: {"model": Error}})
def frontier_job(request: Request, job_id: str) -> FrontierJob:
    """Progress of a frontier job (combinations evaluated so far) and, once done, its result."""
    return _frontier_job(request, job_id, with_result=True)


def _frontier_job(request: Request, run_id: str, with_result: bool = False) -> FrontierJob:
    st = request.app.state
    r = st.store.run(run_id)
    if r is None or r["kind"] != "frontier":
        raise ApiError(404, "not_found", f"no frontier job {run_id!r}", field="job_id")
    result = st.frontier_runner.result(run_id) if with_result and r["status"] == "done" else None
    return FrontierJob(id=r["id"], status=r["status"], stage=r["message"], scenario=r["scenario"], source=r["source"],
                       total_combinations=r["total_rows"], done_combinations=r["done_rows"],
                       created_at=r["created_at"], finished_at=r["finished_at"],
                       links=FrontierJobLinks(self=f"/v1/frontier/jobs/{run_id}"), result=result)


@router.post("/frontier", dependencies=authed, deprecated=True, responses={**ERRORS, 503: {"model": Error}})
async def frontier(request: Request, body: FrontierRequest) -> dict[str, Any]:
    """The Pareto set of exemption designs: security kept vs. economic relief, computed while the request waits.

    Kept for existing clients; it can take tens of seconds on a few thousand rows. Prefer POST /v1/frontier/jobs
    (202 + job id, then GET /v1/frontier/jobs/{id}), whose `result` is this same answer."""
    from carveout.service import scenarios_adapter as sa

    return await run_in_threadpool(sa.frontier, request.app.state.store, body)


@router.get("/audit/verify", response_model=Verify, dependencies=authed, responses=ERRORS)
async def audit_verify(request: Request) -> Verify:
    """Walk the audit chain from the first record; report the first broken link."""
    v = await run_in_threadpool(request.app.state.store.verify)
    return Verify(**v.as_dict())


@router.get("/audit/{audit_id}", dependencies=authed, responses=ERRORS)
async def audit(request: Request, audit_id: int) -> dict[str, Any]:
    """One stored determination, re-run with today's engine: same answer? same rules version?"""
    if audit_id < 1 or audit_id > 2**62:
        raise ApiError(404, "not_found", f"no audit record {audit_id}", field="audit_id")
    out = await run_in_threadpool(runner.reproduce, request.app.state.store, audit_id)
    if out is None:
        raise ApiError(404, "not_found", f"no audit record {audit_id}", field="audit_id")
    return out


_ = (principal, prm)
