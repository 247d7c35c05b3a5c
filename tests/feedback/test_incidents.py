"""Incidents and adverse events reported on a day, followed until closed.

Seed: 000_f357cf44203102b3.txt (FemasAURA&Co) lines 92-97, "Continuité et sécurité des
soins": discontinuous care brings risks of lost chances and of adverse events
("événements indésirables") for the patients followed — so they are reported, told to the
territory at once when severe, and followed until closed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from continuity.models import AccessRecord
from feedback import services
from feedback.models import Incident
from tests.conftest import member
from tests.factories import HostSiteFactory, VolunteerFactory, make_public_site, open_day

pytestmark = pytest.mark.django_db

REPORT = {
    "kind": "violence",
    "severity": "severe",
    "what_happened": "Un accompagnant menace la secrétaire.",
    "actions_taken": "Appel au 17, le médecin reste avec la secrétaire.",
}


def test_an_urgent_incident_notifies_the_territory_manager_at_once(
    booked, doctor, territory_manager, api, django_capture_on_commit_callbacks
):
    """Seed 000 line 92-97: a severe event reaches the territory's manager at once, in the
    inbox and by email (the notification system's delivery, locmem here)."""
    other_manager = member(Role.TERRITORY_MANAGER, territory=HostSiteFactory().territory)
    mail.outbox.clear()
    api.force_authenticate(doctor.user)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/api/v1/incidents/", {"vacation": booked.pk, **REPORT}, format="json")
    assert answer.status_code == 201, answer.json()
    incident = Incident.objects.get()
    message = Notification.objects.get(kind="incident_urgent")
    assert message.recipient == territory_manager
    assert message.link == reverse("incident_detail", args=[incident.pk])
    assert [m.to for m in mail.outbox] == [[territory_manager.email]]
    assert not Notification.objects.filter(recipient=other_manager).exists()


def test_a_minor_incident_notifies_nobody(booked, doctor, territory_manager):
    services.incident_report(vacation=booked, by=doctor.user, **{**REPORT, "severity": "minor"})
    assert not Notification.objects.filter(kind="incident_urgent").exists()


def test_an_urgent_incident_without_a_territory_manager_goes_to_the_ars(booked, doctor):
    ars = member(Role.ARS_MANAGER, region_id=booked.site.territory.department.region_id)
    services.incident_report(vacation=booked, by=doctor.user, **REPORT)
    assert Notification.objects.get(kind="incident_urgent").recipient == ars


@pytest.mark.parametrize(
    "reference", ["Dupont", "Jean Dupont", "MME DURAND", "1 85 05 78 006 084 36", "P 12 Martin"]
)
def test_an_incident_carries_no_patient_identity_beyond_the_minimal_reference(
    reference, booked, doctor, api
):
    """Seed 000 line 92-97 and the project's rule of minimal patient data: an incident holds
    at most the site's reference of the record — a name (no digit) or an NIR is refused,
    naming the field, and nothing is written."""
    api.force_authenticate(doctor.user)
    body = {"vacation": booked.pk, **REPORT, "patient_ref": reference}
    answer = api.post("/api/v1/incidents/", body, format="json")
    assert answer.status_code == 400
    assert "patient_ref" in answer.json()
    assert not Incident.objects.exists()


def test_an_incident_accepts_the_sites_record_reference(booked, doctor, api):
    api.force_authenticate(doctor.user)
    body = {"vacation": booked.pk, **REPORT, "patient_ref": "P-2031"}
    assert api.post("/api/v1/incidents/", body, format="json").status_code == 201
    # The model has no other patient field at all.
    fields = {field.name for field in Incident._meta.get_fields()}
    assert not fields & {"patient_name", "patient_initials", "patient_birth_year", "nir"}


def test_reading_an_incident_with_a_patient_reference_is_recorded(
    booked, doctor, secretary, client
):
    incident = services.incident_report(
        vacation=booked, by=doctor.user, **REPORT, patient_ref="P-2031"
    )
    client.force_login(secretary)
    assert client.get(reverse("incident_detail", args=[incident.pk])).status_code == 200
    assert client.get(reverse("incidents")).status_code == 200
    assert set(AccessRecord.objects.filter(user=secretary).values_list("what", flat=True)) == {
        "incident",
        "incidents:list",
    }


def test_an_incident_is_followed_until_closed(booked, doctor, secretary, territory_manager, api):
    """Open → in progress → closed, with a closing comment, who and when; then it stays closed;
    each step is in its history."""
    incident = services.incident_report(vacation=booked, by=doctor.user, **REPORT)
    api.force_authenticate(doctor.user)  # the reporter reads it but does not follow it up
    url = f"/api/v1/incidents/{incident.pk}/status/"
    assert api.post(url, {"status": "in_progress"}, format="json").status_code == 403
    api.force_authenticate(secretary)
    assert api.post(url, {"status": "in_progress"}, format="json").json()["status"] == "in_progress"
    api.force_authenticate(territory_manager)
    no_comment = api.post(url, {"status": "closed"}, format="json")
    assert no_comment.status_code == 400
    assert "comment" in no_comment.json()
    closed = api.post(url, {"status": "closed", "comment": "Plainte déposée"}, format="json")
    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["closing_comment"], body["closed_by"]) == (
        "closed",
        "Plainte déposée",
        territory_manager.pk,
    )
    assert body["closed_at"]
    reopened = api.post(url, {"status": "in_progress"}, format="json")
    assert (reopened.status_code, reopened.json()["code"]) == (409, "invalid_transition")
    history = list(Incident.objects.get().history.order_by("history_date"))
    assert [h.status for h in history] == ["open", "in_progress", "closed"]
    assert [h.history_user for h in history] == [doctor.user, secretary, territory_manager]


