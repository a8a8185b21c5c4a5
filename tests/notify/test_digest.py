"""The digest e-mail: the KPIs asked, with values, statuses and changes worked out by hand
from the shop's rows; mail-safe HTML whose `cid:` images are all attached; charts that open."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from babel.dates import format_date
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from tests import shop
from tolok.notify import digest as digest_module
from tolok.notify.digest import build_digest, digest_title
from tolok.notify.messages import Message
from tolok.notify.pngchart import COLOURS, TARGET, line_png
from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import load_project
from tolok.store.database import open_store, store_url
from tolok.store.targets import set_target

URL = "https://kpi.example.com"
REVENUE_TARGET = 10_000_000  # set by a person for the last closed month: revenue falls short
ORDERS_TARGET = 4.4  # four orders a month reach 91%: at risk
ALL = ["revenue", "orders", "aov", "ad_spend"]


class Shop:
    def __init__(self, root: Path, rows: list[shop.Order], today: dt.date) -> None:
        self.root, self.rows, self.today = root, rows, today
        self.loaded: LoadedProject = load_project(root)
        self.last = shop.month_start(today, 1)
        self.before = shop.month_start(today, 2)

    def digest(self, kpis: list[str], lang: str = "en", title: str = "Daily digest") -> Message:
        message = build_digest(self.loaded, kpis, lang, title=title, url=URL, today=self.today)
        assert message is not None
        return message


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    root = tmp_path_factory.mktemp("shop")
    today = dt.datetime.now(dt.UTC).date()
    rows = shop.build(root, today)
    loaded = load_project(root)
    assert loaded.project is not None
    engine = open_store(store_url(loaded.project.store, root))
    period = f"{shop.month_start(today, 1):%Y-%m}"
    with Session(engine) as session, session.begin():
        set_target(session, loaded.project, "revenue", period, REVENUE_TARGET, {}, "test")
        set_target(session, loaded.project, "orders", period, ORDERS_TARGET, {}, "test")
    engine.dispose()
    return Shop(root, rows, today)


@pytest.fixture(scope="module")
def english(made: Shop) -> Message:
    return made.digest(ALL)


def status(value: float, target: float) -> str:
    """The default thresholds: 95% of the target is on track, 85% at risk."""
    share = value / target
    return "on_track" if share >= 0.95 else "at_risk" if share >= 0.85 else "off_track"


def expected(made: Shop) -> dict[str, tuple[float, float | None, str, str]]:
    """(value, target, status, status the month before) of each KPI, by hand."""
    revenue, count = shop.monthly(made.rows, made.last)
    revenue_before, count_before = shop.monthly(made.rows, made.before)
    return {
        "revenue": (revenue, REVENUE_TARGET, status(revenue, REVENUE_TARGET),
                    status(revenue_before, shop.REVENUE_TARGET)),
        "orders": (count, ORDERS_TARGET, status(count, ORDERS_TARGET), status(count_before, 4)),
        "aov": (revenue / count, None, "no_target", "no_target"),
    }  # fmt: skip


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def test_no_digest_without_kpis(made: Shop) -> None:
    assert build_digest(made.loaded, [], "en", title="Daily digest", today=made.today) is None
    nothing = build_digest(made.loaded, ["nope"], "en", title="x", today=made.today)
    assert nothing is None


def test_lists_exactly_the_kpis_asked(made: Shop) -> None:
    message = made.digest(["orders", "revenue"])
    assert message.kind == "digest"
    assert [k["name"] for k in message.payload["kpis"]] == ["orders", "revenue"]
    every = message.text[message.text.index("ALL KPIS") :]
    assert [t.split(" (")[0] for t in every.splitlines() if t.startswith("* ")] == [
        "* Orders",
        "* Revenue",
    ]
    for absent in ("Average order value", "Ad spend"):
        assert absent not in message.text
        assert absent not in (message.html or "")
    assert {i.cid.split("-", 1)[1] for i in message.images} == {"orders@tolok", "revenue@tolok"}


def test_values_statuses_and_changes_match_the_rows(made: Shop, english: Message) -> None:
    found = {k["name"]: k for k in english.payload["kpis"]}
    assert list(found) == ALL
    for name, (value, target, now, before) in expected(made).items():
        assert found[name]["value"] == pytest.approx(value), name
        assert found[name]["target"] == (None if target is None else pytest.approx(target))
        assert found[name]["status"] == now, name
        assert found[name]["status_before"] == before, name
        assert found[name]["period"] == made.last.isoformat()
    revenue, _ = shop.monthly(made.rows, made.last)
    revenue_before, _ = shop.monthly(made.rows, made.before)
    change = (revenue - revenue_before) / revenue_before
    assert found["revenue"]["change"] == pytest.approx(change)
    assert found["revenue"]["change_text"] == f"{change:+.1%}"
    assert found["revenue"]["value_text"] == f"IDR\u00a0{revenue:,}"
    assert found["ad_spend"]["status"] == "no_data"  # a manual dataset nobody filled in
    assert english.payload["project"] == "Toko Uji"
    statuses = [v[2] for v in expected(made).values()] + ["no_data"]
    for key in ("on_track", "at_risk", "off_track", "no_target", "no_data"):
        assert english.payload["counts"][key] == statuses.count(key)
    assert f"IDR\u00a0{revenue:,}" in english.text
    assert f"IDR\u00a0{revenue:,}" in (english.html or "")


def test_needs_attention_holds_off_track_then_at_risk(made: Shop, english: Message) -> None:
    hand = expected(made)
    wanted = [n for s in ("off_track", "at_risk") for n, v in hand.items() if v[2] == s]
    assert wanted == ["revenue", "orders"]  # the targets set above make it so
    assert english.payload["attention"] == wanted
    count = len(wanted)
    assert english.subject == f"Toko Uji: {count} KPIs need attention — Daily digest"
    text = section(english.text, "NEEDS ATTENTION", "WHAT CHANGED")
    assert text.index("* Revenue: Off track") < text.index("* Orders: At risk")
    assert "Average order value" not in text
    assert "Owner: sales@example.com" in text
    assert "Next step: Run a weekend promotion" in text  # each KPI's first action
    assert "Next step: Call back abandoned carts" in text
    assert f"{URL}/kpis/revenue" in text
    html = section(english.html or "", "Needs attention", "What changed since")
    assert html.index(">Revenue<") < html.index(">Orders<")
    assert "Average order value" not in html
    assert "Run a weekend promotion" in html
    assert f'href="{URL}/kpis/revenue"' in html
    assert 'src="cid:chart1-revenue@tolok"' in html  # its chart beside it


def test_a_chat_gets_the_digest_as_blocks(english: Message) -> None:
    header, counts, attention, *rest = english.blocks
    assert header == {"type": "header", "text": {"type": "plain_text", "text": english.subject}}
    assert counts["type"] == "context"
    said = attention["text"]["text"]
    assert said.startswith("*Needs attention*\n")
    assert said.index(f"<{URL}/kpis/revenue|Revenue>") < said.index(f"<{URL}/kpis/orders|Orders>")
    assert "Average order value" not in said
    assert all(block["type"] == "section" for block in rest)


def test_what_changed_lists_status_changes_and_the_biggest_move(
    made: Shop, english: Message
) -> None:
    text = section(english.text, "WHAT CHANGED", "ALL KPIS")
    assert "* Revenue: On track → Off track" in text
    assert "* Orders: On track → At risk" in text
    revenue, count = shop.monthly(made.rows, made.last)
    revenue_before, count_before = shop.monthly(made.rows, made.before)
    aov = (revenue / count) / (revenue_before / count_before) - 1
    assert f"* Average order value: {aov:+.1%}" in text
    assert "Ad spend" not in text  # no value, no move


def test_indonesian_digest_uses_indonesian_words_and_rupiah(made: Shop) -> None:
    message = made.digest(ALL, "id", title=digest_title("day", "id"))
    revenue, _ = shop.monthly(made.rows, made.last)
    rupiah = f"Rp\u00a0{revenue:,}".replace(",", ".")
    html = message.html or ""
    for words in ("Perlu perhatian", "Meleset", "Berisiko", "Penanggung jawab", rupiah,
                  format_date(made.last, "MMM y", locale="id")):  # fmt: skip
        assert words.lower() in message.text.lower(), words  # headings are in capitals
        assert words in html, words
    assert "IDR" not in message.text
    assert "Needs attention" not in html
    assert "Off track" not in html
    assert 'lang="id"' in html
    found = {k["name"]: k for k in message.payload["kpis"]}
    assert found["revenue"]["value_text"] == rupiah
    assert found["revenue"]["status_text"] == "Meleset"


def test_html_is_safe_for_mail_clients(english: Message) -> None:
    html = english.html or ""
    lowered = html.lower()
    for banned in ("<script", "javascript:", "<link", "@import", "url(", "display:flex",
                   "display:grid"):  # fmt: skip
        assert banned not in lowered, banned
    assert "max-width:640px" in html
    sources = re.findall(r'\bsrc="([^"]*)"', html)
    assert sources
    assert all(s.startswith("cid:") for s in sources)
    images = re.findall(r"<img\b[^>]*>", html)
    assert all(re.search(r'\balt="[^"]+"', i) for i in images)
    cids = [i.cid for i in english.images]
    assert len(cids) == len(set(cids))
    assert {s.removeprefix("cid:") for s in sources} == set(cids)
    assert all(i.alt for i in english.images)


def test_html_escapes_what_it_is_given(made: Shop) -> None:
    message = made.digest(["aov"], title="<b>Tim & Co</b>")
    assert "&lt;b&gt;Tim &amp; Co&lt;/b&gt;" in (message.html or "")
    assert "<b>Tim" not in (message.html or "")


def test_each_chart_opens_is_sized_and_drawn(english: Message) -> None:
    statuses = {k["name"]: k["status"] for k in english.payload["kpis"]}
    # a chart for every KPI with values, those needing attention first; none for ad_spend
    assert [i.cid for i in english.images] == [
        "chart1-revenue@tolok", "chart2-orders@tolok", "chart3-aov@tolok"]  # fmt: skip
    for image in english.images:
        picture = PILImage.open(io.BytesIO(image.png))
        assert picture.format == "PNG"
        assert picture.size == (1120, 360)  # 560 x 180 at twice the density
        rgb = picture.convert("RGB")
        assert len(rgb.getcolors(maxcolors=1 << 20) or []) > 1
        assert (np.asarray(rgb.convert("L")) < 128).sum() > 500, image.cid
        name = image.cid.split("-", 1)[1].removesuffix("@tolok")
        assert coloured(rgb, COLOURS[statuses[name]]) > 300, name  # the line, in its status


def test_charts_are_capped_and_keep_those_needing_attention(
    made: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_module, "CHARTS", 2)
    message = made.digest(["aov", "orders", "revenue"])
    assert [i.cid for i in message.images] == ["chart1-revenue@tolok", "chart2-orders@tolok"]
    sources = set(re.findall(r'src="cid:([^"]+)"', message.html or ""))
    assert sources == {i.cid for i in message.images}


def near(picture: PILImage.Image, colour: tuple[int, int, int], within: int = 40) -> Any:
    """A mask of the pixels close to `colour` (summed distance of R, G and B)."""
    pixels = np.asarray(picture.convert("RGB")).astype(int)
    return np.abs(pixels - np.array(colour)).sum(axis=2) <= within


def coloured(picture: PILImage.Image, colour: tuple[int, int, int], within: int = 40) -> int:
    """How many pixels are close to `colour`."""
    return int(near(picture, colour, within).sum())


def test_line_png_is_deterministic_and_sized() -> None:
    values: list[float | None] = [3.0, 5.0, 4.0, 6.0]
    labels = ["Jan", "Feb", "Mar", "Apr"]
    first = line_png(values, labels, target=5.5)
    assert first == line_png(values, labels, target=5.5)
    assert PILImage.open(io.BytesIO(first)).size == (560, 180)
    wide = line_png(values, labels, width=300, height=100, scale=2)
    assert PILImage.open(io.BytesIO(wide)).size == (600, 200)
    with pytest.raises(ValueError, match="4 values but 3 labels"):
        line_png(values, labels[:3])


def test_line_png_draws_the_target_dashed_and_leaves_gaps() -> None:
    labels = ["a", "b", "c", "d", "e"]
    with_target = PILImage.open(io.BytesIO(line_png([1.0] * 5, labels, target=2.0)))
    without = PILImage.open(io.BytesIO(line_png([1.0] * 5, labels)))
    assert coloured(with_target, TARGET, 20) > coloured(without, TARGET, 20) + 100
    mask = near(with_target, TARGET, 20)
    row = [int(x) for x in np.flatnonzero(mask[int(mask.sum(axis=1).argmax())])]
    dashes = 1 + sum(b - a > 2 for a, b in itertools.pairwise(row))
    assert dashes > 20  # a dashed line, not a solid one
    whole = columns(PILImage.open(io.BytesIO(line_png([1.0] * 5, labels))))
    broken = columns(PILImage.open(io.BytesIO(line_png([1.0, None, None, None, 1.0], labels))))
    assert widest_gap(whole) < 5
    assert widest_gap(broken) > 200  # nothing drawn between the first and last value


def test_line_png_labels_the_range_with_the_formatter() -> None:
    asked: list[float] = []

    def formatter(value: float) -> str:
        asked.append(value)
        return f"Rp {value:,.0f}"

    line_png([2_000.0, None, 8_000.0], ["Jan", "Feb", "Mar"], formatter=formatter)
    assert sorted(asked) == [2_000.0, 8_000.0]
    empty = PILImage.open(io.BytesIO(line_png([None, None], ["a", "b"])))
    assert empty.size == (560, 180)  # nothing to draw, still an image


def columns(picture: PILImage.Image) -> list[int]:
    """The x of every column holding a bluish pixel: the series of a KPI with no target,
    smoothed into the white (text and grid are grey)."""
    pixels = np.asarray(picture.convert("RGB")).astype(int)
    bluish = pixels[:, :, 2] - pixels[:, :, 0] > 40
    return [int(x) for x in np.flatnonzero(bluish.any(axis=0))]


def widest_gap(xs: list[int]) -> int:
    return max((b - a for a, b in itertools.pairwise(xs)), default=0)
