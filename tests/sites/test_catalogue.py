from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.roles import Role
from sites.models import (
    EquipmentItem,
    HostSite,
    InfoSheet,
    ReadinessItem,
    SheetReadiness,
    Territory,
)
from sites.services import sheet_publish, sheet_submit, sheet_update
from tests.conftest import member
from tests.factories import HostSiteFactory, TerritoryFactory, make_public_site, make_sheet

PUBLISHED_AT = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
MANDATORY_ITEMS = 7  # in the seeded readiness catalogue (sites.catalogues.READINESS)


def make_full_site(**fields) -> HostSite:
    """A public site whose sheet went the whole way: filled, submitted, then validated."""
    parent = make_public_site(name="Pôle de santé du Boischaut")
    site = HostSiteFactory(
        name="Maison de santé de Châteaumeillant",
        kind=HostSite.Kind.MSP,
        parent=parent,
        territory=parent.territory,
        address="2 rue de la Libération",
        postal_code="18370",
        city="Châteaumeillant",
        phone="02 48 61 30 30",
        email="accueil@msp-chateaumeillant.fr",
        finess="180012345",
        rooms=2,
        **fields,
    )
    secretary = member(Role.SECRETARY, site=site)
    manager = member(Role.TERRITORY_MANAGER, territory=site.territory)
    sheet = make_sheet(site, ready=True)
    sheet_update(
        sheet=sheet,
        by=secretary,
        fields={
            "patients_profile": "Patientèle âgée, nombreux patients sans médecin traitant.",
            "daily_consultations": 24,
            "practice_modes": ["on_site", "home_visits"],
            "team_description": "Deux infirmières, une kinésithérapeute.",
            "secretariat_description": "Secrétariat sur place du lundi au vendredi.",
            "functioning_description": "Réunion d’équipe le mardi midi.",
            "protocols": "Protocole anticoagulants AVK.",
            "information_system": "Weda",
            "remuneration": "200 EUR la journée, versés par l’ARS.",
            "accommodation": "Gîte communal réservé aux médecins, à 300 m.",
            "transport": "Gare de Saint-Amand-Montrond à 25 min, navette possible.",
            "consultation_minutes": 25,
        },
        contacts=[
            {
                "service": "laboratory",
                "name": "Laboratoire Biopôle Berry",
                "phone": "02 48 96 00 11",
                "priority": True,
            },
            {"service": "radiology", "name": "Imagerie du Cher", "phone": "02 48 23 45 67"},
        ],
        equipment={"examination_table": True, "ecg": True},
        readiness={"secretariat": {"status": "missing", "note": "Pas de secrétariat le samedi"}},
    )
    sheet_submit(sheet=sheet, by=secretary)
    sheet_publish(sheet=sheet, by=manager, now=PUBLISHED_AT)
    return site


def bulk_public_sites(count: int, territory: Territory) -> list[HostSite]:
    """`count` public sites with a ready sheet, in a few bulk queries."""
    sites = HostSiteFactory.create_batch(count, territory=territory)
    items = list(ReadinessItem.objects.all())
    validated = {
        "version": 1,
        "fields": {},
        "contacts": [],
        "equipment": [],
        "readiness": [
            {"code": i.code, "label": i.label, "mandatory": i.mandatory, "status": "ok", "note": ""}
            for i in items
        ],
    }
    sheets = InfoSheet.objects.bulk_create(
        InfoSheet(
            site=site,
            status=InfoSheet.Status.PUBLISHED,
            published_at=PUBLISHED_AT,
            published_content=validated,
        )
        for site in sites
    )
    SheetReadiness.objects.bulk_create(
        SheetReadiness(sheet=sheet, item=item, status=SheetReadiness.Status.OK)
        for sheet in sheets
        for item in items
    )
    return sites


def listed(response) -> list[str]:
    return [site.name for site in response.context["page_obj"]]


