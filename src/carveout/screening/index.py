"""Blocking index over listed names, and its DuckDB cache.

A query must be compared with a handful of listed names, not 80,000. Every listed name (and alias, and useful
variant) is filed under its normalised tokens, their metaphone codes, 4-letter prefixes and joined neighbour
pairs ("hua wei" -> "huawei"); a query collects names sharing rare keys, weighted by inverse frequency. A query
word the list never uses also reads the postings of the listed words one edit away (a deletion index built in
`finish`), so a slip that breaks prefix, suffix and metaphone keys at once still finds the name.

The normalised names are cached in an embedded DuckDB file keyed by the list's content hash, so the
normalisation cost is paid once per list version.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

import duckdb
import jellyfish
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .loaders import PARTY_SCHEMA, PartyList
from .normalize import WEAK_TOKENS, name_variants, normalize


def _code_fingerprint() -> str:
    """Index rows depend on the normalisation code and the native-name table: a change to either rebuilds."""
    h = hashlib.sha1(INDEX_FORMAT.encode())
    h.update(Path(__file__).with_name("normalize.py").read_bytes())
    h.update(resources.files("carveout").joinpath("data", "csl", "native_names.csv").read_bytes())
    return h.hexdigest()[:12]


INDEX_FORMAT = "6"
INDEX_VERSION = _code_fingerprint()
MAX_POSTING = 4000  # keys filed under more names than this carry no identity (e.g. "technology")
MAX_DERIVED_POSTING = 1500  # same for metaphone/prefix/suffix keys, which are noisier
ENOUGH = 4  # once ENOUGH * k names are in hand ...
LONG_POSTING = 200  # ... keys filed under more names than this are not read (they add little, cost most)


def default_index_path() -> Path:
    """$CARVEOUT_SCREENING_DB, else $XDG_CACHE_HOME/carveout/screening.duckdb (~/.cache/... by default)."""
    env = os.environ.get("CARVEOUT_SCREENING_DB")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "carveout" / "screening.duckdb"


def index_path_beside(db: str | Path) -> Path:
    """Cache beside a user's --db file: ledger.duckdb -> ledger.screening.duckdb."""
    p = Path(db)
    return p.with_name(p.stem + ".screening.duckdb")


_OCR_FOLD = str.maketrans({"1": "l", "i": "l", "0": "o", "5": "s", "8": "b", "c": "e"})


@lru_cache(maxsize=100_000)
def ocr_fold(t: str) -> str:
    """A token with OCR look-alikes folded together ("rn" -> "m", "1"/"i" -> "l", "0" -> "o", "c" -> "e" ...)."""
    return t.replace("rn", "m").translate(_OCR_FOLD)


_ROM_STEPS = [
    ("dzh", "j"),  # Russian Дж (Dzhetkom = Jetcom, Fdzhord = Fjord)
    ("ks", "x"),  # Russian кс for x (Deksias = Dexias)
    ("tch", "ch"),
    ("zh", "ch"),
    ("hs", "s"),
    ("x", "s"),
    ("q", "ch"),
    ("j", "ch"),
    ("tz", "z"),
    ("ts", "z"),
    ("kh", "h"),
    ("ph", "f"),
    ("ck", "k"),
    ("eo", "o"),
    ("eu", "u"),
    ("ung", "ong"),
    ("ien", "ian"),
    ("y", "i"),
    ("w", "v"),
    ("g", "k"),
    ("d", "t"),
    ("b", "p"),
    ("l", "r"),
]
_ROM_C = re.compile(r"c(?!h)")
_DOUBLE = re.compile(r"(.)\1+")


@lru_cache(maxsize=100_000)
def rom_fold(t: str) -> str:
    """A token with the differences between romanisation systems folded away: pinyin/Wade-Giles (zh/ch/j,
    x/hs, z/ts, -ong/-ung), Revised Romanization/McCune-Reischauer (g/k, d/t, b/p, j/ch, eo/o, eu/u, l/r),
    Russian transliterations (dzh/j, ks/x, kh/h, c/k, w/v, y/i) and doubled letters. Used for a 0.9 token match only."""
    t = _ROM_C.sub("k", t)
    for a, b in _ROM_STEPS:
        t = t.replace(a, b)
    return _DOUBLE.sub(r"\1", t)


