"""Pages of continuity of care, under /suivi/ (the views live in `continuity.views`)."""

from __future__ import annotations

from continuity.views import urlpatterns

__all__ = ["urlpatterns"]
