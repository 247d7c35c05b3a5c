from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from continuity.parsing import MAX_BYTES, InvalidMessage, ParsedResult, parse_fhir, parse_hl7

SAMPLES = Path(__file__).parent / "samples"
REPO = Path(__file__).resolve().parents[2]
HL7 = "application/hl7-v2"
FHIR = "application/fhir+json"


@pytest.fixture(autouse=True)
def _english():
    """Details are asserted in the source language; French comes from the catalogue."""
    with translation.override("en"):
        yield


def hl7_sample(name: str) -> bytes:
    """The samples keep one segment per line to be readable; on the wire segments end in \\r."""
    return (SAMPLES / name).read_bytes().replace(b"\n", b"\r")


def fhir_sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def fhir_resource(name: str) -> dict:
    return json.loads(fhir_sample(name))


def refused(parse, body: bytes, content_type: str | None) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        parse(body, content_type)
    assert caught.value.detail
    assert str(caught.value) == caught.value.detail
    return caught.value


# --- HL7 v2 ----------------------------------------------------------------------------------


def test_it_reads_an_oru_with_several_normal_results():
    result = parse_hl7(hl7_sample("oru_normal_panel.hl7"), HL7)

    assert result == ParsedResult(
        replay_key="hl7:LBM_BERRY^1.2.250.1.213.1.4.2^ISO:MSG-20261120-0001",
        order_numbers=("CMD-2026-000142", "LAB-26-118734"),
        patient_id="MSP-00421",
        abnormal=False,
        summary=(
            "Sodium: 139 mmol/L [N] (ref. 136-145)\n"
            "Potassium: 4.2 mmol/L [N] (ref. 3.5-5.1)\n"
            "Chlore: 102 mmol/L [N] (ref. 98-107)\n"
            "Créatinine: 78 µmol/L [N] (ref. 45-84)\n"
            "DFG (CKD-EPI): 74 mL/min/1.73m2 [N] (ref. >60)"
        ),
        status="final",
        amended=False,
    )


def test_it_flags_a_high_and_a_critically_low_result():
    result = parse_hl7(hl7_sample("oru_abnormal_flags.hl7"), HL7)

    assert result.abnormal is True
    assert result.order_numbers == ("CMD-2026-000145", "LAB-26-118790")
    assert result.patient_id == "MSP-00388"
    assert result.summary.splitlines() == [
        "Sodium: 137 mmol/L [N] (ref. 136-145)",
        "Potassium: 5.9 mmol/L [H] (ref. 3.5-5.1)",
        "Glycémie: 2.1 mmol/L [LL] (ref. 4.1-5.9)",
    ]
    assert (result.status, result.amended) == ("final", False)


@pytest.mark.parametrize("flag", ["H", "L", "HH", "LL", "A", "AA", "N~H", "h"])
def test_it_counts_each_abnormal_flag(flag):
    body = hl7_sample("oru_normal_panel.hl7").replace(b"|136-145|N|", f"|136-145|{flag}|".encode())

    assert parse_hl7(body, HL7).abnormal is True


@pytest.mark.parametrize("flag", ["N", "", "<", "S", "HU"])
def test_it_does_not_count_other_flags(flag):
    body = hl7_sample("oru_normal_panel.hl7").replace(b"|136-145|N|", f"|136-145|{flag}|".encode())

    assert parse_hl7(body, HL7).abnormal is False


def test_it_gathers_order_numbers_from_every_order_group():
    result = parse_hl7(hl7_sample("oru_two_orders.hl7"), HL7)

    # Placer numbers first, in message order, then the laboratory's filler numbers.
    assert result.order_numbers == (
        "CMD-2026-000150",
        "CMD-2026-000151",
        "LAB-26-119001",
        "LAB-26-119002",
    )
    assert result.abnormal is True  # the HbA1c of the first group
    assert len(result.summary.splitlines()) == 4


