"""Name normalisation: any script in, comparable lower-case Latin tokens out.

Both the list and the query go through the same steps, so that "华为技术有限公司", "HUAWEI TECH. CO., LTD" and
"Huawei Technologies Company Limited, No. 2 Road, Shenzhen" all reduce to `huawei technology`. Legal forms,
branch words and address tails carry no identity and are dropped; abbreviations are expanded; plurals are
folded."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from anyascii import anyascii
from pypinyin import lazy_pinyin
from rapidfuzz.distance import OSA

# --- native-script names that transliteration would get wrong (华为 -> "hua wei", 삼성 -> "samseong")


@dataclass(frozen=True)
class NativeName:
    native: str
    english: str
    kind: str
    source: str


@lru_cache(maxsize=1)
def native_names() -> tuple[NativeName, ...]:
    """The sourced native-script table shipped in carveout/data/csl/native_names.csv, longest first."""
    text = resources.files("carveout").joinpath("data", "csl", "native_names.csv").read_text("utf-8")
    rows = [NativeName(r["native"], r["english"], r["kind"], r["source"]) for r in csv.DictReader(text.splitlines())]
    return tuple(sorted(rows, key=lambda r: -len(r.native)))


# Legal forms and generic words written in CJK scripts; longest first so 股份有限公司 wins over 有限公司.
_CJK_LEGAL = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "有限責任公司",
        "有限公司",
        "集团公司",
        "总公司",
        "分公司",
        "公司",
        "株式会社",
        "有限会社",
        "合同会社",
        "주식회사",
        "유한회사",
        "(주)",
        "㈜",
        "유한책임회사",
        "분공사",
        "지점",
    ],
    key=len,
    reverse=True,
)
_CJK_WORDS = {
    "集成电路制造": " manufacturing ",
    "制造": " manufacturing ",
    "集成电路": " integrated circuit ",
    "半导体": " semiconductor ",
    "微电子": " microelectronics ",
    "电子": " electronics ",
    "科技": " technology ",
    "技术": " technology ",
    "信息": " information ",
    "研究所": " research institute ",
    "研究院": " research institute ",
    "大学": " university ",
    "集团": " group ",
    "控股": " holding ",
    "国际": " international ",
    "存储": " memory ",
    "智能": " intelligent ",
    "设备": " equipment ",
    "装备": " equipment ",
    "贸易": " trading ",
    "进出口": " import export ",
    "반도체": " semiconductor ",
    "전자": " electronics ",
    "기술": " technology ",
    "그룹": " group ",
}
# Place names segment a Han run reliably; the rest is paired into two-syllable words (the usual brand shape).
_PLACES = (
    "北京 上海 深圳 天津 成都 武汉 南京 杭州 广州 西安 合肥 苏州 无锡 大连 重庆 香港 澳门 "
    "中国 厦门 青岛 珠海 "
    "东莞 长沙 郑州 济南 沈阳 哈尔滨 长春 福建 广东 江苏 浙江 山东 四川 湖北 安徽 河北 辽宁 昆山 宁波 绵阳"
).split()
_ADMIN = {"市": " ", "省": " ", "区": " ", "县": " "}
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")


def is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _romanize_korean(word: str) -> str:
    """Revised Romanization by korean-romanizer (replaced a hand-written syllable table: equal on dev Hangul,
    and it applies the sound-change rules between syllables the table ignored)."""
    from korean_romanizer.romanizer import Romanizer

    return Romanizer(word).romanize()


# --- Latin-side vocabulary ---------------------------------------------------------------------------------

LEGAL_TOKENS = frozenset(
    "co ltd limited llc inc incorporated corp corporation company companies gmbh mbh ag kg sa sas sarl "
    "srl spa "
    "bv nv plc pte pty oy oyj ab kk jsc ojsc pjsc cjsc ooo zao oao pao tov llp lp fze fzco fzc fzllc fz "
    "sdn bhd "
    "tbk ltda sae aktiengesellschaft gesellschaft establishment est ent intl_legal cia sociedad anonima "
    "youxian gongsi zeren gufen kaisha kabushiki hoesa jusik chusik yugen "
    "obshchestvo obshestvo ogranichennoy ogranichennoi otvetstvennostyu otvetstvennostiu aktsionernoe "
    "aktsionernoye zakrytoe otkrytoe publichnoe tovarystvo sherkat sherkate liability".split()
)
_LEGAL_SEQS = [
    ("limited", "liability"),
    ("joint", "stock"),
    ("public", "joint", "stock"),
    ("closed", "joint", "stock"),
    ("sp", "z", "o", "o"),
    ("s", "a", "de", "c", "v"),
    ("s", "a", "s"),
    ("s", "a"),
    ("s", "r", "l"),
    ("s", "p", "a"),
    ("b", "v"),
    ("n", "v"),
    ("l", "l", "c"),
    ("p", "l", "c"),
    ("a", "g"),
    ("a", "s"),
    ("k", "k"),
    ("you", "xian"),
    ("gong", "si"),
    ("ze", "ren"),
    ("gu", "fen"),
]
STOPWORDS = frozenset("the of and for de la le les des du der die das und el y da do di dei".split())
BRANCH_TOKENS = frozenset("branch branches office representative rep liaison subsidiary".split())
WEAK_TOKENS = frozenset("group holding holdings".split())

ABBREVIATIONS = {
    "tech": "technology",
    "techn": "technology",
    "technol": "technology",
    "intl": "international",
    "int'l": "international",
    "internat": "international",
    "mfg": "manufacturing",
    "manuf": "manufacturing",
    "elec": "electronic",
    "electr": "electronic",
    "semicon": "semiconductor",
    "semi": "semiconductor",
    "univ": "university",
    "inst": "institute",
    "sci": "science",
    "eng": "engineering",
    "engg": "engineering",
    "dev": "development",
    "ind": "industrial",
    "indus": "industrial",
    "natl": "national",
    "nat'l": "national",
    "assoc": "association",
    "svcs": "service",
    "svc": "service",
    "sys": "system",
    "info": "information",
    "equip": "equipment",
    "mgmt": "management",
    "mach": "machinery",
    "res": "research",
    "acad": "academy",
    "trdg": "trading",
    "imp": "import",
    "exp": "export",
    "grp": "group",
    "hldgs": "holding",
    "hldg": "holding",
    "ic": "integrated circuit",
    "keji": "technology",
    "jishu": "technology",
    "dianzi": "electronic",
    "bandaoti": "semiconductor",
    "xinxi": "information",
    "zhineng": "intelligent",
    "guoji": "international",
    "jituan": "group",
    "kexue": "science",
    "yanjiusuo": "research institute",
    "daxue": "university",
    "maoyi": "trading",
    "shebei": "equipment",
    "zhizao": "manufacturing",
    "sheji": "design",
    "cunchu": "memory",
    "hk": "hong kong",
    # the list writes both ("FOREIGN TRADE BANK OF THE DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA", "... DPRK")
    "dprk": "democratic peoples republic of korea",
    "prc": "peoples republic of china",
    "uae": "united arab emirates",
    "shenzen": "shenzhen",
    "beijng": "beijing",
}
# folds for common irregular plurals/forms; the regular "-s" is handled in _stem
_FORMS = {
    "technologies": "technology",
    "industries": "industrial",
    "industry": "industrial",
    "electronics": "electronic",
    "electronical": "electronic",
    "laboratories": "laboratory",
    "sciences": "science",
    "services": "service",
    "systems": "system",
    "machines": "machine",
    "materials": "material",
    "trade": "trading",
    "microelectronics": "microelectronic",
    "academia": "academy",
    "academie": "academy",
}

# Words that make a comma segment an address ("No. 2 Zhongshan Road, Haidian District"). The strong ones are rare in
# names. The weak ones are also given names or name words ("RI, Yong Gil", "ZHAO, Dong Dong", "SU, Lu-Chi",
# "HASSAN, Hameed ul", "... BLOCK AND TILE", "REAL ESTATE ...", all on the list), so alone they mark an address only
# when hyphened to the place before them ("Gangnam-gu", "Sejong-ro") or beside another address word.
_ADDRESS_STRONG = frozenset(
    "road rd street avenue ave district dist bldg floor fl room rm suite ste province county village lane highway "
    "plaza postal jalan ulitsa prospekt industrial_park".split()
)
_ADDRESS_WEAK = frozenset(
    "st no zone park building tower town block box po ul pr area estate "
    "lu jie hao xiang cun zhen qu dong gu ro gil".split()
)
_HYPHENED_PLACE = re.compile(r"[a-z]-(?:" + "|".join(sorted(_ADDRESS_WEAK)) + r")\b")
# Long legal words are often misspelt ("Limeited", "Compnay"); snap near-misses back so they are dropped.
LEGAL_SNAP = (
    "limited",
    "company",
    "corporation",
    "incorporated",
    "joint",
    "stock",
    "liability",
    "obshchestvo",
    "aktsionernoe",
    "otvetstvennostyu",
    "ogranichennoy",
    "gesellschaft",
    "establishment",
)
_ORDINAL = re.compile(r"^\d+(st|nd|rd|th)$")
_OCR = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "|": "l", "$": "s", "@": "a"})
_SPLIT = re.compile(r"[^0-9a-z]+")
SEGMENTS = re.compile(r"[,;/]|\s-\s|\s–\s")


def _replace_native(text: str) -> str:
    for row in native_names():
        if row.native in text:
            text = text.replace(row.native, f" {row.english} ")
    return text


def to_latin(text: str) -> str:
    """Any script to Latin: native table, CJK legal forms/glossary, pinyin, Hangul romanisation, anyascii."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    text = _replace_native(text)
    for form in _CJK_LEGAL:
        text = text.replace(form, " ")
    if _HAN.search(text) or any(is_hangul(c) for c in text):
        for word, eng in _CJK_WORDS.items():
            text = text.replace(word, eng)
        for place in _PLACES:
            text = text.replace(place, " " + "".join(lazy_pinyin(place)) + " ")
        for ch, rep in _ADMIN.items():
            text = text.replace(ch, rep)
        text = _HAN.sub(lambda m: " " + _pinyin_words(m.group(0)) + " ", text)
        if any(is_hangul(c) for c in text):
            text = _HANGUL_RUN.sub(lambda m: " " + _romanize_korean(m.group(0)) + " ", text)
    return anyascii(text)


