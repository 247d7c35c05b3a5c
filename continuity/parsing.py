"""Parsing of incoming lab and radiology results (HL7 v2 ORU^R01 and FHIR R4 DiagnosticReport).

Pure functions: bytes and a Content-Type in, a `ParsedResult` or an `InvalidMessage` out. No
models, no database; the caller stores the raw message first, then matches on `order_numbers`.

Whatever the bytes, the only exception that leaves `parse_hl7` / `parse_fhir` is
`InvalidMessage`: the endpoints are open to laboratories' systems and the bodies are untrusted,
so every failure of json or fhir.resources is wrapped. The work is bounded too: a message that
would cost more than a few milliseconds of CPU (too many segments, separators, observations or
JSON nodes) is refused as `too_complex` before anything is split or validated. No text of a
`ParsedResult` holds a NUL character (PostgreSQL refuses it in text columns).
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import itertools
import json
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from decimal import Decimal
from typing import Any

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from pydantic import ValidationError

MAX_BYTES = 1_048_576  # 1 MB
MAX_SUMMARY = 2000
MAX_REPLAY_KEY = 255  # a longer natural key (absurd MSH-4/MSH-10) is hashed instead

# Bounds on the work one message may cost (each refusal is a 422 `too_complex`). Checked on the
# text with C-speed counts before any field is split: within them, a 1 MB message parses in a
# few milliseconds. A laboratory panel has tens of segments; a long report, a few hundred.
MAX_SEGMENTS = 2000
MAX_OBSERVATIONS = 1000  # OBX segments
MAX_SEPARATORS = (
    2000  # field, component, repetition, subcomponent and escape characters, per segment
)
MAX_ESCAPES = 20_000  # escape characters in the whole message
MAX_JSON_NODES = 5000  # objects, arrays and values of a FHIR resource (~150 observations)
# A batch (several HL7 messages, or a FHIR Bundle) is bounded as a whole by MAX_BYTES and by its
# number of messages; each message keeps the bounds above.
MAX_BATCH_MESSAGES = 100  # each message costs ~50-150 ms of matching, tasks and notices

HL7_CONTENT_TYPES = ("application/hl7-v2", "text/plain")
FHIR_CONTENT_TYPES = ("application/fhir+json", "application/json")

# HL7 table 0078 / FHIR v3-ObservationInterpretation codes that make a result need attention.
ABNORMAL_FLAGS = frozenset({"H", "L", "HH", "LL", "A", "AA"})

# Character sets we decode, by Python codec name (codecs.lookup(...).name). An allow-list: a
# Content-Type may name any codec, including non-text ones such as "rot13" or "zlib".
_ACCEPTED_CODECS = frozenset({"ascii", "utf-8", "iso8859-1", "iso8859-15", "cp1252"})

# MSH-18 (HL7 table 0211) -> Python codec.
_HL7_CHARSETS = {
    "ASCII": "ascii",
    "ISO IR6": "ascii",
    "8859/1": "latin-1",
    "ISO IR100": "latin-1",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
}

# OBX-5 and OBX-8 are read this far only: a summary line has no use for more.
_MAX_COMPONENTS = 10
_MAX_REPETITIONS = 20
# Fields are split this far only (the furthest read is OBR-25): the rest stays one string.
_MAX_FIELD = 30

_UTF8_BOM = b"\xef\xbb\xbf"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")

# HL7 table 0123 (OBR-25 result status) -> FHIR DiagnosticReport.status vocabulary, after the
# v2-to-FHIR concept map.
_HL7_RESULT_STATUS = {
    "O": "registered",
    "I": "registered",
    "S": "partial",
    "A": "partial",
    "R": "partial",
    "P": "preliminary",
    "F": "final",
    "C": "corrected",
    "X": "cancelled",
}
# HL7 table 0085 (OBX-11 observation status), used only when no OBR carries a status.
_HL7_OBSERVATION_STATUS = {
    "P": "preliminary",
    "R": "preliminary",
    "F": "final",
    "C": "corrected",
    "X": "cancelled",
    "D": "entered-in-error",
    "W": "entered-in-error",
}

FHIR_STATUSES = frozenset(
    {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
# "appended" (an addendum after the report was final) changes a report the doctor may have
# reviewed already, like "amended" and "corrected".
FHIR_AMENDED_STATUSES = frozenset({"amended", "corrected", "appended"})


class InvalidMessage(Exception):
    """The body is not a usable result message.

    `detail` is a short explanation for the sender, already translated (gettext); `code` is a
    stable machine-readable reason: empty, too_large, too_complex, content_type, charset,
    unparseable, invalid_resource, not_a_result, missing_segment or no_order_number.
    """

    def __init__(self, detail: str, *, code: str = "invalid") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


@dataclass(frozen=True)
class ParsedResult:
    replay_key: str  # the same message sent twice gives the same key
    order_numbers: tuple[str, ...]  # candidates, best first, non-empty, deduplicated
    patient_id: str  # "" when absent
    abnormal: bool
    summary: str  # "name: value unit [flags] (ref. range)" lines, at most MAX_SUMMARY chars
    status: str  # FHIR DiagnosticReport.status vocabulary: "final", "preliminary", ...
    amended: bool
    # A message answering several orders (repeated ORC/OBR groups, each with its OBX): one
    # result per order, in message order, each with its own numbers, results and flags (same
    # replay key and patient). Empty for a message about one order.
    orders: tuple[ParsedResult, ...] = ()


# --- Shared checks ---------------------------------------------------------------------------


def _check_envelope(body: bytes, content_type: str | None, accepted: tuple[str, ...]) -> str:
    """Check the size, the media type and the emptiness; return the declared charset or ""."""
    media_type, params = parse_header_parameters(content_type or "")
    if media_type.strip().lower() not in accepted:
        raise InvalidMessage(
            _("Unsupported content type %(type)s: send %(expected)s.")
            % {"type": repr((content_type or "")[:80]), "expected": " or ".join(accepted)},
            code="content_type",
        )
    if len(body) > MAX_BYTES:
        raise InvalidMessage(
            _("The message is larger than %(max)s bytes.") % {"max": MAX_BYTES},
            code="too_large",
        )
    if not body.strip():
        raise InvalidMessage(_("The message is empty."), code="empty")
    return str(params.get("charset", "")).strip()


def _codec(charset: str) -> str:
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = ""
    if name not in _ACCEPTED_CODECS:
        raise InvalidMessage(
            _("Unsupported character set %(charset)s.") % {"charset": repr(charset[:40])},
            code="charset",
        )
    return name


def _decode(body: bytes, codec: str) -> str:
    try:
        return body.decode(codec, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidMessage(
            _("The message is not valid %(charset)s text (byte %(position)s).")
            % {"charset": codec, "position": exc.start},
            code="charset",
        ) from exc


def _dedupe(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _summary(lines: Iterable[str]) -> str:
    """Join the non-empty lines, reading no further than needed (lines may be generated)."""
    kept: list[str] = []
    length = 0
    for line in lines:
        if line:
            kept.append(line)
            length += len(line) + 1
        if length > MAX_SUMMARY:
            break
    text = "\n".join(kept)
    if len(text) > MAX_SUMMARY:
        text = text[: MAX_SUMMARY - 1] + "…"
    return text


def _summary_line(name: str, value: str, unit: str, flags: str, reference: str) -> str:
    line = " ".join(part for part in (value, unit) if part)
    if flags:
        line = f"{line} [{flags}]" if line else f"[{flags}]"
    if reference:
        line = f"{line} (ref. {reference})"
    line = f"{name or '?'}: {line}".strip()
    # Values may carry HL7 formatting escapes (\.br\) or JSON newlines: one line per observation.
    return " ".join(line.split())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _no_order_number() -> InvalidMessage:
    return InvalidMessage(
        _("The message carries no order number: it cannot be matched to an exam."),
        code="no_order_number",
    )


# --- HL7 v2 ----------------------------------------------------------------------------------


def parse_hl7(body: bytes, content_type: str | None) -> ParsedResult:
    """Parse one HL7 v2 ORU^R01 message in ER7 encoding."""
    try:
        return _parse_hl7(body, content_type)
    except InvalidMessage:
        raise
    except Exception as exc:  # a reader bug on hostile input is still the sender's 422
        raise InvalidMessage(_("The HL7 message could not be read."), code="unparseable") from exc


def _parse_hl7(body: bytes, content_type: str | None) -> ParsedResult:
    declared = _check_envelope(body, content_type, HL7_CONTENT_TYPES)
    raw = body.strip()
    has_bom = raw.startswith(_UTF8_BOM)
    if has_bom:
        raw = raw[len(_UTF8_BOM) :]

    # The charset may be named inside the message (MSH-18): read the first segment as latin-1,
    # which decodes any byte, just to find the separators and that field.
    first_line = re.split(rb"[\r\n]", raw, maxsplit=1)[0].decode("latin-1")
    delimiters, msh_fields = _split_msh(first_line, raw)
    codec = _codec(declared or _msh18_codec(msh_fields, delimiters))
    if has_bom and codec != "utf-8":
        raise InvalidMessage(
            _("The message starts with a UTF-8 byte order mark but declares %(charset)s.")
            % {"charset": codec},
            code="charset",
        )
    # NUL is no HL7 text (and PostgreSQL refuses it in text columns): dropped. The raw bytes
    # are stored, as they came, by the caller.
    text = _decode(raw, codec).replace("\x00", "")

    # Segments end in \r; senders also use \n or \r\n, and blank lines.
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    segments_text = list(filter(str.strip, lines))  # C-speed, even over a million blank lines
    _check_hl7_complexity(text, segments_text, delimiters)
    for number, line in enumerate(segments_text, start=1):
        if not _SEGMENT_ID.fullmatch(line[:3]) or line[3:4] not in ("", delimiters.field):
            raise InvalidMessage(
                _("Line %(line)s is not an HL7 segment.") % {"line": number},
                code="unparseable",
            )
    if sum(line.startswith("MSH") for line in segments_text) > 1:
        raise InvalidMessage(
            _("Send one HL7 message per request (this body holds several MSH segments)."),
            code="unparseable",
        )

    message = _Hl7Message(segments_text, delimiters)
    msh = message.segments("MSH")[0]
    get = message.get

    message_type = (get(msh, 9).upper(), get(msh, 9, comp=2).upper())
    if message_type != ("ORU", "R01"):
        raise InvalidMessage(
            _("This is not a result message (ORU^R01) but %(type)s.")
            % {"type": "^".join(part for part in message_type if part)[:40]},
            code="not_a_result",
        )
    obrs = message.segments("OBR")
    if not obrs:
        raise InvalidMessage(
            _("The ORU^R01 message has no OBR segment (observation request)."),
            code="missing_segment",
        )
    obxs = message.segments("OBX")

    # Placer numbers (ORC-2, OBR-2) first, in message order; filler numbers (OBR-3) as fallback.
    placers = [get(segment, 2) for segment in message.segments("ORC", "OBR")]
    order_numbers = _dedupe(placers + [get(obr, 3) for obr in obrs])
    if not order_numbers:
        raise _no_order_number()

    pids = message.segments("PID")
    flags = [flag for obx in obxs for flag in message.repetitions(obx, 8)]
    obr_codes = [get(obr, 25).upper() for obr in obrs]
    obx_codes = [get(obx, 11).upper() for obx in obxs]

    # The replay key is built from the fields as sent (not unescaped), like the sender sees them.
    sending_facility = str(msh[4]) if len(msh) > 4 else ""
    control_id = str(msh[10]) if len(msh) > 10 else ""
    replay_key = f"hl7:{sending_facility}:{control_id.strip() or _sha256(body)}"
    if len(replay_key) > MAX_REPLAY_KEY:
        replay_key = f"hl7:{_sha256(replay_key.encode())}"

    patient_id = get(pids[0], 3) if pids else ""
    return ParsedResult(
        replay_key=replay_key,
        order_numbers=order_numbers,
        patient_id=patient_id,
        abnormal=any(flag.upper() in ABNORMAL_FLAGS for flag in flags),
        summary=_summary(message.observation_line(obx) for obx in obxs),
        status=_hl7_status(obr_codes, obx_codes),
        amended="C" in obr_codes or "C" in obx_codes,
        orders=_hl7_orders(message, replay_key=replay_key, patient_id=patient_id),
    )


def _hl7_orders(message: _Hl7Message, *, replay_key: str, patient_id: str) -> tuple:
    """One result per order of a message carrying several (ORC/OBR groups and their OBX).

    A group is an OBR (with the ORC just before it, if any) and the OBX that follow it. Groups
    with the same order number (a panel sent as several OBR) are one order. The message is not
    split (empty tuple) when it holds one order, when an OBX comes before any OBR, or when a
    group has no order number: then it is matched as a whole, as before.
    """
    get = message.get
    groups: dict[str, dict] = {}
    current, orc = None, None
    for segment in message.segments("ORC", "OBR", "OBX"):
        kind = segment[0]
        if kind == "ORC":
            orc = segment
        elif kind == "OBR":
            placers = [get(orc, 2)] if orc is not None else []
            numbers = _dedupe([*placers, get(segment, 2), get(segment, 3)])
            if not numbers:
                return ()
            current = groups.setdefault(numbers[0], {"numbers": [], "obrs": [], "obxs": []})
            current["numbers"].extend(numbers)
            current["obrs"].append(segment)
            orc = None
        elif current is None:
            return ()
        else:
            current["obxs"].append(segment)
    if len(groups) < 2:
        return ()
    orders = []
    for group in groups.values():
        obxs = group["obxs"]
        flags = [flag for obx in obxs for flag in message.repetitions(obx, 8)]
        obr_codes = [get(obr, 25).upper() for obr in group["obrs"]]
        obx_codes = [get(obx, 11).upper() for obx in obxs]
        orders.append(
            ParsedResult(
                replay_key=replay_key,
                order_numbers=_dedupe(group["numbers"]),
                patient_id=patient_id,
                abnormal=any(flag.upper() in ABNORMAL_FLAGS for flag in flags),
                summary=_summary(message.observation_line(obx) for obx in obxs),
                status=_hl7_status(obr_codes, obx_codes),
                amended="C" in obr_codes or "C" in obx_codes,
            )
        )
    return tuple(orders)


def _too_complex(detail: str) -> InvalidMessage:
    return InvalidMessage(detail, code="too_complex")


def _check_hl7_complexity(text: str, segments: list[str], delimiters: _Delimiters) -> None:
    """Refuse what would cost too much to read, counting before splitting anything."""
    if len(segments) > MAX_SEGMENTS:
        raise _too_complex(_("The message has more than %(max)s segments.") % {"max": MAX_SEGMENTS})
    if text.count(delimiters.escape) > MAX_ESCAPES:
        raise _too_complex(
            _("The message has more than %(max)s escape characters.") % {"max": MAX_ESCAPES}
        )
    separators = set(astuple(delimiters))
    observations = 0
    for number, line in enumerate(segments, start=1):
        if sum(line.count(separator) for separator in separators) > MAX_SEPARATORS:
            raise _too_complex(
                _("Segment %(line)s has more than %(max)s separators.")
                % {"line": number, "max": MAX_SEPARATORS}
            )
        observations += line.startswith("OBX")
    if observations > MAX_OBSERVATIONS:
        raise _too_complex(
            _("The message has more than %(max)s observations (OBX segments).")
            % {"max": MAX_OBSERVATIONS}
        )


@dataclass(frozen=True)
class _Delimiters:
    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str


def _split_msh(first_line: str, raw: bytes) -> tuple[_Delimiters, list[str]]:
    """Check the MSH segment's frame; return the delimiters and the raw MSH fields."""
    if not first_line.startswith("MSH"):
        if raw[:1] in (b"{", b"["):
            detail = _("This looks like JSON, not an HL7 v2 message (FHIR has its own endpoint).")
        else:
            detail = _("The message does not start with an MSH segment.")
        raise InvalidMessage(detail, code="unparseable")
    separator = first_line[3:4]
    if not separator or separator.isalnum() or separator.isspace() or not separator.isprintable():
        raise InvalidMessage(_("The MSH segment has no valid field separator."), code="unparseable")
    fields = first_line.split(separator)
    encoding = fields[1] if len(fields) > 1 else ""
    # MSH-2: component, repetition, escape, subcomponent (and, from v2.7, truncation).
    if (
        len(fields) < 3
        or not 4 <= len(encoding) <= 5
        or len(set(encoding + separator)) != len(encoding) + 1
        or any(char.isalnum() or char.isspace() or not char.isprintable() for char in encoding)
    ):
        raise InvalidMessage(
            _("The MSH segment has no valid encoding characters (MSH-2)."), code="unparseable"
        )
    # fields[0] is "MSH", fields[1] is MSH-2, so fields[n - 1] is MSH-n.
    if len(fields) < 9 or not fields[8].strip():
        raise InvalidMessage(
            _("The MSH segment is truncated: it has no message type (MSH-9)."),
            code="unparseable",
        )
    delimiters = _Delimiters(
        field=separator,
        component=encoding[0],
        repetition=encoding[1],
        escape=encoding[2],
        subcomponent=encoding[3],
    )
    return delimiters, fields