def test_it_takes_the_placer_number_from_orc_when_obr_has_none():
    body = hl7_sample("oru_normal_panel.hl7").replace(b"OBR|1|CMD-2026-000142^RELEVE|", b"OBR|1||")

    assert parse_hl7(body, HL7).order_numbers == ("CMD-2026-000142", "LAB-26-118734")


def test_it_falls_back_to_the_filler_number_without_orc_or_placer():
    result = parse_hl7(hl7_sample("oru_radiology_filler_only.hl7"), HL7)

    assert result.order_numbers == ("RX-2026-77812",)
    assert result.patient_id == "MSP-00502"
    assert result.replay_key == "hl7:CIM_BOURGES:RIS-5521873"
    # \.br\ (a line break inside the report text) is unescaped: one line per OBX still.
    assert result.summary.splitlines() == [
        "Indication: Toux persistante depuis 3 semaines.",
        "Résultat: Pas de foyer parenchymateux. Culs-de-sac pleuraux libres.",
        "Conclusion: Radiographie thoracique sans anomalie.",
    ]


def test_it_refuses_a_result_without_any_order_number():
    body = hl7_sample("oru_radiology_filler_only.hl7").replace(b"RX-2026-77812^RIS_IMAGERIE", b"")

    assert refused(parse_hl7, body, HL7).code == "no_order_number"


def test_it_reports_a_corrected_result_as_amended():
    result = parse_hl7(hl7_sample("oru_corrected.hl7"), HL7)

    assert (result.status, result.amended) == ("corrected", True)
    assert result.order_numbers == ("CMD-2026-000145", "LAB-26-118790")
    assert result.abnormal is False


def test_it_marks_a_single_corrected_observation_as_amended():
    body = hl7_sample("oru_normal_panel.hl7").replace(b"|N|||F|||", b"|N|||C|||", 1)

    result = parse_hl7(body, HL7)

    assert (result.status, result.amended) == ("final", True)


@pytest.mark.parametrize(
    ("code", "status"),
    [("P", "preliminary"), ("X", "cancelled"), ("A", "partial"), ("", "final"), ("?", "unknown")],
)
def test_it_normalises_the_result_status(code, status):
    body = hl7_sample("oru_normal_panel.hl7").replace(b"||CH|F", f"||CH|{code}".encode())

    result = parse_hl7(body, HL7)

    # Without OBR-25 the observations' status (OBX-11, all "F" here) decides.
    assert (result.status, result.amended) == (status, False)


def test_it_refuses_an_oru_without_obr():
    error = refused(parse_hl7, hl7_sample("oru_missing_obr.hl7"), HL7)

    assert error.code == "missing_segment"
    assert "OBR" in error.detail


def test_it_refuses_an_admission_message():
    error = refused(parse_hl7, hl7_sample("adt_a01.hl7"), HL7)

    assert error.code == "not_a_result"
    assert error.detail == "This is not a result message (ORU^R01) but ADT^A01."


def test_it_refuses_a_truncated_msh():
    error = refused(parse_hl7, hl7_sample("oru_truncated_msh.hl7"), HL7)

    assert error.code == "unparseable"
    assert "MSH-9" in error.detail


@pytest.mark.parametrize(
    "body",
    [
        b"MSH",
        b"MSH|",
        b"MSH^~\\&ORU",
        b"MSH|^~|A|B|C|D|E||ORU^R01|1",
        b"MSH|^^\\&|A|B|C|D|E||ORU^R01|1",
        b"MSH |^~\\&|A|B|C|D|E||ORU^R01|1",
        b"PID|1||MSP-00421\rMSH|^~\\&|A|B|C|D|E||ORU^R01|1",
        b"garbage that is not HL7 at all",
    ],
)
def test_it_refuses_bodies_without_a_valid_msh(body):
    assert refused(parse_hl7, body, HL7).code == "unparseable"


def test_it_refuses_a_line_that_is_not_a_segment():
    body = hl7_sample("oru_normal_panel.hl7").replace(b"PV1|1|O", b"Patient vu en consultation")

    error = refused(parse_hl7, body, HL7)

    assert (error.code, error.detail) == ("unparseable", "Line 3 is not an HL7 segment.")


