"""The API's list of days reads a page of each branch of the caller's scope (its sites' days,
its own days, the catalogue's open days) and keeps the union's page (issue 14: an OR cannot be
read in index order, so PostgreSQL sorted every open day of France for each page). The pages
must hold exactly the rows, in exactly the order, of the scope read whole — on PostgreSQL the
union path, on SQLite the plain slice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations.models import Vacation

pytestmark = pytest.mark.django_db

ORDER = ("date", "starts_at", "id")


@pytest.fixture
def world():
    """Two public sites with open days; a volunteer with days at both (requested, booked,
    cancelled, done); a secretary at one of them."""
    today = timezone.localdate()
    mine, other = make_public_site(), make_public_site()
    volunteer = VolunteerFactory()
    for n in range(9):
        day = today + timedelta(days=n)
        open_day(mine, day, period=("am", "pm", "day")[n % 3])
        open_day(other, day + timedelta(days=1))
    for n, status in enumerate(["requested", "booked", "cancelled", "done"]):
        open_day(mine, today + timedelta(days=20 + n), status=status, volunteer=volunteer)
        open_day(other, today + timedelta(days=30 + n), status=status, volunteer=volunteer)
    return {
        "volunteer": volunteer.user,
        "secretary": member(Role.SECRETARY, site=mine),
    }


@pytest.mark.parametrize("who", ["volunteer", "secretary"])
@pytest.mark.parametrize("page_size", [1, 4, 7, 50])
def test_the_pages_hold_the_scope_s_rows_in_order(api, world, who, page_size):
    user = world[who]
    expected = list(Vacation.objects.visible_to(user).order_by(*ORDER).values_list("id", flat=True))
    api.force_authenticate(user)
    seen, page = [], 1
    while True:
        response = api.get("/api/v1/vacations/", {"page_size": page_size, "page": page})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["count"] == len(expected)
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        page += 1
    assert seen == expected
    assert len(expected) > page_size or page_size == 50


def test_the_pages_keep_the_filters(api, world):
    """A filter narrows every branch (the union is read from the filtered days)."""
    user = world["volunteer"]
    api.force_authenticate(user)
    response = api.get("/api/v1/vacations/", {"status": "open", "page_size": 5})
    expected = list(
        Vacation.objects.visible_to(user)
        .filter(status="open")
        .order_by(*ORDER)
        .values_list("id", flat=True)[:5]
    )
    assert [row["id"] for row in response.json()["results"]] == expected
    assert response.json()["count"] == Vacation.objects.filter(status="open").count()
