"""Security: login lockout (django-axes), headers and cookies, CSRF on every portal URL."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # conftest.make_user's
LOCKED = "登录失败次数过多，账户已暂时锁定"


# --- Login throttling and lockout -------------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    """Axes is off in the test settings (client.login() passes no request); on here, as in production."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def login(client, username, password, ip="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_logins_lock_the_account_with_a_chinese_page(axes_on, make_user):
    make_user("jinjiang", "county", "510104")
    client = Client()
    for attempt in range(4):
        response = login(client, "jinjiang", "wrong")
        assert response.status_code == 200, attempt  # the form again, with its error
        assert LOCKED not in response.content.decode()
    response = login(client, "jinjiang", "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and "账户已暂时锁定" in page and "15 分钟" in page
    assert "accounts/lockout.html" in [t.name for t in response.templates]


def test_a_correct_password_is_refused_while_locked_out_and_accepted_after_the_cool_off(axes_on, make_user):
    from axes.models import AccessAttempt

    make_user("jinjiang", "county", "510104")
    client = Client()
    for _ in range(5):
        login(client, "jinjiang", "wrong")
    response = login(client, "jinjiang", PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session

    # The cool-off passes (15 minutes and a second).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    response = login(client, "jinjiang", PASSWORD)
    assert response.status_code == 302 and response.url == "/"
    assert client.session["_auth_user_id"]


def test_lockout_is_keyed_by_username_and_ip(axes_on, make_user):
    make_user("jinjiang", "county", "510104")
    make_user("chengdu", "city", "510100")
    for _ in range(5):
        login(Client(), "jinjiang", "wrong", ip="10.0.0.1")
    assert login(Client(), "jinjiang", PASSWORD, ip="10.0.0.1").status_code == 429
    # Same user from another address, another user from the same address: not locked.
    assert login(Client(), "jinjiang", PASSWORD, ip="10.0.0.2").status_code == 302
    assert login(Client(), "chengdu", PASSWORD, ip="10.0.0.1").status_code == 302


def test_a_success_resets_the_failure_count(axes_on, make_user):
    make_user("jinjiang", "county", "510104")
    for _ in range(4):
        login(Client(), "jinjiang", "wrong")
    assert login(Client(), "jinjiang", PASSWORD).status_code == 302
    for _ in range(4):
        assert login(Client(), "jinjiang", "wrong").status_code == 200
    assert login(Client(), "jinjiang", PASSWORD).status_code == 302


def test_api_tokens_are_not_affected_by_a_lockout(axes_on, make_user):
    from accounts.models import Region
    from accounts.services import api_token_create

    admin = make_user("sichuan", "province", "510000")
    _token, secret = api_token_create(user=admin, name="政务平台", region=Region.objects.get(code="510000"), access="read")
    for _ in range(5):
        login(Client(), "sichuan", "wrong", ip="127.0.0.1")
    assert login(Client(), "sichuan", PASSWORD, ip="127.0.0.1").status_code == 429
    response = Client().get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200


def test_lockout_settings_come_from_the_environment():
    from django.conf import settings

    assert settings.AUTHENTICATION_BACKENDS == [
        "axes.backends.AxesStandaloneBackend",
        "accounts.backends.RegionModelBackend",
        "rules.permissions.ObjectPermissionBackend",
    ]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


# --- Headers and cookies ----------------------------------------------------------------------


def _policy(response):
    return dict((part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in response["Content-Security-Policy"].split(";")))


def test_pages_carry_a_strict_content_security_policy_and_the_other_headers(client):
    response = client.get("/login/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline scripts, no eval
    assert policy["style-src"] == "'self'"
    assert policy["style-src-attr"] == "'unsafe-inline'"  # progress bars' width="…%" attributes only
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["base-uri"] == "'self'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_the_csrf_and_session_cookies_are_httponly_and_samesite(client, make_user):
    response = client.get("/login/")
    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    make_user("jinjiang", "county", "510104")
    response = client.post("/login/", {"username": "jinjiang", "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_the_api_docs_alone_get_the_relaxed_policy_and_still_render(client, make_user):
    client.force_login(make_user("sichuan", "province", "510000"))
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page and "drf_spectacular_sidecar" in page  # served by us, not a CDN
    policy = _policy(response)
    assert "'unsafe-inline'" in policy["script-src"] and policy["default-src"] == "'self'"
    assert "http" not in response["Content-Security-Policy"]
    # Every script and stylesheet the page loads is our own (static files), as 'self' requires.
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/"), url
    assert "'unsafe-inline'" not in _policy(client.get("/api/tokens/"))["script-src"]


def test_no_template_has_an_inline_script_or_event_handler():
    from django.conf import settings

    offenders = []
    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=", text) or "javascript:" in text:
            offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert offenders == []


# --- CSRF everywhere --------------------------------------------------------------------------

SAMPLES = {"int": "1", "str": "2022S1", "slug": "sample", "path": "1", "uuid": "00000000-0000-0000-0000-000000000000"}


def _portal_urls(patterns=None, prefix=""):
    """Every URL pattern outside /api/v1/ (the API's CSRF is DRF's), as a sample URL that resolves to it."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for entry in patterns:
        route = prefix + _route(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _portal_urls(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + route, entry


def _route(pattern):
    text = str(pattern)
    if hasattr(pattern, "converters") and not text.startswith("^"):  # path(): <conv:name>
        return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], text)
    text = text.lstrip("^").rstrip("$").replace("\\Z", "")
    text = re.sub(r"\(\?P<\w+>([^()]*)\)", lambda m: m.group(1).split("|")[0] if "|" in m.group(1) else "1", text)
    return text.replace("\\", "")


def test_every_portal_url_refuses_a_post_without_a_csrf_token(make_user):
    client = Client(enforce_csrf_checks=True)
    user = make_user("root", "province", "510000")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    checked, refused, unresolved = [], [], []
    for url, entry in _portal_urls():
        if url.startswith("/api/v1/"):
            continue
        try:
            match = resolve(url)
        except Exception:
            unresolved.append(url)
            continue
        if match.func is not entry.callback:
            unresolved.append(url)
            continue
        response = client.post(url, {"anything": "1"})
        checked.append(url)
        drf = hasattr(entry.callback, "cls")  # the schema and the docs: DRF's session check refuses it
        if response.status_code != 403 or not (drf or "CSRF" in response.content.decode()):
            refused.append((url, response.status_code))
    assert refused == []
    assert len(checked) > 60, (len(checked), unresolved)  # the portal's, the ledger's and the admin's
    for url in ("/login/", "/logout/", "/ledgers/sample/adapt/", "/reporting/import/attachment2/", "/api/tokens/"):
        assert url in checked


def test_a_post_with_the_token_gets_through(make_user):
    client = Client(enforce_csrf_checks=True)
    make_user("jinjiang", "county", "510104")
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    response = client.post("/login/", {"username": "jinjiang", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
