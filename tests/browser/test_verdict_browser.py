"""One judgment of a period, as a manager reads it in Chromium (issue 18, item 1; README "How
a period is judged"): the SaaS template on 6 December 2026 (`TOLOK_TODAY`, for `tolok init`,
`tolok refresh` and the server alike). December is open, November's trial-to-paid
conversion is not final (trials started after 6 November may still pay within their 30
days), October is closed. The KPI page shows the open month "so far" and the not-final one
as provisional, in its values table and its chart, with no status badge and no unusual mark
on either; the board judges every KPI on its last closed month and names the open one
beside it. Text and structure are asserted, not pixels; the screenshots are for people."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.browser.conftest import Live, serving, sign_in
from tests.shop import PASSWORD

TODAY = dt.date(2026, 12, 6)
DECEMBER, NOVEMBER, OCTOBER = "2026-12-01", "2026-11-01", "2026-10-01"
VIEWER = "viewer@example.com"


@pytest.fixture(scope="module")
def saas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The SaaS template made, refreshed and served on the pinned day, once for the module;
    the server reads the same pinned clock."""
    from tolok.auth import accounts
    from tolok.cli import app as cli
    from tolok.server.app import create_app

    root = tmp_path_factory.mktemp("verdict") / "saas"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", TODAY.isoformat())
        patch.delenv("TOLOK_NOW", raising=False)
        patch.setenv("TOLOK_SCHEDULES", "off")
        for args in (["init", str(root), "--template", "saas"], ["refresh", str(root)]):
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, (args, result.output)
        app = create_app(root, schedules=False)
        with Session(app.state.tolok.engine) as session, session.begin():
            accounts.add_user(session, VIEWER, "Viewer", "viewer", "test", PASSWORD)
        with serving(app) as url:
            yield Live(url, root, [], TODAY, app)
        if app.state.tolok.refresher is not None:
            app.state.tolok.refresher.wait()


def values_row(page: Page, start: str) -> Locator:
    """The values table's row of the period starting on `start`, the table opened."""
    box = page.locator("#values-box")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    row = page.locator(f'#values tbody tr[data-start="{start}"]')
    expect(row).to_have_count(1)
    return row


def figure(page: Page) -> dict[str, Any]:
    """The chart's figure as the page embeds it, once Plotly has drawn it."""
    expect(page.locator("#chart .main-svg").first).to_be_visible()
    found: dict[str, Any] = json.loads(page.locator("script[data-figure=chart]").inner_text())
    return found


def test_the_kpi_page_shows_november_provisional_and_december_so_far(
    page: Page, saas: Live
) -> None:
    sign_in(page, saas, VIEWER, then="/kpis/trial_conversion")
    expect(page.locator(".grid .card .sub").first).to_have_text("Oct 2026")  # judged
    december, november = values_row(page, DECEMBER), values_row(page, NOVEMBER)
    october = values_row(page, OCTOBER)
    # trials started after 6 November have until 30 December to pay
    expect(november.locator("td.state-not_final")).to_have_text("Provisional: final on 31 Dec 2026")
    # 5 of December's 31 days are over; what a trial-to-paid rate is so far says nothing yet
    expect(december.locator("td.state-open")).to_have_text(
        "So far (16%): judged once the period is over"
    )
    for row in (november, december):
        expect(row.locator(".badge")).to_have_count(0)  # neither a status nor "unusually"
        expect(row).not_to_contain_text("track")
    expect(october.locator("td.state-closed .badge.status-on_track")).to_have_text("On track")

    title = "Trial-to-paid conversion rate"
    traces = {t["name"]: t for t in figure(page)["data"]}
    assert starts(traces[f"{title}, not final"]) == [NOVEMBER, DECEMBER]  # drawn apart
    assert OCTOBER in starts(traces[title])
    assert not {NOVEMBER, DECEMBER} & set(starts(traces[title]))
    assert not {NOVEMBER, DECEMBER} & set(starts(traces.get("Unusual", {"x": []})))
    drawn = page.evaluate("document.querySelector('#chart')._fullData.map((t) => t.name)")
    assert f"{title}, not final" in drawn  # what Plotly drew, not only what it was given

    page.goto(f"{saas.url}/kpis/trial_conversion?lang=id")
    expect(values_row(page, NOVEMBER).locator("td.state-not_final")).to_have_text(
        "Sementara: final pada 31 Des 2026"
    )
    expect(values_row(page, DECEMBER).locator("td.state-open")).to_have_text(
        "Sejauh ini (16%): dinilai setelah periode berakhir"
    )
    assert f"{title}, belum final" in [t["name"] for t in figure(page)["data"]]


def starts(trace: dict[str, Any]) -> list[str]:
    return [x[:10] for x in trace["x"]]


DECEMBER_MRR = {
    "en": "So far (16%): heading on track",
    "id": "Sejauh ini (16%): menuju sesuai target",
}


def test_the_open_month_reads_so_far_on_desktop_and_phone_in_both_languages(
    browser: Browser, saas: Live, tmp_path: Path
) -> None:
    """MRR at 1280 and 375 px, in English and Indonesian; the screenshots are in tmp_path
    for people to look at."""
    for width, height in ((1280, 900), (375, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        sign_in(page, saas, VIEWER, then="/kpis/mrr")
        for lang in ("en", "id"):
            page.goto(f"{saas.url}/kpis/mrr?lang={lang}")
            expect(page.locator("html")).to_have_attribute("lang", lang)
            figure(page)
            row = values_row(page, DECEMBER)
            expect(row.locator("td.state-open")).to_have_text(DECEMBER_MRR[lang])
            expect(row.locator(".badge")).to_have_count(0)
            expect(values_row(page, NOVEMBER).locator(".badge.status-on_track")).to_be_visible()
            heading = page.locator(".grid .card").nth(1)  # the open period's own card
            expect(heading).to_contain_text("Dec 2026" if lang == "en" else "Des 2026")
            expect(heading.locator(".badge")).to_have_class(re.compile("status-on_track"))
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, (lang, width, overflow)
            page.screenshot(path=str(tmp_path / f"mrr-{width}-{lang}.png"), full_page=True)
        context.close()


def test_every_card_judges_its_last_closed_month_and_names_december_open(
    page: Page, saas: Live
) -> None:
    sign_in(page, saas, VIEWER)
    board = page.request.get(f"{saas.url}/board.json").json()
    shown = {c["name"]: c for group in board["groups"] for c in group["cards"]}
    assert len(shown) == 6
    for name, card in shown.items():
        # trial_conversion's November is not final: its card stays on October
        judged = OCTOBER if name == "trial_conversion" else NOVEMBER
        assert card["period_start"] == judged, name
        shown_card = page.locator(f'article.card[data-kpi="{name}"]')
        expect(shown_card.locator(".period")).to_have_text(f"{dt.date.fromisoformat(judged):%b %Y}")
        expect(shown_card.locator(".meta.open")).to_contain_text("Dec 2026 so far:")
