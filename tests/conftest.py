from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from sites import demo
from tests.factories import HostSiteFactory, MembershipFactory, TerritoryFactory, UserFactory


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Rate limits and TOTP replay guards live in the cache: give each test its own."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """Unit tests run tasks in-process (tests/config/test_celery_worker.py runs a real worker)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def demo_world(db):
    return demo.seed()


def member(role: str, **scope):
    return MembershipFactory(role=role, **scope).user


@pytest.fixture
def outsider_site(db):
    """A site in another territory (Occitanie), outside every persona's scope."""
    return HostSiteFactory(territory=TerritoryFactory(department_id="12"))


@pytest.fixture
def site(db):
    return HostSiteFactory()


@pytest.fixture
def secretary(site):
    return member(Role.SECRETARY, site=site)


@pytest.fixture
def territory_manager(site):
    return member(Role.TERRITORY_MANAGER, territory=site.territory)


@pytest.fixture
def ars_manager(db):
    return member(Role.ARS_MANAGER, region_id="24")


@pytest.fixture
def volunteer(db):
    return member(Role.VOLUNTEER)


@pytest.fixture
def user(db):
    return UserFactory()
