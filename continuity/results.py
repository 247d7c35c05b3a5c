"""Results for humans: `Potassium : 6,4 mmol/L — très élevé (réf. 3,5–5,0)`.

A result reaches the pages as its summary, one line per observation, as `continuity.parsing`
writes it from an HL7 v2 OBX or a FHIR Observation ("Potassium: 6.4 mmol/L [HH] (ref.
3.5-5.0)"), or as a person typed it by hand ("Potassium 5,9 mmol/L [H]"). `read` turns each
line back into an `Observation` (or keeps it as plain text when it is none); `describe` says
one in the reader's language: decimals as that language writes them, the abnormal flag
(HL7 table 0078, FHIR v3 ObservationInterpretation) spelled out, the reference range with an
en dash, and a severity that the pages show as a badge with its words (never colour alone).

One formatter for every page that shows a result (the exam, the task, the quarantine, the
prescriber's follow-ups): they all go through `{% result_lines %}` (continuity_results tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext_lazy

NORMAL, ABNORMAL, CRITICAL = "normal", "abnormal", "critical"
_RANK = {"": 0, NORMAL: 1, ABNORMAL: 2, CRITICAL: 3}

# Flag code -> (words, severity). HL7 v2 table 0078 and FHIR v3-ObservationInterpretation
# share H, HH, L, LL, A, AA and N; FHIR adds HU/LU ("significantly" high/low), both add the
# off-scale, qualitative and susceptibility codes. Codes are matched upper-cased.
FLAGS: dict[str, tuple[object, str]] = {
    "N": (pgettext_lazy("lab result flag", "normal"), NORMAL),
    "H": (pgettext_lazy("lab result flag", "high"), ABNORMAL),
    "L": (pgettext_lazy("lab result flag", "low"), ABNORMAL),
    "A": (pgettext_lazy("lab result flag", "abnormal"), ABNORMAL),
    "HH": (pgettext_lazy("lab result flag", "very high"), CRITICAL),
    "LL": (pgettext_lazy("lab result flag", "very low"), CRITICAL),
    "AA": (pgettext_lazy("lab result flag", "very abnormal"), CRITICAL),
    "HU": (pgettext_lazy("lab result flag", "very high"), CRITICAL),
    "LU": (pgettext_lazy("lab result flag", "very low"), CRITICAL),
    ">": (pgettext_lazy("lab result flag", "above the measurable range"), ABNORMAL),
    "<": (pgettext_lazy("lab result flag", "below the measurable range"), ABNORMAL),
    "POS": (pgettext_lazy("lab result flag", "positive"), ABNORMAL),
    "NEG": (pgettext_lazy("lab result flag", "negative"), NORMAL),
    "DET": (pgettext_lazy("lab result flag", "detected"), ABNORMAL),
    "ND": (pgettext_lazy("lab result flag", "not detected"), NORMAL),
    "IND": (pgettext_lazy("lab result flag", "indeterminate"), ABNORMAL),
    "E": (pgettext_lazy("lab result flag", "equivocal"), ABNORMAL),
    "U": (pgettext_lazy("lab result flag", "significant rise"), ABNORMAL),
    "D": (pgettext_lazy("lab result flag", "significant fall"), ABNORMAL),
    "B": (pgettext_lazy("lab result flag", "better"), NORMAL),
    "W": (pgettext_lazy("lab result flag", "worse"), ABNORMAL),
    "S": (pgettext_lazy("lab result flag", "susceptible"), NORMAL),
    "I": (pgettext_lazy("lab result flag", "intermediate"), ABNORMAL),
    "R": (pgettext_lazy("lab result flag", "resistant"), ABNORMAL),
}

_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)(?![\w.,]*\d)")
_LEADING_NUMBER = re.compile(r"^([<>≤≥]=?\s?)?(\d+(?:[.,]\d+)?)(?=\s|$)")
_REFERENCE = re.compile(r"\s*\((?:ref|réf)\.?\s*(?P<reference>[^()]*)\)\s*$", re.IGNORECASE)
_FLAGS = re.compile(r"\s*\[(?P<flags>[^\[\]]*)\]\s*$")
# "Name value unit [flags]", typed by hand without a colon: the name is what comes before the
# number. Only with flags: free text ("Contrôle dans 3 mois") is no observation.
_NAME_THEN_NUMBER = re.compile(r"^(?P<name>[^\d<>≤≥:]*[^\d\s<>≤≥:])\s+(?P<rest>[<>≤≥]?=?\s?\d.*)$")
_RANGE_DASH = re.compile(r"(\d)\s*-\s*(\d)")


@dataclass(frozen=True)
class Observation:
    """One line of a result, as sent: "6.4", "mmol/L", ("HH",), "3.5-5.0"."""

    name: str
    value: str
    unit: str = ""
    flags: tuple[str, ...] = ()
    reference: str = ""

    @property
    def severity(self) -> str:
        """The worst of its flags: "", normal, abnormal or critical."""
        worst = ""
        for flag in self.flags:
            severity = FLAGS.get(flag.upper(), ("", ABNORMAL))[1]
            if _RANK[severity] > _RANK[worst]:
                worst = severity
        return worst


@dataclass(frozen=True)
class Described:
    """An observation said in one language: its pieces, for the text and for the page."""

    name: str
    value: str  # the value and its unit, decimals localised
    flag: str  # the flags in words, "" when none
    reference: str  # "réf. 3,5–5,0", "" when none
    severity: str

    @property
    def highlighted(self) -> bool:
        return self.severity in (ABNORMAL, CRITICAL)

    @property
    def text(self) -> str:
        return _compose(self, lambda piece, part: piece, lambda pattern, values: pattern % values)

    @property
    def html(self) -> SafeString:
        """The same words, the value in bold and an abnormal flag in a DSFR badge."""

        def mark(piece: str, part: str) -> str:
            if part == "value" and self.highlighted:
                return format_html("<strong>{}</strong>", piece)
            if part == "flag" and self.highlighted:
                tone = "error" if self.severity == CRITICAL else "warning"
                return format_html(
                    '<span class="fr-badge fr-badge--sm fr-badge--{} releve-flag"'
                    ' data-severity="{}">{}</span>',
                    tone,
                    self.severity,
                    piece,
                )
            return conditional_escape(piece)

        return _compose(self, mark, _fill_html)

    def __str__(self) -> str:
        return self.text


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _fill_html(pattern: str, values: dict) -> SafeString:
    """`pattern % values` for a page: the pattern's own text escaped, the values as they are
    (each already escaped or safe)."""
    parts = _PLACEHOLDER.split(pattern)
    pieces = [values[part] if index % 2 else part for index, part in enumerate(parts)]
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def _compose(described: Described, mark, fill):
    """The one sentence pattern, for the text and for the page (the patterns are translated:
    French puts a non-breaking space before the colon)."""
    line = fill(
        gettext("%(name)s: %(value)s"),
        {"name": mark(described.name, "name"), "value": mark(described.value, "value")},
    )
    if described.flag:
        line = fill(
            gettext("%(line)s — %(flag)s"), {"line": line, "flag": mark(described.flag, "flag")}
        )
    if described.reference:
        line = fill(
            "%(line)s (%(reference)s)",
            {"line": line, "reference": mark(described.reference, "reference")},
        )
    return line


def localize_number(text: str) -> str:
    """A number as the active language writes it ("6.4" → "6,4" in French); `text` unchanged
    when it is no number. The sender's precision is kept ("5.0" stays "5,0")."""
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    return number_format(number, use_l10n=True)


