"""Operations endpoints that belong to no domain app."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("healthz: database unreachable")
        return False
    return True


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # any transport error means "down"; never fail the probe itself
        logger.warning("healthz: broker unreachable", exc_info=True)
        return False
    return True


@never_cache
@require_GET
def healthz(request):
    """200 while the database answers (the broker may be down: work waits in the database)."""
    db = database_ok()
    body = {"database": "ok" if db else "down", "broker": "ok" if broker_ok() else "down"}
    return JsonResponse(body, status=200 if db else 503)
