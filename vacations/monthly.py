"""Monthly statements (`monthly_statements`, on the 1st): each volunteer who completed days
last month gets its statement; each territory manager gets the indemnities due in its
territories. Totals are aggregated by the database; each message is written once per month.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.notifications import notify
from accounts.roles import Role
from sites.models import Membership
from vacations.models import Vacation, period_weight
from volunteers.models import Volunteer


def previous_month(today: Date) -> Date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@transaction.atomic
def send_monthly_statements(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    month = previous_month(timezone.localdate(now))
    done = Vacation.objects.filter(
        status=Vacation.Status.DONE, date__year=month.year, date__month=month.month
    )
    written = 0
    # Each volunteer's days and amount, summed by the database in one query.
    per_volunteer = (
        done.values("volunteer")
        .annotate(days=Sum(period_weight()), amount=Sum("indemnity"))
        .order_by("volunteer")
    )
    users = {
        v.pk: v.user
        for v in Volunteer.objects.filter(pk__in=done.values("volunteer")).select_related("user")
    }
    for row in per_volunteer:
        written += len(
            notify(
                users=[users[row["volunteer"]]],
                kind="monthly_statement",
                context={
                    "month": month.strftime("%m/%Y"),
                    "days": f"{row['days'].normalize()}",
                    "amount": row["amount"],
                    "link": f"{reverse('api-my-statement-pdf')}?month={month:%Y-%m}",
                },
                dedupe_key=f"statement:{row['volunteer']}:{month:%Y-%m}",
            )
        )
    per_territory = {
        row["site__territory"]: row
        # Days weighed as everywhere (a half-day is 0.5), as the pilots' indemnities report.
        for row in done.values("site__territory", "site__territory__name").annotate(
            days=Sum(period_weight()), amount=Sum("indemnity")
        )
    }
    managers = Membership.objects.filter(
        role=Role.TERRITORY_MANAGER, territory__in=list(per_territory)
    ).select_related("user")
    for membership in managers:
        row = per_territory[membership.territory_id]
        written += len(
            notify(
                users=[membership.user],
                kind="monthly_indemnities",
                context={
                    "month": month.strftime("%m/%Y"),
                    "territory": row["site__territory__name"],
                    "days": f"{row['days'].normalize()}",
                    "amount": row["amount"],
                    "link": reverse("coverage"),
                },
                dedupe_key=f"indemnities:{membership.territory_id}:{month:%Y-%m}",
            )
        )
    return written
