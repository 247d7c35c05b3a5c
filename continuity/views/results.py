"""A received message exactly as it came ("Voir le message brut"), one click from its result."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_header_parameters
from django.views.decorators.http import require_safe

from continuity.audit import record_access
from continuity.models import IncomingResult, PendingExam
from continuity.views.common import _incoming_for, _render

# What a raw message is decoded with, after the charset its Content-Type declares: every byte
# decodes in cp1252's latin-1 fallback, so the page never fails on a message it stored.
_FALLBACK_CODECS = ("utf-8", "cp1252", "latin-1")


def raw_text(raw: bytes, content_type: str) -> str:
    """The stored bytes as text, segments one per line (HL7 ends them with a lone CR)."""
    declared = str(parse_header_parameters(content_type or "")[1].get("charset", "")).strip()
    for codec in (declared, *_FALLBACK_CODECS) if declared else _FALLBACK_CODECS:
        try:
            text = raw.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
        break
    else:  # latin-1 decodes anything: not reached
        text = raw.decode("latin-1", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _raw_of(incoming: IncomingResult) -> bytes:
    if incoming.message_id and not incoming.raw:
        return IncomingResult.objects.values_list("raw", flat=True).get(pk=incoming.message_id)
    return incoming.raw


@login_required
@require_safe
def incoming_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """Who reads a result's message is who reads the message on the exam or the quarantine:
    the staff and managers of the site it is filed at (404 for anyone else). Each reading is
    recorded, like every page showing patient data."""
    incoming = _incoming_for(request, pk)
    exam = (
        PendingExam.objects.visible_to(request.user).filter(pk=incoming.exam_id).first()
        if incoming.exam_id
        else None
    )
    record_access(request, "incoming_raw", object_id=incoming.pk)
    context = {
        "incoming": incoming,
        "exam": exam,
        # One order of a message answering several: the bytes are its message's, kept once.
        "raw": raw_text(bytes(_raw_of(incoming)), incoming.content_type),
    }
    return _render(request, "continuity/incoming_raw.html", context)
