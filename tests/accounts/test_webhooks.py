"""Webhooks (accounts.webhooks) against a real HTTP receiver on the loopback: signed deliveries,
retries with backoff, timeouts, a response-size cap, dedup, replay, disabling, SSRF refusals,
who may register, the pages and the API."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import webhooks
from accounts.changes import change_event, change_record, event_payload
from accounts.models import ChangeEvent, DeliveryState, Region, SecurityEvent, WebhookDelivery, WebhookEndpoint
from accounts.tasks import webhooks_deliver, webhooks_retry
from accounts.webhooks import (
    deliveries_replay_failed,
    delivery_replay,
    delivery_send,
    webhook_endpoint_create,
    webhook_endpoint_disable,
)
from tests.helpers import V1, WebhookReceiver, assert_error, login, screenshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def national(make_user):
    return make_user("nea", "national")


@pytest.fixture
def endpoint(admin, receiver):
    """四川's endpoint for every event type, and its secret."""
    return webhook_endpoint_create(user=admin, name="四川政务平台", url=receiver.url)


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """``record(code, type)``: a change recorded as a service records it, and its after-commit sends run."""

    def make(code="510104", type="checkmark.changed"):
        with django_capture_on_commit_callbacks(execute=True):
            return change_record(
                type=type,
                object_url=f"/api/v1/periods/2022S1/regions/{code}/checkmarks/",
                region=Region.objects.get(code=code),
                channel="web",
                version="3",
                data={"region": code, "status": "done"},
            )

    return make


def verify(secret, headers, body):
    fields = dict(part.split("=", 1) for part in headers["X-Portal-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(fields["v1"], expected) and fields["t"] == headers["X-Portal-Timestamp"]


# --- delivery --------------------------------------------------------------------------------


def test_an_event_is_posted_signed_with_the_feed_shape_and_logged(endpoint, receiver, record):
    hook, secret = endpoint
    event = record()
    [got] = receiver.received
    assert got.path == "/hook?from=portal"
    assert json.loads(got.body) == event_payload(ChangeEvent.objects.get(pk=event.pk))
    assert set(json.loads(got.body)) == {"id", "type", "object", "at", "channel", "region", "version", "data"}
    assert got.headers["X-Portal-Event"] == "checkmark.changed"
    assert got.headers["X-Portal-Delivery"] == event.public_id
    assert abs(int(got.headers["X-Portal-Timestamp"]) - time.time()) < 60
    assert verify(secret, got.headers, got.body)
    assert not verify("another secret", got.headers, got.body)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.state, delivery.attempts, delivery.response_code) == (hook, "delivered", 1, 200)
    assert delivery.duration_ms is not None and delivery.error == "" and delivery.next_attempt_at is None


def test_endpoints_receive_their_scope_and_types_only(admin, national, make_user, receiver, record):
    sichuan, _ = webhook_endpoint_create(user=admin, name="四川", url=receiver.url)
    reviews, _ = webhook_endpoint_create(user=admin, name="四川审核", url=receiver.url, event_types=["submission.changed"])
    country, _ = webhook_endpoint_create(user=national, name="全国", url=receiver.url)
    chongqing = make_user("cq", "province", "500000")
    cq, _ = webhook_endpoint_create(user=chongqing, name="重庆", url=receiver.url)
    record("510104", "checkmark.changed")
    record("510104", "submission.changed")
    record("500103", "checkmark.changed")
    got = {
        (d.endpoint.name, d.event.type, d.event.region.code) for d in WebhookDelivery.objects.select_related("endpoint", "event__region")
    }
    assert got == {
        ("四川", "checkmark.changed", "510104"),
        ("四川", "submission.changed", "510104"),
        ("四川审核", "submission.changed", "510104"),
        ("全国", "checkmark.changed", "510104"),
        ("全国", "submission.changed", "510104"),
        ("全国", "checkmark.changed", "500103"),
        ("重庆", "checkmark.changed", "500103"),
    }
    assert len(receiver.received) == 7 and set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert (sichuan.region.code, country.region, cq.region.code) == ("510000", None, "500000")


def test_the_fan_out_costs_the_same_queries_for_one_event_or_fifty(endpoint, django_assert_num_queries):
    regions = [Region.objects.get(code=code) for code in ("510104", "510105", "500103")]

    def events(first, count):
        saved = [
            change_event(type="checkmark.changed", object_url="/x/", region=regions[n % 3], channel="web", data={}) for n in range(count)
        ]
        for n, event in enumerate(saved):
            event.seq = first + n
        return ChangeEvent.objects.bulk_create(saved)  # stored without the signal: the fan-out is measured alone

    one, fifty = events(1, 1), events(100, 50)
    with django_assert_num_queries(3):
        assert len(webhooks.deliveries_create(events=one)) == 1
    with django_assert_num_queries(3):
        assert len(webhooks.deliveries_create(events=fifty)) == 34  # the two 四川 counties' events


def test_a_failing_receiver_of_the_signal_never_blocks_the_change(endpoint, monkeypatch, record):
    def broken(*, events):
        raise RuntimeError("webhook table unavailable")

    monkeypatch.setattr(webhooks, "deliveries_create", broken)
    event = record()
    assert ChangeEvent.objects.filter(pk=event.pk).exists() and not WebhookDelivery.objects.exists()


def test_a_500_is_retried_with_backoff_then_delivered(endpoint, receiver, record):
    receiver.answers[:] = [500]
    event = record()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
    assert "HTTP 500" in delivery.error
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 59 <= wait <= 61
    webhooks_retry.delay()  # not yet due: nothing sent
    assert len(receiver.received) == 1
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhooks_retry.delay().get() == {"due": 1}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_code, delivery.error) == ("delivered", 2, 200, "")
    assert [r.headers["X-Portal-Delivery"] for r in receiver.received] == [event.public_id] * 2


