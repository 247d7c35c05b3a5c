"""The public catalogue of host sites (no login): /lieux/."""

from __future__ import annotations

urlpatterns: list = []
