"""The web UI in a real browser: Debian's Chromium driven by Playwright against a real server.

Needs /usr/bin/chromium (.ci/install-browser.sh); never runs `playwright install`.
Screenshots of each page land in out/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from carveout.service.testing import Server, make_key

CHROMIUM = os.environ.get("CARVEOUT_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "out" / "screenshots"
EXAMPLE_LEDGER = ROOT / "src" / "carveout" / "data" / "ledger_example.csv"
FABS = ("SAMSUNG-XIAN", "SKH-WUXI", "TSMC-NANJING")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run .ci/install-browser.sh")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("ui")
    key = make_key(d / "carveout.duckdb")
    srv = Server(d / "carveout.duckdb").start()
    yield srv, key
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def logged_in(browser, server):
    """A new browser context logged in with the test key: (context, page, external requests, JS errors)."""
    srv, key = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    external: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith((srv.url, "data:", "blob:")) else external.append(r.url))
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{srv.url}/login")
    pg.fill("#key", key)
    pg.click("#login")
    pg.wait_for_url(f"{srv.url}/")
    pg.srv = srv  # type: ignore[attr-defined]
    return ctx, pg, external, errors


@pytest.fixture()
def page(browser, server):
    ctx, pg, external, errors = logged_in(browser, server)
    yield pg
    assert not external, f"the UI must work offline, but it fetched {external}"
    assert not errors, f"JavaScript errors: {errors}"
    ctx.close()


@pytest.fixture(scope="module")
def example_job(browser, server) -> str:
    """The embedded example ledger (3,000 synthetic rows, with shipments to PRC fabs), uploaded on the Ledger
    page and checked; the batch job's id."""
    text = EXAMPLE_LEDGER.read_text()
    assert all(f in text for f in FABS), "the example ledger should ship to the fabs the VEU candidates name"
    ctx, pg, _, errors = logged_in(browser, server)
    pg.goto(f"{pg.srv.url}/ledger")
    pg.set_input_files("#file", str(EXAMPLE_LEDGER))
    pg.click("#upload")
    pg.wait_for_function("['done', 'failed'].includes(document.getElementById('job-status').textContent) || "
                         "!document.getElementById('upload-error').hidden", timeout=90_000)
    assert pg.text_content("#job-status") == "done", pg.text_content("#upload-error") or pg.text_content("#job-count")
    assert pg.text_content("#job-count").startswith("3000 / 3000")
    job = pg.get_attribute("#job", "data-job")
    assert not errors, f"JavaScript errors: {errors}"
    ctx.close()
    return job


def pick_scenario(pg, job: str, scenario: str = "flexibility_package") -> None:
    pg.goto(f"{pg.srv.url}/scenarios")
    if pg.locator("#scenarios-missing").count():
        shot(pg, "scenarios")
        pytest.skip("scenarios package not installed")
    pg.select_option("#sc-job", job)
    pg.select_option("#sc-builtin", scenario)


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_is_required(browser, server):
    srv, _ = server
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(f"{srv.url}/")
    assert "/login" in pg.url
    pg.fill("#key", "co_bad_key")
    pg.click("#login")
    assert "not valid" in pg.text_content(".error")
    shot(pg, "login")
    ctx.close()


def test_check_form_shows_verdict_and_decision_path(page):
    page.fill("#item_name", "H100 SXM")
    page.select_option("#item_kind", "ic")
    page.fill("#tpp", "15832")
    page.fill("#die_area_mm2", "814")
    page.select_option("#marketed_for_datacenter", "yes")
    page.fill("#date", "2024-06-01")
    page.fill("#destination", "CN")
    page.select_option("#us_origin", "yes")
    page.click("#check")
    page.wait_for_selector("#verdict")
    assert page.get_attribute("#verdict", "data-verdict") == "yes"
    assert page.text_content("#eccn").strip() == "3A090.a"
    reasons = page.locator("li.reason")
    assert reasons.count() >= 2
    first = reasons.first
    assert first.get_attribute("data-rule").startswith("ccl.3a090")
    assert "15 CFR" in first.text_content() and "tpp" in first.text_content()
    shot(page, "check")
    page.click("#audit-link")
    page.wait_for_selector("#same-answer")
    assert page.text_content("#same-answer").strip().startswith("yes")
    page.click("#verify")
    page.wait_for_selector("#verification")
    assert "Chain intact" in page.text_content("#verification")
    shot(page, "audit")


def test_check_form_names_a_bad_field(page):
    page.fill("#tpp", "-3")
    page.click("#check")
    assert "item.tpp" in page.text_content(".field-error")