def _msh18_codec(fields: list[str], delimiters: _Delimiters) -> str:
    value = fields[17] if len(fields) > 17 else ""
    # MSH-18 repeats (alternate character sets); the first one is the message's default.
    value = value.split(delimiters.repetition)[0].split(delimiters.component)[0]
    value = value.strip().upper()
    if not value:
        return "utf-8"
    if value not in _HL7_CHARSETS:
        raise InvalidMessage(
            _("Unsupported character set in MSH-18: %(charset)s.") % {"charset": value[:40]},
            code="charset",
        )
    return _HL7_CHARSETS[value]


class _Hl7Message:
    """Field access over the segments of one message, split only as far as read.

    A segment is the list of its fields: segment[0] is the segment id and segment[n] is field n
    (MSH too: MSH-1, the field separator, is segment[1]). Fields are split up to `_MAX_FIELD`;
    repetitions and components are split when read, no further than the one asked for, and
    unescaped by our own `unescape` (which never expands anything: "\\.sk100000000\\" is
    no 100 MB of spaces).
    """

    def __init__(self, lines: list[str], delimiters: _Delimiters) -> None:
        self.lines = lines
        self.delimiters = delimiters

    def segments(self, *segment_ids: str) -> list[list[str]]:
        separator = self.delimiters.field
        found = []
        for line in self.lines:
            if line[:3] in segment_ids:
                fields = line.split(separator, _MAX_FIELD)
                if fields[0] == "MSH":
                    fields.insert(1, separator)
                found.append(fields)
        return found

    def _component(self, repetition: str, comp: int) -> str:
        """One component (its first subcomponent) of one repetition, unescaped; "" if absent."""
        components = repetition.split(self.delimiters.component, comp)
        if comp > len(components):
            return ""
        value = components[comp - 1].split(self.delimiters.subcomponent, 1)[0]
        return self.unescape(value).strip()

    def _repetitions(self, segment: list[str], field: int, limit: int) -> list[str]:
        if field >= len(segment):
            return []
        return segment[field].split(self.delimiters.repetition, limit)[:limit]

    def get(self, segment: list[str], field: int, *, rep: int = 1, comp: int = 1) -> str:
        """One component of one repetition of a field, unescaped; "" if absent."""
        repetitions = self._repetitions(segment, field, rep)
        if rep > len(repetitions):
            return ""
        return self._component(repetitions[rep - 1], comp)

    def repetitions(self, segment: list[str], field: int) -> list[str]:
        values = [
            self._component(repetition, 1)
            for repetition in self._repetitions(segment, field, _MAX_REPETITIONS)
        ]
        return [value for value in values if value]

    def components(self, repetition: str) -> list[str]:
        count = len(repetition.split(self.delimiters.component, _MAX_COMPONENTS))
        return [
            self._component(repetition, comp) for comp in range(1, min(count, _MAX_COMPONENTS) + 1)
        ]

    def unescape(self, value: str) -> str:
        escape = self.delimiters.escape
        out = []
        position = 0
        while (start := value.find(escape, position)) != -1:
            end = value.find(escape, start + 1)
            if end == -1:  # unterminated: keep it as it came
                break
            out.append(value[position:start])
            out.append(self._escape_sequence(value[start + 1 : end]))
            position = end + 1
        out.append(value[position:])
        return "".join(out)

    def _escape_sequence(self, sequence: str) -> str:
        delimiters = self.delimiters
        simple = {
            "F": delimiters.field,
            "S": delimiters.component,
            "R": delimiters.repetition,
            "T": delimiters.subcomponent,
            "E": delimiters.escape,
        }
        if sequence in simple:
            return simple[sequence]
        if sequence[:3] in (".br", ".sp", ".ce"):  # formatted text: one line per observation
            return " "
        if sequence[:1] == "X" and _HEX.fullmatch(sequence[1:]):
            decoded = bytes.fromhex(sequence[1:]).decode("latin-1")
            return "".join(char for char in decoded if char.isprintable())
        return ""  # highlighting, character set switches, unknown sequences

    def observation_line(self, obx: Any) -> str:
        name = self.get(obx, 3, comp=2) or self.get(obx, 3)
        unit = self.get(obx, 6) or self.get(obx, 6, comp=2)
        value_type = self.get(obx, 2).upper()
        values = []
        for repetition in self._repetitions(obx, 5, _MAX_REPETITIONS):
            parts = self.components(repetition)
            if value_type in ("CE", "CWE", "CNE"):  # code^text: show the text
                values.append(parts[1] if len(parts) > 1 and parts[1] else parts[0])
            elif value_type == "SN":  # comparator^number^separator^number: ">^10", "^1^:^128"
                values.append("".join(parts))
            else:
                values.append(" ".join(part for part in parts if part))
        value = ", ".join(value for value in values if value)
        flags = ",".join(self.repetitions(obx, 8))
        return _summary_line(name, value, unit, flags, self.get(obx, 7))


