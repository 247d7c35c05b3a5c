"""Pages of continuity of care, under /suivi/: the nurse's worklist and a task, the exam tracker
and an exam, the quarantine of unmatched results, a volunteer's follow-ups and questions,
closing a day (its exams and handover), and the handovers.

Views parse, authorize, call one service and render. What a person may see comes from the
models' `visible_to` (anything else answers 404, missing or not); acting on an exam or a
quarantined result is for the staff of its site (403 otherwise); a task, for whoever sees it
(its site's team and the managers it was escalated to). Every page that shows patient
references writes an `AccessRecord`. A service's refusal is shown on the form that asked,
next to the field it names, and nothing is written.
"""

from __future__ import annotations

from django.urls import path

from continuity.views.closure import (
    day_closure,
    day_complete,
    handover_detail,
    handovers,
)
from continuity.views.exams import (
    exam_cancel_page,
    exam_close_page,
    exam_detail,
    exam_leg_page,
    exam_letter_page,
    exam_receive_page,
    exams,
)
from continuity.views.quarantine import (
    quarantine,
    quarantine_dismiss_page,
    quarantine_match_page,
)
from continuity.views.results import incoming_raw
from continuity.views.tasks import (
    task_contact_page,
    task_detail,
    task_done_page,
    task_start_page,
    worklist,
)
from continuity.views.volunteer import (
    contact_answer_page,
    my_followups,
)

urlpatterns = [
    path("", worklist, name="continuity_worklist"),
    path("taches/<int:pk>/", task_detail, name="continuity_task"),
    path("taches/<int:pk>/commencer/", task_start_page, name="continuity_task_start"),
    path("taches/<int:pk>/terminer/", task_done_page, name="continuity_task_done"),
    path("taches/<int:pk>/question/", task_contact_page, name="continuity_task_contact"),
    path("examens/", exams, name="continuity_exams"),
    path("examens/<int:pk>/", exam_detail, name="continuity_exam"),
    path("examens/<int:pk>/resultat/", exam_receive_page, name="continuity_exam_receive"),
    path("examens/<int:pk>/cloturer/", exam_close_page, name="continuity_exam_close"),
    path("examens/<int:pk>/annuler/", exam_cancel_page, name="continuity_exam_cancel"),
    path("examens/<int:pk>/etapes/<slug:leg>/", exam_leg_page, name="continuity_exam_leg"),
    path("examens/<int:pk>/courrier/", exam_letter_page, name="continuity_exam_letter"),
    path("resultats/<int:pk>/message/", incoming_raw, name="continuity_incoming_raw"),
    path("quarantaine/", quarantine, name="continuity_quarantine"),
    path(
        "quarantaine/<int:pk>/associer/",
        quarantine_match_page,
        name="continuity_quarantine_match",
    ),
    path(
        "quarantaine/<int:pk>/ecarter/",
        quarantine_dismiss_page,
        name="continuity_quarantine_dismiss",
    ),
    path("mes-suivis/", my_followups, name="continuity_my_followups"),
    path("questions/<int:pk>/repondre/", contact_answer_page, name="continuity_contact_answer"),
    path("journees/<int:vacation_pk>/cloture/", day_closure, name="continuity_day_closure"),
    path("transmissions/", handovers, name="continuity_handovers"),
    path("transmissions/<int:pk>/", handover_detail, name="continuity_handover"),
]

# Closing a day is continuity's, served at the day's own address (not under /suivi/; the
# day's page itself, `feedback.views.day_detail`, adds `closure.day_record`):
# config/urls.py lists these before the vacations pages (DESIGN.md § Layout).
day_urlpatterns = [
    path("jours/<int:pk>/cloturer/", day_complete, name="vacation_complete_page"),
]