def test_it_refuses_two_messages_in_one_body():
    body = hl7_sample("oru_normal_panel.hl7") + hl7_sample("oru_abnormal_flags.hl7")

    assert refused(parse_hl7, body, HL7).code == "unparseable"


def test_it_refuses_json_sent_to_the_hl7_endpoint():
    error = refused(parse_hl7, fhir_sample("fhir_report_identifier.json"), "text/plain")

    assert error.code == "unparseable"
    assert "JSON" in error.detail


def test_it_decodes_latin1_declared_in_msh18():
    body = hl7_sample("oru_latin1.hl7")
    assert "é".encode("latin-1") in body

    result = parse_hl7(body, HL7)

    assert result.summary.splitlines() == [
        "Hématies: 4.6 T/L [N] (ref. 3.8-5.0)",
        "Hémoglobine: 13.1 g/dL [N] (ref. 11.5-15.0)",
        "Créatinine: 61 µmol/L [N] (ref. 45-84)",
    ]
    assert result.order_numbers == ("CMD-2026-000160", "LAB-26-120410")
    assert result.patient_id == "MSP-00733"


def test_it_refuses_latin1_bytes_declared_utf8():
    error = refused(parse_hl7, hl7_sample("oru_latin1_declared_utf8.hl7"), HL7)

    assert error.code == "charset"
    assert "utf-8" in error.detail


def test_it_defaults_to_utf8_without_msh18():
    body = hl7_sample("oru_normal_panel.hl7").replace(b"|FRA|UNICODE UTF-8\r", b"\r")
    assert (
        parse_hl7(body, HL7).summary == parse_hl7(hl7_sample("oru_normal_panel.hl7"), HL7).summary
    )

    latin1 = hl7_sample("oru_latin1.hl7").replace(b"|FRA|8859/1\r", b"\r")
    assert refused(parse_hl7, latin1, HL7).code == "charset"


def test_it_lets_the_content_type_charset_win_over_msh18():
    body = hl7_sample("oru_latin1_declared_utf8.hl7")

    result = parse_hl7(body, "text/plain; charset=ISO-8859-1")

    assert "Hématies: 4.6 T/L [N] (ref. 3.8-5.0)" in result.summary
    # The UTF-8 panel holds "é" and "µ": not ASCII.
    error = refused(parse_hl7, hl7_sample("oru_normal_panel.hl7"), "text/plain; charset=us-ascii")
    assert error.code == "charset"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain; charset=klingon", "text/plain; charset=rot13", "text/plain; charset=utf-16"],
)
def test_it_refuses_an_unusable_content_type_charset(content_type):
    assert refused(parse_hl7, hl7_sample("oru_normal_panel.hl7"), content_type).code == "charset"


def test_it_refuses_an_unknown_msh18_charset():
    body = hl7_sample("oru_normal_panel.hl7").replace(b"UNICODE UTF-8", b"8859/5")

    error = refused(parse_hl7, body, HL7)

    assert (error.code, error.detail) == ("charset", "Unsupported character set in MSH-18: 8859/5.")


@pytest.mark.parametrize("separator", [b"\r", b"\n", b"\r\n", b"\r\r"])
def test_it_accepts_every_common_segment_terminator(separator):
    lf_body = (SAMPLES / "oru_two_orders.hl7").read_bytes()

    result = parse_hl7(lf_body.replace(b"\n", separator), HL7)

    assert result == parse_hl7(hl7_sample("oru_two_orders.hl7"), HL7)
    assert result.order_numbers[0] == "CMD-2026-000150"


def test_it_gives_the_same_replay_key_to_the_same_message():
    first = parse_hl7(hl7_sample("oru_normal_panel.hl7"), HL7)
    again = parse_hl7(hl7_sample("oru_normal_panel.hl7"), "text/plain")
    other = parse_hl7(hl7_sample("oru_abnormal_flags.hl7"), HL7)

    assert first.replay_key == again.replay_key
    assert first.replay_key != other.replay_key


