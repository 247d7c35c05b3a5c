"""Set French translations in locale/fr/LC_MESSAGES/django.po (clearing any fuzzy flag).

Usage: python scripts/po_set.py translations.json   (a JSON object: msgid → msgstr)
Used after `make messages` for the entries it reports as untranslated or fuzzy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(path: str) -> None:
    wanted: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    done = set()
    for index, block in enumerate(blocks):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not match:
            continue
        msgid = "".join(json.loads(part) for part in re.findall(r'".*"', match.group(1)))
        if msgid not in wanted or re.search(r"^msgid_plural", block, re.M):
            continue
        lines = [
            line for line in block.split("\n")
            if not line.startswith("#|") and not line.startswith('"')
            and not line.startswith("msgstr")
        ]  # fmt: skip
        lines = [re.sub(r"^#, fuzzy, ", "#, ", line) for line in lines if line != "#, fuzzy"]
        head = lines[: next(i for i, line in enumerate(lines) if line.startswith("msgid"))]
        blocks[index] = "\n".join(
            [*head, f"msgid {quote(msgid)}", f"msgstr {quote(wanted[msgid])}"]
        )
        done.add(msgid)
    PO.write_text("\n\n".join(blocks), encoding="utf-8")
    missing = set(wanted) - done
    if missing:
        sys.exit(f"not found: {sorted(missing)}")


if __name__ == "__main__":
    main(sys.argv[1])
