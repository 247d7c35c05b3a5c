from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from sites import demo
from tests.factories import HostSiteFactory, MembershipFactory, TerritoryFactory, UserFactory

# --- The PostgreSQL pass -----------------------------------------------------------------------
# Tests marked `postgres` prove what only PostgreSQL can (row locks, exclusion constraints) or
# are slow proofs run once. On SQLite they are skipped; in CI's PostgreSQL pass
# (RELEVE_REQUIRE_POSTGRES=1, see .ci/run) a single skipped one fails the run, so a proof can't
# silently stop running.

_skipped_postgres_tests: list[str] = []


def _requires_postgres() -> bool:
    return os.environ.get("RELEVE_REQUIRE_POSTGRES", "") not in ("", "0", "false")


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    # A transactional test flushes the database when it ends, reference data (regions,
    # departments, content types) included; only `serialized_rollback` puts them back for the
    # next one. Without it, every serialized test after it fails on duplicate content types.
    bare = [
        item.nodeid
        for item in items
        if (marker := item.get_closest_marker("django_db"))
        and marker.kwargs.get("transaction")
        and not marker.kwargs.get("serialized_rollback")
    ]
    if bare:
        raise pytest.UsageError(
            "transactional tests need serialized_rollback=True: " + ", ".join(bare)
        )

    # The browser journeys run at two sizes (tests/browser/conftest.py's `viewport`): the 360 px
    # phone in both passes, the 1366 px desktop once, in the PostgreSQL pass (a slow proof).
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("viewport") == 1366:
            item.add_marker(pytest.mark.postgres)

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: CI's PostgreSQL pass runs it")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_runtest_logreport(report):
    if report.skipped and "postgres" in report.keywords:
        _skipped_postgres_tests.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _requires_postgres() and _skipped_postgres_tests and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _requires_postgres() and _skipped_postgres_tests:
        terminalreporter.section("PostgreSQL-only tests skipped", red=True, bold=True)
        terminalreporter.write_line(
            "RELEVE_REQUIRE_POSTGRES is set: these tests had to run, the pass fails."
        )
        for nodeid in _skipped_postgres_tests:
            terminalreporter.write_line(f"  {nodeid}")


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
def _replica_reads_the_test_transaction(request):
    """The `replica` alias mirrors the default database (TEST MIRROR); a test's data lives in
    its transaction, so in this thread the replica uses the default connection (as if the
    replica had caught up). Which alias a read chose is the router's, asserted in
    tests/reports/test_replica.py."""
    from django.db import connections

    if "replica" not in connections.settings:
        yield
        return
    if "live_server" in request.fixturenames:
        # The live server's thread opens its own connections, where the replica alias does not
        # see the browser test's data on SQLite: pages under a live server read the primary.
        import config.replica

        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setattr(config.replica, "replica_enabled", lambda: False)
        yield
        return
    # After the test's database set-up (it fences off the aliases a test may not use).
    for name in ("_django_db_marker", "db", "transactional_db", "django_db_reset_sequences"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
    original = connections["replica"]
    connections["replica"] = connections["default"]
    yield
    connections["replica"] = original


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
