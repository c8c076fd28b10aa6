"""Build eval/screening/queries.csv: labelled screening queries, reproducibly (fixed seed).

Positives are variants of real listed names (typos, OCR confusions, reordering, abbreviations, legal forms
added/dropped, address tails, case/punctuation, aliases) plus hand-written native-script names. Negatives are
hand-written real companies that are NOT on the 2026-07-31 list (many deliberately close to listed names) and
generated near-misses whose distinctive word was replaced. Expected ids list every party carrying the source
name (the CSL repeats some parties across lists or FR notices), separated by "|"; empty = no match expected.

    python eval/screening/make_eval.py [--seed 20260731] [--out eval/screening/queries.csv]
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import polars as pl

from carveout.screening import load_list
from carveout.screening.index import build_index
from carveout.screening.normalize import normalize

HERE = Path(__file__).parent

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20260731)
    ap.add_argument("--out", default=str(HERE / "queries.csv"))
    ap.add_argument("--positives", type=int, default=260)
    ap.add_argument("--near-misses", type=int, default=40)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    plist = load_list()
    parties = plist.parties
    ix = build_index(parties)
    ids = parties["party_id"].to_list()

    def expected_for(text: str) -> str:
        if text.startswith("re:"):
            hit = parties.filter(
                pl.col("name").str.contains("(?i)" + text[3:])
                | pl.col("aliases").list.eval(pl.element().str.contains("(?i)" + text[3:])).list.any()
            )
            return "|".join(sorted(hit["party_id"].to_list()))
        toks = normalize(text)
        return "|".join(sorted({ids[ix.party_idx[n]] for n in ix.exact.get(toks, [])}))

    rows: list[dict[str, str]] = []
    names = parties["name"].to_list()
    aliases = parties["aliases"].to_list()
    codes = parties["list_code"].to_list()
    countries = parties["countries"].to_list()
    pool_el = [i for i, c in enumerate(codes) if c == "EL"]
    pool_other = [i for i, c in enumerate(codes) if c != "EL"]
    picks = rng.sample(pool_el, args.positives // 2) + rng.sample(pool_other, args.positives - args.positives // 2)
    kinds = list(VARIANTS)
    for n, pi in enumerate(picks):
        source = names[pi]
        if aliases[pi] and rng.random() < 0.25:
            source = rng.choice(aliases[pi])
        if len(normalize(source)) == 0 or len(source) < 4:
            continue
        kind = kinds[n % len(kinds)]
        query = VARIANTS[kind](rng, source)
        country = (countries[pi] or [""])[0] if rng.random() < 0.7 else ""
        rows.append(
            {
                "query": query,
                "country": country,
                "variant": kind,
                "source_name": source,
                "expected_party_ids": expected_for(source),
            }
        )
    for q, c, target in HAND_POSITIVE:
        rows.append(
            {
                "query": q,
                "country": c,
                "variant": "hand_native" if not q.isascii() else "hand",
                "source_name": target,
                "expected_party_ids": expected_for(target),
            }
        )
    for q, c in HAND_NEGATIVE:
        rows.append(
            {
                "query": q,
                "country": c,
                "variant": "hand_negative",
                "source_name": "",
                "expected_party_ids": "",
            }
        )
    # near misses: swap the rarest word of a listed company name for an unrelated real word
    fillers = ["Xinyuan", "Hengtong", "Lanting", "Meridian", "Goldleaf", "Northwind", "Qingyun", "Tianrui"]
    corp = [i for i in pool_el if len(normalize(names[i])) >= 3 and "Affiliated" not in names[i]]
    made = 0
    for pi in rng.sample(corp, len(corp)):
        if made >= args.near_misses:
            break
        toks = normalize(names[pi])
        rare = max(toks, key=ix.idf)
        words = names[pi].split()
        hit = [i for i, w in enumerate(words) if normalize(w) == (rare,)]
        if not hit:
            continue
        words[hit[0]] = rng.choice(fillers)
        query = " ".join(words)
        if ix.exact.get(normalize(query)):
            continue
        rows.append(
            {
                "query": query,
                "country": (countries[pi] or [""])[0],
                "variant": "near_miss",
                "source_name": names[pi],
                "expected_party_ids": "",
            }
        )
        made += 1
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["query", "country", "variant", "source_name", "expected_party_ids"])
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} queries to {args.out}")


if __name__ == "__main__":
    main()
