"""France's real territories: loading the vendored EPCI and communes, flagging the priority zones
from a list of SIRENs, and proposing a site's territory from its commune."""

from __future__ import annotations

import gzip
import io
import json
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.roles import Role
from sites import services, territories
from sites.models import Commune, HostSite, Territory
from sites.validators import luhn_is_valid
from tests.conftest import member
from tests.factories import ManagingStructureFactory, TerritoryFactory

BERRY_GRAND_SUD = "200049484"
CAUSSES_DORDOGNE = "200066371"
COEUR_DE_FRANCE = "200036135"


def _vendored(name: str) -> list[dict]:
    with gzip.open(territories.DATA_DIR / name, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """France loaded once for the module (each test still runs in its own rolled-back
    transaction), and removed after it."""
    with django_db_blocker.unblock():
        report = territories.load_territories()
    try:
        yield report
    finally:
        with django_db_blocker.unblock():
            Commune.objects.all().delete()
            sirens = [epci["siren"] for epci in _vendored("epci.json.gz")]
            Territory.objects.filter(epci_siren__in=sirens).delete()


@pytest.fixture
def real(loaded, db):
    return {t.epci_siren: t for t in Territory.objects.filter(epci_siren__in=SIRENS())}


def SIRENS() -> list[str]:  # noqa: N802 - a constant read lazily
    return sorted(epci["siren"] for epci in _vendored("epci.json.gz"))


# --- Loading ----------------------------------------------------------------------------------


def test_it_loads_every_epci_and_its_communes(loaded, db):
    sirens = SIRENS()
    assert len(sirens) == 1255
    assert loaded.territories_created == 1255
    assert Territory.objects.filter(epci_siren__in=sirens).count() == 1255
    # Current communes of the 101 departments; overseas collectivities are left out.
    assert loaded.communes_created == Commune.objects.count() == 34875
    assert loaded.communes_skipped == 94
    assert Commune.objects.exclude(postal_codes="").count() == 34875
    # Every commune belongs to an EPCI but four islands (Bréhat, Sein, Ouessant, Yeu).
    assert set(Commune.objects.filter(territory=None).values_list("name", flat=True)) == {
        "Île-de-Bréhat",
        "Île-de-Sein",
        "Ouessant",
        "L'Île-d'Yeu",
    }
    berry = Territory.objects.get(epci_siren=BERRY_GRAND_SUD)
    assert (berry.name, berry.department_id, berry.is_priority) == (
        "CC Berry Grand Sud",
        "18",
        False,
    )
    chateaumeillant = Commune.objects.get(insee_code="18057")
    assert (chateaumeillant.name, chateaumeillant.postal_codes) == ("Châteaumeillant", "18370")
    assert chateaumeillant.territory == berry


def test_a_territorys_population_is_its_communes_and_its_department_the_most_populated(loaded, db):
    loaded_territories = Territory.objects.filter(epci_siren__in=SIRENS())
    sums = dict(
        loaded_territories.annotate(total=Sum("communes__population")).values_list("pk", "total")
    )
    populations = dict(loaded_territories.values_list("pk", "population"))
    assert populations == sums
    assert 66_000_000 < sum(populations.values()) < 70_000_000
    assert Territory.objects.get(epci_siren=BERRY_GRAND_SUD).population > 10_000

    by_department: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Commune.objects.exclude(territory=None)
        .values_list("territory", "department")
        .annotate(population=Sum("population"))
    )
    for territory, department, population in rows:
        by_department[territory][department] = population
    straddling = {pk: pops for pk, pops in by_department.items() if len(pops) > 1}
    assert len(straddling) > 50
    departments = dict(loaded_territories.values_list("pk", "department"))
    for pk, pops in straddling.items():
        assert pops[departments[pk]] == max(pops.values())


def test_loading_again_changes_nothing_but_what_the_data_says(loaded, db):
    structure = ManagingStructureFactory()
    berry = Territory.objects.get(epci_siren=BERRY_GRAND_SUD)
    berry.is_priority = True
    berry.managing_structure = structure
    berry.name = "Renamed by hand"
    berry.save()
    Commune.objects.filter(insee_code="18057").update(postal_codes="18000", territory=None)
    made_by_hand = TerritoryFactory(is_priority=True)
    before = (Territory.objects.count(), Commune.objects.count())

    report = territories.load_territories()
    again = territories.load_territories()

    assert (report.territories_created, report.territories_updated) == (0, 1)
    assert (report.communes_created, report.communes_updated) == (0, 1)
    assert (again.territories_updated, again.communes_updated) == (0, 0)
    assert (again.territories_unchanged, again.communes_unchanged) == (1255, 34875)
    assert (Territory.objects.count(), Commune.objects.count()) == before
    berry.refresh_from_db()
    assert (berry.name, berry.is_priority, berry.managing_structure) == (
        "CC Berry Grand Sud",
        True,
        structure,
    )
    commune = Commune.objects.get(insee_code="18057")
    assert (commune.postal_codes, commune.territory) == ("18370", berry)
    made_by_hand.refresh_from_db()
    assert made_by_hand.is_priority


