"""Who may talk to the server from a browser: trusted Host names, same-origin writes, CSRF tokens.

- **Host.** A request whose ``Host`` is not loopback, the address the server was bound to, or a name given
  with ``--allowed-host`` is refused (400). This stops DNS rebinding: a page on ``evil.example`` that
  re-points its name at 127.0.0.1 still sends ``Host: evil.example``.
- **Origin.** A write (POST, PUT, PATCH, DELETE) that a browser marks as coming from another origin
  (``Origin``, or ``Referer`` when there is no ``Origin``, differs from the ``Host``; ``Sec-Fetch-Site`` is
  not ``same-origin``/``none``) is refused (403), with or without ``--no-auth``.
- **CSRF token.** Every form and every write the web UI makes carries a token: an HMAC, under a secret
  made at server start, of a random ``carveout_csrf`` cookie (SameSite=Strict, HttpOnly). Writes without an
  ``X-API-Key`` must carry it (form field ``csrf_token`` or header ``X-CSRF-Token``) unless they are JSON,
  which no other origin can send without a CORS preflight this server never grants. ``GET /v1/csrf``
  hands a script its token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from carveout.service.errors import ApiError

CSRF_COOKIE = "carveout_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class GuardMiddleware:
    """Refuse foreign Host headers and cross-origin writes before any route runs."""

    def __init__(self, app, allowed_hosts: tuple[str, ...] = LOOPBACK):
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed = {h.lower() for h in allowed_hosts}

    async def _refuse(self, send, status: int, error: str, message: str) -> None:
        body = json.dumps({"error": error, "message": message, "field": None}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.any_host and _hostname(host) not in self.allowed:
            return await self._refuse(send, 400, "bad_host",
                                      "this server does not answer to that Host name (see --allowed-host)")
        if scope.get("method") in UNSAFE:
            site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            if origin is None and headers.get("referer"):
                parts = urlsplit(headers["referer"])
                origin = f"{parts.scheme}://{parts.netloc}"
            if (site not in (None, "same-origin", "none")
                    or (origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()))):
                return await self._refuse(send, 403, "cross_origin",
                                          "a write from another origin is refused (same-origin only)")
        return await self.app(scope, receive, send)


def token_for(secret: str, binding: str) -> str:
    return hmac.new(secret.encode(), f"csrf\n{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> tuple[str, str | None]:
    """(token for this browser, new cookie value to set or None when the browser already has one)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    new = None
    if not cookie or len(cookie) > 100:
        cookie = new = secrets.token_urlsafe(24)
    return token_for(request.app.state.session_secret, cookie), new


def set_csrf_cookie(response, value: str | None) -> None:
    if value:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict")


def token_ok(request: Request, supplied: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not supplied:
        return False
    return hmac.compare_digest(token_for(request.app.state.session_secret, cookie), supplied)


def require_csrf(request: Request, supplied: str | None) -> None:
    if not token_ok(request, supplied):
        raise ApiError(403, "csrf", "the form's CSRF token is missing or stale; reload the page and try again",
                       field=CSRF_FIELD)


def ambient_write_ok(request: Request) -> bool:
    """A write authenticated by a cookie or by --no-auth (not by X-API-Key): JSON, or a valid CSRF header."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or token_ok(request, request.headers.get(CSRF_HEADER))
