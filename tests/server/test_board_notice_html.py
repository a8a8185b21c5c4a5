"""The board's notice when its figures are missing or old (issue 21, item 6): a sentence a
manager can act on — what is missing and who can fix it — in English and Indonesian; the
command only for an admin, in a <code> element."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.server.conftest import Served
from tolok.store.schema import Refresh

EMPTY = {
    "en": "No figures yet: the data has not been loaded. Ask the person who looks after tolok "
    "to load it.",
    "id": "Belum ada angka: datanya belum dimuat. Minta orang yang mengelola tolok untuk "
    "memuatnya.",
}
COMMAND = "<code>tolok refresh</code>"


def notice(html: str) -> str:
    found = re.search(r'<p class="notice[^"]*">(.*?)</p>', html, re.S)
    assert found is not None, html[:2000]
    return " ".join(found.group(1).split())


def test_an_empty_store_is_said_to_a_manager_and_the_command_shown_to_an_admin(
    served: Served,
) -> None:
    viewer, admin = served.browser("viewer@example.com"), served.browser("admin@example.com")
    assert viewer.get("/board.json").json()["notice"] == "empty"
    for lang, sentence in EMPTY.items():
        said = notice(viewer.get("/board", params={"lang": lang}).text)
        assert said == sentence
        assert "tolok refresh" not in said  # a manager cannot run it
        for_admin = notice(admin.get("/board", params={"lang": lang}).text)
        assert for_admin.startswith(sentence)
        assert COMMAND in for_admin
    assert "Untuk memuatnya, jalankan <code>tolok refresh</code> di folder proyek." in notice(
        admin.get("/board", params={"lang": "id"}).text
    )


def test_a_failed_refresh_after_a_good_one_says_the_figures_are_old(served: Served) -> None:
    done, failed = dt.datetime(2026, 2, 27, 23, 5), dt.datetime(2026, 2, 28, 23, 40)  # UTC
    with Session(served.client.app.state.tolok.engine) as session, session.begin():
        session.execute(insert(Refresh), [
            {"started_at": done, "finished_at": done, "status": "done"},
            {"started_at": failed, "finished_at": failed, "status": "failed"},
        ])  # fmt: skip
    viewer = served.browser("viewer@example.com")
    page = viewer.get("/board.json").json()
    assert page["notice"] == "failed"
    assert page["refreshed_text"] == "27 Feb 2026 23:05 UTC"  # the figures' time
    assert page["failed_text"] == "28 Feb 2026 23:40 UTC"
    html = viewer.get("/board").text
    assert "Refreshed 27 Feb 2026 23:05 UTC" in html
    assert notice(html) == (
        "The last update of the figures failed (28 Feb 2026 23:40 UTC), so they are not the "
        "latest. Ask the person who looks after tolok to look into it."
    )
    indonesian = notice(viewer.get("/board", params={"lang": "id"}).text)
    assert indonesian.startswith("Pembaruan angka terakhir gagal (28 Feb 2026 23.40 UTC)")
    admin = notice(served.browser("admin@example.com").get("/board").text)
    assert f"Run {COMMAND} in the project's folder to see why and try again." in admin


def test_a_good_refresh_after_a_failed_one_needs_no_notice(served: Served) -> None:
    failed, done = dt.datetime(2026, 2, 27, 23, 5), dt.datetime(2026, 2, 28, 23, 40)
    with Session(served.client.app.state.tolok.engine) as session, session.begin():
        session.execute(insert(Refresh), [
            {"started_at": failed, "finished_at": failed, "status": "failed"},
            {"started_at": done, "finished_at": done, "status": "done"},
        ])  # fmt: skip
    page = served.browser("viewer@example.com").get("/board.json").json()
    assert page["notice"] is None
    assert page["refreshed_text"] == "28 Feb 2026 23:40 UTC"
