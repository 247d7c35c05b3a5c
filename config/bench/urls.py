"""The site's routes plus the floor, for the bench's server only (`config.bench.settings`)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path

from config.urls import *  # noqa: F403
from config.urls import urlpatterns as site_urlpatterns
from vacations.models import Vacation


def floor(request):
    """The floor: one indexed query (a primary-key lookup) through the same middleware."""
    first = Vacation.objects.filter(pk=1).values_list("pk", flat=True).first()
    return HttpResponse(f"floor {first}", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *site_urlpatterns]
