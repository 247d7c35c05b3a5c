from __future__ import annotations

import re

from sites.models import Territory
from tests.factories import HostSiteFactory, TerritoryFactory


def test_an_anonymous_call_answers_401_with_a_code(api, db):
    response = api.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_an_unknown_object_answers_404_with_a_code(api, user):
    api.force_authenticate(user)

    response = api.get("/api/v1/sites/999999/")

    assert response.status_code == 404
    assert set(response.json()) == {"code", "detail"}


def test_lists_paginate_and_cap_the_page_size(api, territory_manager, ars_manager, site):
    for _ in range(4):
        HostSiteFactory(territory=site.territory)
    # 205 territories of the ARS manager's region, written in one statement.
    Territory.objects.bulk_create(TerritoryFactory.build_batch(204, department_id="18"))
    api.force_authenticate(territory_manager)

    page = api.get("/api/v1/sites/", {"page_size": 2}).json()
    api.force_authenticate(ars_manager)
    capped = api.get("/api/v1/territories/", {"page_size": 5000})

    assert page["count"] == 5
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]
    assert page["previous"] is None
    assert capped.status_code == 200
    assert capped.json()["count"] == 205
    assert len(capped.json()["results"]) == 200
    assert "page=2" in capped.json()["next"]


def test_the_schema_describes_the_api(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/auth/token/", "/api/v1/me/", "/api/v1/regions/", "/api/v1/territories/"):
        assert path in paths


def test_the_docs_load_nothing_from_another_host(client, db):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
