"""The home page of each role: what needs *me* today, each item a link (issue 11 § 7).

One function per role builds its section: a few tiles (a count and the list it counts) and
short lists of the most urgent items (at most `SHORT_LIST`, each linking to its object's page).
A user sees one section per role it holds; the managers' (territory, ARS, national — and the
platform operators) are one section over everything they pilot.

Everything is read through the scoped querysets of each app (`visible_to`, `in_scope_of`,
`piloted_by`); counts are conditional aggregates run by the database; every section costs a
fixed number of queries whatever the data size (`tests/reports/test_home.py` pins them).

No patient reference is shown here (a task's title holds one: the kind, the site and the
deadline are shown instead), so the page writes no `AccessRecord`; the pages it links to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.permissions import allowed
from accounts.roles import PILOT_ROLES, Role
from continuity.models import (
    ContactRequest,
    FollowUpTask,
    Handover,
    HandoverRead,
    IncomingResult,
)
from sites.models import HostSite, InfoSheet, Membership, Territory
from vacations.models import PARIS, Vacation, period_weight, usual_arrival
from vacations.selectors import add_months
from volunteers.models import Volunteer

SHORT_LIST = 5  # items per list: the tile's link leads to the rest
COVERAGE_HORIZON = timedelta(days=14)
NEXT_WEEK = timedelta(days=7)
RECENT_HANDOVERS = timedelta(days=30)  # older unread ones are history, not news
# A month's need spread over the days: a 14-day window needs 14 / 30.4375 of a month's days.
AVERAGE_MONTH_DAYS = Decimal("30.4375")
SCOPE_NAMES_SHOWN = 5

Status = Vacation.Status
Task = FollowUpTask


@dataclass(frozen=True)
class Tile:
    """A count and the list it counts."""

    key: str
    label: str
    count: int | Decimal
    url: str
    detail: str = ""
    alert: bool = False  # something waits for the user: the count shows in red


@dataclass(frozen=True)
class Row:
    url: str
    obj: object


@dataclass(frozen=True)
class ShortList:
    """The most urgent items of a list (`template` renders one `row.obj`)."""

    key: str
    title: str
    rows: list[Row]
    count: int
    url: str  # the whole list
    empty: str  # said when there is nothing
    template: str

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class Section:
    role: str  # a role code, or "pilot" for the managers' section
    title: str
    scope: list[Link] = field(default_factory=list)  # the places it covers
    scope_more: int = 0
    tiles: list[Tile] = field(default_factory=list)
    lists: list[ShortList] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # other useful doors
    notices: list[Link] = field(default_factory=list)  # what must be done before anything


def _rows(queryset, url) -> list[Row]:
    return [Row(url(obj), obj) for obj in queryset[:SHORT_LIST]]


def _template(name: str) -> str:
    return f"reports/home/items/{name}.html"


def _end_of(day: Date) -> datetime:
    """The first instant after `day`, in Paris."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=PARIS)


def _sites_as(user, role: str):
    """The sites where `user` holds `role` (secretary or course nurse)."""
    return HostSite.objects.staffed_by(user).filter(
        pk__in=Membership.objects.filter(user=user, role=role).values("site")
    )


def _scope_of_sites(sites: list[HostSite], url) -> tuple[list[Link], int]:
    shown = sites[:SCOPE_NAMES_SHOWN]
    return [Link(site.name, url(site)) for site in shown], len(sites) - len(shown)


def _day_url(vacation: Vacation) -> str:
    return reverse("vacation_detail", args=[vacation.pk])


def _closure_url(vacation: Vacation) -> str:
    return reverse("continuity_day_closure", args=[vacation.pk])


def _task_url(task: FollowUpTask) -> str:
    return reverse("continuity_task", args=[task.pk])


def _number(value, places: int) -> str:
    return formats.number_format(value, decimal_pos=places, use_l10n=True)


