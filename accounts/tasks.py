from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Beat's proof of life: a worker that logs this is receiving scheduled work."""
    logger.info("Relève heartbeat")
    return "ok"