def test_the_backoff_doubles_and_stops_24_hours_after_the_event(endpoint, receiver, record):
    receiver.answers[:] = [503] * 3
    event = record()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert 119 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() <= 121
    ChangeEvent.objects.filter(pk=event.pk).update(at=timezone.now() - timedelta(hours=24))
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)


def test_a_hanging_receiver_times_out_and_is_retried(endpoint, receiver, record, settings):
    settings.WEBHOOK_TIMEOUT = 0.5
    receiver.answers[:] = ["hang"]
    started = time.monotonic()
    record()
    assert time.monotonic() - started < 5
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.response_code) == ("retrying", None)
    assert "超时" in delivery.error and delivery.duration_ms < 3000


def test_a_huge_answer_is_not_read_past_the_cap(endpoint, receiver, record):
    receiver.answers[:] = ["huge"]
    started = time.monotonic()
    record()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.response_code) == ("retrying", 500)
    assert delivery.error.startswith("接收方返回 HTTP 500：xxx") and len(delivery.error) < 500
    assert receiver.huge_done.wait(10)
    assert receiver.huge_sent < receiver.HUGE  # the portal hung up after its 64 KiB
    assert time.monotonic() - started < 5


def test_the_same_event_is_sent_once_to_an_endpoint(endpoint, receiver, record):
    record()
    delivery = WebhookDelivery.objects.get()
    assert webhooks_deliver.delay([delivery.pk, delivery.pk]).get() == {"sent": 0}
    webhooks_retry.delay()
    assert len(receiver.received) == 1
    with pytest.raises(Exception, match="UNIQUE|unique|duplicate"):
        WebhookDelivery.objects.create(endpoint=delivery.endpoint, event=delivery.event)


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(endpoint, receiver, record, monkeypatch):
    """The after-commit task and the beat's retry at once: whoever claims the row first sends it."""
    receiver.answers[:] = [500]
    record()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    real_post = webhooks._post

    def post_while_another_worker_tries(endpoint, event):
        assert delivery_send(delivery_id=delivery.pk) is None
        return real_post(endpoint, event)

    monkeypatch.setattr(webhooks, "_post", post_while_another_worker_tries)
    delivery_send(delivery_id=delivery.pk)
    assert len(receiver.received) == 2