def test_the_site_staff_follows_an_incident_on_the_page(booked, doctor, nurse, client):
    incident = services.incident_report(vacation=booked, by=doctor.user, **REPORT)
    client.force_login(nurse)
    page = client.get(reverse("incident_detail", args=[incident.pk]))
    assert b'data-testid="incident-status-form"' in page.content
    url = reverse("incident_status", args=[incident.pk])
    refused = client.post(url, {"status": "closed", "comment": ""})
    assert refused.status_code == 400
    assert Incident.objects.get().status == "open"
    assert client.post(url, {"status": "closed", "comment": "ECG réparé"}).status_code == 302
    shown = client.get(reverse("incident_detail", args=[incident.pk]))
    assert b'data-testid="incident-closed"' in shown.content


def test_an_incident_is_reported_from_the_days_page(booked, doctor, client):
    client.force_login(doctor.user)
    day = client.get(reverse("vacation_detail", args=[booked.pk]))
    assert reverse("incident_report", args=[booked.pk]).encode() in day.content
    url = reverse("incident_report", args=[booked.pk])
    bad = client.post(url, {**REPORT, "patient_ref": "Dupont"})
    assert bad.status_code == 400
    assert not Incident.objects.exists()
    assert client.post(url, {**REPORT, "severity": "minor"}).status_code == 302
    day = client.get(reverse("vacation_detail", args=[booked.pk]))
    assert b'data-testid="day-incidents"' in day.content


def test_incidents_are_seen_by_their_site_and_its_managers_only(booked, doctor, api, client):
    incident = services.incident_report(vacation=booked, by=doctor.user, **REPORT)
    stranger = member(Role.SECRETARY, site=HostSiteFactory())
    other_volunteer = VolunteerFactory().user
    for user in (stranger, other_volunteer):
        client.force_login(user)
        assert client.get(reverse("incident_detail", args=[incident.pk])).status_code == 404
        api.force_authenticate(user)
        assert api.get(f"/api/v1/incidents/{incident.pk}/").status_code == 404
        assert api.get("/api/v1/incidents/").json()["count"] == 0


def test_an_incident_is_not_reported_on_an_open_day(site, secretary, api):
    day = open_day(site, timezone.localdate() + timedelta(days=3))
    api.force_authenticate(secretary)
    answer = api.post("/api/v1/incidents/", {"vacation": day.pk, **REPORT}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "invalid_transition")


@pytest.mark.parametrize("count", [2, 8])
def test_the_incident_lists_cost_the_same_queries_at_any_size(
    count, client, api, django_assert_max_num_queries
):
    site = make_public_site()
    secretary = member(Role.SECRETARY, site=site)
    for n in range(count):
        doctor = VolunteerFactory()
        day = open_day(
            site, timezone.localdate() - timedelta(days=n + 1), status="booked", volunteer=doctor
        )
        services.incident_report(
            vacation=day, by=doctor.user, **{**REPORT, "severity": "minor"}, patient_ref="P-1"
        )
    client.force_login(secretary)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("incidents")).status_code == 200
    api.force_authenticate(secretary)
    with django_assert_max_num_queries(8):
        assert api.get("/api/v1/incidents/").json()["count"] == count
