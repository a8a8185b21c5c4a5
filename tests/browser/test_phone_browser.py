"""Every page on a phone (375 x 812 px), in English and Indonesian, in Chromium (issue 21,
item 3): nothing runs off the side of the screen unless it sits in its own scroll
container, no two texts are drawn over each other, the chart keeps a plot area a reader
can read, and "as first reported" is a checkbox that looks like one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Live, screenshot, sign_in

WIDTH, HEIGHT = 375, 812

OVERFLOW = """() => {
  const doc = document.documentElement, width = doc.clientWidth, found = [];
  if (doc.scrollWidth > width) found.push('page is ' + doc.scrollWidth + ' px wide');
  const scrolls = (e) => {  // in a scroll container (or a clip) that itself fits the screen
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden' || x === 'clip') {
        const r = a.getBoundingClientRect();
        return r.left >= -0.5 && r.right <= width + 0.5;
      }
    }
    return false;
  };
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('.skip, script, option, #js-plotly-tester')) continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    if ((r.right > width + 0.5 || r.left < -0.5) && !scrolls(e)) {
      const classes = typeof e.className === 'string' ? e.className.trim() : '';
      const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
        + (classes ? '.' + classes.split(/\\s+/).join('.') : '');
      found.push(name + ' ' + Math.round(r.left) + '..' + Math.round(r.right)
        + ' "' + (e.textContent || '').trim().slice(0, 40) + '"');
    }
  }
  return found.slice(0, 20);
}"""

# Siblings that hold text side by side: their boxes must not cross.
OVERLAP = """() => {
  const areas = ['.top', '.top .tools', '.top nav', '.card header', '.card .meta', '.heading',
    '.filters', 'tr', '.goal > .row', '.kpi-list li', 'form.inline', 'dl.def', '.counts',
    '.shared .copy', '.comment'];
  const found = [];
  const texty = (e) => (e.textContent || '').trim() || e.matches('input, select, button');
  const said = (e) => e.tagName.toLowerCase() + ' "'
    + (e.textContent || e.name || '').trim().slice(0, 30) + '"';
  for (const parent of document.querySelectorAll(areas.join(','))) {
    const kids = [...parent.children].filter((e) => {
      const r = e.getBoundingClientRect();
      const hidden = e.matches('.sr, .skip, input[type=hidden]');
      return r.width > 0 && r.height > 0 && texty(e) && !hidden;
    });
    for (let i = 0; i < kids.length; i++) for (let j = i + 1; j < kids.length; j++) {
      const a = kids[i].getBoundingClientRect(), b = kids[j].getBoundingClientRect();
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) found.push(said(kids[i]) + ' x ' + said(kids[j]));
    }
  }
  return found.slice(0, 20);
}"""

# The chart: its plot area's size, and whether the legend or the ticks cross the plot area.
CHART = """() => {
  const box = (s) => {
    const e = document.querySelector('#chart ' + s);
    return e && e.getBoundingClientRect();
  };
  const plot = box('.nsewdrag'), legend = box('.legend'), found = [];
  const cross = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  if (legend) {
    if (cross(plot, legend)) found.push('legend over the plot');
    for (const t of document.querySelectorAll('#chart .xtick text, #chart .ytick text'))
      if (cross(t.getBoundingClientRect(), legend)) found.push('legend over tick ' + t.textContent);
  }
  return {height: plot.height, width: plot.width, right: box('.main-svg').right, found: found};
}"""

# Why it moved: every contribution is on screen, not scrolled out of its table.
CONTRIBUTIONS = """() => [...document.querySelectorAll('#why td.change, #why th.change')]
  .filter((e) => {
    const r = e.getBoundingClientRect(), t = e.closest('table').getBoundingClientRect();
    return r.right > t.right + 0.5 || r.right > document.documentElement.clientWidth;
  })
  .map((e) => e.textContent.trim())"""

CHECKBOX = """() => {
  const e = document.querySelector('input[name=as_reported]'), s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {type: e.type, appearance: s.appearance, width: r.width, height: r.height,
          labelled: !!(e.labels && e.labels.length) || !!e.closest('label')};
}"""


def check(page: Page, live: Live, path: str) -> dict[str, Any]:
    """What is wrong with `path` at phone width: overflow and overlapping texts."""
    page.goto(f"{live.url}{path}")
    page.wait_for_load_state("networkidle")
    if page.locator("#chart").count():
        expect(page.locator("#chart .main-svg").first).to_be_visible()
    if page.locator("#values-box").count():  # the folded values table, opened
        page.evaluate("document.getElementById('values-box').open = true")
    wrong = {"overflow": page.evaluate(OVERFLOW), "overlap": page.evaluate(OVERLAP)}
    return {key: found for key, found in wrong.items() if found}


def chart_and_checkbox(page: Page, checkbox: bool = True) -> dict[str, Any]:
    """The chart's plot area is at least 200 px tall (a plot, not a strip), fits the screen
    and is not crossed by its legend; "as first reported" is a checkbox, square and small."""
    chart: dict[str, Any] = page.evaluate(CHART)
    found: dict[str, Any] = {}
    if chart["height"] < 200 or chart["right"] > WIDTH or chart["found"]:
        found["chart"] = chart
    if not checkbox:
        return found
    box: dict[str, Any] = page.evaluate(CHECKBOX)
    if not (
        box["type"] == "checkbox"
        and box["labelled"]
        and box["appearance"] in ("auto", "checkbox")
        and 10 <= box["width"] <= 24
        and abs(box["width"] - box["height"]) < 2
    ):
        found["checkbox"] = box
    return found


def share(page: Page, live: Live) -> str:
    csrf = page.request.get(f"{live.url}/api/v1/me").json()["csrf"]
    made = page.request.post(
        f"{live.url}/api/v1/shares",
        data=json.dumps({"kind": "kpi", "target": "revenue"}),
        headers={"content-type": "application/json", "x-csrf-token": csrf},
    )
    assert made.ok, made.text()
    url: str = made.json()["url"]
    return url.removeprefix(live.url)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_page_fits_a_phone(browser: Browser, live: Live, lang: str) -> None:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    sign_in(page, live, "admin@example.com")
    q = f"lang={lang}"
    paths = ["/board", "/kpis/revenue", "/kpis/revenue?by=region", "/entry", "/catalog",
             "/catalog/conversion_rate", "/goals", "/review", "/admin"]  # fmt: skip
    wrong: dict[str, Any] = {}
    for path in paths:
        here = f"{path}{'&' if '?' in path else '?'}{q}"
        found = check(page, live, here)
        if path.startswith("/kpis/"):
            found.update(chart_and_checkbox(page))
            if path == "/kpis/revenue?by=region":
                expect(page.locator("#why table").first).to_be_visible()
                hidden = page.evaluate(CONTRIBUTIONS)
                if hidden:
                    found["contribution"] = hidden
                screenshot(page, f"kpi-375-{lang}")
        if path == "/board":
            screenshot(page, f"board-375-{lang}")
        if found:
            wrong[here] = found
    link = share(page, live)
    page.context.clear_cookies()
    found = check(page, live, f"{link}{'&' if '?' in link else '?'}{q}")
    found.update(chart_and_checkbox(page, checkbox=False))  # the shared KPI's chart
    wrong["share link"] = found
    wrong["/signin"] = check(page, live, f"/signin?{q}")
    context.close()
    wrong = {where: found for where, found in wrong.items() if found}
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)


# The search field's hint against the room it has: the placeholder's width in the field's own
# font (a canvas measures it) and the field's width inside its padding.
PLACEHOLDER = """() => {
  const field = document.querySelector('input[type=search]');
  const style = getComputedStyle(field);
  const pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text: field.placeholder, needs: pen.measureText(field.placeholder).width, room};
}"""


@pytest.mark.parametrize("width", [WIDTH, 1280])
def test_the_search_hint_is_never_cut_off(browser: Browser, live: Live, width: int) -> None:
    """Issue 21, item 5: "KPI, penanggung jawab, sasaran…" fits its field on a phone and on
    a desktop, on the board and the catalog, in both languages."""
    context = browser.new_context(viewport={"width": width, "height": HEIGHT})
    page = context.new_page()
    sign_in(page, live, "viewer@example.com")
    cut = []
    for path in ("/board", "/catalog"):
        for lang in ("en", "id"):
            page.goto(f"{live.url}{path}?lang={lang}")
            found = page.evaluate(PLACEHOLDER)
            assert found["text"], (path, lang)
            if found["needs"] > found["room"]:
                cut.append((path, lang, found))
    context.close()
    assert not cut, cut


CHOICES = """() => {
  const pen = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('.filters select')].map(field => {
    const style = getComputedStyle(field);
    pen.font = style.font;
    // The arrow takes about 1.2em of the box besides the padding.
    const room = field.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 1.2 * parseFloat(style.fontSize);
    const widest = Math.max(...[...field.options].map(o => pen.measureText(o.text).width));
    return {name: field.name, widest, room};
  });
}"""


@pytest.mark.parametrize("width", [WIDTH, 1280])
def test_every_choice_of_the_board_filters_fits_its_box(
    browser: Browser, live: Live, width: int
) -> None:
    """ "Yang perlu perhatian dulu" and every other choice is read whole, not cut, on a phone
    and on a desktop, in both languages."""
    context = browser.new_context(viewport={"width": width, "height": HEIGHT})
    page = context.new_page()
    sign_in(page, live, "viewer@example.com")
    cut = []
    for lang in ("en", "id"):
        page.goto(f"{live.url}/board?lang={lang}")
        fields = page.evaluate(CHOICES)
        assert {f["name"] for f in fields} >= {"group", "owner", "status"}, fields
        cut += [(lang, f) for f in fields if f["widest"] > f["room"]]
    context.close()
    assert not cut, cut


# The server's picture of the chart (before Plotly's): shown ticks of each axis never cross
# one another, and the legend lies below the plot.
SKETCH = """() => {
  const cross = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const shown = (s) => [...document.querySelectorAll('#chart .sketch ' + s)]
    .filter((t) => getComputedStyle(t).display !== 'none')
    .map((t) => [t.textContent, t.getBoundingClientRect()]);
  const found = [];
  for (const axis of ['text.x', 'text.y']) {
    const ticks = shown(axis);
    for (let i = 1; i < ticks.length; i++)
      if (cross(ticks[i - 1][1], ticks[i][1])) found.push(ticks[i - 1][0] + ' x ' + ticks[i][0]);
  }
  const plot = document.querySelector('#chart .sketch-plot').getBoundingClientRect();
  const legend = document.querySelector('#chart .sketch-legend').getBoundingClientRect();
  if (legend.top < plot.bottom) found.push('legend over the plot');
  return {ticks: shown('text.x').length, found};
}"""


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_chart_before_plotly_fits_a_phone(browser: Browser, live: Live, lang: str) -> None:
    """The chart's first picture, drawn by the server, with Plotly held back: it fits the
    screen, names few enough periods to read, and its legend stays below the plot."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    sign_in(page, live, "admin@example.com")
    page.route("**/static/plotly.min.js*", lambda route: route.abort())
    wrong: dict[str, Any] = {}
    for path in (f"/kpis/revenue?lang={lang}", f"/kpis/revenue?by=region&lang={lang}"):
        page.goto(f"{live.url}{path}", wait_until="load")
        expect(page.locator("#chart .sketch")).to_be_visible()
        found = {"overflow": page.evaluate(OVERFLOW)}
        sketch: dict[str, Any] = page.evaluate(SKETCH)
        if sketch["found"] or not 2 <= sketch["ticks"] <= 5:
            found["sketch"] = sketch
        if any(found.values()):
            wrong[path] = found
    screenshot(page, f"kpi-sketch-375-{lang}")
    context.close()
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)
