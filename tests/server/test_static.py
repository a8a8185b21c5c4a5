"""The static files (issue 21, item 7): compressed once per process (brotli, gzip) when the
client asks for it, the bytes as they are otherwise; kept a year at the fingerprinted
address a page links, checked again (304) at any other."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import Served
from tolok.server import assets

NAMES = ["tolok.css", "tolok.js", "plotly.min.js"]


def raw(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body as sent (httpx would decompress it)."""
    with client.stream("GET", path, headers=headers) as answer:
        return answer.status_code, dict(answer.headers), b"".join(answer.iter_raw())


def original(name: str) -> bytes:
    path = assets.source(name)
    assert path is not None
    return path.read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_gzip_and_brotli_when_asked_identity_otherwise(served: Served, name: str) -> None:
    client, url, body = served.client, assets.url(name), original(name)
    status, headers, sent = raw(client, url, **{"accept-encoding": "gzip, deflate"})
    assert (status, headers["content-encoding"]) == (200, "gzip")
    assert headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(sent) == body
    assert int(headers["content-length"]) == len(sent) < len(body) / 2
    status, headers, sent = raw(client, url, **{"accept-encoding": "gzip, deflate, br, zstd"})
    assert (status, headers["content-encoding"]) == (200, "br")
    assert brotli.decompress(sent) == body
    for asked in ("identity", "", "gzip;q=0, br;q=0", "compress"):
        status, headers, sent = raw(client, url, **{"accept-encoding": asked})
        assert status == 200, asked
        assert "content-encoding" not in headers, asked
        assert headers["vary"] == "Accept-Encoding"
        assert sent == body
    assert raw(client, url, **{"accept-encoding": "br;q=0, gzip"})[1]["content-encoding"] == "gzip"
    assert raw(client, url, **{"accept-encoding": "*"})[1]["content-encoding"] == "br"


def test_the_content_type_stays(served: Served) -> None:
    css = served.client.get(assets.url("tolok.css"), headers={"accept-encoding": "br"})
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    js = served.client.get(assets.url("plotly.min.js"), headers={"accept-encoding": "gzip"})
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"plotly" in js.content[:2000].lower()  # decompressed by the client


def test_the_fingerprinted_address_is_kept_a_year_any_other_is_checked(served: Served) -> None:
    client = served.client
    url = assets.url("plotly.min.js")
    assert url.startswith("/static/plotly.min.js?v=")
    assert client.get(url).headers["cache-control"] == "public, max-age=31536000, immutable"
    for other in ("/static/plotly.min.js", "/static/plotly.min.js?v=0.1.0"):
        assert client.get(other).headers["cache-control"] == "public, no-cache", other


def test_pages_link_the_fingerprinted_addresses(served: Served) -> None:
    page = served.browser("viewer@example.com").get("/kpis/revenue").text
    for name in NAMES:
        assert f'"{assets.url(name)}"' in page, name
    assert "/static/plotly.min.js?v=0.1.0" not in page
    signin = served.client.get("/signin").text  # before anyone signs in
    assert f'href="{assets.url("tolok.css")}"' in signin


def test_head_answers_as_get_without_the_body(served: Served) -> None:
    client = TestClient(served.client.app)
    url = assets.url("tolok.js")
    for asked in ("br", "gzip", "identity"):
        got = client.get(url, headers={"accept-encoding": asked})
        head = client.head(url, headers={"accept-encoding": asked})
        assert head.status_code == 200
        assert head.content == b""
        for name in ("content-encoding", "content-length", "etag", "cache-control", "vary"):
            assert head.headers.get(name) == got.headers.get(name), (asked, name)


def test_304_when_the_client_holds_the_file(served: Served) -> None:
    client, url = served.client, assets.url("tolok.css")
    first = client.get(url, headers={"accept-encoding": "gzip"})
    tag = first.headers["etag"]
    again = client.get(url, headers={"accept-encoding": "gzip", "if-none-match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert again.headers["vary"] == "Accept-Encoding"
    # A weak form of the tag, a list, and the tag of another coding name the same file.
    for held in (f"W/{tag}", f'"other", {tag}', tag.replace("-gzip", "-br"), "*"):
        answer = client.get("/static/tolok.css", headers={"if-none-match": held})
        assert answer.status_code == 304, held
    changed = client.get(url, headers={"if-none-match": '"not-this-one"'})
    assert changed.status_code == 200
    assert changed.content == original("tolok.css")


def test_compressed_once_per_process(monkeypatch: pytest.MonkeyPatch, served: Served) -> None:
    monkeypatch.setattr(assets, "_KEPT", {})
    made: list[str] = []
    compress = assets._compress

    def counted(body: bytes, coding: str) -> bytes:
        made.append(coding)
        return compress(body, coding)

    monkeypatch.setattr(assets, "_compress", counted)
    for _ in range(3):
        for coding in ("br", "gzip", "identity"):
            served.client.get(assets.url("tolok.js"), headers={"accept-encoding": coding})
    assert sorted(made) == ["br", "gzip"]


def test_a_file_changed_on_disk_is_read_again(
    monkeypatch: pytest.MonkeyPatch, served: Served, tmp_path: Path
) -> None:
    monkeypatch.setattr(assets, "_KEPT", {})
    path = tmp_path / "static" / "tolok.css"
    path.parent.mkdir()
    path.write_text("body { color: red }\n", encoding="utf-8")
    monkeypatch.setattr(assets, "source", lambda name: path if name == "tolok.css" else None)
    before = assets.url("tolok.css")
    assert served.client.get(before).text == "body { color: red }\n"
    path.write_text("body { color: blue; margin: 0 }\n", encoding="utf-8")
    after = assets.url("tolok.css")
    assert after != before
    answer = served.client.get(after, headers={"accept-encoding": "gzip"})
    assert answer.text == "body { color: blue; margin: 0 }\n"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.client.get(before).headers["cache-control"] == "public, no-cache"


def test_only_the_known_files(served: Served) -> None:
    for path in ("/static/../tolok.yaml", "/static/secret.txt", "/static/widgetbundle.js"):
        assert served.client.get(path).status_code == 404, path
