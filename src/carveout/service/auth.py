"""API keys (header ``X-API-Key``) and UI sessions (a cookie obtained by entering a key).

Keys are made by ``carveout keys create``, shown once, and stored only as sha256(salt || key). With
``serve --no-auth`` every request is trusted: for one person on their own machine, never for shared use.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.security import APIKeyHeader

from carveout.service.errors import ApiError

SESSION_COOKIE = "carveout_session"
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="key from `carveout keys create`")


def principal(request: Request) -> str | None:
    """Who is calling: a key id, a session's key id, 'local' in --no-auth mode, or None."""
    app = request.app
    key = request.headers.get("x-api-key")
    if key:
        return app.state.store.check_key(key)
    token = request.cookies.get(SESSION_COOKIE)
    if token and token in app.state.sessions:
        return app.state.sessions[token]
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
    return who


def open_session(request: Request, key: str) -> str | None:
    key_id = request.app.state.store.check_key(key)
    if key_id is None:
        return None
    token = secrets.token_urlsafe(32)
    request.app.state.sessions[token] = key_id
    return token
