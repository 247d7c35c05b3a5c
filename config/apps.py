from __future__ import annotations

from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Wiring only: project-wide management commands (`seed_demo`, `run_job`)."""

    name = "config"
    verbose_name = "Relève"
