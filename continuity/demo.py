"""The demo world's follow-up (`manage.py seed_demo`): each past day is closed with its exams and
handover; then results come back, so that exams sit in every state, tasks are open, overdue and
escalated, a question waits for dr.martin and one message sits in quarantine."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from continuity import ingest, services
from continuity.models import ExamKind, FollowUpTask, Handover, IncomingResult, PendingExam
from vacations.models import Vacation

# Each analyte the demo's laboratory reports: LOINC code, unit, reference range (as a lab sends
# them, with decimal points).
ANALYTES = {
    "Hémoglobine": ("718-7", "g/dL", "12.0-16.0"),
    "Leucocytes": ("6690-2", "G/L", "4.0-10.0"),
    "Plaquettes": ("777-3", "G/L", "150-400"),
    "CRP": ("1988-5", "mg/L", "0-5"),
    "Sodium": ("2951-2", "mmol/L", "135-145"),
    "Potassium": ("2823-3", "mmol/L", "3.5-5.0"),
    "Créatinine": ("14682-9", "µmol/L", "45-104"),
    "HbA1c": ("4548-4", "%", "4.0-6.0"),
    "LDL-cholestérol": ("13457-7", "g/L", "0.00-1.60"),
    "TSH": ("3016-3", "mUI/L", "0.40-4.00"),
}
# What each kind of exam brings back: a biology panel, its analytes (a laboratory's message);
# an ECG, imaging, pathology or a specialist, a written report and no analyte (no potassium on
# an ECG).
ANALYTES_BY_KIND = {kind: frozenset() for kind in ExamKind.values} | {
    ExamKind.BIOLOGY: frozenset(ANALYTES)
}
# Biology panels prescribed in the demo: description → (analyte, value, flag) the lab sends back.
PANELS = {
    "NFS, CRP": (("Hémoglobine", "13.4", ""), ("Leucocytes", "7.2", ""),
                 ("Plaquettes", "245", ""), ("CRP", "3", "")),
    "Ionogramme, créatinine": (("Sodium", "139", ""), ("Potassium", "6.4", "H"),
                               ("Créatinine", "98", "")),
    "HbA1c, bilan lipidique": (("HbA1c", "5.8", ""), ("LDL-cholestérol", "1.32", "")),
    "TSH": (("TSH", "2.10", ""),),
}  # fmt: skip
# The written report of every other exam prescribed in the demo: description → text.
REPORTS = {
    "ECG de repos": "Rythme sinusal régulier à 68/min, PR 160 ms, QRS fins, pas de trouble de "
    "la repolarisation. ECG normal.",
    "Échographie abdominale": "Foie de taille normale, homogène ; pas de dilatation des voies "
    "biliaires ; reins et rate sans particularité. Conclusion : examen normal.",
    "Radiographie thoracique de face": "Pas d’opacité parenchymateuse, cul-de-sac libres, "
    "silhouette cardiaque normale.",
    "Analyse d’une lésion cutanée": "Kératose séborrhéique, sans signe de malignité.",
}
# What each closed day prescribed, in the order `vacations.demo` closes them (None: no exam that
# day), and what became of each exam: the story `seed` tells. The nurse's own site
# (Châteaumeillant, dr.martin's days) holds an overdue task escalated up to the ARS, an abnormal
# result escalated to the territory manager, a question waiting for dr.martin and a closed exam.
DAYS = (
    # Châteaumeillant, dr.martin, about two months ago
    (("biology", "NFS, CRP", "overdue"), ("ecg", "ECG de repos", "closed")),
    # Le Châtelet, dr.bernard
    (("biology", "HbA1c, bilan lipidique", "reviewed"),
     ("pathology", "Analyse d’une lésion cutanée", "cancelled")),
    None,  # Valençay, dr.bernard
    # Laguiole, dr.martin: results still awaited, then chased
    (("imaging", "Radiographie thoracique de face", "awaiting"), ("biology", "TSH", "awaiting")),
    # Châteaumeillant, dr.martin, last month
    (("biology", "Ionogramme, créatinine", "urgent"),
     ("imaging", "Échographie abdominale", "question")),
    None,  # Le Châtelet, dr.bernard
)  # fmt: skip
HANDOVERS = (
    "Journée chargée. Deux patients à revoir pour leur tension ; résultats de biologie "
    "attendus en fin de semaine.",
    "Un renouvellement d'ordonnance à vérifier avec le médecin traitant ; ECG normal pour le "
    "patient suivi pour palpitations.",
)


def _order_number(day: int, offset: int) -> str:
    return f"CMD-DEMO-{day:03}{offset}"


def close_day(vacation: Vacation, *, consultations: int, by: User, now: datetime) -> None:
    """What the volunteer does at the end of a demo day: exams, handover, closure."""
    # The n-th day closed in this world (not in this process: every fresh demo is the same).
    index = Handover.objects.count() + 1
    vacation.refresh_from_db()
    author = vacation.volunteer.user
    prescribed = DAYS[(index - 1) % len(DAYS)]
    if prescribed:
        rows = [
            {
                "patient_ref": f"DEMO-{index:02}{offset}",
                "patient_initials": "AB"[offset] + "CDEFGH"[index % 6],
                "patient_birth_year": 1940 + (7 * index + offset) % 80,
                "kind": kind,
                "description": description,
                "order_number": _order_number(index, offset),
                "performer": "Laboratoire du Berry" if kind == "biology" else "",
            }
            for offset, (kind, description, _fate) in enumerate(prescribed)
        ]
        services.exams_record(vacation=vacation, by=author, rows=rows, now=now)
    services.handover_write(
        vacation=vacation,
        by=author,
        text=HANDOVERS[index % len(HANDOVERS)],
        patient_refs=[f"DEMO-{index:02}0"],
        now=now,
    )
    services.day_close(
        vacation=vacation,
        by=by,
        consultations_count=consultations,
        no_exams=not prescribed,
        now=now,
    )


QUARANTINED_HL7 = (
    "MSH|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|DEMO|{stamp}||ORU^R01^ORU_R01|DEMO-Q-1|P|2.5|||||FRA|"
    "UNICODE UTF-8\r"
    "PID|1||DEMO-9999^^^DEMO^PI||TEST^PATIENT||1950|F\r"
    "ORC|RE|CMD-INCONNU-77^RELEVE|LAB-DEMO-1^SIL_BIO||CM\r"
    "OBR|1|CMD-INCONNU-77^RELEVE|LAB-DEMO-1^SIL_BIO|GLY^Glycémie à jeun^L|||{stamp}\r"
    "OBX|1|NM|15074-8^Glycémie^LN||7.9|mmol/L|4.1-5.9|H|||F\r"
)


LAB_MESSAGE = (
    "MSH|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|DEMO|{stamp}||ORU^R01^ORU_R01|{control}|P|2.5|||||FRA|"
    "UNICODE UTF-8\r"
    "PID|1||{patient}^^^DEMO^PI||||{birth_year}\r"
    "ORC|RE|{order}^RELEVE|LAB-{order}^SIL_BIO||CM\r"
    "OBR|1|{order}^RELEVE|LAB-{order}^SIL_BIO|PANEL^{description}^L|||{stamp}|||||||||||||||||F\r"
)
LAB_OBSERVATION = "OBX|{n}|NM|{code}^{name}^LN||{value}|{unit}|{range}|{flag}|||F\r"


def lab_message(exam: PendingExam, *, at: datetime) -> bytes:
    """The laboratory's HL7 v2 ORU^R01 message answering a biology exam of the demo."""
    stamp = timezone.localtime(at).strftime("%Y%m%d%H%M%S")
    observations = "".join(
        LAB_OBSERVATION.format(
            n=n, code=ANALYTES[name][0], name=name, value=value, unit=ANALYTES[name][1],
            range=ANALYTES[name][2], flag=flag,
        )
        for n, (name, value, flag) in enumerate(PANELS[exam.description], start=1)
    )  # fmt: skip
    header = LAB_MESSAGE.format(
        stamp=stamp,
        control=f"DEMO-{exam.order_number}",
        patient=exam.patient_ref,
        birth_year=exam.patient_birth_year or "",
        order=exam.order_number,
        description=exam.description,
    )
    return (header + observations).encode()


