"""The one way a service saves a history-tracked object: who did it, and why, in its history.

django-simple-history writes a historical record on every `save()`; the request middleware
fills in the user only inside a web request, so jobs, commands and the ingestion of results
would leave anonymous records. Services pass `by` (None: the platform itself, e.g. an
escalation job) and, where the change is not obvious from the fields, a `reason`.

A queryset `.update()` writes no history at all: never use one on a tracked model (the test
`test_no_update_on_history_tracked_models_outside_migrations` keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


def save_tracked(
    obj: models.Model,
    *,
    by,
    fields: Iterable[str] | None = None,
    reason: str | None = None,
    validate: bool = False,
) -> None:
    """Save `obj` with `by` recorded as the author of its historical record.

    `fields`: only these columns (`update_fields`); `validate`: run `full_clean()` first, so
    a bad field raises a `ValidationError` naming it and nothing is written.
    """
    if validate:
        obj.full_clean()
    obj._history_user = by
    if reason:
        obj._change_reason = reason
    try:
        obj.save(update_fields=list(fields) if fields is not None else None)
    finally:
        # The object may be saved again later by someone else: don't lend them our name.
        for name in ("_history_user", "_change_reason"):
            obj.__dict__.pop(name, None)
