"""A volunteer's practical needs (issue 13 § 5): expenses beside the indemnities, validated and
exported with the statement; accommodation offered by the host commune or EPCI, a night asked
with the day request and confirmed by the site.

Seeds: `000_f357cf44203102b3.txt` (FemasAURA&Co) line 40 (the EPCI's part on accommodation)
and line 67 (the sheet lists accommodation and transport facilities, with the host commune or
EPCI); `002_33d841807c9580c5.txt` line 2370 (mileage costs paid by the ARS) and line 2384
(travel costs taken in charge); `001_c38d14cbaa092853.txt` line 11 (200 EUR a day)."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from accounts.models import Notification
from accounts.roles import Role
from reports import services as statements
from reports.indemnities import VOLUNTEER_COLUMNS
from reports.models import Statement
from sites.models import AccommodationOffer
from tests.browser.journey import fr
from tests.conftest import member
from tests.factories import VolunteerFactory, make_public_site, open_day
from vacations.models import PARIS, Expense, NightRequest, Vacation

NOW = datetime(2027, 4, 10, 9, 0, tzinfo=PARIS)
MARCH = date(2027, 3, 1)
EXPENSE_KEYS = ("amount", "travel", "accommodation", "total")


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(db):
    volunteer = VolunteerFactory()
    site = make_public_site(name="MSP de Châteaumeillant", city="Châteaumeillant")
    done = open_day(site, date(2027, 3, 2), status="done", volunteer=volunteer,
                    indemnity=Decimal("200.00"), consultations_count=18)  # fmt: skip
    offer = AccommodationOffer.objects.create(
        site=site, kind="communal_gite", offered_by="commune", address="2 rue de l'Église",
        contact_name="Mairie de Châteaumeillant", contact_phone="02 48 61 31 87",
        nights_available="Du lundi au jeudi",
    )  # fmt: skip
    return {
        "volunteer": volunteer,
        "site": site,
        "done": done,
        "offer": offer,
        "secretary": member(Role.SECRETARY, site=site),
        "manager": member(Role.TERRITORY_MANAGER, territory=site.territory),
    }


def expenses_url(day) -> str:
    return f"/api/v1/vacations/{day.pk}/expenses/"


def add(api, day, **body):
    return api.post(expenses_url(day), body, format="json")


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# --- Expenses ---------------------------------------------------------------------------------


def test_the_volunteer_enters_travel_and_accommodation_expenses_per_day(api, world):
    """Seed 002, lines 2370 and 2384: travel (mileage) costs are refunded; seed 000, line 67:
    accommodation and transport."""
    day = world["done"]
    api.force_authenticate(world["volunteer"].user)

    car = add(api, day, kind="car", km=120, receipt_note="Aller-retour Bourges")
    train = add(api, day, kind="ticket", ticket_kind="train", amount="45.50")
    night = add(api, day, kind="accommodation", amount="62.00", receipt_note="Facture 118")

    assert (car.status_code, train.status_code, night.status_code) == (201, 201, 201)
    assert car.json()["amount"] == "76.32"  # 120 km at 0.636 EUR/km, the settings' rate
    assert car.json()["km"] == 120
    assert train.json() == {**train.json(), "ticket_kind": "train", "amount": "45.50"}
    listed = api.get(expenses_url(day)).json()
    assert [(e["kind"], e["amount"]) for e in listed] == [
        ("accommodation", "62.00"), ("car", "76.32"), ("ticket", "45.50"),
    ]  # fmt: skip
    changed = api.patch(f"{expenses_url(day)}{train.json()['id']}/", {"amount": "39.90"},
                        format="json")  # fmt: skip
    assert changed.status_code == 200
    assert changed.json()["amount"] == "39.90"


def test_bad_expense_input_names_the_field_and_writes_nothing(api, world):
    day = world["done"]
    api.force_authenticate(world["volunteer"].user)
    add(api, day, kind="accommodation", amount="50.00")

    negative = add(api, day, kind="ticket", ticket_kind="bus", amount="-3.00")
    no_kind = add(api, day, kind="ticket", amount="3.00")
    no_km = add(api, day, kind="car")
    second_night = add(api, day, kind="accommodation", amount="40.00")

    assert negative.status_code == 400
    assert "amount" in negative.json()
    assert no_kind.status_code == 400
    assert "ticket_kind" in no_kind.json()
    assert no_km.status_code == 400
    assert "km" in no_km.json()
    assert second_night.status_code == 400
    assert "kind" in second_night.json()
    assert Expense.objects.count() == 1


def test_only_the_days_volunteer_enters_expenses_on_a_day_that_took_place(api, world):
    day = world["done"]
    future = open_day(world["site"], date(2027, 4, 20), status="booked",
                      volunteer=world["volunteer"])  # fmt: skip
    past_booked = open_day(world["site"], date(2027, 4, 6), status="booked",
                           volunteer=world["volunteer"])  # fmt: skip

    api.force_authenticate(world["secretary"])
    assert add(api, day, kind="car", km=10).status_code == 403
    assert api.get(expenses_url(day)).status_code == 200  # the site's staff read them
    api.force_authenticate(VolunteerFactory().user)
    assert add(api, day, kind="car", km=10).status_code == 404
    api.force_authenticate(world["volunteer"].user)
    refused = add(api, future, kind="car", km=10)
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert add(api, past_booked, kind="car", km=10).status_code == 201  # booked, date come
    assert Expense.objects.count() == 1


def test_car_travel_is_refunded_per_km_at_the_settings_rate(api, world, settings):
    settings.RELEVE_KM_RATE = "0.50"
    api.force_authenticate(world["volunteer"].user)

    assert add(api, world["done"], kind="car", km=87).json()["amount"] == "43.50"


def test_the_database_keeps_amounts_non_negative_and_one_accommodation_per_day(world):
    day = world["done"]
    Expense.objects.create(vacation=day, kind="accommodation", amount=Decimal("10"))
    for values in (
        {"kind": "accommodation", "amount": Decimal("5")},
        {"kind": "ticket", "ticket_kind": "bus", "amount": Decimal("-1")},
        {"kind": "car", "amount": Decimal("5")},  # a car trip without its km
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Expense.objects.create(vacation=day, **values)


def test_expenses_appear_on_the_statement_and_its_pdf(api, client, world, tmp_path):
    """Seed 002 (`002_33d841807c9580c5.txt`), line 2384: travel costs are taken in charge;
    seed 001 (`001_c38d14cbaa092853.txt`), line 11: 200 EUR a day, beside them."""
    day = world["done"]
    api.force_authenticate(world["volunteer"].user)
    add(api, day, kind="car", km=100)  # 63.60
    add(api, day, kind="accommodation", amount="58.00", receipt_note="Hôtel du Lion d'Or")

    body = api.get("/api/v1/volunteers/me/statement/", {"month": "2027-03"}).json()
    pdf = api.get("/api/v1/volunteers/me/statement/pdf/", {"month": "2027-03"})
    client.force_login(world["volunteer"].user)
    page = client.get(reverse("reports:my_statement"), {"month": "2027-03"})

    assert (body["amount"], body["travel"], body["accommodation"]) == ("200.00", "63.60", "58.00")
    assert (body["expenses"], body["total"]) == ("121.60", "321.60")
    assert {e["amount"] for e in body["lines"][0]["expenses"]} == {"63.60", "58.00"}
    text = pdf_text(pdf.content, tmp_path)
    assert "63,60 €" in text
    assert "58,00 €" in text
    assert "321,60 €" in text
    assert "Hôtel du Lion d'Or" in text
    html = page.content.decode()
    assert 'data-testid="statement-expenses"' in html
    assert "321,60" in html
    assert "Hôtel du Lion d" in html


def test_validated_statement_freezes_expenses(api, client, world):
    """Seed 000 (`000_f357cf44203102b3.txt`), line 40: the ARS pilots the payment; what its
    manager validated (expenses of seed 002, line 2370, included) no longer moves."""
    day = world["done"]
    api.force_authenticate(world["volunteer"].user)
    ticket = add(api, day, kind="ticket", ticket_kind="bus", amount="12.00").json()
    statement = statements.statement_validate(
        territory=world["site"].territory, month=MARCH, by=world["manager"]
    )

    added = add(api, day, kind="car", km=30)
    changed = api.patch(f"{expenses_url(day)}{ticket['id']}/", {"amount": "1.00"}, format="json")
    removed = api.delete(f"{expenses_url(day)}{ticket['id']}/")
    client.force_login(world["volunteer"].user)
    page = client.post(reverse("vacation_expense_add", args=[day.pk]),
                       {"kind": "car", "km": "30"}, follow=True)  # fmt: skip

    for response in (added, changed, removed):
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
    assert [str(m) for m in page.context["messages"]] == [
        fr(
            "The statement of this month is validated: its expenses can no longer be "
            "changed. Ask the territory manager to send it back to draft."
        )
    ]
    assert 'data-testid="expenses-frozen"' in page.content.decode()
    assert list(Expense.objects.values_list("amount", flat=True)) == [Decimal("12.00")]

    statements.statement_reopen(statement=statement, by=world["manager"])
    assert add(api, day, kind="car", km=30).status_code == 201


def test_the_indemnities_export_carries_expenses(api, world):
    """Seed 002 (`002_33d841807c9580c5.txt`), line 2370: mileage costs paid by the ARS, so its
    payer's export carries them beside the indemnities."""
    day = world["done"]
    api.force_authenticate(world["volunteer"].user)
    add(api, day, kind="car", km=50)  # 31.80
    add(api, day, kind="ticket", ticket_kind="train", amount="20.00")
    add(api, day, kind="accommodation", amount="45.00")
    api.force_authenticate(world["manager"])
    url = reverse("api-report-indemnities")

    rows = api.get(url, {"month": "2027-03"}).json()["results"]
    sheet = load_workbook(io.BytesIO(api.get(url, {"month": "2027-03", "format": "xlsx"}).content))
    csv_response = api.get(url, {"month": "2027-03", "format": "csv"})
    lines = list(
        csv.reader(io.StringIO(b"".join(csv_response.streaming_content).decode("utf-8-sig")))
    )

    row = rows[0]
    # Three expenses on one day: the indemnity is still counted once.
    assert (row["amount"], row["travel"], row["accommodation"], row["total"]) == (
        "200.00", "51.80", "45.00", "296.80",
    )  # fmt: skip
    keys = [c.key for c in VOLUNTEER_COLUMNS]
    for line in (lines[1], list(sheet.active.iter_rows(values_only=True))[1]):
        got = dict(zip(keys, line, strict=True))
        assert [Decimal(str(got[k]).replace(",", ".")) for k in EXPENSE_KEYS] == [
            Decimal("200"), Decimal("51.8"), Decimal("45"), Decimal("296.8"),
        ]  # fmt: skip
    with translation.override("fr"):
        assert str(VOLUNTEER_COLUMNS[keys.index("travel")].label) in lines[0]