def _hl7_status(obr_codes: list[str], obx_codes: list[str]) -> str:
    statuses = [_HL7_RESULT_STATUS.get(code, "unknown") for code in obr_codes if code]
    if not statuses:
        statuses = [_HL7_OBSERVATION_STATUS.get(code, "unknown") for code in obx_codes if code]
    distinct = set(statuses)
    if not distinct:
        return "unknown"
    if "corrected" in distinct:
        return "corrected"
    if len(distinct) > 1:
        distinct.discard("cancelled")  # one cancelled order among others
    if len(distinct) == 1:
        return distinct.pop()
    return "partial"


# --- Batches ---------------------------------------------------------------------------------

# HL7 batch protocol envelope: file header/trailer, batch header/trailer.
# A segment that starts a message or belongs to the envelope, at a line's start.
_HL7_BOUNDARY = re.compile(rb"(?<![^\r\n])(MSH|FHS|BHS|BTS|FTS)(?![A-Za-z0-9])")
FHIR_BATCH_TYPES = frozenset({"batch", "collection"})


@dataclass(frozen=True)
class BatchPart:
    """One message of a batch: its own bytes, and why it is refused when it is not a message."""

    body: bytes
    error: InvalidMessage | None = None


def _too_many_messages(count: int) -> InvalidMessage:
    return _too_complex(
        _("The batch holds %(count)s messages: send at most %(max)s per request.")
        % {"count": count, "max": MAX_BATCH_MESSAGES}
    )


