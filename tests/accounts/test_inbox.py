"""The inbox: a bell with the unread count on every page, the list, reading, preferences."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import notifications
from accounts.models import Notification, NotificationPreference
from tests.factories import UserFactory

CONTEXT = {"site": "MSP de Châteaumeillant", "date": "09/03/2027", "period": "Journée entière"}


def message(user, key, **context):
    [notification] = notifications.notify(
        users=[user], kind="vacation_booked", context={**CONTEXT, **context}, dedupe_key=key
    )
    return notification


def bell(html: str) -> str:
    return re.search(r'<a id="inbox-bell".*?</a>', html, re.S).group(0)


def test_every_page_shows_the_bell_with_the_unread_count(client, volunteer):
    message(volunteer, "a")
    message(volunteer, "b")
    message(UserFactory(), "someone-else")
    Notification.objects.filter(dedupe_key=f"b:{volunteer.pk}").update(read_at=timezone.now())
    client.force_login(volunteer)

    pages = [reverse("home"), reverse("my_planning"), reverse("inbox")]
    bells = [bell(client.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()) for page in pages]

    for shown in bells:
        assert 'aria-label="Notifications, non lues : 1"' in shown
        assert 'data-unread="1"' in shown
        assert f'href="{reverse("inbox")}"' in shown


def test_visitors_have_no_bell(client, db):
    assert 'id="inbox-bell"' not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("inbox")).status_code == 302


def test_the_inbox_lists_ones_own_messages_newest_first(client, volunteer):
    first = message(volunteer, "first", site="MSP du Lignon")
    second = message(volunteer, "second", site="Centre de santé d’Aubusson", link="/jours/7/")
    message(UserFactory(), "not-mine", site="Cabinet secret")
    client.force_login(volunteer)

    response = client.get(reverse("inbox"))

    assert response.status_code == 200
    assert [n.pk for n in response.context["page_obj"]] == [second.pk, first.pk]
    html = response.content.decode()
    assert "Cabinet secret" not in html
    assert reverse("notification_open", args=[second.pk]) in html
    assert html.count("Marquer comme lu") == 2


@pytest.mark.parametrize("size", [3, 45])
def test_the_inbox_costs_the_same_queries_whatever_its_size(
    client, django_assert_num_queries, volunteer, size
):
    notifications.notify_many(
        notifications.Message([volunteer], "vacation_booked", CONTEXT, f"m{n}") for n in range(size)
    )
    client.force_login(volunteer)

    # session, user, memberships (shell), unread messages (the bell), count, page
    with django_assert_num_queries(6):
        response = client.get(reverse("inbox"), {"page": 2 if size > 20 else 1})

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == size
    assert len(response.context["page_obj"]) == min(size, 20)


def test_marking_a_message_read_with_htmx_swaps_it_and_the_bell(client, volunteer):
    read = message(volunteer, "read")
    message(volunteer, "still-unread")
    client.force_login(volunteer)

    response = client.post(reverse("notification_read", args=[read.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{read.pk}"' in html
    assert "Marquer comme lu" not in html
    assert 'role="status"' in html
    assert 'hx-swap-oob="true"' in bell(html)
    assert 'data-unread="1"' in bell(html)
    read.refresh_from_db()
    assert read.read_at is not None
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_without_htmx_marking_read_comes_back_to_the_inbox(client, volunteer):
    read = message(volunteer, "read")
    client.force_login(volunteer)

    response = client.post(reverse("notification_read", args=[read.pk]))

    assert response.status_code == 302
    assert response.url == reverse("inbox")
    read.refresh_from_db()
    assert read.read_at is not None


def test_someone_elses_message_is_not_found(client, volunteer):
    other = message(UserFactory(), "other", link="/jours/1/")
    client.force_login(volunteer)

    read = client.post(reverse("notification_read", args=[other.pk]), HTTP_HX_REQUEST="true")
    opened = client.get(reverse("notification_open", args=[other.pk]))

    assert (read.status_code, opened.status_code) == (404, 404)
    other.refresh_from_db()
    assert other.read_at is None


def test_opening_a_message_marks_it_read_and_goes_to_its_page(client, volunteer):
    linked = message(volunteer, "linked", link="/jours/7/")
    elsewhere = message(volunteer, "elsewhere", link="https://evil.example.com/")
    client.force_login(volunteer)

    response = client.get(reverse("notification_open", args=[linked.pk]))
    refused = client.get(reverse("notification_open", args=[elsewhere.pk]))

    assert (response.status_code, response.url) == (302, "/jours/7/")
    assert (refused.status_code, refused.url) == (302, reverse("inbox"))
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_a_link_to_this_site_opens_in_place(client, volunteer, settings):
    settings.SITE_URL = "https://releve.example.fr"
    linked = message(volunteer, "absolute", url="https://releve.example.fr/suivi/taches/4/")
    client.force_login(volunteer)

    response = client.get(reverse("notification_open", args=[linked.pk]))

    assert (response.status_code, response.url) == (302, "/suivi/taches/4/")


def test_mark_all_as_read(client, volunteer):
    for key in ("a", "b", "c"):
        message(volunteer, key)
    other = message(UserFactory(), "other")
    client.force_login(volunteer)

    response = client.post(reverse("notifications_read_all"), follow=True)

    assert "3 message(s) marqué(s) comme lu(s)." in response.content.decode()
    assert 'data-unread="0"' in bell(response.content.decode())
    assert not Notification.objects.filter(recipient=volunteer, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_preferences_set_the_language_and_the_kinds_sent_by_email(
    client, volunteer, django_capture_on_commit_callbacks
):
    client.force_login(volunteer)
    page = client.get(reverse("notification_preferences"))
    offered = [value for value, _label in page.context["form"].fields["emailed"].choices]
    kept = [kind for kind in offered if kind != "vacation_booked"]

    response = client.post(reverse("notification_preferences"), {"language": "en", "emailed": kept})
    volunteer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        message(volunteer, "muted")
        notifications.notify(
            users=[volunteer], kind="vacation_cancelled",
            context={**CONTEXT, "reason": "Fermeture"}, dedupe_key="emailed",
        )  # fmt: skip

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert volunteer.language == "en"
    assert "task_escalated" not in offered
    assert "contact_request" not in offered
    assert "vacation_booked" in offered
    assert not NotificationPreference.objects.get(user=volunteer, kind="vacation_booked").email
    assert [m.subject for m in mail.outbox] == ["Day cancelled: MSP de Châteaumeillant, 09/03/2027"]
    muted = Notification.objects.get(kind="vacation_booked")
    assert (muted.status, muted.channel) == ("sent", "inapp")
    assert muted.subject.startswith("Day booked")
    again = client.get(reverse("notification_preferences"))
    assert "vacation_booked" not in again.context["form"].initial["emailed"]
    assert again.context["form"].initial["language"] == "en"


def test_preferences_name_what_is_always_emailed(client, volunteer):
    client.force_login(volunteer)

    html = client.get(reverse("notification_preferences"), HTTP_ACCEPT_LANGUAGE="fr").content

    assert "Tâches de suivi remontées" in html.decode()
    assert "Questions sur vos patients" in html.decode()


def test_an_unknown_language_is_refused_and_changes_nothing(client, volunteer):
    client.force_login(volunteer)

    response = client.post(reverse("notification_preferences"), {"language": "de"})

    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    volunteer.refresh_from_db()
    assert volunteer.language == "fr"
    assert not NotificationPreference.objects.exists()
