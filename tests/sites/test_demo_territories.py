"""The demo world lives on France's real territories, also in a database seeded before them."""

from __future__ import annotations

import io

from django.core.management import call_command

from sites.models import HostSite, Membership, Territory
from tests.factories import HostSiteFactory, TerritoryFactory


def test_the_demo_lives_on_real_territories_and_adopts_its_old_placeholders(db):
    old = TerritoryFactory(epci_siren="200044014", name="Communauté de communes Berry Grand Sud")
    old_site = HostSiteFactory(territory=old, name="Maison de santé de Châteaumeillant")

    call_command("seed_demo", stdout=io.StringIO())

    assert Territory.objects.count() == 1255
    old.refresh_from_db()
    assert (old.epci_siren, old.name, old.is_priority) == ("200049484", "CC Berry Grand Sud", True)
    assert HostSite.objects.filter(name=old_site.name).get() == old_site
    flagged = Territory.objects.filter(is_priority=True)
    assert sorted(flagged.values_list("epci_siren", flat=True)) == [
        "200040558",
        "200049484",
        "200066371",
        "200067171",
    ]
    # The CPTS manager manages its structure's two territories, not its whole region.
    managed = Membership.objects.filter(user__email="cpts@demo.releve.fr").values_list(
        "territory__name", flat=True
    )
    assert sorted(managed) == ["CC Berry Grand Sud", "CC Écueillé-Valençay"]
