from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VacationsConfig(AppConfig):
    name = "vacations"
    verbose_name = _("Vacations (days)")

    def ready(self) -> None:
        from vacations import rules  # noqa: F401 - registers the app's permissions
