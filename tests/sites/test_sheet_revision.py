"""Issue 12, site staff: a published sheet keeps its validated version public while the edited
version waits for validation (draft edits, submit, the manager validates or returns them with a
comment, the public page switches then); the manager sees what changed."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from sites import services
from sites.models import HostSite, InfoSheet
from tests.browser.journey import fr
from tests.conftest import member
from tests.factories import HostSiteFactory, make_sheet
from tests.sites.test_pdf import pdf_text

pytestmark = pytest.mark.django_db

OLD = "Gare de Saint-Amand à 25 min"
NEW = "Navette depuis la gare, sur réservation"


@pytest.fixture
def world():
    """An active site with a published sheet, its secretary and its territory manager."""
    site = HostSiteFactory(status=HostSite.Status.ACTIVE, name="MSP de Châteaumeillant")
    sheet = make_sheet(
        site, status="published", ready=True, transport=OLD, published_at=timezone.now()
    )
    services.sheet_update(
        sheet=sheet,
        by=None,
        contacts=[{"service": "laboratory", "name": "Labo Berry", "phone": "0248610000"}],
    )
    InfoSheet.objects.filter(pk=sheet.pk).update(revision_status="none")
    _revalidate(sheet)
    return {
        "site": site,
        "sheet": sheet,
        "secretary": member(Role.SECRETARY, site=site),
        "manager": member(Role.TERRITORY_MANAGER, territory=site.territory),
    }


def _revalidate(sheet):
    """The sheet's current content as its validated version (the fixture's starting point)."""
    from sites.revisions import sheet_content

    current = InfoSheet.objects.prefetch_related(
        "contacts", "equipment__item", "readiness__item"
    ).get(pk=sheet.pk)
    InfoSheet.objects.filter(pk=sheet.pk).update(published_content=sheet_content(current))


def _edit(world):
    """The secretary changes the transport, a contact, an item of equipment and a readiness
    item of the published sheet."""
    services.sheet_update(
        sheet=world["sheet"],
        by=world["secretary"],
        fields={"transport": NEW},
        contacts=[{"service": "pharmacy", "name": "Pharmacie du Centre", "phone": "0248610101"}],
        equipment={"ecg": True},
        readiness={"secretariat": {"status": "ok", "note": "Secrétariat jusqu’à 19 h"}},
    )


def _public_texts(client, site, tmp_path) -> dict[str, str]:
    client.logout()
    api = client.get(f"/api/v1/sites/{site.pk}/info-sheet/").json()
    return {
        "page": client.get(reverse("public_site", args=[site.pk])).content.decode(),
        "pdf": pdf_text(client.get(reverse("sheet_pdf", args=[site.pk])).content, tmp_path),
        "api": api["transport"] + " " + " ".join(c["name"] for c in api["contacts"]),
        "catalogue": client.get(reverse("catalogue")).content.decode(),
    }


def test_a_published_sheet_keeps_its_validated_version_public_while_edits_await_validation(
    client, world, tmp_path
):
    site = world["site"]
    _edit(world)

    public = _public_texts(client, site, tmp_path)
    client.force_login(world["secretary"])
    staff_page = client.get(reverse("site_detail", args=[site.pk])).content.decode()

    for where in ("page", "pdf", "api"):
        assert OLD in public[where], where
        assert NEW not in public[where], where
        assert "Labo Berry" in public[where], where
        assert "Pharmacie du Centre" not in public[where], where
    assert site.name in public["catalogue"]
    sheet = InfoSheet.objects.get(pk=world["sheet"].pk)
    assert sheet.status == "published"
    assert sheet.revision_status == "draft"
    assert NEW in staff_page
    assert 'data-testid="revision-notice"' in staff_page
    assert fr("Published version visible to the public; your changes await validation.") in (
        staff_page
    )
    assert fr("Submit the changes for validation") in staff_page
    assert "changed-since-validation" not in public["page"]


def test_the_manager_validates_a_revision_and_the_public_page_switches(client, world, tmp_path):
    site = world["site"]
    _edit(world)
    client.force_login(world["secretary"])
    client.post(reverse("site_sheet_submit", args=[site.pk]))
    told = Notification.objects.filter(kind="sheet_submitted", recipient=world["manager"])
    still_old = _public_texts(client, site, tmp_path)

    client.force_login(world["manager"])
    validated = client.post(reverse("site_sheet_publish", args=[site.pk]))
    public = _public_texts(client, site, tmp_path)

    assert told.count() == 1
    assert reverse("site_revision", args=[site.pk]) in told.get().link
    assert OLD in still_old["page"]
    assert validated.status_code == 302
    for where in ("page", "pdf", "api"):
        assert NEW in public[where], where
        assert OLD not in public[where], where
        assert "Pharmacie du Centre" in public[where], where
    sheet = InfoSheet.objects.get(pk=world["sheet"].pk)
    assert (sheet.status, sheet.revision_status) == ("published", "none")
    assert sheet.published_by == world["manager"]
    record = sheet.history.first()
    assert record.history_user == world["manager"]
    assert record.prev_record.revision_status == "submitted"


def test_the_manager_returns_a_revision_with_a_comment(client, world):
    site = world["site"]
    _edit(world)
    services.sheet_submit(sheet=world["sheet"], by=world["secretary"])
    client.force_login(world["manager"])

    refused = client.post(reverse("site_sheet_return", args=[site.pk]), {"comment": "  "})
    after_refusal = InfoSheet.objects.get(pk=world["sheet"].pk).revision_status
    returned = client.post(
        reverse("site_sheet_return", args=[site.pk]),
        {"comment": "Précisez les horaires de la navette."},
    )
    client.force_login(world["secretary"])
    staff_page = client.get(reverse("site_detail", args=[site.pk])).content.decode()

    assert refused.status_code == 200
    assert 'id="return-comment-error"' in refused.content.decode()
    assert after_refusal == "submitted"
    assert returned.status_code == 302
    sheet = InfoSheet.objects.get(pk=world["sheet"].pk)
    assert (sheet.status, sheet.revision_status) == ("published", "returned")
    assert sheet.published_content["fields"]["transport"] == OLD
    assert 'data-testid="return-comment"' in staff_page
    assert "Précisez les horaires de la navette." in staff_page
    assert fr("Submit the changes for validation") in staff_page
    assert Notification.objects.filter(kind="sheet_returned", recipient=world["secretary"]).exists()
    # Edited again, then submitted again: the comment goes, the manager is asked again.
    services.sheet_update(sheet=sheet, by=world["secretary"], fields={"transport": NEW + "."})
    assert InfoSheet.objects.get(pk=sheet.pk).revision_status == "returned"
    services.sheet_submit(sheet=sheet, by=world["secretary"])
    sheet.refresh_from_db()
    assert (sheet.revision_status, sheet.return_comment) == ("submitted", "")


def test_the_manager_sees_what_changed(client, world):
    site = world["site"]
    _edit(world)
    services.sheet_submit(sheet=world["sheet"], by=world["secretary"])
    client.force_login(world["manager"])

    response = client.get(reverse("site_revision", args=[site.pk]))

    page = response.content.decode()
    changes = response.context["changes"]
    assert response.status_code == 200
    assert [(c.label, c.before, c.after) for c in changes.fields] == [(fr("Transport"), OLD, NEW)]
    assert changes.contacts_removed == [f"{fr('Laboratory')} — Labo Berry — 0248610000"]
    assert changes.contacts_added == [f"{fr('Pharmacy')} — Pharmacie du Centre — 0248610101"]
    assert [(c.before, c.after) for c in changes.equipment] == [
        (fr("Not available"), fr("Available"))
    ]
    assert [(c.before, c.after) for c in changes.readiness] == [
        (fr("Done"), f"{fr('Done')} — Secrétariat jusqu’à 19 h")
    ]
    for text in (OLD, NEW, "Labo Berry", "Pharmacie du Centre", "Secrétariat jusqu’à 19 h"):
        assert text in page
    assert fr("Validate the changes") in page
    assert 'name="comment"' in page


def test_the_first_publication_works_as_before(client, world):
    site = HostSiteFactory(status=HostSite.Status.ACTIVE, territory=world["site"].territory)
    secretary = member(Role.SECRETARY, site=site)
    sheet = make_sheet(site, ready=True, transport=OLD)

    services.sheet_submit(sheet=sheet, by=secretary)
    services.sheet_publish(sheet=sheet, by=world["manager"])

    sheet.refresh_from_db()
    assert (sheet.status, sheet.revision_status) == ("published", "none")
    assert sheet.published_content["fields"]["transport"] == OLD
    assert OLD in client.get(reverse("public_site", args=[site.pk])).content.decode()


def test_the_database_refuses_a_published_sheet_without_its_version_or_a_silent_return(world):
    sheet = world["sheet"]
    for wrong in (
        {"published_content": {}},
        {"status": "draft"},  # a draft with a validated version
        {"revision_status": "returned", "return_comment": ""},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            InfoSheet.objects.filter(pk=sheet.pk).update(**wrong)
    draft = make_sheet(HostSiteFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        InfoSheet.objects.filter(pk=draft.pk).update(revision_status="draft")


class TestApi:
    def url(self, site, suffix=""):
        return f"/api/v1/sites/{site.pk}/info-sheet/{suffix}"

    def test_staff_get_the_working_copy_and_the_public_the_validated_version(self, api, world):
        _edit(world)
        site = world["site"]

        public = api.get(self.url(site)).json()
        api.force_authenticate(world["manager"])
        staff = api.get(self.url(site)).json()

        assert (public["transport"], public["revision_status"]) == (OLD, "none")
        assert public["changed_since_publication"] is False
        assert (staff["transport"], staff["revision_status"]) == (NEW, "draft")
        assert staff["changed_since_publication"] is True
        assert staff["published_at"] is not None
        assert {"return_comment", "revision_submitted_at"} <= set(staff)

    def test_the_manager_returns_changes_through_the_api_and_must_say_why(self, api, world):
        _edit(world)
        site = world["site"]
        api.force_authenticate(world["secretary"])
        api.post(self.url(site, "submit/"))
        staff_return = api.post(self.url(site, "return/"), {"comment": "Non"}, format="json")
        api.force_authenticate(world["manager"])

        empty = api.post(self.url(site, "return/"), {"comment": ""}, format="json")
        returned = api.post(self.url(site, "return/"), {"comment": "Horaires ?"}, format="json")

        assert staff_return.status_code == 403
        assert empty.status_code == 400
        assert "comment" in empty.json()
        assert returned.status_code == 200
        assert returned.json()["revision_status"] == "returned"
        assert returned.json()["return_comment"] == "Horaires ?"

    def test_validating_changes_still_needs_every_mandatory_readiness_item(self, api, world):
        site = world["site"]
        services.sheet_update(
            sheet=world["sheet"],
            by=world["secretary"],
            readiness={"mssante": {"status": "missing"}},
        )
        services.sheet_submit(sheet=world["sheet"], by=world["secretary"])
        api.force_authenticate(world["manager"])

        refused = api.post(self.url(site, "publish/"))

        assert refused.status_code == 409
        assert refused.json()["code"] == "readiness_incomplete"
        sheet = InfoSheet.objects.get(pk=world["sheet"].pk)
        assert sheet.revision_status == "submitted"

    def test_changes_not_submitted_cannot_be_validated(self, api, world):
        _edit(world)
        api.force_authenticate(world["manager"])

        response = api.post(self.url(world["site"], "publish/"))

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"


@pytest.mark.parametrize("size", [3, 30])
def test_the_catalogue_costs_the_same_queries_with_changes_pending(
    client, django_assert_num_queries, size
):
    for n in range(size):
        site = HostSiteFactory(status=HostSite.Status.ACTIVE)
        sheet = make_sheet(site, status="published", ready=True, transport=OLD)
        services.sheet_update(sheet=sheet, by=None, fields={"transport": f"{NEW} {n}"})

    # offered territories, count, page (anonymous: no session, no user)
    with django_assert_num_queries(3):
        response = client.get(reverse("catalogue"))

    assert response.status_code == 200
    assert all(site.info_sheet.transport == OLD for site in response.context["page_obj"])
