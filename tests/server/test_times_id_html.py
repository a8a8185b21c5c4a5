"""A time of day on an Indonesian page, e-mail or report is written as Indonesians write it,
`06.51`, never `06:51` (issue 21, item 3): every page of the shop rendered in Indonesian,
after a comment, a target and a share link gave them times to show, holds no `dd:dd` time
in the text a person reads — and the times it shows are there, in `dd.dd`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests import shop as made
from tests.server.conftest import Shop
from tests.server.test_no_english_in_id import Text
from tolok.notify import report
from tolok.notify.digest import build_digest, digest_title
from tolok.server.app import create_app
from tolok.spec.loader import load_project

COLON_TIME = re.compile(r"(?<![\d.:])\d{1,2}:\d{2}(?![\d:])")
DOT_TIME = re.compile(r"\b\d{2}\.\d{2}\b")


def readable(html: str) -> str:
    reader = Text()
    reader.feed(html)
    return " ".join(" ".join(reader.parts).split())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    root = tmp_path_factory.mktemp("toko-waktu")
    made.build(root, dt.datetime.now(dt.UTC).date())
    app = create_app(root, refresh_delay=0.05, schedules=False)
    with TestClient(app) as client:
        yield Shop(root, client, [], dt.date.today())
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


def test_indonesian_pages_write_times_with_a_dot(served: Shop) -> None:
    admin = served.browser("admin@example.com")
    admin.get("/board", params={"lang": "id"})  # the language, kept in a cookie
    csrf = admin.headers["X-CSRF-Token"]
    last = made.month_start(served.today, 1)
    admin.post("/kpis/revenue/comments", data={"csrf": csrf, "text": "Promo di Bali"})
    admin.post("/entry/targets", data={"csrf": csrf, "kpi": "orders", "value": "5",
               "period": f"{last:%Y-%m}"})  # fmt: skip
    admin.post("/shares/new", data={"csrf": csrf, "kind": "kpi", "target": "revenue",
               "days": "7"})  # fmt: skip
    shown = {}
    for path in ("/board", "/kpis/revenue", "/entry", "/review", "/goals", "/admin"):
        answer = admin.get(path, headers={"accept": "text/html"})
        assert answer.status_code == 200, (path, answer.text[:300])
        shown[path] = readable(answer.text)
    found = {path: COLON_TIME.findall(text) for path, text in shown.items()}
    assert not any(found.values()), found
    # The times are there, Indonesian style: the refresh, the comment, the target, the log.
    assert re.search(r"Diperbarui \d{1,2} \w{3} \d{4} \d{2}\.\d{2} UTC", shown["/board"])
    for path in ("/kpis/revenue", "/entry", "/admin"):
        assert DOT_TIME.search(shown[path]), path


def test_indonesian_e_mails_and_reports_write_times_with_a_dot(served: Shop) -> None:
    loaded = load_project(served.root)
    assert loaded.project is not None, loaded.problems
    built = report.build(loaded, None, None, "id")
    assert DOT_TIME.fullmatch(built.made_at.split()[-1]), built.made_at
    digest = build_digest(loaded, list(loaded.project.kpis), "id", title=digest_title("day", "id"),
                          url="https://kpi.example.com", today=served.today)  # fmt: skip
    assert digest is not None
    texts = {
        "report html": readable(report.to_html(built)),
        "report markdown": report.to_markdown(built),
        "digest html": readable(digest.html or ""),
        "digest text": digest.text,
    }
    found = {name: COLON_TIME.findall(text) for name, text in texts.items()}
    assert not any(found.values()), found


def test_english_pages_keep_the_colon(served: Shop) -> None:
    viewer = served.browser("viewer@example.com")
    page = readable(viewer.get("/board", params={"lang": "en"}).text)
    assert re.search(r"Refreshed \d{1,2} \w{3} \d{4} \d{2}:\d{2} UTC", page), page[:400]
