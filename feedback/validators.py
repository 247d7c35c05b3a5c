"""An incident names no patient: at most the site's own reference of the record."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from continuity.validators import reject_nir

# A site's record number: letters, digits and separators, with at least one digit (a name has
# none), 40 characters at most.
PATIENT_REF = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9\-_/.]{0,39}$")


def validate_patient_ref(value: str) -> None:
    """The site's reference of the patient's record (e.g. P-2031), never a name or an NIR."""
    if not value:
        return
    reject_nir(value)
    if not PATIENT_REF.match(value):
        raise ValidationError(
            _(
                "Enter the site's reference of the patient's record only (letters, digits and "
                "dashes, with at least one digit, e.g. P-2031): never a name."
            ),
            code="patient_ref",
        )
