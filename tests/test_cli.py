import json

from typer.testing import CliRunner

from carveout.cli import app

runner = CliRunner()


def test_classify_json(tmp_path):
    spec = tmp_path / "h100.yaml"
    spec.write_text("kind: ic\nname: H100\ntpp: 15832\ndie_area_mm2: 814\nmarketed_for_datacenter: true\n")
    res = runner.invoke(app, ["classify", str(spec), "--as-of", "2025-01-01", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["eccn"] == "3A090.a"
    assert out["as_of"] == "2025-01-01" and out["rules_version"]
    assert {"rule", "citation"} <= set(out["reasons"][0])


def test_classify_missing_tpp_names_it():
    res = runner.invoke(app, ["classify", "-", "--format", "json"],
                        input='{"kind": "ic", "die_area_mm2": 800, "marketed_for_datacenter": true}')
    assert res.exit_code == 3
    out = json.loads(res.stdout)
    assert out["status"] == "needs_review"
    assert any(m.startswith("tpp") for m in out["missing"])


def test_unknown_field_and_wrong_type_are_named():
    res = runner.invoke(app, ["classify", "-"], input='{"kind": "ic", "tpp": 1, "tdp_watts": 700}')
    assert res.exit_code == 2
    assert "tdp_watts" in res.stderr
    res = runner.invoke(app, ["classify", "-"], input='{"kind": "ic", "tpp": "lots"}')
    assert res.exit_code == 2
    assert "field tpp" in res.stderr


def test_check_explain_prints_the_decision_path(tmp_path):
    txn = tmp_path / "t.json"
    txn.write_text(json.dumps({
        "date": "2023-01-17", "ship_from": "US", "transaction_type": "export", "destination": "MO",
        "item": {"kind": "ic", "tpp": 4992, "interconnect_gb_s": 600},
        "origin": {"us_origin": True}, "end_user": {"listed": False, "headquarters_country": "MO"},
        "end_use": "datacenter"}))
    res = runner.invoke(app, ["check", str(txn), "--format", "explain"])
    assert res.exit_code == 0, res.output
    assert "licence required: yes" in res.stdout
    assert "742.6(a)(6)(i)" in res.stdout and "facts used" in res.stdout
