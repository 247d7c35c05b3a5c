from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sites.validators import luhn_is_valid


def validate_rpps(value: str) -> None:
    """RPPS: 11 digits, the last one a Luhn check digit."""
    if len(value) != 11 or not value.isdigit():
        raise ValidationError(_("An RPPS number has exactly 11 digits."), code="invalid")
    if not luhn_is_valid(value):
        raise ValidationError(
            _("This RPPS number's check digit is wrong: check it on your CPS card."),
            code="invalid",
        )


def validate_mss_address(value: str) -> None:
    """MSSanté addresses live in the secure health domains (…mssante.fr)."""
    domain = value.rsplit("@", 1)[-1].lower()
    if not domain.endswith("mssante.fr"):
        raise ValidationError(
            _("An MSSanté address ends with mssante.fr (e.g. jean.dupont@medecin.mssante.fr)."),
            code="invalid",
        )
