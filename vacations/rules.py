"""Who may act on a day. The predicates take the day (`Vacation`), except `open_day` (a site).

"The day's volunteer or its site's staff" is written here once (`is_day_volunteer |
works_at_day_site`), for closing the day, its preparation, its exams and its handover.
"""

from __future__ import annotations

import rules

from sites.rules import is_site_secretary, site_of, staff_of
from volunteers.rules import has_volunteer_profile


@rules.predicate
def works_at_day_site(user, vacation) -> bool:
    """Secretary or course nurse of the day's site (or operator)."""
    return vacation is not None and staff_of(user, site_of(vacation))


@rules.predicate
def is_day_volunteer(user, vacation) -> bool:
    """The volunteer who requested or holds the day."""
    return (
        vacation is not None
        and vacation.volunteer_id is not None
        and user.is_authenticated
        and vacation.volunteer.user_id == user.pk
    )


day_volunteer_or_site_staff = is_day_volunteer | works_at_day_site

# Opening days is the secretary's (DESIGN.md § Who uses it: the secretary opens days and
# books; the course nurse owns follow-up). The API let a nurse open days while the page
# refused her: both now ask this one rule.
rules.add_perm("vacations.open_day", is_site_secretary)
rules.add_perm("vacations.book_day", works_at_day_site)  # book, confirm or decline a request
rules.add_perm("vacations.cancel_day", works_at_day_site)  # cancel, or record a no-show
rules.add_perm("vacations.close_day", day_volunteer_or_site_staff)  # record it done
rules.add_perm("vacations.prepare_day", day_volunteer_or_site_staff)
rules.add_perm("vacations.request_day", has_volunteer_profile)  # the service checks the rest
rules.add_perm("vacations.withdraw_day", is_day_volunteer)
rules.add_perm("vacations.claim_expenses", is_day_volunteer)  # the service checks the rest
# Confirming or declining a night asked with a day is the site's, like the day's request.
rules.add_perm("vacations.decide_night", works_at_day_site)
