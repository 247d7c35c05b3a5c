from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def test_pages_are_in_french_by_default(client, db):
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="fr"' in html
    assert "Se connecter" in html


def test_the_language_switcher_turns_the_site_to_english(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    page = client.get(response.url)

    assert '<html lang="en"' in page.content.decode()
    assert "Sign in" in page.content.decode()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_catalogue_is_compiled_and_complete(language):
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"

    # The committed .mo is the compiled .po (run `make messages` after changing strings).
    compiled = subprocess.run(
        ["msgfmt", "--check", "-o", "-", str(mo.with_suffix(".po"))],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert mo.read_bytes() == compiled
    assert "#, fuzzy" not in po
    untranslated = re.findall(r'msgid "(.+)"\nmsgstr ""\n\n', po)
    assert untranslated == [], f"untranslated: {untranslated[:5]}"


def test_dates_show_in_paris_time_and_french_format(settings):
    assert settings.TIME_ZONE == "Europe/Paris"
    assert settings.LANGUAGE_CODE == "fr"