def _empty_batch() -> InvalidMessage:
    return InvalidMessage(_("The batch holds no message."), code="empty")


def split_hl7(body: bytes, content_type: str | None) -> list[BatchPart] | None:
    """The messages of an HL7 batch, in order; None when the body is a single message.

    A batch is a body with several MSH segments, or wrapped in FHS/BHS ... BTS/FTS (an envelope
    with one message inside is a batch of one). The envelope segments are dropped; each message
    runs from its MSH to the next MSH or envelope segment, as bytes exactly as sent. Lines found
    outside any message become a part of their own, which the parser then refuses. Raises
    `InvalidMessage` for the batch as a whole: no message at all, or too many. Segment starts
    are found by regular expression, at C speed: a million blank lines cost no Python loop.
    """
    try:
        _check_envelope(body, content_type, HL7_CONTENT_TYPES)
    except InvalidMessage:
        return None  # the single-message parser says what is wrong
    raw = body.lstrip()
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :].lstrip()
    heads = _HL7_BOUNDARY.findall(raw)
    messages = heads.count(b"MSH")
    if messages == len(heads) and messages < 2:
        return None
    if messages > MAX_BATCH_MESSAGES or len(heads) > MAX_BATCH_MESSAGES * 2 + 4:
        raise _too_many_messages(max(messages, len(heads)))
    starts = [match.start() for match in _HL7_BOUNDARY.finditer(raw)] + [len(raw)]
    chunks = [raw[: starts[0]]]  # lines before the first MSH or envelope segment, if any
    for start, end in itertools.pairwise(starts):
        piece = raw[start:end]
        if piece.startswith(b"MSH"):
            chunks.append(piece)
        else:  # an envelope segment: dropped, and what follows it up to the next boundary
            line_end = re.search(rb"[\r\n]|$", piece).end()
            chunks.append(piece[line_end:].lstrip(b"\r\n"))
    parts = [BatchPart(chunk) for chunk in chunks if chunk.strip()]
    if not parts:
        raise _empty_batch()
    if len(parts) > MAX_BATCH_MESSAGES:
        raise _too_many_messages(len(parts))
    return parts


