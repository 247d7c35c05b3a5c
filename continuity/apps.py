from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContinuityConfig(AppConfig):
    name = "continuity"
    verbose_name = _("Continuity of care")

    def ready(self) -> None:
        from continuity import rules  # noqa: F401 - registers the app's permissions

        # A day is closed only once its exams (or "none") and its handover are recorded.
        from continuity.services import closure_missing
        from vacations import services as vacations

        if closure_missing not in vacations.closure_checks:
            vacations.closure_checks.append(closure_missing)
