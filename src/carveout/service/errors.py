"""Errors as JSON a client can act on: a code, a message, and the offending field when there is one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field
        self.headers = headers
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "message": scrub(self.message), "field": self.field, **self.extra}


# an absolute file path: two or more components, not part of a URL or of an API route
_PATH = re.compile(r"(?<![\w.:/~-])/(?!v1/)(?:[\w.@+~-]+/)+[\w.@+~-]*")


def scrub(text: str, known: dict[str, str] | None = None) -> str:
    """A message without the server's file paths: ``known`` paths become the given names (an upload's path
    becomes the name the client gave it), any other absolute path becomes ``<server path>/<its last part>``."""
    for path, name in (known or {}).items():
        text = text.replace(path, name)
    return _PATH.sub(lambda m: "<server path>/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def field_of(loc: Iterable[Any]) -> str | None:
    """``("body", "item", "tpp")`` -> ``"item.tpp"``; list positions become ``[i]``."""
    parts: list[str] = []
    loc = list(loc)
    if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form"):
        loc = loc[1:]
    for p in loc:
        if isinstance(p, int):
            if parts:
                parts[-1] += f"[{p}]"
            else:
                parts.append(f"[{p}]")
        elif isinstance(p, str) and (p.startswith("function-") or p.endswith("]")) and "[" in p:
            continue  # pydantic's validator tags such as "function-after[_end_use(), ...]"
        else:
            parts.append(str(p))
    return ".".join(parts) or None


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI's body parsing passes it through."""

    def __init__(self, limit: int, field: str):
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")
        self.field = field
        self.limit = limit


class BodyLimitMiddleware:
    """Refuse bodies over the limit with 413 JSON, by Content-Length up front or by counting as they stream."""

    def __init__(self, app, default_limit: int, upload_limit: int, upload_paths: tuple[str, ...] = ()):
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    def _limit(self, path: str) -> int:
        if path.startswith(self.upload_paths) or path in ("/ledger",):
            return self.upload_limit
        return self.default_limit

    async def _reject(self, send, limit: int, field: str) -> None:
        body = json.dumps({"error": "too_large", "field": field,
                           "message": f"request body is larger than the limit of {limit} bytes",
                           "limit_bytes": limit}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit(scope["path"])
        field = "file" if limit == self.upload_limit else "body"
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    if int(v) > limit:
                        return await self._reject(send, limit, field)
                except ValueError:
                    pass
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, field)
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, limit, field)
