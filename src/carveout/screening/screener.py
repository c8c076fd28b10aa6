"""Scoring a query against blocked candidates, and the result models.

The score is built from features a reviewer can check: IDF-weighted token coverage in both directions (exact,
typo-tolerant, OCR-folded, phonetic and abbreviation matches), whole-string similarity for split/joined words, a
penalty when each side has a distinctive word the other lacks, and country agreement. The raw similarity goes
through a fixed logistic curve (CAL_A, CAL_B) so scores spread over [0, 1]; the curve and the thresholds were
set by hand against eval/screening/queries.csv (see eval/screening/README.md). It is monotone in the raw
similarity, not a fitted probability.
"""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, JaroWinkler

from .index import CachedList, NameIndex, default_index_path, load_or_build, metaphone
from .loaders import DEFAULT_LIST_FILE, PartyList, load_list
from .normalize import normalize

# Thresholds on the calibrated score, tuned on eval/screening (see eval/screening/README.md):
#   score >= T_HIGH -> "match" (treat as listed); T_LOW <= score < T_HIGH -> "possible" (human review);
#   below T_LOW -> "clear". T_LOW is set for recall (a listed party must not come out "clear").
T_HIGH = 0.80
T_LOW = 0.40

# Logistic mapping of the raw similarity; hand-set (raw 0.80 -> 0.50, raw 0.90 -> 0.80, raw 1.0 -> 0.94).
CAL_A = 14.0
CAL_B = -11.2

COUNTRY_MATCH_BONUS = 0.03
COUNTRY_MISMATCH_PENALTY = 0.08
LIST_PRIORITY = {"EL": 9, "DPL": 8, "MEU": 7, "SDN": 6, "UVL": 5}
SUBSTITUTION_IDF = 5.0
SUBSTITUTION_FACTOR = 0.85
CANDIDATES = 40  # names taken from blocking into pre-ranking
DETAILED = 12  # names given the full feature comparison

Status = Literal["match", "possible", "clear"]


class MatchFeatures(BaseModel):
    """Why a listed name scored as it did."""

    matched_text: str = Field(description="the listed name or alias that scored best")
    alias_hit: bool
    exact_tokens: list[str] = []
    fuzzy_tokens: list[str] = Field(default=[], description="query~listed pairs within typo distance")
    phonetic_tokens: list[str] = Field(default=[], description="query~listed pairs with equal metaphone")
    abbreviation_tokens: list[str] = []
    unmatched_query_tokens: list[str] = []
    unmatched_listed_tokens: list[str] = []
    query_coverage: float
    listed_coverage: float
    string_similarity: float
    country: Literal["match", "mismatch", "unknown"]
    raw_similarity: float

    def summary(self) -> str:
        bits = []
        if self.exact_tokens:
            bits.append("tokens " + ", ".join(self.exact_tokens))
        if self.fuzzy_tokens:
            bits.append("typo-tolerant " + ", ".join(self.fuzzy_tokens))
        if self.phonetic_tokens:
            bits.append("phonetic " + ", ".join(self.phonetic_tokens))
        if self.abbreviation_tokens:
            bits.append("abbreviation " + ", ".join(self.abbreviation_tokens))
        if self.alias_hit:
            bits.append("via alias")
        bits.append(f"country {self.country}")
        if self.unmatched_query_tokens:
            bits.append("query words not in list name: " + ", ".join(self.unmatched_query_tokens))
        return "; ".join(bits)


class Match(BaseModel):
    party_id: str
    list_code: str
    list_name: str
    name: str = Field(description="primary listed name")
    matched_name: str
    score: float
    features: MatchFeatures
    explanation: str
    countries: list[str] = []
    el_footnote: int | None = None
    listed_since: date | None = None
    listed_since_basis: str | None = None
    fr_notice: str | None = None
    license_requirement: str | None = None
    license_policy: str | None = None
    listed_at_as_of: bool = Field(True, description="False when the earliest FR notice is after as_of")


class OwnershipLink(BaseModel):
    parent: str
    child: str
    percent: float
    source: str | None = None


class AffiliateFinding(BaseModel):
    """Outcome of the Affiliates rule (90 FR 47201) for the query."""

    rule_in_force: bool
    note: str
    affiliate: bool = False
    inherited_list: str | None = None
    inherited_party_id: str | None = None
    inherited_party: str | None = None
    el_footnote: int | None = None
    aggregate_percent: float | None = None
    chain: list[OwnershipLink] = []


class ScreenResult(BaseModel):
    query: str
    country: str | None = None
    as_of: date | None = None
    list_date: date
    list_source: str
    status: Status
    score: float
    matches: list[Match] = []
    affiliate: AffiliateFinding | None = None
    notes: list[str] = []


