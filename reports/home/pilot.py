"""The managers' section of the home page (territory, ARS, national, and the platform
operators): the headline figures of their dashboard and its queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import PILOT_ROLES, Role
from continuity.models import FollowUpTask, IncomingResult
from reports import coverage
from reports.home.parts import (
    COVERAGE_HORIZON,
    SCOPE_NAMES_SHOWN,
    Link,
    Section,
    ShortList,
    Task,
    Tile,
    number,
    rows,
    task_url,
    template,
)
from reports.periods import Period
from reports.scope import Place, home_place
from sites.models import HostSite, Membership, Territory
from volunteers.models import Volunteer


@dataclass(frozen=True)
class Headline:
    """The managers' headline figures over what they pilot (`headline`)."""

    booked_days: Decimal  # booked or done in the next 14 days (coverage's "covered")
    needed_days: Decimal  # the active sites' need over the same 14 days (coverage's)
    uncovered_priority: int  # priority territories with no booked day in the next 14 days
    sheets_to_validate: int
    volunteers_to_verify: int
    tasks_overdue: int
    tasks_escalated: int  # to a manager (territory or ARS level)
    tasks_late_or_escalated: int  # either (a task both is counted once)
    quarantined: int


def uncovered_priority_territories(user, *, today: Date) -> QuerySet[Territory]:
    """Priority territories `user` pilots where no day is booked in the next 14 days (the
    coverage dashboard's red list, `reports.coverage.without_booked_day`)."""
    return coverage.without_booked_day(Territory.objects.piloted_by(user), today=today)


def sheets_to_validate(user) -> QuerySet[HostSite]:
    return HostSite.objects.piloted_by(user).to_validate()


def volunteers_to_verify(user) -> QuerySet[Volunteer]:
    # The volunteers' list (`volunteer_list`) reads `visible_to`: the same people here.
    return Volunteer.objects.visible_to(user).filter(status=Volunteer.Status.PENDING)


def piloted_tasks(user) -> QuerySet[FollowUpTask]:
    return (
        FollowUpTask.objects.visible_to(user)
        .active()
        .filter(site__in=HostSite.objects.piloted_by(user))
    )


def _late_or_escalated(now: datetime) -> Q:
    return Q(due_at__lt=now) | Q(escalation_level__gte=Task.Level.TERRITORY)


def horizon(today: Date) -> Period:
    """The next 14 days, today included."""
    return Period(today, today + COVERAGE_HORIZON - timedelta(days=1))


def headline(user, *, today: Date, now: datetime, place: Place | None = None) -> Headline:
    """The figures of the managers' tiles (constant queries, whatever the size of the scope).
    Booked and needed are the coverage dashboard's own (`reports.coverage.place_totals`) over
    the caller's home place (`reports.scope.home_place`): the same words, the same numbers."""
    place = place or home_place(user)
    sites = place.sites
    days = coverage.place_totals(place, horizon(today))
    tasks = piloted_tasks(user).aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        escalated=Count("pk", filter=Q(escalation_level__gte=Task.Level.TERRITORY)),
        late_or_escalated=Count("pk", filter=_late_or_escalated(now)),
    )
    return Headline(
        booked_days=days["days_booked"] + days["days_done"],
        needed_days=days["days_needed"],
        uncovered_priority=uncovered_priority_territories(user, today=today).count(),
        sheets_to_validate=sheets_to_validate(user).count(),
        volunteers_to_verify=volunteers_to_verify(user).count(),
        tasks_overdue=tasks["overdue"],
        tasks_escalated=tasks["escalated"],
        tasks_late_or_escalated=tasks["late_or_escalated"],
        quarantined=IncomingResult.objects.filter(
            IncomingResult.visible_to_q(user),
            site__in=sites,
            outcome=IncomingResult.Outcome.QUARANTINED,
            resolved_at__isnull=True,
        ).count(),
    )


def _pilot_scope(user) -> tuple[list[Link], int]:
    """The places a manager pilots, as its memberships name them (1 query); a platform
    operator without a role pilots everything."""
    memberships = list(
        Membership.objects.visible_to(user)
        .filter(user=user, role__in=PILOT_ROLES)
        .select_related("region", "territory")
        .order_by("role", "region__name", "territory__name")
    )
    if not memberships or any(m.role == Role.NATIONAL_MANAGER for m in memberships):
        return [Link(_("France"), reverse("site_list"))], 0
    names = [str(m.region or m.territory) for m in memberships]
    shown = names[:SCOPE_NAMES_SHOWN]
    return [Link(name, reverse("territory_list")) for name in shown], len(names) - len(shown)