def test_screen_a_name(page):
    page.goto(f"{page.srv.url}/screen")
    page.fill("#name", "Huawei Technologies Co., Ltd.")
    page.fill("#country", "CN")
    page.click("#screen")
    page.wait_for_selector("#screen-result, #screen-error")
    if page.locator("#screen-error").count():
        pytest.skip(page.text_content("#screen-error"))
    assert "match" in page.text_content("#screen-result").lower()
    shot(page, "screen")


def test_upload_a_ledger_and_see_the_chart(page, tmp_path):
    rows = [{"date": "2024-03-01", "item_kind": "ic", "tpp": float(1000 + 700 * i), "die_area_mm2": 800.0,
             "destination": ["CN", "DE", "MO", "KR", "JP"][i % 5], "ship_from": "US", "us_origin": "true",
             "value_usd": 1000.0 * i} for i in range(60)]
    f = tmp_path / "ledger.csv"
    pl.DataFrame(rows).write_csv(f)
    page.goto(f"{page.srv.url}/ledger")
    page.set_input_files("#file", str(f))
    page.click("#upload")
    page.wait_for_function("document.getElementById('job-status').textContent === 'done'", timeout=60_000)
    assert page.text_content("#job-count").startswith("60 / 60")
    page.wait_for_selector("#chart[data-rendered='1'] svg", timeout=30_000)
    assert page.locator("#chart svg .mark-rect path, #chart svg path").count() > 0
    assert page.locator("#job-summary tr[data-verdict]").count() >= 1
    shot(page, "ledger")


def test_scenario_diff_shows_exposure_on_the_example_ledger(page, example_job):
    pick_scenario(page, example_job)
    page.click("#sc-run")
    page.wait_for_function("!document.getElementById('sc-result').hidden || "
                           "!document.getElementById('sc-error').hidden", timeout=60_000)
    assert page.locator("#sc-error").is_hidden(), page.text_content("#sc-error")
    summary = page.text_content("#sc-summary")
    changed = int(summary.split(" rows change")[0])
    assert changed > 0, summary  # flexibility_package clears SME to allied-owned fabs in the PRC
    page.wait_for_selector("#sc-chart[data-rendered='1'] svg", timeout=30_000)
    bars = page.locator("#sc-chart svg .mark-rect.role-mark path")
    assert bars.count() > 0, "the exposure-by-fab chart has no bars"
    assert any(f in page.text_content("#sc-chart") for f in FABS)
    page.wait_for_selector("#sc-chart2[data-rendered='1'] svg", timeout=30_000)
    assert page.locator("#sc-chart2 svg .mark-rect.role-mark path").count() > 0
    assert page.locator("#sc-rows tbody tr").count() == min(changed, 15)
    shot(page, "scenarios")


def test_frontier_runs_as_a_background_job_and_plots_points(page, example_job):
    pick_scenario(page, example_job)
    page.fill("#fr-max", "16")  # 16 of the 128 designs of the 7 shipped VEU candidates: keeps the test short
    page.click("#fr-run")
    page.wait_for_selector("#fr-status-line:not([hidden])", timeout=30_000)  # the job was accepted (202)
    assert page.get_attribute("#fr", "data-job").startswith("f_")
    page.wait_for_function("document.getElementById('fr-chart').dataset.rendered === '1' || "
                           "!document.getElementById('sc-error').hidden", timeout=90_000)
    assert page.locator("#sc-error").is_hidden(), page.text_content("#sc-error")
    status = page.text_content("#fr-status")
    assert status.startswith("done") and "16 / 16 designs" in status, status
    assert page.get_attribute("#fr-progress", "value") == page.get_attribute("#fr-progress", "max") == "16"
    points = page.locator("#fr-chart svg .mark-symbol.role-mark path")
    assert points.count() == 16, f"{points.count()} points plotted"
    pareto = page.locator("#fr-table tbody tr")
    assert pareto.count() >= 1
    assert "veu_" in page.text_content("#fr-table")
    page.locator("#fr").scroll_into_view_if_needed()
    shot(page, "frontier")


def _open_all_groups(page) -> None:
    closed = page.locator("#check-form details:not([open]) > summary")
    while closed.count():
        closed.first.click()


