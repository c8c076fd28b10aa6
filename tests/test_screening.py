"""Restricted-party screening: loaders, normalisation, blocking, scoring, screen_frame and the CLI."""

from __future__ import annotations

import shutil
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from carveout.screening import (
    T_HIGH,
    ListFormatError,
    Screener,
    load_list,
    normalize,
    parse_footnote,
)
from carveout.screening.cli import app, lists_app
from carveout.screening.index import build_index
from carveout.screening.normalize import to_latin
from carveout.screening.screener import _Form, _query_forms, _raw_similarity, _token_tables, compare

FIX = Path(__file__).parent / "fixtures" / "screening"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def full(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    """The packaged CSL snapshot, indexed once per session into a throwaway DuckDB cache."""
    return Screener(index_path=tmp_path_factory.mktemp("idx") / "screening.duckdb")


# ------------------------------------------------------------------------------------------------ loaders


def test_packaged_default_list_loads_with_dates_and_footnotes() -> None:
    plist = load_list()
    assert plist.format == "csl_compact"
    assert len(plist) == 25_921
    assert plist.list_date == date(2026, 7, 31)
    counts = dict(plist.counts_by_list().rows())
    assert counts["EL"] == 3_420 and counts["SDN"] == 19_181
    p = plist.parties
    ymtc = p.filter((pl.col("name") == "Yangtze Memory Technologies Co., Ltd.") & (pl.col("list_code") == "EL"))
    assert ymtc["listed_since"].item() == date(2022, 12, 19)
    smic = p.filter(pl.col("name").str.starts_with("Semiconductor Manufacturing International (Beijing)"))
    assert smic["el_footnote"].item() == 5
    huawei = p.filter(pl.col("name").str.starts_with("Huawei Technologies Co., Ltd.") & (pl.col("list_code") == "EL"))
    assert set(huawei["el_footnote"].to_list()) == {1}
    assert p["party_id"].n_unique() == p.height


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("For all items subject to the EAR. (See §§ 734.9(e)(2) and 744.11 of the EAR)4", 4),
        ("For all items subject to the EAR. (See §§ 734.9(e)(2) and 744.11 of the EAR) 4", 4),
        ("For all items subject to the EAR. (See §§734.4(a)(9), 734.9(e)(3), and 744.11 of the EAR)5", 5),
        ("For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 of the EAR2", 1),
        ("For all items subject to the EAR. (See §§ 734.9(g),3 746.8(a)(3), and 744.21(b) of the EAR)", 3),
        ("For all items subject to the EAR. (See §744.11 of the EAR).", None),
        ("For all items subject to the EAR. (See §§ 734.9(e)(2) and 744.11 of the EAR)", None),
        (None, None),
    ],
)
def test_footnote_parsing(text: str | None, expected: int | None) -> None:
    assert parse_footnote(text) == expected


def test_tradegov_json_loader() -> None:
    plist = load_list(FIX / "tradegov_consolidated.json")
    assert plist.format == "tradegov_json" and plist.list_date == date(2026, 7, 31)
    rows = {r["party_id"]: r for r in plist.parties.to_dicts()}
    eac = rows["e6b9b0f1c2"]
    assert eac["list_code"] == "EL" and eac["el_footnote"] == 4 and eac["countries"] == ["CN"]
    assert eac["listed_since"] == date(2023, 10, 19) and eac["aliases"] == ["EAC", "Shili Xinpian"]
    assert "Shenzhen" in eac["addresses"][0]
    fab = rows["a11c0de222"]
    assert fab["el_footnote"] == 5 and fab["listed_since"] == date(2020, 12, 22)  # from the FR notice
    assert rows["31337"]["list_code"] == "SDN" and rows["31337"]["el_footnote"] is None


