"""Goals, alert rules and schedules built in Chromium (issue 25, item 3): an editor adds a
goal, moves it under another, adds an alert rule (a recipient the project cannot reach is
reported under its field first) and, in Indonesian, a schedule; each save shows the diff
written, and tolok.yaml keeps its comments and validates as `tolok validate` reads it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Live, screenshot, sign_in
from tolok.spec.loader import load_project

CHAT = """\
# Who hears what: written by hand.
channels:
  chat: {webhook: 'https://hooks.example.com/T0'}   # the team's chat room
"""


def test_an_editor_builds_goals_rules_and_schedules(page: Page, live: Live) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    main = live.root / "tolok.yaml"
    main.write_text(main.read_text(encoding="utf-8") + CHAT, encoding="utf-8")
    sign_in(page, live, "editor@example.com", then="/goals")

    # A new goal, at the top of the tree.
    page.click("#new-goal > summary")
    new = page.locator('#new-goal form[data-entry=""]')
    new.locator('input[name="name"]').fill("retain")
    new.locator('input[name="title"]').fill("Keep buyers coming back")
    new.locator('select[name="level"]').select_option("operational")
    new.locator("button[type=submit]").click()
    expect(new.locator("[data-said]")).to_contain_text("Added.")
    expect(new.locator("[data-diff]")).to_contain_text("+  retain:")
    expect(new.locator("[data-diff]")).to_contain_text("+    title: Keep buyers coming back")

    # Moved under "Win customers cheaply".
    page.reload()
    expect(page.locator("#goal-retain")).to_be_visible()
    page.click("#goal-retain > details > summary")
    form = page.locator('form[data-entry="retain"]')
    form.locator('select[name="parent"]').select_option("win")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-said]")).to_contain_text("Saved.")
    expect(form.locator("[data-diff]")).to_contain_text("+    parent: win")
    page.reload()
    expect(page.locator("#goal-win #goal-retain")).to_be_visible()
    page.click("#goal-grow > details > summary")
    parents = page.locator('form[data-entry="grow"] select[name="parent"] option')
    expect(parents).to_have_count(1)  # at the top only: every other goal is below grow
    screenshot(page, "goals-built")

    # An alert rule: `owner` cannot be told without an e-mail server; said under the field.
    page.goto(f"{live.url}/definitions/alerts")
    rule = page.locator('#alerts-new form[data-entry=""]')
    rule.locator('input[name="name"]').fill("revenue-slips")
    rule.locator('select[name="kpis"]').select_option(["revenue"])
    expect(rule.locator('select[name="statuses"]')).to_be_visible()
    expect(rule.locator('input[name="above"]')).to_be_hidden()
    expect(rule.locator('input[name="notify"]')).to_have_value("chat")  # no e-mail server
    rule.locator('input[name="notify"]').fill("owner")
    rule.locator("button[type=submit]").click()
    notify = rule.locator('[data-problem="notify"]')
    expect(notify).to_be_visible()
    expect(notify).to_contain_text("TLK008")
    assert "revenue-slips" not in main.read_text(encoding="utf-8")
    rule.locator('input[name="notify"]').fill("chat")
    rule.locator("button[type=submit]").click()
    expect(rule.locator("[data-said]")).to_contain_text("Added.")
    expect(notify).to_be_hidden()
    expect(rule.locator("[data-diff]")).to_contain_text("+    notify: [chat]")

    # A schedule, in Indonesian.
    page.goto(f"{live.url}/definitions/schedules?lang=id")
    expect(page.locator("h1")).to_have_text("Jadwal")
    schedule = page.locator('#schedules-new form[data-entry=""]')
    schedule.locator('input[name="name"]').fill("pagi")
    schedule.locator('select[name="do"]').select_option("digest")
    schedule.locator('select[name="every"]').select_option("week")
    schedule.locator('select[name="on"]').select_option("friday")
    schedule.locator('input[name="at"]').fill("08:00")
    schedule.locator('input[name="to"]').fill("chat")
    expect(schedule.locator('select[name="format"]')).to_be_hidden()
    schedule.locator("button[type=submit]").click()
    expect(schedule.locator("[data-said]")).to_contain_text("Ditambahkan.")
    expect(schedule.locator("[data-diff]")).to_contain_text('+    at: "08:00"')
    screenshot(page, "schedule-built")
    assert errors == []

    text = main.read_text(encoding="utf-8")
    assert CHAT in text  # the hand-written comments, as they were
    assert "  retain:\n    title: Keep buyers coming back\n    level: operational\n" in text
    assert "    parent: win\n" in text
    assert "  revenue-slips:\n    when: status\n    kpis: [revenue]\n    notify: [chat]\n" in text
    assert (
        "  pagi:\n    do: digest\n    every: week\n    on: friday\n"
        '    at: "08:00"\n    to: [chat]\n'
    ) in text
    loaded = load_project(live.root)  # as `tolok validate` reads it
    assert loaded.ok, loaded.problems.errors
    assert loaded.project is not None
    assert loaded.project.goals["retain"].parent == "win"
    assert loaded.project.alerts["revenue-slips"].notify == ["chat"]
    assert loaded.project.schedules["pagi"].on == "friday"


def test_a_viewer_reads_the_rules_and_cannot_save(page: Page, live: Live) -> None:
    sign_in(page, live, "viewer@example.com", then="/definitions/schedules?lang=id")
    expect(page.locator("#not-allowed")).to_contain_text("Editor dan admin")
    expect(page.locator("#schedules-new")).to_have_count(0)
    page.goto(f"{live.url}/goals")
    expect(page.locator("#not-allowed")).to_be_visible()
    page.click("#goal-grow > details > summary")
    expect(page.locator('form[data-entry="grow"] input[name="title"]')).to_be_disabled()
    expect(page.locator('form[data-entry="grow"] select[name="parent"]')).to_be_disabled()
    expect(page.locator('form[data-entry="grow"] button')).to_have_count(0)