def calibrate(raw: float) -> float:
    return 1.0 / (1.0 + math.exp(-(CAL_A * raw + CAL_B)))


def status_of(score: float) -> Status:
    return "match" if score >= T_HIGH else "possible" if score >= T_LOW else "clear"


_OCR_FOLD = str.maketrans({"1": "l", "i": "l", "0": "o", "5": "s", "8": "b"})


@lru_cache(maxsize=100_000)
def _ocr_fold(t: str) -> str:
    return t.replace("rn", "m").translate(_OCR_FOLD)


def _token_match(q: str, c: str) -> tuple[float, str]:
    if q == c:
        return 1.0, "exact"
    if len(q) >= 3 and _ocr_fold(q) == _ocr_fold(c):
        return 0.95, "fuzzy"
    if len(q) >= 4 and len(c) >= 4:
        jw = JaroWinkler.normalized_similarity(q, c)
        # Jaro-Winkler flatters shared prefixes ("changxin"/"changjiang"); require edit agreement too
        if jw >= (0.85 if min(len(q), len(c)) >= 7 else 0.88):
            ind = Indel.normalized_similarity(q, c)
            if ind >= 0.8 or (ind >= 0.75 and abs(len(q) - len(c)) <= 1):
                return jw, "fuzzy"
        # metaphone collides on short words ("baidu"/"boet"): demand length and some spelling agreement
        if len(q) >= 5 and len(c) >= 5 and jw >= 0.75 and metaphone(q) == metaphone(c):
            return 0.85, "phonetic"
    if len(q) >= 3 and len(c) > len(q) and c.startswith(q):
        return 0.8, "abbreviation"
    return 0.0, ""


def compare(q: tuple[str, ...], c: tuple[str, ...], index: NameIndex) -> tuple[float, dict]:
    """Raw similarity in [0, 1] of two token tuples, and what matched."""
    best_q = []
    for t in q:
        s, kind, partner = 0.0, "", ""
        for u in c:
            v, k = _token_match(t, u)
            if v > s:
                s, kind, partner = v, k, u
                if v == 1.0:
                    break
        best_q.append((t, s, kind, partner))
    matched_c = {p: s for _, s, _, p in best_q if s > 0}
    wq = [index.idf(t) for t in q]
    wc = [index.idf(u) for u in c]
    cov_q = sum(w * s for w, (_, s, _, _) in zip(wq, best_q, strict=True)) / (sum(wq) or 1.0)
    cov_c = sum(w * matched_c.get(u, 0.0) for w, u in zip(wc, c, strict=True)) / (sum(wc) or 1.0)
    f1 = 2 * cov_q * cov_c / (cov_q + cov_c) if cov_q + cov_c else 0.0
    compact = fuzz.ratio("".join(q), "".join(c)) / 100.0
    sorted_compact = fuzz.ratio("".join(sorted(q)), "".join(sorted(c))) / 100.0
    string_sim = max(compact, sorted_compact)
    raw = max(f1, string_sim * 0.97)
    # a distinctive word on each side with no counterpart is a different party with a similar name
    uq = [index.idf(t) for t, s, _, _ in best_q if s == 0]
    uc = [index.idf(u) for u in c if u not in matched_c]
    if uq and uc and max(uq) >= SUBSTITUTION_IDF and max(uc) >= SUBSTITUTION_IDF:
        raw *= SUBSTITUTION_FACTOR
    detail = {
        "best_q": best_q,
        "cov_q": cov_q,
        "cov_c": cov_c,
        "string_sim": string_sim,
        "unmatched_c": [u for u in c if u not in matched_c],
    }
    return raw, detail


def _query_forms(q: tuple[str, ...], ix: NameIndex) -> list[tuple[str, ...]]:
    """The query, plus one with split words re-joined when the joined word is a listed token ("hua wei")."""
    merged: list[str] = []
    i = 0
    while i < len(q):
        if i + 1 < len(q) and q[i] + q[i + 1] in ix.token_idf:
            merged.append(q[i] + q[i + 1])
            i += 2
        else:
            merged.append(q[i])
            i += 1
    return [q] if len(merged) == len(q) else [q, tuple(merged)]


