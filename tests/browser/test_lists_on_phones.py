"""Issue 12, Phones: every list reads on a 360 px phone (its rows stack as cards, each field
labelled) and fits 1366 px without scrolling sideways, neither the page nor a table inside
its frame. Each test runs at both widths (the `viewport` fixture) and checks every page it
visits (`Journey.check`: screenshot, no sideways scroll, axe).

"Shown" below is strict: the element is visible and, once the page is scrolled down to it
(never sideways), lies wholly inside the screen and is what the screen shows at its centre:
a column cut off by a table's frame fails."""

from __future__ import annotations

import pytest

from tests.browser import lists_world
from tests.browser.journey import Journey, sign_in_as

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOWN = """(el) => {
  const top = el.getBoundingClientRect().top + window.scrollY;
  window.scrollTo(window.scrollX, Math.max(0, top - window.innerHeight / 3));
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height) return "not displayed";
  if (r.left < 0 || r.right > window.innerWidth + 0.5)
    return `outside the screen's width: ${Math.round(r.left)}–${Math.round(r.right)}`;
  if (r.top < 0 || r.bottom > window.innerHeight + 0.5) return "taller than the screen";
  const line = el.getClientRects()[0];  // an inline element's first line (a link may wrap)
  const hit = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);
  if (!(hit === el || el.contains(hit))) return `hidden under ${hit && hit.outerHTML.slice(0, 80)}`;
  return "";
}"""

SCROLLED_SIDEWAYS = """() => [...document.querySelectorAll("main *")].filter((el) => {
  const style = getComputedStyle(el);
  return ["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1
    && el.getClientRects().length;
}).map((el) => `${el.tagName}.${el.className} ${el.scrollWidth} > ${el.clientWidth}`)"""


@pytest.fixture
def world(settings):
    settings.RELEVE_ENFORCE_MFA = False
    return lists_world.build()


def assert_shown(page, locator, what: str) -> None:
    assert locator.count(), f"{what}: not on the page"
    assert locator.first.is_visible(), f"{what}: not visible"
    problem = locator.first.evaluate(SHOWN)
    assert not problem, f"{what} ({page.url}, {page.viewport_size['width']} px): {problem}"


def assert_no_table_scrolls(page) -> None:
    """No list scrolls inside its frame: every column is in view without a sideways swipe."""
    assert page.evaluate(SCROLLED_SIDEWAYS) == [], page.url


def visit(page, journey: Journey, url: str, label: str) -> None:
    page.goto(url)
    journey.check(label)
    assert_no_table_scrolls(page)


def test_the_nurse_task_list_shows_urgency_and_due_date_on_a_phone(live_server, viewport, world):
    journey = Journey(viewport, "lists-nurse-worklist")
    sign_in_as(viewport, live_server, world["nurse"])
    visit(viewport, journey, f"{live_server.url}/suivi/", "worklist")

    rows = viewport.locator('[data-testid="tasks"] tbody tr')
    assert rows.count() >= 15
    urgent_and_late = rows.filter(has=viewport.get_by_test_id("urgent")).filter(
        has=viewport.get_by_test_id("overdue")
    )
    assert urgent_and_late.count() >= 2
    task = urgent_and_late.first
    assert_shown(viewport, task.locator('[data-field="title"] a'), "the task's title")
    assert_shown(viewport, task.get_by_test_id("urgent"), "its urgency")
    assert_shown(viewport, task.get_by_test_id("due"), "its due date")
    assert_shown(viewport, task.get_by_test_id("overdue"), "that it is overdue")
    assert_shown(viewport, task.locator("[data-status]"), "its status")
    assert_shown(viewport, task.locator('[data-field="assignee"]'), "who it is assigned to")
    assert_shown(viewport, task.locator('[data-field="site"]'), "its site")
    assert "Anne Lefebvre" in task.locator('[data-field="assignee"]').inner_text()
    assert lists_world.FIRST_SITE in task.locator('[data-field="site"]').inner_text()

    # Overdue rows stand out from the others.
    on_time = rows.filter(has_not=viewport.get_by_test_id("overdue")).first
    background = "(el) => getComputedStyle(el).backgroundColor"
    assert task.locator('[data-field="due"]').evaluate(background) != on_time.locator(
        '[data-field="due"]'
    ).evaluate(background)


