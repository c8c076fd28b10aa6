"""Native-script and romanised-native names rendered into the Latin forms a list would print.

Lists hold Latin script only, and many entries are translations: 조선련봉총회사 is listed as "Korea Ryonbong
General Corporation", 长江存储科技 as "Yangtze Memory Technologies". The native-name table (normalize.py) covers
a few well-known names; everything else comes through here, word by word:

* Chinese: jieba segments the name; a word found in the CC-CEDICT name-word glossary (zh_name_words.csv, built by
  scripts/build_name_glossary.py) is translated, the rest is read in pinyin (pypinyin). Several renderings
  are scored, because a word may be a brand (浪潮 is "Inspur", not "wave"): generic words translated and the
  rest in pinyin; every glossary word translated; everything in pinyin.
* Hangul: each word is split greedily into the Korean name words of ko_name_words.csv; the rest is romanised
  by McCune-Reischauer (ko-pron, syllable by syllable, as DPRK names are printed) and by the Revised
  Romanization (korean-romanizer).
* Latin queries that spell native words ("Muyok Hoesa", "Keji Youxian Gongsi", "Zavod"), Wade-Giles syllables
  ("Chiang-su") or Revised Romanization ("Gyeongjeol") get an extra form with those words in the list's usage.

Every rendering is scored against the list like any query; the best one counts.
"""

from __future__ import annotations

import csv
import logging
import re
from functools import lru_cache
from importlib import resources

