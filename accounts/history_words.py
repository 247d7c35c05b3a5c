"""History as people read it: who by name and role, each value in words.

The app's history pages (`sites.selectors.history_entries`) and the admin's
(`ReadableHistoryAdmin`) say "Marie Dupont (site secretary)" and "Status: draft → published",
never simple_history's raw "Deleted utilisateur (pk=None)".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper


def value_in_words(
    model_field: models.Field, value: Any, people: Mapping[int, str] | None = None
) -> str:
    """A field's value as a person reads it in a history ("" when empty).

    Choices by their label, yes/no, dates in local time, people by name (`people`: from
    `people_in_words`, with their role). A related row that a diff found missing is
    "deleted" — never simple_history's "Deleted user (pk=None)", which only meant "empty".
    """
    from accounts.models import User

    if isinstance(value, DeletedObject):
        if value.pk is None:
            return ""
        return gettext("%(what)s (deleted)") % {"what": capfirst(value.model._meta.verbose_name)}
    if isinstance(value, User):
        return (people or {}).get(value.pk) or person_name(value)
    if value is None or value in ("", [], {}):
        return ""
    if isinstance(model_field, models.BooleanField):
        return gettext("Yes") if value else gettext("No")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


class InWordsContextHelper(HistoricalRecordContextHelper):
    """The admin's history in the same words as the app's (`value_in_words`)."""

    def prepare_delta_change_value(self, change, value):
        model_field = self.model._meta.get_field(change.field)
        if model_field.many_to_many:
            return super().prepare_delta_change_value(change, value)
        return value_in_words(model_field, value)


def person_name(user) -> str:
    """A person as the history pages name them: full name, else email."""
    return user.get_full_name() or user.email


def people_in_words(user_ids: Iterable[int | None]) -> dict[int, str]:
    """ "Marie Dupont (site secretary)" for each user id, in one query (none without ids).

    The role says in which capacity someone acted, which a name alone does not; a user with no
    role (a platform operator) is named alone. A missing id (an automated job, or an account
    since deleted) is not in the result: pages write "System" for it.
    """
    from accounts.models import User
    from accounts.roles import Role

    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    rows = User.objects.filter(pk__in=ids).values_list(
        "pk", "first_name", "last_name", "email", "memberships__role"
    )
    names: dict[int, str] = {}
    roles: dict[int, set[str]] = {}
    for pk, first, last, email, role in rows:
        names[pk] = f"{first} {last}".strip() or email
        roles.setdefault(pk, set())
        if role:
            roles[pk].add(role)
    return {
        pk: name
        if not roles[pk]
        else "{} ({})".format(
            name, ", ".join(_lower_first(Role(r).label) for r in sorted(roles[pk]))
        )
        for pk, name in names.items()
    }


def _lower_first(text) -> str:
    text = str(text)
    return text[:1].lower() + text[1:]


class ReadableHistoryAdmin(SimpleHistoryAdmin):
    """The admin's history pages: changes in words, people by name (as the app's pages)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return InWordsContextHelper(self.model, historical_record)
