"""docs/api_client.py, the example a 政务平台 copies, against a live server over real HTTP."""

import importlib.util
from datetime import date
from io import BytesIO

import pytest
from django.conf import settings as django_settings
from openpyxl import load_workbook

from accounts.changes import change_record
from accounts.models import Region
from accounts.services import api_token_create
from accounts.webhooks import webhook_endpoint_create
from indicators.models import AuditEntry, Checkmark, Period
from indicators.services import CheckmarkValue, checkmarks_set, period_open
from reporting.models import ReportJob
from tests.helpers import WebhookReceiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api_client(live_server, reference_data, make_user, settings, tmp_path):
    """The example client module, pointed at the live server with a Sichuan write token."""
    settings.MEDIA_ROOT = tmp_path
    period_open(code="2022S1")
    admin = make_user("p", "province", "510000")
    _token, secret = api_token_create(user=admin, name="示例客户端", region=Region.objects.get(code="510000"), access="write")
    spec = importlib.util.spec_from_file_location("api_client", django_settings.BASE_DIR / "docs" / "api_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.BASE_URL, module.TOKEN = live_server.url, secret
    return module


def test_the_example_client_reads_writes_and_downloads(api_client, make_user, tmp_path):
    state, sheet, etag = api_client.county_state("2022S1", "510104")
    assert (state["state"], etag, len(sheet["checkmarks"])) == ("draft", '"0"', 31)

    # Someone saves on the web page between the client's read and its write: a 412, then a retry.
    real_request = api_client.request
    rival = make_user("k", "county", "510104")
    edited = []

    def request_with_a_rival(method, path, *args, **kwargs):
        if method == "PUT" and not edited:
            checkmarks_set(
                user=rival,
                region=rival.region,
                period=Period.objects.get(code="2022S1"),
                values={2: CheckmarkValue("done", done_month=date(2022, 1, 1))},
            )
            edited.append(True)
        return real_request(method, path, *args, **kwargs)

    api_client.request = request_with_a_rival
    written = api_client.write_checkmarks("2022S1", "510104", [{"number": 3, "status": "done", "done_month": "2022-03"}])
    api_client.request = real_request
    assert edited and written["version"] == 2 and written["changed"] == 1
    assert set(Checkmark.objects.filter(region__code="510104").values_list("indicator__number", flat=True)) == {2, 3}
    assert list(AuditEntry.objects.filter(indicator__number=3).values_list("channel", flat=True)) == ["api"]

    with pytest.raises(api_client.ApiError) as refused:
        api_client.write_checkmarks("2022S1", "500103", [{"number": 3, "status": "done"}])
    assert (refused.value.status, refused.value.code) == (404, "not_found")

    saved = api_client.compile_and_download("2022S1", "510000", tmp_path / "out", poll_every=0.2)
    assert sorted(path.name for path in saved) == ["attachment2-510000-2022S1.xlsx", "attachment3-510000-2022S1.xlsx"]
    assert "统计表" in str(load_workbook(BytesIO(saved[0].read_bytes())).active["A1"].value)
    assert saved[0].with_suffix(".json").exists()


def test_a_write_whose_answer_is_lost_is_retried_and_applied_once(api_client, monkeypatch):
    """The server applies the write but the answer never arrives (a timeout): the client sends it
    again with the same Idempotency-Key and gets the first answer; nothing is applied twice."""
    real_urlopen = api_client.urllib.request.urlopen
    sent = []

    def answer_lost_once(req, timeout):
        sent.append((req.get_method(), req.get_header("Idempotency-key")))
        response = real_urlopen(req, timeout=timeout)
        if len(sent) == 1:
            response.read()
            response.close()
            raise TimeoutError("the answer was lost on the way back")
        return response

    monkeypatch.setattr(api_client.urllib.request, "urlopen", answer_lost_once)
    monkeypatch.setattr(api_client.time, "sleep", lambda seconds: None)
    job, headers = api_client.request("POST", "periods/2022S1/regions/510000/report-jobs/")
    assert [method for method, _key in sent] == ["POST", "POST"]
    assert sent[0][1] == sent[1][1] and sent[0][1]  # one key for both tries
    assert headers["Idempotent-Replayed"] == "true"
    assert ReportJob.objects.count() == 1 and job["id"] == ReportJob.objects.get().pk


def _change(code, number):
    return change_record(
        type="checkmark.changed",
        object_url=f"/api/v1/periods/2022S1/regions/{code}/checkmarks/",
        region=Region.objects.get(code=code),
        channel="web",
        version=str(number),
        data={"region": code, "indicator": number, "status": "done"},
    )


def test_the_client_follows_the_change_feed_with_its_cursor(api_client):
    """Five changes in 四川 and one in 重庆: the Sichuan token reads its five, two per page, in order;
    from the saved cursor it later reads only what came after."""
    mine = [_change("510104" if n % 2 else "510100", n) for n in range(1, 6)]
    _change("500103", 9)
    pairs = list(api_client.follow_changes(limit=2))
    seen, cursor = [event for event, _ in pairs], pairs[-1][1]
    assert pairs[0][1] is None and pairs[1][1] == pairs[2][1]  # within a page: resume at the page's start
    assert [e["id"] for e in seen] == [e.public_id for e in mine]
    assert {e["region"] for e in seen} == {"510104", "510100"} and seen[0]["data"]["indicator"] == 1
    assert list(api_client.follow_changes(cursor)) == []
    later = _change("510104", 6)
    assert [(event["id"], event["version"]) for event, _ in api_client.follow_changes(cursor)] == [(later.public_id, "6")]

    with pytest.raises(api_client.ApiError) as refused:
        next(api_client.follow_changes(cursor[:-2] + "xx"))
    assert (refused.value.status, refused.value.code) == (400, "cursor_invalid")


def test_the_client_verifies_a_real_webhook_and_refuses_tampered_or_old_ones(api_client, make_user):
    receiver = WebhookReceiver()
    try:
        admin = make_user("p2", "province", "510000")
        _hook, secret = webhook_endpoint_create(user=admin, name="示例接收方", url=receiver.url)
        event = _change("510104", 3)  # committed: the delivery goes out at once (Celery eager here)
        [got] = receiver.received
    finally:
        receiver.close()
    header = got.headers["X-Portal-Signature"]
    received = api_client.verify_webhook(got.body, header, secret)
    assert (received["id"], received["type"], received["region"]) == (event.public_id, "checkmark.changed", "510104")
    assert got.headers["X-Portal-Delivery"] == event.public_id
    assert [e for e, _ in api_client.follow_changes()] == [received]  # the feed's very event, field for field

    timestamp = int(got.headers["X-Portal-Timestamp"])
    refusals = {
        "签名不符": (got.body.replace(b'"done"', b'"none"'), header, secret, {}),
        "签名不符 ": (got.body, header, "another-secret", {}),
        "重放": (got.body, header, secret, {"now": timestamp + 301}),
        "重放 ": (got.body, header, secret, {"now": timestamp - 301}),
        "缺少时间戳": (got.body, header.split(",", 1)[1], secret, {}),
    }
    for reason, (body, signature, key, kwargs) in refusals.items():
        with pytest.raises(api_client.WebhookSignatureError, match=reason.strip()):
            api_client.verify_webhook(body, signature, key, **kwargs)
    assert api_client.verify_webhook(got.body, header, secret, now=timestamp + 299)["id"] == event.public_id
