"""Hole 9: under the Content-Security-Policy, Chromium blocks nothing on our pages, and the API
docs (Swagger UI, served without any CDN) still render."""

from __future__ import annotations

import pytest

from sites.demo import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_hole9_nothing_is_blocked_on_the_pages_and_the_api_docs_render(
    live_server, page, demo_world
):
    page.add_init_script(WATCH)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("secretariat@demo.releve.fr")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("current-user").wait_for()
    violations = page.evaluate("window.__violations")
    for path in ("/suivi/", "/suivi/transmissions/", "/lieux/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        violations += page.evaluate("window.__violations")
    # DSFR's own script ran (it marks the document once started).
    assert page.evaluate("document.documentElement.hasAttribute('data-fr-js')")

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".swagger-ui .opblock").first.wait_for()
    violations += page.evaluate("window.__violations")

    assert violations == []
