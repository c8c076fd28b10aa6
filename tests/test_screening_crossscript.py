"""Cross-script screening: each language path reaches list entries the native-name table does not hold;
aliases read from primary names; list ranking for a licence decision; screening as of today."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from carveout.screening import Screener
from carveout.screening.cli import app
from carveout.screening.crossscript import (
    branch_variants,
    latin_variants,
    renderings,
    wade_giles_to_pinyin,
)
from carveout.screening.normalize import name_variants, native_names
from carveout.screening.screener import query_forms


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    return Screener(index_path=tmp_path_factory.mktemp("idx") / "screening.duckdb", ownership=None)


def _not_in_alias_table(text: str) -> None:
    """The test is only meaningful when no native-table entry covers any part of the query."""
    assert not any(row.native in text for row in native_names())


def _top(full: Screener, query: str, country: str | None = None):
    res = full.screen(query, country, limit=3)
    assert res.matches, query
    return res, res.matches[0]


def test_chinese_name_reaches_translated_entry_outside_alias_table(full: Screener) -> None:
    # Telixin Electronics Technology Co., Ltd.: 电子 -> electronics and 科技 -> technology come from the
    # CC-CEDICT glossary, 特力信 is read in pinyin
    query = "特力信电子科技有限公司"
    _not_in_alias_table(query)
    res, top = _top(full, query, "CN")
    assert top.name == "Telixin Electronics Technology Co., Ltd."
    assert res.status == "match"


def test_chinese_rendering_translates_generic_words_and_spells_the_rest() -> None:
    forms = renderings("南通亿宏新材料有限公司")
    assert any("material" in f and "nantong" in f for f in forms)
    assert any("yihong" in f for f in forms)


def test_hangul_dprk_name_reaches_english_entry(full: Screener) -> None:
    query = "조선련봉총회사"  # Korea + Ryonbong (McCune-Reischauer) + General Corporation
    _not_in_alias_table(query)
    res, top = _top(full, query, "KP")
    assert top.name.upper() == "KOREA RYONBONG GENERAL CORPORATION"
    assert res.status == "match"
    # the explanation says which rendering of the Hangul scored
    assert top.features.read_as and "ryonbong" in top.features.read_as and "read as" in top.explanation


def test_hangul_personal_name_matches_syllables(full: Screener) -> None:
    res, top = _top(full, "조선광업개발무역회사", "KP")
    assert top.name.upper() == "KOREA MINING DEVELOPMENT TRADING CORPORATION"
    assert res.status == "match"


def test_pinyin_name_with_legal_form_words(full: Screener) -> None:
    # "Dianzi Keji Youxian Gongsi" = Electronics Technology Co., Ltd. written in pinyin
    res, top = _top(full, "Telixin Dianzi Keji Youxian Gongsi", "CN")
    assert top.name == "Telixin Electronics Technology Co., Ltd."
    assert res.status == "match"


def test_romanised_korean_words_are_translated(full: Screener) -> None:
    res, top = _top(full, "Choson Ryonbong Chonghoesa", "KP")
    assert top.name.upper() == "KOREA RYONBONG GENERAL CORPORATION"


@pytest.mark.parametrize(("wg", "pinyin"), [("hsin", "xin"), ("ch'ing", "qing"), ("chiang", "jiang"), ("tung", "dong")])
def test_wade_giles_syllables(wg: str, pinyin: str) -> None:
    assert wade_giles_to_pinyin(wg) == pinyin


def test_wade_giles_name_gets_a_pinyin_form() -> None:
    assert latin_variants("Chiang-su Heng-tung Marine Cable Systems Co.")[-1].startswith("jiangsu hengdong")


def test_branch_and_city_suffixes_are_cut() -> None:
    assert branch_variants("Megvii Technology Limited Beijing Branch")
    assert branch_variants("MARINOVA FREIGHT LIMITED Tianjin") == ["MARINOVA FREIGHT LIMITED"]
    assert branch_variants("CHINA MOBILE LIMITED") == []


def test_aliases_read_from_primary_names() -> None:
    forms = {
        text: alias for text, _, alias in name_variants("Semiconductor Manufacturing International Corporation (SMIC)")
    }
    assert forms.get("SMIC") is True
    # a parenthesised city is not an acronym of the name's initials
    assert "Hong Kong" not in {t for t, _, _ in name_variants("China Unicom (Hong Kong) Limited")}
    aka = {
        t for t, _, a in name_variants("LTS Holding Limited (f.k.a. IPP-International Petroleum Products Ltd.)") if a
    }
    assert aka == {"IPP-International Petroleum Products Ltd"}
    dba = {t for t, _, a in name_variants("SIBERIAN AIRLINES D/B/A S7 AIRLINES") if a}
    assert dba == {"S7 AIRLINES"}


def test_smic_ranks_the_entity_list_first(full: Screener) -> None:
    res = full.screen("SMIC", "CN", limit=3)
    assert res.matches[0].list_code == "EL"
    assert "Semiconductor Manufacturing International Corporation (SMIC)" in [m.name for m in res.matches]


def test_stale_list_is_flagged_against_as_of(full: Screener) -> None:
    late = full.screen("Huawei Technologies", "CN", as_of=date(2026, 12, 1))
    assert any("days older" in n for n in late.notes)
    fresh = full.screen("Huawei Technologies", "CN", as_of=date(2026, 8, 15))
    assert not any("days older" in n for n in fresh.notes)


def test_cli_screens_as_of_today(monkeypatch: pytest.MonkeyPatch, full: Screener, tmp_path: Path) -> None:
    import carveout.screening.cli as cli

    seen = {}
    real = full.screen

    def spy(name, country=None, as_of=None, limit=5):
        seen["as_of"] = as_of
        return real(name, country, as_of, limit)

    monkeypatch.setattr(cli, "_screener", lambda *_: full)
    monkeypatch.setattr(full, "screen", spy)
    res = CliRunner().invoke(app, ["screen", "Yangtze Memory Tech", "--country", "CN"])
    assert res.exit_code == 0, res.output
    assert seen["as_of"] == date.today()


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("Acme Trading LLC f/k/a Widget Works LLC", "Widget Works LLC"),
        ("Zeta GmbH, previously known as Alpha Beta GmbH", "Alpha Beta GmbH"),
        ("Foo Bar Ltd (formerly: Baz Qux Co., Ltd.)", "Baz Qux Co., Ltd"),
        ("X Corp (Former name: Y Industries Corp)", "Y Industries Corp"),
        ("OAI (OPTICAL ASSOCIATES, INC)", "OPTICAL ASSOCIATES, INC"),
    ],
)
def test_former_and_bracketed_names_become_aliases(name: str, alias: str) -> None:
    assert alias in {t for t, _, a in name_variants(name) if a}


@pytest.mark.parametrize(
    "name",
    ["Solar Way (Hong Kong) Ltd.", "A. ROSENTHAL (PTY) LTD.", "China Communications Construction Group (Limited)"],
)
def test_bracketed_city_or_legal_form_is_no_alias(name: str) -> None:
    assert not [t for t, _, a in name_variants(name) if a]


def test_former_name_reaches_its_entry(full: Screener) -> None:
    res = full.screen("IPP-International Petroleum Products Ltd", limit=1)
    assert res.status == "match" and res.matches[0].name.startswith("LTS Holding Limited")
    assert res.matches[0].features.alias_hit


def test_short_hangul_word_is_also_read_as_a_personal_name(full: Screener) -> None:
    # 신용 is also the glossary word "credit"; as a whole three-syllable word it is the name Sin Yong Il
    res = full.screen("신용일", "KP", limit=1)
    assert res.status != "clear" and res.matches[0].name == "SIN, Yong Il"


def test_russian_dzh_folds_to_j() -> None:
    from carveout.screening.index import rom_fold

    assert rom_fold("dzhetkom") == rom_fold("jetcom")
    assert rom_fold("fdzhord") == rom_fold("fjord")


def test_branch_cut_tries_a_one_word_city_and_a_bracketed_place_before_the_legal_form() -> None:
    assert "PARSIAN BANK" in branch_variants("PARSIAN BANK Dubai Branch")
    assert "Sugon Co., Ltd" in branch_variants("Sugon (Guangzhou) Co., Ltd.")
    assert branch_variants("CHINA MOBILE LIMITED") == []


# ------------------------------------------------------------- forms the list never prints (issue #13, session 4)


def test_a_character_read_the_less_usual_way_still_reaches_the_name(full: Screener) -> None:
    # 约 is "yue" first and "yao" as a surname; pypinyin puts yue first
    assert "yao hua tao" in renderings("约话套")
    res = full.screen("约话套", "CN", limit=1)
    assert res.status != "clear" and res.matches[0].name == "YAO, Huatao"


def test_korean_words_in_word_level_mcCune_reischauer_are_translated() -> None:
    from carveout.screening.crossscript import latin_words

    words = latin_words()
    # voiced and assimilated across the syllables, as DPRK names are printed: 석유 sogyu, 관리 kwalli, 합영 habyong
    assert words["sogyu"] == "oil" and words["kwalli"] == "management" and words["habyong"] == "joint venture"
    assert words["sokyu"] == "oil"  # syllable by syllable still works


def test_romanised_korean_company_with_word_level_spellings(full: Screener) -> None:
    res = full.screen("Songwon Haeun Kwalli", "KP", limit=1)
    assert res.status != "clear" and res.matches[0].name == "SONGWON SHIPPING & MANAGEMENT"


@pytest.mark.parametrize(
    ("query", "country", "name"),
    [
        ("Gim Jol Nam", "KP", "KIM, Chol Nam"),  # RR g/j for MR k/ch: found by the folded pre-ranking
        ("Gim Ilnam", None, "KIM, Il-Nam"),  # and the syllables the list splits, joined
    ],
)
def test_revised_romanization_reaches_the_mccune_reischauer_entry(
    full: Screener, query: str, country: str | None, name: str
) -> None:
    res = full.screen(query, country, limit=1)
    assert res.status != "clear" and res.matches[0].name == name


def test_a_legal_word_with_two_slips_does_not_hide_the_name(full: Screener) -> None:
    # normalize snaps one slip back to the legal word; two ("LIeMITDE") or an OCR "rn" left a rare word that
    # both outweighed the name and looked like a different party
    for query, name in [
        ("SAM AIR CORPORATION LIeMITDE", "SAM AIR CORPORATION LIMITED"),
        ("Narpel Technology Co., L1rnited", "Narpel Technology Co., Limited"),
        ("TOKENTRUST HOLDINGS LIMETD", "TOKENTRUST HOLDINGS LIMITED"),  # two slips in six letters
    ]:
        res = full.screen(query, limit=1)
        assert res.status == "match" and res.matches[0].name == name, query


def test_a_syllable_of_a_split_name_is_no_abbreviation_of_a_long_word(full: Screener) -> None:
    # "chang xin" (长鑫, CXMT, not listed) must not reach Yangtze Memory's alias "changjiang ..." through "chang"
    res = full.screen("长鑫存储技术有限公司", "CN", limit=3)
    assert res.status != "match"
    assert all("abbreviation chang~" not in m.explanation for m in res.matches)


@pytest.mark.parametrize(
    ("query", "country", "name"),
    [
        # 集成电路 in pinyin is "integrated circuit", not a legal form to drop (a wrong "match" to Chengdu Yaguang)
        ("Chengdu Haiguang Jicheng Dianlu", "CN", "Chengdu Haiguang Integrated Circuit"),
        # 航天 is "aerospace" in the names of CASC and CASIC, not CC-CEDICT's "space flight" (zh_list_usage.csv)
        ("Shaanxi Hangtian Kexue Keji Youxian Gongsi", None, "Shaanxi Aerospace Science and Technology Co., Ltd."),
        # КБ = design bureau; кс = x
        (
            "Акционерное общество Спекиал КБ Оф Компутер Енгинееринг",
            "RU",
            "Joint Stock Company Special Design Bureau of Computer Engineering",
        ),
        ("Дексиас ООО", None, "DEXIAS LIMITED LIABILITY COMPANY"),
        # 총 as a word of its own is "general"
        ("조선 절산 총 무역회사", None, "KOREA CHOLSAN GENERAL TRADING CORPORATION"),
    ],
)
def test_words_whose_list_english_differs_from_a_dictionary_gloss(
    full: Screener, query: str, country: str | None, name: str
) -> None:
    res = full.screen(query, country, limit=1)
    assert res.status != "clear" and res.matches[0].name.upper() == name.upper()


def test_list_usage_words_carry_their_source() -> None:
    from carveout.screening.crossscript import _csv, zh_words

    rows = _csv("zh_list_usage.csv")
    assert rows and all(r["source"].strip() for r in rows)
    assert zh_words()["航天"] == ("aerospace", True)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("8e5t Kornp Group", "Best Komp Group"),  # no word survives as itself: blocking reads the OCR folds
        ("KHIMINA, Yc1cna", "KHIMINA, Yelena"),  # c read for e
    ],
)
def test_ocr_look_alikes_reach_the_name(full: Screener, query: str, name: str) -> None:
    res = full.screen(query, limit=1)
    assert res.status != "clear" and res.matches[0].name == name


def test_an_unknown_word_splits_only_where_a_listed_name_prints_it_as_two(full: Screener) -> None:
    from carveout.screening.screener import _split_word

    ix = full.index
    assert _split_word("ilnam", ix) == ("il", "nam")  # "KIM, Il-Nam"
    assert len(_split_word("bilhun", ix)) == 2  # "KANG, P'il-Hun", romanisation folded
    assert _split_word("boyuan", ix) == ("boyuan",)  # no listed name prints "Bo Yuan": a rare word stays rare
    res = full.screen("Beijing Boyuan Intelligent Technology Co., Ltd.", "CN", limit=1)
    assert res.status != "match"  # Beijing Yuanyin Intelligent Technology is another company


def test_a_former_name_ends_at_a_comma_unless_a_legal_form_follows() -> None:
    aliases = lambda n: [t for t, _, a in name_variants(n) if a]  # noqa: E731
    assert "ABC Trading" in aliases("X Corp a.k.a. ABC Trading, DEF Group")
    assert "IPP-International Petroleum Products Ltd" in aliases(
        "LTS Holding Limited (formerly IPP-International Petroleum Products Ltd, Dubai)"
    )
    assert aliases("Y Ltd (f.k.a. Z Trading Co., Ltd.)") == ["Z Trading Co., Ltd"]


def test_a_korean_syllable_in_cyrillic_reaches_its_two_letter_spelling(full: Screener) -> None:
    """Хо transliterates to 'kho'; the list spells the syllable 'Ho'. The romanisation fold (kh -> h) reaches a
    listed word of two letters too: 'Ким Хо Кю' is KIM, Ho Kyu, not KIM, Kyu."""
    res = full.screen("Ким Хо Кю", limit=2)
    assert res.status == "match" and res.matches[0].name == "KIM, Ho Kyu"


def test_general_before_a_korean_glossary_word_inside_one_word(full: Screener) -> None:
    """총 is 'general' inside a word when a glossary word follows (총무역회사 = general trading corporation); it
    was glued to the name before it ('cholsanchong'). The entity is not in the native-name table."""
    res = full.screen("조선절산총무역회사", limit=1)
    assert res.status != "clear" and res.matches[0].name == "KOREA CHOLSAN GENERAL TRADING CORPORATION"


@pytest.mark.parametrize(
    ("query", "country", "listed"),
    [
        # an address run on after the legal form without a comma: 'Bantian' outweighed the whole name (clear 0.04)
        ("Huawei Technologies Co., Ltd. Bantian, Longgang District, Shenzhen 518129, China", "CN",
         "Huawei Technologies Co., Ltd."),
        ("Fadjr Marine Industries, Moscow, Russia", "IR", "Fadjr Marine Industries"),  # city and country after it
        ("KIM, Chol Nam, Pyongyang, DPRK", None, "KIM, Chol Nam"),
    ],
)
def test_a_place_after_the_name_is_read_away(full: Screener, query: str, country: str | None, listed: str) -> None:
    res = full.screen(query, country, limit=1)
    assert res.status == "match" and res.matches[0].name.lower().startswith(listed.lower())


def test_place_forms_keep_two_words_of_a_name() -> None:
    from carveout.screening.crossscript import place_variants

    assert "PAN, Hao" in place_variants("PAN, Hao, China")
    assert "PAN" not in place_variants("PAN, Hao, China")  # 'Hao' is no city to cut: one word would be left
    assert place_variants("Fadjr Marine Industries, Moscow") == []  # no country: the last segment may be a name


@pytest.mark.parametrize(
    ("native", "listed"),
    [
        ("哈尔滨工业大学", "Harbin Institute of Technology"),
        ("北京航空航天大学", "Beijing University of Aeronautics and Astronautics (BUAA)"),
        ("西北工业大学", "Northwestern Polytechnical University"),
    ],
)
def test_defence_universities_in_chinese_reach_their_entries(full: Screener, native: str, listed: str) -> None:
    """Their English names are not word-for-word translations (工业大学 = Institute of Technology or Polytechnical
    University), so they are in the native-name table, each with its source; all were 'clear' before."""
    res = full.screen(native, "CN", limit=1)
    assert res.status == "match" and res.matches[0].name == listed


def test_hangul_beside_brackets_is_read_not_raised(full: Screener) -> None:
    """ko-pron builds regular expressions from its input: '조선련봉총회사(평양)' raised re.error from inside it. The
    romanisers now get Hangul runs only."""
    res = full.screen("조선련봉총회사(평양)", "KP", limit=1)
    assert res.status != "clear" and res.matches[0].name == "KOREA RYONBONG GENERAL CORPORATION"
    for odd in ("F조)", "조(", "선[*+?", "(조선)"):
        assert full.screen(odd).status in ("match", "possible", "clear")


def test_a_name_no_renderer_can_read_goes_to_review(full: Screener, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: if a rendering library raises on a name, `screen` and `screen_frame` send it to review with the
    reason, and the rest of the batch is screened."""
    import polars as pl

    from carveout.screening import crossscript

    def broken(text: str) -> list[str]:
        raise ValueError("renderer broke")

    monkeypatch.setattr(crossscript, "renderings", broken)
    name = "华为技术有限公司 (unread test name)"
    res = full.screen(name)
    assert res.status == "possible" and any("renderer broke" in n for n in res.notes)
    out = full.screen_frame(pl.DataFrame({"name": [name, "Huawei Technologies Co., Ltd."]}), workers=1)
    assert out["screen_status"].to_list() == ["possible", "match"]


_MIXED = "abcXYZ019 ,;/-–.()[]{}*+?|^$\\'&\"华为有限公司조선총무역회사КимХо（）【】ㄱㅏ"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=_MIXED, max_size=40))
def test_any_name_is_screened_and_nothing_unreadable_is_clear(full: Screener, name: str) -> None:
    """Every door screens through `screen`/`screen_frame`: no text may raise, and a name with nothing to compare
    (empty, punctuation only, unreadable) goes to review, never 'clear'."""
    res = full.screen(name, limit=1)
    assert res.status in ("match", "possible", "clear")
    if not query_forms(name):
        assert res.status == "possible"
