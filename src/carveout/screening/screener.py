"""Scoring a query against blocked candidates, and the result models.

The score is built from features a reviewer can check: IDF-weighted token coverage in both directions (exact,
typo-tolerant, OCR-folded, phonetic and abbreviation matches), whole-string similarity for split/joined words, a
penalty when each side has a distinctive word the other lacks, and country agreement. The raw similarity goes
through a fixed logistic curve (CAL_A, CAL_B) so scores spread over [0, 1]; the curve and the thresholds were
set by hand; the thresholds are chosen on eval/screening/dev.csv and measured on test.csv. It is monotone in the raw
similarity, not a fitted probability.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Indel, JaroWinkler, Prefix

from . import crossscript
from .index import CachedList, NameIndex, default_index_path, load_or_build, metaphone, ocr_fold, rom_fold, token_keys
from .loaders import DEFAULT_LIST_FILE, PartyList, load_list
from .normalize import LEGAL_SNAP, LEGAL_TOKENS, normalize

# Thresholds on the calibrated score, chosen on the DEV set only (eval/screening/dev.csv, seed 20261201, by
# `evaluate.py --sweep`); test-set figures are in eval/screening/RESULTS.md:
#   score >= T_HIGH -> "match" (treat as listed); T_LOW <= score < T_HIGH -> "possible" (human review);
#   below T_LOW -> "clear". T_HIGH keeps dev precision of "match" at 0.98 (margin for the >= 0.97 target);
#   T_LOW = 0.30 flags 95 % of dev positives for about one review in five non-matches (0.40: 94 %, one in 13).
T_HIGH = 0.80
T_LOW = 0.30

# Logistic mapping of the raw similarity; hand-set (raw 0.80 -> 0.50, raw 0.90 -> 0.80, raw 1.0 -> 0.94).
CAL_A = 14.0
CAL_B = -11.2

COUNTRY_MATCH_BONUS = 0.03
COUNTRY_MISMATCH_PENALTY = 0.08
# A query that carries a legal form ("Co., Ltd.", 有限公司, 회사) names an organisation: a listed individual with a
# similar name is a lead for review, not a match (dev: "蓝听称航运有限公司" read as "lan yi cheng" hit "Yi-Lan Chen")
ORGANISATION_PERSON_PENALTY = 0.08
# For a licence decision the export-control lists (15 CFR 744 Supp. 4 Entity List, Supp. 7 MEU List, Supp. 6
# Unverified List; the Denied Persons List under 764.3) come first, then sanctions lists, then the rest
# (e.g. the Treasury NS-CMIC investment list, which restricts securities, not exports).
LIST_PRIORITY = {"EL": 9, "DPL": 8, "MEU": 8, "UVL": 7, "SDN": 5, "SSI": 4, "FSE": 4, "PLC": 3}
PRIORITY_MARGIN = 0.05  # among matches within this of the best score, the list that restricts most comes first
STALE_DAYS = 30  # a list older than this at as_of is flagged
SUBSTITUTION_IDF = 5.0
SUBSTITUTION_FACTOR = 0.85
CANDIDATES = 40  # names taken from blocking into pre-ranking
DETAILED = 5  # names given the full comparison (dev: 12, 8, 5 flag alike; 5 sends fewer non-matches to review)
FOLDED_KEPT = 3  # ... plus the best few when romanisation variants are folded away
# A query form whose rarest word is carried by more than GENERIC_NAMES listed names (idf < log(names / 608), 4.5
# on the CSL: "technology" 3.4, "trading" 3.8, "international" 4.4; a brand or surname is 5.5-11) is capped below
# "match": a possible hit for a reviewer, never a match. A count, not an idf, so a small list caps nothing.
GENERIC_NAMES = 608  # = idf 4.5 on the packaged CSL (54,716 indexed names), the value chosen on dev
GENERIC_RAW_CAP = 0.88  # calibrates to 0.74 < T_HIGH
TYPO_CHARS = 3.5  # a long token may carry one edit per this many letters (7-10 letters: 2 edits) ...
TYPO_X2_SCORE = 0.8  # ... and then counts this much of an exact token

Status = Literal["match", "possible", "clear"]


class MatchFeatures(BaseModel):
    """Why a listed name scored as it did."""

    matched_text: str = Field(description="the listed name or alias that scored best")
    read_as: str | None = Field(
        None,
        description="the rendering of the query that scored, when it is not the plain normalisation "
        "(a translated/romanised native-script name, a Wade-Giles or branch-free form)",
    )
    alias_hit: bool
    exact_tokens: list[str] = []
    fuzzy_tokens: list[str] = Field(default=[], description="query~listed pairs within typo distance")
    phonetic_tokens: list[str] = Field(
        default=[], description="query~listed pairs with equal metaphone or equal romanisation fold"
    )
    abbreviation_tokens: list[str] = []
    unmatched_query_tokens: list[str] = []
    unmatched_listed_tokens: list[str] = []
    query_coverage: float
    listed_coverage: float
    string_similarity: float
    country: Literal["match", "mismatch", "unknown"]
    raw_similarity: float

    def summary(self) -> str:
        bits = [f"read as '{self.read_as}'"] if self.read_as else []
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


_ocr_fold = ocr_fold
_HAS_DIGIT = re.compile(r"\d")
_UNIT_NUMBER = re.compile(r"(\d+)(?:st|nd|rd|th)?")


def _unit_number(t: str) -> str | None:
    """The number of a number or ordinal token ("712th" -> "712"), else None."""
    m = _UNIT_NUMBER.fullmatch(t)
    return m.group(1) if m else None


@lru_cache(maxsize=200_000)
def _token_match(q: str, c: str) -> tuple[float, str]:
    """Similarity of a query token and a listed token, and its kind. Pure, so cached: names share tokens."""
    if q == c:
        return 1.0, "exact"
    if len(q) >= 3 and _ocr_fold(q) == _ocr_fold(c):
        return 0.95, "fuzzy"
    if _HAS_DIGIT.search(q) or _HAS_DIGIT.search(c):
        # a number names one unit: the 712th institute is not the 12th or the 710th, but it is "712"
        return (0.95, "fuzzy") if _unit_number(q) and _unit_number(q) == _unit_number(c) else (0.0, "")
    if len(q) >= 3 and len(c) >= 2 and rom_fold(q) == rom_fold(c):  # "kho" (Хо) ~ "ho"
        return 0.9, "romanisation"
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
        # two slips in one long word ("zromroud"/"zomoroud", "shonaku"/"shoroku"): OSA distance scaled by length
        # (1 edit per TYPO_CHARS letters of the shorter word), same first letter, scored below a single typo
        if jw >= 0.74 and q[0] == c[0]:
            limit = int(min(len(q), len(c)) / TYPO_CHARS)
            if limit >= 2 and OSA.distance(q, c, score_cutoff=limit) <= limit:
                return TYPO_X2_SCORE, "fuzzy"
    # a cut-off word ("Shipbuil", "Intern"); not a short piece of a long word, which is what a syllable of a
    # split-up romanised name is ("chang" of "changjiang")
    if len(q) >= 3 and len(q) < len(c) <= 2 * len(q) - 1 and c.startswith(q):
        return 0.8, "abbreviation"
    return 0.0, ""


def clear_caches() -> None:
    """Drop the memoised normalisation and token comparisons (for honest timing, or to bound memory)."""
    from .normalize import clear_caches as clear_normalize

    clear_normalize()
    _token_match.cache_clear()
    _query_forms_of.cache_clear()
    _ocr_fold.cache_clear()
    metaphone.cache_clear()
    rom_fold.cache_clear()
    token_keys.cache_clear()


class _Form:
    """A query form with what every comparison needs from it, computed once per query rather than per pair."""

    __slots__ = ("tokens", "weights", "wsum", "compact", "sorted_compact")

    def __init__(self, q: tuple[str, ...], index: NameIndex) -> None:
        self.tokens = q
        self.weights = [index.idf(t) for t in q]
        self.wsum = sum(self.weights) or 1.0
        self.compact = "".join(q)
        self.sorted_compact = "".join(sorted(q))


def _token_tables(q: tuple[str, ...], vocab: list[str], index: NameIndex) -> list[dict[str, float]]:
    """For each query token, `_token_match` similarity to every token of `vocab` it matches at all (absent = 0).

    `_token_match` is non-zero only for equal tokens, equal OCR folds, a Jaro-Winkler of at least 0.75 or a
    prefix; C-speed scans over `vocab` find those few pairs, and only they go through the Python function."""
    tables = []
    for t in q:
        hits = [t]
        number = _unit_number(t)
        if number:  # "13" ~ "13th": shorter than the scans below reach
            hits += [u for u in vocab if _unit_number(u) == number]
        if len(t) >= 3:
            hits += index.fold_groups.get(ocr_fold(t), ())
            hits += index.rom_groups.get(rom_fold(t), ())
            found = process.extract(t, vocab, scorer=Prefix.similarity, score_cutoff=len(t), limit=None)
            hits += [u for u, _, _ in found]
        if len(t) >= 4:
            # 0.74, not 0.75: a margin so that no rounding difference can drop a pair _token_match would keep
            found = process.extract(t, vocab, scorer=JaroWinkler.normalized_similarity, score_cutoff=0.74, limit=None)
            hits += [u for u, _, _ in found]
        table = {}
        for u in hits:
            v = _token_match(t, u)[0]
            if v > 0:
                table[u] = v
        tables.append(table)
    return tables


ADDED_PARTIAL = 60  # below this best alignment inside the listed name, a query word is an added word (dev: 60)


def _added_word(t: str, c_compact: str) -> bool:
    """A query word of four letters or more that no stretch of the listed name resembles (fuzz.partial_ratio <
    ADDED_PARTIAL): not a typo, spacing or romanisation of a listed word, but a word the listed name lacks."""
    return len(t) >= 4 and fuzz.partial_ratio(t, c_compact) < ADDED_PARTIAL


def _raw_similarity(
    f: _Form,
    tables: list[dict[str, float]],
    c: tuple[str, ...],
    wc: tuple[float, ...],
    wc_sum: float,
    c_compact: str,
    c_sorted: str,
) -> float:
    """`_similarity(...)[0]` without the breakdown, from the `_token_tables` of `f`; runs for every candidate."""
    matched_c: dict[str, float] = {}
    prods = []
    unmatched_q = 0.0
    added = False
    for t, table, w in zip(f.tokens, tables, f.weights, strict=True):
        s, partner = 0.0, ""
        if table:
            get = table.get
            for u in c:
                v = get(u, 0.0)
                if v > s:
                    s, partner = v, u
                    if v == 1.0:
                        break
        prods.append(w * s)
        if s > 0:
            matched_c[partner] = s
        else:
            if w > unmatched_q:
                unmatched_q = w
            added = added or (w >= SUBSTITUTION_IDF and _added_word(t, c_compact))
    cov_q = sum(prods) / f.wsum
    cov_c = sum([w * matched_c.get(u, 0.0) for w, u in zip(wc, c, strict=True)]) / wc_sum if matched_c else 0.0
    f1 = 2 * cov_q * cov_c / (cov_q + cov_c) if cov_q + cov_c else 0.0
    string_sim = max(fuzz.ratio(f.compact, c_compact) / 100.0, fuzz.ratio(f.sorted_compact, c_sorted) / 100.0)
    raw = f1 if added else max(f1, string_sim * 0.97)
    if unmatched_q >= SUBSTITUTION_IDF:
        for w, u in zip(wc, c, strict=True):
            if w >= SUBSTITUTION_IDF and u not in matched_c:
                return raw * SUBSTITUTION_FACTOR
    return raw


def _similarity(
    f: _Form, c: tuple[str, ...], wc: tuple[float, ...], wc_sum: float, c_compact: str, c_sorted: str
) -> tuple[float, list[tuple[str, float, str, str]], dict[str, float], float, float, float]:
    """The raw similarity of `compare` and its parts. `wc` (token idfs), `wc_sum` (their sum, or 1.0 when 0) and
    the compact strings of `c` come precomputed from the index; this runs for every detailed candidate."""
    tm = _token_match
    best_q = []
    matched_c: dict[str, float] = {}
    prods = []
    unmatched_q = 0.0
    added = False
    for t, w in zip(f.tokens, f.weights, strict=True):
        s, kind, partner = 0.0, "", ""
        for u in c:
            v, k = tm(t, u)
            if v > s:
                s, kind, partner = v, k, u
                if v == 1.0:
                    break
        best_q.append((t, s, kind, partner))
        prods.append(w * s)
        if s > 0:
            matched_c[partner] = s
        else:
            if w > unmatched_q:
                unmatched_q = w
            added = added or (w >= SUBSTITUTION_IDF and _added_word(t, c_compact))
    cov_q = sum(prods) / f.wsum
    cov_c = sum([w * matched_c.get(u, 0.0) for w, u in zip(wc, c, strict=True)]) / wc_sum
    f1 = 2 * cov_q * cov_c / (cov_q + cov_c) if cov_q + cov_c else 0.0
    compact = fuzz.ratio(f.compact, c_compact) / 100.0
    sorted_compact = fuzz.ratio(f.sorted_compact, c_sorted) / 100.0
    string_sim = max(compact, sorted_compact)
    # the whole-string similarity speaks for words split or joined differently ("hua wei" / "huawei"); a
    # distinctive query word found nowhere in the listed name is a word added to it, which no spacing explains
    # ("China Xinyuan Aerospace Science and Technology" is not CASC, though the strings are 90 % alike)
    raw = f1 if added else max(f1, string_sim * 0.97)
    # a distinctive word on each side with no counterpart is a different party with a similar name
    if unmatched_q >= SUBSTITUTION_IDF:
        for w, u in zip(wc, c, strict=True):
            if w >= SUBSTITUTION_IDF and u not in matched_c:
                raw *= SUBSTITUTION_FACTOR
                break
    return raw, best_q, matched_c, cov_q, cov_c, string_sim


def compare(q: tuple[str, ...], c: tuple[str, ...], index: NameIndex) -> tuple[float, dict]:
    """Raw similarity in [0, 1] of two token tuples, and what matched."""
    wc = tuple(index.idf(u) for u in c)
    raw, best_q, matched_c, cov_q, cov_c, string_sim = _similarity(
        _Form(q, index), c, wc, sum(wc) or 1.0, "".join(c), "".join(sorted(c))
    )
    detail = {
        "best_q": best_q,
        "cov_q": cov_q,
        "cov_c": cov_c,
        "string_sim": string_sim,
        "unmatched_c": [u for u in c if u not in matched_c],
    }
    return raw, detail


@lru_cache(maxsize=50_000)
def _query_forms_of(name: str) -> tuple[tuple[str, ...], ...]:
    base = normalize(name)
    forms = [base]
    if not name.isascii():
        forms += [normalize(r) for r in crossscript.renderings(name)]
    else:
        forms += [normalize(v) for v in crossscript.latin_variants(name)]
    for f in list(forms):
        forms += [normalize(" ".join(t)) for t in crossscript.token_variants(f)]
    return tuple(f for f in dict.fromkeys(forms) if f)


def query_forms(name: str) -> list[tuple[str, ...]]:
    """The normalised query and its cross-script renderings (crossscript.py), first = the plain normalisation;
    empty when nothing identity-bearing remains."""
    return list(_query_forms_of(name))


def _read_name(name: str | None) -> tuple[list[tuple[str, ...]], str | None]:
    """`query_forms`, failing closed: a name that a rendering library cannot read is not screened as clear but
    sent to review with the reason (no forms, and the failure as a note)."""
    try:
        return query_forms(name or ""), None
    except Exception as exc:  # noqa: BLE001 - any library failure on one name must not stop a batch or clear it
        return [], f"name could not be read ({type(exc).__name__}: {exc}): cannot be screened, review by hand"


def _legal_slip(t: str, ix: NameIndex) -> bool:
    """A word the list never uses that is a long legal word with up to one slip per TYPO_CHARS letters, OCR
    look-alikes folded ("liemitde", "lirnited"): `normalize` snaps one slip only, so it survived as a rare word."""
    if len(t) < 6 or t in ix.token_idf:
        return False
    for f in {t, t.replace("rn", "m"), ocr_fold(t)}:
        for word in LEGAL_SNAP:
            # the long legal words are few and known: two slips in one of seven letters or more ("limetd")
            limit = max(int(min(len(word), len(f)) / TYPO_CHARS), 2 if len(word) >= 7 else 0)
            if f[0] != word[0] or abs(len(word) - len(f)) > limit:
                continue
            if OSA.distance(f, word, score_cutoff=limit) <= limit:
                return True
    return False


def _split_word(t: str, ix: NameIndex) -> tuple[str, ...]:
    """A word the list never uses that some listed name prints as two neighbouring words ("ilnam" is "Il-Nam"
    in "KIM, Il-Nam"; "bilhun" is "P'il-Hun" in another romanisation); the word itself otherwise. Splitting any
    unknown word into two listed syllables ("boyuan" = bo + yuan) would trade one rare word for two common ones."""
    if len(t) < 4 or t in ix.token_idf or not ix.joins_a_listed_pair(t):
        return (t,)
    known = ix.token_idf
    splits = [(t[:i], t[i:]) for i in range(2, len(t) - 1) if t[:i] in known and t[i:] in known]
    return max(splits, key=lambda ab: min(map(len, ab))) if splits else (t,)


def _query_forms(q: tuple[str, ...], ix: NameIndex) -> list[tuple[str, ...]]:
    """The query, and the forms that undo what the list never prints: a misspelt legal word left in ("Limeitde"),
    words split apart that the list joins ("hua wei" -> "huawei") or joined that it splits ("ilnam" -> "il nam")."""
    forms = [q]
    kept = tuple(t for t in q if not _legal_slip(t, ix))
    if kept and kept != q:
        forms.append(kept)
        q = kept
    merged: list[str] = []
    i = 0
    while i < len(q):
        if i + 1 < len(q) and q[i] + q[i + 1] in ix.token_idf:
            merged.append(q[i] + q[i + 1])
            i += 2
        else:
            merged.append(q[i])
            i += 1
    split = tuple(p for t in q for p in _split_word(t, ix))
    forms += [f for f in (tuple(merged), split) if f != q]
    return list(dict.fromkeys(forms))


_ORG_MARKS = re.compile(r"公司|会社|會社|회사|집단|集团|集團|\(주\)|㈜")


@lru_cache(maxsize=50_000)
def names_an_organisation(name: str) -> bool:
    """Whether a name carries a legal form of three letters or more (ltd, llc, gmbh, ooo ...) or a CJK one."""
    if _ORG_MARKS.search(name):
        return True
    words = re.split(r"[^a-z]+", name.lower())
    return any(len(w) >= 3 and w in LEGAL_TOKENS for w in words)


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
        self._countries: list[list[str]] = [r["countries"] or [] for r in self._rows]
        self._individual: list[bool] = [t == "Individual" for t in p["entity_type"].to_list()]
        self.ownership = OwnershipGraph.load(ownership)

    @property
    def list_date(self) -> date:
        return self.plist.list_date

    # ------------------------------------------------------------------ core
    def _score_party_names(
        self, qs: list[tuple[str, ...]], country: str | None, org: bool = False
    ) -> list[tuple[float, int, int, tuple[tuple[str, ...], float, str]]]:
        """(calibrated score, party index, name id, (query form, raw similarity, country verdict)) per party, best
        first. `_detail` gives the feature breakdown for the few names reported (recomputing it for those is
        cheaper than building it for every candidate)."""
        ix = self.index
        best: dict[int, tuple[float, int, tuple[str, ...]]] = {}
        tokens, prior, party_idx = ix.tokens, ix.prior, ix.party_idx
        weights, wsums, compact, sorted_compact = ix.token_weights, ix.weight_sums, ix.compact, ix.sorted_compact
        idf = ix.idf
        generic_idf = math.log(max(len(ix), 1) / GENERIC_NAMES)
        for qv in [v for q in qs for v in _query_forms(q, ix)]:
            # a form made of common words only ("Technology Co", "International Trading") names no one party
            generic = max(map(idf, qv)) < generic_idf
            cands = ix.candidates(qv, CANDIDATES)
            if len(cands) > DETAILED:
                # cheap C-speed pre-ranking; the detailed feature comparison runs on the few best only
                pre = process.extract(
                    " ".join(qv), [ix.joined[n] for n in cands], scorer=fuzz.token_set_ratio, limit=DETAILED
                )
                keep = [i for _, _, i in pre]
                # the plain strings hide romanisation variants ("gim jol nam" / "kim chol nam"): the best few by
                # the same pre-ranking over romanisation-folded words go on to the detailed comparison too
                folded = process.extract(
                    " ".join(map(rom_fold, qv)),
                    [ix.joined_fold[n] for n in cands],
                    scorer=fuzz.token_set_ratio,
                    limit=FOLDED_KEPT,
                )
                keep += [i for _, _, i in folded if i not in keep]
                cands = [cands[i] for i in keep]
            form = _Form(qv, ix)
            tables = _token_tables(qv, list(dict.fromkeys([u for nid in cands for u in tokens[nid]])), ix)
            for nid in cands:
                c = tokens[nid]
                raw = _raw_similarity(form, tables, c, weights[nid], wsums[nid], compact[nid], sorted_compact[nid])
                raw *= prior[nid]
                if generic:
                    raw = min(raw, GENERIC_RAW_CAP)
                pi = party_idx[nid]
                if pi not in best or raw > best[pi][0]:
                    best[pi] = (raw, nid, qv)
        out = []
        countries_of = self._countries
        cty = country.upper() if country else None
        individual = self._individual
        for pi, (raw, nid, qv) in best.items():
            countries = countries_of[pi]
            if cty and countries:
                ok = cty in countries
                adj = COUNTRY_MATCH_BONUS if ok else -COUNTRY_MISMATCH_PENALTY
                verdict = "match" if ok else "mismatch"
            else:
                adj = 0.0
                verdict = "unknown"
            if org and individual[pi]:
                adj -= ORGANISATION_PERSON_PENALTY
            out.append((calibrate(min(raw + adj, 1.0)), pi, nid, (qv, raw, verdict)))
        # equal scores (the calibration saturates near 1): the party reached by the fuller reading of the query
        # first ("RESURS GRUPP Beijing Branch" is RESURS GRUPP, reached with the city cut, before RESURS, reached
        # by cutting "GRUPP Beijing" as a city), then the closer name (the 712th institute before the 12th)
        out.sort(key=lambda x: (-x[0], -len(x[3][0]), -x[3][1], x[1]))
        return out

    def _detail(self, nid: int, scored: tuple[tuple[str, ...], float, str]) -> dict:
        """The full feature comparison behind a scored name (see `compare`), from `_score_party_names`' detail."""
        qv, raw, verdict = scored
        detail = compare(qv, self.index.tokens[nid], self.index)[1]
        detail["raw"] = raw
        detail["country"] = verdict
        return detail

    def _match(
        self, score: float, pi: int, nid: int, scored: tuple, as_of: date | None, base: tuple[str, ...] = ()
    ) -> Match:
        row = self._rows[pi]
        ix = self.index
        detail = self._detail(nid, scored)
        feats = MatchFeatures(
            matched_text=ix.texts[nid],
            read_as=" ".join(scored[0]) if base and scored[0] != base else None,
            alias_hit=ix.is_alias[nid],
            exact_tokens=[t for t, s, k, _ in detail["best_q"] if k == "exact"],
            fuzzy_tokens=[f"{t}~{p}" for t, s, k, p in detail["best_q"] if k == "fuzzy"],
            phonetic_tokens=[f"{t}~{p}" for t, s, k, p in detail["best_q"] if k in ("phonetic", "romanisation")],
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

    def _rank(
        self, qs: list[tuple[str, ...]], country: str | None, as_of: date | None, limit: int, org: bool = False
    ) -> tuple[list[tuple], list[tuple]]:
        """(ranked, live): (rounded score, list code, listed at as_of, score, party, name id, detail) for the best
        parties, in reporting order, and the ones listed at as_of. No models are built here."""
        scored = self._score_party_names(qs, country, org)
        rows = self._rows
        ranked = []
        for sc, pi, nid, d in scored[: max(limit, 1) * 3]:
            since = rows[pi]["listed_since"]
            live_at = not (as_of and since and since > as_of)
            ranked.append((round(sc, 4), rows[pi]["list_code"], live_at, sc, pi, nid, d))
        # the same name on several lists: the list that restricts most comes first (EL before CMIC for Huawei).
        # Only for hits naming what the best hit names (the same words): a different party one letter away on
        # the Entity List ("WANG, Dongliang" for "Dongming Wang") does not outrank an exact name on another list.
        if ranked:
            cut = max(T_HIGH, ranked[0][0] - PRIORITY_MARGIN)
            words = self.index.tokens
            top_words = frozenset(words[ranked[0][5]])

            def order(m: tuple) -> tuple[int, float]:
                same = m[0] >= cut and frozenset(words[m[5]]) == top_words
                return (-LIST_PRIORITY.get(m[1], 0) if same else 0, -m[0])

            ranked.sort(key=order)
        return ranked, [m for m in ranked if m[2]]

    def screen(self, name: str, country: str | None = None, as_of: date | None = None, limit: int = 5) -> ScreenResult:
        """Screen one name; see the package docstring for the meaning of the result."""
        notes: list[str] = list(self.plist.notes)
        qs, failure = _read_name(name)
        q = qs[0] if qs else ()
        country = country.strip().upper() if country and country.strip() else None
        if not q:
            notes.append(failure or "name is empty after normalisation: cannot be screened, review by hand")
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
        ranked, live = self._rank(qs, country, as_of, limit, names_an_organisation(name))
        if len(live) < len(ranked) and as_of:
            notes.append(f"candidates listed after {as_of} are reported but do not count toward the status")
        reported = (live + [m for m in ranked if not m[2]])[:limit]
        matches = [self._match(sc, pi, nid, d, as_of, q) for *_, sc, pi, nid, d in reported]
        best = live[0][0] if live else 0.0
        status = status_of(best)
        affiliate = self.ownership.affiliate_of(name, country, as_of or self.list_date, self)
        if affiliate is not None and affiliate.affiliate and status != "match":
            status = "match"
            notes.append(
                f"affiliate of listed {affiliate.inherited_party} ({affiliate.inherited_list}) under 90 FR 47201"
            )
        if as_of and (as_of - self.list_date).days > STALE_DAYS:
            notes.append(
                f"WARNING: list snapshot {self.list_date} is {(as_of - self.list_date).days} days older than as_of "
                f"{as_of} (more than {STALE_DAYS}): parties listed since are not screened; load a current list"
            )
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

    def _frame_row(self, name: str | None, country: str | None, as_of: date | None) -> tuple:
        """The OUTPUT_COLUMNS values of one distinct (name, country, as_of): what `screen(..., limit=1)` decides,
        without building the explanation models a frame does not keep."""
        qs, _ = _read_name(name)
        country = country.strip().upper() if country and country.strip() else None
        if not qs:
            return ("possible", 0.0, *(None,) * 6, self.list_date, None)
        ranked, live = self._rank(qs, country, as_of, 1, names_an_organisation(name or ""))
        best = live[0][0] if live else 0.0
        status = status_of(best)
        aff = self.ownership.affiliate_of(name or "", country, as_of or self.list_date, self)
        if aff is not None and aff.affiliate and status != "match":
            status = "match"
        first = (live + [m for m in ranked if not m[2]])[:1]
        top = first[0] if first and first[0][2] else None
        if aff is not None and aff.affiliate and (top is None or top[0] < T_HIGH):
            hit = (aff.inherited_list, aff.inherited_party, aff.inherited_party_id, aff.el_footnote, None, None)
            basis = "affiliate"
        elif top is not None and status != "clear":
            row = self._rows[top[4]]
            hit = (
                row["list_code"],
                row["name"],
                row["party_id"],
                row["el_footnote"],
                row["listed_since"],
                row["fr_notice"],
            )
            basis = "name"
        else:
            hit, basis = (None,) * 6, None
        return (status, round(best, 4), *hit, self.list_date, basis)

    def screen_frame(self, parties: pl.DataFrame, progress=None, workers: int | None = None) -> pl.DataFrame:
        """Screen each distinct (name, country, as_of) once and join back; rows and order are preserved.

        `workers` > 1 screens the distinct names in that many forked processes (Linux); None = automatic: the
        idle CPUs (by load average) when there are at least POOL_MIN_NAMES distinct names, else this process
        ($CARVEOUT_SCREENING_WORKERS overrides). Results are identical either way."""
        if "name" not in parties.columns:
            raise ValueError("screen_frame needs a 'name' column")
        keys = ["name"] + [c for c in ("country", "as_of") if c in parties.columns]
        distinct = parties.select(keys).unique(maintain_order=True)
        cols = [distinct[k].to_list() if k in distinct.columns else [None] * distinct.height for k in _FRAME_KEYS]
        rows = list(zip(*cols, strict=True))
        n = len(rows)
        values: list[tuple] = []
        nproc = _pool_size(n, workers)
        if nproc > 1:
            for chunk in _screen_in_pool(self, rows, nproc):
                values += chunk
                if progress is not None:
                    progress(len(values), n)
        else:
            for i, (name, country, as_of) in enumerate(rows):
                values.append(self._frame_row(name, country, as_of))
                if progress is not None:
                    progress(i + 1, n)
        out = {k: [v[j] for v in values] for j, k in enumerate(OUTPUT_COLUMNS)}
        result = pl.concat([distinct, pl.DataFrame(out, schema=OUTPUT_COLUMNS)], how="horizontal")
        base = parties.drop([c for c in OUTPUT_COLUMNS if c in parties.columns])
        return base.join(result, on=keys, how="left", nulls_equal=True, maintain_order="left")


# ------------------------------------------------------------------------------ process pool for screen_frame

_FRAME_KEYS = ("name", "country", "as_of")
POOL_MIN_NAMES = 2_000  # below this, forking workers costs more than it saves
POOL_CHUNK = 250  # distinct names per task: amortises pickling, keeps progress reports frequent
_POOL_SCREENER: Screener | None = None  # set in the parent just before forking; workers inherit it


def _pool_size(n: int, workers: int | None) -> int:
    if workers is None:
        env = os.environ.get("CARVEOUT_SCREENING_WORKERS", "").strip()
        if env:
            if not env.isdigit():
                raise ValueError(f"CARVEOUT_SCREENING_WORKERS must be a whole number, got {env!r}")
            workers = int(env)
        elif n < POOL_MIN_NAMES:
            return 1
        else:
            workers = _idle_cpus()
    # fork shares the loaded index with the workers for free; other start methods would rebuild it per worker
    if workers <= 1 or sys.platform != "linux" or n < 2:
        return 1
    return min(workers, max(1, n // 2))


def _idle_cpus() -> int:
    """CPUs this process may use that the 1-minute load average does not show busy (this process counts as
    one of the busy). On a machine already loaded by other work, forked workers only compete for the same
    cores and make screen_frame slower, not faster."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cpus, cpus - round(busy) + 1))


def _screen_chunk(rows: list[tuple]) -> list[tuple]:
    assert _POOL_SCREENER is not None
    return [_POOL_SCREENER._frame_row(*r) for r in rows]


def _screen_in_pool(screener: Screener, rows: list[tuple], nproc: int):
    """Yield the screened chunks of `rows` in input order, computed by `nproc` forked workers."""
    global _POOL_SCREENER
    size = max(1, min(POOL_CHUNK, -(-len(rows) // (nproc * 4))))
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    _POOL_SCREENER = screener
    pool = ProcessPoolExecutor(nproc, mp_context=multiprocessing.get_context("fork"))
    try:
        with warnings.catch_warnings():
            # the workers are forked on the first submit; Python >= 3.12 (and some polars versions) warn that a
            # process with threads (polars/duckdb pools) may deadlock after fork, but the workers only run
            # pure-Python scoring and never call into polars or duckdb
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = [pool.submit(_screen_chunk, c) for c in chunks]
        for f in futures:
            yield f.result()
    finally:
        _POOL_SCREENER = None
        pool.shutdown(wait=True, cancel_futures=True)


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
