"""Indonesian pages, e-mails and reports hold no English words: every page and every message
is rendered in Indonesian over a shop whose names are Indonesian, its visible text (and the
title, aria-label and placeholder a person reads) cut into words, and each word held against
common English words that are not Indonesian. A word found is a string left untranslated."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import shop as made
from tests.server.conftest import Shop
from tolok.display import slice_text
from tolok.notify import report
from tolok.notify.alert_text import alert_message
from tolok.notify.digest import build_digest, digest_title
from tolok.server.app import create_app
from tolok.spec.loader import load_project

# Common English words that Indonesian does not use. Not here, as Indonesian writes them too:
# target, data, dataset, status, total, terminal, per, email, format.
ENGLISH = frozenset(
    re.findall(
        r"\w+",
        """
    the of and to by with track since value values period periods month months week year
    change changed refreshed refresh download share shared sign show shows add added goal goals
    why moved heading forecast this last first from more less not only when what which your
    you is are was were be been has have had will would should can could for in on at or
    but if then than there their they them it its into about after before over under between
    new old see open close save saved remove delete edit enter entry error errors name names
    owner owners review board catalog template templates datasets rows row column
    columns kpis sum average count ratio rate below above reached risk off no yes all any none
    each every other some such here how who where because so also still yet just up down
    recommended suggested command run alert alerts rule rules digest report made
    """,
    )
)
# Names, units and brand words a page may show as they are.
ALLOWED = {"tolok", "kpi", "csv", "png", "excel", "json", "api", "email", "pdf", "xlsx", "idr",
           "rp", "utc", "sql", "yaml"}  # fmt: skip

GLOSSES = ["(bounce rate)"]  # the catalog names a term's English original once, on purpose
NAMES = {  # the shop's English names, said in Indonesian
    "title: Revenue\n": "title: Pendapatan\n",
    "The amount of the orders placed in the month.": "Jumlah pesanan bulan itu.",
    "title: Orders\n": "title: Pesanan\n",
    "The number of orders placed in the month.": "Banyaknya pesanan bulan itu.",
    "title: Average order value": "title: Nilai rata-rata pesanan",
    "The revenue of the month divided by its number of orders.": "Pendapatan dibagi pesanan.",
    "title: Ad spend": "title: Biaya iklan",
    "What the ads of the month cost, typed in by marketing.": "Biaya iklan bulan itu.",
    "title: Grow revenue": "title: Tumbuhkan pendapatan",
    "title: Win customers cheaply": "title: Raih pelanggan dengan hemat",
    "Run a weekend promotion": "Adakan promo akhir pekan",
    "Call back abandoned carts": "Hubungi keranjang yang ditinggalkan",
    "locale: en": "locale: id",
}
ALERTS = """
email: {host: 127.0.0.1, port: 2525, security: none, sender: tolok@tokomaju.id}
channels:
  penjualan: {email: [dewi@example.com]}
alerts:
  pendapatan-meleset:
    when: status
    kpis: revenue
    notify: [penjualan]
    note: Lihat toko Bali dulu.
