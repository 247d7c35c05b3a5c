"""The dashboards (`/pilotage/…`, namespace `reports`) and the reports API
(`/api/v1/reports/…`, names `api-report-<name>`). Each topic adds its page and its API view."""

from __future__ import annotations

from django.urls import path

from reports.views import continuity

app_name = "reports"

urlpatterns: list = [
    path("pilotage/suivi/", continuity.continuity, name="continuity"),
]

# Included by config/urls.py under `api/v1/reports/` (no namespace: `api-report-<name>`).
api_urlpatterns: list = [
    path("continuity/", continuity.ContinuityReport.as_view(), name="api-report-continuity"),
]