def pilot_section(user, *, today: Date, now: datetime) -> Section:
    """The headline tiles of the managers' dashboard and its queues, over what `user` pilots."""
    held = [Role(role).label for role in sorted(user.role_codes() & PILOT_ROLES)]
    title = " · ".join(str(label) for label in held) or _("Platform operator")
    section = Section("pilot", title)
    section.scope, section.scope_more = _pilot_scope(user)
    place = home_place(user)
    figures = headline(user, today=today, now=now, place=place)
    period = horizon(today)
    dashboard = f"{reverse('reports:coverage')}?{place.query}&{coverage.period_query(period)}"
    dashboard = dashboard.replace("?&", "?")
    to_validate = f"{reverse('site_list')}?sheet=to_validate"
    to_verify = f"{reverse('volunteer_list')}?status={Volunteer.Status.PENDING}"
    worklist = reverse("continuity_worklist")
    section.tiles = [
        Tile(
            "booked",
            _("Days booked in the next 14 days"),
            figures.booked_days,
            dashboard,
            detail=(
                _("Need: %(days)s days (declared by the sites)")
                % {"days": number(figures.needed_days, 1)}
                if figures.needed_days
                else _("The sites declared no need yet")
            ),
            alert=figures.booked_days < figures.needed_days,
        ),
        Tile(
            "uncovered",
            _("Priority territories without a booked day in the next 14 days"),
            figures.uncovered_priority,
            f"{dashboard}#red-lists",
            alert=bool(figures.uncovered_priority),
        ),
        Tile(
            "sheets",
            _("Information sheets to validate"),
            figures.sheets_to_validate,
            to_validate,
            alert=bool(figures.sheets_to_validate),
        ),
        Tile(
            "volunteers",
            _("Volunteers awaiting verification"),
            figures.volunteers_to_verify,
            to_verify,
            alert=bool(figures.volunteers_to_verify),
        ),
        Tile(
            "overdue",
            _("Overdue follow-up tasks"),
            figures.tasks_overdue,
            f"{worklist}?overdue=on",
            alert=bool(figures.tasks_overdue),
        ),
        Tile(
            "escalated",
            _("Tasks escalated to a manager"),
            figures.tasks_escalated,
            worklist,
            alert=bool(figures.tasks_escalated),
        ),
        Tile(
            "quarantine",
            _("Results in quarantine"),
            figures.quarantined,
            reverse("continuity_quarantine"),
            alert=bool(figures.quarantined),
        ),
    ]
    late_or_escalated = piloted_tasks(user).filter(_late_or_escalated(now))
    section.lists = [
        ShortList(
            "uncovered",
            _("Priority territories without a booked day"),
            rows(
                uncovered_priority_territories(user, today=today)
                .select_related("department")
                .order_by("name", "pk"),
                lambda territory: (
                    f"{reverse('reports:coverage')}?territory={territory.pk}"
                    f"&{coverage.period_query(period)}"
                    # The pilotage page reads the pilot's scope: a platform operator without a
                    # pilot's role keeps the coverage grid.
                ),
            ),
            figures.uncovered_priority,
            f"{dashboard}#red-lists",
            _("Every priority territory has a day booked in the next 14 days."),
            template("territory"),
        ),
        ShortList(
            "sheets",
            _("Sheets to validate"),
            rows(
                sheets_to_validate(user)
                .select_related("info_sheet", "territory")
                .order_by("info_sheet__submitted_at", "name", "pk"),
                lambda site: reverse("site_detail", args=[site.pk]),
            ),
            figures.sheets_to_validate,
            to_validate,
            _("No sheet to validate."),
            template("sheet"),
        ),
        ShortList(
            "volunteers",
            _("Volunteers to verify"),
            rows(
                volunteers_to_verify(user).select_related("user").order_by("created_at", "pk"),
                lambda volunteer: reverse("volunteer_detail", args=[volunteer.pk]),
            ),
            figures.volunteers_to_verify,
            to_verify,
            _("No volunteer waits for verification."),
            template("volunteer"),
        ),
        ShortList(
            "tasks",
            _("Tasks overdue or escalated"),
            rows(
                late_or_escalated.select_related("site").order_by(
                    "-escalation_level", "due_at", "pk"
                ),
                task_url,
            ),
            figures.tasks_late_or_escalated,
            worklist,
            _("No task overdue or escalated."),
            template("task"),
        ),
    ]
    return section