@lru_cache(maxsize=100_000)
def metaphone(tok: str) -> str:
    return jellyfish.metaphone(tok) if len(tok) >= 3 and tok.isalpha() else ""


@lru_cache(maxsize=200_000)
def token_keys(t: str) -> tuple[str, ...]:
    """The blocking keys of one token (memoised: the list repeats its words thousands of times)."""
    keys = [t]
    m = metaphone(t)
    if m:
        keys.append("m:" + m)
    if len(t) >= 5:
        keys.append("p:" + t[:4])
    if len(t) >= 6:
        keys.append("s:" + t[-4:])  # a typo early in the word still shares its ending
    if len(t) >= 3:
        keys.append("r:" + rom_fold(t))
    return tuple(keys)


NEAR_MIN_LEN = 5  # shorter words get no one-edit neighbourhood (too many neighbours)
NEAR_MAX = 20  # at most this many neighbours of one query word become blocking keys
FAR_MIN_LEN = 7  # words this long may carry two slips (one per 3.5 letters, as scoring allows)


def _deletes(t: str) -> set[str]:
    return {t[:i] + t[i + 1 :] for i in range(len(t))}


def key_groups(tokens: tuple[str, ...]) -> list[set[str]]:
    """The blocking keys of a name, one group per word (`token_keys`) and one per pair of neighbours ("hua wei"
    -> huawei): a listed name is filed under all of them, and a query word votes once through its group."""
    return [set(token_keys(t)) for t in tokens] + [{a + b} for a, b in zip(tokens, tokens[1:], strict=False)]


def blocking_keys(tokens: tuple[str, ...]) -> set[str]:
    return set().union(*key_groups(tokens))