def test_the_command_loads_and_says_what_it_did(loaded, db):
    out = io.StringIO()
    call_command("load_territories", stdout=out)

    text = out.getvalue()
    assert "@etalab/decoupage-administratif@6.0.0" in text
    assert "0 created, 0 updated, 1255 unchanged" in text


# --- Priority zones ---------------------------------------------------------------------------


def _zones_file(tmp_path, sirens, *, separator=";", bom=True, names=True):
    header = f"siren{separator}name" if names else "siren"
    rows = [f"{siren}{separator}Territoire {siren}" if names else siren for siren in sirens]
    lines = [header, *rows]
    path = tmp_path / "zones.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + "\r\n".join(lines).encode("utf-8"))
    return path


def _flagged() -> set[str]:
    return set(Territory.objects.filter(is_priority=True).values_list("epci_siren", flat=True))


@pytest.mark.parametrize(
    ("separator", "bom", "names"), [(";", True, True), (",", False, True), (",", True, False)]
)
def test_it_flags_exactly_the_151_listed_territories(loaded, db, tmp_path, separator, bom, names):
    listed = SIRENS()[::8][:151]
    assert len(listed) == 151
    flagged_before = TerritoryFactory(is_priority=True)  # not listed: unflagged
    Territory.objects.filter(epci_siren=listed[0]).update(is_priority=True)  # stays flagged
    out = io.StringIO()

    call_command(
        "import_priority_zones",
        str(_zones_file(tmp_path, listed, separator=separator, bom=bom, names=names)),
        stdout=out,
    )

    assert _flagged() == set(listed)
    text = out.getvalue()
    assert "151 territories listed" in text
    assert "Flagged as priority zones: 150 (1 already were)" in text
    assert "No longer priority zones (not listed): 1." in text
    assert flagged_before.epci_siren in text


def test_it_keeps_the_others_flagged_on_demand(loaded, db, tmp_path):
    other = TerritoryFactory(is_priority=True)
    out = io.StringIO()

    call_command(
        "import_priority_zones",
        str(_zones_file(tmp_path, [BERRY_GRAND_SUD])),
        "--keep-others",
        stdout=out,
    )

    assert _flagged() == {BERRY_GRAND_SUD, other.epci_siren}
    assert "left as they were (--keep-others)" in out.getvalue()


def _unknown_siren() -> str:
    known = set(Territory.objects.values_list("epci_siren", flat=True))
    return next(
        siren
        for n in range(100_000)
        if luhn_is_valid(siren := f"2999{n:05d}") and siren not in known
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code;name\n200049484;CC Berry Grand Sud\n", "Line 1: the header has no `siren` column"),
        ("siren\n200049484\n2000494\n", "Line 3: '2000494' is not a SIREN number"),
        ("siren\n200049484\n\n200049485\n", "Line 4: 200049485 has a wrong check digit"),
        ("siren\n", "The file lists no SIREN number"),
        ("", "The file is empty"),
        (b"siren\n20004948\xe9\n", "The file is not UTF-8 text"),
    ],
)
def test_a_bad_file_changes_nothing_and_names_the_line(loaded, db, tmp_path, content, message):
    flagged = TerritoryFactory(is_priority=True)
    path = tmp_path / "zones.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())

    with pytest.raises(CommandError) as refused:
        call_command("import_priority_zones", str(path))

    assert "refused, nothing changed" in str(refused.value)
    assert message in str(refused.value)
    assert _flagged() == {flagged.epci_siren}


def test_an_unknown_siren_refuses_the_whole_file(loaded, db, tmp_path):
    flagged = TerritoryFactory(is_priority=True)
    unknown = _unknown_siren()
    path = _zones_file(tmp_path, [BERRY_GRAND_SUD, CAUSSES_DORDOGNE, unknown])

    with pytest.raises(CommandError) as refused:
        call_command("import_priority_zones", str(path))

    assert f"Line 4: no territory has the SIREN number {unknown}." in str(refused.value)
    assert _flagged() == {flagged.epci_siren}