def split_fhir(body: bytes, content_type: str | None) -> list[BatchPart] | None:
    """The DiagnosticReports of a FHIR Bundle (`batch` or `collection`), in entry order; None
    when the body is not a Bundle (the single-message parser reads it, or says what is wrong).

    Each part is the entry's `resource` exactly as sent (its bytes in the body). An entry that
    is not a DiagnosticReport is a part with its `error`. Raises `InvalidMessage` for the Bundle
    as a whole: another Bundle type, no entry, or too many.
    """
    try:
        declared = _check_envelope(body, content_type, FHIR_CONTENT_TYPES)
        codec = _codec(declared or "utf-8")
        text = _decode(body, "utf-8-sig" if codec == "utf-8" else codec)
        with _no_cycle_collection():
            data = json.loads(text)
    except (InvalidMessage, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        return None
    if data.get("type") not in FHIR_BATCH_TYPES:
        raise InvalidMessage(
            _("A Bundle of type %(type)s is not accepted: send a batch or a collection.")
            % {"type": repr(data.get("type"))[:40]},
            code="invalid_resource",
        )
    entries = data.get("entry")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise InvalidMessage(_("The Bundle's entry is not a list."), code="invalid_resource")
    if not entries:
        raise _empty_batch()
    if len(entries) > MAX_BATCH_MESSAGES:
        raise _too_many_messages(len(entries))
    encoding = "utf-8" if codec == "utf-8" else codec
    spans = _entry_resource_spans(text)
    parts = []
    for number, (entry, span) in enumerate(zip(entries, spans, strict=True), start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        piece = text[span[0] : span[1]] if span else json.dumps(entry)
        error = None
        if not isinstance(resource, dict) or resource.get("resourceType") != "DiagnosticReport":
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            error = InvalidMessage(
                _("Entry %(number)s is not a result message (DiagnosticReport) but %(type)s.")
                % {"number": number, "type": repr(kind)[:40] if kind else _("no resource")},
                code="not_a_result",
            )
        parts.append(BatchPart(piece.encode(encoding, errors="replace"), error))
    return parts


def _entry_resource_spans(text: str) -> list[tuple[int, int] | None]:
    """Where each `entry[i].resource` lies in the Bundle's text (None for an entry without one).

    The text is valid JSON (already loaded): walked with the decoder's own scanner, keeping the
    last of duplicated keys, as `json.loads` does.
    """
    decoder = json.JSONDecoder()
    whitespace = re.compile(r"[ \t\n\r]*")

    def skip(position: int) -> int:
        return whitespace.match(text, position).end()

    def members(start: int) -> dict[str, tuple[int, int]]:
        """The spans of an object's values, by key; `start` is at its "{"."""
        spans: dict[str, tuple[int, int]] = {}
        position = skip(start + 1)
        while text[position] != "}":
            key, position = decoder.raw_decode(text, position)
            position = skip(skip(position) + 1)  # the ":"
            with _no_cycle_collection():
                _value, end = decoder.raw_decode(text, position)
            spans[key] = (position, end)
            position = skip(end)
            if text[position] == ",":
                position = skip(position + 1)
        return spans

    def elements(start: int) -> list[tuple[int, int]]:
        spans = []
        position = skip(start + 1)
        while text[position] != "]":
            with _no_cycle_collection():
                _value, end = decoder.raw_decode(text, position)
            spans.append((position, end))
            position = skip(end)
            if text[position] == ",":
                position = skip(position + 1)
        return spans

    entry = members(skip(1 if text.startswith("\ufeff") else 0))["entry"]
    found: list[tuple[int, int] | None] = []
    for start, _end in elements(entry[0]):
        resource = members(start).get("resource") if text[start] == "{" else None
        found.append(resource)
    return found


# --- FHIR ------------------------------------------------------------------------------------


def parse_fhir(body: bytes, content_type: str | None) -> ParsedResult:
    """Parse one FHIR R4 DiagnosticReport in JSON."""
    try:
        return _parse_fhir(body, content_type)
    except InvalidMessage:
        raise
    except Exception as exc:  # fhir.resources raises KeyError, RecursionError... on odd input
        raise InvalidMessage(
            _("The FHIR resource could not be read."), code="invalid_resource"
        ) from exc


def _parse_fhir(body: bytes, content_type: str | None) -> ParsedResult:
    declared = _check_envelope(body, content_type, FHIR_CONTENT_TYPES)
    codec = _codec(declared or "utf-8")
    text = _decode(body, "utf-8-sig" if codec == "utf-8" else codec)
    try:
        with _no_cycle_collection():
            data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidMessage(_("The body is not valid JSON."), code="unparseable") from exc
    _check_json_complexity(data)
    if not isinstance(data, dict):
        raise InvalidMessage(
            _("The body is not a FHIR resource (expected a JSON object)."), code="unparseable"
        )
    resource_type = data.get("resourceType")
    if resource_type != "DiagnosticReport":
        raise InvalidMessage(
            _("This is not a result message (DiagnosticReport) but %(type)s.")
            % {"type": repr(resource_type)[:40] if resource_type else _("no resourceType")},
            code="not_a_result",
        )
    # fhir.resources 8 defaults to R5 and ships R4B (4.3.0) and STU3, no R4. R4B is R4 plus a
    # few new resources; DiagnosticReport and Observation read R4 documents the same way.
    # Imported only now: a body refused by the checks above costs no import.
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    try:
        with _no_cycle_collection():
            report = DiagnosticReport.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidMessage(_fhir_errors(exc), code="invalid_resource") from exc
    if report.status not in FHIR_STATUSES:
        raise InvalidMessage(
            _("Unknown DiagnosticReport status %(status)s.") % {"status": repr(report.status)[:40]},
            code="invalid_resource",
        )

    contained = {resource.id: resource for resource in report.contained or [] if resource.id}
    numbers = [identifier.value or "" for identifier in report.identifier or []] + [
        number for reference in report.basedOn or [] for number in _based_on(reference, contained)
    ]
    order_numbers = _dedupe([_no_nul(number).strip() for number in numbers])
    if not order_numbers:
        raise _no_order_number()

    observations = _observations(report, contained)
    codes = [
        coding.code or ""
        for observation in observations
        for concept in observation.interpretation or []
        for coding in concept.coding or []
    ] + [
        coding.code or ""
        for concept in report.conclusionCode or []
        for coding in concept.coding or []
    ]
    conclusion = " ".join((report.conclusion or "").split())
    lines = itertools.chain([conclusion], map(_fhir_observation_line, observations))

    return ParsedResult(
        replay_key=f"fhir:{_sha256(body)}",
        order_numbers=order_numbers,
        patient_id=_no_nul(_fhir_patient_id(report, contained)),
        abnormal=any(code.strip().upper() in ABNORMAL_FLAGS for code in codes),
        summary=_summary(map(_no_nul, lines)),
        status=report.status,
        amended=report.status in FHIR_AMENDED_STATUSES,
    )


def _no_nul(text: str) -> str:
    """JSON may carry "\\u0000": no text of ours keeps it (PostgreSQL refuses it)."""
    return text.replace("\x00", "")


@contextmanager
def _no_cycle_collection():
    """A megabyte of JSON allocates tens of thousands of containers: each allocation burst would
    trigger the cycle collector over the whole process (3/4 of the parse time). Nothing here
    makes cycles; reference counting frees the rest."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_json_complexity(data: Any) -> None:
    """Refuse a document with more nodes than a report needs, before validating it (validation
    costs 10 to 20 µs a node: 30,000 identifiers would be a second of CPU)."""
    pending, count = [data], 0
    while pending:
        node = pending.pop()
        count += 1
        if count > MAX_JSON_NODES:
            raise _too_complex(
                _("The resource has more than %(max)s elements.") % {"max": MAX_JSON_NODES}
            )
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def _fhir_errors(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": ""}
    where = ".".join(str(part) for part in first.get("loc", ())) or "DiagnosticReport"
    detail = " ".join(str(first.get("msg", "")).split())[:160]
    if len(errors) > 1:
        return _("Invalid DiagnosticReport: %(where)s: %(detail)s (and %(more)s more).") % {
            "where": where[:80],
            "detail": detail,
            "more": len(errors) - 1,
        }
    return _("Invalid DiagnosticReport: %(where)s: %(detail)s") % {
        "where": where[:80],
        "detail": detail,
    }


def _local(reference: Any, contained: dict[str, Any], resource_type: str) -> Any | None:
    """The contained resource of that type a "#id" reference points to, or None."""
    target = (getattr(reference, "reference", None) or "") if reference else ""
    if not target.startswith("#"):
        return None
    resource = contained.get(target[1:])
    if resource is None or resource.get_resource_type() != resource_type:
        return None
    return resource


def _based_on(reference: Any, contained: dict[str, Any]) -> list[str]:
    numbers = []
    if reference.identifier is not None:
        numbers.append((reference.identifier.value or "").strip())
    request = _local(reference, contained, "ServiceRequest")
    if request is not None:
        numbers += [(identifier.value or "").strip() for identifier in request.identifier or []]
    return numbers


def _observations(report: Any, contained: dict[str, Any]) -> list[Any]:
    """Contained Observations: those listed in `result` first, in order, then the others."""
    listed = (_local(reference, contained, "Observation") for reference in report.result or [])
    others = (r for r in report.contained or [] if r.get_resource_type() == "Observation")
    observations: dict[int, Any] = {}  # by identity: two results may look alike
    for observation in itertools.chain(listed, others):
        if observation is not None:
            observations.setdefault(id(observation), observation)
    return list(observations.values())


def _concept_text(concept: Any) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text.strip()
    for coding in concept.coding or []:
        if coding.display or coding.code:
            return (coding.display or coding.code).strip()
    return ""


def _number(value: Decimal | float | int) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _fhir_observation_line(observation: Any) -> str:
    value, unit = "", ""
    if observation.valueQuantity is not None:
        quantity = observation.valueQuantity
        comparator = quantity.comparator or ""
        if quantity.value is not None:
            value = comparator + _number(quantity.value)
        unit = quantity.unit or quantity.code or ""
    elif observation.valueCodeableConcept is not None:
        value = _concept_text(observation.valueCodeableConcept)
    elif observation.valueString is not None:
        value = observation.valueString
    elif observation.valueInteger is not None:
        value = str(observation.valueInteger)
    elif observation.valueBoolean is not None:
        value = str(observation.valueBoolean).lower()
    flags = [
        coding.code or ""
        for concept in observation.interpretation or []
        for coding in concept.coding or []
    ]
    return _summary_line(
        _concept_text(observation.code),
        value,
        unit,
        ",".join(flag for flag in flags if flag),
        _fhir_reference_range(observation),
    )


def _fhir_reference_range(observation: Any) -> str:
    for reference_range in observation.referenceRange or []:
        if reference_range.text:
            return reference_range.text
        low, high = reference_range.low, reference_range.high
        if (
            low is not None
            and low.value is not None
            and high is not None
            and high.value is not None
        ):
            return f"{_number(low.value)}-{_number(high.value)}"
    return ""


def _fhir_patient_id(report: Any, contained: dict[str, Any]) -> str:
    subject = report.subject
    if subject is None:
        return ""
    if subject.identifier is not None and subject.identifier.value:
        return subject.identifier.value.strip()
    patient = _local(subject, contained, "Patient")
    if patient is not None:
        for identifier in patient.identifier or []:
            if identifier.value:
                return identifier.value.strip()
    return ""
