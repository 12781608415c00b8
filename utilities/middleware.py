"""Security headers Django 5.2 does not set itself: Content-Security-Policy, Permissions-Policy, and
Cache-Control on whatever is private (see CacheControlMiddleware).

The portal's policy is strict: scripts only from our own static files (no inline scripts, no
eval), nothing from other origins, no framing, forms only to ourselves. Inline *style attributes*
are allowed (style-src-attr), since progress bars set their width that way; <style> elements are not.
The Swagger UI at /api/docs/ (drf-spectacular's template) has an inline <script> and <style>, so
that one path alone gets the relaxed policy below.

RequestContextMiddleware (at the end) gives each request its id and log context (docs/operations.md).
"""

import logging
import time

from django.conf import settings

from utilities.logging import region_var, request_id_var, sane_request_id, user_id_var

_SHARED = [
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
PORTAL_POLICY = "; ".join(["default-src 'self'", "script-src 'self'", "style-src 'self'", "style-src-attr 'unsafe-inline'", *_SHARED])
DOCS_POLICY = "; ".join(["default-src 'self'", "script-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline'", *_SHARED])
DOCS_PREFIX = "/api/docs/"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.portal_policy = getattr(settings, "CONTENT_SECURITY_POLICY", PORTAL_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        policy = DOCS_POLICY if request.path.startswith(DOCS_PREFIX) else self.portal_policy
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


PRIVATE = "private, no-store"
API_PREFIX = "/api/"


class CacheControlMiddleware:
    """``Cache-Control: private, no-store`` on every page a signed-in user gets, every API answer and
    every download (evidence, reports): neither a shared proxy nor the browser's cache may keep a
    region's data after the user has gone. A response that already forbids storing (Django's
    never_cache) keeps its own header; static files (WhiteNoise answers before this) and the pages
    of a signed-out visitor, like the login page, are cached as before.

    After AuthenticationMiddleware: it reads request.user. API clients sign in with a token inside
    the view, after this has run, hence the path as well.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        private = request.path.startswith(API_PREFIX) or (user is not None and user.is_authenticated)
        if private and "no-store" not in response.get("Cache-Control", "").lower():
            response["Cache-Control"] = PRIVATE
        return response


REQUEST_ID_HEADER = "X-Request-ID"
request_logger = logging.getLogger("portal.request")
# Probes and scrapes arrive every few seconds: their access lines only at DEBUG.
QUIET_PREFIXES = ("/health/", "/metrics")


class RequestContextMiddleware:
    """Gives each request an id (the caller's X-Request-ID if it is a sane token, else a new one),
    echoes it in the response, and puts it, the user id and the region code where every log record
    of the request can read them (utilities.logging). Writes one access line a request: method,
    path (no query string: it may carry a token), status and duration — never headers or bodies.

    After AuthenticationMiddleware: it reads request.user. The user is read again when the response
    comes back, so a login, logout or API token authentication during the view is what the access
    line shows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Set afresh on every request and deliberately not reset at the end: Django writes its
        # django.request line (4xx/5xx) after the middleware chain has returned, and it belongs
        # to this request too. The next request on the thread overwrites all three.
        request_id_var.set(request_id)
        started = time.monotonic()
        self._set_user(request)
        response = self.get_response(request)
        self._set_user(request)
        response[REQUEST_ID_HEADER] = request_id
        level = logging.DEBUG if request.path.startswith(QUIET_PREFIXES) else logging.INFO
        request_logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response

    @staticmethod
    def _set_user(request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            user_id_var.set(None)
            region_var.set(None)
            return
        user_id_var.set(user.pk)
        # RegionModelBackend loads the region with the user; a token's service user carries it too.
        region = getattr(user, "region", None) if getattr(user, "region_id", None) else None
        region_var.set(getattr(region, "code", None))
