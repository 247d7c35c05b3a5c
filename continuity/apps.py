from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContinuityConfig(AppConfig):
    name = "continuity"
    verbose_name = _("Continuity of care")

    def ready(self) -> None:
        from continuity import rules  # noqa: F401 - registers the app's permissions
