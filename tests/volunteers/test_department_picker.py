"""The department pickers: by number (Corsica's 2A and 2B where 20 was), "21 – Côte-d’Or"."""

from __future__ import annotations

import re

from django.urls import reverse

from sites.models import Department
from tests.factories import TerritoryFactory, make_public_site


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)[0]
    return re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select)


def test_the_department_picker_is_sorted_by_code_with_typographic_apostrophes(client, user):
    client.force_login(user)

    html = client.get(reverse("volunteer_profile")).content.decode()

    choices = options(html, "home_department")
    codes = [code for code, _label in choices]
    assert len(codes) == Department.objects.count()
    assert codes[:3] == ["01", "02", "03"]
    assert codes[codes.index("19") : codes.index("19") + 4] == ["19", "2A", "2B", "21"]
    assert codes[-5:] == ["971", "972", "973", "974", "976"]
    labels = dict(choices)
    assert labels["21"] == "21 – Côte-d’Or"
    assert labels["95"] == "95 – Val-d’Oise"
    assert "'" not in "".join(labels.values())
    assert "&#x27;" not in "".join(labels.values())


def test_the_catalogues_filters_read_the_same(client, db):
    for code in ("21", "2A", "19", "22"):
        make_public_site(territory=TerritoryFactory(department_id=code))

    html = client.get(reverse("catalogue")).content.decode()

    departments = options(html, "department")
    assert [code for code, _label in departments if code] == ["19", "2A", "21", "22"]
    assert ("22", "22 – Côtes-d’Armor") in departments
    assert re.search(r'<optgroup label="21 – Côte-d’Or">', html)