# --- Accommodation offered by the commune or EPCI -----------------------------------------------


def test_the_sheet_lists_accommodation_offers(api, client, world, tmp_path):
    """Seed 000, line 67: the sheet says the accommodation and transport facilities, with the
    host commune or EPCI; line 40: the EPCI's part on accommodation."""
    site = world["site"]
    api.force_authenticate(world["secretary"])
    url = f"/api/v1/sites/{site.pk}/info-sheet/"
    current = api.get(url).json()["accommodation_offers"]
    epci = {
        "kind": "flat", "offered_by": "epci", "address": "Résidence du Lignon, Saint-Amand",
        "contact_name": "Communauté de communes Berry Grand Sud", "contact_phone": "0248960000",
        "nights_available": "Toutes les nuits sauf le week-end",
    }  # fmt: skip

    saved = api.patch(url, {"accommodation_offers": [current[0], epci]}, format="json")
    bad = api.patch(url, {"accommodation_offers": [{**epci, "contact_phone": "12"}]},
                    format="json")  # fmt: skip
    api.force_authenticate(None)
    public = api.get(url).json()
    page = client.get(reverse("public_site", args=[site.pk]))
    pdf = client.get(reverse("sheet_pdf", args=[site.pk]))

    assert saved.status_code == 200
    assert [o["offered_by"] for o in saved.json()["accommodation_offers"]] == ["commune", "epci"]
    assert saved.json()["accommodation_offers"][0]["id"] == world["offer"].pk  # kept, not new
    assert bad.status_code == 400
    assert "accommodation_offers" in bad.json()
    assert AccommodationOffer.objects.filter(site=site).count() == 2
    assert public["accommodation"] == "Studio au-dessus de la MSP"  # the text field stays
    assert [o["address"] for o in public["accommodation_offers"]][1].startswith("Résidence")
    html = page.content.decode()
    assert 'data-testid="accommodation-offers"' in html
    assert "Berry Grand Sud" in html
    text = pdf_text(pdf.content, tmp_path)
    assert "Berry Grand Sud" in text
    assert "Mairie de Châteaumeillant" in text