"""


class Text(HTMLParser):
    """The words a person reads: text outside scripts, styles and code (a formula, a command,
    a file's column names are written as the machine wants them), and three attributes."""

    SHOWN = ("title", "aria-label", "placeholder")
    HIDDEN = ("script", "style", "code")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        self.parts += [value or "" for key, value in attrs if key in self.SHOWN]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    """Each English word left in `html`'s readable text, with the words around it."""
    reader = Text()
    reader.feed(html)
    text = " ".join(" ".join(reader.parts).split())
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)  # addresses are not words
    for gloss in GLOSSES:
        text = text.replace(gloss, " ")
    found = set()
    for word in re.finditer(r"[A-Za-z]+", text):
        if word.group().lower() in ENGLISH - ALLOWED:
            found.add(f"{word.group()}: …{text[max(0, word.start() - 30) : word.end() + 30]}…")
    return sorted(found)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("toko")
    made.build(folder, dt.datetime.now(dt.UTC).date())
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    for english, indonesian in NAMES.items():
        text = text.replace(english, indonesian)
    (folder / "tolok.yaml").write_text(text + ALERTS, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def served(root: Path) -> Iterator[Shop]:
    app = create_app(root, refresh_delay=0.05)
    with TestClient(app) as client:
        yield Shop(root, client, [], dt.date.today())
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


def pages(served: Shop) -> dict[str, str]:
    admin = served.browser("admin@example.com")
    admin.get("/board", params={"lang": "id"})  # remembered in a cookie from here on
    share = admin.post("/shares/new", data={"csrf": admin.headers["X-CSRF-Token"],
                       "kind": "kpi", "target": "revenue", "days": "7"})  # fmt: skip
    found = re.search(r'id="created-secret">[^<]*(/s/[^<]+)<', share.text)
    assert found is not None, share.text
    anonymous = TestClient(served.client.app)
    anonymous.cookies.set("tolok_lang", "id")
    out = {"share created": share.text}
    for path in ("/board", "/kpis/revenue", "/kpis/revenue?by=region", "/kpis/aov", "/entry",
                 "/catalog", "/catalog/conversion_rate", "/goals", "/review", "/admin",
                 "/kpis/nope", "/kpis/revenue/edit", "/kpis/aov/edit"):  # fmt: skip
        out[path] = admin.get(path, headers={"accept": "text/html"}).text
    out["share"] = anonymous.get(found.group(1)).text
    out["signin"] = anonymous.get("/signin").text
    typed = admin.post("/entry/values", data={"csrf": admin.headers["X-CSRF-Token"],
                       "dataset": "ad_spend", "measure": "spend", "period": "2026-01",
                       "value": "banyak"})  # fmt: skip
    assert "1.234,5" in typed.text  # the number format to follow
    out["entry with a wrong value"] = typed.text
    when = admin.post("/entry/values", data={"csrf": admin.headers["X-CSRF-Token"],
                      "dataset": "ad_spend", "measure": "spend", "period": "kemarin",
                      "value": "1.500,5"})  # fmt: skip
    assert when.status_code == 400
    out["entry with a wrong period"] = when.text
    return out


def test_every_indonesian_page_is_in_indonesian(served: Shop) -> None:
    shown = pages(served)
    assert "membuat tautan berbagi" in shown["/admin"]  # share.create, in words
    assert "KPI Pendapatan" in shown["/admin"]  # what the link shows, by its title
    assert "Tambahkan dari terminal" in shown["/catalog/conversion_rate"]
    assert 'role="alert"' not in shown["/catalog/conversion_rate"]  # a template is no error
    assert "KPI aov" not in shown["/kpis/aov"]  # its findings say "KPI ini", not its YAML name
    assert "KPI ini tidak menyebut periodenya" in shown["/kpis/aov"]
    assert "deskripsi KPI ini hanya" in shown["/kpis/aov"]
    assert ">Biaya iklan</h3>" in shown["/entry"]  # the KPI it feeds, not "ad_spend"
    assert "jumlah amount di orders" in shown["/kpis/revenue"]  # a sentence, not "(dataset …)"
    left = {path: english_words(html) for path, html in shown.items()}
    assert not any(left.values()), "\n".join(f"{p}: {w}" for p, ws in left.items() for w in ws)


def test_every_indonesian_message_is_in_indonesian(root: Path) -> None:
    loaded = load_project(root)
    assert loaded.project is not None, loaded.problems
    project = loaded.project
    today = dt.datetime.now(dt.UTC).date()
    digest = build_digest(loaded, list(project.kpis), "id", title=digest_title("day", "id"),
                          url="https://kpi.example.com", today=today)  # fmt: skip
    assert digest is not None
    rule = project.alerts["pendapatan-meleset"]
    last = made.month_start(today, 1)
    detail = {"status": "off_track", "value": 100.0, "target": 300.0, "attainment": 1 / 3,
              "previous": 120.0, "change": -1 / 6}  # fmt: skip
    opened = alert_message(project, "pendapatan-meleset", rule, "revenue", last, detail, "id")
    closed = alert_message(project, "pendapatan-meleset", rule, "revenue", last, {}, "id", True)
    built = report.build(loaded, None, None, "id")
    texts = {
        "digest html": digest.html or "",
        "digest text": digest.text,
        "alert html": opened.html or "",
        "alert text": opened.subject + "\n" + opened.text,
        "resolved": closed.subject + "\n" + closed.text,
        "report html": report.to_html(built),
        "report markdown": report.to_markdown(built),
    }
    for name, text in texts.items():
        assert "Pendapatan" in text, name  # the shop's names, in Indonesian
    left = {name: english_words(text) for name, text in texts.items()}
    assert not any(left.values()), "\n".join(f"{n}: {w}" for n, ws in left.items() for w in ws)


def test_an_indonesian_page_takes_a_day_as_indonesians_write_it(served: Shop) -> None:
    editor = served.browser("editor@example.com")
    page = editor.get("/kpis/revenue", params={"lang": "id"}).text
    assert 'placeholder="hh/bb/tttt"' in page  # a text field: a date field follows the browser
    csrf = editor.headers["X-CSRF-Token"]
    noted = editor.post("/kpis/revenue/annotations", data={"csrf": csrf, "day": "10/02/2026",
                        "text": "Promo akhir pekan"}, follow_redirects=False)  # fmt: skip
    assert noted.status_code == 303
    [note] = editor.get("/kpis/revenue.json").json()["annotations"]
    assert note["day"] == "2026-02-10"
    wrong = editor.post("/kpis/revenue/annotations", data={"csrf": csrf, "day": "31/02/2026",
                        "text": "Promo"})  # fmt: skip
    assert wrong.status_code == 400
    assert "Tulis harinya seperti 15/03/2026." in wrong.text


def test_a_slice_is_said_in_words() -> None:
    assert slice_text({"platform": "google"}) == "Platform: google"
    assert slice_text({"sales_channel": "web", "region": "Bali"}) == (
        "Sales channel: web, Region: Bali"
    )
