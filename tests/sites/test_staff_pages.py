"""Staff pages of host sites: list, site page edited section by section, workflow, history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sites import services
from sites.models import (
    EquipmentItem,
    HostSite,
    InfoSheet,
    ReadinessItem,
    SheetEquipment,
    SheetReadiness,
)
from tests.factories import HostSiteFactory, TerritoryFactory, make_sheet

HTMX = {"HTTP_HX_REQUEST": "true"}


def section_url(site: HostSite, section: str) -> str:
    return reverse("site_section", args=[site.pk, section])


def identity_data(site: HostSite, **values) -> dict:
    data = {
        "kind": site.kind,
        "parent": site.parent_id or "",
        "address": site.address,
        "postal_code": site.postal_code,
        "city": site.city,
        "phone": site.phone,
        "email": site.email,
        "rooms": site.rooms,
        "finess": site.finess,
        **values,
    }
    return {f"identity-{name}": value for name, value in data.items()}


def patients_data(sheet: InfoSheet, **values) -> dict:
    data = {
        "patients_profile": sheet.patients_profile,
        "daily_consultations": sheet.daily_consultations or "",
        "practice_modes": sheet.practice_modes,
        "consultation_minutes": sheet.consultation_minutes,
        **values,
    }
    return {f"patients-{name}": value for name, value in data.items()}


def practical_data(sheet: InfoSheet, **values) -> dict:
    data = {
        "remuneration": sheet.remuneration,
        "accommodation": sheet.accommodation,
        "transport": sheet.transport,
        **values,
    }
    return {f"practical-{name}": value for name, value in data.items()}


def contacts_data(rows: list[dict], *, initial: int = 0) -> dict:
    data = {
        "contacts-TOTAL_FORMS": len(rows),
        "contacts-INITIAL_FORMS": initial,
        "contacts-MIN_NUM_FORMS": 0,
        "contacts-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"contacts-{index}-{name}"] = value
    return data


def readiness_data(sheet: InfoSheet, **statuses: str) -> dict:
    data = {}
    for row in sheet.readiness.select_related("item"):
        data[f"readiness-{row.item.code}__status"] = statuses.get(row.item.code, row.status)
        data[f"readiness-{row.item.code}__note"] = row.note
    return data


@pytest.fixture
def sheet(site):
    return make_sheet(site, complete=True, patients_profile="Patientèle âgée, rurale")


# --- Editing sections -----------------------------------------------------------------------


def test_it_lets_a_secretary_edit_a_section_with_htmx(client, secretary, site, sheet):
    client.force_login(secretary)

    form = client.get(reverse("site_section_edit", args=[site.pk, "patients"]), **HTMX)
    response = client.post(
        section_url(site, "patients"),
        patients_data(
            sheet,
            daily_consultations="25",
            practice_modes=["home_visits", "on_site"],
            consultation_minutes="30",
        ),
        **HTMX,
    )

    assert form.status_code == 200
    assert 'name="patients-consultation_minutes"' in form.content.decode()
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="section-patients"' in body
    assert 'hx-swap-oob="true"' in body  # the status panel follows the change
    assert response.context["section"].saved
    assert not response.context["section"].editing  # the section is read-only again
    sheet.refresh_from_db()
    assert sheet.daily_consultations == 25
    assert sheet.consultation_minutes == 30
    assert sheet.practice_modes == ["on_site", "home_visits"]
    assert sheet.history.first().history_user == secretary


def test_it_saves_a_section_without_javascript_and_redirects_to_the_site(
    client, secretary, site, sheet
):
    client.force_login(secretary)

    opened = client.get(reverse("site_detail", args=[site.pk]), {"edit": "identity"})
    response = client.post(
        section_url(site, "identity"),
        identity_data(site, postal_code="18370", city="Châteaumeillant", phone="02 48 61 23 45"),
    )

    assert opened.status_code == 200
    assert 'name="identity-postal_code"' in opened.content.decode()
    assert response.status_code == 302
    assert response.url == f"{reverse('site_detail', args=[site.pk])}#section-identity"
    site.refresh_from_db()
    assert (site.postal_code, site.city, site.phone) == (
        "18370",
        "Châteaumeillant",
        "02 48 61 23 45",
    )


def test_it_keeps_status_and_territory_for_managers(
    client, secretary, territory_manager, site, sheet
):
    other = TerritoryFactory()
    client.force_login(secretary)
    client.post(
        section_url(site, "identity"),
        {
            **identity_data(site, city="Culan"),
            "identity-status": "suspended",
            "identity-territory": other.pk,
        },
        **HTMX,
    )
    site.refresh_from_db()
    assert (site.city, site.status, site.territory_id) == ("Culan", "active", site.territory_id)

    client.force_login(territory_manager)
    response = client.post(
        section_url(site, "identity"),
        {**identity_data(site), "identity-name": site.name, "identity-status": "suspended"},
        **HTMX,
    )

    # The territory select only offers what the manager manages: another one is refused.
    assert response.status_code == 200
    assert "territory" in response.context["section"].form.errors
    site.refresh_from_db()
    assert site.status == "active"

    response = client.post(
        section_url(site, "identity"),
        {
            **identity_data(site),
            "identity-name": site.name,
            "identity-status": "suspended",
            "identity-territory": site.territory_id,
        },
        **HTMX,
    )
    assert response.status_code == 200
    site.refresh_from_db()
    assert site.status == "suspended"


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("identity", "postal_code", "1837"),
        ("patients", "consultation_minutes", "5"),
        ("practical", "accommodation", "x" * (10 * 1024 * 1024)),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_it_refuses_bad_input_next_to_the_field_and_changes_nothing(
    client, secretary, site, sheet, section, field, value, htmx
):
    data = {
        "identity": identity_data(site),
        "patients": patients_data(sheet),
        "practical": practical_data(sheet),
    }[section]
    data[f"{section}-{field}"] = value
    client.force_login(secretary)
    site_before = HostSite.objects.values().get(pk=site.pk)
    sheet_before = InfoSheet.objects.values().get(pk=sheet.pk)

    response = client.post(section_url(site, section), data, **(HTMX if htmx else {}))

    assert response.status_code == 200
    if htmx:
        state = response.context["section"]
    else:
        state = next(s for s in response.context["sections"] if s.slug == section)
    assert list(state.form.errors) == [field]
    body = response.content.decode()
    assert "fr-input-group--error" in body
    assert f'id="id_{section}-{field}_error"' in body
    assert "fr-message--error" in body
    assert len(body) < 1024 * 1024  # a huge value is not echoed back whole
    assert HostSite.objects.values().get(pk=site.pk) == site_before
    assert InfoSheet.objects.values().get(pk=sheet.pk) == sheet_before
    assert sheet.history.count() == 1


def test_it_replaces_the_key_contacts_and_adds_rows_on_demand(client, secretary, site, sheet):
    client.force_login(secretary)
    rows = [
        {"service": "laboratory", "name": "Laboratoire du Boischaut", "phone": "02 48 96 00 00"},
        {"service": "radiology", "name": "Imagerie de Saint-Amand", "phone": "0248960101"},
        {"service": "", "name": "", "phone": ""},  # the blank row of the form
    ]

    grown = client.post(section_url(site, "contacts"), {**contacts_data(rows), "add_row": "1"})
    saved = client.post(section_url(site, "contacts"), contacts_data(rows), **HTMX)
    bad = client.post(
        section_url(site, "contacts"),
        contacts_data(
            [
                {"service": "laboratory", "name": "Laboratoire", "phone": "02 48 96 00 00"},
                {"service": "pharmacy", "name": "Pharmacie", "phone": "12"},
            ]
        ),
        **HTMX,
    )

    assert grown.status_code == 200
    grown_rows = grown.context["sections"][4].form.forms
    assert [row["name"].value() for row in grown_rows] == [
        "Laboratoire du Boischaut",
        "Imagerie de Saint-Amand",
        None,  # a new blank row
    ]
    assert saved.status_code == 200
    assert "Imagerie de Saint-Amand" in saved.content.decode()
    assert bad.status_code == 200
    assert "phone" in bad.context["section"].form.errors[1]
    assert list(sheet.contacts.values_list("service", "name")) == [
        ("laboratory", "Laboratoire du Boischaut"),
        ("radiology", "Imagerie de Saint-Amand"),
    ]

    removed = client.post(
        section_url(site, "contacts"),
        contacts_data([{**rows[0], "DELETE": "on"}, rows[1]], initial=2),
        **HTMX,
    )

    assert removed.status_code == 200
    assert list(sheet.contacts.values_list("name", flat=True)) == ["Imagerie de Saint-Amand"]


def test_it_saves_the_equipment_and_the_readiness_checklists(client, secretary, site, sheet):
    client.force_login(secretary)
    codes = list(EquipmentItem.objects.values_list("code", flat=True)[:2])

    equipment = client.post(
        section_url(site, "equipment"), {f"equipment-{code}": "on" for code in codes}, **HTMX
    )
    data = readiness_data(sheet, mssante="ok", dmp_access="not_applicable")
    data["readiness-mssante__note"] = "Adresse du site : msp@sante.fr"
    readiness = client.post(section_url(site, "readiness"), data, **HTMX)
    data["readiness-mssante__status"] = "perhaps"
    refused = client.post(section_url(site, "readiness"), data, **HTMX)

    assert equipment.status_code == readiness.status_code == refused.status_code == 200
    assert set(
        SheetEquipment.objects.filter(sheet=sheet, available=True).values_list(
            "item__code", flat=True
        )
    ) == set(codes)
    mssante = SheetReadiness.objects.get(sheet=sheet, item__code="mssante")
    assert (mssante.status, mssante.note) == ("ok", "Adresse du site : msp@sante.fr")
    assert SheetReadiness.objects.get(sheet=sheet, item__code="dmp_access").status == (
        "not_applicable"
    )
    assert list(refused.context["section"].form.errors) == ["mssante__status"]


# --- Scope and rights -----------------------------------------------------------------------


def test_it_answers_404_for_a_site_outside_the_secretarys_scope(
    client, secretary, site, sheet, outsider_site
):
    other_sheet = make_sheet(outsider_site)
    client.force_login(secretary)

    assert client.get(reverse("site_detail", args=[site.pk])).status_code == 200
    assert client.get(reverse("site_detail", args=[outsider_site.pk])).status_code == 404
    assert client.get(reverse("site_history", args=[outsider_site.pk])).status_code == 404
    post = client.post(
        section_url(outsider_site, "patients"),
        patients_data(other_sheet, consultation_minutes="45"),
        **HTMX,
    )
    submit = client.post(reverse("site_sheet_submit", args=[outsider_site.pk]))

    assert post.status_code == 404
    assert submit.status_code == 404
    other_sheet.refresh_from_db()
    assert (other_sheet.consultation_minutes, other_sheet.status) == (20, "draft")


def test_it_forbids_a_secretary_to_publish_or_send_back(client, secretary, site):
    sheet = make_sheet(site, status="submitted", ready=True)
    client.force_login(secretary)

    publish = client.post(reverse("site_sheet_publish", args=[site.pk]))
    send_back = client.post(reverse("site_sheet_return", args=[site.pk]))
    by_get = client.get(reverse("site_sheet_submit", args=[site.pk]))

    assert publish.status_code == 403
    assert send_back.status_code == 403
    assert by_get.status_code == 405
    sheet.refresh_from_db()
    assert sheet.status == "submitted"


def test_it_forbids_registration_to_site_staff(client, secretary):
    client.force_login(secretary)

    assert client.get(reverse("site_create")).status_code == 403
    assert client.post(reverse("site_create"), {"name": "X"}).status_code == 403


# --- Workflow -------------------------------------------------------------------------------


def test_it_lets_a_secretary_submit_and_a_manager_send_back(
    client, secretary, territory_manager, site, sheet
):
    client.force_login(secretary)
    submitted = client.post(reverse("site_sheet_submit", args=[site.pk]))
    sheet.refresh_from_db()
    assert submitted.status_code == 302
    assert sheet.status == "submitted"

    client.force_login(territory_manager)
    sent_back = client.post(reverse("site_sheet_return", args=[site.pk]))

    assert sent_back.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == "draft"


def test_it_lets_a_manager_publish_a_ready_sheet_and_refuses_an_incomplete_one(
    client, territory_manager, site
):
    ready = make_sheet(site, status="submitted", ready=True)
    incomplete_site = HostSiteFactory(territory=site.territory)
    incomplete = make_sheet(incomplete_site, status="submitted")
    client.force_login(territory_manager)

    published = client.post(reverse("site_sheet_publish", args=[site.pk]))
    refused = client.post(reverse("site_sheet_publish", args=[incomplete_site.pk]), follow=True)

    assert published.status_code == 302
    ready.refresh_from_db()
    assert ready.status == "published"
    assert ready.published_by == territory_manager
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "fr-alert--error" in body
    mandatory = ReadinessItem.objects.filter(mandatory=True).values_list("label", flat=True)
    assert all(label in body for label in mandatory)
    incomplete.refresh_from_db()
    assert incomplete.status == "submitted"
    assert incomplete.published_at is None


def test_editing_a_published_sheet_opens_changes_the_manager_finds_and_the_history_shows(
    client, secretary, territory_manager, site
):
    sheet = make_sheet(site, status="published", ready=True, accommodation="Gîte communal")
    client.force_login(secretary)

    response = client.post(
        section_url(site, "practical"),
        practical_data(sheet, accommodation="Studio au-dessus de la MSP"),
        **HTMX,
    )
    submitted = client.post(reverse("site_sheet_submit", args=[site.pk]))

    assert response.status_code == 200
    assert submitted.status_code == 302
    sheet.refresh_from_db()
    assert sheet.accommodation == "Studio au-dessus de la MSP"
    assert sheet.status == "published"
    assert sheet.revision_status == "submitted"
    assert sheet.published_content["fields"]["accommodation"] == "Gîte communal"

    client.force_login(territory_manager)
    listing = client.get(reverse("site_list"), {"sheet": "to_validate"})
    page = client.get(reverse("site_detail", args=[site.pk]))
    history = client.get(reverse("site_history", args=[site.pk]))

    review_url = reverse("site_revision", args=[site.pk])
    assert [s.pk for s in listing.context["page_obj"]] == [site.pk]
    assert review_url in listing.content.decode()
    assert review_url in page.content.decode()
    assert history.status_code == 200
    changes = {
        change.field: (change.old, change.new)
        for entry in history.context["entries"]
        if entry.user == secretary
        for change in entry.changes
    }
    assert changes["accommodation"][1] == "Studio au-dessus de la MSP"
    assert "revision_status" in changes
    body = history.content.decode()
    assert str(secretary) in body
    assert "Studio au-dessus de la MSP" in body

    validated = client.post(reverse("site_sheet_publish", args=[site.pk]))
    assert validated.status_code == 302
    sheet.refresh_from_db()
    assert sheet.revision_status == "none"
    assert sheet.published_content["fields"]["accommodation"] == "Studio au-dessus de la MSP"


# --- Registration ---------------------------------------------------------------------------


def test_it_lets_a_manager_register_a_site_in_its_territories_only(client, territory_manager, site):
    elsewhere = TerritoryFactory(department_id="12")
    client.force_login(territory_manager)
    data = {"name": "Cabinet secondaire de Culan", "kind": "secondary_practice", "rooms": 2}

    form = client.get(reverse("site_create"))
    refused = client.post(reverse("site_create"), {**data, "territory": elsewhere.pk})
    created = client.post(
        reverse("site_create"), {**data, "territory": site.territory_id, "parent": site.pk}
    )

    assert form.status_code == 200
    assert list(form.context["form"].fields["territory"].queryset) == [site.territory]
    assert refused.status_code == 200
    assert "territory" in refused.context["form"].errors
    new = HostSite.objects.get(name="Cabinet secondaire de Culan")
    assert created.status_code == 302
    assert created.url == reverse("site_detail", args=[new.pk])
    assert (new.territory, new.parent, new.rooms, new.status) == (site.territory, site, 2, "draft")
    assert new.info_sheet.readiness.count() == ReadinessItem.objects.count()


# --- Lists and their cost -------------------------------------------------------------------


def test_it_filters_the_site_list_by_sheet_status(client, territory_manager, site):
    make_sheet(site, status="submitted")
    draft = HostSiteFactory(territory=site.territory)
    published = HostSiteFactory(territory=site.territory)
    make_sheet(published, status="published", ready=True)
    client.force_login(territory_manager)

    def listed(sheet_filter: str) -> set[int]:
        response = client.get(reverse("site_list"), {"sheet": sheet_filter})
        assert response.status_code == 200
        return {s.pk for s in response.context["page_obj"]}

    assert listed("") == {site.pk, draft.pk, published.pk}
    assert listed("to_validate") == {site.pk}
    assert listed("draft") == {draft.pk}
    assert listed("published") == {published.pk}
    row = next(s for s in client.get(reverse("site_list")).context["page_obj"] if s == published)
    assert (row.readiness_mandatory_ok, row.sheet_status) == (
        ReadinessItem.objects.filter(mandatory=True).count(),
        "published",
    )


def test_it_filters_the_site_list_by_place_status_and_readiness(client, ars_manager):
    """The dashboards' links: the sites of a place, the active ones, those not ready (a
    mandatory item of the catalogue not done, or no sheet at all)."""
    cher, indre = TerritoryFactory(department_id="18"), TerritoryFactory(department_id="36")
    ready = HostSiteFactory(territory=cher, name="Prête")
    make_sheet(ready, status="published", ready=True)
    lacking = HostSiteFactory(territory=cher, name="Incomplète", status="draft")
    make_sheet(lacking, ready=True)
    SheetReadiness.objects.filter(sheet__site=lacking, item__code="mssante").update(
        status="missing"
    )
    optional_missing = HostSiteFactory(territory=indre, name="Optionnel")
    make_sheet(optional_missing, ready=True)
    SheetReadiness.objects.filter(sheet__site=optional_missing, item__mandatory=False).update(
        status="missing"
    )
    no_sheet = HostSiteFactory(territory=indre, name="Sans fiche", status="suspended")
    client.force_login(ars_manager)

    def listed(**params) -> set[str]:
        response = client.get(reverse("site_list"), params)
        assert response.status_code == 200
        return {s.name for s in response.context["page_obj"]}

    assert listed(readiness="not_ready") == {"Incomplète", "Sans fiche"}
    assert listed(status="active") == {"Prête", "Optionnel"}
    assert listed(territory=cher.pk) == {"Prête", "Incomplète"}
    assert listed(department="36", readiness="not_ready") == {"Sans fiche"}
    assert listed(region="24", status="draft") == {"Incomplète"}
    assert listed(region="76") == set()
    assert listed(site=no_sheet.pk) == {"Sans fiche"}
    html = client.get(
        reverse("site_list"),
        {"territory": cher.pk, "readiness": "not_ready"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    # The place is said, and kept by the form when another filter is chosen.
    assert f"Filtered on {cher.name}." in html
    assert f'<input type="hidden" name="territory" value="{cher.pk}"' in html


@pytest.mark.parametrize("size", [3, 60])
def test_it_lists_sites_at_a_constant_cost(
    client, django_assert_num_queries, territory_manager, site, size
):
    for index in range(size):
        other = HostSiteFactory(territory=site.territory)
        make_sheet(other, status=["draft", "submitted", "published"][index % 3], ready=index % 2)
    client.force_login(territory_manager)

    # session, user, memberships (shell), unread messages (the bell), count, page
    with django_assert_num_queries(6):
        response = client.get(reverse("site_list"))
    with django_assert_num_queries(6):
        filtered = client.get(reverse("site_list"), {"sheet": "to_validate", "page": 2})

    assert response.status_code == filtered.status_code == 200
    assert response.context["page_obj"].paginator.count == size + 1


def test_it_shows_the_history_of_a_site_registered_without_a_sheet(client, secretary, site):
    client.force_login(secretary)

    response = client.get(reverse("site_history", args=[site.pk]))

    assert response.status_code == 200
    assert [(e.kind, e.subject) for e in response.context["entries"]] == [("+", site.name)]
    assert not InfoSheet.objects.filter(site=site).exists()  # reading history writes nothing


@pytest.mark.parametrize("size", [3, 12])
def test_it_shows_the_history_at_a_constant_cost(
    client, django_assert_num_queries, secretary, site, sheet, size
):
    client.force_login(secretary)
    code = EquipmentItem.objects.values_list("code", flat=True).first()
    for index in range(size):
        # Each round changes the site, the sheet, a contact, the equipment and the readiness.
        client.post(section_url(site, "identity"), identity_data(site, city=f"Ville {index}"))
        client.post(
            section_url(site, "practical"), practical_data(sheet, transport=f"Ligne {index}")
        )
        client.post(
            section_url(site, "contacts"),
            contacts_data([{"service": "pharmacy", "name": f"P{index}", "phone": "0248960000"}]),
        )
        client.post(
            section_url(site, "equipment"), {} if index % 2 else {f"equipment-{code}": "on"}
        )
        status = "missing" if index % 2 else "ok"
        client.post(section_url(site, "readiness"), readiness_data(sheet, mssante=status))

    # session, user, memberships (shell), unread messages (the bell), site, sheet, count, page,
    # then per kind of record: the records with their previous one's id, and those previous
    # records (none for contacts: they are created and deleted, never changed); then the
    # people named (authors, and who validated), with their roles
    with django_assert_num_queries(8 + 2 + 2 + 1 + 2 + 2 + 1):
        response = client.get(reverse("site_history", args=[site.pk]))

    assert response.status_code == 200
    assert len(response.context["entries"]) == 25
    assert {entry.kind for entry in response.context["entries"]} == {"+", "~", "-"}


@pytest.mark.parametrize("contacts", [1, 20])
def test_it_shows_the_site_page_at_a_constant_cost(
    client, django_assert_num_queries, territory_manager, site, contacts
):
    validated_by = territory_manager if contacts > 1 else None
    sheet = make_sheet(
        site,
        status="published",
        ready=True,
        revision_status="submitted",
        published_by=validated_by,
    )
    rows = [{"service": "other", "name": f"C{i}", "phone": "0248960000"} for i in range(contacts)]
    services.sheet_update(sheet=sheet, by=territory_manager, contacts=rows)
    client.force_login(territory_manager)

    # session, user, site, ensure_sheet (5), sheet with its validator, contacts, equipment,
    # readiness, memberships (shell, and the staff rules), unread messages (the bell), rights
    # (edit: 1, publish), has a course nurse, the accommodation offers
    with django_assert_num_queries(18):
        response = client.get(reverse("site_detail", args=[site.pk]))

    assert response.status_code == 200
    assert f"C{contacts - 1}" in response.content.decode()


def test_the_readiness_checklist_shows_a_site_without_a_course_nurse(client, site, secretary):
    from accounts.roles import Role
    from tests.conftest import member

    client.force_login(secretary)
    page = client.get(reverse("site_detail", args=[site.pk]))
    assert 'data-testid="no-course-nurse"' in page.content.decode()
    member(Role.COURSE_NURSE, site=site)
    page = client.get(reverse("site_detail", args=[site.pk]))
    assert 'data-testid="no-course-nurse"' not in page.content.decode()
