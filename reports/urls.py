"""The dashboards (`/pilotage/…`, namespace `reports`) and the reports API
(`/api/v1/reports/…`, names `api-report-<name>`). Each topic adds its page and its API view."""

from __future__ import annotations

from django.urls import path

from config.replica import replica_reads
from reports import api
from reports.views import continuity, coverage, indemnities, overview, statement
from reports.views.readiness import readiness_page

app_name = "reports"

urlpatterns: list = [
    path("pilotage/", overview.overview, name="overview"),
    path("pilotage/couverture/", coverage.coverage, name="coverage"),
    path("pilotage/couverture/jours/", coverage.coverage_days, name="coverage_days"),
    path("pilotage/preparation/", readiness_page, name="readiness"),
    path("pilotage/indemnites/", indemnities.indemnities_page, name="indemnities"),
    path("pilotage/indemnites/jours/", indemnities.indemnity_days, name="indemnity_days"),
    path(
        "pilotage/indemnites/territoires/<int:pk>/valider/",
        indemnities.statement_validate,
        name="statement_validate",
    ),
    path(
        "pilotage/indemnites/territoires/<int:pk>/rouvrir/",
        indemnities.statement_reopen,
        name="statement_reopen",
    ),
    path(
        "pilotage/indemnites/territoires/<int:pk>/payer/",
        indemnities.statement_pay,
        name="statement_pay",
    ),
    path("pilotage/suivi/", continuity.continuity, name="continuity"),
    # A volunteer's own statement (the API's, as a page).
    path("volontaire/releve/", statement.my_statement, name="my_statement"),
    path("volontaire/releve/pdf/", statement.my_statement_pdf, name="my_statement_pdf"),
]

# Included by config/urls.py under `api/v1/reports/` (no namespace: `api-report-<name>`).
api_urlpatterns: list = [
    path("coverage/", coverage.CoverageReport.as_view(), name="api-report-coverage"),
    path("indemnities/", api.IndemnitiesReport.as_view(), name="api-report-indemnities"),
    path(
        "indemnities/validate/",
        api.StatementValidateView.as_view(),
        name="api-report-indemnities-validate",
    ),
    path(
        "indemnities/reopen/",
        api.StatementReopenView.as_view(),
        name="api-report-indemnities-reopen",
    ),
    path("indemnities/pay/", api.StatementPayView.as_view(), name="api-report-indemnities-pay"),
    path("continuity/", continuity.ContinuityReport.as_view(), name="api-report-continuity"),
]

# Dashboards and reports read the replica when there is one (config/replica.py): their GETs
# only. The indemnity pages stay on the primary: statements are validated and paid from them
# (an API client keeps no cookie to pin it to the primary after a change).
REPLICA_READS = {
    "overview",
    "coverage",
    "coverage_days",
    "readiness",
    "continuity",
    "api-report-coverage",
    "api-report-continuity",
}
for _pattern in (*urlpatterns, *api_urlpatterns):
    if _pattern.name in REPLICA_READS:
        _pattern.callback = replica_reads(_pattern.callback)
