"""API keys (header ``X-API-Key``) and UI sessions (a cookie obtained by entering a key).

Keys are made by ``carveout keys create``, shown once, and stored only as sha256(salt || key). A session
lasts ``session_ttl`` seconds (8 hours by default) from login and ends early when its key is revoked.
With ``serve --no-auth`` every request is trusted: for one person on their own machine, never for shared
use; the Host, same-origin and CSRF checks of :mod:`carveout.service.guard` apply all the same.
"""

from __future__ import annotations

import secrets
import time

from fastapi import Request
from fastapi.security import APIKeyHeader

from carveout.service import guard
from carveout.service.errors import ApiError

SESSION_COOKIE = "carveout_session"
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="key from `carveout keys create`")


def _session(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    sessions = request.app.state.sessions
    entry = sessions.get(token)
    if entry is None:
        return None
    key_id, expires = entry
    if time.monotonic() >= expires or not request.app.state.store.key_live(key_id):
        sessions.pop(token, None)
        return None
    return key_id


def principal(request: Request) -> str | None:
    """Who is calling: a key id, a session's key id, 'local' in --no-auth mode, or None."""
    app = request.app
    key = request.headers.get("x-api-key")
    if key:
        return app.state.store.check_key(key)
    who = _session(request)
    if who is not None:
        return who
    if app.state.settings.no_auth:
        return "local"
    return None


def require_key(request: Request) -> str:
    who = principal(request)
    if who is None:
        supplied = bool(request.headers.get("x-api-key"))
        raise ApiError(401, "unauthorized",
                       "the X-API-Key header is not a valid key" if supplied
                       else "send an X-API-Key header (make a key with `carveout keys create`)",
                       field="X-API-Key", headers={"WWW-Authenticate": "APIKey"})
    if (request.method in guard.UNSAFE and not request.headers.get("x-api-key")
            and not guard.ambient_write_ok(request)):
        raise ApiError(403, "csrf", "a write without X-API-Key must send the X-CSRF-Token header "
                       "(GET /v1/csrf) or a JSON body", field="X-CSRF-Token")
    return who


def open_session(request: Request, key: str) -> str | None:
    key_id = request.app.state.store.check_key(key)
    if key_id is None:
        return None
    token = secrets.token_urlsafe(32)
    sessions = request.app.state.sessions
    now = time.monotonic()
    for t, (_, exp) in list(sessions.items()):  # forget expired sessions as new ones start
        if exp <= now:
            sessions.pop(t, None)
    sessions[token] = (key_id, now + request.app.state.settings.session_ttl)
    return token
