"""The FastAPI application: REST API under /v1, the web UI at /, one store and one job runner per process."""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from carveout.service.batcher import CheckBatcher
from carveout.service.errors import ApiError, BodyLimitMiddleware, field_of, scrub
from carveout.service.guard import LOOPBACK, GuardMiddleware
from carveout.service.runner import FrontierRunner, JobRunner
from carveout.store import AuditBroken, Store

log = logging.getLogger("carveout.service")
WEB = Path(__file__).resolve().parent.parent / "web"


@dataclass
class Settings:
    db: Path | None = None
    no_auth: bool = False
    max_body_bytes: int = 1 << 20  # JSON requests
    max_upload_bytes: int = 64 << 20  # ledger uploads
    max_ledger_rows: int = 250_000
    chunk_rows: int = 1000
    chunk_pause: float = 0.0
    max_frontier_jobs: int = 8  # queued or running at once; POST /v1/frontier/jobs answers 429 beyond
    max_decoded_bytes: int = 256 << 20  # what an uploaded ledger may decode to (Parquet is compressed)
    max_cell_chars: int = 4096  # longest cell of an uploaded ledger
    session_ttl: float = 8 * 3600.0  # seconds a UI login lasts
    check_batch: int = 256  # most /v1/check requests evaluated and committed together
    check_wait_ms: float = 2.0  # how long a check waits for others to batch with
    allowed_hosts: tuple[str, ...] = LOOPBACK  # Host header values answered ("*": any)
    audit_key: Path | None = None  # default: $CARVEOUT_AUDIT_KEY or <db>.auditkey
    audit_head: Path | None = None  # default: $CARVEOUT_AUDIT_HEAD or <db>.audithead
    upload_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from CARVEOUT_* variables (how ``carveout serve`` hands them to uvicorn workers)."""
        env = os.environ

        def num(name: str, default: float, kind=int):
            v = env.get(name)
            return kind(v) if v not in (None, "") else default

        return cls(
            db=Path(env["CARVEOUT_DB"]) if env.get("CARVEOUT_DB") else None,
            no_auth=env.get("CARVEOUT_NO_AUTH", "") in ("1", "true", "yes"),
            max_body_bytes=num("CARVEOUT_MAX_BODY_BYTES", cls.max_body_bytes),
            max_upload_bytes=num("CARVEOUT_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            max_ledger_rows=num("CARVEOUT_MAX_LEDGER_ROWS", cls.max_ledger_rows),
            chunk_rows=num("CARVEOUT_CHUNK_ROWS", cls.chunk_rows),
            chunk_pause=num("CARVEOUT_CHUNK_PAUSE", cls.chunk_pause, float),
            max_frontier_jobs=num("CARVEOUT_MAX_FRONTIER_JOBS", cls.max_frontier_jobs),
            max_decoded_bytes=num("CARVEOUT_MAX_DECODED_BYTES", cls.max_decoded_bytes),
            max_cell_chars=num("CARVEOUT_MAX_CELL_CHARS", cls.max_cell_chars),
            session_ttl=num("CARVEOUT_SESSION_TTL", cls.session_ttl, float),
            check_batch=num("CARVEOUT_CHECK_BATCH", cls.check_batch),
            check_wait_ms=num("CARVEOUT_CHECK_WAIT_MS", cls.check_wait_ms, float),
            allowed_hosts=tuple(h.strip().lower() for h in env["CARVEOUT_ALLOWED_HOSTS"].split(",") if h.strip())
            if env.get("CARVEOUT_ALLOWED_HOSTS") else LOOPBACK,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = Store(settings.db, audit_key=settings.audit_key, audit_head=settings.audit_head)
        if store.broken:
            log.error("audit chain: %s; checks cannot be recorded until this is resolved", store.broken)
        app.state.store = store
        from carveout.service import features

        features.warm()
        app.state.upload_dir = settings.upload_dir or store.path.parent / "uploads"
        app.state.upload_dir.mkdir(parents=True, exist_ok=True)
        app.state.checks = CheckBatcher(store, settings.check_batch, settings.check_wait_ms / 1000)
        app.state.checks.start()
        app.state.runner = JobRunner(store, settings.chunk_rows, settings.chunk_pause)
        app.state.runner.start()
        app.state.frontier_runner = FrontierRunner(store, app.state.upload_dir / "frontier")
        app.state.frontier_runner.start()
        if settings.no_auth:
            log.warning("carveout serve --no-auth: every request is trusted; do not expose this server")
        try:
            yield
        finally:
            app.state.frontier_runner.stop()
            app.state.runner.stop()
            app.state.checks.stop()
            store.close()

    app = FastAPI(
        title="carveout",
        version=_version(),
        summary="U.S. semiconductor export controls as code: classify, check, screen, simulate, audit.",
        lifespan=lifespan,
        docs_url=None,  # served below from packaged assets: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessions = {}  # session token -> (key id, expiry on the monotonic clock); a restart logs out
    app.state.session_secret = secrets.token_hex(32)  # also keys the CSRF tokens

    app.add_middleware(BodyLimitMiddleware, default_limit=settings.max_body_bytes,
                       upload_limit=settings.max_upload_bytes, upload_paths=("/v1/batch",))
    app.add_middleware(GuardMiddleware, allowed_hosts=settings.allowed_hosts)  # outermost: runs first

    @app.exception_handler(AuditBroken)
    async def _audit_broken(request: Request, exc: AuditBroken):
        log.error("refused to record: %s", exc)
        return JSONResponse({"error": "audit_broken", "field": None,
                             "message": "the audit trail failed verification; nothing can be recorded until an "
                             "operator runs `carveout audit verify`"}, status_code=503)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if exc.status == 401 and not request.url.path.startswith("/v1") and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        items = [{"field": field_of(e.get("loc", ())), "message": e.get("msg", "invalid"),
                  "type": e.get("type", "value_error")} for e in errs]
        first = items[0] if items else {"field": None, "message": "invalid request"}
        return JSONResponse(
            {"error": "validation_error", "field": first["field"],
             "message": f"{first['field'] or 'request'}: {first['message']}", "errors": items[:50]},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        names = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 401: "unauthorized"}
        return JSONResponse({"error": names.get(exc.status_code, "http_error"), "message": scrub(str(exc.detail)),
                             "field": getattr(exc, "field", None)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = secrets.token_hex(6)
        log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path)
        return JSONResponse({"error": "internal_error", "field": None,
                             "message": f"internal error (reference {ref}); the server log has the details"},
                            status_code=500)

    from carveout.service import routes_api, routes_ui

    app.include_router(routes_api.router)
    app.include_router(routes_ui.router)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    _offline_docs(app)
    return app


def _offline_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) with its JavaScript and CSS from the ``fastapi-offline`` package, so the API
    reference works without internet access. (ReDoc is left out: its bundle fetches a logo from a CDN.)"""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")



def _version() -> str:
    from carveout import __version__

    return __version__