def test_it_lists_public_sites_only(client, db):
    public = make_public_site(name="MSP publique", city="Sancoins", postal_code="18600")
    make_sheet(public, status="published", ready=True, practice_modes=["on_site", "nursing_home"])
    hidden = [
        HostSiteFactory(name="Site brouillon", status=HostSite.Status.DRAFT),
        HostSiteFactory(name="Site suspendu", status=HostSite.Status.SUSPENDED),
        HostSiteFactory(name="Fiche brouillon"),
        HostSiteFactory(name="Fiche soumise"),
        HostSiteFactory(name="Sans fiche"),
    ]
    make_sheet(hidden[0], status="published", ready=True)
    make_sheet(hidden[1], status="published", ready=True)
    make_sheet(hidden[2], status="draft", ready=True)
    make_sheet(hidden[3], status="submitted", ready=True)

    response = client.get(reverse("catalogue"))

    assert response.status_code == 200
    assert listed(response) == ["MSP publique"]
    page = response.content.decode()
    for site in hidden:
        assert site.name not in page
    assert reverse("public_site", args=[public.pk]) in page
    assert "18600 Sancoins" in page
    assert public.territory.name in page
    assert "Cher (18)" in page
    shown = response.context["page_obj"][0]
    assert (shown.readiness_mandatory_ok, shown.readiness_mandatory) == (
        MANDATORY_ITEMS,
        MANDATORY_ITEMS,
    )
    assert f"{MANDATORY_ITEMS}/{MANDATORY_ITEMS}" in page
    assert shown.info_sheet.accommodation == "Studio au-dessus de la MSP"
    assert set(HostSite.objects.public()) == {public}


def test_it_counts_the_mandatory_readiness_items_of_the_validated_version(client, db):
    site = make_public_site()
    sheet = site.info_sheet
    validated = sheet.published_content
    next(row for row in validated["readiness"] if row["code"] == "mssante")["status"] = "missing"
    InfoSheet.objects.filter(pk=sheet.pk).update(published_content=validated)
    # The working copy says otherwise: not public until a manager validates it.
    sheet_update(sheet=sheet, by=None, readiness={"onboarding": {"status": "missing"}})

    response = client.get(reverse("catalogue"))

    shown = response.context["page_obj"][0]
    assert (shown.readiness_mandatory_ok, shown.readiness_mandatory) == (
        MANDATORY_ITEMS - 1,
        MANDATORY_ITEMS,
    )
    assert f"{MANDATORY_ITEMS - 1}/{MANDATORY_ITEMS}" in response.content.decode()


def test_it_filters_by_region_department_and_territory(client, db):
    berry = TerritoryFactory(name="Berry Grand Sud", department_id="18")
    sancerre = TerritoryFactory(name="Pays Fort Sancerrois", department_id="18")
    indre = TerritoryFactory(name="Écueillé-Valençay", department_id="36")
    aubrac = TerritoryFactory(name="Aubrac et Carladez", department_id="12")
    make_public_site(name="MSP Berry", territory=berry)
    make_public_site(name="MSP Sancerre", territory=sancerre)
    make_public_site(name="MSP Valençay", territory=indre)
    make_public_site(name="MSP Aubrac", territory=aubrac)
    # Not public: neither its region (Île-de-France) nor its territory may be offered.
    paris = HostSiteFactory(territory=TerritoryFactory(department_id="75"))
    make_sheet(paris, status="submitted")
    url = reverse("catalogue")

    assert listed(client.get(url, {"region": "76"})) == ["MSP Aubrac"]
    assert listed(client.get(url, {"region": "24"})) == [
        "MSP Berry",
        "MSP Sancerre",
        "MSP Valençay",
    ]
    assert listed(client.get(url, {"department": "18"})) == ["MSP Berry", "MSP Sancerre"]
    assert listed(client.get(url, {"territory": sancerre.pk})) == ["MSP Sancerre"]
    assert listed(client.get(url, {"region": "24", "department": "36"})) == ["MSP Valençay"]
    assert listed(client.get(url, {"region": "76", "department": "18"})) == []

    form = client.get(url).context["form"]
    assert [code for code, _name in form.fields["region"].choices] == ["", "24", "76"]
    departments = form.fields["department"].choices[1:]
    assert departments == [("12", "12 – Aveyron"), ("18", "18 – Cher"), ("36", "36 – Indre")]
    territories = [
        pk for _group, choices in form.fields["territory"].choices[1:] for pk, _ in choices
    ]
    assert sorted(territories) == sorted([berry.pk, sancerre.pk, indre.pk, aubrac.pk])