@dataclass
class NameIndex:
    """Listed names (one row per name variant) and the postings that block queries onto them."""

    party_idx: list[int]
    texts: list[str]
    tokens: list[tuple[str, ...]]
    prior: list[float]
    is_alias: list[bool]
    postings: dict[str, list[int]] = field(default_factory=dict)
    key_idf: dict[str, float] = field(default_factory=dict)
    token_idf: dict[str, float] = field(default_factory=dict)
    exact: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    joined: list[str] = field(default_factory=list)
    joined_fold: list[str] = field(default_factory=list)  # the same, each token rom_fold-ed
    # per-name values the scorer needs for every candidate, computed once here instead of once per comparison
    token_weights: list[tuple[float, ...]] = field(default_factory=list)
    weight_sums: list[float] = field(default_factory=list)  # sum(token_weights[i]) or 1.0
    compact: list[str] = field(default_factory=list)  # "".join(tokens)
    sorted_compact: list[str] = field(default_factory=list)  # "".join(sorted(tokens))
    default_idf: float = 0.0  # idf of a token the list never uses
    fold_groups: dict[str, list[str]] = field(default_factory=dict)  # ocr_fold(token) -> listed tokens
    rom_groups: dict[str, list[str]] = field(default_factory=dict)  # rom_fold(token) -> listed tokens
    del_groups: dict[str, list[str]] = field(default_factory=dict)  # token minus one letter -> listed tokens
    by_initial: dict[str, list[str]] = field(default_factory=dict)  # first letter -> listed tokens of FAR_MIN_LEN+
    _near: dict[str, list[str]] = field(default_factory=dict, repr=False)  # near/far_tokens, memoised
    _pair_folds: frozenset[str] | None = field(default=None, repr=False)  # joins_a_listed_pair, lazily

    def __len__(self) -> int:
        return len(self.texts)

    def finish(self) -> NameIndex:
        """Derive postings and weights from the per-name rows (cheap; not cached)."""
        postings: dict[str, list[int]] = {}
        tok_df: dict[str, int] = {}
        exact: dict[tuple[str, ...], list[int]] = {}
        for nid, toks in enumerate(self.tokens):
            exact.setdefault(toks, []).append(nid)
            for k in blocking_keys(toks):
                postings.setdefault(k, []).append(nid)
            for t in set(toks):
                tok_df[t] = tok_df.get(t, 0) + 1
        n = max(len(self.tokens), 1)
        self.postings = postings
        self.joined = [" ".join(t) for t in self.tokens]
        self.joined_fold = [" ".join(map(rom_fold, t)) for t in self.tokens]
        self.exact = exact
        self.key_idf = {k: math.log(n / len(v)) for k, v in postings.items()}
        self.token_idf = {t: max(0.5, math.log(n / df)) for t, df in tok_df.items()}
        for t in WEAK_TOKENS:
            if t in self.token_idf:
                self.token_idf[t] *= 0.3
        self.default_idf = math.log(max(len(self.tokens), 2))
        idf = self.idf
        self.token_weights = [tuple(idf(t) for t in toks) for toks in self.tokens]
        self.weight_sums = [sum(w) or 1.0 for w in self.token_weights]
        self.compact = ["".join(toks) for toks in self.tokens]
        self.sorted_compact = ["".join(sorted(toks)) for toks in self.tokens]
        groups: dict[str, list[str]] = {}
        for t in self.token_idf:
            groups.setdefault(ocr_fold(t), []).append(t)
        self.fold_groups = groups
        rom: dict[str, list[str]] = {}
        for t in self.token_idf:
            if len(t) >= 2:
                rom.setdefault(rom_fold(t), []).append(t)
        self.rom_groups = rom
        dels: dict[str, list[str]] = {}
        for t in self.token_idf:
            if len(t) >= NEAR_MIN_LEN:
                for d in _deletes(t):
                    dels.setdefault(d, []).append(t)
        self.del_groups = dels
        initial: dict[str, list[str]] = {}
        for t in self.token_idf:
            if len(t) >= FAR_MIN_LEN:
                initial.setdefault(t[0], []).append(t)
        self.by_initial = initial
        return self

    def joins_a_listed_pair(self, t: str) -> bool:
        """Whether some listed name prints `t` as two neighbouring words, romanisation differences folded away
        ("bilhun" for "P'il-Hun"). The folded pairs are built on first use (about half a second)."""
        if self._pair_folds is None:
            known = self.token_idf
            self._pair_folds = frozenset(rom_fold(k) for k in self.postings if ":" not in k and k not in known)
        return rom_fold(t) in self._pair_folds

    def far_tokens(self, t: str) -> list[str]:
        """Listed tokens two slips from a long query word that has no listed word one slip away ("groanpesct" ->
        granpect, "avsazaphcast" -> aviazapchast), same first letter, as `_token_match` then requires. A C-speed
        scan of the listed words with that initial; memoised with `near_tokens`."""
        if len(t) < FAR_MIN_LEN or t in self.token_idf or self.near_tokens(t):
            return []
        key = "2:" + t
        got = self._near.get(key)
        if got is None:
            found = process.extract(
                t, self.by_initial.get(t[0], ()), scorer=OSA.distance, score_cutoff=2, limit=NEAR_MAX
            )
            got = self._near[key] = [u for u, _, _ in found]
        return got

    def near_tokens(self, t: str) -> list[str]:
        """Listed tokens one edit from a query word the list never uses: an insertion, a deletion, or (a deletion
        from each word reaching the same string) a substitution or neighbour swap. Blocking on them lets a slip
        that breaks the word's prefix, suffix and metaphone keys ("Glrbal", "Tenlan") still reach the name."""
        if len(t) < NEAR_MIN_LEN or t in self.token_idf:
            return []
        got = self._near.get(t)
        if got is not None:
            return got
        groups, idf = self.del_groups, self.token_idf
        out = list(groups.get(t, ()))
        for d in sorted(_deletes(t)):
            if len(d) >= NEAR_MIN_LEN and d in idf:  # neighbours are as long as NEAR_MIN_LEN too
                out.append(d)
            out += groups.get(d, ())
        got = self._near[t] = list(dict.fromkeys(out))[:NEAR_MAX]
        if len(self._near) > 100_000:
            self._near.clear()
        return got

    def idf(self, tok: str) -> float:
        return self.token_idf.get(tok, self.default_idf)

    def query_key_groups(self, tokens: tuple[str, ...]) -> list[set[str]]:
        """The keys a query reads, one group per query word: its blocking keys, the listed words one edit from a
        word the list never uses and those it folds onto by OCR look-alikes ("8e5t kornp" -> best, komp), or two
        slips away; and one group per pair of neighbours ("hua wei" -> huawei)."""
        groups = key_groups(tokens)
        for t, keys in zip(tokens, groups, strict=False):  # the word groups come first, then the pairs
            keys.update(self.near_tokens(t))
            if t not in self.token_idf:
                keys.update(self.fold_groups.get(ocr_fold(t), ()))
                keys.update(self.far_tokens(t))
        return groups

    def query_keys(self, tokens: tuple[str, ...]) -> set[str]:
        return set().union(*self.query_key_groups(tokens))

    def candidates(self, tokens: tuple[str, ...], k: int = 40) -> list[int]:
        """Name ids sharing the rarest blocking keys with the query, best first (ties: first reached first).

        Each query word votes once per name, with the rarest of its keys the name shares: the five keys of a
        common word ("public": itself, metaphone, romanisation, prefix, suffix) must not outweigh the one rare
        word of the name sought ("Public Aktsionernoe Obshchestvo Transkapitalbank")."""
        postings = self.postings
        groups = self.query_key_groups(tokens)
        found = []
        for g, keys in enumerate(groups):
            for key in keys:
                post = postings.get(key)
                if post is not None:
                    found.append((len(post), key, g, post))
        usable = [f for f in found if f[0] <= (MAX_POSTING if f[1][1:2] != ":" else MAX_DERIVED_POSTING)]
        if not usable and found:
            usable = [min(found, key=lambda f: f[:3])]
        # rarest keys first (ties by key and word, so the result does not depend on set order): the first key of
        # a word that reaches a name is its rarest. Once enough names are in hand, common keys (long postings)
        # add little but cost most.
        usable.sort(key=lambda f: f[:3])
        acc: dict[int, float] = {}
        seen: list[set[int]] = [set() for _ in groups]
        keys_of = [0] * len(groups)
        for f in usable:
            keys_of[f[2]] += 1
        enough = ENOUGH * k
        key_idf = self.key_idf
        get = acc.get
        for n, key, g, post in usable:
            if n > LONG_POSTING and len(acc) >= enough:
                break
            w = key_idf[key]
            if keys_of[g] == 1:  # a word with one key votes through it alone: nothing to deduplicate
                for nid in post:
                    acc[nid] = get(nid, 0.0) + w
                continue
            voted = seen[g]
            for nid in post:
                if nid not in voted:
                    voted.add(nid)
                    acc[nid] = get(nid, 0.0) + w
        for nid in self.exact.get(tokens, ()):
            acc[nid] = acc.get(nid, 0.0) + 100.0
        # sorted() is stable, so equal weights keep insertion order
        return sorted(acc, key=acc.__getitem__, reverse=True)[:k]


