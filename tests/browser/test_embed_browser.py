"""An embed in another site's page, in Chromium: an intranet page served from another
loopback port frames a KPI's chart, drawn in Indonesian and sized to its frame, when
`tolok.yaml` lists that page's origin; the same page from an origin not listed is refused
(the browser blocks the frame: `frame-ancestors`). The frame is read at `localhost`, the
pages at `127.0.0.1`: another site, so the embed gets no cookie of tolok's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.conftest import Live
from tests.shop import month_start, monthly
from tolok.server.embeds import HEIGHTS, create_link
from tolok.store.people import User

INTRANET = """<!doctype html><html><head><title>Intranet</title></head><body>
<h1>Intranet</h1>
<iframe id="kpi" src="{src}" title="Revenue" width="{width}" height="{height}"
  frameborder="0"></iframe>
</body></html>"""


@contextmanager
def intranet(src: str, width: int = 320, height: int = 360) -> Iterator[str]:
    """A plain page (Python's http.server, in a thread) with an `<iframe>` of `src`, on a
    free port of 127.0.0.1; yields the page's address, which is its origin."""
    body = INTRANET.format(src=src, width=width, height=height).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def embed_of(live: Live, view: str) -> str:
    """A new embed of the revenue KPI's `view`, made by the editor: its path, /e/SECRET."""
    with Session(live.app.state.tolok.engine) as session, session.begin():
        editor = session.scalars(select(User).where(User.email == "editor@example.com")).one()
        _, secret = create_link(session, editor, "kpi", "revenue", view, None)
    return f"/e/{secret}"


def list_origin(live: Live, origin: str) -> None:
    with (live.root / "tolok.yaml").open("a", encoding="utf-8") as file:
        file.write(f"embed: {{origins: ['{origin}']}}\n")


def test_a_listed_site_frames_the_chart_and_another_is_refused(page: Page, live: Live) -> None:
    path = embed_of(live, "chart")
    src = live.url.replace("127.0.0.1", "localhost") + path + "?lang=id"
    revenue = monthly(live.rows, month_start(live.today, 1))[0]
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    with intranet(src) as listed, intranet(src) as other:
        list_origin(live, listed)
        page.goto(listed)
        frame = page.frame_locator("#kpi")
        expect(frame.locator("#chart .main-svg").first).to_be_attached(timeout=30_000)
        expect(frame.locator("html")).to_have_attribute("lang", "id")
        head = frame.locator(".embed-head")
        expect(head).to_contain_text("Rp\u00a0" + f"{revenue:,}".replace(",", "."))
        expect(head.locator(".badge")).to_have_text("Sesuai target")  # 185 % of its target
        expect(frame.locator("a")).to_have_count(0)  # no way out of the frame into the app
        inner = page.frames[1]
        assert inner.url == src
        size = inner.evaluate("""() => ({
            width: innerWidth, height: innerHeight,
            scrolls: document.documentElement.scrollHeight > innerHeight
                     || document.documentElement.scrollWidth > innerWidth,
            plot: document.querySelector("#chart .main-svg").getBoundingClientRect().width})""")
        assert (size["width"], size["height"]) == (320, 360)
        assert not size["scrolls"]
        assert 280 <= size["plot"] <= 320  # the chart fills the frame's width
        assert inner.evaluate("document.cookie") == ""
        page.evaluate("document.getElementById('kpi').width = 640")  # the frame grows
        inner.wait_for_function(
            "() => document.querySelector('#chart .main-svg').getBoundingClientRect().width > 560"
        )

        assert not [text for text in said if "Content Security Policy" in text]  # Plotly too
        said.clear()
        page.goto(other)
        page.wait_for_load_state("load")
        expect(page.locator("h1")).to_have_text("Intranet")
        refused = page.frames[1]
        page.wait_for_timeout(500)
        assert refused.url != src  # Chromium put its error page in the frame's place
        assert refused.evaluate("document.querySelector('#chart') === null")
        # "Refused to frame …" in older Chromium, "Framing … violates …" in newer: both
        # name the directive and the origins it allows, which the other page is not.
        refusal = f'"frame-ancestors {listed}"'
        assert any(refusal in text and ("Refused" in text or "blocked" in text) for text in said)


def test_a_card_fills_a_narrow_frame_without_scrolling(page: Page, live: Live) -> None:
    src = (
        live.url.replace("127.0.0.1", "localhost") + embed_of(live, "card") + "?lang=id&theme=dark"
    )
    with intranet(src, width=300, height=HEIGHTS["card"]) as listed:
        list_origin(live, listed)
        page.goto(listed)
        frame = page.frame_locator("#kpi")
        expect(frame.locator("article.card")).to_be_visible()
        expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
        fits = page.frames[1].evaluate("""() => {
            const root = document.documentElement, owner = document.querySelector(".owner");
            return {scrolls: root.scrollHeight > innerHeight || root.scrollWidth > innerWidth,
                    last: owner.getBoundingClientRect().bottom, height: innerHeight,
                    card: document.querySelector("article.card").getBoundingClientRect().width};
        }""")
        assert not fits["scrolls"]
        assert fits["last"] <= fits["height"]  # the whole card, its owner's line the last
        assert fits["card"] >= 280  # the card takes the frame's width
