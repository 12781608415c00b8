"""One upload store between an import's preview and its confirmation (issue 12 §3): a kept file
comes back only to the user who uploaded it, for the purpose it was uploaded for, within a day, and
never from a token the portal did not sign."""

import os
import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators.models import AuditEntry, Checkmark
from tests.helpers import to_bytes, workbook
from utilities import uploads

pytestmark = pytest.mark.django_db

PURPOSE = {"kind": "attachment2", "province": "640000", "period": "2022S1"}
DATA = b"PK\x03\x04 a workbook's bytes"


@pytest.fixture
def clerk(make_user):
    return make_user("nx", "province", "640000")


def keep(user, purpose=PURPOSE, name="附件2.xlsx"):
    return uploads.keep(SimpleUploadedFile(name, DATA), user=user, purpose=purpose)


def test_a_kept_upload_comes_back_to_its_user_for_its_purpose_then_is_gone(media, clerk):
    token = keep(clerk)
    kept = uploads.pending(token, user=clerk, purpose=dict(PURPOSE))
    assert kept.name == "附件2.xlsx" and kept.read() == DATA
    assert kept.path.startswith("imports/attachment2/") and kept.path.endswith(".xlsx")
    assert (media / kept.path).read_bytes() == DATA and "附件2" not in kept.path  # the server chose the name
    assert kept.as_file().name == "附件2.xlsx" and kept.as_file().read() == DATA
    uploads.discard(kept)
    assert not (media / kept.path).exists()
    assert uploads.pending(token, user=clerk, purpose=PURPOSE) is None  # applied once: gone


def test_another_user_or_purpose_gets_nothing(media, clerk, make_user):
    token = keep(clerk)
    assert uploads.pending(token, user=make_user("nx2", "province", "640000"), purpose=PURPOSE) is None
    for other in (
        {**PURPOSE, "period": "2022S2"},
        {**PURPOSE, "province": "510000"},
        {**PURPOSE, "kind": "ledger"},
        {"kind": "attachment2"},
    ):
        assert uploads.pending(token, user=clerk, purpose=other) is None, other
    assert uploads.pending(token, user=clerk, purpose=PURPOSE) is not None  # still there for the right one


def test_an_expired_token_gets_nothing(media, clerk, monkeypatch):
    token = keep(clerk)
    later = time.time() + uploads.MAX_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert uploads.pending(token, user=clerk, purpose=PURPOSE) is None


def test_a_forged_or_altered_token_gets_nothing(media, clerk):
    token = keep(clerk)
    path = uploads.pending(token, user=clerk, purpose=PURPOSE).path
    meta = {"path": path, "name": "x.xlsx", "user": clerk.pk, "purpose": PURPOSE}
    forged = [
        signing.dumps(meta, salt="another.salt"),  # signed, but not by the store
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # its signature altered
        "",
        "../../etc/passwd",
        # signed by the store, but naming a file outside its folder
        signing.dumps({**meta, "path": "../config/settings/base.py"}, salt=uploads.SALT),
    ]
    for bad in forged:
        assert uploads.pending(bad, user=clerk, purpose=PURPOSE) is None, bad


def test_sweep_deletes_what_was_kept_longer_than_a_day(media, clerk):
    old = uploads.pending(keep(clerk), user=clerk, purpose=PURPOSE)
    fresh = uploads.pending(
        keep(clerk, {"kind": "ledger", "ledger": "x", "progress": False}),
        user=clerk,
        purpose={"kind": "ledger", "ledger": "x", "progress": False},
    )
    leftover = media / "imports" / "0b0e7c1e-0000-4000-8000-000000000000.json"  # the older 附件2 store's
    leftover.write_text("{}")
    day_ago = time.time() - uploads.MAX_AGE - 60
    for path in (media / old.path, leftover):
        os.utime(path, (day_ago, day_ago))
    assert uploads.sweep() == 2
    assert not (media / old.path).exists() and not leftover.exists() and (media / fresh.path).exists()
    keep(clerk)  # every keep sweeps first
    assert (media / fresh.path).exists()


def test_the_store_does_not_need_its_folder_to_exist(media, clerk):
    assert uploads.sweep() == 0
    assert uploads.pending(signing.dumps({}, salt=uploads.SALT), user=clerk, purpose=PURPOSE) is None


# --- the import pages refuse what the store refuses -------------------------------------------------


def _confirm_fields(response):
    import re

    page = response.content.decode()
    return {
        "action": "confirm",
        "token": re.search(r'name="token" value="([^"]+)"', page)[1],
        "digest": re.search(r'name="digest" value="([^"]+)"', page)[1],
        "period": "2022S1",
        "province": "640000",
    }


def test_the_attachment2_page_refuses_an_expired_upload_and_applies_nothing(client, media, clerk, period, monkeypatch):
    client.force_login(clerk)
    response = client.post(
        "/reporting/import/attachment2/",
        {
            "action": "preview",
            "period": period.code,
            "province": "640000",
            "file": SimpleUploadedFile("附件2.xlsx", to_bytes(workbook(period)[0])),
        },
    )
    assert response.status_code == 200
    fields = _confirm_fields(response)
    later = time.time() + uploads.MAX_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.post("/reporting/import/attachment2/", fields)
    assert response.status_code == 400 and uploads.EXPIRED in response.content.decode()
    assert not Checkmark.objects.exists() and not AuditEntry.objects.filter(channel="import").exists()
    monkeypatch.undo()
    response = client.post("/reporting/import/attachment2/", {**fields, "token": fields["token"] + "x"})  # altered
    assert response.status_code == 400 and uploads.EXPIRED in response.content.decode()
    assert not Checkmark.objects.exists()