def build_index(parties: pl.DataFrame) -> NameIndex:
    party_idx: list[int] = []
    texts: list[str] = []
    tokens: list[tuple[str, ...]] = []
    prior: list[float] = []
    is_alias: list[bool] = []
    for pi, (name, aliases) in enumerate(zip(parties["name"].to_list(), parties["aliases"].to_list(), strict=True)):
        seen: set[tuple[str, ...]] = set()
        forms = list(name_variants(name))
        for alias in aliases or []:
            forms += [(v, p * 0.99, True) for v, p, _ in name_variants(alias)]
        for text, p, alias in forms:
            toks = normalize(text)
            if not toks or toks in seen:
                continue
            seen.add(toks)
            party_idx.append(pi)
            texts.append(text)
            tokens.append(toks)
            prior.append(p)
            is_alias.append(alias)
    return NameIndex(party_idx, texts, tokens, prior, is_alias).finish()


# ------------------------------------------------------------------------------------------- DuckDB cache


@dataclass
class CachedList:
    plist: PartyList
    index: NameIndex
    from_cache: bool


def _table_suffix(content_hash: str) -> str:
    return content_hash[:16] + "_" + INDEX_VERSION


def load_or_build(plist_loader, content_hash: str, path: Path | None) -> CachedList:
    """Return parties and index for a list version, from the cache when the content hash is known.

    `plist_loader` is only called on a cache miss. A cache that cannot be opened (read-only disk, another
    process holding the lock) is not an error: the index is built in memory and the reason is noted.
    """
    suffix = _table_suffix(content_hash)
    con = None
    note = None
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(path))
        except (duckdb.Error, OSError) as exc:
            note = f"screening cache {path} unavailable ({exc.__class__.__name__}); index built in memory"
    try:
        if con is not None:
            con.execute(
                "create table if not exists list_versions (content_hash varchar primary key, "
                "list_date date, list_date_basis varchar, source varchar, format varchar, "
                "built_at timestamp, index_version varchar)"
            )
            rows = con.execute(
                "select list_date, list_date_basis, source, format from list_versions "
                "where content_hash = ? and index_version = ?",
                [content_hash, INDEX_VERSION],
            ).fetchall()
            row = rows[0] if rows else None
            if row is not None:
                frame = pl.from_arrow(con.sql(f"select * from parties_{suffix} order by rowid").to_arrow_table())
                assert isinstance(frame, pl.DataFrame)
                parties = frame.select(list(PARTY_SCHEMA)).cast(PARTY_SCHEMA)
                names = con.sql(f"select * from names_{suffix} order by name_id").to_arrow_table()
                index = NameIndex(
                    party_idx=names.column("party_idx").to_pylist(),
                    texts=names.column("text").to_pylist(),
                    tokens=[tuple(t) for t in names.column("tokens").to_pylist()],
                    prior=names.column("prior").to_pylist(),
                    is_alias=names.column("is_alias").to_pylist(),
                ).finish()
                plist = PartyList(
                    parties=parties,
                    list_date=row[0],
                    source=row[2],
                    format=row[3],
                    content_hash=content_hash,
                    list_date_basis=row[1],
                )
                return CachedList(plist, index, True)
        plist = plist_loader()
        index = build_index(plist.parties)
        if note:
            plist.notes.append(note)
        if con is not None:
            _store(con, plist, index, suffix)
        return CachedList(plist, index, False)
    finally:
        if con is not None:
            con.close()


