"""Security headers Django 5.2 does not set itself: Content-Security-Policy, Permissions-Policy, and
Cache-Control on whatever is private (see CacheControlMiddleware).

The portal's policy is strict: scripts only from our own static files (no inline scripts, no
eval), nothing from other origins, no framing, forms only to ourselves. Inline *style attributes*
are allowed (style-src-attr), since progress bars set their width that way; <style> elements are not.
The Swagger UI at /api/docs/ (drf-spectacular's template) has an inline <script> and <style>, so
that one path alone gets the relaxed policy below.
"""

from django.conf import settings

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
