from __future__ import annotations

import os
import shutil

import pytest
from django.db import connections

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; Django's ORM would refuse
    # to run beside it. Only for the browser tests, and undone after them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    assert os.path.exists(CHROMIUM), "Debian's chromium is required: bash scripts/system-deps.sh"
    # Playwright switches the thread's context: Django's connection objects are then new ones,
    # without the serialized reference data that `serialized_rollback` restores between
    # transactional tests (regions, departments, catalogues). Carry it over.
    saved = {
        alias: getattr(connections[alias], "_test_serialized_contents", None)
        for alias in connections
    }
    with sync_playwright() as playwright:
        for alias, contents in saved.items():
            if contents is not None and not hasattr(
                connections[alias], "_test_serialized_contents"
            ):
                connections[alias]._test_serialized_contents = contents
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item: the page fixtures read it on teardown."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _shot_on_failure(request, page) -> None:
    """A failing browser test leaves a screenshot of where it stopped, in <SHOTS>/failures/."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    from tests.browser.journey import SHOTS, slug

    folder = SHOTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=folder / f"{slug(request.node.nodeid)}.png", full_page=True)
    except Exception as error:  # noqa: BLE001 — a closed page must not hide the test's failure
        print(f"no failure screenshot for {request.node.nodeid}: {error}")


def _context(browser, width: int, height: int):
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def page(request, browser):
    """A desktop browser at 1366 px."""
    context, page = _context(browser, 1366, 768)
    yield page
    _shot_on_failure(request, page)
    context.close()


@pytest.fixture
def phone(request, browser):
    """A 360 px phone."""
    context, page = _context(browser, 360, 740)
    yield page
    _shot_on_failure(request, page)
    context.close()


@pytest.fixture(params=[360, 1366], ids=["phone", "desktop"])
def viewport(request, browser):
    """The journey twice: on a 360 px phone, then at 1366 px."""
    context, page = _context(browser, request.param, 740 if request.param == 360 else 768)
    yield page
    _shot_on_failure(request, page)
    context.close()
