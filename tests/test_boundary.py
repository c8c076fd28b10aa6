"""Regression tests for issue #10: unknown or malformed input never yields "no licence required".

Each test reproduces one finding of the independent check (they failed before ``carveout.boundary``):
unknown country codes, malformed declared ECCNs, a footnote without ``listed``, numbers in other
conventions, values that cannot take their type, misspelled keys, and CLI data loss.
"""

from __future__ import annotations

import copy
import json
import os

import polars as pl
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from carveout.api import check, frame_of
from carveout.batch import evaluate_ledger
from carveout.cli import app
from carveout.engine import evaluate
from carveout.io.ledger import read_ledger
from carveout.model import Transaction

runner = CliRunner()

# An H100-class chip from the U.S. to Singapore for a company headquartered in China: "yes" (744.23 /
# 742.6(a)(6) headquarters test); with an unknown headquarters code the old code answered "no".
HQ = {"date": "2025-02-10", "item": {"kind": "ic", "name": "H100", "tpp": 15832, "die_area_mm2": 814,
                                     "marketed_for_datacenter": True},
      "destination": "SG", "ship_from": "US", "origin": {"us_origin": True},
      "end_user": {"name": "Example Buyer Pte", "country": "SG", "headquarters_country": "CN"}}
TO_CN = {"date": "2025-02-10", "item": {"kind": "ic", "name": "H100", "tpp": 15832, "die_area_mm2": 814},
         "destination": "CN", "ship_from": "US", "origin": {"us_origin": True}}


def _with(base: dict, path: str, value: object) -> dict:
    t = copy.deepcopy(base)
    *parents, leaf = path.split(".")
    node = t
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    return t


def test_the_base_cases_need_a_licence():
    assert check(HQ).license_required == "yes"
    assert check(TO_CN).license_required == "yes"


@pytest.mark.parametrize(("path", "value"), [
    ("end_user.headquarters_country", "Q9"), ("end_user.headquarters_country", "XX"),
    ("end_user.headquarters_country", "UK"), ("end_user.headquarters_country", "  "),
    ("destination", "XX"), ("ship_from", "ZZ"), ("end_user.country", "EU"), ("exporter_hq_country", "A1"),
])
def test_unknown_country_codes_are_input_errors_naming_the_field(path, value):
    with pytest.raises(ValidationError) as exc:
        check(_with(HQ, path, value))
    text = str(exc.value)
    assert path.split(".")[-1] in text and repr(value) in text


def test_uk_suggests_gb():
    with pytest.raises(ValidationError, match="did you mean GB"):
        check(_with(HQ, "destination", "UK"))


@pytest.mark.parametrize("value", ["cn", " CN ", "Ｃ Ｎ".replace(" ", ""), "C\u200bN", "\ufeffcn"])
def test_case_whitespace_full_width_and_zero_width_are_normalised(value):
    t = Transaction.model_validate(_with(HQ, "end_user.headquarters_country", value))
    assert t.end_user.headquarters_country == "CN"
    assert check(t).license_required == "yes"


def test_cli_check_exits_2_naming_the_field(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps(_with(HQ, "end_user.headquarters_country", "Q9")))
    res = runner.invoke(app, ["check", str(p)])
    assert res.exit_code == 2
    assert "headquarters_country" in res.stderr and "Q9" in res.stderr


def test_malformed_eccns_are_errors_and_case_is_normalised():
    declared = {"date": "2025-02-10", "item": {"kind": "other", "eccn": "3A090.a"}, "destination": "CN",
                "ship_from": "US", "origin": {"us_origin": True}}
    assert check(declared).license_required == "yes"
    for spelling in ("3a090.a", "3A090.A", " 3a090.a "):
        t = Transaction.model_validate(_with(declared, "item.eccn", spelling))
        assert t.item.eccn == "3A090.a"
        assert check(t).license_required == "yes"
    # a well-formed entry that is not in the CCL would reach the rules as "no controls": refused too
    assert Transaction.model_validate(_with(declared, "item.eccn", "3A999")).item.eccn == "3A999"  # a real one
    for bad in ("3A090a", "3A090 a", "3A09", "A3090.a", "3A090..a", "EAR-99", "", "3A998", "9E999"):
        with pytest.raises(ValidationError) as exc:
            check(_with(declared, "item.eccn", bad))
        assert "eccn" in str(exc.value)
    with pytest.raises(ValidationError, match="did you mean 3A090.a"):
        check(_with(declared, "item.eccn", "3A090a"))
    assert Transaction.model_validate(_with(declared, "item.eccn", "ear99")).item.eccn == "EAR99"


