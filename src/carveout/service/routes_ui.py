"""The web UI: server-rendered pages over the same functions as the API, a little JS for jobs and charts."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from carveout.facts import END_USES, ITEM_KINDS, TRANSACTION_TYPES
from carveout.model import Transaction
from carveout.service import features, guard, runner
from carveout.service.app import WEB
from carveout.service.auth import SESSION_COOKIE, open_session, principal
from carveout.service.errors import ApiError, field_of

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(WEB / "templates"))


def ui_user(request: Request) -> str:
    who = principal(request)
    if who is None:
        raise ApiError(401, "unauthorized", "log in with an API key", field="X-API-Key")
    return who


def page(request: Request, template: str, /, **ctx: Any) -> HTMLResponse:
    st = request.app.state
    ctx.setdefault("features", features.available())
    ctx.setdefault("no_auth", st.settings.no_auth)
    ctx.setdefault("logged_in", principal(request) is not None)
    token, new_cookie = guard.csrf_token(request)
    ctx["csrf_token"] = token
    resp = templates.TemplateResponse(request, template, ctx)
    guard.set_csrf_cookie(resp, new_cookie)
    return resp


async def form_with_csrf(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token has been checked (403 otherwise)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    guard.require_csrf(request, form.get(guard.CSRF_FIELD))
    return form


# ---------- login ----------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(request: Request, key: str = Form(""), next: str = Form("/"), _: dict = Depends(form_with_csrf)):
    token = open_session(request, key.strip())
    if token is None:
        return page(request, "login.html", next=_safe_next(next), error="That key is not valid.")
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                    max_age=int(request.app.state.settings.session_ttl))
    return resp


@router.post("/logout")
def logout(request: Request, _: dict = Depends(form_with_csrf)):
    request.app.state.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


def _safe_next(nxt: str) -> str:
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"


# ---------- check ----------
FORM_FIELDS = ("date", "item_name", "item_kind", "eccn_declared", "tpp", "mac_tops", "bit_length", "die_area_mm2",
               "marketed_for_datacenter", "destination", "ship_from", "transaction_type", "end_user_name",
               "end_user_country", "end_use", "us_origin", "facility_id", "value_usd")


def _choices() -> dict[str, Any]:
    return {"item_kinds": ITEM_KINDS, "end_uses": END_USES, "transaction_types": TRANSACTION_TYPES}


@router.get("/", response_class=HTMLResponse)
def check_form(request: Request, _: str = Depends(ui_user)):
    return page(request, "check.html", form={"ship_from": "US", "item_kind": "ic"}, result=None, error=None,
                **_choices())


def _tri(v: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((v or "").strip().lower())


def _num(v: str | None) -> str | None:
    return v.strip() if v and v.strip() else None


def transaction_from_form(form: dict[str, str]) -> dict[str, Any]:
    g = {k: (form.get(k) or "").strip() or None for k in FORM_FIELDS}
    item = {"name": g["item_name"], "kind": g["item_kind"], "eccn": g["eccn_declared"], "tpp": _num(g["tpp"]),
            "mac_tops": _num(g["mac_tops"]), "bit_length": _num(g["bit_length"]),
            "die_area_mm2": _num(g["die_area_mm2"]), "marketed_for_datacenter": _tri(g["marketed_for_datacenter"])}
    txn = {"date": g["date"], "item": {k: v for k, v in item.items() if v is not None},
           "destination": (g["destination"] or "").upper() or None, "ship_from": (g["ship_from"] or "").upper() or None,
           "transaction_type": g["transaction_type"], "end_use": g["end_use"], "facility_id": g["facility_id"],
           "value_usd": _num(g["value_usd"]),
           "end_user": {k: v for k, v in {"name": g["end_user_name"],
                                          "country": (g["end_user_country"] or "").upper() or None}.items() if v},
           "origin": {"us_origin": _tri(g["us_origin"])} if _tri(g["us_origin"]) is not None else {}}
    return {k: v for k, v in txn.items() if v is not None}


@router.post("/check", response_class=HTMLResponse)
async def check_submit(request: Request, _: str = Depends(ui_user), form: dict = Depends(form_with_csrf)):
    ctx = _choices()
    try:
        txn = Transaction.model_validate(transaction_from_form(form))
    except ValidationError as e:
        errs = [f"{field_of(x['loc']) or 'form'}: {x['msg']}" for x in e.errors()]
        return page(request, "check.html", form=form, result=None, error=errs, **ctx)
    det, det_id = await asyncio.wrap_future(request.app.state.checks.submit(txn, None))
    return page(request, "check.html", form=form, result=det, audit_id=det_id, error=None, **ctx)


# ---------- screen ----------
@router.get("/screen", response_class=HTMLResponse)
async def screen_page(request: Request, name: str = "", country: str = "", _: str = Depends(ui_user)):
    result, error = None, None
    if name.strip():
        try:
            res = await run_in_threadpool(features.screen, name.strip()[:300], country.strip().upper()[:2] or None)
            result = res.model_dump(mode="json") if hasattr(res, "model_dump") else res
        except features.Unavailable as e:
            error = str(e)
    return page(request, "screen.html", name=name, country=country, result=result, error=error)


# ---------- ledger ----------
@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, job: str = "", _: str = Depends(ui_user)):
    recent = [r for r in request.app.state.store.runs(kind="batch")][-10:][::-1]
    return page(request, "ledger.html", job=job, recent=recent,
                max_rows=request.app.state.settings.max_ledger_rows)


# ---------- scenarios ----------
@router.get("/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, _: str = Depends(ui_user)):
    jobs = [r for r in request.app.state.store.runs(kind="batch", status=("done",))][-20:][::-1]
    builtin: list[str] = []
    if features.available()["scenarios"]:
        from carveout.service import scenarios_adapter

        builtin = scenarios_adapter.builtin()
    return page(request, "scenarios.html", jobs=jobs, builtin=builtin)


# ---------- audit ----------
@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, id: str = "", verify: str = "", _: str = Depends(ui_user)):
    store = request.app.state.store
    record, error, verification = None, None, None
    if id.strip():
        if not id.strip().isdigit():
            error = f"{id!r} is not an audit id (a whole number)"
        else:
            record = await run_in_threadpool(runner.reproduce, store, int(id.strip()))
            if record is None:
                error = f"no audit record {id.strip()}"
    if verify:
        verification = (await run_in_threadpool(store.verify)).as_dict()
    return page(request, "audit.html", id=id, record=record, error=error, verification=verification,
                head=store.head[0])


_ = date