def test_it_renders_labelled_selects_and_reports_a_filter_it_does_not_offer(client, db):
    make_public_site(name="MSP Berry")

    response = client.get(reverse("catalogue"), {"region": "11", "department": "18"})

    assert response.status_code == 200
    page = response.content.decode()
    for name in ("region", "department", "territory"):
        assert f'<label class="fr-label" for="id_{name}">' in page
        assert f'name="{name}"' in page
    assert 'class="fr-select"' in page
    assert 'type="submit"' in page
    # The unknown region is named as an error next to its field and not applied.
    assert list(response.context["form"].errors) == ["region"]
    assert 'id="id_region-error"' in page
    assert 'aria-describedby="id_region-error"' in page
    assert listed(response) == ["MSP Berry"]


def test_it_paginates_by_twenty_and_keeps_the_filters_in_page_links(client, db):
    bulk_public_sites(25, TerritoryFactory(department_id="18"))
    url = reverse("catalogue")

    first = client.get(url, {"department": "18"})
    second = client.get(url, {"department": "18", "page": 2})

    assert len(listed(first)) == 20
    assert len(listed(second)) == 5
    assert first.context["page_obj"].paginator.count == 25
    assert "?department=18&amp;page=2" in first.content.decode()
    assert not set(listed(first)) & set(listed(second))


@pytest.mark.parametrize("size", [3, 300])
def test_it_lists_the_catalogue_in_constant_queries(client, django_assert_num_queries, db, size):
    bulk_public_sites(size, TerritoryFactory(department_id="18"))
    bulk_public_sites(size, TerritoryFactory(department_id="12"))

    # offered territories, count, page (anonymous: no session, no user)
    with django_assert_num_queries(3):
        response = client.get(reverse("catalogue"), {"region": "24"})

    assert response.status_code == 200
    assert len(listed(response)) == min(size, 20)
    assert response.context["page_obj"].paginator.count == size