def test_entity_list_footnote_implies_listed():
    ear99 = {"date": "2025-02-10", "item": {"kind": "other", "eccn": "EAR99"}, "destination": "CN",
             "ship_from": "US", "origin": {"us_origin": True},
             "end_user": {"name": "Qzxv Nonexistent Trading Co", "country": "CN", "entity_list_footnote": 4}}
    d = check(ear99)
    assert d.license_required == "yes"
    assert Transaction.model_validate(ear99).end_user.listed is True
    with pytest.raises(ValidationError, match="listed"):
        check(_with(ear99, "end_user.listed", False))
    # the same through evaluate(): a footnote in a frame sets listed before screening can clear the name
    row = evaluate(frame_of([{**Transaction.model_validate(ear99).facts(), "end_user_listed": None}]))
    assert row["license_required"][0] == "yes"
    clash = evaluate(frame_of([{**Transaction.model_validate(ear99).facts(), "end_user_listed": False}]))
    assert clash["license_required"][0] == "needs_review" and "contradicts" in clash["error"][0]


def test_listed_without_a_footnote_leaves_the_footnote_unknown():
    """Found by the adversarial run: a foreign-made item subject to the EAR only through footnote 4's
    direct product rule; leaving the footnote out used to read as "no footnote" and answer "no"."""
    t = {"date": "2024-10-13", "item": {"kind": "technology", "eccn": "3D001", "base_eccn": "3A991"},
         "ship_from": "NL", "destination": "IL", "transaction_type": "export",
         "origin": {"us_origin": False, "us_controlled_content_pct": 10.0, "direct_product_of_us_technology": True,
                    "produced_by_us_origin_plant": False},
         "end_user": {"country": "IL", "headquarters_country": "IL", "listed": True, "entity_list_footnote": 4},
         "end_use": "military"}
    assert check(t).license_required == "yes"
    del t["end_user"]["entity_list_footnote"]
    d = check(t)
    assert d.license_required == "needs_review" and "entity_list_footnote" in d.missing


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN", "1e309", "-inf"])
def test_non_finite_numbers_are_refused_by_check(value):
    with pytest.raises(ValidationError):
        check(_with(TO_CN, "item.tpp", value))


@pytest.mark.parametrize(("path", "value"), [
    ("item.kind", "maybe"), ("end_use", "training"), ("transaction_type", "sale"), ("is_informed", "maybe"),
    ("red_flag", 2), ("date", "2025-13-01"), ("end_user.entity_list_footnote", 2), ("item.tpp", "lots"),
])
def test_other_categorical_facts_are_closed(path, value):
    with pytest.raises(ValidationError):
        check(_with(TO_CN, path, value))


def test_misspelled_keys_are_errors_not_dropped_facts():
    for path in ("is_informd", "destinaton", "item.tppp", "end_user.headquarter_country"):
        with pytest.raises(ValidationError, match="Extra inputs"):
            check(_with(TO_CN, path, "x"))


# ---------- evaluate() on a frame: the engine's own conform step ----------
def _frame(base: dict, **columns: object) -> pl.DataFrame:
    return frame_of([Transaction.model_validate(base).facts()]).with_columns(
        **{k: pl.lit(v) for k, v in columns.items()})


@pytest.mark.parametrize("code", ["XX", "UK", "Q9", "??", "C N"])
def test_evaluate_marks_unknown_codes_needs_review_with_the_error(code):
    out = evaluate(_frame(HQ, end_user_hq_country=code))
    assert out["license_required"][0] == "needs_review"
    assert "end_user_hq_country" in out["error"][0] and code in out["error"][0]
    assert "input error (see error)" in out["missing"][0]


def test_evaluate_reads_values_of_the_wrong_type_as_errors():
    out = evaluate(_frame(TO_CN, destination="DE", is_informed="maybe"))
    assert out["license_required"][0] == "needs_review" and "is_informed" in out["error"][0]
    out = evaluate(_frame(TO_CN, tpp="15.832,0"))
    assert out["license_required"][0] == "needs_review" and "tpp" in out["error"][0]
    out = evaluate(_frame(TO_CN, tpp=float("nan")))
    assert out["license_required"][0] == "needs_review" and "tpp" in out["error"][0]
    out = evaluate(_frame(TO_CN, eccn_declared="3A090a", item_kind="other", tpp=None))
    assert out["license_required"][0] == "needs_review" and "eccn_declared" in out["error"][0]


def test_evaluate_normalises_codes_and_keeps_clean_rows_clean():
    out = evaluate(_frame(HQ, end_user_hq_country=" ｃｎ\u200b"))
    assert out["license_required"][0] == "yes" and out["error"][0] is None


# ---------- ledgers ----------
LEDGER_HEAD = "row,date,kind,tpp,die_area_mm2,destination,ship_from,us_origin,headquarters_country,eccn,value_usd\n"


def _ledger(tmp_path, *lines: str, name: str = "led.csv"):
    p = tmp_path / name
    p.write_text(LEDGER_HEAD + "".join(line + "\n" for line in lines), encoding="utf-8")
    return p