def test_the_site_staff_edit_the_offers_with_the_sheet(client, world):
    site = world["site"]
    client.force_login(world["secretary"])
    offer = world["offer"]
    data = {
        "accommodation-TOTAL_FORMS": 2, "accommodation-INITIAL_FORMS": 1,
        "accommodation-MIN_NUM_FORMS": 0, "accommodation-MAX_NUM_FORMS": 1000,
        "accommodation-0-id": offer.pk, "accommodation-0-kind": "communal_gite",
        "accommodation-0-offered_by": "commune", "accommodation-0-address": offer.address,
        "accommodation-0-contact_name": "Accueil mairie",
        "accommodation-0-contact_phone": "0248613187",
        "accommodation-0-nights_available": "",
        "accommodation-1-kind": "msp_room", "accommodation-1-offered_by": "epci",
        "accommodation-1-address": "MSP, 1er étage", "accommodation-1-contact_name": "Secrétariat",
        "accommodation-1-contact_phone": "0248610000", "accommodation-1-nights_available": "Lundi",
    }  # fmt: skip

    response = client.post(reverse("site_section", args=[site.pk, "accommodation"]), data)

    assert response.status_code in (200, 302)
    offers = list(site.accommodation_offers.all())
    assert [(o.pk == offer.pk, o.contact_name) for o in offers] == [
        (True, "Accueil mairie"), (False, "Secrétariat"),
    ]  # fmt: skip