def test_it_shows_the_whole_published_sheet(client, db):
    site = make_full_site()

    response = client.get(reverse("public_site", args=[site.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    sheet = InfoSheet.objects.get(site=site)
    assert sheet.accommodation
    assert sheet.patients_profile
    for text in (
        site.name,
        "2 rue de la Libération, 18370 Châteaumeillant",
        'href="tel:0248613030"',
        "accueil@msp-chateaumeillant.fr",
        "180012345",
        site.territory.name,
        sheet.patients_profile,
        sheet.team_description,
        sheet.secretariat_description,
        sheet.functioning_description,
        sheet.protocols,
        "Weda",
        sheet.remuneration,
        sheet.accommodation,
        sheet.transport,
        "Laboratoire Biopôle Berry",
        '<a href="tel:0248960011">02 48 96 00 11</a>',
        "Imagerie du Cher",
        "Pas de secrétariat le samedi",
        "12 mars 2026",  # published_at, in French
        reverse("sheet_pdf", args=[site.pk]),
    ):
        assert text in page, text
    assert f'<a href="{reverse("public_site", args=[site.parent.pk])}">' in page
    assert site.parent.name in page
    # Base equipment first, then the additions asked for by the field.
    assert page.index("Table d’examen") < page.index("Électrocardiographe")
    assert 'data-testid="preview-notice"' not in page
    assert 'data-testid="changed-since-validation"' not in page
    assert len(sheet.practice_mode_labels()) == 2
    assert ", ".join(sheet.practice_mode_labels()) in page
    assert response.context["sheet"].published_at == PUBLISHED_AT


@pytest.mark.parametrize(
    ("site_status", "sheet_status"),
    [
        ("draft", "published"),
        ("suspended", "published"),
        ("active", "draft"),
        ("active", "submitted"),
    ],
)
def test_it_hides_an_unpublished_site_from_anonymous_and_previews_it_for_its_secretary(
    client, db, site_status, sheet_status
):
    site = HostSiteFactory(name="MSP en préparation", status=site_status)
    make_sheet(site, status=sheet_status, ready=True, accommodation="Chambre chez l’habitant")
    url = reverse("public_site", args=[site.pk])

    assert client.get(url).status_code == 404
    assert "MSP en préparation" not in client.get(reverse("catalogue")).content.decode()

    client.force_login(member(Role.SECRETARY, site=site))
    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="preview-notice"' in page
    assert "Chambre chez l’habitant" in page
    previewed = response.context["site"]
    assert previewed.is_public is False
    assert (previewed.readiness_mandatory_ok, previewed.readiness_mandatory) == (
        MANDATORY_ITEMS,
        MANDATORY_ITEMS,
    )


def test_it_answers_404_to_a_signed_in_user_outside_the_scope_of_a_draft(client, db, outsider_site):
    make_sheet(outsider_site, status="draft")
    neighbour_secretary = member(Role.SECRETARY, site=HostSiteFactory())
    client.force_login(neighbour_secretary)

    assert client.get(reverse("public_site", args=[outsider_site.pk])).status_code == 404
    assert client.get(reverse("public_site", args=[999999])).status_code == 404


def test_it_previews_a_site_that_has_no_sheet_yet_for_its_manager(client, db, site):
    manager = member(Role.ARS_MANAGER, region_id="24")
    client.force_login(manager)

    response = client.get(reverse("public_site", args=[site.pk]))

    assert response.status_code == 200
    assert response.context["sheet"] is None
    assert 'data-testid="preview-notice"' in response.content.decode()


@pytest.mark.parametrize("size", [1, 30])
def test_it_shows_a_sheet_in_constant_queries(client, django_assert_num_queries, db, size):
    EquipmentItem.objects.bulk_create(
        EquipmentItem(code=f"extra-{n}", label=f"Matériel {n}", field_addition=True)
        for n in range(size)
    )
    ReadinessItem.objects.bulk_create(
        ReadinessItem(code=f"extra-{n}", label=f"Prérequis {n}") for n in range(size)
    )
    site = make_public_site(parent=make_public_site())
    sheet_update(
        sheet=site.info_sheet,
        by=None,
        contacts=[
            {"service": "pharmacy", "name": f"Pharmacie {n}", "phone": "02 48 61 00 00"}
            for n in range(size)
        ],
    )
    sheet_submit(sheet=site.info_sheet, by=None)  # the changes, validated: now public
    sheet_publish(sheet=site.info_sheet, by=None)

    # site (with sheet, places, parent, readiness counts), contacts, equipment, readiness, and
    # the upcoming days with a doctor (added by the vacations app), the accommodation offers
    with django_assert_num_queries(6):
        response = client.get(reverse("public_site", args=[site.pk]))

    assert response.status_code == 200
    assert len(response.context["contacts"]) == size
    assert len(response.context["readiness"]) == 14 + size


@pytest.fixture
def shared_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()
    return cache


def _cards_rendered(response) -> int:
    return sum(t.name == "sites/catalogue/readiness_summary.html" for t in response.templates)


def test_catalogue_cards_come_from_the_shared_cache_until_what_they_show_changes(
    client, shared_cache, db
):
    """Issue 14 § 3: a card is rendered once and kept under a digest of what it shows; a change
    of the site or of its validated sheet shows at once (another key), never an old card."""
    first, second = make_public_site(name="MSP du Lac", rooms=2), make_public_site(name="Zèbre")

    cold = client.get(reverse("catalogue"))
    warm = client.get(reverse("catalogue"))

    assert _cards_rendered(cold) == 2
    assert _cards_rendered(warm) == 0  # both cards read from the cache
    assert "MSP du Lac" in warm.content.decode()
    first.rooms = 3
    first.save()
    changed = client.get(reverse("catalogue")).content.decode()
    assert "3 consultation rooms" in changed or "3 salles de consultation" in changed
    assert _cards_rendered(client.get(reverse("catalogue"))) == 0
    # The sheet's edits show once validated (a new version), not before.
    secretary = member(Role.SECRETARY, site=second)
    manager = member(Role.TERRITORY_MANAGER, territory=second.territory)
    sheet_update(sheet=second.info_sheet, by=secretary, fields={"consultation_minutes": 45})
    assert "45 minutes" not in client.get(reverse("catalogue")).content.decode()
    sheet_submit(sheet=second.info_sheet, by=secretary)
    sheet_publish(sheet=second.info_sheet, by=manager)
    published = client.get(reverse("catalogue")).content.decode()
    assert published.count("45 minutes") == 1
