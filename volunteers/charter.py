"""The follow-up charter a volunteer signs (French text kept in `volunteers/charters/`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

CHARTERS = Path(__file__).resolve().parent / "charters"
CURRENT_VERSION = "1"


@cache
def charter_text(version: str = CURRENT_VERSION) -> str:
    return (CHARTERS / f"v{version}.md").read_text(encoding="utf-8")