def _store(con: duckdb.DuckDBPyConnection, plist: PartyList, index: NameIndex, suffix: str) -> None:
    names = pl.DataFrame(
        {
            "name_id": list(range(len(index))),
            "party_idx": index.party_idx,
            "text": index.texts,
            "tokens": [list(t) for t in index.tokens],
            "prior": index.prior,
            "is_alias": index.is_alias,
        },
        schema={
            "name_id": pl.Int32,
            "party_idx": pl.Int32,
            "text": pl.String,
            "tokens": pl.List(pl.String),
            "prior": pl.Float64,
            "is_alias": pl.Boolean,
        },
    )
    parties = plist.parties
    con.register("parties_in", parties.to_arrow())
    con.register("names_in", names.to_arrow())
    con.execute("begin")
    con.execute(f"create or replace table parties_{suffix} as select * from parties_in")
    con.execute(f"create or replace table names_{suffix} as select * from names_in")
    con.execute("delete from list_versions where content_hash = ?", [plist.content_hash])
    con.execute(
        "insert into list_versions values (?, ?, ?, ?, ?, now(), ?)",
        [
            plist.content_hash,
            plist.list_date,
            plist.list_date_basis,
            plist.source,
            plist.format,
            INDEX_VERSION,
        ],
    )
    # keep the three most recent list versions; older ones are only disk
    old = con.execute(
        "select content_hash, index_version from list_versions order by built_at desc offset 3"
    ).fetchall()
    for h, v in old:
        s = h[:16] + "_" + v
        con.execute(f"drop table if exists parties_{s}")
        con.execute(f"drop table if exists names_{s}")
        con.execute("delete from list_versions where content_hash = ?", [h])
    con.execute("commit")
    con.unregister("parties_in")
    con.unregister("names_in")


def list_date_of(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