def test_the_demo_file_lists_the_demo_territories():
    entries = territories.read_priority_zones(
        (territories.DATA_DIR / "priority_zones_demo.csv").read_bytes()
    )

    from sites.demo import TERRITORIES

    assert sorted(siren for _line, siren in entries) == sorted(t[1] for t in TERRITORIES)


def test_the_demo_territories_are_the_real_ones():
    from sites.demo import TERRITORIES

    real = {epci["siren"]: epci["name"] for epci in _vendored("epci.json.gz")}
    assert {siren: real.get(siren) for _name, siren, *_ in TERRITORIES} == {
        siren: name for name, siren, *_ in TERRITORIES
    }


# --- A site's territory from its commune ------------------------------------------------------


@pytest.mark.parametrize(
    ("postal_code", "city", "siren"),
    [
        ("18370", "Châteaumeillant", BERRY_GRAND_SUD),
        ("18370", "", BERRY_GRAND_SUD),  # every commune of 18370 is in the same EPCI
        ("18170", "LE CHATELET", BERRY_GRAND_SUD),  # 18170 serves two EPCI: the city tells
        ("18170", "Marçais", COEUR_DE_FRANCE),
        ("46500", "gramat", CAUSSES_DORDOGNE),
        ("18200", "ST AMAND MONTROND CEDEX", COEUR_DE_FRANCE),
        ("18170", "", None),  # two EPCI, no city: cannot tell
        ("18170", "Paris", None),
        ("99999", "Nowhere", None),
        ("1837", "Châteaumeillant", None),
    ],
)
def test_it_finds_the_territory_of_a_commune(loaded, db, postal_code, city, siren):
    territory = services.territory_for_commune(postal_code, city)

    assert (territory.epci_siren if territory else None) == siren


@pytest.fixture
def berry_manager(real):
    return member(Role.TERRITORY_MANAGER, territory=real[BERRY_GRAND_SUD])


def test_registering_a_site_proposes_the_territory_of_its_commune(client, real, berry_manager):
    berry = real[BERRY_GRAND_SUD]
    client.force_login(berry_manager)
    url = reverse("site_create")
    data = {"name": "MSP de Châteaumeillant", "kind": "msp", "rooms": 1}

    typed = client.get(
        url, {"postal_code": "18370", "city": "Châteaumeillant"}, HTTP_HX_REQUEST="true"
    )
    elsewhere = client.post(url, {**data, "postal_code": "46500", "city": "Gramat"})
    unknown = client.post(url, {**data, "postal_code": "99999", "city": "Nowhere"})
    created = client.post(url, {**data, "postal_code": "18370", "city": "Châteaumeillant"})

    assert typed.context["form"]["territory"].value() == berry.pk
    assert f'<option value="{berry.pk}" selected>' in typed.content.decode()
    with translation.override("fr"):  # the page speaks French
        not_yours = gettext(
            "This commune is in %(territory)s, which you do not manage: choose one of "
            "your territories."
        ) % {"territory": "CC Causses et Vallée de la Dordogne"}
        none_found = gettext(
            "No territory was found for this postal code and city: choose the territory."
        )
    assert not_yours in str(elsewhere.context["form"].errors["territory"])
    assert none_found in str(unknown.context["form"].errors["territory"])
    site = HostSite.objects.get(name="MSP de Châteaumeillant")
    assert created.status_code == 302
    assert site.territory == berry
    messages = [str(m) for m in created.wsgi_request._messages]
    with translation.override("fr"):
        registered = gettext(
            "The host site is registered in %(territory)s, the territory of its commune."
        ) % {"territory": "CC Berry Grand Sud"}
    assert messages == [registered]


def test_a_territory_the_manager_chose_is_kept(client, real, berry_manager):
    berry = real[BERRY_GRAND_SUD]
    other = TerritoryFactory()
    member(Role.TERRITORY_MANAGER, territory=other, user=berry_manager)
    client.force_login(berry_manager)
    url = reverse("site_create")
    query = {"postal_code": "18370", "city": "Châteaumeillant"}

    chosen = client.get(url, {**query, "territory": other.pk})
    reproposed = client.get(
        url, {**query, "postal_code": "18170", "territory": berry.pk, "proposed": berry.pk}
    )
    created = client.post(
        url, {"name": "Cabinet", "kind": "msp", "rooms": 1, **query, "territory": other.pk}
    )

    assert chosen.context["form"]["territory"].value() == other.pk
    # The proposal made before is not a choice: a new commune proposes again (none here).
    assert reproposed.context["form"]["territory"].value() is None
    assert created.status_code == 302
    assert HostSite.objects.get(name="Cabinet").territory == other
