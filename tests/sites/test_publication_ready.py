"""Publication means ready (issue 13 § 1): a sheet is submitted and validated only when every
section the field asks for is filled; the "course nurse" readiness item follows the site's
staff (and its pôle mère's) instead of being ticked; access to the DMP, a lab results server and
a secure messaging address are mandatory.

Seeds: /work/shared/seeds/000_f357cf44203102b3.txt (FemasAURA&Co) — the sheet's sections, lines
50-67, and the consultation length, line 128; the DMP, bioserveur and MSS accesses, lines 81-83;
the course nurse or, failing one, a medical assistant, lines 105-106 —
and /work/shared/seeds/003_17acc177a4c6979d.txt line 11 (a secondary practice and its pôle mère
share their staff and tools).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from accounts.roles import Role
from sites import services
from sites.models import HostSite, InfoSheet, KeyContact, Membership, ReadinessItem, SheetReadiness
from tests.browser.journey import fr
from tests.conftest import member
from tests.factories import HostSiteFactory, make_sheet

pytestmark = pytest.mark.django_db

EVERY_FIELD = [
    "address", "postal_code", "city", "phone", "email", "contacts", "patients_profile",
    "daily_consultations", "team_description", "secretariat_description",
    "functioning_description", "protocols", "information_system", "remuneration",
    "accommodation", "transport", "consultation_minutes",
]  # fmt: skip


def sheet_url(site, suffix=""):
    return f"/api/v1/sites/{site.pk}/info-sheet/{suffix}"


def course_nurse(site) -> str:
    return SheetReadiness.objects.get(sheet__site=site, item__code="course_nurse").status


@pytest.fixture
def submitted(site):
    """A complete, ready sheet waiting for validation."""
    return make_sheet(site, status="submitted", ready=True)


# --- Every section filled ----------------------------------------------------------------------


def test_publishing_a_sheet_with_an_empty_section_answers_409_naming_it(
    api, site, submitted, territory_manager
):
    """Seed 000, lines 66-67 (remuneration; accommodation and transport are sections of the
    sheet): a sheet whose transport section is empty is not published, and says why."""
    InfoSheet.objects.filter(pk=submitted.pk).update(transport="  ")
    api.force_authenticate(territory_manager)

    response = api.post(sheet_url(site, "publish/"))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "sheet_incomplete"
    assert body["fields"] == ["transport"]
    assert str(InfoSheet._meta.get_field("transport").verbose_name) in body["detail"]
    submitted.refresh_from_db()
    assert (submitted.status, submitted.published_content) == ("submitted", {})


def test_an_empty_sheet_cannot_be_submitted_and_every_missing_section_is_named(
    api, site, secretary
):
    """Seed 000, lines 50-67 and 128: the secretary learns what is missing before the manager
    does. An empty sheet (its consultation length has its default) names every other field."""
    make_sheet(site)
    api.force_authenticate(secretary)

    response = api.post(sheet_url(site, "submit/"))

    assert response.status_code == 409
    assert response.json()["code"] == "sheet_incomplete"
    assert response.json()["fields"] == [f for f in EVERY_FIELD if f != "consultation_minutes"]
    assert InfoSheet.objects.get(site=site).status == "draft"


def test_identity_and_contacts_means_address_phone_email_and_one_key_contact(
    site, submitted, territory_manager
):
    """Seed 000, lines 57-60 (the team, and a direct line for key services): the site's
    address, phone and email, and at least one key contact."""
    HostSite.objects.filter(pk=site.pk).update(phone="", email="")
    KeyContact.objects.filter(sheet=submitted).delete()

    with pytest.raises(services.DomainError) as refused:
        services.sheet_publish(sheet=submitted, by=territory_manager)

    assert refused.value.code == "sheet_incomplete"
    assert refused.value.extra["fields"] == ["phone", "email", "contacts"]


def test_a_complete_ready_sheet_is_published(api, site, submitted, territory_manager):
    """Seed 000, lines 50-67: every section filled, every mandatory item done."""
    assert services.sheet_missing_fields(submitted) == []
    api.force_authenticate(territory_manager)

    response = api.post(sheet_url(site, "publish/"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "published"


def test_changes_to_a_published_sheet_are_validated_only_when_complete(
    api, site, secretary, territory_manager
):
    """Seed 000, lines 50-67: a revision emptying a section is neither submitted nor validated;
    the public keeps the validated version."""
    sheet = make_sheet(site, status="published", ready=True)
    services.sheet_update(sheet=sheet, by=secretary, fields={"remuneration": ""})
    api.force_authenticate(secretary)

    submit = api.post(sheet_url(site, "submit/"))
    # Submitted anyway (a revision submitted before this rule existed): not validated either.
    InfoSheet.objects.filter(pk=sheet.pk).update(revision_status="submitted")
    api.force_authenticate(territory_manager)
    publish = api.post(sheet_url(site, "publish/"))

    assert (submit.status_code, submit.json()["fields"]) == (409, ["remuneration"])
    assert (publish.status_code, publish.json()["fields"]) == (409, ["remuneration"])
    sheet.refresh_from_db()
    assert sheet.published_content["fields"]["remuneration"] == "200 € la journée"


def test_the_site_page_names_the_missing_sections_with_links_to_edit_them(client, site, secretary):
    """Seed 000, lines 50-67: the page lists each empty section, with what is empty in it and a
    link that opens its form; submitting says the sheet is incomplete."""
    make_sheet(site, complete=True, accommodation="", transport="")
    KeyContact.objects.filter(sheet__site=site).delete()
    client.force_login(secretary)

    page = client.get(reverse("site_detail", args=[site.pk]))
    submitted = client.post(reverse("site_sheet_submit", args=[site.pk]), follow=True)

    missing = page.context["page"].missing_sections
    assert [section.title for section in missing] == [
        fr("Practical information"),
        fr("Key contacts"),
    ]
    assert (
        missing[0].url
        == f"{reverse('site_detail', args=[site.pk])}?edit=practical#section-practical"
    )
    html = page.content.decode()
    assert 'data-testid="missing-sections"' in html
    assert "?edit=contacts#section-contacts" in html
    assert InfoSheet.objects.get(site=site).status == "draft"
    shown = [str(m) for m in submitted.context["messages"]]
    assert len(shown) == 1
    assert str(InfoSheet._meta.get_field("accommodation").verbose_name) in shown[0]


# --- The course nurse item follows the staff --------------------------------------------------


def test_the_course_nurse_item_cannot_be_ticked_by_hand(api, client, site, secretary):
    """Seed 000, lines 105-106: the follow-up function is a person (a course nurse, else a
    medical assistant), not a box. The API refuses it (400 naming the field); the form shows it
    read-only and a posted value changes nothing."""
    sheet = make_sheet(site)
    assert course_nurse(site) == "missing"
    api.force_authenticate(secretary)

    refused = api.patch(
        sheet_url(site),
        {"readiness": [{"code": "course_nurse", "status": "ok"}], "transport": "Bus"},
        format="json",
    )
    # Its note stays the staff's to write; repeating its status is harmless.
    noted = api.patch(
        sheet_url(site),
        {"readiness": [{"code": "course_nurse", "status": "missing", "note": "Recrutement"}]},
        format="json",
    )

    assert refused.status_code == 400
    assert "readiness" in refused.json()
    label = ReadinessItem.objects.get(code="course_nurse").label
    assert label in refused.json()["readiness"][0]
    assert noted.status_code == 200
    row = SheetReadiness.objects.get(sheet=sheet, item__code="course_nurse")
    assert (row.status, row.note) == ("missing", "Recrutement")
    assert InfoSheet.objects.get(pk=sheet.pk).transport == ""

    client.force_login(secretary)
    form = client.get(f"{reverse('site_detail', args=[site.pk])}?edit=readiness")
    html = form.content.decode()
    assert 'data-testid="derived-course_nurse"' in html
    status = form.context["sections"][-1].form["course_nurse__status"]
    assert status.field.disabled
    data = {
        f"readiness-{r.item.code}__{name}": getattr(r, name)
        for r in sheet.readiness.select_related("item")
        for name in ("status", "note")
    }
    data["readiness-course_nurse__status"] = "ok"
    client.post(reverse("site_section", args=[site.pk, "readiness"]), data)
    assert course_nurse(site) == "missing"


def test_the_course_nurse_item_follows_the_site_staff(site):
    """Seed 000, lines 105-106: done while an active course nurse or medical assistant works at
    the site; missing again when the last one leaves or is deactivated."""
    make_sheet(site)
    nurse = member(Role.COURSE_NURSE, site=site)
    assert course_nurse(site) == "ok"

    services.membership_end(membership=Membership.objects.get(user=nurse), by=None)
    assert course_nurse(site) == "missing"

    assistant = member(Role.MEDICAL_ASSISTANT, site=site)
    assert course_nurse(site) == "ok"
    member(Role.SECRETARY, site=site)
    assert course_nurse(site) == "ok"

    assistant.is_active = False
    assistant.save()
    assert course_nurse(site) == "missing"
    history = SheetReadiness.history.filter(item__code="course_nurse", sheet__site=site)
    assert history.count() >= 4  # each change recorded


def test_the_course_nurse_item_follows_the_pole_mere_staff(site):
    """Seed 003, line 11, and seed 000, lines 105-106: a secondary practice leans on its pôle
    mère's course nurse — attached to it, the item is done; detached, or the nurse gone, it is
    missing."""
    pole_mere = HostSiteFactory(territory=site.territory)
    nurse = member(Role.COURSE_NURSE, site=pole_mere)
    make_sheet(site)
    assert course_nurse(site) == "missing"

    services.site_update(site=site, by=None, parent=pole_mere)
    assert course_nurse(site) == "ok"

    Membership.objects.get(user=nurse).delete()
    assert course_nurse(site) == "missing"
    member(Role.MEDICAL_ASSISTANT, site=pole_mere)
    assert course_nurse(site) == "ok"

    services.site_update(site=site, by=None, parent=None)
    assert course_nurse(site) == "missing"


def test_a_new_secondary_practice_starts_with_its_pole_mere_staff(site):
    """Seed 003, line 11: registered under a pôle mère with a nurse, its item is done."""
    member(Role.COURSE_NURSE, site=site)

    practice = services.site_create(
        by=None, name="Cabinet secondaire", kind="secondary_practice", territory=site.territory,
        parent=site,
    )  # fmt: skip

    assert course_nurse(practice) == "ok"


def test_the_data_migration_recomputes_the_course_nurse_item(site):
    """Seed 000, lines 105-106: a sheet ticked by hand before the rule is corrected."""
    import importlib

    make_sheet(site, ready=True)  # every item ticked, the course nurse one too
    assert course_nurse(site) == "ok"
    from pathlib import Path

    import sites.migrations

    # Found by its name whatever number the merge gives it.
    (path,) = Path(sites.migrations.__file__).parent.glob("*_pub_publication_ready.py")
    migration = importlib.import_module(f"sites.migrations.{path.stem}")

    migration.recompute_course_nurse(apps, None)

    assert course_nurse(site) == "missing"


# --- DMP, bioserveur, MSSanté ---------------------------------------------------------------


def test_dmp_bioserveur_and_mssante_are_mandatory(api, site, submitted, territory_manager):
    """Seed 000, lines 81-83: the DMP, bioserveur (lab results server) and MSS accesses must be
    set up; each one missing keeps the sheet from being published."""
    codes = ("dmp_access", "lab_results_server", "mssante")
    assert set(
        ReadinessItem.objects.filter(mandatory=True, code__in=codes).values_list("code", flat=True)
    ) == set(codes)
    api.force_authenticate(territory_manager)
    for code in codes:
        SheetReadiness.objects.filter(sheet=submitted).update(status="ok")
        SheetReadiness.objects.filter(sheet=submitted, item__code=code).update(status="missing")

        response = api.post(sheet_url(site, "publish/"))

        assert response.status_code == 409, code
        assert response.json()["code"] == "readiness_incomplete", code
        assert ReadinessItem.objects.get(code=code).label in response.json()["detail"]