def test_tradegov_csv_loader_matches_json() -> None:
    plist = load_list(FIX / "tradegov_consolidated.csv")
    assert plist.format == "tradegov_csv"
    eac = plist.parties.filter(pl.col("party_id") == "e6b9b0f1c2").row(0, named=True)
    assert eac["el_footnote"] == 4 and eac["aliases"] == ["EAC", "Shili Xinpian"] and eac["countries"] == ["CN"]
    assert plist.list_date == date.fromtimestamp((FIX / "tradegov_consolidated.csv").stat().st_mtime)


def test_opensanctions_ftm_loader_skips_non_parties() -> None:
    plist = load_list(FIX / "opensanctions.ftm.jsonl")
    assert plist.format == "ftm" and len(plist) == 2
    codes = dict(zip(plist.parties["party_id"], plist.parties["list_code"], strict=True))
    assert codes == {"NK-example1": "CSL", "NK-example2": "SDN"}
    assert plist.parties.filter(pl.col("party_id") == "NK-example2")["countries"].item().to_list() == ["RU"]


@pytest.mark.parametrize(
    ("name", "line", "field"),
    [
        ("malformed_tradegov.json", 5, "start_date"),
        ("malformed_syntax.json", 3, None),
        ("malformed.ftm.jsonl", 2, "properties.name"),
        ("malformed.csv", 3, "name"),
    ],
)
def test_malformed_files_name_file_line_and_field(name: str, line: int, field: str | None) -> None:
    with pytest.raises(ListFormatError) as err:
        load_list(FIX / name)
    assert err.value.line == line and err.value.field == field
    assert name in str(err.value) and f"line {line}" in str(err.value)


# ------------------------------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("华为技术有限公司", ("huawei", "technology")),
        ("中芯国际集成电路制造有限公司", ("semiconductor", "manufacturing", "international")),
        ("长江存储科技有限责任公司", ("yangtze", "memory", "technology")),
        ("北京中科晶源科技有限公司", ("beijing", "zhongke", "jingyuan", "technology")),
        ("삼성전자 주식회사", ("samsung", "electronic")),
        ("SK하이닉스", ("sk", "hynix")),
        ("현대", ("hyeondae",)),
        ("HUAWEI TECH. CO., LTD (Shenzhen Branch)", ("huawei", "technology", "shenzhen")),
        ("Huawei Technologies Co., Ltd., No. 2 Bantian Road, Shenzhen", ("huawei", "technology")),
        ("Semiconductor Mfg Intl Corp", ("semiconductor", "manufacturing", "international")),
        ("Win Key Limeited", ("win", "key")),
        ("OOO Sberbank", ("sberbank",)),
        ("Сбербанк", ("sberbank",)),
        ("Société Générale S.A.", ("societe", "generale")),
        ("Example GmbH & Co. KG", ("example",)),
    ],
)
def test_normalisation(raw: str, tokens: tuple[str, ...]) -> None:
    assert normalize(raw) == tokens


def test_native_names_are_sourced() -> None:
    from carveout.screening.normalize import native_names

    rows = native_names()
    assert len(rows) >= 11 and all(r.source.startswith("http") for r in rows)
    assert to_latin("寒武纪").strip() == "Cambricon"


# ------------------------------------------------------------------------------------- blocking + scoring


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("Yangtze Memroy Technologies", "Yangtze Memory Technologies Co., Ltd."),
        ("Technologies Yangtze Memory", "Yangtze Memory Technologies Co., Ltd."),
        ("Hua Wei Technologies", "Huawei Technologies Co., Ltd. (Huawei)"),
        ("Cambrlcon Technologies Corp", "Cambricon Technologies Corporation Limited"),
        ("Moore Threads Intelligent Tech (Beijing)", "Moore Thread Intelligent Technology (Beijing) Co., Ltd."),
    ],
)
def test_blocking_returns_true_party_among_few_candidates(full: Screener, query: str, listed: str) -> None:
    ix = full.index
    forms = _query_forms(normalize(query), ix)  # "hua wei" is also tried as "huawei"
    cands = [n for q in forms for n in ix.candidates(q, 40)]
    assert len(cands) <= 80 < len(ix) // 100
    names = {full._rows[ix.party_idx[n]]["name"] for n in cands}
    assert listed in names


