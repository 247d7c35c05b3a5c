"""The dashboards (`/pilotage/…`, namespace `reports`) and the reports API
(`/api/v1/reports/…`, names `api-report-<name>`). Each topic adds its page and its API view."""

from __future__ import annotations

from django.urls import path

from reports.views import coverage, overview

app_name = "reports"

urlpatterns: list = [
    path("pilotage/", overview.overview, name="overview"),
    path("pilotage/couverture/", coverage.coverage, name="coverage"),
    path("pilotage/couverture/jours/", coverage.coverage_days, name="coverage_days"),
]

# Included by config/urls.py under `api/v1/reports/` (no namespace: `api-report-<name>`).
api_urlpatterns: list = [
    path("coverage/", coverage.CoverageReport.as_view(), name="api-report-coverage"),
]