def test_a_volunteer_asks_for_a_night_with_the_day_request_and_the_site_confirms(
    api, client, world
):
    """Seed 000 (`000_f357cf44203102b3.txt`), line 67: accommodation with the host commune or
    EPCI, asked for with the day."""
    site, volunteer = world["site"], world["volunteer"]
    day = open_day(site, date(2027, 4, 21))
    api.force_authenticate(volunteer.user)
    asked = api.post(
        f"/api/v1/vacations/{day.pk}/request/",
        {"accommodation": {"offer": world["offer"].pk, "nights": ["2027-04-20"],
                           "note": "Arrivée vers 21 h"}},
        format="json",
    )  # fmt: skip
    assert asked.status_code == 200
    assert asked.json()["status"] == "requested"
    night = NightRequest.objects.get(vacation=day)
    assert (night.night, night.status, night.note) == (date(2027, 4, 20), "requested",
                                                      "Arrivée vers 21 h")  # fmt: skip

    client.force_login(world["secretary"])
    staff_page = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()
    assert f'data-night="{night.pk}"' in staff_page
    assert reverse("vacation_night_decide", args=[day.pk, night.pk]) in staff_page
    api.force_authenticate(volunteer.user)
    assert api.post(f"/api/v1/vacations/{day.pk}/nights/{night.pk}/confirm/").status_code == 403
    api.force_authenticate(world["secretary"])
    confirmed = api.post(f"/api/v1/vacations/{day.pk}/nights/{night.pk}/confirm/")
    again = api.post(f"/api/v1/vacations/{day.pk}/nights/{night.pk}/decline/")

    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert again.status_code == 409
    assert Notification.objects.filter(recipient=volunteer.user, kind="night_confirmed").exists()
    client.force_login(volunteer.user)
    own_page = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()
    assert f'data-night="{night.pk}" data-status="confirmed"' in own_page
    api.force_authenticate(volunteer.user)
    nights = api.get(f"/api/v1/vacations/{day.pk}/nights/").json()
    assert [(n["night"], n["status"]) for n in nights] == [("2027-04-20", "confirmed")]


