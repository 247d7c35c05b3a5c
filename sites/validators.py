from __future__ import annotations

import re

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


POSTAL_CODE = re.compile(r"^\d{5}$")
# French numbers: 10 digits starting with 0 (spaces, dots or dashes between pairs allowed), or
# the international form +33 followed by 9 digits.
PHONE = re.compile(r"^(?:0|\+33 ?)[1-9](?:[ .-]?\d{2}){4}$")
FINESS = re.compile(r"^(?:\d{2}|2[AB])\d{7}$")


def validate_postal_code(value: str) -> None:
    if not POSTAL_CODE.match(value):
        raise ValidationError(_("A postal code has exactly 5 digits."), code="invalid")


def validate_phone(value: str) -> None:
    if not PHONE.match(value.strip()):
        raise ValidationError(
            _("Enter a French phone number, e.g. 02 48 61 23 45 or +33 2 48 61 23 45."),
            code="invalid",
        )


def validate_finess(value: str) -> None:
    if not FINESS.match(value.upper()):
        raise ValidationError(
            _(
                "A FINESS number has 9 characters: the department (2 digits, 2A or 2B) "
                "then 7 digits."
            ),
            code="invalid",
        )