# --- Volunteer ------------------------------------------------------------------------------


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
    to_close = Q(status=Status.BOOKED, date__lt=today)
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
    next_days = _rows(ordered.filter(upcoming), _day_url)
    for row in next_days:
        preparation = getattr(row.obj, "preparation", None)
        row.obj.arrival = preparation.arrival() if preparation else usual_arrival(row.obj.period)
    statement = f"{reverse('api-my-statement-pdf')}?month={month:%Y-%m}"
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
            _("Days done this month: your statement (PDF)"),
            month_days,
            statement,
            detail=_("%(amount)s € of indemnities")
            % {"amount": _number(counts["month_amount"] or 0, 2)},
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
            _template("volunteer_day"),
        ),
        ShortList(
            "requests",
            _("Your requests pending"),
            _rows(ordered.filter(requested), _day_url),
            counts["requested"],
            planning,
            _("No pending request."),
            _template("volunteer_request"),
        ),
        ShortList(
            "to_close",
            _("Days to close"),
            _rows(ordered.filter(to_close), _closure_url),
            counts["to_close"],
            planning,
            _("No day to close."),
            _template("volunteer_to_close"),
        ),
        ShortList(
            "questions",
            _("Questions from the sites"),
            _rows(
                questions.select_related("task__site").order_by("due_at", "pk"),
                lambda contact: f"{followups}#question-{contact.pk}",
            ),
            question_count,
            followups,
            _("No question waits for your answer."),
            _template("question"),
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


# --- Site secretary -------------------------------------------------------------------------


def _planning_url(site: HostSite) -> str:
    return reverse("site_planning", args=[site.pk])


def secretary_section(user, *, today: Date, now: datetime) -> Section:
    """Today's and next week's days, requests to confirm, days to close, sheet and readiness
    gaps, at the sites where `user` is the secretary."""
    section = Section(Role.SECRETARY, Role.SECRETARY.label)
    sites = _sites_as(user, Role.SECRETARY)
    mine = list(sites.order_by("name", "pk"))
    section.scope, section.scope_more = _scope_of_sites(mine, _planning_url)
    # With one site, its month; with several, the list of sites (each opens its month).
    planning = _planning_url(mine[0]) if len(mine) == 1 else reverse("site_list")
    live = ~Q(status=Status.CANCELLED)
    today_q = Q(date=today) & live
    next_week = Q(date__gt=today, date__lte=today + NEXT_WEEK) & live
    open_next_week = Q(date__gte=today, date__lte=today + NEXT_WEEK, status=Status.OPEN)
    requests = Q(status=Status.REQUESTED, date__gte=today)
    to_close = Q(status=Status.BOOKED, date__lt=today)
    days = Vacation.objects.visible_to(user).filter(site__in=sites)
    counts = days.aggregate(
        today=Count("pk", filter=today_q),
        next_week=Count("pk", filter=next_week),
        open_next_week=Count("pk", filter=open_next_week),
        requests=Count("pk", filter=requests),
        to_close=Count("pk", filter=to_close),
    )
    ordered = days.select_related("site", "volunteer__user").order_by(
        "date", "starts_at", "site__name", "pk"
    )
    gaps = (
        sites.with_readiness()
        .annotate(
            sheet_status=Coalesce(F("info_sheet__status"), Value(InfoSheet.Status.DRAFT)),
            sheet_changed=Coalesce(F("info_sheet__changed_since_publication"), Value(False)),
        )
        .filter(
            ~Q(sheet_status=InfoSheet.Status.PUBLISHED)
            | Q(sheet_changed=True)
            | Q(readiness_mandatory_ok__lt=F("readiness_mandatory"))
        )
    )
    gap_count = gaps.count()
    gap_rows = _rows(
        gaps.order_by("name", "pk"), lambda site: reverse("site_detail", args=[site.pk])
    )
    labels = dict(InfoSheet.Status.choices)
    for row in gap_rows:
        row.obj.sheet_status_label = labels.get(row.obj.sheet_status, row.obj.sheet_status)
    sheets = reverse("site_detail", args=[mine[0].pk]) if len(mine) == 1 else reverse("site_list")
    section.tiles = [
        Tile("today", _("Days today"), counts["today"], planning),
        Tile(
            "next_week",
            _("Days in the next 7 days"),
            counts["next_week"],
            planning,
            detail=_("%(count)s still without a doctor") % {"count": counts["open_next_week"]},
        ),
        Tile(
            "requests",
            _("Requests to confirm"),
            counts["requests"],
            f"{planning}#requests-title" if len(mine) == 1 else planning,
            alert=bool(counts["requests"]),
        ),
        Tile(
            "to_close",
            _("Days to close (exams and handover)"),
            counts["to_close"],
            planning,
            alert=bool(counts["to_close"]),
        ),
        Tile(
            "gaps",
            _("Sites whose sheet or readiness is incomplete"),
            gap_count,
            sheets,
            alert=bool(gap_count),
        ),
    ]
    section.lists = [
        ShortList(
            "today",
            _("Today"),
            _rows(ordered.filter(today_q), _day_url),
            counts["today"],
            planning,
            _("No day today."),
            _template("site_day"),
        ),
        ShortList(
            "next_week",
            _("In the next 7 days"),
            _rows(ordered.filter(next_week), _day_url),
            counts["next_week"],
            planning,
            _("No day planned in the next 7 days."),
            _template("site_day"),
        ),
        ShortList(
            "requests",
            _("Requests to confirm"),
            _rows(ordered.filter(requests), _day_url),
            counts["requests"],
            planning,
            _("Nothing to confirm."),
            _template("site_day"),
        ),
        ShortList(
            "to_close",
            _("Days to close"),
            _rows(ordered.filter(to_close), _closure_url),
            counts["to_close"],
            planning,
            _("No day to close."),
            _template("site_day"),
        ),
        ShortList(
            "gaps",
            _("Sheet and readiness"),
            gap_rows,
            gap_count,
            sheets,
            _("Your sheets are published and your sites ready."),
            _template("site_gap"),
        ),
    ]
    return section


# --- Course nurse ---------------------------------------------------------------------------


def _urgent_first(tasks: QuerySet[FollowUpTask]) -> QuerySet[FollowUpTask]:
    return tasks.annotate(
        urgent_rank=Case(
            When(priority=Task.Priority.URGENT, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("urgent_rank", "due_at", "pk")


def nurse_section(user, *, today: Date, now: datetime) -> Section:
    """Tasks due today and overdue, urgent results, quarantine, unread handovers, at the sites
    where `user` is the course nurse."""
    section = Section(Role.COURSE_NURSE, Role.COURSE_NURSE.label)
    sites = _sites_as(user, Role.COURSE_NURSE)
    mine = list(sites.order_by("name", "pk"))
    section.scope, section.scope_more = _scope_of_sites(mine, _planning_url)
    end_of_today = _end_of(today)
    tasks = FollowUpTask.objects.visible_to(user).active().filter(site__in=sites)
    counts = tasks.aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        due_today=Count("pk", filter=Q(due_at__gte=now, due_at__lt=end_of_today)),
        urgent=Count("pk", filter=Q(priority=Task.Priority.URGENT)),
    )
    listed = tasks.select_related("site")
    quarantine = IncomingResult.objects.filter(
        IncomingResult.visible_to_q(user),
        site__in=sites,
        outcome=IncomingResult.Outcome.QUARANTINED,
        resolved_at__isnull=True,
    )
    quarantine_count = quarantine.count()
    unread = (
        Handover.objects.visible_to(user)
        .filter(vacation__site__in=sites, created_at__gte=now - RECENT_HANDOVERS)
        .filter(~Exists(HandoverRead.objects.filter(handover=OuterRef("pk"), reader=user)))
    )
    unread_count = unread.count()
    worklist = reverse("continuity_worklist")
    overdue_list = f"{worklist}?overdue=on"
    quarantine_url = reverse("continuity_quarantine")
    handovers_url = reverse("continuity_handovers")
    section.tiles = [
        Tile("due_today", _("Tasks due today"), counts["due_today"], worklist),
        Tile(
            "overdue",
            _("Overdue tasks"),
            counts["overdue"],
            overdue_list,
            alert=bool(counts["overdue"]),
        ),
        Tile(
            "urgent",
            _("Urgent results to review"),
            counts["urgent"],
            worklist,
            alert=bool(counts["urgent"]),
        ),
        Tile(
            "quarantine",
            _("Results in quarantine"),
            quarantine_count,
            quarantine_url,
            alert=bool(quarantine_count),
        ),
        Tile("handovers", _("Unread handovers (30 days)"), unread_count, handovers_url),
    ]
    section.lists = [
        ShortList(
            "due",
            _("Due today or overdue"),
            _rows(_urgent_first(listed.filter(due_at__lt=end_of_today)), _task_url),
            counts["overdue"] + counts["due_today"],
            worklist,
            _("No task due today: the follow-up is up to date."),
            _template("task"),
        ),
        ShortList(
            "urgent",
            _("Urgent results"),
            _rows(listed.filter(priority=Task.Priority.URGENT).order_by("due_at", "pk"), _task_url),
            counts["urgent"],
            worklist,
            _("No urgent result."),
            _template("task"),
        ),
        ShortList(
            "quarantine",
            _("Quarantine"),
            _rows(
                quarantine.select_related("site").order_by("received_at", "pk"),
                lambda result: f"{quarantine_url}#incoming-{result.pk}",
            ),
            quarantine_count,
            quarantine_url,
            _("No result in quarantine."),
            _template("quarantined"),
        ),
        ShortList(
            "handovers",
            _("Unread handovers"),
            _rows(
                unread.select_related("vacation__site", "author").order_by("-created_at", "-pk"),
                lambda handover: reverse("continuity_handover", args=[handover.pk]),
            ),
            unread_count,
            handovers_url,
            _("No unread handover."),
            _template("handover"),
        ),
    ]
    return section


# --- Managers (territory, ARS, national) ----------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """The managers' headline figures over what they pilot (`headline`)."""

    booked_days: Decimal  # booked (or done) in the next 14 days, a half-day counting 0.5
    needed_days: Decimal  # the active sites' declared need, over the same 14 days
    uncovered_priority: int  # priority territories with no booked day in the next 14 days
    sheets_to_validate: int
    volunteers_to_verify: int
    tasks_overdue: int
    tasks_escalated: int  # to a manager (territory or ARS level)
    tasks_late_or_escalated: int  # either (a task both is counted once)
    quarantined: int


def _booked(queryset: QuerySet[Vacation], *, today: Date) -> QuerySet[Vacation]:
    return queryset.filter(
        status__in=(Status.BOOKED, Status.DONE), date__gte=today, date__lt=today + COVERAGE_HORIZON
    )


def uncovered_priority_territories(user, *, today: Date) -> QuerySet[Territory]:
    """Priority territories `user` pilots where no day is booked in the next 14 days."""
    booked_there = _booked(Vacation.objects.filter(site__territory=OuterRef("pk")), today=today)
    return Territory.objects.piloted_by(user).filter(is_priority=True).filter(~Exists(booked_there))


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


def headline(user, *, today: Date, now: datetime) -> Headline:
    """The figures of the managers' tiles (7 queries, whatever the size of the scope)."""
    sites = HostSite.objects.piloted_by(user)
    booked = _booked(Vacation.objects.visible_to(user).filter(site__in=sites), today=today)
    booked_days = booked.aggregate(days=Sum(period_weight()))["days"] or Decimal("0")
    wanted = sites.filter(status=HostSite.Status.ACTIVE).aggregate(
        days=Sum("days_wanted_per_month")
    )["days"]
    needed = Decimal(wanted or 0) * COVERAGE_HORIZON.days / AVERAGE_MONTH_DAYS
    tasks = piloted_tasks(user).aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        escalated=Count("pk", filter=Q(escalation_level__gte=Task.Level.TERRITORY)),
        late_or_escalated=Count("pk", filter=_late_or_escalated(now)),
    )
    return Headline(
        booked_days=booked_days,
        needed_days=needed.quantize(Decimal("0.1")),
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
    figures = headline(user, today=today, now=now)
    # TODO(lead): link to the dashboard — the coverage tiles and the territories lead to the
    # coverage grid until the pilotage dashboards (`reports:…`) exist.
    coverage = f"{reverse('coverage')}?semaines=2"
    to_validate = f"{reverse('site_list')}?sheet=to_validate"
    to_verify = f"{reverse('volunteer_list')}?status={Volunteer.Status.PENDING}"
    worklist = reverse("continuity_worklist")
    section.tiles = [
        Tile(
            "booked",
            _("Days booked in the next 14 days"),
            figures.booked_days,
            coverage,
            detail=(
                _("Need: %(days)s days (declared by the sites)")
                % {"days": _number(figures.needed_days, 1)}
                if figures.needed_days
                else _("The sites declared no need yet")
            ),
            alert=figures.booked_days < figures.needed_days,
        ),
        Tile(
            "uncovered",
            _("Priority territories without a booked day in the next 14 days"),
            figures.uncovered_priority,
            coverage,
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
            _rows(
                uncovered_priority_territories(user, today=today)
                .select_related("department")
                .order_by("name", "pk"),
                lambda territory: coverage,
            ),
            figures.uncovered_priority,
            coverage,
            _("Every priority territory has a day booked in the next 14 days."),
            _template("territory"),
        ),
        ShortList(
            "sheets",
            _("Sheets to validate"),
            _rows(
                sheets_to_validate(user)
                .select_related("info_sheet", "territory")
                .order_by("info_sheet__submitted_at", "name", "pk"),
                lambda site: reverse("site_detail", args=[site.pk]),
            ),
            figures.sheets_to_validate,
            to_validate,
            _("No sheet to validate."),
            _template("sheet"),
        ),
        ShortList(
            "volunteers",
            _("Volunteers to verify"),
            _rows(
                volunteers_to_verify(user).select_related("user").order_by("created_at", "pk"),
                lambda volunteer: reverse("volunteer_detail", args=[volunteer.pk]),
            ),
            figures.volunteers_to_verify,
            to_verify,
            _("No volunteer waits for verification."),
            _template("volunteer"),
        ),
        ShortList(
            "tasks",
            _("Tasks overdue or escalated"),
            _rows(
                late_or_escalated.select_related("site").order_by(
                    "-escalation_level", "due_at", "pk"
                ),
                _task_url,
            ),
            figures.tasks_late_or_escalated,
            worklist,
            _("No task overdue or escalated."),
            _template("task"),
        ),
    ]
    return section


# --- The page -------------------------------------------------------------------------------


def home_sections(user, *, today: Date, now: datetime) -> list[Section]:
    """One section per role `user` holds, in the order of the day's work."""
    roles = user.role_codes()
    sections = []
    if Role.VOLUNTEER in roles:
        sections.append(volunteer_section(user, today=today, now=now))
    if Role.SECRETARY in roles:
        sections.append(secretary_section(user, today=today, now=now))
    if Role.COURSE_NURSE in roles:
        sections.append(nurse_section(user, today=today, now=now))
    if allowed(user, "sites.pilot"):
        sections.append(pilot_section(user, today=today, now=now))
    return sections