def _localize_numbers(text: str) -> str:
    return _NUMBER.sub(lambda match: localize_number(match.group(1)), text)


def _value(observation: Observation) -> str:
    value = observation.value.strip()
    match = _LEADING_NUMBER.match(value)
    if match:
        comparator = (match.group(1) or "").strip()
        number = localize_number(match.group(2))
        value = f"{comparator} {number}".strip() + value[match.end() :]
    return " ".join(part for part in (value, observation.unit.strip()) if part)


def _reference(reference: str) -> str:
    reference = reference.strip()
    if not reference:
        return ""
    reference = _RANGE_DASH.sub(lambda match: f"{match.group(1)}–{match.group(2)}", reference)
    return gettext("ref. %(range)s") % {"range": _localize_numbers(reference)}


def flag_words(code: str) -> str:
    """A flag in words ("HH" → "very high"); an unknown code as it came."""
    known = FLAGS.get(code.strip().upper())
    return str(known[0]) if known else code.strip()


def describe(observation: Observation, language: str | None = None) -> Described:
    """`observation` in `language` (the active one by default)."""
    with translation.override(language or translation.get_language()):
        flags = [flag_words(code) for code in observation.flags if code.strip()]
        return Described(
            name=observation.name or "?",
            value=_value(observation) or "—",
            flag=", ".join(dict.fromkeys(flags)),
            reference=_reference(observation.reference),
            severity=observation.severity,
        )


def read_line(line: str) -> Observation | None:
    """One summary line as an observation, or None when it is plain text (a conclusion)."""
    rest = " ".join(line.split())
    reference, flags = "", ()
    match = _REFERENCE.search(rest)
    if match:
        reference, rest = match.group("reference").strip(), rest[: match.start()]
    match = _FLAGS.search(rest)
    if match:
        flags = tuple(code.strip() for code in match.group("flags").split(",") if code.strip())
        rest = rest[: match.start()]
    name, separator, value = rest.partition(": ")
    if not separator:
        if rest.endswith(":"):
            name, value = rest[:-1], ""
        elif flags and (match := _NAME_THEN_NUMBER.match(rest)) is not None:
            name, value = match.group("name"), match.group("rest")
        elif flags or reference:
            name, value = rest, ""
        else:
            return None
    name, value = name.strip(), value.strip()
    if not name:
        return None
    unit = ""
    number = _LEADING_NUMBER.match(value)
    if number and value[number.end() :].strip():
        value, unit = value[: number.end()], value[number.end() :].strip()
    return Observation(name=name, value=value, unit=unit, flags=flags, reference=reference)


@dataclass(frozen=True)
class Line:
    """One line of a summary for a page: an observation said, or plain text."""

    text: str
    described: Described | None = None


def read(summary: str, language: str | None = None) -> list[Line]:
    """Every non-empty line of `summary`, each said in `language` when it is an observation."""
    lines = []
    for raw in (summary or "").splitlines():
        if not raw.strip():
            continue
        observation = read_line(raw)
        if observation is None:
            lines.append(Line(text=" ".join(raw.split())))
        else:
            described = describe(observation, language)
            lines.append(Line(text=described.text, described=described))
    return lines