def _result_comes_back(exam: PendingExam, *, caller: User, at: datetime) -> PendingExam:
    """A biology result comes as the laboratory's message, matched on its order number; any
    other exam's report is entered by hand."""
    if exam.kind == ExamKind.BIOLOGY:
        ingest.ingest(
            fmt=IncomingResult.Format.HL7V2,
            body=lab_message(exam, at=at),
            content_type="application/hl7-v2",
            caller=caller,
            now=at,
        )
    else:
        services.exam_receive(
            exam=exam, by=caller, abnormal=False, result_summary=REPORTS[exam.description], now=at
        )
    exam.refresh_from_db()
    return exam


def _escalate_up_to(task: FollowUpTask, level: int, *, now: datetime) -> FollowUpTask:
    """Let time pass for `task` as the quarter-hourly `escalate_tasks` would have: each missed
    deadline moves it one level up, until `level` or until its deadline is still ahead."""
    task.refresh_from_db()
    while task.escalation_level < level and task.due_at + timedelta(minutes=15) <= now:
        services.escalate(task, now=task.due_at + timedelta(minutes=15))
        task.refresh_from_db()
    return task


def _review_task(exam: PendingExam) -> FollowUpTask:
    return exam.tasks.get(kind=FollowUpTask.Kind.REVIEW_RESULT)


