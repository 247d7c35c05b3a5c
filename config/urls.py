from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from accounts import views as accounts_views
from config import pages as config_pages
from config import views as config_views
from config.schema import CachedSpectacularAPIView
from continuity import api as continuity_api
from continuity import views as continuity_views
from feedback import api as feedback_api
from feedback import views as feedback_views
from reports import urls as reports_urls
from reports.views import home as home_views
from sites import api as sites_api
from sites.views import catalogue as catalogue_views
from sites.views import staff as staff_views
from vacations import api as vacations_api
from vacations import calendar as calendar_views
from vacations import views as vacations_views
from volunteers import api as volunteers_api
from volunteers import views as volunteers_views

router = DefaultRouter(trailing_slash=True)
router.register("auth/tokens", accounts_api.ApiTokenViewSet, basename="api-tokens")
router.register("regions", sites_api.RegionViewSet, basename="region")
router.register("territories", sites_api.TerritoryViewSet, basename="territory")
router.register("sites", sites_api.HostSiteViewSet, basename="site")
router.register("volunteers", volunteers_api.VolunteerViewSet, basename="volunteer")
# Served by continuity: the days' API with its closure gate on `complete`.
router.register("vacations", continuity_api.VacationViewSet, basename="vacation")
router.register("exams", continuity_api.ExamViewSet, basename="exam")
router.register("results/quarantine", continuity_api.QuarantineViewSet, basename="quarantine")
router.register("results", continuity_api.IncomingResultViewSet, basename="incoming-result")
router.register("tasks", continuity_api.TaskViewSet, basename="task")
router.register(
    "contact-requests", continuity_api.ContactRequestViewSet, basename="contact-request"
)
router.register("handovers", continuity_api.HandoverViewSet, basename="handover")
router.register("feedback", feedback_api.FeedbackViewSet, basename="feedback")
router.register("incidents", feedback_api.IncidentViewSet, basename="incident")

api_v1 = [
    path("auth/token/", accounts_api.ObtainTokenView.as_view(), name="api-token"),
    path("me/", sites_api.MeView.as_view(), name="api-me"),
    # Before the router: served by the vacations app, under the volunteer's own path.
    path(
        "volunteers/me/statement/",
        vacations_api.MyStatementView.as_view(),
        name="api-my-statement",
    ),
    path(
        "volunteers/me/statement/pdf/",
        vacations_api.MyStatementPdfView.as_view(),
        name="api-my-statement-pdf",
    ),
    # Before the router: result messages come in raw (HL7 v2 ER7 or FHIR JSON).
    path("results/hl7/", continuity_api.Hl7ResultView.as_view(), name="api-results-hl7"),
    path("results/fhir/", continuity_api.FhirResultView.as_view(), name="api-results-fhir"),
    path("reports/", include(reports_urls.api_urlpatterns)),
    path("schema/", CachedSpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script); its
    # page keeps a small inline style, allowed for this page alone.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="swagger-ui",
    ),
    *router.urls,
]

urlpatterns = [
    path("", home_views.home, name="home"),
    path("healthz", config_views.healthz, name="healthz"),
    path("", include(config_pages.urlpatterns)),
    path("", include("reports.urls", namespace="reports")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include(accounts_views.urlpatterns)),
    # The day's page is the feedback app's (continuity's record of the day, then its feedback
    # and incidents); before vacations: a day is closed by continuity.
    path("", include(feedback_views.day_urlpatterns)),
    path("", include(continuity_views.day_urlpatterns)),
    path("", include(vacations_views.urlpatterns)),
    path("", include(catalogue_views.urlpatterns)),
    path("", include(staff_views.urlpatterns)),
    path("", include(volunteers_views.urlpatterns)),
    path("suivi/", include("continuity.urls")),
    path("", include(feedback_views.urlpatterns)),
    path("api/v1/", include(api_v1)),
    path("calendar/<str:token>.ics", calendar_views.volunteer_feed, name="volunteer_calendar"),
    path("calendar/site/<str:token>.ics", calendar_views.site_feed, name="site_calendar"),
]

# The error pages in the site's layout and the user's language (config/errors.py).
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

admin.site.site_header = "Relève — administration"
admin.site.site_title = "Relève"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
