"""An optional read replica (issue 14 § 3): dashboards, reports and exports read there.

`DATABASE_REPLICA_URL` adds a `replica` alias (settings). Reads go to it only:
- inside `replica_reads` (a view decorator: the reports app wraps its views) on a GET or HEAD,
- when the request is not pinned to the primary: a user who just changed something (any
  POST/PUT/PATCH/DELETE) reads the primary for `RELEVE_REPLICA_PIN_SECONDS` after it (a
  cookie set by `ReplicaPinMiddleware`), longer than the replica's lag, so what a user just
  changed is what the user sees;
- the views so marked only read (their writes — the audit of who viewed what — go to the
  primary and nothing they show depends on them).
Every write goes to the primary; instances read from the replica are saved on the primary.
Without the setting there is no `replica` alias and this module changes nothing.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
PIN_COOKIE = "releve_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_enabled() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reading_replica(enabled: bool = True):
    """Reads inside go to the replica (when there is one)."""
    token = _replica_reads.set(enabled)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads(view):
    """A read-only page (report, dashboard, export): its reads go to the replica, unless the
    request changes something or its user just changed something (pinned to the primary)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        enabled = request.method in SAFE_METHODS and PIN_COOKIE not in request.COOKIES
        with reading_replica(enabled):
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Reads to `replica` inside `replica_reads`; everything else to the primary."""

    def db_for_read(self, model, **hints):
        if _replica_reads.get() and replica_enabled():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaPinMiddleware:
    """After a request that may change something, pin the user's reads to the primary for a
    while (a cookie: the web processes share nothing else)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if replica_enabled() and request.method not in SAFE_METHODS:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.RELEVE_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
