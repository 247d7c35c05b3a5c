from __future__ import annotations

import subprocess
from pathlib import Path

from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from sites.pdf import render_sheet_pdf
from tests.conftest import member
from tests.factories import HostSiteFactory, make_public_site, make_sheet
from tests.sites.test_catalogue import make_full_site


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(content)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def test_it_renders_the_sheet_as_a_french_pdf(db, tmp_path):
    site = make_full_site()

    # The PDF is a French document whatever the language of whoever asks for it.
    with translation.override("en"):
        content = render_sheet_pdf(site)

    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    assert "Maison de santé de Châteaumeillant" in text
    assert "Laboratoire Biopôle Berry" in text
    assert "02 48 96 00 11" in text
    assert "Gîte communal réservé aux médecins, à 300 m." in text
    assert "Pas de secrétariat" in text  # a readiness note (wrapped in its cell)
    assert "Électrocardiographe" in text
    assert "Pôle de santé du Boischaut" in text
    # The version date (published_at, French format) heads the sheet and every footer.
    pages = text.split("\f")[:-1]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "12 mars 2026" in page
        assert f"Page {number} / {len(pages)}" in page


def test_it_serves_the_pdf_of_a_public_site(client, db, tmp_path):
    site = make_public_site(name="Maison de santé d’Éguzon")

    response = client.get(reverse("sheet_pdf", args=[site.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="fiche-maison-de-sante-deguzon.pdf"'
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    assert "Maison de santé d’Éguzon" in text
    assert "Studio au-dessus de la MSP" in text


def test_it_answers_404_for_the_pdf_of_a_draft_except_to_the_site_staff(client, db, tmp_path):
    draft = HostSiteFactory(name="MSP en préparation")
    make_sheet(draft, status="submitted", accommodation="Chambre chez l’habitant")
    url = reverse("sheet_pdf", args=[draft.pk])

    assert client.get(url).status_code == 404
    client.force_login(member(Role.SECRETARY, site=HostSiteFactory()))
    assert client.get(url).status_code == 404
    assert client.get(reverse("sheet_pdf", args=[999999])).status_code == 404

    client.force_login(member(Role.SECRETARY, site=draft))
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "Chambre chez l’habitant" in pdf_text(response.content, tmp_path)
