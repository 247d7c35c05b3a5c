"""HL7 v2 result messages built for a test's own exam (order number and patient)."""

from __future__ import annotations

HL7 = "application/hl7-v2"


def potassium_oru(order_number: str, patient_ref: str, *, value: str = "6.4", flag: str = "HH"):
    """An ORU^R01 of an urgent ionogram: potassium `value` mmol/L [`flag`] (ref. 3.5-5.0)
    and a normal sodium, as a laboratory sends it (segments ended by CR)."""
    segments = [
        "MSH|^~\\&|SIL_BIO|LBM_BERRY|RELEVE|MSP|20261120101500||ORU^R01^ORU_R01|"
        f"MSG-{order_number}-{value}|P|2.5|||||FRA|UNICODE UTF-8",
        f"PID|1||{patient_ref}^^^MSP^PI||TEST^PATIENT||1958|M",
        f"ORC|RE|{order_number}^RELEVE|LAB-1^SIL_BIO||CM",
        f"OBR|1|{order_number}^RELEVE|LAB-1^SIL_BIO|BIOCH^Ionogramme^L|||20261120074500|||||||||"
        "||||||20261120101200||CH|F",
        f"OBX|1|NM|2823-3^Potassium^LN||{value}|mmol/L|3.5-5.0|{flag}|||F",
        "OBX|2|NM|2951-2^Sodium^LN||137|mmol/L|136-145|N|||F",
    ]
    return ("\r".join(segments) + "\r").encode()
