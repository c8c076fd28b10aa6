"""Build the screening evaluation sets: a development set (tune on it) and a test set (report only).

Queries are variants of real listed names, by kind (typos, OCR confusions, reordering, abbreviations, legal forms,
address tails, partial names, branch/city suffixes, parenthesised acronyms, former names and aka's, Chinese
characters, Hangul, pinyin, Wade-Giles, Revised Romanization, English words given as romanised native words,
Cyrillic), and non-matches (real companies not on the list, near-misses with the distinctive word replaced, the
same in Chinese characters, and plausible Chinese company names made of list vocabulary that no party carries).

Parties are split between dev and test by a hash of their party id (fixed, seed-independent), so no listed party
gives queries to both sets; the seed chooses the parties, variants and renderings within each half. Native-script
forms come from eval/screening/native_forms.py, which shares no code or table with the matcher.

    python eval/screening/make_eval.py --seed 20261201                       # dev.csv + test.csv
    python eval/screening/make_eval.py --seed 7 --only test --out-dir /tmp   # a fresh test set
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import sys
from pathlib import Path

import native_forms as nf  # noqa: E402  (eval/screening is not a package; run as a script)
import polars as pl

from carveout.screening import load_list
from carveout.screening.index import build_index
from carveout.screening.normalize import normalize

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

ABBREV = [
    ("Technology", "Tech"),
    ("Technologies", "Tech."),
    ("International", "Intl"),
    ("Corporation", "Corp."),
    ("Company", "Co."),
    ("Limited", "Ltd"),
    ("Manufacturing", "Mfg"),
    ("Industrial", "Ind."),
    ("Electronics", "Elec."),
    ("University", "Univ."),
    ("Institute", "Inst."),
    ("Trading", "Trdg"),
]
LEGAL = [" Co., Ltd.", " LLC", " Limited", " Inc.", " GmbH", " Corp.", " Company Limited", " Co Ltd"]
ADDRESS = [
    ", No. 88 Keyuan Road, Pudong, Shanghai",
    ", Room 1201, 18 Science Park Rd, Shenzhen",
    ", 5 Tverskaya Street, Moscow",
    ", P.O. Box 1234, Dubai",
    ", Bldg 3, Zhongguancun, Beijing 100080",
    ", 12 Jalan Ampang, Kuala Lumpur",
]
OCR = [("o", "0"), ("l", "1"), ("i", "1"), ("rn", "m"), ("m", "rn"), ("e", "c"), ("s", "5"), ("B", "8")]

# (query, country, expected: "native" party name to resolve, or "" for a true non-match)
HAND_POSITIVE = [
    ("华为技术有限公司", "CN", "Huawei Technologies Co., Ltd."),
    ("华为", "CN", "re:^Huawei Technologies Co\\., Ltd\\."),
    ("中芯国际集成电路制造有限公司", "CN", "Semiconductor Manufacturing International Corporation"),
    ("中芯国际", "CN", "Semiconductor Manufacturing International Corporation"),
    ("长江存储科技有限责任公司", "CN", "Yangtze Memory Technologies Co., Ltd."),
    ("长江存储", "CN", "Yangtze Memory Technologies Co., Ltd."),
    ("海光", "CN", "re:Haiguang|Higon"),
    ("寒武纪", "CN", "Cambricon Technologies Corporation Limited"),
    ("浪潮集团有限公司", "CN", "Inspur Group Co., Ltd."),
    ("摩尔线程", "CN", "Moore Thread Intelligent Technology (Beijing) Co., Ltd."),
    ("上海壁仞智能科技有限公司", "CN", "Shanghai Biren Intelligent Technology Co., Ltd."),
    ("Hua Wei Technologies", "CN", "Huawei Technologies Co., Ltd."),
    ("HUAWEI TECHNOLOGIES CO LTD SHENZHEN BRANCH", "CN", "Huawei Technologies Co., Ltd."),
    ("Huawei Marine", "CN", "Huawei Marine"),
    ("YMTC", "CN", "Yangtze Memory Technologies Co., Ltd."),
    ("SMIC Beijing", "CN", "Semiconductor Manufacturing International (Beijing) Corporation"),
    (
        "Semiconductor Mfg. Int'l (Beijing) Corp.",
        "CN",
        "Semiconductor Manufacturing International (Beijing) Corporation",
    ),
    ("Changjiang Cunchu Keji", "CN", "Yangtze Memory Technologies Co., Ltd."),
    (
        "Moore Threads Intelligent Tech Beijing",
        "CN",
        "Moore Thread Intelligent Technology (Beijing) Co., Ltd.",
    ),
    ("Cambrian Technologies Corp", "CN", "Cambricon Technologies Corporation Limited"),
    ("Fujian Jinhua Integrated Circuit Co Ltd", "CN", "Fujian Jinhua Integrated Circuit Company, Ltd."),
    ("Chengdu Hygon Integrated Circuit Design", "CN", "Chengdu Haiguang Integrated Circuit"),
    ("Sberbank Rossii", "RU", "PUBLIC JOINT STOCK COMPANY SBERBANK OF RUSSIA"),
]
HAND_NEGATIVE = [
    ("Samsung Electronics Co., Ltd.", "KR"),
    ("삼성전자 주식회사", "KR"),
    ("三星电子", "CN"),
    ("SK hynix Inc.", "KR"),
    ("SK하이닉스", "KR"),
    ("ChangXin Memory Technologies, Inc.", "CN"),
    ("长鑫存储技术有限公司", "CN"),
    ("Hua Hong Semiconductor Limited", "CN"),
    ("华虹半导体有限公司", "CN"),
    ("Taiwan Semiconductor Manufacturing Company Limited", "TW"),
    ("台积电", "TW"),
    ("Intel Corporation", "US"),
    ("NVIDIA Corporation", "US"),
    ("Advanced Micro Devices, Inc.", "US"),
    ("Micron Technology, Inc.", "US"),
    ("Applied Materials, Inc.", "US"),
    ("Lam Research Corporation", "US"),
    ("KLA Corporation", "US"),
    ("ASML Holding N.V.", "NL"),
    ("Tokyo Electron Limited", "JP"),
    ("Kioxia Corporation", "JP"),
    ("Western Digital Corporation", "US"),
    ("Lenovo Group Limited", "HK"),
    ("Xiaomi Corporation", "CN"),
    ("Alibaba Group Holding Limited", "CN"),
    ("Tencent Holdings Limited", "CN"),
    ("Baidu, Inc.", "CN"),
    ("BYD Company Limited", "CN"),
    ("GlobalFoundries Inc.", "US"),
    ("United Microelectronics Corporation", "TW"),
    ("MediaTek Inc.", "TW"),
    ("Qualcomm Incorporated", "US"),
    ("Broadcom Inc.", "US"),
    ("Texas Instruments Incorporated", "US"),
    ("Infineon Technologies AG", "DE"),
    ("STMicroelectronics N.V.", "CH"),
    ("NXP Semiconductors N.V.", "NL"),
    ("Renesas Electronics Corporation", "JP"),
    ("LG Electronics Inc.", "KR"),
    ("Hyundai Motor Company", "KR"),
    ("Yangtze Optical Fibre and Cable Joint Stock Limited Company", "CN"),
    ("Cambrian College", "CA"),
    ("Haier Group Corporation", "CN"),
    ("Hisense Group", "CN"),
    ("Midea Group", "CN"),
    ("Geely Automobile Holdings", "CN"),
    ("Moore Industries International", "US"),
    ("Samsung SDI", "KR"),
    ("SK Siltron", "KR"),
    ("Huatian Technology", "CN"),
    ("Shanghai Pudong Development Bank", "CN"),
    ("Kunlun Tech Co., Ltd.", "CN"),
    ("Bank of China (Hong Kong)", "HK"),
    ("Sony Group Corporation", "JP"),
    ("Nikon Corporation", "JP"),
    ("Canon Inc.", "JP"),
    ("Zeiss Group", "DE"),
    ("Siemens AG", "DE"),
    ("Robert Bosch GmbH", "DE"),
    ("Foxconn Industrial Internet", "CN"),
]


def _mutate_typo(rng: random.Random, s: str) -> str:
    words = s.split()
    idx = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not idx:
        return s
    i = rng.choice(idx)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    op = rng.choice(["swap", "del", "ins", "sub"])
    letters = "aeioulnrst"
    if op == "swap":
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif op == "del":
        w = w[:j] + w[j + 1 :]
    elif op == "ins":
        w = w[:j] + rng.choice(letters) + w[j:]
    else:
        w = w[:j] + rng.choice(letters) + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def _mutate_ocr(rng: random.Random, s: str) -> str:
    for a, b in rng.sample(OCR, len(OCR)):
        if a in s:
            k = s.index(a)
            return s[:k] + b + s[k + len(a) :]
    return s


def _reorder(rng: random.Random, s: str) -> str:
    if "," in s and s.count(",") == 1:  # "LAST, First" persons
        a, b = s.split(",")
        return f"{b.strip()} {a.strip()}"
    words = s.split()
    if len(words) < 2:
        return s
    k = rng.randrange(1, len(words))
    return " ".join(words[k:] + words[:k])


def _abbrev(rng: random.Random, s: str) -> str:
    hits = [(a, b) for a, b in ABBREV if a.lower() in s.lower()]
    if not hits:
        return s + rng.choice(LEGAL)
    a, b = rng.choice(hits)
    k = s.lower().index(a.lower())
    return s[:k] + b + s[k + len(a) :]


def _legal(rng: random.Random, s: str) -> str:
    for form in ["Co., Ltd.", "Co., Ltd", "Company Limited", "Limited", "LLC", "Ltd.", "Inc.", "Corporation"]:
        if s.endswith(form):
            return s[: -len(form)].rstrip(" ,")
    return s.rstrip(".") + rng.choice(LEGAL)


VARIANTS = {
    "typo": _mutate_typo,
    "ocr": _mutate_ocr,
    "reorder": _reorder,
    "abbreviation": _abbrev,
    "legal_form": _legal,
    "address": lambda r, s: s + r.choice(ADDRESS),
    "case_punct": lambda r, s: s.upper().replace(",", "").replace(".", ""),
    "typo_x2": lambda r, s: _mutate_typo(r, _mutate_typo(r, s)),
}


BRANCH = [
    " Shenzhen Branch",
    " Beijing Branch",
    " (Shanghai)",
    " Hong Kong Office",
    " - Moscow Representative Office",
    " Dubai Branch",
    " (Guangzhou) Co., Ltd.",
    " Shanghai Branch Office",
    " Tianjin",
]
_ACRONYM = re.compile(r"\(([A-Z][A-Z0-9&-]{1,7})\)")
# \b on both sides: "aka" inside a word ("Al-Baraka Bank", "Mazaka") is not an alias marker, and a name that starts
# with the marker ("AKA Ltd") has no former name before it (make_former skips a match at position 0)
_FORMER = re.compile(
    r"\b(?:formerly(?: known as)?|f\.?k\.?a\.?|a\.?k\.?a\.?|aka:?|also known as)(?<=[\w.:])\s+([^;,()\[\]]+)", re.I
)
NEGATIVE_KINDS = ("hand_negative", "near_miss", "near_miss_hanzi", "made_up_cn")


def split_of(party_id: str) -> str:
    """dev or test for a party, by a hash of its id: the same party always lands in the same half."""
    return "test" if hashlib.sha1(party_id.encode()).digest()[0] % 2 else "dev"


def _partial(rng: random.Random, s: str) -> str | None:
    words = s.split()
    core = [i for i, w in enumerate(words) if normalize(w) and i > 0]
    if len(normalize(s)) < 3 or not core:
        return None
    drop = rng.choice(core)
    return " ".join(w for i, w in enumerate(words) if i != drop)


def _ocr_heavy(rng: random.Random, s: str) -> str:
    for _ in range(rng.randint(2, 3)):
        s = _mutate_ocr(rng, s)
    return s


LATIN_KINDS = {
    **VARIANTS,
    "ocr": lambda r, s: _mutate_ocr(r, s) if r.random() < 0.5 else _ocr_heavy(r, s),
    "partial": _partial,
    "branch_city": lambda r, s: s.rstrip(" .") + r.choice(BRANCH),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--out-dir", default=str(HERE))
    ap.add_argument("--per-kind", type=int, default=30, help="queries per kind and split (fewer if the pool is small)")
    ap.add_argument("--only", choices=["dev", "test"], default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    plist = load_list()
    parties = plist.parties
    ix = build_index(parties)
    ids = parties["party_id"].to_list()
    names = parties["name"].to_list()
    aliases = parties["aliases"].to_list()
    countries = [c or [] for c in parties["countries"].to_list()]
    types = parties["entity_type"].to_list()
    half = [split_of(i) for i in ids]
    listed_keys = set(ix.exact)

    # the CSL repeats a party across lists, sometimes with its words in another order ("Open Joint Stock Company
    # Mariyskiy Machine-Building Plant" / "MARIYSKIY MACHINE-BUILDING PLANT OPEN JOINT STOCK COMPANY"): the same
    # words in any order name the same party
    same_words: dict[tuple[str, ...], list[int]] = {}
    for toks, nids in ix.exact.items():
        same_words.setdefault(tuple(sorted(toks)), []).extend(nids)

    def expected_for(text: str, pi: int | None = None) -> str:
        found = {ids[ix.party_idx[n]] for n in same_words.get(tuple(sorted(normalize(text))), [])}
        if pi is not None:
            found.add(ids[pi])
        return "|".join(sorted(found))

    rows: dict[str, list[dict[str, str]]] = {"dev": [], "test": []}

    def add(split: str, query: str, country: str, kind: str, source: str, expected: str) -> None:
        rows[split].append(
            {"query": query, "country": country, "variant": kind, "source_name": source, "expected_party_ids": expected}
        )

    def cty(pi: int) -> str:
        return countries[pi][0] if countries[pi] and rng.random() < 0.7 else ""

    def fill(kind: str, pool: list[int], make) -> None:
        """Up to per-kind queries of `kind` per split, from distinct parties of `pool` (seeded order)."""
        order = rng.sample(pool, len(pool))
        made = {"dev": 0, "test": 0}
        for pi in order:
            sp = half[pi]
            if made[sp] >= args.per_kind:
                if all(v >= args.per_kind for v in made.values()):
                    break
                continue
            got = make(pi)
            if not got:
                continue
            query, source = got
            if not query or query == source and kind not in ("acronym", "former_name"):
                continue
            want = expected_for(source, pi)
            if query.isascii():
                # a query that is itself a listed name (an alias repeated on another record) names that party too
                want = "|".join(sorted(set(want.split("|")) | set(filter(None, expected_for(query).split("|")))))
            add(sp, query, cty(pi), kind, source, want)
            made[sp] += 1

    usable = [i for i, n in enumerate(names) if len(normalize(n)) >= 1 and len(n) >= 4]

    def source_of(pi: int) -> str:
        if aliases[pi] and rng.random() < 0.25:
            return rng.choice(aliases[pi])
        return names[pi]

    for kind, fn in LATIN_KINDS.items():
        pool = usable
        if kind in ("partial", "branch_city"):
            pool = [i for i in usable if types[i] == "Entity"]

        def make(pi: int, fn=fn) -> tuple[str, str] | None:
            src = source_of(pi)
            q = fn(rng, src)
            return (q, src) if q else None

        fill(kind, pool, make)

    def is_acronym(name: str) -> bool:
        m = _ACRONYM.search(name)
        if not m:
            return False
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", name[: m.start()])).upper()
        it = iter(initials)
        return len(m.group(1)) >= 3 and all(ch in it for ch in m.group(1) if ch.isalpha())

    acro = [i for i, n in enumerate(names) if is_acronym(n)]
    carriers: dict[str, set[str]] = {}
    for i in acro:
        carriers.setdefault(_ACRONYM.search(names[i]).group(1), set()).add(ids[i])
    seen_acro: set[str] = set()
    for pi in rng.sample(acro, len(acro)):
        a = _ACRONYM.search(names[pi]).group(1)
        sp = half[pi]
        if a in seen_acro or sum(r["variant"] == "acronym" for r in rows[sp]) >= args.per_kind:
            continue
        seen_acro.add(a)
        # every party that carries the acronym is a right answer (CSSC names the group and its institutes)
        want = carriers[a] | set(expected_for(a).split("|")) - {""}
        add(sp, a, cty(pi), "acronym", names[pi], "|".join(sorted(want)))
    former = [i for i, n in enumerate(names) if (m := _FORMER.search(n)) and n[: m.start()].strip(" ([;,")]

    def make_former(pi: int) -> tuple[str, str] | None:
        q = _FORMER.search(names[pi]).group(1).strip(" .")
        return (q, names[pi]) if len(normalize(q)) >= 1 and len(q) >= 4 else None

    fill("former_name", former, make_former)
    cn = [i for i in usable if set(countries[i]) & {"CN", "HK", "TW", "MO"} and "Affiliated" not in names[i]]

    def make_hanzi(pi: int) -> tuple[str, str] | None:
        got = nf.to_chinese(names[pi], rng)
        return (got[0], names[pi]) if got else None

    def make_pinyin(pi: int) -> tuple[str, str] | None:
        got = nf.to_chinese(names[pi], rng)
        if not got or got[1].replace(" ", "") == "".join(normalize(names[pi])):
            return None
        return (" ".join(w.capitalize() for w in got[1].split()), names[pi])

    word_count: dict[str, int] = {}
    for i, n in enumerate(names):
        if not set(countries[i]) & {"CN", "HK", "TW", "MO", "KP", "KR", "SG"}:
            for w in set(re.findall(r"[a-z]+", n.lower())):
                word_count[w] = word_count.get(w, 0) + 1
    english = frozenset(w for w, c in word_count.items() if c >= 3)

    def make_wg(pi: int) -> tuple[str, str] | None:
        q = nf.to_wade_giles(names[pi], drop_apostrophes=rng.random() < 0.5, english=english)
        return (q, names[pi]) if q else None

    fill("hanzi", cn, make_hanzi)
    fill("pinyin", cn, make_pinyin)
    fill("wade_giles", cn, make_wg)
    kp = [i for i in usable if "KP" in countries[i]]

    def make_hangul(pi: int) -> tuple[str, str] | None:
        q = nf.to_hangul(names[pi], rng, person=types[pi] == "Individual")
        return (q, names[pi]) if q else None

    def make_rr(pi: int) -> tuple[str, str] | None:
        q = nf.mr_name_to_rr(names[pi], rng)
        return (q, names[pi]) if q else None

    fill("hangul", kp, make_hangul)
    fill("revised_romanization", kp, make_rr)
    ru = [i for i in usable if "RU" in countries[i] or "BY" in countries[i]]

    def make_cyr(pi: int) -> tuple[str, str] | None:
        q = nf.to_cyrillic(names[pi])
        return (q, names[pi]) if q else None

    fill("cyrillic", ru, make_cyr)
    lang_of = {i: "zh" for i in cn} | {i: "ko" for i in kp} | {i: "ru" for i in ru}

    def make_translated(pi: int) -> tuple[str, str] | None:
        q = nf.translate_words(names[pi], lang_of[pi])
        return (q, names[pi]) if q and normalize(q) != normalize(names[pi]) else None

    fill("translated", list(lang_of), make_translated)

    # ---- non-matches
    for q, c in HAND_NEGATIVE:
        sp = "test" if hashlib.sha1(q.encode()).digest()[0] % 2 else "dev"
        add(sp, q, c, "hand_negative", "", "")
    fillers = [
        "Xinyuan",
        "Hengtong",
        "Lanting",
        "Meridian",
        "Goldleaf",
        "Northwind",
        "Qingyun",
        "Tianrui",
        "Jinpeng",
        "Ruixiang",
        "Baiyun",
        "Hongda",
        "Silverline",
        "Everest",
        "Mingtai",
        "Kaiyuan",
    ]
    corp = [
        i for i in usable if types[i] == "Entity" and len(normalize(names[i])) >= 3 and "Affiliated" not in names[i]
    ]

    def near_miss(pi: int) -> str | None:
        toks = normalize(names[pi])
        rare = max(toks, key=ix.idf)
        words = names[pi].split()
        hit = [i for i, w in enumerate(words) if normalize(w) == (rare,)]
        if not hit:
            return None
        words[hit[0]] = rng.choice(fillers)
        query = " ".join(words)
        return None if normalize(query) in listed_keys else query

    def make_nm(pi: int) -> tuple[str, str] | None:
        q = near_miss(pi)
        return (q, names[pi]) if q else None

    def make_nm_hanzi(pi: int) -> tuple[str, str] | None:
        q = near_miss(pi)
        got = nf.to_chinese(q, rng) if q else None
        return (got[0], names[pi]) if got else None

    for kind, pool, make in (
        ("near_miss", corp, make_nm),
        ("near_miss_hanzi", [i for i in cn if i in set(corp)], make_nm_hanzi),
    ):
        order = rng.sample(pool, len(pool))
        made = {"dev": 0, "test": 0}
        for pi in order:
            sp = half[pi]
            if made[sp] >= args.per_kind:
                if all(v >= args.per_kind for v in made.values()):
                    break
                continue
            got = make(pi)
            if got:
                add(sp, got[0], countries[pi][0] if countries[pi] else "", kind, got[1], "")
                made[sp] += 1
    # made-up Chinese company names from list vocabulary: city + two-syllable brand + generic word + legal form
    cities = ["Shenzhen", "Shanghai", "Beijing", "Hangzhou", "Suzhou", "Wuxi", "Chengdu", "Xiamen", "Ningbo", "Hefei"]
    brands = [
        "Xinlei",
        "Haoyun",
        "Jiarui",
        "Lianfeng",
        "Tengda",
        "Yuantai",
        "Huachen",
        "Zhongrui",
        "Boyuan",
        "Kangtai",
        "Shengyu",
        "Wanjia",
        "Dingxin",
        "Fuhai",
        "Longda",
        "Jinxiu",
        "Ruida",
        "Huiyuan",
    ]
    generic = [
        "Technology",
        "Electronics",
        "Trading",
        "Semiconductor",
        "Precision Machinery",
        "Information Technology",
        "Microelectronics",
        "Import and Export",
        "Intelligent Technology",
        "Materials",
    ]
    for sp in ("dev", "test"):
        made = 0
        while made < args.per_kind:
            q = f"{rng.choice(cities)} {rng.choice(brands)} {rng.choice(generic)} Co., Ltd."
            if normalize(q) in listed_keys or any(r["query"] == q for r in rows["dev"] + rows["test"]):
                continue
            if rng.random() < 0.4:
                got = nf.to_chinese(q, rng)
                if not got:
                    continue
                q = got[0]
            add(sp, q, "CN", "made_up_cn", "", "")
            made += 1
    # hand-written native positives are covered by the alias table: dev only (a regression check, not a measure)
    for q, c, target in HAND_POSITIVE:
        add(
            "dev",
            q,
            c,
            "hand_native" if not q.isascii() else "hand",
            target,
            _expected_re(parties, target, expected_for),
        )
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for sp in ("dev", "test"):
        if args.only and sp != args.only:
            continue
        path = out_dir / f"{sp}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["query", "country", "variant", "source_name", "expected_party_ids"])
            w.writeheader()
            w.writerows(rows[sp])
        print(f"wrote {len(rows[sp])} queries to {path} (seed {args.seed})")


def _expected_re(parties: pl.DataFrame, text: str, expected_for) -> str:
    if text.startswith("re:"):
        hit = parties.filter(
            pl.col("name").str.contains("(?i)" + text[3:])
            | pl.col("aliases").list.eval(pl.element().str.contains("(?i)" + text[3:])).list.any()
        )
        return "|".join(sorted(hit["party_id"].to_list()))
    return expected_for(text)


if __name__ == "__main__":
    main()
