"""The liaison letter to the patient's treating doctor (médecin traitant), as a PDF.

Issue 13 § 3: when the patient has a treating doctor outside the site, closing the exam
produces this letter — the result (said as `continuity.results` says it), what was done (the
review note, who took responsibility, the routing legs), the prescribing volunteer, and whom to
call at the site — ready to send through the site's secure messaging (MSSanté). Sending it is
the exam's `treating_doctor` leg (`ExamLeg`). Printed in French by `sites.pdf.render_pdf`.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils import timezone

from continuity.models import PendingExam
from continuity.results import read
from continuity.services import legs_shown
from sites.pdf import render_pdf


def has_letter(exam: PendingExam) -> bool:
    """A letter exists for an exam whose patient has a treating doctor elsewhere."""
    return exam.treating_doctor_status == PendingExam.TreatingDoctorStatus.ELSEWHERE


def secure_messaging_address(site) -> str:
    """The site's MSSanté address, "" when none is recorded. The data model has no such field
    yet (the sheet's readiness only says whether MSSanté is configured): the pages and the
    letter say it is missing."""
    return getattr(site, "mssante_address", "") or ""


def letter_context(exam: PendingExam) -> dict:
    site = exam.site
    return {
        "exam": exam,
        "site": site,
        "result_lines": read(exam.result_summary, "fr"),
        "legs": [leg for leg in legs_shown(exam) if leg.leg != "treating_doctor"],
        "prescriber": exam.prescriber.full_name,
        "closed_by": (exam.closed_by.get_full_name() or exam.closed_by.email)
        if exam.closed_by_id
        else "",
        "mssante": secure_messaging_address(site),
        "today": timezone.localdate(),
    }


def letter_pdf(exam: PendingExam) -> HttpResponse:
    """The letter as an inline PDF; 404 when the exam has none (the caller authorizes)."""
    if not has_letter(exam):
        raise Http404
    exam = (
        PendingExam.objects.select_related("site", "prescriber__user", "closed_by")
        .prefetch_related("legs__by")
        .get(pk=exam.pk)
    )
    pdf = render_pdf("continuity/pdf/liaison_letter.html", letter_context(exam))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="courrier-liaison-{exam.pk}.pdf"'
    return response
