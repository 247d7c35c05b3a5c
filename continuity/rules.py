"""Who may act on an exam, a result, a task, a question or a handover.

Reading is a matter of scope: `continuity.access` fetches each object through its model's
`visible_to(user)` (404 outside it); these rules decide what a reader may *do* (403).
"""

from __future__ import annotations

import rules

from accounts.roles import MANAGER_ROLES, SITE_STAFF_ROLES
from sites.rules import manager_of, site_of, staff_of
from vacations.rules import day_volunteer_or_site_staff


@rules.predicate
def works_at_its_site(user, obj) -> bool:
    """Secretary or course nurse of the object's site (an exam, a result, a task)."""
    return obj is not None and staff_of(user, site_of(obj))


@rules.predicate
def manages_its_site(user, obj) -> bool:
    return obj is not None and manager_of(user, obj.site_id)


@rules.predicate
def is_assignee(user, task) -> bool:
    return task is not None and user.is_authenticated and task.assignee_id == user.pk


@rules.predicate
def is_the_prescriber_asked(user, contact) -> bool:
    return contact is not None and user.is_authenticated and contact.volunteer.user_id == user.pk


@rules.predicate
def prescribed_it(user, exam) -> bool:
    """The volunteer who prescribed the exam (its day held: the exam is in its scope)."""
    return exam is not None and user.is_authenticated and exam.prescriber.user_id == user.pk


@rules.predicate
def speaks_for_a_site(user) -> bool:
    """Results come from a host site's account (or a manager's, or an operator's)."""
    return user.is_authenticated and (
        user.is_superuser or user.has_role(*SITE_STAFF_ROLES, *MANAGER_ROLES)
    )


# On the day (a `Vacation`): its volunteer or its site's staff.
rules.add_perm("continuity.record_exams", day_volunteer_or_site_staff)
rules.add_perm("continuity.write_handover", day_volunteer_or_site_staff)
# An exam (receive a result by hand, close its follow-up, cancel it).
rules.add_perm("continuity.act_on_exam", works_at_its_site)
# The liaison letter to the treating doctor: the site's staff, who send it, and the prescriber.
rules.add_perm("continuity.read_letter", works_at_its_site | prescribed_it)
# A quarantined result (match it, set it aside); one routed to no site: nobody here.
rules.add_perm("continuity.resolve_result", works_at_its_site)
# A task: whoever holds it, its site's team, and the managers it escalates to.
rules.add_perm("continuity.act_on_task", is_assignee | works_at_its_site | manages_its_site)
rules.add_perm("continuity.answer_contact", is_the_prescriber_asked)
rules.add_perm("continuity.send_results", speaks_for_a_site)
