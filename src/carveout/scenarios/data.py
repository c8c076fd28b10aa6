"""The sourced datasets shipped in ``carveout/data`` (facilities, trade flows, company exposure), parsed.

Provenance stays attached: every parsed table keeps the ``source`` and ``confidence`` columns, and every
number we derive from free text says how (``*_basis`` columns).

Share parsing (``share_of_company_output``), first figure of the text only (later figures are history):

* ``x-y%`` or ``x–y%``: a range, low = x, high = y.
* ``~x%`` (about): low = 0.8x, high = 1.2x — our band for "about", an assumption.
* ``>x%`` (more than): low = x, high = x + 10 points — our assumption.
* ``x%``: low = high = x, widened like ``~`` when the row's confidence says "estimate" or "low-confidence".

Capacity (wafers per month): the figure as given; when the confidence says "estimate", or the text says
"planned"/"target", low/high are -25 %/+0 % (plans are ceilings) — again an assumption, marked in
``capacity_basis``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import polars as pl

ALLIED_HQ = ("KR", "TW", "JP", "NL", "US")


def _read(name: str) -> pl.DataFrame:
    path = resources.files("carveout") / "data" / name
    return pl.read_csv(path.read_bytes(), infer_schema_length=0)  # all text; cast explicitly below


def _product_line(product: str | None) -> str:
    p = (product or "").lower()
    if "packaging" in p or p.startswith("semiconductor assembly"):
        return "back-end"
    if "dram" in p:
        return "DRAM"
    if "nand" in p:
        return "NAND"
    if "foundry" in p or "logic" in p:
        return "logic"
    return "other"


_SHARE = re.compile(r"(?P<q>[~>≈<]?)\s*(?P<a>\d+(?:\.\d+)?)\s*(?:(?:-|–|to)\s*(?P<b>\d+(?:\.\d+)?))?\s*%")


def parse_share(text: str | None, confidence: str | None = None) -> tuple[float | None, float | None, str]:
    """(low, high, basis) in percent from a free-text share; (None, None, reason) when there is none."""
    if not text:
        return None, None, "not reported"
    m = _SHARE.search(text)
    if not m:
        return None, None, "no percentage in the source text"
    a = float(m.group("a"))
    b = m.group("b")
    q = m.group("q")
    conf = (confidence or "").lower()
    uncertain = "estimate" in conf or "low-confidence" in conf or "low-quality" in text.lower()
    if b is not None:
        return a, float(b), "range as reported"
    if q in ("~", "≈"):
        return a * 0.8, min(a * 1.2, 100), "about x%: x ±20 % (assumed band)"
    if q == ">":
        return a, min(a + 10, 100), "more than x%: x to x+10 points (assumed band)"
    if q == "<":
        return max(a - 10, 0), a, "less than x%: x-10 to x points (assumed band)"
    if uncertain:
        return a * 0.8, min(a * 1.2, 100), "estimate: x ±20 % (assumed band)"
    return a, a, "as reported"


@cache
def facilities() -> pl.DataFrame:
    """facilities.csv with short company names, product line, and low/high capacity and share."""
    raw = _read("facilities.csv")
    rows = []
    for r in raw.iter_rows(named=True):
        company = re.sub(r"\s*\(.*$", "", r["company"] or "").strip() or r["company"]
        lo, hi, basis = parse_share(r["share_of_company_output"], r["confidence"])
        cap = r["capacity_wafers_per_month"]
        cap_v = float(cap) if cap not in (None, "") else None
        conf = (r["confidence"] or "").lower()
        planned = "planned" in conf or "target" in conf or "estimate" in conf
        rows.append({
            "facility_id": r["facility_id"],
            "company": company,
            "company_full": r["company"],
            "company_hq_country": r["company_hq_country"],
            "site_city": r["site_city"],
            "site_country": r["site_country"],
            "product": r["product"],
            "product_line": _product_line(r["product"]),
            "capacity_wafers_per_month": cap_v,
            "capacity_low": None if cap_v is None else (cap_v * 0.75 if planned else cap_v),
            "capacity_high": cap_v,
            "capacity_basis": "not reported" if cap_v is None else (
                "planned/estimated: -25% to as given (assumed band)" if planned else "as reported"),
            "share_low_pct": lo,
            "share_high_pct": hi,
            "share_basis": basis,
            "share_text": r["share_of_company_output"],
            "veu_status_history": r["veu_status_history"],
            "source": r["source"],
            "confidence": r["confidence"],
        })
    return pl.DataFrame(rows, infer_schema_length=None)


@cache
def trade_flows() -> pl.DataFrame:
    t = _read("trade_flows.csv")
    return t.with_columns(value_usd=pl.col("value_usd").cast(pl.Float64, strict=False),
                          estimate=pl.col("confidence").str.to_lowercase().str.contains("estimate"))


@cache
def company_exposure() -> pl.DataFrame:
    return _read("company_exposure.csv")


def korea_china_context() -> pl.DataFrame:
    """Latest full-year Korean semiconductor exports to the PRC and to PRC+HK, with provenance."""
    t = trade_flows().filter(pl.col("reporter") == "KR", pl.col("partner").is_in(["CN", "CN+HK", "WORLD"]),
                             pl.col("value_usd").is_not_null(), pl.col("year").str.contains(r"^\d{4}$"))
    return (t.sort("year").group_by("partner", maintain_order=True).last()
            .select("reporter", "partner", "year", "value_usd", "estimate", "confidence", "source"))