def test_it_hashes_the_body_for_the_replay_key_without_control_id():
    body = hl7_sample("oru_normal_panel.hl7").replace(b"|MSG-20261120-0001|", b"||")
    edited = body.replace(b"|139|", b"|140|")

    key = parse_hl7(body, HL7).replay_key

    assert key.startswith("hl7:LBM_BERRY^1.2.250.1.213.1.4.2^ISO:")
    assert len(key.rsplit(":", 1)[1]) == 64
    assert key == parse_hl7(body, HL7).replay_key
    assert key != parse_hl7(edited, HL7).replay_key


def test_it_unescapes_fields_without_expanding_them():
    body = hl7_sample("oru_radiology_filler_only.hl7").replace(
        b"Toux persistante depuis 3 semaines.",
        b"Toux \\H\\persistante\\N\\ \\T\\ fi\\XE8\\vre\\.sk100000000\\ \\E\\ \\Zunknown\\fin",
    )

    result = parse_hl7(body, HL7)

    assert result.summary.splitlines()[0] == "Indication: Toux persistante & fièvre \\ fin"
    assert len(result.summary) < 300


def test_it_reads_coded_and_structured_numeric_values():
    body = (
        hl7_sample("oru_normal_panel.hl7")
        .replace(
            b"OBX|1|NM|2951-2^Sodium^LN||139|",
            b"OBX|1|CWE|600-7^Culture^LN||3092008^Staphylococcus aureus^SCT|",
        )
        .replace(b"OBX|2|NM|2823-3^Potassium^LN||4.2|", b"OBX|2|SN|2823-3^Potassium^LN||>^7|")
    )

    lines = parse_hl7(body, HL7).summary.splitlines()

    assert lines[0] == "Culture: Staphylococcus aureus mmol/L [N] (ref. 136-145)"
    assert lines[1] == "Potassium: >7 mmol/L [N] (ref. 3.5-5.1)"


def test_it_cuts_a_long_summary():
    panel = hl7_sample("oru_normal_panel.hl7")
    obx = b"\rOBX|9|TX|COM^Commentaire||" + "Texte très long. ".encode() * 200 + b"|"

    result = parse_hl7(panel.rstrip(b"\r") + obx * 3, HL7)

    assert len(result.summary) == 2000
    assert result.summary.endswith("…")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/hl7-v2",
        "text/plain",
        "text/plain; charset=utf-8",
        "Application/HL7-V2; Charset=UTF-8",
        'application/hl7-v2;charset="utf-8"',
    ],
)
def test_it_accepts_the_hl7_content_types(content_type):
    assert parse_hl7(hl7_sample("oru_normal_panel.hl7"), content_type).order_numbers


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "application/fhir+json", "text/html", "application/hl7-v2+xml"],
)
def test_it_refuses_other_content_types_for_hl7(content_type):
    error = refused(parse_hl7, hl7_sample("oru_normal_panel.hl7"), content_type)

    assert error.code == "content_type"
    assert "application/hl7-v2 or text/plain" in error.detail


# --- FHIR ------------------------------------------------------------------------------------


def test_it_reads_a_report_with_identifiers_and_contained_observations():
    body = fhir_sample("fhir_report_identifier.json")

    result = parse_fhir(body, FHIR)

    assert result == ParsedResult(
        replay_key=result.replay_key,
        order_numbers=("CMD-2026-000142", "LAB-26-118734"),
        patient_id="MSP-00421",
        abnormal=True,
        summary=(
            "Hyperkaliémie modérée, à contrôler.\n"
            "Potassium: 5.9 mmol/L [H] (ref. 3.5-5.1)\n"
            "Sodium: 139 mmol/L [N] (ref. 136-145)"
        ),
        status="final",
        amended=False,
    )
    assert result.replay_key.startswith("fhir:")
    assert len(result.replay_key) == len("fhir:") + 64