def _reference_candidates(ix, tokens: tuple[str, ...], k: int = 40) -> list[int]:
    """candidates() written plainly: keys read rarest first until enough names are in hand; a name's weight is,
    for each query word (and neighbour pair), the weight of the rarest key of that word it shares; then a stable
    sort by total weight."""
    from carveout.screening.index import MAX_DERIVED_POSTING, MAX_POSTING

    groups = ix.query_key_groups(tokens)
    found = [(len(ix.postings[key]), key, g) for g, keys in enumerate(groups) for key in keys if key in ix.postings]
    usable = [f for f in found if f[0] <= (MAX_POSTING if f[1][1:2] != ":" else MAX_DERIVED_POSTING)]
    if not usable and found:
        usable = [min(found)]
    best: dict[tuple[int, int], float] = {}
    order: dict[int, int] = {}  # name -> when first reached
    for n, key, g in sorted(usable):
        if len(order) >= 4 * k and n > 200:
            break
        for nid in ix.postings[key]:
            order.setdefault(nid, len(order))
            best[(g, nid)] = max(best.get((g, nid), 0.0), ix.key_idf[key])
    acc = {nid: 0.0 for nid in order}
    for (_, nid), w in best.items():  # in the order first reached, as candidates() adds them
        acc[nid] += w
    for nid in ix.exact.get(tokens, ()):
        acc[nid] = acc.get(nid, 0.0) + 100.0
    return sorted(acc, key=acc.__getitem__, reverse=True)[:k]


def test_candidates_equal_the_plain_accumulation(full: Screener) -> None:
    """The shortcuts in NameIndex.candidates (one-key words skip deduplication) change nothing in the result."""
    ix = full.index
    queries = [r.split(",")[0] for r in (ROOT / "eval" / "screening" / "dev.csv").read_text().splitlines()[1:]]
    queries += ["technology", "china technology", "electronic technology co", "global trading", "ivan"]
    for q in queries:
        for qv in _query_forms(normalize(q), ix):
            for k in (12, 40):
                assert ix.candidates(qv, k) == _reference_candidates(ix, qv, k), (q, k)


@pytest.mark.parametrize(
    "query",
    [
        "Yangtze Memroy Technologies",
        "Hua Wei Technologies",
        "IMCO Technology and Serv1ces",
        "Sberbank Rossii",
        "Cambrlcon",
    ],
)
def test_fast_scoring_equals_compare(full: Screener, query: str) -> None:
    """The per-candidate fast path (token tables built by C-speed scans) scores exactly like `compare`."""
    ix = full.index
    for qv in _query_forms(normalize(query), ix):
        cands = ix.candidates(qv, 40)
        tables = _token_tables(qv, list(dict.fromkeys(u for n in cands for u in ix.tokens[n])), ix)
        form = _Form(qv, ix)
        for n in cands:
            fast = _raw_similarity(
                form, tables, ix.tokens[n], ix.token_weights[n], ix.weight_sums[n], ix.compact[n], ix.sorted_compact[n]
            )
            assert fast == compare(qv, ix.tokens[n], ix)[0], ix.texts[n]


@pytest.mark.parametrize(
    ("query", "country", "list_code", "name_part"),
    [
        ("华为技术有限公司", "CN", "EL", "Huawei Technologies"),
        ("中芯国际", "CN", "EL", "Semiconductor Manufacturing International"),
        ("YMTC", "CN", "EL", "Yangtze Memory"),
        ("寒武纪", "CN", "EL", "Cambricon"),
        ("Sberbank Rossii", "RU", "SDN", "SBERBANK"),
    ],
)
def test_screen_finds_listed_parties(full: Screener, query: str, country: str, list_code: str, name_part: str):
    res = full.screen(query, country)
    assert res.status == "match" and res.score >= T_HIGH
    top = res.matches[0]
    assert top.list_code == list_code and name_part.lower() in top.name.lower()
    assert res.list_date == date(2026, 7, 31)
    assert top.features.exact_tokens and top.explanation