class Screener:
    """One loaded list + its index (+ an ownership graph); `screen` and `screen_frame` use one by default."""

    def __init__(
        self,
        list_path: str | Path | None = None,
        index_path: str | Path | None = "default",
        ownership: str | Path | list[str | Path] | None = "default",
    ) -> None:
        from .ownership import OwnershipGraph

        raw = _read_bytes(list_path)
        import hashlib

        digest = hashlib.sha256(raw).hexdigest()
        ipath = default_index_path() if index_path == "default" else (Path(index_path) if index_path else None)
        cached: CachedList = load_or_build(lambda: load_list(list_path), digest, ipath)
        self.plist: PartyList = cached.plist
        self.index: NameIndex = cached.index
        self.from_cache = cached.from_cache
        p = self.plist.parties
        self._rows = p.select(
            "party_id",
            "list_code",
            "list_name",
            "name",
            "countries",
            "el_footnote",
            "listed_since",
            "listed_since_basis",
            "fr_notice",
            "license_requirement",
            "license_policy",
        ).to_dicts()
        self.ownership = OwnershipGraph.load(ownership)

    @property
    def list_date(self) -> date:
        return self.plist.list_date

    # ------------------------------------------------------------------ core
    def _score_party_names(self, q: tuple[str, ...], country: str | None) -> list[tuple[float, int, int, dict]]:
        """(calibrated score, party index, name id, detail) per party, best first."""
        ix = self.index
        best: dict[int, tuple[float, int, dict]] = {}
        pairs: list[tuple[tuple[str, ...], int]] = []
        for qv in _query_forms(q, ix):
            cands = ix.candidates(qv, CANDIDATES)
            if len(cands) > DETAILED:
                # cheap C-speed pre-ranking; the detailed feature comparison runs on the few best only
                pre = process.extract(
                    " ".join(qv), [ix.joined[n] for n in cands], scorer=fuzz.token_set_ratio, limit=DETAILED
                )
                cands = [cands[i] for _, _, i in pre]
            pairs += [(qv, n) for n in cands]
        for qv, nid in pairs:
            raw, detail = compare(qv, ix.tokens[nid], ix)
            raw *= ix.prior[nid]
            pi = ix.party_idx[nid]
            if pi not in best or raw > best[pi][0]:
                best[pi] = (raw, nid, detail)
        out = []
        for pi, (raw, nid, detail) in best.items():
            countries = self._rows[pi]["countries"] or []
            if country and countries:
                ok = country.upper() in countries
                adj = COUNTRY_MATCH_BONUS if ok else -COUNTRY_MISMATCH_PENALTY
                detail["country"] = "match" if ok else "mismatch"
            else:
                adj = 0.0
                detail["country"] = "unknown"
            detail["raw"] = raw
            out.append((calibrate(min(raw + adj, 1.0)), pi, nid, detail))
        out.sort(key=lambda x: (-x[0], x[1]))
        return out

    def _match(self, score: float, pi: int, nid: int, detail: dict, as_of: date | None) -> Match:
        row = self._rows[pi]
        ix = self.index
        feats = MatchFeatures(
            matched_text=ix.texts[nid],
            alias_hit=ix.is_alias[nid],
            exact_tokens=[t for t, s, k, _ in detail["best_q"] if k == "exact"],
            fuzzy_tokens=[f"{t}~{p}" for t, s, k, p in detail["best_q"] if k == "fuzzy"],
            phonetic_tokens=[f"{t}~{p}" for t, s, k, p in detail["best_q"] if k == "phonetic"],
            abbreviation_tokens=[f"{t}~{p}" for t, s, k, p in detail["best_q"] if k == "abbreviation"],
            unmatched_query_tokens=[t for t, s, _, _ in detail["best_q"] if s == 0],
            unmatched_listed_tokens=detail["unmatched_c"],
            query_coverage=round(detail["cov_q"], 3),
            listed_coverage=round(detail["cov_c"], 3),
            string_similarity=round(detail["string_sim"], 3),
            country=detail["country"],
            raw_similarity=round(detail["raw"], 4),
        )
        since = row["listed_since"]
        return Match(
            party_id=row["party_id"],
            list_code=row["list_code"],
            list_name=row["list_name"],
            name=row["name"],
            matched_name=ix.texts[nid],
            score=round(score, 4),
            features=feats,
            explanation=feats.summary(),
            countries=row["countries"] or [],
            el_footnote=row["el_footnote"],
            listed_since=since,
            listed_since_basis=row["listed_since_basis"],
            fr_notice=row["fr_notice"],
            license_requirement=row["license_requirement"],
            license_policy=row["license_policy"],
            listed_at_as_of=not (as_of and since and since > as_of),
        )

    def screen(self, name: str, country: str | None = None, as_of: date | None = None, limit: int = 5) -> ScreenResult:
        """Screen one name; see the package docstring for the meaning of the result."""
        q = normalize(name or "")
        notes: list[str] = list(self.plist.notes)
        country = country.strip().upper() if country and country.strip() else None
        if not q:
            notes.append("name is empty after normalisation: cannot be screened, review by hand")
            return ScreenResult(
                query=name or "",
                country=country,
                as_of=as_of,
                list_date=self.list_date,
                list_source=self.plist.source,
                status="possible",
                score=0.0,
                notes=notes,
            )
        scored = self._score_party_names(q, country)
        matches = [self._match(s, pi, nid, d, as_of) for s, pi, nid, d in scored[: max(limit, 1) * 3]]
        # among hits that clear T_HIGH, the list that restricts most comes first (EL before CMIC for Huawei)
        top_score = matches[0].score if matches else 0.0
        matches.sort(
            key=lambda m: (
                -LIST_PRIORITY.get(m.list_code, 0) if m.score >= max(T_HIGH, top_score - 0.01) else 0,
                -m.score,
            )
        )
        live = [m for m in matches if m.listed_at_as_of]
        if len(live) < len(matches) and as_of:
            notes.append(f"candidates listed after {as_of} are reported but do not count toward the status")
        matches = (live + [m for m in matches if not m.listed_at_as_of])[:limit]
        best = live[0].score if live else 0.0
        status = status_of(best)
        affiliate = self.ownership.affiliate_of(name, country, as_of or self.list_date, self)
        if affiliate is not None and affiliate.affiliate and status != "match":
            status = "match"
            notes.append(
                f"affiliate of listed {affiliate.inherited_party} ({affiliate.inherited_list}) under 90 FR 47201"
            )
        if as_of and as_of > self.list_date:
            notes.append(f"list snapshot {self.list_date} is older than as_of {as_of}")
        return ScreenResult(
            query=name,
            country=country,
            as_of=as_of,
            list_date=self.list_date,
            list_source=self.plist.source,
            status=status,
            score=round(best, 4),
            matches=matches,
            affiliate=affiliate,
            notes=notes,
        )

    def screen_frame(self, parties: pl.DataFrame, progress=None) -> pl.DataFrame:
        """Screen each distinct (name, country, as_of) once and join back; rows and order are preserved."""
        if "name" not in parties.columns:
            raise ValueError("screen_frame needs a 'name' column")
        keys = ["name"] + [c for c in ("country", "as_of") if c in parties.columns]
        distinct = parties.select(keys).unique(maintain_order=True)
        out: dict[str, list] = {k: [] for k in OUTPUT_COLUMNS}
        rows = distinct.to_dicts()
        for i, r in enumerate(rows):
            res = self.screen(r["name"] or "", r.get("country"), r.get("as_of"), limit=1)
            top = next((m for m in res.matches if m.listed_at_as_of), None)
            aff = res.affiliate if res.affiliate and res.affiliate.affiliate else None
            out["screen_status"].append(res.status)
            out["screen_score"].append(res.score)
            if aff is not None and (top is None or top.score < T_HIGH):
                out["screen_list"].append(aff.inherited_list)
                out["screen_party"].append(aff.inherited_party)
                out["screen_party_id"].append(aff.inherited_party_id)
                out["el_footnote"].append(aff.el_footnote)
                out["listed_since"].append(None)
                out["fr_notice"].append(None)
                out["screen_basis"].append("affiliate")
            elif top is not None and res.status != "clear":
                out["screen_list"].append(top.list_code)
                out["screen_party"].append(top.name)
                out["screen_party_id"].append(top.party_id)
                out["el_footnote"].append(top.el_footnote)
                out["listed_since"].append(top.listed_since)
                out["fr_notice"].append(top.fr_notice)
                out["screen_basis"].append("name")
            else:
                for k in (
                    "screen_list",
                    "screen_party",
                    "screen_party_id",
                    "el_footnote",
                    "listed_since",
                    "fr_notice",
                    "screen_basis",
                ):
                    out[k].append(None)
            out["list_date"].append(self.list_date)
            if progress is not None:
                progress(i + 1, len(rows))
        result = pl.concat([distinct, pl.DataFrame(out, schema=OUTPUT_COLUMNS)], how="horizontal")
        base = parties.drop([c for c in OUTPUT_COLUMNS if c in parties.columns])
        return base.join(result, on=keys, how="left", nulls_equal=True, maintain_order="left")


OUTPUT_COLUMNS: dict[str, pl.DataType] = {
    "screen_status": pl.String(),
    "screen_score": pl.Float64(),
    "screen_list": pl.String(),
    "screen_party": pl.String(),
    "screen_party_id": pl.String(),
    "el_footnote": pl.Int8(),
    "listed_since": pl.Date(),
    "fr_notice": pl.String(),
    "list_date": pl.Date(),
    "screen_basis": pl.String(),
}


def _read_bytes(list_path: str | Path | None) -> bytes:
    if list_path is None:
        from importlib import resources

        return resources.files("carveout").joinpath("data", "csl", DEFAULT_LIST_FILE).read_bytes()
    p = Path(list_path)
    if not p.exists():
        from .errors import ListFormatError

        raise ListFormatError(p, None, None, "file not found")
    return p.read_bytes()
