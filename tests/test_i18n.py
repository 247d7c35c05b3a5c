from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse

from accounts import notifications
from accounts.models import Notification

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


@pytest.mark.parametrize(
    ("accept_language", "shown"),
    [
        ("", "14 juillet 2027, 08:05"),
        ("fr", "14 juillet 2027, 08:05"),
        ("en", "14 July 2027, 08:05"),
    ],
)
def test_dates_show_in_paris_time_and_french_format(client, volunteer, accept_language, shown):
    # 06:05 UTC on Bastille Day is 08:05 in Paris (summer time), whatever the page's language.
    [message] = notifications.notify(
        users=[volunteer], kind="vacation_booked", context={"site": "MSP"}, dedupe_key="i18n"
    )
    Notification.objects.filter(pk=message.pk).update(
        created_at=datetime(2027, 7, 14, 6, 5, tzinfo=UTC)
    )
    client.force_login(volunteer)

    html = client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE=accept_language).content.decode()

    assert f'<html lang="{accept_language or "fr"}"' in html
    assert shown in html
    assert "06:05" not in html
