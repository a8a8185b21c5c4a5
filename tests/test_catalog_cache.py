"""A language's catalog is read by Babel once per content of its `.po` file, then from the
user's cache folder: the same translations, and an edited file is read again."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tolok.i18n import LOCALES, read_catalog

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Owner"
msgstr "Penanggung jawab"

#, fuzzy
msgid "Draft"
msgstr "Konsep"

msgid "Untranslated"
msgstr ""
"""


def test_kept_once_read_and_read_again_when_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    po = tmp_path / "messages.po"
    po.write_text(PO, encoding="utf-8")
    assert read_catalog(po, "id") == {"Owner": "Penanggung jawab"}  # no fuzzy, no empty
    [kept] = (tmp_path / "cache" / "tolok").iterdir()
    assert kept.name.startswith("messages-id-")
    assert read_catalog(po, "id") == {"Owner": "Penanggung jawab"}  # from the cache now
    po.write_text(PO.replace("Penanggung jawab", "Pemilik"), encoding="utf-8")
    assert read_catalog(po, "id") == {"Owner": "Pemilik"}
    assert len(list((tmp_path / "cache" / "tolok").iterdir())) == 2


def test_the_project_catalog_through_the_cache_is_babels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    po = LOCALES / "id" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="id")
    expected = {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    assert read_catalog(po, "id") == expected  # read by Babel, kept
    assert read_catalog(po, "id") == expected  # read from what was kept


def test_a_cache_that_cannot_be_written_is_done_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    po = tmp_path / "messages.po"
    po.write_text(PO, encoding="utf-8")
    assert read_catalog(po, "id") == {"Owner": "Penanggung jawab"}
