"""A volunteer's monthly statement as a page of the app (issue 12): the month picker, the days
done with their amounts, the total, where each territory's statement stands, and the API's PDF
to download; linked from the planning and the volunteer's menu."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from reports.models import Statement
from tests.browser.journey import fr
from tests.factories import TerritoryFactory, VolunteerFactory, make_public_site, open_day
from vacations.models import PARIS

NOW = datetime(2027, 4, 10, 9, 0, tzinfo=PARIS)
PAGE = reverse("reports:my_statement")


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def march(db):
    """March 2027: a full day in a territory whose statement is paid, a half-day in another
    (a draft); plus what must not count (April, a booked day, someone else's)."""
    volunteer = VolunteerFactory()
    paid = make_public_site(name="MSP de Châteaumeillant", city="Châteaumeillant")
    draft = make_public_site(name="Centre de santé de Lignières", city="Lignières")
    done = {"status": "done", "volunteer": volunteer}
    full = open_day(paid, date(2027, 3, 2), indemnity=Decimal("200.00"), consultations_count=19,
                    **done)  # fmt: skip
    half = open_day(draft, date(2027, 3, 9), "am", indemnity=Decimal("100.00"), **done)
    open_day(paid, date(2027, 4, 1), indemnity=Decimal("200.00"), **done)
    open_day(paid, date(2027, 3, 30), status="booked", volunteer=volunteer)
    open_day(paid, date(2027, 3, 16), status="done", volunteer=VolunteerFactory(),
             indemnity=Decimal("200.00"))  # fmt: skip
    Statement.objects.create(
        territory=paid.territory, month=date(2027, 3, 1), status="paid",
        validated_at=datetime(2027, 4, 3, 10, tzinfo=PARIS), validated_days=Decimal("1"),
        validated_amount=Decimal("200.00"), paid_at=datetime(2027, 4, 8, 10, tzinfo=PARIS),
        payment_reference="VIR-0427",
    )  # fmt: skip
    return volunteer, full, half


def text_of(response) -> str:
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_monthly_statement_page_shows_days_amounts_status_and_the_pdf(client, march):
    volunteer, full, half = march
    client.force_login(volunteer.user)

    response = client.get(PAGE)  # last month by default: March 2027

    assert response.status_code == 200
    page = response.content.decode()
    assert [line["day"].pk for line in response.context["lines"]] == [full.pk, half.pk]
    text = text_of(response)
    assert "MSP de Châteaumeillant" in text
    assert "Centre de santé de Lignières" in text
    assert "200,00 €" in text
    assert "100,00 €" in text
    assert "300,00 €" in text  # the total, in French
    assert 'data-testid="total"' in page
    statuses = {row["territory"]: row["statement"].status for row in response.context["standing"]}
    assert statuses == {full.site.territory_id: "paid", half.site.territory_id: "draft"}
    assert 'data-status="paid"' in page
    assert 'data-status="draft"' in page
    assert "08/04/2027" in text  # paid on
    assert "VIR-0427" in text
    assert f"{reverse('reports:my_statement_pdf')}?month=2027-03" in page
    assert f"{PAGE}?month=2027-02" in page  # the previous month
    assert f"{PAGE}?month=2027-04" in page  # the next one, up to this month
    assert 'type="month"' in page


def test_the_statement_month_picker_moves_and_refuses_a_bad_month(client, march):
    volunteer, _full, _half = march
    client.force_login(volunteer.user)

    april = client.get(PAGE, {"month": "2027-04"})
    bad = client.get(PAGE, {"month": "2027-13"})

    assert april.context["statement"].amount == Decimal("200.00")
    assert f"{PAGE}?month=2027-05" not in april.content.decode()  # no future month
    assert bad.status_code == 200
    assert bad.context["form"].errors["month"]
    assert 'aria-invalid="true"' in bad.content.decode()
    assert client.get(reverse("reports:my_statement_pdf"), {"month": "2027-13"}).status_code == 400


def test_the_statement_pdf_is_the_apis_as_a_download(client, march):
    volunteer, _full, _half = march
    client.force_login(volunteer.user)

    response = client.get(reverse("reports:my_statement_pdf"), {"month": "2027-03"})
    api = client.get(reverse("api-my-statement-pdf"), {"month": "2027-03"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == (
        'attachment; filename="releve-indemnites-2027-03.pdf"'
    )
    assert api["Content-Disposition"] == 'inline; filename="releve-indemnites-2027-03.pdf"'


def test_the_statement_is_only_ones_own(client, march, user):
    client.force_login(user)  # no volunteer profile

    assert client.get(PAGE).status_code == 404
    assert client.get(reverse("reports:my_statement_pdf")).status_code == 404


def test_the_statement_page_is_linked_from_the_planning_and_the_menu(client, march):
    volunteer, _full, _half = march
    client.force_login(volunteer.user)

    planning = client.get(reverse("my_planning")).content.decode()
    profile = client.get(reverse("volunteer_profile")).content.decode()
    statement = client.get(PAGE).content.decode()

    assert f'href="{PAGE}"' in planning
    assert f'href="{PAGE}"' in profile
    assert f'href="{reverse("my_planning")}"' in statement
    assert fr("Monthly statement") in statement


@pytest.mark.parametrize("size", [2, 30])
def test_the_statement_page_costs_the_same_queries_whatever_its_size(
    db, client, django_assert_num_queries, size
):
    volunteer = VolunteerFactory()
    for n in range(size):
        site = make_public_site(territory=TerritoryFactory())
        open_day(site, date(2027, 3, 1 + n % 28), "am" if n < 28 else "pm", status="done",
                 volunteer=volunteer, indemnity=Decimal("100.00"))  # fmt: skip
    client.force_login(volunteer.user)

    # + the month's expenses (their totals, then their rows with the days)
    with django_assert_num_queries(11):
        response = client.get(PAGE, {"month": "2027-03"})

    assert len(response.context["lines"]) == size
