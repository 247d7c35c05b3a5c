from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def luhn_is_valid(number: str) -> bool:
    """The Luhn checksum used by SIREN (9 digits) and RPPS (11 digits) numbers."""
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_siren(value: str) -> None:
    if len(value) != 9 or not value.isdigit():
        raise ValidationError(_("A SIREN number has exactly 9 digits."), code="invalid")
    if not luhn_is_valid(value):
        raise ValidationError(_("This SIREN number's check digit is wrong."), code="invalid")