@transaction.atomic
def seed(*, now: datetime | None = None) -> int:
    """Results and follow-up on the closed demo days, once (a world with results is kept)."""
    now = now or timezone.now()
    if FollowUpTask.objects.exists() or IncomingResult.objects.exists():
        return 0
    fates = {
        _order_number(day, offset): fate
        for day, prescribed in enumerate(DAYS, start=1)
        for offset, (_kind, _description, fate) in enumerate(prescribed or ())
    }
    exams = {
        fates[exam.order_number]: exam
        for exam in PendingExam.objects.filter(order_number__in=fates).select_related("site")
    }
    if not exams:
        return 0
    nurse = User.objects.get(email="infirmiere@demo.releve.fr")

    def staff_of(exam: PendingExam) -> User:
        """Who works the exam's site: its course nurse, else its territory manager."""
        return services.route(exam.site)[0] or nurse

    if exam := exams.get("overdue"):
        # A normal result never reviewed: its task went up to the territory manager, then to
        # the ARS, and is still overdue there.
        exam = _result_comes_back(exam, caller=staff_of(exam), at=now - timedelta(days=12))
        _escalate_up_to(_review_task(exam), FollowUpTask.Level.ARS, now=now)
    if exam := exams.get("closed"):
        exam = _result_comes_back(exam, caller=staff_of(exam), at=now - timedelta(days=8))
        services.exam_close(
            exam=exam,
            by=staff_of(exam),
            responsible="treating_doctor",
            # Elsewhere: the liaison letter is ready, its leg pending (the nurse's queue).
            treating_doctor_status="elsewhere",
            review_note="Résultat normal, transmis au médecin traitant.",
            dmp_deposited=True,
            sent_to_patient_space=True,
            sent_to_prescriber=True,
            now=now - timedelta(days=6),
        )
    if exam := exams.get("reviewed"):
        # Reviewed (its task done), the exam not closed yet.
        exam = _result_comes_back(exam, caller=staff_of(exam), at=now - timedelta(days=2))
        services.task_done(
            task=_review_task(exam),
            by=staff_of(exam),
            note="Résultat vu, à classer après appel du patient.",
            now=now - timedelta(days=1),
        )
    if exam := exams.get("cancelled"):
        services.exam_cancel(
            exam=exam, by=staff_of(exam), reason="Fait par le médecin traitant.", now=now
        )
    if exam := exams.get("urgent"):
        # Abnormal (potassium), received yesterday and not handled within 24 hours: escalated
        # to the territory manager, whose own deadline is still ahead.
        exam = _result_comes_back(exam, caller=staff_of(exam), at=now - timedelta(hours=30))
        _escalate_up_to(_review_task(exam), FollowUpTask.Level.TERRITORY, now=now)
    if exam := exams.get("question"):
        # Received this morning: the nurse asks dr.martin, who prescribed it.
        exam = _result_comes_back(exam, caller=staff_of(exam), at=now - timedelta(hours=3))
        task = _review_task(exam)
        services.contact_prescriber(
            task=task,
            by=task.assignee or nurse,
            question="Faut-il prévoir un contrôle avant la prochaine consultation de ce patient ?",
            now=now - timedelta(hours=2),
        )
    # The results still awaited past their date are chased; whatever is overdue now escalates,
    # as the scheduled jobs would have done.
    services.overdue_exams(now=now)
    services.escalate_tasks(now=now)
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
