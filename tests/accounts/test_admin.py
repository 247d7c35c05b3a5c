from __future__ import annotations

from django.core import mail

from accounts import notifications
from accounts.models import Notification, User

CONTEXT = {"site": "MSP de Châteaumeillant", "date": "09/03/2027", "period": "Journée entière"}


def test_operators_list_failed_notifications_and_send_them_again(client, user):
    failed, sent = (
        notifications.notify(users=[user], kind="vacation_booked", context=CONTEXT, dedupe_key=key)[
            0
        ]
        for key in ("failed", "sent")
    )
    Notification.objects.filter(pk=failed.pk).update(
        status="failed", attempts=notifications.MAX_ATTEMPTS, last_error="SMTP down"
    )
    Notification.objects.filter(pk=sent.pk).update(status="sent")
    operator = User.objects.create_superuser("ops@releve.fr", "pw-ops-123456")
    client.force_login(operator)

    listed = client.get("/admin/accounts/notification/", {"status__exact": "failed"})
    response = client.post(
        "/admin/accounts/notification/",
        {"action": "retry", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert listed.status_code == 200
    assert [n.pk for n in listed.context["cl"].result_list] == [failed.pk]
    assert "1 notification(s) remise(s) en file d’envoi." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [m.to for m in mail.outbox] == [[user.email]]
