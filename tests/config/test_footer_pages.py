"""The footer carries the mandatory links of a French public-service site, each a real page in
the site's layout (issue 12): legal notice, personal data, accessibility declaration (RGAA),
site map."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from tests.browser.journey import fr
from tests.conftest import member

PAGES = ("legal_notice", "personal_data", "accessibility", "site_map")


def test_every_page_s_footer_links_the_mandatory_pages(client, db):
    html = client.get(reverse("home")).content.decode()
    footer = html[html.index('<footer class="fr-footer"') :]

    for name in PAGES:
        assert f'href="{reverse(name)}"' in footer, name
    assert fr("Accessibility: %(compliance)s") % {"compliance": fr("not compliant")} in footer


@pytest.mark.parametrize("name", PAGES)
def test_the_footer_pages_are_public_pages_in_the_site_layout(client, db, name):
    response = client.get(reverse(name))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="footer-page"' in html
    assert html.count("<h1") == 1
    assert 'class="fr-header"' in html
    assert 'class="fr-footer"' in html


def test_the_legal_notice_names_the_operator_set_in_settings(client, db, settings):
    settings.RELEVE_OPERATOR_NAME = "GIP Santé Centre"
    settings.RELEVE_PUBLICATION_DIRECTOR = "Claire Martin"
    settings.RELEVE_HOST_NAME = ""

    html = client.get(reverse("legal_notice")).content.decode()

    assert "GIP Santé Centre" in html
    assert "Claire Martin" in html
    # Not set: a placeholder naming the setting, never an invented host.
    assert "RELEVE_HOST_NAME" in html


def test_the_personal_data_page_says_what_health_data_is_kept_and_the_dpo(client, db, settings):
    settings.RELEVE_DPO_EMAIL = "dpo@gip-sante.fr"
    settings.RELEVE_RETENTION_FOLLOW_UP_MONTHS = 18

    html = client.get(reverse("personal_data")).content.decode()

    assert "dpo@gip-sante.fr" in html
    assert "cnil.fr" in html
    kept = (
        "Patient references and follow-up: until the follow-up is closed, then %(months)s months."
    )
    assert fr(kept) % {"months": 18} in html


def test_the_accessibility_declaration_says_not_compliant_until_an_audit(client, db, settings):
    html = client.get(reverse("accessibility")).content.decode()

    assert "RGAA 4.1" in html
    assert "defenseurdesdroits.fr" in html
    assert "Libre réponse 71120" in html
    compliance = html[html.index('data-testid="compliance"') :][:400]
    assert fr("not compliant") in compliance or "not compliant" in compliance

    settings.RELEVE_ACCESSIBILITY_STATUS = "partial"
    settings.RELEVE_ACCESSIBILITY_RATE = "82 %"
    html = client.get(reverse("accessibility")).content.decode()
    assert "82 %" in html
    footer = html[html.index('<footer class="fr-footer"') :]
    assert fr("Accessibility: %(compliance)s") % {"compliance": fr("partially compliant")} in footer


def test_the_site_map_lists_the_public_pages_and_each_role_s_pages(client, db):
    html = client.get(reverse("site_map")).content.decode()

    assert f'href="{reverse("catalogue")}"' in html
    assert f'href="{reverse("account_login")}"' in html
    for role in Role:
        assert f'data-role="{role.value}"' in html
    volunteer = html[html.index('data-role="volunteer"') :]
    volunteer = volunteer[: volunteer.index("</ul>")]
    assert f'href="{reverse("my_planning")}"' in volunteer
    assert f'href="{reverse("territory_list")}"' not in volunteer


def test_a_manager_who_must_still_enrol_mfa_can_read_the_legal_pages(client, site, settings):
    settings.RELEVE_ENFORCE_MFA = True
    client.force_login(member(Role.TERRITORY_MANAGER, territory=site.territory))

    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_the_site_map_names_a_menu_entry_that_has_one_page_per_place(client, db, monkeypatch):
    """A site's planning (one per site) has no single address: named, not a broken page."""
    from accounts.navigation import NAVIGATION, NavItem
    from accounts.roles import SITE_STAFF_ROLES
    from config import pages

    per_site = NavItem("Per-site page", "site_detail", SITE_STAFF_ROLES)
    monkeypatch.setattr(pages, "NAVIGATION", (*NAVIGATION, per_site))

    response = client.get(reverse("site_map"))

    assert response.status_code == 200
    secretary = response.content.decode()
    secretary = secretary[secretary.index('data-role="secretary"') :]
    assert "Per-site page" in secretary[: secretary.index("</ul>")]
