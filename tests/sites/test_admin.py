from __future__ import annotations

from accounts.models import User
from tests.factories import make_public_site


def test_operators_see_sites_with_their_readiness_and_edit_sheets_in_the_admin(client, db):
    site = make_public_site()
    admin = User.objects.create_superuser("ops@releve.fr", "pw-ops-123456")
    client.force_login(admin)

    changelist = client.get("/admin/sites/hostsite/")
    sheet = client.get(f"/admin/sites/infosheet/{site.info_sheet.pk}/change/")
    history = client.get(f"/admin/sites/infosheet/{site.info_sheet.pk}/history/")

    assert changelist.status_code == 200
    assert site.name in changelist.content.decode()
    assert "7/7" in changelist.content.decode()
    assert sheet.status_code == 200
    assert history.status_code == 200
