from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "projects"
EXAMPLE = ROOT / "examples" / "toko"


@pytest.fixture
def fixture_project() -> type[Path]:
    return Path


def project_path(name: str) -> Path:
    return FIXTURES / name
