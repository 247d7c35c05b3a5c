"""The home page: the public landing page for visitors; once signed in, what needs *me*
today, one section per role (`reports.home`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from reports.home import home_sections


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home_public.html")
    now = timezone.now()
    sections = home_sections(request.user, today=timezone.localdate(now), now=now)
    return render(request, "reports/home.html", {"sections": sections, "now": now})
