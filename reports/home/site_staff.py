"""The site staff's sections of the home page: the secretary's and the course nurse's."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import FOLLOW_UP_ROLES, Role
from continuity.models import (
    FollowUpTask,
    Handover,
    HandoverRead,
    IncomingResult,
    PendingExam,
)
from reports.home.parts import (
    NEXT_WEEK,
    RECENT_HANDOVERS,
    Section,
    ShortList,
    Status,
    Task,
    Tile,
    closure_url,
    day_url,
    end_of,
    rows,
    scope_of_sites,
    sites_as,
    task_url,
    template,
)
from sites.models import HostSite, InfoSheet
from vacations.models import Vacation, to_close_q

# --- Site secretary -------------------------------------------------------------------------


def _planning_url(site: HostSite) -> str:
    return reverse("site_planning", args=[site.pk])


def secretary_section(user, *, today: Date, now: datetime) -> Section:
    """Today's and next week's days, requests to confirm, days to close, sheet and readiness
    gaps, at the sites where `user` is the secretary."""
    section = Section(Role.SECRETARY, Role.SECRETARY.label)
    sites = sites_as(user, Role.SECRETARY)
    mine = list(sites.order_by("name", "pk"))
    section.scope, section.scope_more = scope_of_sites(mine, _planning_url)
    # With one site (and the secondary practices it runs, shown in its month), its month; with
    # several, the list of sites (each opens its month).
    pks = {site.pk for site in mine}
    heads = [site for site in mine if not (site.parent_id in pks and site.is_attached)]
    planning = _planning_url(heads[0]) if len(heads) == 1 else reverse("site_list")
    live = ~Q(status=Status.CANCELLED)
    today_q = Q(date=today) & live
    next_week = Q(date__gt=today, date__lte=today + NEXT_WEEK) & live
    open_next_week = Q(date__gte=today, date__lte=today + NEXT_WEEK, status=Status.OPEN)
    requests = Q(status=Status.REQUESTED, date__gte=today)
    to_close = to_close_q(today)
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
            sheet_changed=Exists(
                InfoSheet.objects.filter(site=OuterRef("pk")).exclude(revision_status="none")
            ),
        )
        .filter(
            ~Q(sheet_status=InfoSheet.Status.PUBLISHED)
            | Q(sheet_changed=True)
            | Q(readiness_mandatory_ok__lt=F("readiness_mandatory"))
        )
    )
    gap_count = gaps.count()
    gap_rows = rows(
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
            rows(ordered.filter(today_q), day_url),
            counts["today"],
            planning,
            _("No day today."),
            template("site_day"),
        ),
        ShortList(
            "next_week",
            _("In the next 7 days"),
            rows(ordered.filter(next_week), day_url),
            counts["next_week"],
            planning,
            _("No day planned in the next 7 days."),
            template("site_day"),
        ),
        ShortList(
            "requests",
            _("Requests to confirm"),
            rows(ordered.filter(requests), day_url),
            counts["requests"],
            planning,
            _("Nothing to confirm."),
            template("site_day"),
        ),
        ShortList(
            "to_close",
            _("Days to close"),
            rows(ordered.filter(to_close), closure_url),
            counts["to_close"],
            planning,
            _("No day to close."),
            template("site_day"),
        ),
        ShortList(
            "gaps",
            _("Sheet and readiness"),
            gap_rows,
            gap_count,
            sheets,
            _("Your sheets are published and your sites ready."),
            template("site_gap"),
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
    where `user` follows results up: course nurse or medical assistant (the same rights,
    `FOLLOW_UP_ROLES`), there or at their pôle mère."""
    role = next(role for role in FOLLOW_UP_ROLES if user.has_role(role))
    section = Section(role, role.label)
    sites = sites_as(user, *FOLLOW_UP_ROLES)
    mine = list(sites.order_by("name", "pk"))
    section.scope, section.scope_more = scope_of_sites(mine, _planning_url)
    end_of_today = end_of(today)
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
    # The queue "closed with a leg pending" (`PendingExam.leg_missing_q`): the letter to the
    # treating doctor to send, a leg reopened, an exam closed before the legs were tracked.
    leg_pending_count = (
        PendingExam.objects.visible_to(user)
        .filter(PendingExam.leg_missing_q(), site__in=sites)
        .count()
    )
    leg_pending_url = f"{reverse('continuity_exams')}?view=leg_pending"
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
        Tile(
            "leg_pending",
            _("Closed exams with a leg pending"),
            leg_pending_count,
            leg_pending_url,
            alert=bool(leg_pending_count),
        ),
    ]
    section.lists = [
        ShortList(
            "due",
            _("Due today or overdue"),
            rows(_urgent_first(listed.filter(due_at__lt=end_of_today)), task_url),
            counts["overdue"] + counts["due_today"],
            worklist,
            _("No task due today: the follow-up is up to date."),
            template("task"),
        ),
        ShortList(
            "urgent",
            _("Urgent results"),
            rows(listed.filter(priority=Task.Priority.URGENT).order_by("due_at", "pk"), task_url),
            counts["urgent"],
            worklist,
            _("No urgent result."),
            template("task"),
        ),
        ShortList(
            "quarantine",
            _("Quarantine"),
            rows(
                quarantine.select_related("site").order_by("received_at", "pk"),
                lambda result: f"{quarantine_url}#incoming-{result.pk}",
            ),
            quarantine_count,
            quarantine_url,
            _("No result in quarantine."),
            template("quarantined"),
        ),
        ShortList(
            "handovers",
            _("Unread handovers"),
            rows(
                unread.select_related("vacation__site", "author").order_by("-created_at", "-pk"),
                lambda handover: reverse("continuity_handover", args=[handover.pk]),
            ),
            unread_count,
            handovers_url,
            _("No unread handover."),
            template("handover"),
        ),
    ]
    return section
