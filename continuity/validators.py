"""Patient data stays minimal: a site reference, initials and a birth year — never an NIR."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A French social-security number (NIR): sex, birth year and month, department (2A/2B for
# Corsica), commune, order, optionally the two-digit key; spaces, dots or dashes allowed.
_SEP = r"[\s.\-]?"
NIR = re.compile(
    rf"(?<!\d)[1-478]{_SEP}\d{{2}}{_SEP}(?:0[1-9]|1[0-2]|[2-9]\d){_SEP}(?:\d{{2}}|2[ABab])"
    rf"{_SEP}\d{{3}}{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?(?!\d)"
)
INITIALS = re.compile(r"^[A-Z]{1,3}$")


def reject_nir(value: str) -> None:
    if value and NIR.search(str(value)):
        raise ValidationError(
            _(
                "This looks like a social-security number: never record one. Use the "
                "site's own patient reference."
            ),
            code="nir",
        )


def validate_initials(value: str) -> None:
    if not INITIALS.match(value or ""):
        raise ValidationError(
            _("Enter the patient's initials only: one to three capital letters (e.g. JD)."),
            code="initials",
        )


def validate_birth_year(value: int) -> None:
    if value is None or not 1900 <= value <= timezone.localdate().year:
        raise ValidationError(
            _("Enter a birth year between 1900 and this year."), code="birth_year"
        )