def _pinyin_words(run: str) -> str:
    """Pinyin for a Han run without a dictionary: up to 3 syllables make one word, longer runs go in pairs."""
    syl = lazy_pinyin(run)
    if len(syl) <= 3:
        return "".join(syl)
    words = ["".join(syl[i : i + 2]) for i in range(0, len(syl) - 3, 2)]
    rest = syl[len(words) * 2 :]
    return " ".join(words + ["".join(rest)])


@lru_cache(maxsize=50_000)
def _snap_legal(tok: str) -> str:
    for word in LEGAL_SNAP:
        if abs(len(word) - len(tok)) <= 2 and tok[0] == word[0]:
            limit = 1 if len(word) <= 7 else 2
            if OSA.distance(tok, word, score_cutoff=limit) <= limit:  # OSA: a swap of neighbours is one edit
                return word
    return tok


def _stem(tok: str) -> str:
    tok = _FORMS.get(tok, tok)
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 4 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        return tok[:-1]
    return tok


def _is_address(segment: str) -> bool:
    seg = segment.lower()
    toks = [t for t in _SPLIT.split(seg) if t]
    if len(toks) == 1 and toks[0].isalpha():
        return False  # "PAN, Hao", "ZHANG, Jie", "KIM, Dong": a given name, not an address word on its own
    if any(t in _ADDRESS_STRONG or (t.isdigit() and len(t) >= 5) for t in toks):  # ... or a postcode
        return True
    weak = {t for t in toks if t in _ADDRESS_WEAK}
    # a house number beside a street word ("No. 5", "P.O. Box 12"); a number alone is part of a name: the list
    # tells units apart by it ("CASIC 3rd Academy, 31 Research Institute", "Tactical Missile Corporation, 711
    # Aircraft Repair Plant", "RESEARCH INSTITUTE - 2")
    if weak and any(c.isdigit() for c in seg):
        return True
    return len(weak) >= 2 or bool(_HYPHENED_PLACE.search(seg))


