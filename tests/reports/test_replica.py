"""The optional read replica (config/replica.py): dashboards and reports read it, writes and
whatever a user just changed stay on the primary."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from config import replica
from tests.conftest import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def reads(monkeypatch):
    """The aliases the router chose for each read, in order."""
    chosen: list[str] = []
    original = replica.ReplicaRouter.db_for_read

    def spy(self, model, **hints):
        alias = original(self, model, **hints)
        chosen.append(alias)
        return alias

    monkeypatch.setattr(replica.ReplicaRouter, "db_for_read", spy)
    return chosen


@pytest.fixture
def manager(client, site):
    user = member(Role.TERRITORY_MANAGER, territory=site.territory)
    client.force_login(user)
    return user


def test_a_report_reads_from_the_replica(client, manager, reads):
    response = client.get(reverse("reports:coverage"))
    assert response.status_code == 200
    assert "replica" in reads
    # The same on the API report.
    reads.clear()
    assert client.get(reverse("api-report-continuity")).status_code == 200
    assert "replica" in reads


def test_writes_and_other_pages_use_the_primary(client, manager, reads):
    router = replica.ReplicaRouter()
    with replica.reading_replica():
        assert router.db_for_write(None) == "default"
    assert client.get(reverse("continuity_worklist")).status_code == 200
    assert set(reads) == {"default"}


def test_a_user_who_just_changed_something_reads_the_primary(client, manager, reads):
    client.post(reverse("account_logout"))  # any change: a POST
    assert replica.PIN_COOKIE in client.cookies
    client.force_login(manager)
    reads.clear()
    assert client.get(reverse("reports:coverage")).status_code == 200
    assert set(reads) == {"default"}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_without_a_replica_every_read_goes_to_the_primary(settings):
    settings.DATABASES = {"default": settings.DATABASES["default"]}
    with replica.reading_replica():
        assert replica.ReplicaRouter().db_for_read(None) == "default"
