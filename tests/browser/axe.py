"""axe-core (through axe-playwright-python) on the page a browser test has open.

    from tests.browser.axe import assert_no_serious_violations

    page.goto(url)
    assert_no_serious_violations(page)

Playwright evaluates axe's script over the DevTools protocol, which the Content-Security-Policy
does not govern: run the check after collecting the page's own policy violations, not before.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

SERIOUS = ("serious", "critical")


def serious_violations(page, context: str | list | dict | None = None) -> list[dict]:
    """axe's violations of impact serious or critical, on the page or in `context` (a CSS
    selector, or axe's include/exclude mapping)."""
    results = Axe().run(page, context=context)
    return [v for v in results.response["violations"] if v["impact"] in SERIOUS]


def assert_no_serious_violations(page, context: str | list | dict | None = None) -> None:
    violations = serious_violations(page, context)
    assert violations == [], "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["html"][:160] for node in v["nodes"][:5])
        for v in violations
    )
