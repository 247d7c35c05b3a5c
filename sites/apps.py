from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = _("Places and host sites")

    def ready(self) -> None:
        from sites import (
            rules,  # noqa: F401 - registers the app's permissions
            signals,
        )

        signals.connect()