def test_the_volunteer_asks_a_night_from_the_day_page_and_the_site_declines_it(client, world):
    site, volunteer = world["site"], world["volunteer"]
    day = open_day(site, date(2027, 4, 22))
    client.force_login(volunteer.user)
    form = client.get(reverse("vacation_detail", args=[day.pk])).content.decode()
    assert 'name="accommodation_offer"' in form
    assert 'value="2027-04-21"' in form

    client.post(reverse("vacation_request_page", args=[day.pk]), {
        "accommodation_offer": world["offer"].pk, "accommodation_nights": ["2027-04-22"],
    })  # fmt: skip
    night = NightRequest.objects.get(vacation=day)
    client.force_login(world["secretary"])
    client.post(reverse("vacation_night_decide", args=[day.pk, night.pk]), {"decision": "decline"})

    night.refresh_from_db()
    assert night.status == "declined"
    assert Notification.objects.filter(recipient=volunteer.user, kind="night_declined").exists()


def test_a_night_is_the_one_before_or_of_the_day_at_the_sites_own_offer(api, world):
    other = AccommodationOffer.objects.create(
        site=make_public_site(), kind="other", offered_by="epci", address="Ailleurs",
        contact_name="X", contact_phone="0248000000",
    )  # fmt: skip
    day = open_day(world["site"], date(2027, 4, 21))
    api.force_authenticate(world["volunteer"].user)
    url = f"/api/v1/vacations/{day.pk}/request/"

    elsewhere = api.post(url, {"accommodation": {"offer": other.pk, "nights": ["2027-04-21"]}},
                         format="json")  # fmt: skip
    too_early = api.post(
        url, {"accommodation": {"offer": world["offer"].pk, "nights": ["2027-04-18"]}},
        format="json",
    )  # fmt: skip

    assert elsewhere.status_code == 400
    assert "accommodation" in elsewhere.json()
    assert too_early.status_code == 400
    assert "accommodation" in too_early.json()
    day.refresh_from_db()
    assert day.status == Vacation.Status.OPEN  # nothing written
    assert not NightRequest.objects.exists()


def test_no_accommodation_expense_for_a_night_the_site_provides(api, world):
    """Seed 002 (`002_33d841807c9580c5.txt`), line 584: help with accommodation does not add up
    with accommodation provided in kind; seed 000, line 67."""
    day = world["done"]
    NightRequest.objects.create(vacation=day, offer=world["offer"], night=day.date,
                                status="confirmed", decided_at=NOW)  # fmt: skip
    other = open_day(world["site"], date(2027, 3, 9), status="done", volunteer=world["volunteer"],
                     indemnity=Decimal("200.00"))  # fmt: skip
    asked = NightRequest.objects.create(vacation=other, offer=world["offer"], night=other.date)
    api.force_authenticate(world["volunteer"].user)

    refused = add(api, day, kind="accommodation", amount="60.00")
    travel = add(api, day, kind="car", km=20)
    claimed = add(api, other, kind="accommodation", amount="60.00")
    api.force_authenticate(world["secretary"])
    late = api.post(f"/api/v1/vacations/{other.pk}/nights/{asked.pk}/confirm/")

    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert travel.status_code == 201  # travel is still refunded
    assert claimed.status_code == 201
    assert late.status_code == 409  # the volunteer paid its own accommodation that day
    assert not Expense.objects.filter(vacation=day, kind="accommodation").exists()


def test_withdrawing_from_a_day_drops_its_nights(api, world):
    day = open_day(world["site"], date(2027, 4, 23))
    api.force_authenticate(world["volunteer"].user)
    api.post(f"/api/v1/vacations/{day.pk}/request/",
             {"accommodation": {"offer": world["offer"].pk, "nights": ["2027-04-23"]}},
             format="json")  # fmt: skip

    api.post(f"/api/v1/vacations/{day.pk}/withdraw/")

    assert not NightRequest.objects.filter(vacation=day).exists()


def test_a_statement_with_expenses_validates_as_before(world):
    Expense.objects.create(vacation=world["done"], kind="ticket", ticket_kind="bus",
                           amount=Decimal("9.00"))  # fmt: skip

    statement = statements.statement_validate(
        territory=world["site"].territory, month=MARCH, by=world["manager"]
    )

    assert statement.status == Statement.Status.VALIDATED
    assert statement.validated_amount == Decimal("200.00")  # indemnities; expenses beside
