"""Every string the pages and the terminal show is translated to Indonesian, same placeholders:
those marked `_("…")` and a project's problems, marked `say("…")` in `tolok/spec`."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from tolok.i18n import messages

ROOT = Path(__file__).parents[2] / "tolok"
METHODS = [
    ("server/**.py", "python"),
    ("notify/**.py", "python"),
    ("i18n.py", "python"),
    ("answers/**.py", "python"),
    ("cli/**.py", "python"),
    ("spec/**.py", "python"),
    ("server/templates/**.html", "jinja2"),
    ("notify/templates/**.html", "jinja2"),
]


KEYWORDS: dict[str, None] = {"_": None, "say": None}  # as the Makefile's `-k _ -k say`


def extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def test_every_page_string_is_translated_to_indonesian() -> None:
    wanted = extracted()
    assert len(wanted) > 150
    table = messages("id")
    missing = sorted(m for m in wanted if not table.get(m))
    assert missing == []
    for english in wanted:
        holes = set(re.findall(r"\{(\w+)\}", english))
        assert set(re.findall(r"\{(\w+)\}", table[english])) == holes, english