def test_ledger_numbers_in_other_conventions_are_errors(tmp_path):
    p = _ledger(tmp_path,
                'A-1,2025-02-10,ic,"15.832,0",814,DE,US,true,,,1',
                'A-2,2025-02-10,ic,"15,832.0",814,DE,US,true,,,1',
                'A-3,2025-02-10,ic,1e309,814,DE,US,true,,,1',
                'A-4,2025-02-10,ic,NaN,814,DE,US,true,,,1',
                'A-5,2025-02-10,ic,"15,832",814,DE,US,true,,,"1,000,000"',
                'A-6,2025-02-10,ic,"1,58,32",814,DE,US,true,,,1')
    out = evaluate_ledger(read_ledger(p))
    errs = out["error"].to_list()
    for i in (0, 1, 2, 3, 5):
        assert out["license_required"][i] == "needs_review", i
        assert f"line {i + 2}" in errs[i] and "column tpp" in errs[i], errs[i]
        assert out["tpp"][i] is None
    assert errs[4] is None and out["tpp"][4] == 15832 and out["value_usd"][4] == 1_000_000


def test_parquet_nan_and_inf_are_errors(tmp_path):
    p = tmp_path / "l.parquet"
    pl.DataFrame({"date": ["2025-02-10"] * 3, "kind": ["ic"] * 3, "tpp": [float("nan"), float("inf"), 15832.0],
                  "die_area_mm2": [814.0] * 3, "destination": ["DE"] * 3, "ship_from": ["US"] * 3,
                  "us_origin": [True] * 3}).write_parquet(p)
    out = evaluate_ledger(read_ledger(p))
    assert out["license_required"].to_list()[:2] == ["needs_review", "needs_review"]
    assert all("tpp" in e for e in out["error"].to_list()[:2])
    assert json.loads(out["unparsed"][0]) == {"tpp": "NaN"}


def test_ledger_unknown_codes_and_malformed_eccns_need_review_with_the_error(tmp_path):
    p = _ledger(tmp_path,
                "A-17,2025-02-10,ic,15832,814,SG,US,true,Q9,,1",
                "A-18,2025-02-10,ic,15832,814,UK,US,true,,,1",
                "A-19,2025-02-10,other,,,CN,US,true,,3A090a,1",
                "A-20,2025-02-10,other,,,CN,US,true,,3a090.a,1",
                "A-21,2025-02-10,ic,15832,814,SG,US,true,cn,,1")
    out = evaluate_ledger(read_ledger(p))
    verdicts = out["license_required"].to_list()
    assert verdicts[:3] == ["needs_review"] * 3
    assert "column end_user_hq_country" in out["error"][0] and "'Q9'" in out["error"][0]
    assert "did you mean GB" in out["error"][1]
    assert "column eccn_declared" in out["error"][2]
    assert verdicts[3] == "yes" and out["eccn_declared"][3] == "3A090.a"
    assert verdicts[4] == "yes" and out["end_user_hq_country"][4] == "CN"


def test_ledger_misspelled_column_is_an_error_not_a_dropped_fact(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("date,kind,tpp,die_area_mm2,destination,ship_from,us_origin,is_informd\n"
                 "2025-02-10,ic,100,814,DE,US,true,true\n"
                 "2025-02-10,ic,100,814,DE,US,true,\n")
    out = evaluate_ledger(read_ledger(p))
    assert out["license_required"][0] == "needs_review" and "did you mean is_informed" in out["error"][0]
    assert out["error"][1] is None


# ---------- CLI data safety ----------
def test_cli_refuses_out_equal_to_the_input_or_a_link_of_it(tmp_path):
    p = _ledger(tmp_path, "A-17,2025-02-10,ic,15832,814,CN,US,true,,,1")
    before = p.read_bytes()
    res = runner.invoke(app, ["run", str(p), "--out", str(p)])
    assert res.exit_code == 2 and "input" in res.stderr
    hard = tmp_path / "hard.csv"
    os.link(p, hard)
    res = runner.invoke(app, ["run", str(p), "--out", str(hard)])
    assert res.exit_code == 2
    sym = tmp_path / "sym.csv"
    sym.symlink_to(p)
    res = runner.invoke(app, ["run", str(sym), "--out", str(p)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["run", str(p), "--out", str(tmp_path / "sub" / ".." / "led.csv")])
    assert res.exit_code == 2
    assert p.read_bytes() == before


def test_cli_keeps_user_row_ids_and_the_raw_text_of_bad_cells(tmp_path):
    p = _ledger(tmp_path,
                "A-17,2025-02-10,ic,15832,814,CN,US,true,,,1",
                'B-2,2025-02-10,ic,"15.832,0",814,CN,US,maybe,,,1',
                "C-9,2025-02-10,ic,15832,814,XX,US,true,,3A090a,1")
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["run", str(p), "--out", str(out)])
    assert res.exit_code == 0, res.output
    res_frame = pl.read_csv(out, infer_schema=False)
    assert res_frame["input_row"].to_list() == ["A-17", "B-2", "C-9"]
    assert res_frame["license_required"].to_list() == ["yes", "needs_review", "needs_review"]
    assert json.loads(res_frame["unparsed"][1]) == {"tpp": "15.832,0", "us_origin": "maybe"}
    assert json.loads(res_frame["unparsed"][2]) == {"destination": "XX", "eccn_declared": "3A090a"}
    assert res_frame["unparsed"][0] is None
