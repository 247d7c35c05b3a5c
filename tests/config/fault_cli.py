"""What the fault tests do on the Django side, in a process of its own (the worker's database
is a file the test process does not open): `python -m tests.config.fault_cli <command>`.

    book         a secretary books a volunteer through the booking page; prints the response
    state        the notifications, as JSON
    sweep [MIN]  the sweeper (`requeue_stale`), MIN minutes from now (default 0)
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import notifications  # noqa: E402
from accounts.models import Notification  # noqa: E402
from accounts.roles import Role  # noqa: E402
from tests.factories import (  # noqa: E402
    MembershipFactory,
    VolunteerFactory,
    make_public_site,
    open_day,
)


def state() -> list[dict]:
    return list(
        Notification.objects.order_by("pk").values(
            "pk", "kind", "status", "attempts", "recipient__email"
        )
    )


def book() -> dict:
    site = make_public_site()
    secretary = MembershipFactory(role=Role.SECRETARY, site=site).user
    volunteer = VolunteerFactory(territories=[site.territory])
    day = open_day(site, timezone.localdate() + timedelta(days=10))
    client = Client()
    client.force_login(secretary)
    started = time.monotonic()
    response = client.post(
        reverse("vacation_book_page", args=[day.pk]), {"volunteer": volunteer.pk}
    )
    day.refresh_from_db()
    return {
        "status_code": response.status_code,
        "seconds": round(time.monotonic() - started, 2),
        "day": day.status,
        "volunteer": volunteer.user.email,
        "notifications": state(),
    }


def sweep(minutes: float = 0) -> dict:
    now = timezone.now() + timedelta(minutes=minutes)
    return {"requeued": notifications.requeue_stale(now=now)}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "book":
        result = book()
    elif command == "state":
        result = state()
    elif command == "sweep":
        result = sweep(*(float(arg) for arg in args))
    else:
        sys.exit(f"unknown command {command!r}")
    print(json.dumps(result))
