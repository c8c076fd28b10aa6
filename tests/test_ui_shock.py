"""The /shock page in a real browser: the shock tables, the price chart and the PRC side of the exposure."""

from __future__ import annotations

import pytest

from tests.test_ui_browser import CHROMIUM, browser, logged_in, server, shot  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium missing")


def test_shock_page_renders_tables_and_chart(browser, server):  # noqa: F811
    ctx, pg, external, errors = logged_in(browser, server)
    pg.goto(f"{pg.srv.url}/shock?scenario=veu_revoked_no_replacement&draws=1000")
    pg.wait_for_selector("#shock-chart[data-rendered='1'] svg", timeout=30_000)
    assert "supply lost" in pg.text_content("#shock-headline")
    assert pg.locator("#shock-fabs tbody tr").count() == 15  # 3 fabs x 5 years
    assert pg.locator("#shock-markets tbody tr").count() == 10
    assert "SK hynix" in pg.text_content("#prc-companies") and "SAMSUNG-XIAN" in pg.text_content("#prc-fabs")
    pg.select_option("#shock-scenario", "prc_materials_cutoff")
    pg.click("#shock-form button")
    pg.wait_for_selector("#shock-chart[data-rendered='1'] svg", timeout=30_000)
    assert "prc_materials_cutoff" in pg.text_content("#shock-headline")
    shot(pg, "shock")
    assert not errors, errors
    assert not external, external
    ctx.close()
