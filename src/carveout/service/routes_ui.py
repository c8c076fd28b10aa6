"""The web UI: server-rendered pages over the same functions as the API, a little JS for jobs and charts."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import polars as pl
from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from carveout.facts import END_USES, FOOTNOTES, ITEM_KINDS, SCHEMA, TRANSACTION_TYPES
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
# The form offers every fact of the facts frame, grouped as a compliance officer holds them. A fact that is
# not named here still appears (under "Other facts"), so the form cannot fall behind the rules.
FORM_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Item", ("item_name", "item_kind", "eccn_declared", "base_eccn", "tpp", "mac_tops", "bit_length",
              "die_area_mm2", "marketed_for_datacenter", "interconnect_gb_s", "memory_bandwidth_gb_s",
              "memory_bandwidth_density_gb_s_mm2")),
    ("Shipment", ("date", "exporter", "exporter_hq_country", "ship_from", "transaction_type", "destination",
                  "us_origin", "value_usd", "quantity")),
    ("End user and end use", ("end_user_name", "end_user_country", "end_user_hq_country", "end_use",
                              "facility_id", "end_user_listed", "entity_list_footnote",
                              "end_user_affiliate_of_listed")),
    ("Origin and U.S. content (part 734)", ("us_controlled_content_pct",
                                            "direct_product_of_us_technology", "produced_by_us_origin_plant",
                                            "contains_us_ic")),
    ("What you know", ("is_informed", "red_flag", "us_person_support", "licence_on_file")),
)
NOT_ON_FORM = {"row", "performance_density"}  # a position, and a value derived from TPP and die area
OPEN_GROUPS = {"Item", "Shipment", "End user and end use"}


def _is_country(name: str) -> bool:
    return name in ("ship_from", "destination") or name.endswith("_country")


def _facility_ids() -> list[str]:
    from carveout.scenarios.data import facilities

    return facilities().get_column("facility_id").to_list()


LABELS = {
    "item_kind": "Kind of item", "eccn_declared": "Declared ECCN", "base_eccn": "Base ECCN (for the .z paragraphs)",
    "tpp": "TPP (bit-TOPS, dense)", "mac_tops": "or MacTOPS", "bit_length": "× bit length",
    "transaction_type": "Type of transaction", "value_usd": "Value (USD)",
}


def _widget(name: str) -> dict[str, Any]:
    dtype = SCHEMA[name][0]
    text = LABELS.get(name) or SCHEMA[name][1]
    label = {"name": name, "label": text[:1].upper() + text[1:], "help": SCHEMA[name][1]}
    vocab = {"item_kind": ITEM_KINDS, "transaction_type": TRANSACTION_TYPES, "end_use": END_USES}
    if name in vocab:
        return {**label, "kind": "select", "options": [(v, v) for v in vocab[name]]}
    if name == "facility_id":
        return {**label, "kind": "select", "options": [(v, v) for v in _facility_ids()]}
    if name == "entity_list_footnote":
        return {**label, "kind": "select", "options": [("0", "0 (none)")] + [(str(n), str(n)) for n in FOOTNOTES]}
    if dtype == pl.Boolean:
        return {**label, "kind": "select", "options": [("yes", "yes"), ("no", "no")]}
    if dtype == pl.Date:
        return {**label, "kind": "date"}
    if _is_country(name):
        return {**label, "kind": "country"}
    if dtype.is_numeric():
        return {**label, "kind": "number"}
    return {**label, "kind": "text"}


def form_layout() -> list[dict[str, Any]]:
    """Fieldsets of widgets covering every fact of ``facts.SCHEMA`` except ``NOT_ON_FORM``."""
    placed = {n for _, names in FORM_GROUPS for n in names}
    groups = list(FORM_GROUPS)
    rest = tuple(n for n in SCHEMA if n not in placed and n not in NOT_ON_FORM)
    if rest:
        groups.append(("Other facts", rest))
    return [{"legend": g, "open": g in OPEN_GROUPS, "fields": [_widget(n) for n in names if n in SCHEMA]}
            for g, names in groups]


def _choices() -> dict[str, Any]:
    return {"layout": form_layout()}


@router.get("/", response_class=HTMLResponse)
def check_form(request: Request, _: str = Depends(ui_user)):
    return page(request, "check.html", form={"ship_from": "US", "item_kind": "ic"}, result=None, error=None,
                **_choices())


def _tri(v: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((v or "").strip().lower())


def facts_from_form(form: dict[str, str]) -> dict[str, Any]:
    """Flat facts from the posted form: empty means unknown; countries upper-cased; yes/no as booleans."""
    facts: dict[str, Any] = {}
    for group in form_layout():
        for w in group["fields"]:
            raw = (form.get(w["name"]) or "").strip()
            if not raw:
                continue
            if SCHEMA[w["name"]][0] == pl.Boolean:
                facts[w["name"]] = _tri(raw) if _tri(raw) is not None else raw  # a non yes/no is an error below
            elif w["kind"] == "country":
                facts[w["name"]] = raw.upper()
            else:
                facts[w["name"]] = raw
    return facts


def transaction_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The form as the nested Transaction document the API takes, so both doors validate alike."""
    return runner.transaction_document(facts_from_form(form))


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
            for m in result.get("matches") or []:
                m["features_text"] = readable_features(m.get("features"))
        except features.Unavailable as e:
            error = str(e)
    return page(request, "screen.html", name=name, country=country, result=result, error=error)


def readable_features(feats: Any) -> str:
    """A screening match's evidence as a sentence a compliance officer reads, not a Python dict."""
    if not isinstance(feats, dict):
        return "" if feats is None else str(feats)
    parts = []
    for key, value in feats.items():
        if value in (None, "", [], {}) or value is False:
            continue
        name = key.replace("_", " ")
        if isinstance(value, list | tuple):
            text = ", ".join(map(str, value))
        elif value is True:
            text = "yes"
        elif isinstance(value, float):
            text = f"{value:.0%}" if ("coverage" in key or "similarity" in key) and value <= 1 else f"{value:.2f}"
        else:
            text = str(value)
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


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
    texts: dict[str, str] = {}
    if features.available()["scenarios"]:
        from carveout.scenarios.model import builtin_dir
        from carveout.service import scenarios_adapter

        builtin = scenarios_adapter.builtin()
        # Picking a shipped scenario shows its YAML: what it changes is then read, not guessed from its name.
        texts = {n: (builtin_dir() / f"{n}.yaml").read_text(encoding="utf-8") for n in builtin}
    return page(request, "scenarios.html", jobs=jobs, builtin=builtin, builtin_yaml=texts)


# ---------- supply shock and two-way exposure (carveout.shock.ui) ----------
@router.get("/shock", response_class=HTMLResponse)
async def shock_page(request: Request, scenario: str = "veu_revoked_no_replacement", draws: int = 10_000,
                     _: str = Depends(ui_user)):
    from carveout.shock.ui import context

    return page(request, "shock.html", **await run_in_threadpool(context, scenario, draws))


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
