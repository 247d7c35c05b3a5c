from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VacationsConfig(AppConfig):
    name = "vacations"
    verbose_name = _("Vacations (days)")