def test_it_takes_order_numbers_from_based_on_identifiers():
    result = parse_fhir(fhir_sample("fhir_report_based_on.json"), "application/json")

    assert result.order_numbers == ("CMD-2026-000143",)
    assert result.patient_id == "MSP-00388"  # from the contained Patient the subject points to
    assert (result.status, result.amended, result.abnormal) == ("preliminary", False, False)
    assert result.summary == "TSH: 2.1 mUI/L (ref. 0.4-4.0)"


def test_it_follows_based_on_to_a_contained_service_request():
    result = parse_fhir(fhir_sample("fhir_report_contained_request.json"), FHIR)

    assert result.order_numbers == ("CMD-2026-000170", "RX-2026-77813")
    assert result.patient_id == "MSP-00502"
    assert result.abnormal is True  # conclusionCode "A"
    assert result.summary == "Lésion hépatique de 2 cm à caractériser par IRM."


def test_it_puts_identifiers_before_based_on():
    resource = fhir_resource("fhir_report_identifier.json")
    resource["basedOn"] = [
        {"identifier": {"value": "CMD-2026-000142"}},
        {"reference": "ServiceRequest/x", "identifier": {"value": "CMD-2026-000999"}},
    ]

    result = parse_fhir(json.dumps(resource).encode(), FHIR)

    assert result.order_numbers == ("CMD-2026-000142", "LAB-26-118734", "CMD-2026-000999")


def test_it_marks_an_amended_report_and_gives_it_a_new_replay_key():
    original = parse_fhir(fhir_sample("fhir_report_identifier.json"), FHIR)
    replayed = parse_fhir(fhir_sample("fhir_report_identifier.json"), "application/json")
    amended = parse_fhir(fhir_sample("fhir_report_amended.json"), FHIR)

    assert replayed.replay_key == original.replay_key
    assert amended.replay_key != original.replay_key
    assert (amended.status, amended.amended, amended.abnormal) == ("amended", True, False)
    assert amended.order_numbers == original.order_numbers
    assert amended.summary.splitlines()[1] == "Potassium: 4.8 mmol/L [N] (ref. 3.5-5.1)"


@pytest.mark.parametrize(
    ("status", "amended"),
    [("corrected", True), ("appended", True), ("final", False), ("cancelled", False)],
)
def test_it_derives_amended_from_the_status(status, amended):
    resource = fhir_resource("fhir_report_identifier.json") | {"status": status}

    result = parse_fhir(json.dumps(resource).encode(), FHIR)

    assert (result.status, result.amended) == (status, amended)


def test_it_refuses_an_unknown_report_status():
    resource = fhir_resource("fhir_report_identifier.json") | {"status": "validated"}

    assert refused(parse_fhir, json.dumps(resource).encode(), FHIR).code == "invalid_resource"


def test_it_refuses_a_report_without_any_order_number():
    resource = fhir_resource("fhir_report_identifier.json")
    del resource["identifier"]

    assert refused(parse_fhir, json.dumps(resource).encode(), FHIR).code == "no_order_number"


@pytest.mark.parametrize(
    "resource",
    [
        json.loads(fhir_sample("fhir_observation.json")),
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        {"resourceType": "Patient", "identifier": [{"value": "MSP-00421"}]},
        {"status": "final", "code": {"text": "Sans type"}, "identifier": [{"value": "X"}]},
    ],
)
def test_it_refuses_resources_that_are_not_reports(resource):
    error = refused(parse_fhir, json.dumps(resource).encode(), FHIR)

    assert error.code == "not_a_result"
    assert error.detail.startswith("This is not a result message (DiagnosticReport)")


