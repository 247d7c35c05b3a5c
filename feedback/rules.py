"""Who may give feedback on a day, report an incident on it, and follow an incident.

Reading is a matter of scope (`visible_to`, 404 outside it); these rules decide who may act.
The services check the rest (a done day, once per side; the incident's transitions).
"""

from __future__ import annotations

import rules

from sites.rules import is_a_manager, manager_of, site_of, staff_of
from vacations.rules import day_volunteer_or_site_staff


@rules.predicate
def works_at_its_site(user, incident) -> bool:
    return incident is not None and staff_of(user, site_of(incident))


@rules.predicate
def manages_its_site(user, incident) -> bool:
    return incident is not None and manager_of(user, incident.site_id)


# On a day (`Vacation`): its volunteer answers for the volunteer's side, its staff for the site.
rules.add_perm("feedback.give_feedback", day_volunteer_or_site_staff)
rules.add_perm("feedback.report_incident", day_volunteer_or_site_staff)
# On an incident: move its follow-up (in progress, closed).
rules.add_perm("feedback.follow_incident", works_at_its_site | manages_its_site)
# The managers' page of answers per site and territory (its rows: their scope).
rules.add_perm("feedback.read_answers", is_a_manager)
