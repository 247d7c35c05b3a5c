"""The sheet's PDF is printed once per version, stored in the shared cache, served with an
ETag (304 when unchanged), and printed again when a new version is published (issue 14)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from tests.factories import make_public_site, make_sheet

pytestmark = pytest.mark.django_db


@pytest.fixture
def printer():
    with mock.patch(
        "sites.pdf.print_pdf", side_effect=lambda html: b"%PDF-" + html[:8].encode()
    ) as p:
        yield p


def test_the_sheet_pdf_is_printed_once_per_version_and_answers_304_when_unchanged(client, printer):
    site = make_public_site()
    url = reverse("sheet_pdf", args=[site.pk])
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content.startswith(b"%PDF")
    assert printer.call_count == 1  # the second one came from the cache
    etag = first["ETag"]
    assert etag
    assert second["ETag"] == etag
    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again["ETag"], again.content) == (304, etag, b"")
    assert printer.call_count == 1


def test_a_new_published_version_is_printed_again_with_a_new_etag(client, printer):
    site = make_public_site()
    url = reverse("sheet_pdf", args=[site.pk])
    before = client.get(url)["ETag"]
    make_sheet(site, status="published", ready=True, accommodation="Un nouveau studio, à 50 m.")
    after = client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after["ETag"] != before
    assert printer.call_count == 2


def test_the_api_pdf_shares_the_stored_version_and_its_etag(api, client, printer):
    site = make_public_site()
    page = client.get(reverse("sheet_pdf", args=[site.pk]))
    response = api.get(f"/api/v1/sites/{site.pk}/info-sheet/pdf/", HTTP_ACCEPT="application/pdf")
    assert (response.status_code, response["ETag"]) == (200, page["ETag"])
    assert printer.call_count == 1
    unchanged = api.get(
        f"/api/v1/sites/{site.pk}/info-sheet/pdf/",
        HTTP_ACCEPT="application/pdf",
        HTTP_IF_NONE_MATCH=page["ETag"],
    )
    assert unchanged.status_code == 304
