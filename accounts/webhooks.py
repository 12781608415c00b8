"""Webhooks: a 政务平台 registers an endpoint and receives every change event in its scope, signed.

- Fan-out: ``change_recorded`` (accounts.changes) reaches ``deliveries_create`` inside the writer's
  transaction; it stores one WebhookDelivery per (event, endpoint) with a fixed number of queries,
  and hands them to a Celery task after commit. Its failure is logged and never undoes the change.
- Scope: an endpoint takes its creator's region (None: the national administrator's) and receives
  the events ``ChangeEvent.objects.restrict`` would show that region: its own and those below.
- Sending (``delivery_send``): the event payload (``accounts.changes.event_payload``) as JSON,
  signed ``X-Portal-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``. The
  row is claimed by moving its ``next_attempt_at`` past the send (a lease), so the after-commit
  task and the beat's retry never send it twice; the endpoint must still be active at that moment.
  2xx: delivered; anything else: retried after 1, 2, 4… minutes until WEBHOOK_RETRY_HOURS after the
  event, then failed. Redirects are not followed; a failure's answer is read up to a cap, within a
  timeout, for the log.
- SSRF: ``webhook_url_check`` allows http(s) only and, unless WEBHOOK_ALLOW_PRIVATE, refuses hosts
  that resolve to loopback, private, link-local, reserved or multicast addresses, at registration
  and again at each send, which then connects to the very address it checked (no DNS rebinding).
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .audit import security_event_record
from .changes import EVENT_TYPES, event_payload
from .models import DeliveryState, Region, SecurityEventKind, WebhookDelivery, WebhookEndpoint
from .scoping import Action, ensure_in_scope

logger = logging.getLogger(__name__)

OPEN = (DeliveryState.PENDING, DeliveryState.RETRYING)
SIGNATURE_VERSION = "v1"
STOPPED = "回调地址已停用，不再发送。"
USER_AGENT = "huode-dianli-webhooks/1"


# --- the URL: http(s) only, and no target inside the portal's own network ----------------------


def _forbidden(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is no part of it
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global


def webhook_url_check(url):
    """Check a webhook URL and resolve its host; returns ``(parts, addresses)`` (urlsplit, IP strings).

    Raises ValidationError on field ``url``. Used at registration (service, page form, API) and
    before every send, whose connection then goes to ``addresses[0]``.
    """

    def refuse(message):
        raise ValidationError({"url": f"回调地址（url）{message}"})

    parts = urlsplit(str(url or "").strip())
    if parts.scheme not in ("http", "https"):
        refuse(f"只能以 http:// 或 https:// 开头（收到的协议为“{parts.scheme or '无'}”）。")
    if not parts.hostname:
        refuse("缺少主机名。")
    if not parts.geturl().isascii():
        refuse("只能包含 ASCII 字符：中文域名请写作 xn-- 形式，中文路径请先做百分号编码。")
    if parts.username is not None or parts.password is not None:
        refuse("不能包含用户名或密码：接收方请用签名密钥验证来源。")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        refuse("的端口无效。")
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        refuse(f"的主机名“{parts.hostname}”无法解析。")
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if _forbidden(address):
                refuse(
                    f"的主机“{parts.hostname}”指向本机、内网、链路本地、保留或组播地址（{address}），"
                    "出于安全考虑不允许；请使用政务平台对外的公网地址。"
                )
    return parts, addresses


# --- signing ---------------------------------------------------------------------------------


def signature_header(*, secret, timestamp, body):
    """``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` (body: the bytes sent)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SIGNATURE_VERSION}={digest}"


def event_body(event):
    return json.dumps(event_payload(event), ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


# --- selectors -------------------------------------------------------------------------------


def endpoints_for(user):
    return WebhookEndpoint.objects.restrict(user, Action.VIEW).select_related("region", "created_by")


def deliveries_for(user, endpoint):
    return (
        WebhookDelivery.objects.restrict(user, Action.VIEW).filter(endpoint=endpoint).select_related("event").order_by("-created_at", "-pk")
    )


# --- registration ----------------------------------------------------------------------------


def _require_webhook_admin(user, obj=None):
    if not user.has_perm("accounts.manage_webhooks", obj):
        if obj is None:
            raise PermissionDenied("只有省级能源主管部门和国家能源局的管理员可以管理回调地址。")
        raise PermissionDenied("该回调地址不在您的管辖范围内。")


@transaction.atomic
def webhook_endpoint_create(*, user, name, url, event_types=()):
    """Register an endpoint for ``user``'s region (the country for the national administrator);
    returns ``(endpoint, secret)``: the signing secret is shown to the administrator only now."""
    _require_webhook_admin(user)
    event_types = list(dict.fromkeys(event_types or []))
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            {"event_types": f"未知的事件类型：{'、'.join(map(str, unknown))}；可选：{'、'.join(EVENT_TYPES)}（不选表示全部）。"}
        )
    webhook_url_check(url)
    endpoint = WebhookEndpoint(
        name=name,
        url=str(url).strip(),
        event_types=event_types,
        secret=secrets.token_hex(32),
        region=user.region,
        created_by=user,
    )
    endpoint.full_clean()
    endpoint.save()
    ensure_in_scope(user, endpoint, Action.VIEW)
    security_event_record(kind=SecurityEventKind.WEBHOOK_ADDED, user=user, detail=f"{endpoint.name}：{endpoint.url}")
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_endpoint_disable(*, user, endpoint):
    """Stop an endpoint at once: nothing more is sent to it, its open deliveries fail."""
    _require_webhook_admin(user, endpoint)
    endpoint = WebhookEndpoint.objects.restrict(user, Action.VIEW).select_for_update().filter(pk=endpoint.pk).first()
    if endpoint is None:
        raise PermissionDenied("该回调地址不在您的管辖范围内。")
    if not endpoint.active:
        raise ValidationError("该回调地址已经停用。")
    endpoint.active = False
    endpoint.disabled_at = timezone.now()
    endpoint.save(update_fields=["active", "disabled_at"])
    endpoint.deliveries.filter(state__in=OPEN).update(state=DeliveryState.FAILED, next_attempt_at=None, error=STOPPED)
    security_event_record(kind=SecurityEventKind.WEBHOOK_DISABLED, user=user, detail=f"{endpoint.name}：{endpoint.url}")
    return endpoint


# --- fan-out (inside the writer's transaction) ---------------------------------------------------


def _covers(endpoint, event, paths):
    if endpoint.event_types and event.type not in endpoint.event_types:
        return False
    if endpoint.region_id is None:
        return True
    return event.region_id is not None and paths[event.region_id].startswith(endpoint.region.path)


def deliveries_create(*, events):
    """One pending delivery per (event, active endpoint that covers it); three queries whatever the
    number of events. They are sent after the writer's transaction commits."""
    endpoints = list(WebhookEndpoint.objects.filter(active=True, created_by__is_active=True).select_related("region"))
    if not endpoints:
        return []
    paths = dict(Region.objects.filter(pk__in={e.region_id for e in events if e.region_id}).values_list("pk", "path"))
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for event in events
            for endpoint in endpoints
            if _covers(endpoint, event, paths)
        ]
    )
    if deliveries:
        transaction.on_commit(partial(deliveries_enqueue, [d.pk for d in deliveries]))
    return deliveries


def on_change_recorded(sender, events, **kwargs):
    # A savepoint: a failure here is logged and the change is still saved (the beat cannot recover
    # rows never written, but a webhook must never cost a county its write).
    try:
        with transaction.atomic():
            deliveries_create(events=events)
    except Exception:  # noqa: BLE001
        logger.exception("回调投递未能记录（变更已照常保存）：事件 %s", [e.seq for e in events])


def connect():
    from .changes import change_recorded

    change_recorded.connect(on_change_recorded, dispatch_uid="accounts.webhooks")


def deliveries_enqueue(delivery_ids):
    """Hand deliveries to the worker; a broker that is down leaves them to the beat's retry."""
    from .tasks import webhooks_deliver  # the task module imports these services

    try:
        webhooks_deliver.delay(delivery_ids)
    except Exception:  # noqa: BLE001 — after commit: nothing may reach the request that wrote the change
        logger.exception("回调投递 %s 未能入队，将由定时重试发送。", delivery_ids)


# --- sending ---------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to a moment later."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _read_capped(response, deadline):
    """What arrives of the answer, up to WEBHOOK_MAX_RESPONSE_BYTES and until the deadline; the rest
    is never read (the connection is closed on it)."""
    cap, read = settings.WEBHOOK_MAX_RESPONSE_BYTES, bytearray()
    try:
        while len(read) < cap and time.monotonic() < deadline:
            chunk = response.read1(min(8192, cap - len(read)))
            if not chunk:
                break
            read += chunk
    except (TimeoutError, http.client.HTTPException):
        pass  # a slow or broken error page: its beginning is enough for the log
    return bytes(read)


def _post(endpoint, event):
    """Send one event; returns ``(response code or None, duration in ms, error text)``."""
    body = event_body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": event.type,
        "X-Portal-Delivery": event.public_id,
        "X-Portal-Timestamp": str(timestamp),
        "X-Portal-Signature": signature_header(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    timeout = settings.WEBHOOK_TIMEOUT
    started = time.monotonic()
    code, error, connection = None, "", None
    try:
        parts, addresses = webhook_url_check(endpoint.url)
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = kind(parts.hostname, parts.port, address=addresses[0], timeout=timeout)
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        code = response.status
        if not 200 <= code < 300:  # a 2xx's body is never read: the receiver has the event
            answer = _read_capped(response, started + timeout)
            error = f"接收方返回 HTTP {code}：{answer[:200].decode('utf-8', 'replace')}".strip("：")
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except TimeoutError:
        error = f"接收方在 {timeout:g} 秒内没有响应（已超时）。"
    except (OSError, http.client.HTTPException) as exc:
        error = f"连接接收方失败：{type(exc).__name__} {exc}"
    except Exception as exc:  # noqa: BLE001 — recorded as a failed attempt, so the delivery still runs out its 24 hours
        logger.exception("回调投递：发送到 %s 时出错", endpoint.url)
        error = f"发送失败：{type(exc).__name__} {exc}"
    finally:
        if connection is not None:
            connection.close()
    return code, round((time.monotonic() - started) * 1000), error[:500]


def delivery_send(*, delivery_id):
    """Send one due delivery (pending or retrying) and record the outcome; returns it, or None when
    the row was not due (already sent, claimed by another worker, or its endpoint disabled)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(pk=delivery_id, state__in=OPEN, next_attempt_at__lte=now)
    if due.filter(endpoint__active=False).update(state=DeliveryState.FAILED, next_attempt_at=None, error=STOPPED):
        return None
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT * 2 + 60)  # a worker lost mid-send: the beat retries after it
    if not due.filter(endpoint__active=True).update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=lease):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event__region").get(pk=delivery_id)
    code, duration, error = _post(delivery.endpoint, delivery.event)
    delivery.response_code, delivery.duration_ms, delivery.error = code, duration, error
    if code is not None and 200 <= code < 300:
        delivery.state, delivery.next_attempt_at = DeliveryState.DELIVERED, None
    else:
        retry_at = timezone.now() + timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1))
        if retry_at <= delivery.event.at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            delivery.state, delivery.next_attempt_at = DeliveryState.RETRYING, retry_at
        else:
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
    delivery.save(update_fields=["state", "next_attempt_at", "response_code", "duration_ms", "error"])
    logger.info(
        "回调投递 %s（事件 %s → %s）：%s，第 %s 次，HTTP %s，%s 毫秒 %s",
        delivery.pk,
        delivery.event.seq,
        delivery.endpoint.url,
        delivery.state,
        delivery.attempts,
        code,
        duration,
        error,
    )
    return delivery


def deliveries_due(*, now=None):
    """The ids of deliveries whose (re)try is due, oldest first."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(state__in=OPEN, next_attempt_at__lte=now, endpoint__active=True)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )


# --- replay ----------------------------------------------------------------------------------


def _replay(deliveries):
    ids = list(deliveries.values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(state=DeliveryState.PENDING, next_attempt_at=timezone.now(), error="")
    if ids:
        transaction.on_commit(partial(deliveries_enqueue, ids))
    return len(ids)


def _active_endpoint(user, endpoint):
    endpoint = WebhookEndpoint.objects.restrict(user, Action.VIEW).select_for_update().filter(pk=endpoint.pk).first()
    if endpoint is None:
        raise PermissionDenied("该回调地址不在您的管辖范围内。")
    if not endpoint.active:
        raise ValidationError("该回调地址已停用，不能重发；如需继续接收，请重新登记。")
    return endpoint


@transaction.atomic
def delivery_replay(*, user, delivery):
    """Send one delivery again now, whatever its state (the receiver dedups by X-Portal-Delivery).
    Past its event's retry window it is tried once more and fails again if the receiver still does."""
    _require_webhook_admin(user, delivery)
    _active_endpoint(user, delivery.endpoint)
    return _replay(WebhookDelivery.objects.restrict(user, Action.VIEW).filter(pk=delivery.pk))


@transaction.atomic
def deliveries_replay_failed(*, user, endpoint):
    """Send every failed delivery of ``endpoint`` again; returns how many."""
    _require_webhook_admin(user, endpoint)
    endpoint = _active_endpoint(user, endpoint)
    return _replay(endpoint.deliveries.filter(state=DeliveryState.FAILED))