@pytest.mark.parametrize(
    "body", [b"{", b"{'resourceType': 'DiagnosticReport'}", b"[1, 2", b"nul", b"[]", b'"text"']
)
def test_it_refuses_bodies_that_are_not_a_json_object(body):
    assert refused(parse_fhir, body, FHIR).code == "unparseable"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"code": None}, "code"),
        ({"unknownElement": 1}, "unknownElement"),
        ({"effectiveDateTime": "2026-11-20T08:30:00"}, "effectiveDateTime"),  # time without offset
        ({"identifier": [{"value": ""}]}, "identifier.0.value"),
        ({"contained": [{"resourceType": "Unicorn", "id": "u"}]}, None),
    ],
)
def test_it_refuses_a_report_that_fhir_resources_rejects(change, where):
    resource = fhir_resource("fhir_report_identifier.json") | change
    resource = {key: value for key, value in resource.items() if value is not None}

    error = refused(parse_fhir, json.dumps(resource).encode(), FHIR)

    assert error.code == "invalid_resource"
    if where:
        assert error.detail.startswith(f"Invalid DiagnosticReport: {where}: ")


def test_it_refuses_bytes_that_are_not_utf8():
    body = fhir_sample("fhir_report_identifier.json").decode().encode("latin-1")

    assert refused(parse_fhir, body, FHIR).code == "charset"
    assert parse_fhir(body, "application/fhir+json; charset=iso-8859-1").abnormal is True


def test_it_accepts_a_utf8_byte_order_mark():
    body = b"\xef\xbb\xbf" + fhir_sample("fhir_report_identifier.json")

    assert parse_fhir(body, FHIR).order_numbers == ("CMD-2026-000142", "LAB-26-118734")


@pytest.mark.parametrize(
    "content_type",
    ["application/fhir+json", "application/json", "application/fhir+json; fhirVersion=4.0"],
)
def test_it_accepts_the_fhir_content_types(content_type):
    assert parse_fhir(fhir_sample("fhir_report_identifier.json"), content_type).order_numbers


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/hl7-v2", "application/fhir+xml"]
)
def test_it_refuses_other_content_types_for_fhir(content_type):
    error = refused(parse_fhir, fhir_sample("fhir_report_identifier.json"), content_type)

    assert error.code == "content_type"
    assert "application/fhir+json or application/json" in error.detail


# --- Both ------------------------------------------------------------------------------------

PARSERS = [
    pytest.param(parse_hl7, HL7, hl7_sample("oru_normal_panel.hl7"), id="hl7"),
    pytest.param(parse_fhir, FHIR, fhir_sample("fhir_report_identifier.json"), id="fhir"),
]


@pytest.mark.parametrize(("parse", "content_type", "sample"), PARSERS)
@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n\r\n", b" \t\n"])
def test_it_refuses_an_empty_body(parse, content_type, sample, body):
    assert refused(parse, body, content_type).code == "empty"


@pytest.mark.parametrize(("parse", "content_type", "sample"), PARSERS)
def test_it_refuses_a_body_over_one_megabyte(parse, content_type, sample):
    at_limit = sample + b"\n" * (MAX_BYTES - len(sample))
    assert parse(at_limit, content_type).order_numbers

    error = refused(parse, at_limit + b"\n", content_type)

    assert error.code == "too_large"


def test_it_translates_the_details():
    with translation.override("fr"):
        error = refused(parse_hl7, b"", HL7)

    assert error.code == "empty"  # the text is whatever the French catalogue holds


def test_it_imports_without_django_settings():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}

    subprocess.run(
        [sys.executable, "-c", "import continuity.parsing"], cwd=REPO, env=env, check=True
    )