@pytest.mark.parametrize(
    ("query", "country"),
    [
        ("Samsung Electronics Co., Ltd.", "KR"),
        ("삼성전자", "KR"),
        ("SK하이닉스", "KR"),
        ("长鑫存储技术有限公司", "CN"),
        ("Taiwan Semiconductor Manufacturing Company", "TW"),
        ("Cambrian College", "CA"),
    ],
)
def test_hard_non_matches_are_not_matches(full: Screener, query: str, country: str) -> None:
    assert full.screen(query, country).status != "match"


def test_country_is_evidence(full: Screener) -> None:
    same = full.screen("Yangtze Memory Technologies", "CN").matches[0]
    other = full.screen("Yangtze Memory Technologies", "BR").matches[0]
    assert same.features.country == "match" and other.features.country == "mismatch"
    assert same.score > other.score


def test_as_of_before_listing_does_not_count(full: Screener) -> None:
    res = full.screen("Moore Thread Intelligent Technology (Beijing) Co., Ltd.", "CN", as_of=date(2023, 1, 1))
    assert res.status == "clear" or all(not m.listed_at_as_of for m in res.matches if m.list_code == "EL")
    assert any(not m.listed_at_as_of for m in res.matches)


def test_index_is_cached_by_content_hash(tmp_path: Path) -> None:
    lst = tmp_path / "list.json"
    shutil.copy(FIX / "tradegov_consolidated.json", lst)
    idx = tmp_path / "cache.duckdb"
    assert Screener(lst, idx, None).from_cache is False
    again = Screener(lst, idx, None)
    assert again.from_cache is True and len(again.plist) == 3
    assert again.screen("Example Advanced Chips", "CN").status == "match"
    lst.write_text(lst.read_text().replace("PETROV, Ivan Example", "PETROV, Ivan Changed"))
    assert Screener(lst, idx, None).from_cache is False


# ------------------------------------------------------------------------------------------- screen_frame


def test_screen_frame_keeps_rows_and_order(full: Screener) -> None:
    frame = pl.read_csv(FIX / "parties.csv", infer_schema_length=0)
    out = full.screen_frame(frame)
    assert out.height == frame.height
    assert out["name"].to_list() == frame["name"].to_list()
    assert out["screen_status"].to_list() == ["match", "clear", "match", "clear", "possible", "clear"]
    assert out.schema["el_footnote"] == pl.Int8 and out.schema["listed_since"] == pl.Date
    assert out["screen_list"][0] == "EL" and out["el_footnote"][0] == 1
    assert set(out["list_date"].to_list()) == {date(2026, 7, 31)}


def test_screen_frame_with_as_of_column(full: Screener) -> None:
    frame = pl.DataFrame(
        {
            "name": ["Shanghai Biren Intelligent Technology Co., Ltd."] * 2,
            "country": ["CN", "CN"],
            "as_of": [date(2022, 1, 1), date(2024, 1, 1)],
        }
    )
    out = full.screen_frame(frame)
    assert out["screen_status"].to_list()[1] == "match" and out["screen_status"][0] != "match"


@pytest.mark.skipif(sys.platform != "linux", reason="the screen_frame pool forks, which is used on Linux only")
def test_screen_frame_process_pool_gives_identical_frame(full: Screener) -> None:
    names = ["Huawei Technologies Co Ltd", "Yangtze Memroy Tech", "Samsung Electronics", "", None, "华为技术有限公司"]
    frame = pl.DataFrame(
        {
            "name": (names * 8)[:45] + ["Sberbank Rossii"] * 5,
            "country": (["CN", None, "KR", "RU", None] * 10),
            "as_of": [date(2022, 1, 1), None, date(2027, 1, 1), None, None] * 10,
        }
    )
    seen: list[tuple[int, int]] = []
    pooled = full.screen_frame(frame, progress=lambda i, n: seen.append((i, n)), workers=2)
    assert pooled.equals(full.screen_frame(frame, workers=1))
    assert seen and seen[-1][0] == seen[-1][1] and [i for i, _ in seen] == sorted(i for i, _ in seen)


