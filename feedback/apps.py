from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and incidents")

    def ready(self) -> None:
        from feedback import rules  # noqa: F401 - registers the app's permissions