from .normalize import SEGMENTS, drop_address_tail

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_KO_TOKEN = re.compile(r"[\uac00-\ud7a3]+|[^\s\uac00-\ud7a3]+")
_LEGAL_ZH = ("股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "集团公司", "总公司", "分公司", "公司")
_LEGAL_KO = ("주식회사", "유한회사", "유한책임회사", "(주)", "㈜")


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("carveout").joinpath("data", "csl", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _zh_rows() -> list[dict[str, str]]:
    return _csv("zh_name_words.csv")


@lru_cache(maxsize=1)
def _zh_usage() -> dict[str, str]:
    """Words whose CC-CEDICT gloss is not the English that official names and the lists use (航天 is
    "aerospace" in CASC's and CASIC's names, not "space flight"): zh_list_usage.csv, each with its source."""
    return {r["chinese"]: r["english"] for r in _csv("zh_list_usage.csv")}


@lru_cache(maxsize=1)
def zh_words() -> dict[str, tuple[str, bool]]:
    """Chinese word -> (English gloss, generic?) from the CC-CEDICT glossary, list usage first."""
    words = {r["chinese"]: (r["english"], r["generic"] == "1") for r in _zh_rows()}
    words.update((zh, (eng, True)) for zh, eng in _zh_usage().items())
    return words


@lru_cache(maxsize=1)
def ko_words() -> dict[str, str]:
    return {r["korean"]: r["english"] for r in _csv("ko_name_words.csv")}


_KO_SUFFIX_ONLY = {"성", "부", "국"}  # one-syllable words: only as the last syllable of a longer word
_KO_WHOLE_ONLY = {"총"}  # ... and only as a word of its own


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in zh_words():
        jieba.add_word(word)
    return jieba


@lru_cache(maxsize=4096)
def _pinyin(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(s for s in lazy_pinyin(word) if s.strip())


@lru_cache(maxsize=4096)
def _mr_syllable(syl: str) -> str:
    """McCune-Reischauer of one Hangul syllable, as lists print it (no breve, no apostrophe)."""
    from anyascii import anyascii
    from ko_pron import romanise

    return re.sub(r"[^a-z]", "", anyascii(romanise(syl, "mr")).lower())


@lru_cache(maxsize=4096)
def _mr_word(word: str) -> str:
    """McCune-Reischauer of a Hangul word with voicing between syllables (련봉 -> ryonbong)."""
    from anyascii import anyascii
    from ko_pron import romanise

    return re.sub(r"[^a-z]", "", anyascii(romanise(word, "mr")).lower())


@lru_cache(maxsize=4096)
def _rr_word(word: str) -> str:
    from korean_romanizer.romanizer import Romanizer

    return Romanizer(word).romanize().lower()


def _strip(text: str, forms: tuple[str, ...]) -> str:
    for f in forms:
        text = text.replace(f, " ")
    return text


def _chinese(text: str) -> list[str]:
    text = _strip(text, _LEGAL_ZH)
    words: list[str] = []
    for piece in re.split(r"([\u3400-\u9fff\uf900-\ufaff]+)", text):
        if _HAN_RUN.fullmatch(piece):
            words += _jieba().lcut(piece)
        elif piece.strip():
            words.append(piece)
    gl = zh_words()
    words = [p for w in words for p in _split_suffix(w, gl)]
    generic, full, spelled, split = [], [], [], []
    for w in words:
        if not _HAN.search(w):
            for out in (generic, full, spelled, split):
                out.append(w)
            continue
        syl = _pinyin(w)
        joined = "".join(syl)
        g = gl.get(w)
        generic.append(g[0] if g and g[1] else joined)
        full.append(g[0] if g else joined)
        spelled.append(joined)
        split.append(g[0] if g and g[1] else " ".join(syl))
    out = [" ".join(r) for r in (generic, full, spelled, split)]
    # a character with several readings (约 yue/yao, 还 hai/huan, 的 de/di): names, above all surnames and
    # transliterated brands, often use the reading pypinyin does not put first; each such character of a word
    # outside the glossary is read the other way, one at a time, in the syllable-split rendering
    for i, w in enumerate(words):
        if not _HAN.search(w) or w in gl:
            continue
        usual = _pinyin(w)
        if len(usual) != len(w):
            continue
        for j, readings in enumerate(_readings(w)):
            for alt in readings[1:]:
                if alt != usual[j]:
                    syl = [*usual[:j], alt, *usual[j + 1 :]]
                    out.append(" ".join([*split[:i], " ".join(syl), *split[i + 1 :]]))
    return out[: 4 + MAX_READINGS]


MAX_READINGS = 6  # extra renderings from other readings of a character


@lru_cache(maxsize=4096)
def _readings(word: str) -> tuple[tuple[str, ...], ...]:
    """Every reading of each character, the usual one first."""
    from pypinyin import Style, pinyin

    return tuple(tuple(dict.fromkeys(r)) for r in pinyin(word, style=Style.NORMAL, heteronym=True))


def _split_suffix(word: str, gl: dict[str, tuple[str, bool]]) -> list[str]:
    """An out-of-glossary word that ends in a generic glossary word splits there (新材料 -> 新 + 材料)."""
    if len(word) < 3 or word in gl:
        return [word]
    for k in (3, 2):
        tail = word[-k:]
        if len(word) > k and tail in gl and gl[tail][1]:
            return [word[:-k], tail]
    return [word]


def _prefixes(word: str, start: int) -> list[str]:
    return [word[start:k] for k in range(start + 1, len(word) + 1)]


def _korean_word(word: str) -> list[tuple[str, str | None]]:
    """Greedy longest-first split of a Hangul word into (piece, English or None)."""
    gl = ko_words()
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(word):
        for j in range(len(word), i, -1):
            piece = word[i:j]
            eng = gl.get(piece)
            # 총 inside a word only before a glossary word: 총무역회사 = general trading corporation
            if piece in _KO_WHOLE_ONLY and piece != word and not any(map(gl.get, _prefixes(word, j))):
                continue
            if eng and (piece not in _KO_SUFFIX_ONLY or (j == len(word) and i >= 2)):
                out.append((piece, eng))
                i = j
                break
        else:
            if out and out[-1][1] is None:
                out[-1] = (out[-1][0] + word[i], None)
            else:
                out.append((word[i], None))
            i += 1
    return out


def _korean(text: str) -> list[str]:
    text = _strip(text, _LEGAL_KO)
    mr, mr_split, rr, rr_split = [], [], [], []
    # Hangul runs apart from anything else: the romanisers get Hangul only (ko-pron builds regular expressions
    # from its input, and "조선(평양)" raised an error from inside it)
    for token in _KO_TOKEN.findall(text):
        if not _HANGUL.search(token):
            for out in (mr, mr_split, rr, rr_split):
                out.append(token)
            continue
        for piece, eng in _korean_word(token):
            if eng:
                for out in (mr, mr_split, rr, rr_split):
                    out.append(eng)
                continue
            syl = [_mr_syllable(c) if _HANGUL.match(c) else c for c in piece]
            mr.append(_mr_word(piece))
            mr_split.append(" ".join(syl))  # personal names: the list prints syllables apart ("Kim Su Gil")
            rr.append(_rr_word(piece))
            rr_split.append(" ".join(_rr_word(c) for c in piece))
    out = [" ".join(r) for r in (mr, mr_split, rr, rr_split)]
    word = text.strip()
    if 2 <= len(word) <= 4 and all(_HANGUL.match(c) for c in word):
        # one short Hangul word is most often a personal name (신용일 = Sin Yong Il), even when its syllables also
        # spell a glossary word (신용 = credit): read it syllable by syllable as well
        out += [" ".join(_mr_syllable(c) for c in word), " ".join(_rr_word(c) for c in word)]
    return out


def renderings(text: str) -> list[str]:
    """Latin renderings of a name that holds Chinese characters or Hangul (empty list otherwise)."""
    out: list[str] = []
    if _HAN.search(text):
        out += _chinese(text)
    if _HANGUL.search(text):
        out += _korean(text)
    return list(dict.fromkeys(r for r in out if r.strip()))


# ------------------------------------------------------------------------------------- Latin-side forms


@lru_cache(maxsize=1)
def latin_words() -> dict[str, str]:
    """Romanised native name word -> the English the list uses: generic CC-CEDICT words by their pinyin, Korean
    name words by their MR and RR spellings, Russian words from ru_name_words.csv."""
    out: dict[str, str] = {}
    # words sharing a pinyin spelling: the most frequent word (jieba's counts) gives the meaning, and only
    # when its gloss is generic (a brand spelt like a word stays a brand)
    best: dict[str, tuple[int, str, bool]] = {}
    for r in _zh_rows():
        key = r["pinyin"]
        freq = int(r["jieba_freq"] or 0)
        if len(key) >= 4 and (key not in best or freq > best[key][0]):
            best[key] = (freq, r["english"], r["generic"] == "1")
    for key, (_, eng, generic) in best.items():
        if generic:
            out[key] = eng
    for zh, eng in _zh_usage().items():
        out["".join(_pinyin(zh))] = eng
    for ko, eng in ko_words().items():
        if len(ko) < 2:
            continue
        # MR as a word voices and assimilates across syllables (석유 sogyu, 관리 kwalli, 합영 habyong), as names
        # print it; syllable by syllable (sokyu) as some lists do; and RR
        for key in ("".join(_mr_syllable(c) for c in ko), _mr_word(ko), _rr_word(ko)):
            if len(key) >= 4:
                out.setdefault(key, eng)
    for r in _csv("ru_name_words.csv"):
        out.setdefault(r["romanised"], r["english"])
    return out


# Wade-Giles -> pinyin, by syllable (initials with and without the aspiration apostrophe)
_WG_WHOLE = {
    "chih": "zhi",
    "shih": "shi",
    "jih": "ri",
    "tzu": "zi",
    "tsu": "zi",
    "ssu": "si",
    "szu": "si",
    "yu": "you",
    "yen": "yan",
    "yeh": "ye",
    "yung": "yong",
    "erh": "er",
}
_WG_INITIALS = [
    ("ch'", "ch"),
    ("ts'", "c"),
    ("tz'", "c"),
    ("hs", "x"),
    ("ch", "zh"),
    ("ts", "z"),
    ("p'", "p"),
    ("t'", "t"),
    ("k'", "k"),
    ("j", "r"),
    ("p", "b"),
    ("t", "d"),
    ("k", "g"),
]
_WG_FINALS = {"ung": "ong", "ien": "ian", "ieh": "ie", "uo": "uo"}
_FRONT = ("i", "u")  # ch/ch' before i/u are pinyin j/q


def wade_giles_to_pinyin(syllable: str) -> str:
    s = syllable.lower()
    if s.replace("'", "") in _WG_WHOLE:
        return _WG_WHOLE[s.replace("'", "")]
    ini, fin = "", s
    for a, b in _WG_INITIALS:
        if s.startswith(a):
            ini, fin = b, s[len(a) :]
            break
    fin = fin.replace("'", "")
    if ini in ("zh", "ch") and fin.startswith(_FRONT) and not fin.startswith("u"):
        ini = "j" if ini == "zh" else "q"
    return ini + _WG_FINALS.get(fin, fin)


_RR_TO_MR = [("eo", "o"), ("eu", "u"), ("ae", "ae")]
_RR_INITIAL = {"g": "k", "d": "t", "b": "p", "j": "ch"}


def rr_to_mr(token: str) -> str:
    """A Revised Romanization word in the McCune-Reischauer spelling lists print (breves dropped)."""
    t = token
    for a, b in _RR_TO_MR:
        t = t.replace(a, b)
    if t and t[0] in _RR_INITIAL:
        t = _RR_INITIAL[t[0]] + t[1:]
    return t


_WG_HINT = re.compile(r"[A-Za-z]+'?[A-Za-z]*(?:-[A-Za-z]+'?[A-Za-z]*)+")


_CITY = r"\(?(?:[A-Z][a-z]+|[A-Z]+)(?:\s(?:[A-Z][a-z]+|[A-Z]+))?\)?"  # "Beijing", "Hong Kong", "(TIANJIN)"
_BRANCH_PHRASE = re.compile(
    r"[\s,-]*" + _CITY + r"\s+(?i:(?:representative|rep\.?|liaison|sales)\s+)?"
    r"(?i:branch|office|bureau)(?i:\s+office)?\s*$"
)
_LEGAL_END = re.compile(
    r"^(.*\b(?i:co\.?,?\s*ltd\.?|limited|ltd\.?|llc|inc\.?|corp(?:oration)?\.?|gmbh|ooo|zao|oao|eood|jsc|"
    r"pjsc|company))\s*[,-]?\s*(?:\([A-Za-z][A-Za-z ]+\)|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\.?$"
)


_CITY1 = r"\(?(?:[A-Z][a-z]+|[A-Z]+)\)?"
_BRANCH_PHRASE1 = re.compile(  # the same with a one-word city: "PARSIAN BANK Dubai Branch" keeps "BANK"
    r"[\s,-]*" + _CITY1 + r"\s+(?i:(?:representative|rep\.?|liaison|sales)\s+)?"
    r"(?i:branch|office|bureau)(?i:\s+office)?\s*$"
)
# "X (Guangzhou) Co., Ltd.": a bracketed place between the name and its legal form
_PLACE_BEFORE_LEGAL = re.compile(
    r"^(.*\S)\s*\((?:[A-Z][a-z]+|[A-Z]+)(?:\s(?:[A-Z][a-z]+|[A-Z]+))?\)\s*,?\s*"
    r"((?i:co\.?,?\s*ltd\.?|company\s+limited|limited|ltd\.?|llc|inc\.?|corp(?:oration)?\.?|gmbh|co\.?))$"
)


def branch_variants(text: str) -> list[str]:
    """The name without a trailing branch or city: "X Ltd Shenzhen Branch", "X Ltd (Tianjin)", "X LLC Moscow",
    "X (Guangzhou) Co., Ltd."; a city of one word and of two words are both tried."""
    out = []
    for phrase in (_BRANCH_PHRASE1, _BRANCH_PHRASE):
        cut = phrase.sub("", text)
        if cut != text and cut.strip():
            out.append(cut)
        m = _LEGAL_END.match(cut)
        if m and m.group(1).strip():
            out.append(m.group(1))
    m = _PLACE_BEFORE_LEGAL.match(text.strip(" ."))
    if m:
        out.append(f"{m.group(1)} {m.group(2)}")
    return list(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """Country names as an address ends with them: ISO 3166-1 names and common names (iso3166_1.csv), the part
    before the comma ("Korea, Republic of" -> korea), and the usual short forms the ISO names lack."""
    out = {"russia", "prc", "dprk", "uae", "usa", "uk", "u s a", "p r china", "peoples republic of china"}
    with resources.files("carveout").joinpath("data", "iso3166_1.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for name in (r["name"], r["common_name"], r["name"].split(",")[0]):
                if name:
                    out.add(_plain(name))
    return frozenset(out)


def _plain(text: str) -> str:
    return " ".join(re.findall(r"[a-z]+", text.lower()))


def place_variants(text: str) -> list[str]:
    """The name without an address or place after it, as extra forms: the address tail cut the way `normalize`
    cuts it, then whatever follows a legal form ("Huawei Technologies Co., Ltd. Bantian, Longgang District");
    a trailing country, and then a city of one or two words before it ("X Industries, Moscow, Russia")."""
    out = []
    cut = drop_address_tail(text)
    if cut != text:
        out += [cut, *branch_variants(cut)]
    parts = [p.strip() for p in SEGMENTS.split(cut) if p.strip()]
    if len(parts) >= 2 and _plain(parts[-1]) in _countries():
        parts.pop()
        out.append(", ".join(parts))
        city = parts[-1].split()
        rest = parts[:-1]
        if rest and len(city) <= 2 and all(w[:1].isupper() for w in city) and sum(len(p.split()) for p in rest) >= 2:
            out.append(", ".join(rest))  # not "PAN, Hao, China" -> "PAN": a name keeps two words at least
    return out


def latin_variants(text: str) -> list[str]:
    """Extra Latin forms of a Latin name: without an address, place, branch or city suffix; Wade-Giles syllable
    groups ("Chiang-su") in pinyin."""
    out = list(dict.fromkeys(branch_variants(text) + place_variants(text)))
    if "-" not in text:
        return out
    changed = False

    def sub(m: re.Match) -> str:
        nonlocal changed
        parts = m.group(0).split("-")
        if not all(len(p) <= 6 for p in parts):
            return m.group(0)
        changed = True
        return "".join(wade_giles_to_pinyin(p) for p in parts)

    wg = _WG_HINT.sub(sub, text)
    return out + [wg] if changed else out


def token_variants(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Token-level forms: romanised native words translated, and RR spellings in MR."""
    words = latin_words()
    out = []
    translated: list[str] = []
    hit = False
    for t in tokens:
        eng = words.get(t)
        if eng:
            translated += eng.split()
            hit = True
        else:
            translated.append(t)
    if hit:
        out.append(tuple(translated))
    if any(("eo" in t or "eu" in t) for t in tokens):
        out.append(tuple(rr_to_mr(t) if ("eo" in t or "eu" in t) else t for t in tokens))
    return out