def test_index_builds_from_any_loader() -> None:
    ix = build_index(load_list(FIX / "opensanctions.ftm.jsonl").parties)
    assert len(ix) >= 3


# ------------------------------------------------------------------------------------------------- CLI


def test_cli_file_mode_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: Screener) -> None:
    import carveout.screening.cli as cli

    monkeypatch.setattr(cli, "_screener", lambda *_: full)
    out = tmp_path / "results.csv"
    res = CliRunner().invoke(app, ["screen", "--file", str(FIX / "parties.csv"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pl.read_csv(out, infer_schema_length=0)
    assert got.height == 6 and not list(tmp_path.glob(".results.csv.*"))


def test_cli_single_name_and_load(monkeypatch: pytest.MonkeyPatch, full: Screener) -> None:
    import carveout.screening.cli as cli

    monkeypatch.setattr(cli, "_screener", lambda *_: full)
    res = CliRunner().invoke(app, ["screen", "Yangtze Memory Tech", "--country", "CN"])
    assert res.exit_code == 0 and "MATCH" in res.output
    res = CliRunner().invoke(lists_app, ["load", str(FIX / "tradegov_consolidated.csv")])
    assert res.exit_code == 0 and "EL" in res.output
    res = CliRunner().invoke(lists_app, ["load", str(FIX / "malformed.csv")])
    assert res.exit_code == 2 and "line 3" in res.output


# ------------------------------------------------------------------------------------------- double typos


def test_two_slips_in_one_long_word_still_match_that_word() -> None:
    from carveout.screening.screener import TYPO_X2_SCORE, _token_match

    assert _token_match("zromroud", "zomoroud") == (TYPO_X2_SCORE, "fuzzy")  # 8 letters: 2 edits allowed
    assert _token_match("shonaku", "shoroku") == (TYPO_X2_SCORE, "fuzzy")
    # six letters allow one edit only: two different brand syllables are not a typo
    assert _token_match("jiarui", "jiashi")[0] == 0.0
    # three edits in eight letters are too many
    assert _token_match("zomxrxux", "zomoroud")[0] == 0.0


@pytest.mark.parametrize(("query", "listed"), [("ZrOMROUD", "ZOMOROUD"), ("ISHIDA, Shonaku", "ISHIDA, Shoroku")])
def test_double_typo_reaches_its_entry(full: Screener, query: str, listed: str) -> None:
    res = full.screen(query, limit=1)
    assert res.status != "clear" and res.matches[0].name == listed


def test_one_word_after_a_comma_is_a_given_name_not_an_address() -> None:
    assert normalize("PAN, Hao") == ("pan", "hao")
    assert normalize("KIM, Dong") == ("kim", "dong")
    assert normalize("Huawei Technologies Co., Ltd., No. 2 Road, Shenzhen") == ("huawei", "technology")


@pytest.mark.parametrize(
    ("listed", "tokens"),
    [
        ("CARO QUINTERO, Jose Gil", ("caro", "quintero", "jose", "gil")),  # 'gil' is also a Korean street word
        ("RI, Yong Gil", ("ri", "yong", "gil")),
        ("SU, Lu-Chi", ("su", "lu", "chi")),  # 'lu' is also a Chinese road
        ("HASSAN, Hameed ul", ("hassan", "hameed", "ul")),
    ],
)
def test_given_names_that_are_also_address_words_are_kept(listed: str, tokens: tuple[str, ...]) -> None:
    assert normalize(listed) == tokens


@pytest.mark.parametrize(
    "query", ["Acme Ltd, Gangnam-gu, Seoul", "Acme Ltd, Zhongshan Dong Lu, Shanghai", "Acme, Haidian District"]
)
def test_an_address_of_street_words_without_numbers_is_still_cut(query: str) -> None:
    assert normalize(query) == ("acme",)


def test_a_listed_individual_reordered_reaches_the_entry(full: Screener) -> None:
    """The given names of 'CARO QUINTERO, Jose Gil' were cut as an address ('gil' = Korean street): the query with
    every word of the name ranked the entry third-hand at 0.29."""
    res = full.screen("Jose Gil CARO QUINTERO", "MX", limit=1)
    assert res.status == "match" and res.matches[0].name == "CARO QUINTERO, Jose Gil"


def test_liability_alone_is_a_legal_word(full: Screener) -> None:
    res = full.screen("LIABILITY COMPANY CARBONTEX LIMITED", limit=1)
    assert res.status == "match" and res.matches[0].name == "LIMITED LIABILITY COMPANY CARBONTEX"


def test_distinctive_partial_name_reaches_its_entry_and_generic_one_does_not_match(full: Screener) -> None:
    res = full.screen("Huawei Technologies", "CN", limit=1)
    assert res.status == "match" and "huawei" in res.matches[0].name.lower()
    assert full.screen("ZOMOROUD", limit=1).matches[0].name == "ZOMOROUD"
    for generic in ("Technology Co", "International Trading Co., Ltd.", "Research and Production Company"):
        assert full.screen(generic).status != "match", generic


def test_one_edit_neighbours_of_an_unknown_word(full: Screener) -> None:
    ix = full.index
    assert "global" in ix.near_tokens("glrbal")  # substitution
    assert "tenglan" in ix.near_tokens("tenlan")  # deletion
    assert ix.near_tokens("global") == []  # a listed word needs no neighbours
    assert ix.near_tokens("mitgo") == [] or all(len(u) >= 5 for u in ix.near_tokens("mitgo"))


@pytest.mark.parametrize(
    ("query", "listed"),
    [("GLrBAL ENERGY COMPANY S.A.S.", "GLOBAL ENERGY COMPANY S.A.S."), ("TENLAN LIMITED", "TENGLAN LIMITED")],
)
def test_typo_that_breaks_every_blocking_key_still_reaches_its_entry(full: Screener, query: str, listed: str) -> None:
    res = full.screen(query, limit=1)
    assert res.status != "clear" and res.matches[0].name == listed


def test_two_slip_neighbours_of_a_long_unknown_word(full: Screener) -> None:
    ix = full.index
    assert "granpect" in ix.far_tokens("groanpesct")  # two insertions
    assert "aviazapchast" in ix.far_tokens("avsazaphcast")  # a substitution and a swap
    assert ix.far_tokens("glrbal") == []  # too short for two slips
    assert ix.far_tokens("granpect") == []  # a listed word needs no neighbours


@pytest.mark.parametrize(
    ("query", "listed"), [("Groanpesct Co. Ltd", "Granpect Co. Ltd"), ("Avsazaphcast PLC", "Aviazapchast PLC")]
)
def test_two_slips_that_break_every_blocking_key_still_reach_the_entry(full: Screener, query: str, listed: str) -> None:
    res = full.screen(query, limit=1)
    assert res.status != "clear" and res.matches[0].name.upper().rstrip(".") == listed.upper()


def test_a_distinctive_word_added_to_a_listed_name_is_not_covered_by_string_similarity(full: Screener) -> None:
    from carveout.screening.screener import _added_word

    assert _added_word("xinyuan", "chinaaerospacesciencetechnology")
    assert not _added_word("bsrajas", "rogeliobarajas")  # a typo of a listed word
    assert not _added_word("sip", "haejinshipmanagement")  # too short to judge
    # 90 % of the characters agree, but "Xinyuan" is a company CASC's name does not hold: review, not a match
    res = full.screen("中国新原航天科技公司", "CN", limit=1)
    assert res.status != "match"
    assert full.screen("Rogelio Bsrajas", limit=1).matches[0].name == "Rogelio Barajas"


def test_list_priority_does_not_put_a_different_party_before_an_exact_name(full: Screener) -> None:
    """The Entity List comes first for the same name on several lists (SMIC), not for another person one slip
    away: 'WANG, Dongliang' (dongming~dongliang) outranked the exact 'Dongming Wang'."""
    res = full.screen("DONGMING WANG", limit=2)
    assert res.matches[0].name == "Dongming Wang"
    smic = full.screen("SMIC", limit=2)
    assert smic.matches[0].list_code == "EL" and smic.matches[1].list_code != "EL"


@pytest.mark.parametrize(
    ("listed", "number"),
    [
        ("China Aerospace Science and Industry Corporation (CASIC) 3rd Academy, 31 Research Institute", "31"),
        ("Tactical Missile Corporation, 711 Aircraft Repair Plant (711 ARZ)", "711"),
        ("China Electronics Technology Group Corporation, 7th Research Institute (CETC-7)", "7th"),
    ],
)
def test_the_number_of_a_listed_unit_is_no_address(listed: str, number: str) -> None:
    """A comma segment with a number but no street word is part of the name: the list tells units apart by it."""
    assert number in normalize(listed)


@pytest.mark.parametrize("query", ["Acme, Beijing 100080", "Acme, P.O. Box 1234, Dubai", "Acme, No. 88 Keyuan Road"])
def test_a_numbered_address_is_still_cut(query: str) -> None:
    assert normalize(query) == ("acme",)


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        (
            "CHINA STATE SHIPBUILDING CORPORATION LIMITED (CSSC) 712TH RESEARCH INSTITUTE",
            "China State Shipbuilding Corporation, Limited (CSSC) 712th Research Institute",
        ),
        (
            "China Aerospace Science and Industry Corporation 3rd Academy, 33 Research Institute",
            "China Aerospace Science and Industry Corporation (CASIC) 3rd Academy, 33 Research Institute",
        ),
    ],
)
def test_a_numbered_unit_reaches_its_own_entry_not_its_neighbours(full: Screener, query: str, listed: str) -> None:
    """A number names one unit: 712th is no typo of 12th or 710th, and 33 is not 31 or 35."""
    res = full.screen(query, "CN", limit=3)
    assert res.status == "match" and res.matches[0].name == listed
    assert res.matches[1].score < res.matches[0].score


def test_a_common_word_votes_once_in_blocking(full: Screener) -> None:
    """'public' reaches 68 names through five keys of its own (itself, metaphone, romanisation, prefix, suffix);
    summed, they outweighed the one rare word of the name sought and left it out of the 40 candidates."""
    ix = full.index
    target = ix.postings["transkapitalbank"][0]
    assert target in ix.candidates(("public", "transkapitalbank"), 40)
    res = full.screen("Public Aktsionernoe Obshchestvo Transkapitalbank", "RU", limit=1)
    assert res.status != "clear" and res.matches[0].name == "PUBLIC JOINT STOCK COMPANY TRANSKAPITALBANK"


def test_dprk_reads_as_the_name_the_list_spells_out(full: Screener) -> None:
    assert normalize("Foreign Trade Bank of the DPRK") == normalize(
        "FOREIGN TRADE BANK OF THE DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA"
    )
    res = full.screen("Foreign Trade Bank of the DPRK", "KP", limit=1)
    assert res.status == "match" and res.matches[0].name.startswith("FOREIGN TRADE BANK OF THE DEMOCRATIC")


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("China State Shipbuilding Corporation 712 Research Institute", "712th Research Institute"),
        ("Joint Stock Company 75th Arsenal", "JOINT STOCK COMPANY 75 ARSENAL"),
    ],
)
def test_a_unit_number_matches_its_ordinal(full: Screener, query: str, listed: str) -> None:
    """'712' and '712th' name the same unit: the digit rule must not turn a written-out ordinal into a miss."""
    res = full.screen(query, limit=1)
    assert res.status == "match" and listed.lower() in res.matches[0].name.lower()
