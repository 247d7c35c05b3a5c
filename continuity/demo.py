"""The demo world's follow-up (`manage.py seed_demo`): each past day is closed with its exams and
handover; then results come back, so that exams sit in every state, tasks are open, overdue and
escalated, a question waits for dr.martin and one message sits in quarantine."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from continuity import ingest, services
from continuity.models import FollowUpTask, IncomingResult, PendingExam
from vacations.models import Vacation

# (kind, description) of the exams prescribed, cycling over the days.
PRESCRIPTIONS = (
    ("biology", "NFS, ionogramme, créatinine"),
    ("imaging", "Radiographie thoracique de face"),
    ("ecg", "ECG de repos"),
    ("specialist", "Avis cardiologique"),
    ("biology", "HbA1c, bilan lipidique"),
    ("pathology", "Analyse d'une lésion cutanée"),
    ("biology", "TSH"),
    ("imaging", "Échographie abdominale"),
)
HANDOVERS = (
    "Journée chargée. Deux patients à revoir pour leur tension ; résultats de biologie "
    "attendus en fin de semaine.",
    "Un renouvellement d'ordonnance à vérifier avec le médecin traitant ; ECG normal pour le "
    "patient suivi pour palpitations.",
)
_numbers = count(1)


def close_day(vacation: Vacation, *, consultations: int, by: User, now: datetime) -> None:
    """What the volunteer does at the end of a demo day: exams, handover, closure."""
    index = next(_numbers)
    vacation.refresh_from_db()
    author = vacation.volunteer.user
    if index % 3 == 0:  # one day in three, nothing was prescribed
        no_exams = True
    else:
        rows = []
        for offset in range(2):
            kind, description = PRESCRIPTIONS[(2 * index + offset) % len(PRESCRIPTIONS)]
            rows.append(
                {
                    "patient_ref": f"DEMO-{index:02}{offset}",
                    "patient_initials": "AB"[offset] + "CDEFGH"[index % 6],
                    # The counter runs on over several runs in one process: a plausible year.
                    "patient_birth_year": 1940 + (7 * index + offset) % 80,
                    "kind": kind,
                    "description": description,
                    "order_number": f"CMD-DEMO-{index:03}{offset}",
                    "performer": "Laboratoire du Berry" if kind == "biology" else "",
                }
            )
        services.exams_record(vacation=vacation, by=author, rows=rows, now=now)
        no_exams = False
    services.handover_write(
        vacation=vacation,
        by=author,
        text=HANDOVERS[index % len(HANDOVERS)],
        patient_refs=[f"DEMO-{index:02}0"],
        now=now,
    )
    services.day_close(
        vacation=vacation, by=by, consultations_count=consultations, no_exams=no_exams, now=now
    )


QUARANTINED_HL7 = (
    "MSH|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|DEMO|{stamp}||ORU^R01^ORU_R01|DEMO-Q-1|P|2.5|||||FRA|"
    "UNICODE UTF-8\r"
    "PID|1||DEMO-9999^^^DEMO^PI||TEST^PATIENT||1950|F\r"
    "ORC|RE|CMD-INCONNU-77^RELEVE|LAB-DEMO-1^SIL_BIO||CM\r"
    "OBR|1|CMD-INCONNU-77^RELEVE|LAB-DEMO-1^SIL_BIO|GLY^Glycémie à jeun^L|||{stamp}\r"
    "OBX|1|NM|15074-8^Glycémie^LN||7.9|mmol/L|4.1-5.9|H|||F\r"
)


@transaction.atomic
def seed(*, now: datetime | None = None) -> int:
    """Results and follow-up on the closed demo days, once (a world with results is kept)."""
    now = now or timezone.now()
    exams = list(PendingExam.objects.select_related("site", "prescriber__user").order_by("pk"))
    if not exams or FollowUpTask.objects.exists() or IncomingResult.objects.exists():
        return 0
    nurse = User.objects.get(email="infirmiere@demo.releve.fr")
    martin = User.objects.get(email="dr.martin@demo.releve.fr")

    def staff_of(exam: PendingExam) -> User:
        return services.route(exam.site)[0] or nurse

    plan = iter(exams)
    # Abnormal, received three days ago and never handled: escalated to the territory.
    escalated = next(plan)
    services.exam_receive(
        exam=escalated,
        by=staff_of(escalated),
        abnormal=True,
        result_summary="Potassium 5,9 mmol/L [H]",
        now=now - timedelta(days=3),
    )
    services.escalate_tasks(now=now)
    # Received and reviewed then closed with its three legs.
    closed = next(plan)
    services.exam_receive(exam=closed, by=nurse, abnormal=False, now=now - timedelta(days=8))
    services.exam_close(
        exam=closed,
        by=staff_of(closed),
        responsible="treating_doctor",
        treating_doctor_status="at_site",
        review_note="Résultat normal, transmis au médecin traitant.",
        dmp_deposited=True,
        sent_to_patient_space=True,
        sent_to_prescriber=True,
        now=now - timedelta(days=6),
    )
    # Received long ago, its task now overdue (not yet escalated).
    overdue = next(plan)
    services.exam_receive(exam=overdue, by=nurse, abnormal=False, now=now - timedelta(days=5))
    # Received this morning: an open task, and a question waiting for dr.martin (preferably at
    # the site with a course nurse).
    rest = list(plan)
    received = min(
        (exam for exam in rest if exam.prescriber.user_id == martin.pk),
        key=lambda exam: not services.site_has_course_nurse(exam.site),
        default=rest[0],
    )
    rest.remove(received)
    services.exam_receive(exam=received, by=nurse, abnormal=False, now=now - timedelta(hours=3))
    task = FollowUpTask.objects.get(exam=received, kind=FollowUpTask.Kind.REVIEW_RESULT)
    services.contact_prescriber(
        task=task,
        by=task.assignee or nurse,
        question="Faut-il prévoir un contrôle avant la prochaine consultation de ce patient ?",
        now=now - timedelta(hours=2),
    )
    # One reviewed (its task done, the exam not closed yet), one cancelled (done elsewhere);
    # the rest stay awaiting, some of them overdue.
    if rest:
        reviewed = rest.pop(0)
        services.exam_receive(exam=reviewed, by=nurse, abnormal=False, now=now - timedelta(days=2))
        services.task_done(
            task=reviewed.tasks.get(kind=FollowUpTask.Kind.REVIEW_RESULT),
            by=staff_of(reviewed),
            note="Résultat vu, à classer après appel du patient.",
            now=now - timedelta(days=1),
        )
    if rest:
        services.exam_cancel(
            exam=rest.pop(), by=nurse, reason="Fait par le médecin traitant.", now=now
        )
    services.overdue_exams(now=now)
    # A message whose order number matches nothing: quarantined, with a task for the nurse.
    stamp = timezone.localtime(now - timedelta(hours=5)).strftime("%Y%m%d%H%M%S")
    ingest.ingest(
        fmt=IncomingResult.Format.HL7V2,
        body=QUARANTINED_HL7.format(stamp=stamp).encode(),
        content_type="application/hl7-v2",
        caller=nurse,
        now=now - timedelta(hours=4),
    )
    return PendingExam.objects.count()