def test_the_public_sheet_shows_address_phone_and_email_on_a_phone(live_server, viewport, world):
    journey = Journey(viewport, "lists-public-sheet")
    visit(viewport, journey, f"{live_server.url}/lieux/{world['home'].pk}/", "public sheet")

    contact = viewport.get_by_test_id("site-contact")
    assert_shown(viewport, contact.get_by_test_id("site-address"), "the address")
    assert lists_world.ADDRESS in contact.get_by_test_id("site-address").inner_text()
    phone = contact.get_by_test_id("site-phone")
    assert_shown(viewport, phone, "the phone")
    assert phone.get_attribute("href") == "tel:" + lists_world.PHONE.replace(" ", "")
    email = contact.get_by_test_id("site-email")
    assert_shown(viewport, email, "the email")
    assert email.get_attribute("href") == f"mailto:{lists_world.EMAIL}"

    # The sheet's own identity table no longer hides them either.
    identity = viewport.locator('section[aria-labelledby="sheet-identity"] tbody td')
    assert_shown(viewport, identity.filter(has_text=lists_world.ADDRESS), "the sheet's address")
    assert_shown(viewport, identity.locator('a[href^="tel:"]'), "the sheet's phone")
    assert_shown(viewport, identity.locator('a[href^="mailto:"]'), "the sheet's email")


def test_the_coverage_grid_shows_counts_and_total_on_a_phone(live_server, viewport, world):
    journey = Journey(viewport, "lists-coverage")
    sign_in_as(viewport, live_server, world["ars"])
    visit(viewport, journey, f"{live_server.url}/couverture/", "coverage grid")

    rows = viewport.locator('[data-testid="coverage"] tbody tr')
    assert rows.count() >= 10
    for row in (rows.first, rows.last):
        assert_shown(viewport, row.locator("th a"), "the site")
        week = row.locator('td[data-week]:not([data-open="0"][data-taken="0"][data-done="0"])')
        assert_shown(viewport, week.first.locator(".releve-coverage__n").first, "a week's counts")
        total = row.locator("td[data-total-open]")
        for badge in total.locator(".releve-coverage__n").all():
            assert_shown(viewport, badge, "the total's counts")
        assert total.get_attribute("data-total-taken") != "0"

    # The pilotage coverage table: every figure of a territory's row, its last column included.
    visit(viewport, journey, f"{live_server.url}/pilotage/couverture/?department=18", "pilotage")
    table = viewport.get_by_test_id("report-coverage")
    row = table.locator("tbody tr").first
    assert_shown(viewport, row.locator("th"), "the territory")
    for cell in row.locator("td").all():
        assert_shown(viewport, cell, f"its figure {cell.get_attribute('data-key')}")
    for cell in table.locator("tfoot td").all():
        assert_shown(viewport, cell, f"the total {cell.get_attribute('data-key')}")


# Every list page of the app, by the role that reads it.
LISTS = {
    "nurse": [
        "/suivi/",
        "/suivi/examens/",
        "/suivi/examens/?view=closed",
        "/suivi/transmissions/",
        "/suivi/quarantaine/",
        "/suivi/quarantaine/?view=invalid",
        "/notifications/",
        "/sites/",
        "/territoires/",
    ],
    "doctor": [
        "/suivi/mes-suivis/",
        "/mon-planning/",
        "/jours-ouverts/",
        "/volontaire/disponibilites/",
    ],
    "secretary": ["/sites/", "/sites/{home}/planning/", "/suivi/"],
    "ars": [
        "/couverture/",
        "/couverture/?semaines=13",
        "/pilotage/couverture/",
        "/pilotage/couverture/?department=18",
        "/pilotage/couverture/jours/",
        "/pilotage/preparation/",
        "/pilotage/suivi/",
        "/pilotage/indemnites/",
        "/pilotage/indemnites/jours/",
        "/sites/",
        "/territoires/",
        "/volontaires/",
        "/suivi/",
        "/suivi/examens/",
    ],
    "visitor": ["/lieux/", "/lieux/{home}/"],
}


@pytest.mark.parametrize("role", LISTS)
def test_every_list_fits_1366_px_and_reads_on_a_phone(live_server, viewport, world, role):
    journey = Journey(viewport, f"lists-{role}")
    if role == "doctor":
        sign_in_as(viewport, live_server, world["doctor"].user)
    elif role != "visitor":
        sign_in_as(viewport, live_server, world[role])
    for path in LISTS[role]:
        path = path.format(home=world["home"].pk)
        visit(viewport, journey, live_server.url + path, path)
        # Each table's first row is read to its last cell.
        for table in viewport.locator("main table").all():
            if not table.is_visible():
                continue  # a chart's data table, folded in its accordion
            # (A phone's month calendar shows only the weeks and days with something planned.)
            rows = [row for row in table.locator("tbody tr").all() if row.is_visible()]
            cells = [cell for cell in rows[0].locator("th, td").all() if cell.is_visible()]
            assert_shown(viewport, cells[-1], f"the last cell of a row of {path}")