def test_failed_deliveries_are_replayed_one_or_all(admin, endpoint, receiver, record, django_capture_on_commit_callbacks):
    hook, _ = endpoint
    receiver.answers[:] = [500, 500]
    first, second = record(), record()
    WebhookDelivery.objects.update(state=DeliveryState.FAILED, next_attempt_at=None)
    one = WebhookDelivery.objects.get(event=first)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_replay(user=admin, delivery=one) == 1
    one.refresh_from_db()
    assert (one.state, one.attempts) == ("delivered", 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_replay_failed(user=admin, endpoint=hook) == 1
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert [r.headers["X-Portal-Delivery"] for r in receiver.received[2:]] == [first.public_id, second.public_id]


def test_a_disabled_endpoint_receives_nothing_at_once(admin, endpoint, receiver, record):
    hook, _ = endpoint
    receiver.answers[:] = [500]
    record()
    webhook_endpoint_disable(user=admin, endpoint=hook)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.error) == ("failed", webhooks.STOPPED)
    record()
    assert WebhookDelivery.objects.count() == 1 and len(receiver.received) == 1
    assert SecurityEvent.objects.filter(kind="webhook_disabled", user=admin).exists()
    with pytest.raises(ValidationError, match="已停用"):
        delivery_replay(user=admin, delivery=delivery)


def test_an_endpoint_disabled_after_the_event_is_checked_at_send_time(endpoint, receiver, django_capture_on_commit_callbacks):
    hook, _ = endpoint
    with django_capture_on_commit_callbacks() as sends:  # the event committed, its send not run yet
        change_record(type="checkmark.changed", object_url="/x/", region=Region.objects.get(code="510104"), channel="web", data={})
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=False)
    for send in sends:
        send()
    assert receiver.received == []
    assert WebhookDelivery.objects.get().state == "failed"


