"""Who displayed patient references: one `AccessRecord` per list or page shown (DESIGN.md)."""

from __future__ import annotations

from continuity.models import AccessRecord


def record_access(request, what: str, *, count: int = 0, object_id: object = "") -> None:
    """Record that `request.user` was shown `what` (`count` rows, or the object `object_id`)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    AccessRecord.objects.create(
        user=user,
        what=what[:100],
        object_id=str(object_id or "")[:40],
        count=count,
        path=request.get_full_path()[:300],
    )