def drop_address_tail(text: str) -> str:
    """Keep the name of 'Name, No. 2 Road, City': cut before the first segment that looks like an address (the
    text before it is returned as it was written)."""
    seps = list(SEGMENTS.finditer(text))
    for i, sep in enumerate(seps):
        end = seps[i + 1].start() if i + 1 < len(seps) else len(text)
        if _is_address(text[sep.end() : end]):
            return text[: sep.start()]
    return text


_SEQS_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _seq in _LEGAL_SEQS:
    _SEQS_BY_FIRST.setdefault(_seq[0], []).append(_seq)  # keeps _LEGAL_SEQS order: the first match wins


def _remove_sequences(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for seq in _SEQS_BY_FIRST.get(tokens[i], ()):
            n = len(seq)
            if tuple(tokens[i : i + n]) == seq:
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@lru_cache(maxsize=200_000)
def normalize(text: str) -> tuple[str, ...]:
    """Identity-bearing tokens of a party name, in order. Empty when nothing but legal forms remains."""
    latin = to_latin(text or "").lower()
    latin = latin.replace("&", " and ").replace("'", "").replace("’", "").replace("`", "")
    latin = drop_address_tail(latin)
    raw = [t for t in _SPLIT.split(latin.replace(".", " ")) if t]
    toks: list[str] = []
    for t in raw:
        if not t.isdigit() and not t.isalpha() and not _ORDINAL.match(t):
            if sum(c.isalpha() for c in t) > sum(c.isdigit() for c in t):
                t = t.translate(_OCR)  # "hua1wei" / "0MEGA": OCR digit-for-letter confusions
        if len(t) >= 4 and t not in LEGAL_TOKENS and t not in ABBREVIATIONS:
            t = _snap_legal(t)
        exp = ABBREVIATIONS.get(t)
        toks.extend(exp.split() if exp else [t])
    toks = _remove_sequences(toks)
    toks = [_stem(t) for t in toks if t not in LEGAL_TOKENS and t not in STOPWORDS and t not in BRANCH_TOKENS]
    if not toks:  # a name made only of weak words: keep what there was rather than nothing
        toks = [_stem(t) for t in raw if t not in LEGAL_TOKENS]
    return tuple(t for i, t in enumerate(toks) if i == 0 or t != toks[i - 1])


_PAREN_ACRONYM = re.compile(r"\(([A-Z][A-Z0-9&-]{1,9})\)")
_AKA = re.compile(
    r"(?:\b(?:formerly|previously)(?: known as| named| called)?:?|\bformer names?:?|\b[fn][./]?k[./]?a\.?:?"
    r"|\ba\.?k\.?a\.?:?|\baka:?|\balso known as:?|\bnow known as:?|\bd[./]b[./]a\.?|\bdoing business as|\btrading as)"
    r"\s+([^;()\[\]]+)",
    re.I,
)
# a company name in brackets after another name ("OAI (Optical Associates, Inc.)", "X Ltd (Y Trading Co., Ltd.)") is
# another name of the party: a bracket holding at least one word besides a legal form that is among them
_PAREN = re.compile(r"[(\[]([^()\[\]]+)[)\]]")
_PAREN_LEGAL = re.compile(
    r"\b(?:co|ltd|limited|llc|inc|incorporated|corp|corporation|company|gmbh|plc|jsc|ojsc|pjsc|ooo|s\.?a|llp)\b\.?",
    re.I,
)


def _is_acronym_of(acronym: str, before: str) -> bool:
    """ "SMIC" after "Semiconductor Manufacturing International Corporation": its letters are initials, in order."""
    initials = iter("".join(w[0] for w in re.findall(r"[A-Za-z]+", before)).upper())
    letters = [c for c in acronym if c.isalpha()]
    return len(letters) >= 2 and all(c in initials for c in letters)


def name_variants(name: str) -> list[tuple[str, float, bool]]:
    """Forms of a *listed* name worth indexing, with a small prior and whether it is an alias: the full name,
    the name without a parenthesised acronym or city, both halves of 'X. Affiliated Entity: Y' entries, a
    parenthesised acronym of the name's own initials ("... Corporation (SMIC)"), a bracketed company name
    ("OAI (Optical Associates, Inc.)"), and names given after "formerly", "previously known as", "former name",
    "a.k.a.", "f.k.a."/"f/k/a", "n.k.a.", "d/b/a", "trading as" or "also known as"."""
    out = [(name, 1.0, False)]
    m = re.split(r"\.?\s*Affiliated Entit(?:y|ies)\s*:\s*", name, maxsplit=1, flags=re.I)
    if len(m) == 2:
        out += [(m[1], 1.0, False), (m[0], 0.97, False)]
    head = _AKA.split(name, maxsplit=1)[0] if _AKA.search(name) else name
    stripped = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", head).strip(" ,;")
    if stripped != name and stripped.strip():
        out.append((stripped, 0.97, False))
    for a in _PAREN_ACRONYM.finditer(name):
        if _is_acronym_of(a.group(1), name[: a.start()]):
            out.append((a.group(1), 0.99, True))
    for a in _PAREN.finditer(name):
        inner = a.group(1).strip(" .,;")
        if _AKA.match(inner) or not _PAREN_LEGAL.search(inner):
            continue
        if normalize(inner) and re.sub(_PAREN_LEGAL, " ", inner).strip(" .,;&"):
            out.append((inner, 0.97, True))
    for a in _AKA.finditer(name):
        for part in re.split(r",?\s*\b(?:a\.?k\.?a\.?|aka)\b:?\s*", a.group(1), flags=re.I):
            part = part.strip(" .,;")
            if len(part) >= 3:
                out.append((part, 0.99, True))
            # "formerly ABC Trading, Moscow" / "a.k.a. ABC, DEF": the name may end at the first comma, unless
            # what follows is only a legal form ("ABC, Ltd.")
            first, _, rest = part.partition(",")
            first = first.strip(" .;")
            if rest and len(first) >= 3 and normalize(rest) and normalize(first) != normalize(part):
                out.append((first, 0.99, True))
    return out


def clear_caches() -> None:
    """Forget memoised normalisations (the native-name table stays loaded)."""
    normalize.cache_clear()
    _snap_legal.cache_clear()