def test_check_form_offers_every_fact(page):
    """Every fact the rules can read has an input (the form is built from the facts schema), facility ids are a
    list to pick from, and a 3A090 check to a non-Chinese buyer can be settled from the form alone once the base
    ECCN is given."""
    from carveout.facts import SCHEMA
    from carveout.scenarios.data import facilities
    from carveout.service.routes_ui import NOT_ON_FORM

    for fact in SCHEMA:
        if fact not in NOT_ON_FORM:
            assert page.locator(f"#check-form [name='{fact}']").count() == 1, f"no input for {fact}"
    offered = page.locator("#facility_id option").all_text_contents()
    assert set(facilities().get_column("facility_id")) <= set(offered)
    _open_all_groups(page)
    page.fill("#item_name", "H100 SXM")
    page.select_option("#item_kind", "ic")
    page.fill("#tpp", "15832")
    page.fill("#die_area_mm2", "814")
    page.fill("#interconnect_gb_s", "900")
    page.select_option("#marketed_for_datacenter", "yes")
    page.fill("#date", "2025-06-01")
    page.fill("#destination", "my")  # lower case: the form upper-cases codes
    page.select_option("#us_origin", "yes")
    page.fill("#end_user_country", "MY")
    page.fill("#end_user_hq_country", "US")
    page.select_option("#end_user_listed", "no")
    page.select_option("#end_use", "datacenter")
    page.fill("#us_controlled_content_pct", "100")
    page.click("#check")
    page.wait_for_selector("#verdict")
    # a spec-only 3A090 chip without its base entry could be a .z item (NS2): the form must ask, not say no
    assert page.get_attribute("#verdict", "data-verdict") == "needs_review"
    assert "base_eccn" in page.text_content("#missing")
    page.fill("#base_eccn", "3A991")
    page.click("#check")
    page.wait_for_selector("#verdict")
    missing = page.text_content("#missing") if page.locator("#missing").count() else ""
    assert "end_user_hq_country" not in missing
    assert page.get_attribute("#verdict", "data-verdict") in ("yes", "no"), missing
    assert page.input_value("#end_user_hq_country") == "US"  # the form keeps what was entered


def test_check_form_picks_a_facility(page):
    page.select_option("#item_kind", "equipment")
    page.fill("#eccn_declared", "3B001.c")
    page.fill("#date", "2025-06-01")
    page.fill("#destination", "CN")
    page.select_option("#us_origin", "yes")
    page.fill("#end_user_country", "CN")
    page.select_option("#facility_id", "SKH-WUXI")
    page.click("#check")
    page.wait_for_selector("#verdict")
    assert page.locator("#facility_id option:checked").text_content() == "SKH-WUXI"
    facts = page.text_content("#decision-path")
    assert "SKH-WUXI" in facts or page.get_attribute("#verdict", "data-verdict") == "needs_review"


def test_screening_evidence_is_readable_text(page):
    page.goto(f"{page.srv.url}/screen")
    page.fill("#name", "Semiconductor Manufacturing International Corporation")
    page.fill("#country", "CN")
    page.click("#screen")
    page.wait_for_selector("#screen-result, #screen-error")
    if page.locator("#screen-error").count():
        pytest.skip(page.text_content("#screen-error"))
    cells = page.locator("#screen-matches td.features").all_text_contents()
    assert cells, "no match rows"
    for text in cells:
        assert "{" not in text and "':" not in text, text  # no Python dict
    assert any("semiconductor" in t.lower() for t in cells)


def test_picking_a_shipped_scenario_shows_its_yaml(page, example_job):
    pick_scenario(page, example_job, "flexibility_package")
    text = page.input_value("#sc-text")
    assert "name: flexibility_package" in text and "allied_fab_maintenance" in text
    page.fill("#sc-text", text.replace("2027-01-01", "2027-02-01"))  # an edited copy runs as written
    assert page.input_value("#sc-builtin") == ""


def test_api_docs_work_offline(page):
    """/docs renders Swagger UI from assets the server ships (the page fixture fails on any outside request)."""
    page.goto(f"{page.srv.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "carveout" in page.text_content(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    assert page.locator(".opblock-summary-path").count() >= 5


def test_report_frontier_colours_match_the_legend(browser, tmp_path):
    """The report's frontier points are drawn in the colour its legend gives each status."""
    from carveout.report import DOMINATED, FRONTIER_COLOURS, ON_FRONTIER, write_report

    led = pl.read_csv(EXAMPLE_LEDGER, infer_schema_length=0).head(400)
    f = tmp_path / "l.csv"
    led.write_csv(f)
    from carveout.io.ledger import read_ledger

    out = write_report(tmp_path / "r.html", read_ledger(str(f)).facts, ["flexibility_package"], screen=False)
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    pg.goto(out.as_uri())
    pg.wait_for_selector("#frontier svg .mark-symbol.role-mark path", timeout=30_000)
    legend = dict(zip(pg.locator("#frontier svg .role-legend-label text").all_text_contents(),
                      [p.get_attribute("fill") for p in pg.locator("#frontier svg .role-legend-symbol path").all()],
                      strict=False))
    assert legend == {ON_FRONTIER: FRONTIER_COLOURS[0], DOMINATED: FRONTIER_COLOURS[1]}
    fills = {p.get_attribute("fill") for p in pg.locator("#frontier svg .mark-symbol.role-mark path").all()}
    assert FRONTIER_COLOURS[0] in fills and fills <= set(FRONTIER_COLOURS)
    box = pg.locator(".tbl").first
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"  # wide tables scroll in their box
    ctx.close()
