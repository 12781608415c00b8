"""``Idempotency-Key`` on every API write (POST, PUT, PATCH): a client that retries after a timeout
sends the same key, and the write is applied once.

- The same key with the same request (method, path, query and body) within ``TTL`` gets the first
  response again, with ``Idempotent-Replayed: true``; nothing is applied a second time.
- The same key with a different request: 422 ``idempotency_key_reused``, nothing applied.
- The same key while the first request is still running: 409 ``conflict``; retry a moment later.
- Kept: successful responses (2xx) and refusals of the data itself (400, 404, 413, 415), which a
  retry would only repeat. Not kept, so a retry runs again: authentication and permission refusals,
  state conflicts (409, 412, 428), throttling (429) and server errors.

Keys belong to their sender (the API token, or the signed-in user), so two clients never collide.
A middleware rather than a view mixin: it covers every write of every app's API at one place and
runs before the view's transaction, so the claim on a key is committed and seen by a concurrent
retry at once. Records older than ``TTL`` are ignored and purged daily (utilities.purge_idempotency).
"""

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework import exceptions

from utilities.models import IdempotencyRecord

from .authentication import TokenAuthentication

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
METHODS = frozenset({"POST", "PUT", "PATCH"})
KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces: a UUID fits
KEPT = frozenset({400, 404, 413, 415})
REPLAYED_HEADERS = ("ETag", "Location", "Retry-After")


def _error(status, code, message, errors=None):
    return JsonResponse(
        {"code": code, "message": message, "errors": errors or {}}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _owner(request):
    """Who sent the request, as the view will see it; None when it will be refused unauthenticated."""
    try:
        found = TokenAuthentication().authenticate(request)
    except exceptions.AuthenticationFailed:
        return None
    if found is not None:
        return f"token:{found[1].pk}"
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


def _fingerprint(request):
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n".encode())
    if request.method == "POST" and request.content_type == "multipart/form-data":
        # An upload may exceed the in-memory body limit: its fields and each file's content instead.
        for name, values in sorted(request.POST.lists()):
            digest.update(f"{name}={values!r}\n".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(f"{name}:{upload.name}:{file_digest.hexdigest()}\n".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _claim(owner, key, fingerprint):
    """The record for (owner, key): (record, True) when this request is the first, in its own committed transaction."""
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=now - TTL).delete()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=fingerprint, created_at=now), True
        except IntegrityError:
            return IdempotencyRecord.objects.get(owner=owner, key=key), False


def _replay(record):
    response = HttpResponse(bytes(record.body), status=record.status, content_type=record.content_type or None)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _keep(record, response):
    if response.streaming or not (200 <= response.status_code < 300 or response.status_code in KEPT):
        record.delete()  # the key is free again: a retry runs the request
        return
    record.status = response.status_code
    record.content_type = response.get("Content-Type", "")
    record.headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    record.body = response.content
    record.save(update_fields=["status", "content_type", "headers", "body"])


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method not in METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not KEY_RE.match(key):
            return _error(
                400,
                "validation_error",
                "Idempotency-Key 无效，未作任何修改。",
                {HEADER: ["应为 1–255 个可打印 ASCII 字符（不含空格），建议每次写入用一个新的 UUID。"]},
            )
        owner = _owner(request)
        if owner is None:
            return self.get_response(request)  # the view answers 401
        try:
            fingerprint = _fingerprint(request)
        except Exception:  # noqa: BLE001 — a body the view itself refuses (too large, unreadable): no key kept
            return self.get_response(request)
        record, first = _claim(owner, key, fingerprint)
        if not first:
            if record.fingerprint != fingerprint:
                return _error(
                    422,
                    "idempotency_key_reused",
                    "这个 Idempotency-Key 已用于另一个不同的请求（24 小时内），未作任何修改：新的写入请换一个新的键。",
                )
            if record.status is None:
                return _error(409, "conflict", "使用同一 Idempotency-Key 的请求正在处理中，请稍后重试。")
            return _replay(record)
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        _keep(record, response)
        return response