# --- the URL (SSRF) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:8000/hook", "本机、内网"),
        ("http://localhost/hook", "本机、内网"),
        ("http://10.1.2.3/hook", "本机、内网"),
        ("http://192.168.0.10/hook", "本机、内网"),
        ("http://169.254.169.254/latest/meta-data/", "本机、内网"),
        ("http://[::1]/hook", "本机、内网"),
        ("http://[::ffff:10.0.0.1]/hook", "本机、内网"),
        ("http://0.0.0.0/hook", "本机、内网"),
        ("http://224.0.0.1/hook", "本机、内网"),
        ("ftp://example.com/hook", "只能以 http:// 或 https:// 开头"),
        ("file:///etc/passwd", "只能以 http:// 或 https:// 开头"),
        ("javascript:alert(1)", "只能以 http:// 或 https:// 开头"),
        ("https://", "缺少主机名"),
        ("http://user:pw@8.8.8.8/hook", "不能包含用户名或密码"),
        ("http://8.8.8.8:99999/hook", "端口无效"),
        ("http://8.8.8.8/回调", "只能包含 ASCII 字符"),
    ],
)
def test_targets_inside_the_network_and_other_schemes_are_refused(admin, settings, url, reason):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(user=admin, name="内网", url=url)
    [message] = refused.value.message_dict["url"]
    assert message.startswith("回调地址（url）") and reason in message
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted_with_the_guard_on(admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    hook, secret = webhook_endpoint_create(user=admin, name="公网", url="https://8.8.8.8/hook")
    assert hook.active and len(secret) == 64


def test_the_address_is_checked_again_at_send_time(endpoint, receiver, record, settings):
    """A name that resolved to a public address at registration and to the loopback later (DNS
    rebinding) is refused when sending: nothing reaches the target."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    record()
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "retrying" and "本机、内网" in delivery.error


def test_unknown_event_types_are_refused(admin, receiver):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(user=admin, name="x", url=receiver.url, event_types=["checkmark.changed", "everything"])
    assert "everything" in refused.value.message_dict["event_types"][0]


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role, code", [("county", "510104"), ("city", "510100"), ("regulator", "510000"), ("supply_company", "510104")])
def test_only_province_and_national_administrators_register(make_user, receiver, role, code):
    user = make_user("someone", role, code)
    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(user=user, name="x", url=receiver.url)
    assert not WebhookEndpoint.objects.exists()


def test_another_province_cannot_touch_the_endpoint(endpoint, make_user):
    hook, _ = endpoint
    chongqing = make_user("cq", "province", "500000")
    with pytest.raises(PermissionDenied):
        webhook_endpoint_disable(user=chongqing, endpoint=hook)
    assert WebhookEndpoint.objects.get().active


def test_registration_is_audited(admin, endpoint):
    hook, secret = endpoint
    event = SecurityEvent.objects.get(kind="webhook_added")
    assert event.user == admin and hook.url in event.detail and secret not in event.detail


# --- pages -----------------------------------------------------------------------------------


def test_the_page_registers_shows_the_secret_once_and_lists_deliveries(admin, client, receiver, record, django_capture_on_commit_callbacks):
    client.force_login(admin)
    response = client.post(reverse("webhooks"), {"name": "四川政务平台", "url": receiver.url, "event_types": ["checkmark.changed"]})
    assert response.status_code == 200
    hook = WebhookEndpoint.objects.get()
    assert hook.event_types == ["checkmark.changed"] and hook.secret in response.content.decode()
    listing = client.get(reverse("webhooks")).content.decode()
    assert "四川政务平台" in listing and "指标填报" in listing and hook.secret not in listing

    receiver.answers[:] = [500]
    event = record()
    log = client.get(reverse("webhook_deliveries", args=[hook.pk])).content.decode()
    assert event.public_id in log and "重试中" in log and "HTTP 500" in log
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("webhook_delivery_replay", args=[delivery.pk])).status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "delivered"

    assert client.post(reverse("webhook_disable", args=[hook.pk])).status_code == 302
    assert not WebhookEndpoint.objects.get().active


def test_the_page_names_a_refused_address(admin, client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(admin)
    response = client.post(reverse("webhooks"), {"name": "内网", "url": "http://10.0.0.5/hook"})
    assert response.status_code == 400 and "回调地址（url）" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role, code", [("county", "510104"), ("city", "510100")])
def test_county_and_city_users_cannot_open_the_page(make_user, client, role, code):
    client.force_login(make_user("someone", role, code))
    assert client.get(reverse("webhooks")).status_code == 403
    assert client.post(reverse("webhooks"), {"name": "x", "url": "http://127.0.0.1/"}).status_code == 403


# --- API -------------------------------------------------------------------------------------


def test_the_api_registers_lists_logs_replays_and_disables(client_for, receiver, record, django_capture_on_commit_callbacks):
    api = client_for("510000")
    created = api.post(f"{V1}/webhooks/", {"name": "四川", "url": receiver.url, "event_types": []}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["secret"]) == 64 and body["region"] == "510000" and body["active"]
    assert "secret" not in api.get(f"{V1}/webhooks/{body['id']}/").json()
    assert [e["id"] for e in api.get(f"{V1}/webhooks/").json()["results"]] == [body["id"]]

    receiver.answers[:] = [500]
    event = record()
    log = api.get(f"{V1}/webhooks/{body['id']}/deliveries/?state=retrying").json()["results"]
    assert [(d["event"], d["state"], d["response_code"]) for d in log] == [(event.public_id, "retrying", 500)]
    assert verify(body["secret"], receiver.received[0].headers, receiver.received[0].body)
    with django_capture_on_commit_callbacks(execute=True):
        replayed = api.post(f"{V1}/webhooks/{body['id']}/deliveries/{log[0]['id']}/replay/")
    assert replayed.status_code == 202 and replayed.json()["state"] == "pending"  # queued; sent after commit
    assert WebhookDelivery.objects.get().state == "delivered"

    WebhookDelivery.objects.update(state="failed")
    assert api.post(f"{V1}/webhooks/{body['id']}/replay-failed/").json() == {"replayed": 1}
    disabled = api.post(f"{V1}/webhooks/{body['id']}/disable/")
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert_error(api.post(f"{V1}/webhooks/{body['id']}/disable/"), 400, "validation_error")


def test_the_api_refuses_private_targets_bad_types_and_the_wrong_clients(client_for, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    api = client_for("510000")
    body = assert_error(
        api.post(f"{V1}/webhooks/", {"name": "x", "url": "http://169.254.169.254/"}, format="json"), 400, "validation_error"
    )
    assert "本机、内网" in body["errors"]["url"][0]
    body = assert_error(
        api.post(f"{V1}/webhooks/", {"name": "x", "url": "https://8.8.8.8/", "event_types": ["x"]}, format="json"), 400, "validation_error"
    )
    assert "未知的事件类型“x”" in body["errors"]["event_types.0"][0]
    for client in (client_for("510104"), client_for("510100")):
        assert_error(client.get(f"{V1}/webhooks/"), 403, "permission_denied")
        assert_error(client.post(f"{V1}/webhooks/", {"name": "x", "url": "https://8.8.8.8/"}, format="json"), 403, "permission_denied")
    reader = client_for("510000", access="read")
    assert_error(reader.post(f"{V1}/webhooks/", {"name": "x", "url": "https://8.8.8.8/"}, format="json"), 403, "permission_denied")
    assert not WebhookEndpoint.objects.exists()


def test_the_api_shows_no_endpoint_of_another_province(client_for, make_user, receiver):
    hook, _ = webhook_endpoint_create(user=make_user("cq", "province", "500000"), name="重庆", url=receiver.url)
    api = client_for("510000")
    assert api.get(f"{V1}/webhooks/").json()["results"] == []
    assert_error(api.get(f"{V1}/webhooks/{hook.pk}/deliveries/"), 404, "not_found")
    assert_error(api.post(f"{V1}/webhooks/{hook.pk}/disable/"), 404, "not_found")


# --- a real worker ---------------------------------------------------------------------------


def _wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.integration
def test_a_real_worker_delivers_after_commit_and_retries_a_500(celery_worker_redis, make_user, receiver):
    """The path in production: the change commits, the task goes through Redis to a worker, which
    signs and posts; a 500 is retried by the beat's task on the worker."""
    admin = make_user("p", "province", "510000")
    _hook, secret = webhook_endpoint_create(user=admin, name="四川", url=receiver.url)
    receiver.answers[:] = [500]
    event = change_record(
        type="submission.changed", object_url="/api/v1/x/", region=Region.objects.get(code="510104"), channel="api", data={}
    )
    assert _wait_for(lambda: WebhookDelivery.objects.filter(state="retrying").exists())
    assert verify(secret, receiver.received[0].headers, receiver.received[0].body)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhooks_retry.delay().get(timeout=30) == {"due": 1}
    assert _wait_for(lambda: WebhookDelivery.objects.filter(state="delivered").exists())
    assert [r.headers["X-Portal-Delivery"] for r in receiver.received] == [event.public_id] * 2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_registers_an_endpoint_and_replays_its_failures_in_the_browser(browser_page, live_server, make_user, receiver):
    page = browser_page
    make_user("sc", "province", "510000", last_name="省能源局")
    login(page, live_server, "sc")
    page.click("text=回调地址")
    page.fill("#id_name", "省政务平台")
    page.fill("#id_url", receiver.url)
    page.check("text=审核状态")
    page.click("button:has-text('登记')")
    secret = page.inner_text(".secret-value")
    assert secret == WebhookEndpoint.objects.get().secret
    screenshot(page, "webhooks-registered")

    receiver.answers[:] = [500]
    change_record(type="submission.changed", object_url="/api/v1/x/", region=Region.objects.get(code="510104"), channel="web", data={})
    WebhookDelivery.objects.update(state=DeliveryState.FAILED, next_attempt_at=None)
    page.click("td.row-actions a:has-text('投递记录')")
    page.wait_for_selector("h1:has-text('投递记录')")
    assert "HTTP 500" in page.inner_text("table.grid")
    page.click("button:has-text('重发全部失败的投递')")
    page.wait_for_selector("text=已重新发送 1 条失败的投递")
    assert page.inner_text("tr.state-delivered td:nth-child(3)") == "已送达"
    screenshot(page, "webhooks-deliveries")
