"""The volunteer's section of the home page."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import Role
from continuity.models import ContactRequest
from reports.home.parts import (
    Link,
    Section,
    ShortList,
    Status,
    Tile,
    closure_url,
    day_url,
    number,
    rows,
    template,
)
from vacations.models import Vacation, period_weight, to_close_q, usual_arrival
from vacations.selectors import add_months
from volunteers.models import Volunteer


def volunteer_section(user, *, today: Date, now: datetime) -> Section:
    """Next days (arrival time, site), requests pending, days to close, questions to answer,
    this month's statement, the calendar subscription."""
    section = Section(Role.VOLUNTEER, Role.VOLUNTEER.label)
    volunteer = Volunteer.objects.visible_to(user).filter(user=user).first()
    if volunteer is None:
        section.notices.append(
            Link(_("Create your volunteer doctor profile"), reverse("volunteer_profile"))
        )
        return section
    if volunteer.status == Volunteer.Status.PENDING:
        section.notices.append(
            Link(
                _("Your profile awaits its verification by a territory manager: see it"),
                reverse("volunteer_profile"),
            )
        )
    planning = reverse("my_planning")
    month = today.replace(day=1)
    upcoming = Q(status=Status.BOOKED, date__gte=today)
    requested = Q(status=Status.REQUESTED, date__gte=today)
    to_close = to_close_q(today)
    done_this_month = Q(status=Status.DONE, date__gte=month, date__lt=add_months(month, 1))
    days = Vacation.objects.visible_to(user).filter(volunteer=volunteer)
    counts = days.aggregate(
        upcoming=Count("pk", filter=upcoming),
        requested=Count("pk", filter=requested),
        to_close=Count("pk", filter=to_close),
        month_days=Sum(period_weight(), filter=done_this_month),
        month_amount=Sum("indemnity", filter=done_this_month),
    )
    questions = ContactRequest.objects.visible_to(user).filter(
        volunteer=volunteer, status=ContactRequest.Status.WAITING
    )
    question_count = questions.count()
    ordered = days.select_related("site", "preparation").order_by("date", "starts_at", "pk")
    next_days = rows(ordered.filter(upcoming), day_url)
    for row in next_days:
        preparation = getattr(row.obj, "preparation", None)
        row.obj.arrival = preparation.arrival() if preparation else usual_arrival(row.obj.period)
    statement = f"{reverse('reports:my_statement')}?month={month:%Y-%m}"
    month_days = counts["month_days"] or Decimal("0")
    section.tiles = [
        Tile("upcoming", _("Days coming up"), counts["upcoming"], f"{planning}#upcoming-title"),
        Tile(
            "requested",
            _("Requests waiting for the site"),
            counts["requested"],
            f"{planning}#requested-title",
        ),
        Tile(
            "to_close",
            _("Days to close (exams and handover)"),
            counts["to_close"],
            f"{planning}#to-close-title",
            alert=bool(counts["to_close"]),
        ),
        Tile(
            "questions",
            _("Questions to answer"),
            question_count,
            reverse("continuity_my_followups"),
            alert=bool(question_count),
        ),
        Tile(
            "statement",
            _("Days done this month: your statement"),
            month_days,
            statement,
            detail=_("%(amount)s € of indemnities")
            % {"amount": number(counts["month_amount"] or 0, 2)},
        ),
    ]
    followups = reverse("continuity_my_followups")
    section.lists = [
        ShortList(
            "next_days",
            _("Your next days"),
            next_days,
            counts["upcoming"],
            planning,
            _("No day booked yet."),
            template("volunteer_day"),
        ),
        ShortList(
            "requests",
            _("Your requests pending"),
            rows(ordered.filter(requested), day_url),
            counts["requested"],
            planning,
            _("No pending request."),
            template("volunteer_request"),
        ),
        ShortList(
            "to_close",
            _("Days to close"),
            rows(ordered.filter(to_close), closure_url),
            counts["to_close"],
            planning,
            _("No day to close."),
            template("volunteer_to_close"),
        ),
        ShortList(
            "questions",
            _("Questions from the sites"),
            rows(
                questions.select_related("task__site").order_by("due_at", "pk"),
                lambda contact: f"{followups}#question-{contact.pk}",
            ),
            question_count,
            followups,
            _("No question waits for your answer."),
            template("question"),
        ),
    ]
    section.links = [
        Link(_("Subscribe to your calendar (private address)"), f"{planning}#feed-title"),
        Link(
            _("Download your calendar (iCal)"),
            reverse("volunteer_calendar", kwargs={"token": volunteer.calendar_token}),
        ),
        Link(_("Find an open day"), reverse("open_days")),
        Link(_("Your availability"), reverse("volunteer_availability")),
    ]
    return section
