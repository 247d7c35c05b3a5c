"""What every browser journey (issue 12) does on each page it visits, at 360 px and 1366 px.

    from tests.browser.journey import Journey, sign_in_as, fr

    def test_the_nurse_works_an_urgent_result(live_server, viewport, world):
        journey = Journey(viewport, "nurse")          # screenshots in <SHOTS>/nurse/<width>/
        sign_in_as(viewport, live_server, world["nurse"])
        viewport.goto(f"{live_server.url}/suivi/")
        journey.check("worklist")                      # screenshot + no sideways scroll + axe

`viewport` (tests/browser/conftest.py) runs the test twice: on a 360 px phone and at 1366 px
(the desktop run is a slow proof: tests/conftest.py keeps it for the PostgreSQL pass).
`Journey.check` saves a full-page screenshot, asserts the page does not scroll horizontally
(`document.documentElement.scrollWidth <= window.innerWidth`) and that axe-core finds nothing
critical or serious. A failing test saves a screenshot too (conftest's `_shot_on_failure`), in
<SHOTS>/failures/. SHOTS is $RELEVE_SCREENSHOTS (one folder per CI pass, listed by .ci/run) or
var/screenshots/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from tests.browser.axe import assert_no_serious_violations

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("RELEVE_SCREENSHOTS") or ROOT / "var" / "screenshots")


def fr(text: str) -> str:
    """What the French pages show for `text` (the catalogue's French, English until compiled)."""
    with translation.override("fr"):
        return gettext(text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120]


def sign_in_as(page, live_server, user) -> None:
    """Put `user`'s session cookie in the browser (the journeys that are not about signing in)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def fits_width(page) -> tuple[int, int]:
    """(scrollWidth, innerWidth) of the page: a page fits when the first is not above the second."""
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


class Journey:
    """One journey's screenshots and per-page checks, in <SHOTS>/<name>/<width>/."""

    def __init__(self, page, name: str):
        self.page = page
        width = page.viewport_size["width"] if page.viewport_size else 0
        self.folder = SHOTS / slug(name) / str(width)
        self.step = 0
        self.visited: list[str] = []

    def shot(self, label: str) -> Path:
        self.step += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.step:02d}-{slug(label)}.png"
        self.page.wait_for_timeout(150)
        self.page.screenshot(path=path, full_page=True)
        return path

    def check(self, label: str, *, axe: bool = True) -> None:
        """Screenshot, then: no horizontal scrolling, and axe finds nothing critical or serious."""
        self.shot(label)
        self.visited.append(self.page.url)
        scroll, inner = fits_width(self.page)
        assert scroll <= inner, f"{label} ({self.page.url}) scrolls sideways: {scroll} > {inner}"
        if axe:
            try:
                assert_no_serious_violations(self.page)
            except AssertionError as failure:
                raise AssertionError(f"{label} ({self.page.url}): {failure}") from None
