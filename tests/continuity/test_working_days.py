"""Deadlines in working days skip French public holidays, and the local ones where the site is.

Seed: /work/shared/seeds/000_f357cf44203102b3.txt, lines 105-110 (a course nurse secures the
follow-up of consultation information, so that continuity holds between days: her deadlines are
counted in the days she works) — issue 13 § 3 "Deadlines in working days skip French public
holidays (France, with Alsace-Moselle's extra days where the site is there)".
"""

from __future__ import annotations

from datetime import datetime

import pytest

from accounts.roles import Role
from continuity.deadlines import PARIS, add_working_days, is_working_day
from continuity.models import FollowUpTask
from tests.conftest import member
from tests.continuity.conftest import record_exam
from tests.factories import HostSiteFactory, TerritoryFactory, VolunteerFactory, open_day


def paris(year, month, day, hour=10):
    return datetime(year, month, day, hour, 0, tzinfo=PARIS)


def test_three_working_days_from_the_thursday_before_ascension():
    """Seed 000, lines 105-110 (follow-up between days, by the course nurse).

    2026: Ascension is Thursday 14 May; the Thursday before is 7 May, and Friday 8 May (Victory
    in Europe day) is a public holiday. From Thursday 7 May 10:00, three working days are Monday
    11, Tuesday 12 and Wednesday 13 May: due **Wednesday 13 May 2026, 10:00** (Tuesday 12 if the
    holiday were counted).
    """
    due = add_working_days(paris(2026, 5, 7), 3)
    assert due == paris(2026, 5, 13)
    assert due.strftime("%A") == "Wednesday"


def test_three_working_days_across_ascension_itself():
    """Seed 000, lines 105-110.

    2027: Ascension is Thursday 6 May (1 May and 8 May fall on Saturdays). From its eve,
    Wednesday 5 May 10:00: Ascension skipped, then Friday 7, Monday 10, Tuesday 11 May → due
    **Tuesday 11 May 2027, 10:00**. From the Thursday before Ascension, Thursday 29 April 2027,
    the weekend (with 1 May on it) is the only gap: Friday 30 April, Monday 3, Tuesday 4 May →
    **Tuesday 4 May 2027, 10:00**.
    """
    assert add_working_days(paris(2027, 5, 5), 3) == paris(2027, 5, 11)
    assert add_working_days(paris(2027, 4, 29), 3) == paris(2027, 5, 4)


def test_a_clock_started_on_a_public_holiday_starts_on_the_next_working_day():
    """Seed 000, lines 105-110. Labour Day, Friday 1 May 2026: the clock starts on Monday 4 May
    00:00, one working day later is Tuesday 5 May 00:00."""
    assert add_working_days(paris(2026, 5, 1, 15), 1) == paris(2026, 5, 5, 0)


def test_alsace_moselle_does_not_work_on_good_friday():
    """Seed 000, lines 105-110; issue 13 § 3 (Alsace-Moselle's extra days).

    Good Friday 2027 is 26 March, Easter Monday 29 March (national). From Thursday 25 March
    10:00, one working day later is Friday 26 March 10:00 in the Cher (18), but Tuesday 30 March
    10:00 in Moselle (57), Bas-Rhin (67) and Haut-Rhin (68).
    """
    start = paris(2027, 3, 25)
    assert add_working_days(start, 1) == paris(2027, 3, 26)
    assert add_working_days(start, 1, department="18") == paris(2027, 3, 26)
    for department in ("57", "67", "68"):
        assert add_working_days(start, 1, department=department) == paris(2027, 3, 30)


def test_alsace_moselle_does_not_work_on_26_december():
    """Seed 000, lines 105-110. Saint Stephen's day, Friday 26 December 2025, is a holiday in
    Alsace-Moselle only: from Wednesday 24 December 10:00, two working days are Friday 26 and
    Monday 29 elsewhere (→ Monday 29, 10:00), Monday 29 and Tuesday 30 in Strasbourg."""
    start = paris(2025, 12, 24)
    assert add_working_days(start, 2, department="36") == paris(2025, 12, 29)
    assert add_working_days(start, 2, department="67") == paris(2025, 12, 30)
    assert not is_working_day(paris(2025, 12, 26), "57")
    assert is_working_day(paris(2025, 12, 26), "18")


@pytest.mark.django_db
def test_a_result_due_in_working_days_follows_the_holidays_of_the_sites_department():
    """Seed 000, lines 105-110: the task of a normal result, received at a Moselle site on the
    Thursday before Good Friday 2026 (2 April, 10:00), is due three working days later there —
    Good Friday 3 and Easter Monday 6 April skipped: Tuesday 7, Wednesday 8, Thursday 9 April."""
    from continuity import services

    site = HostSiteFactory(territory=TerritoryFactory(department_id="57"))
    nurse = member(Role.COURSE_NURSE, site=site)
    day = open_day(site, paris(2026, 4, 1).date(), status="booked", volunteer=VolunteerFactory())
    exam = record_exam(day)
    services.exam_receive(exam=exam, by=nurse, abnormal=False, now=paris(2026, 4, 2))
    task = FollowUpTask.objects.get(exam=exam)
    assert task.due_at == paris(2026, 4, 9)
