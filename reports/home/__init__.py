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

from datetime import date as Date
from datetime import datetime

from accounts.permissions import allowed
from accounts.roles import FOLLOW_UP_ROLES, Role
from reports.home.parts import SHORT_LIST, Section
from reports.home.pilot import Headline, headline, pilot_section
from reports.home.site_staff import nurse_section, secretary_section
from reports.home.volunteer import volunteer_section

__all__ = ["SHORT_LIST", "Headline", "Section", "headline", "home_sections"]


def home_sections(user, *, today: Date, now: datetime) -> list[Section]:
    """One section per role `user` holds, in the order of the day's work."""
    roles = user.role_codes()
    sections = []
    if Role.VOLUNTEER in roles:
        sections.append(volunteer_section(user, today=today, now=now))
    if Role.SECRETARY in roles:
        sections.append(secretary_section(user, today=today, now=now))
    if roles & set(FOLLOW_UP_ROLES):
        sections.append(nurse_section(user, today=today, now=now))
    if allowed(user, "sites.pilot"):
        sections.append(pilot_section(user, today=today, now=now))
    return sections