def _fuzz_cases() -> list[tuple[str, bytes]]:
    rng = random.Random(20261120)  # noqa: S311 -- reproducible fuzzing, not cryptography
    cases = [("random", rng.randbytes(rng.randrange(0, 400))) for _ in range(200)]
    hl7_prefix = b"MSH|^~\\&|"
    cases += [("random-msh", hl7_prefix + rng.randbytes(rng.randrange(0, 200))) for _ in range(50)]
    cases += [
        ("random-json", b'{"resourceType": "DiagnosticReport", ' + rng.randbytes(80))
        for _ in range(50)
    ]
    for path in sorted(SAMPLES.iterdir()):
        sample = (
            path.read_bytes().replace(b"\n", b"\r") if path.suffix == ".hl7" else path.read_bytes()
        )
        cases += [(f"{path.name}[:{end}]", sample[:end]) for end in range(0, len(sample), 7)]
        for number in range(20):
            mutated = bytearray(sample)
            for _ in range(rng.randrange(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            cases.append((f"{path.name}~{number}", bytes(mutated)))
        # Structural characters moved around: separators, escapes, brackets and quotes.
        for number in range(20):
            mutated = bytearray(sample)
            for _ in range(rng.randrange(1, 6)):
                mutated[rng.randrange(len(mutated))] = rng.choice(b'|^~\\&\r\n{}[]":,')
            cases.append((f"{path.name}#{number}", bytes(mutated)))
        if path.suffix == ".json":
            cases += [
                (f"{path.name}@{number}", _mutate_json(json.loads(sample), rng))
                for number in range(40)
            ]
    return cases


def _mutate_json(resource: dict, rng: random.Random) -> bytes:
    """Replace or drop a few values anywhere in the document, keeping it valid JSON."""
    oddities = [None, 0, -1.5, 1e308, "", "x" * 300, [], {}, [None], {"value": "?"}, True, "#k"]
    for _ in range(rng.randrange(1, 4)):
        parent, key = resource, rng.choice(list(resource))
        # Walk down to a random element: a leaf, or a container picked on the way.
        while isinstance(parent[key], dict | list) and parent[key] and rng.random() < 0.7:
            parent = parent[key]
            key = rng.choice(list(parent) if isinstance(parent, dict) else range(len(parent)))
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[key]
        else:
            parent[key] = rng.choice(oddities)
        if not resource:
            break
    return json.dumps(resource).encode()


FUZZ_CASES = _fuzz_cases()


@pytest.mark.parametrize(
    ("parse", "content_type"), [(parse_hl7, HL7), (parse_fhir, FHIR), (parse_hl7, "text/plain")]
)
def test_it_only_ever_returns_a_result_or_raises_invalid_message(parse, content_type):
    outcomes = {"parsed": 0, "invalid": 0}
    for name, body in FUZZ_CASES:
        try:
            outcome = parse(body, content_type)
        except InvalidMessage as error:
            outcome = error
        except Exception as error:  # the point of the test: name the case that escaped
            pytest.fail(f"{name}: {error!r}")

        if isinstance(outcome, InvalidMessage):
            assert isinstance(outcome.detail, str), name
            assert outcome.detail, name
            outcomes["invalid"] += 1
        else:
            assert isinstance(outcome, ParsedResult), name
            assert outcome.order_numbers, name
            assert all(outcome.order_numbers), name
            assert len(outcome.summary) <= 2000, name
            outcomes["parsed"] += 1

    # The mutations keep some messages valid: the fuzzing reaches past the first checks.
    assert outcomes["parsed"] > 0
    assert outcomes["invalid"] > 0


def test_it_leaves_the_patient_empty_without_pid():
    body = hl7_sample("oru_normal_panel.hl7").replace(
        b"PID|1||MSP-00421^^^MSP_CHATEAUMEILLANT^PI||TEST^PATIENT||1958|F\r", b""
    )

    result = parse_hl7(body, HL7)

    assert result.patient_id == ""
    assert result.order_numbers == ("CMD-2026-000142", "LAB-26-118734")


def test_it_lists_results_in_report_order_and_keeps_other_contained_observations():
    resource = fhir_resource("fhir_report_identifier.json")
    resource["result"] = [{"reference": "#na"}, {"reference": "Observation/elsewhere"}]
    resource["subject"] = {"reference": "Patient/42"}
    del resource["contained"][0]["valueQuantity"]
    resource["contained"][0]["valueString"] = "non dosable (hémolyse)"
    del resource["conclusion"]

    result = parse_fhir(json.dumps(resource).encode(), FHIR)

    assert result.summary.splitlines() == [
        "Sodium: 139 mmol/L [N] (ref. 136-145)",
        "Potassium: non dosable (hémolyse) [H] (ref. 3.5-5.1)",
    ]
    assert result.abnormal is True
    assert result.patient_id == ""  # a reference we cannot follow
