"""The scope filters rewritten for indexes (issue 14 § 2) return the rows of the joined
predicates they replace, on generated worlds: random sites (public or not, two regions),
memberships of every scope, volunteers, vacations in every state, exams and tasks.

The old predicates are written out here as they were (`site__in=…` and joins inside the OR).
Hypothesis is pinned (pyproject) and derandomized: the same examples on every run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from continuity.models import FollowUpTask, PendingExam, _held_days
from sites.models import HostSite
from tests.factories import (
    HostSiteFactory,
    MembershipFactory,
    TerritoryFactory,
    UserFactory,
    VolunteerFactory,
    make_sheet,
)
from vacations.models import PARIS, Vacation, slot_bounds


def old_vacations(user):
    return Vacation.objects.filter(
        Q(site__in=HostSite.objects.in_scope_of(user))
        | Q(volunteer__user=user)
        | Q(status=Vacation.Status.OPEN, site__in=HostSite.objects.public())
    )


def old_exams(user):
    return PendingExam.objects.filter(
        Q(site__in=HostSite.objects.in_scope_of(user))
        | Q(prescriber__user=user, vacation__in=_held_days(user).values("pk"))
    )


def old_tasks(user):
    return FollowUpTask.objects.filter(
        Q(site__in=HostSite.objects.in_scope_of(user)) | Q(assignee=user)
    )


N_SITES, N_USERS = 4, 5
ROLES = [
    Role.NATIONAL_MANAGER,
    Role.ARS_MANAGER,
    Role.TERRITORY_MANAGER,
    Role.SECRETARY,
    Role.COURSE_NURSE,
]
STATUSES = [s for s, _ in Vacation.Status.choices]
TAKEN = {"requested", "booked", "done", "no_show"}

world = st.fixed_dictionaries(
    {
        # per site: (territory 0/1 — in two regions, public?)
        "sites": st.lists(
            st.tuples(st.integers(0, 1), st.booleans()), min_size=N_SITES, max_size=N_SITES
        ),
        # per user: a role (one membership per user) and its scope's site, or none
        "roles": st.lists(
            st.tuples(st.none() | st.sampled_from(ROLES), st.integers(0, N_SITES - 1)),
            min_size=N_USERS,
            max_size=N_USERS,
        ),
        "volunteers": st.lists(st.booleans(), min_size=N_USERS, max_size=N_USERS),
        # (site, status, volunteer user or None)
        "vacations": st.lists(
            st.tuples(
                st.integers(0, N_SITES - 1),
                st.sampled_from(STATUSES),
                st.integers(0, N_USERS - 1),
            ),
            min_size=1,
            max_size=10,
        ),
        # (vacation index, prescriber user)
        "exams": st.lists(st.tuples(st.integers(0, 9), st.integers(0, N_USERS - 1)), max_size=8),
        # (site, assignee user or None)
        "tasks": st.lists(
            st.tuples(st.integers(0, N_SITES - 1), st.none() | st.integers(0, N_USERS - 1)),
            max_size=8,
        ),
    }
)


def build(data):
    territories = [TerritoryFactory(department_id="18"), TerritoryFactory(department_id="12")]
    sites = []
    for territory, public in data["sites"]:
        site = HostSiteFactory(territory=territories[territory])
        if public:
            make_sheet(site, status="published", ready=True)
        sites.append(site)
    users = [UserFactory() for _ in range(N_USERS)]
    for user, (role, scope) in zip(users, data["roles"], strict=True):
        if role is None:
            continue
        site = sites[scope]
        kwargs = {
            Role.ARS_MANAGER: {"region_id": site.territory.department.region_id},
            Role.TERRITORY_MANAGER: {"territory": site.territory},
            Role.SECRETARY: {"site": site},
            Role.COURSE_NURSE: {"site": site},
        }.get(role, {})
        MembershipFactory(user=user, role=role, **kwargs)
    # A volunteer profile (with its volunteer membership) for the users without a role.
    volunteers = {
        n: VolunteerFactory(user=user, committed=False)
        for n, (user, has, (role, _)) in enumerate(
            zip(users, data["volunteers"], data["roles"], strict=True)
        )
        if has and role is None
    }
    vacations = []
    start = date(2030, 1, 7)
    for n, (site, status, who) in enumerate(data["vacations"]):
        volunteer = volunteers.get(who)
        if status in TAKEN and volunteer is None:
            status = Vacation.Status.OPEN
        if status == Vacation.Status.OPEN:
            volunteer = None
        day = start + timedelta(days=n)
        starts_at, ends_at = slot_bounds(day, "day")
        vacations.append(
            Vacation.objects.create(
                site=sites[site],
                date=day,
                period="day",
                starts_at=starts_at,
                ends_at=ends_at,
                consultation_minutes=20,
                status=status,
                volunteer=volunteer,
            )  # fmt: skip
        )
    exams = []
    for n, (vacation_index, prescriber) in enumerate(data["exams"]):
        vacation = vacations[vacation_index % len(vacations)]
        volunteer = volunteers.get(prescriber) or vacation.volunteer
        if volunteer is None:
            continue
        exams.append(
            PendingExam.objects.create(
                vacation=vacation,
                site=vacation.site,
                prescriber=volunteer,
                patient_ref=f"P{n}",
                patient_initials="AB",
                patient_birth_year=1950,
                kind="biology",
                description="NFS",
                order_number=f"O{n}",
                ordered_on=vacation.date,
                expected_by=vacation.date + timedelta(days=7),
                created_by=users[0],
            )  # fmt: skip
        )
    for n, (site, assignee) in enumerate(data["tasks"]):
        FollowUpTask.objects.create(
            site=sites[site], kind="other", title=f"Task {n}",
            assignee=users[assignee] if assignee is not None else None,
            due_at=datetime(2030, 2, 1, 9, tzinfo=PARIS),
            exam=exams[n] if n < len(exams) else None,
        )  # fmt: skip
    return users


def ids(queryset):
    return sorted(queryset.values_list("pk", flat=True))


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
def test_the_scope_rewrite_returns_the_same_rows_as_before(db, data):
    with transaction.atomic():
        users = build(data)
        for user in users:
            assert ids(Vacation.objects.visible_to(user)) == ids(old_vacations(user))
            assert ids(PendingExam.objects.visible_to(user)) == ids(old_exams(user))
            assert ids(FollowUpTask.objects.visible_to(user)) == ids(old_tasks(user))
        transaction.set_rollback(True)
