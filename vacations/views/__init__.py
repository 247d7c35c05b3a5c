"""HTML pages of the planning: a site's month, a day and its actions, booking a volunteer, a
volunteer's own planning, the open days to request, and the managers' coverage grid.

Plain forms and redirects (no script needed). Views parse, authorize, call one service and
render; a service's refusal (`DomainError`, `ValidationError`) becomes an alert with its
message, and nothing is written. Who may act: the site's staff (secretary, course nurse) on its
days, the secretary alone opens days, a volunteer on its own days; managers read.
"""

from __future__ import annotations

from django.urls import path

from vacations.views.coverage import coverage
from vacations.views.practical import (
    vacation_expense_add,
    vacation_expense_delete,
    vacation_night_decide,
)
from vacations.views.staff import (
    site_calendar_rotate,
    site_planning,
    vacation_book_page,
    vacation_cancel_page,
    vacation_confirm,
    vacation_decline_page,
    vacation_no_show_page,
    vacation_preparation,
)
from vacations.views.volunteer import (
    my_planning,
    open_days,
    public_site,
    vacation_request_page,
    vacation_withdraw_page,
)

urlpatterns = [
    # The site's public page: the sheet (`sites.views.catalogue.detail_context`) and its days.
    path("lieux/<int:pk>/", public_site, name="public_site"),
    path("sites/<int:site_pk>/planning/", site_planning, name="site_planning"),
    path(
        "sites/<int:site_pk>/planning/calendrier/nouveau-lien/",
        site_calendar_rotate,
        name="site_calendar_rotate",
    ),
    # `jours/<int:pk>/` (the day's page, `vacation_detail`) is served by continuity, which adds
    # the day's exams and handover (config/urls.py lists it first; vacations.views.render_day).
    path("jours/<int:pk>/reserver/", vacation_book_page, name="vacation_book_page"),
    path("jours/<int:pk>/confirmer/", vacation_confirm, name="vacation_confirm"),
    path("jours/<int:pk>/refuser/", vacation_decline_page, name="vacation_decline_page"),
    path("jours/<int:pk>/annuler/", vacation_cancel_page, name="vacation_cancel_page"),
    path("jours/<int:pk>/absence/", vacation_no_show_page, name="vacation_no_show_page"),
    path("jours/<int:pk>/preparation/", vacation_preparation, name="vacation_preparation"),
    path("jours/<int:pk>/demander/", vacation_request_page, name="vacation_request_page"),
    path("jours/<int:pk>/retirer/", vacation_withdraw_page, name="vacation_withdraw_page"),
    path("jours/<int:pk>/frais/", vacation_expense_add, name="vacation_expense_add"),
    path(
        "jours/<int:pk>/frais/<int:expense_pk>/supprimer/",
        vacation_expense_delete,
        name="vacation_expense_delete",
    ),
    path(
        "jours/<int:pk>/nuits/<int:night_pk>/reponse/",
        vacation_night_decide,
        name="vacation_night_decide",
    ),
    path("mon-planning/", my_planning, name="my_planning"),
    path("jours-ouverts/", open_days, name="open_days"),
    path("couverture/", coverage, name="coverage"),
]
