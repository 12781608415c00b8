"""Two-factor login (等保2.0 8.1.4.1 d): TOTP through django-otp with one-time recovery codes.

Codes are real TOTP codes computed from the device's key (django_otp.oath), at the current time
step or the next one (the device accepts one step of drift either side).
"""

import logging
import re
import time
from base64 import b32encode
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from accounts.policy import second_factor_required

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # conftest.make_user's
SETUP, VERIFY, MANAGE = "/account/otp/setup/", "/account/otp/verify/", "/account/otp/"
WRONG = "验证码不正确"
REPLAYED = "该验证码已经用过"
THROTTLED = "验证码错误次数过多"


@pytest.fixture
def otp_on(settings):
    """Off in the test settings (the suite's force_login users give no code); on here, as in production."""
    settings.OTP_REQUIRED = True
    return settings


def code_for(device, steps_ahead=0):
    """The device's code at the current time step (or ``steps_ahead`` later), from its key."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def login(username):
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client, response


def enrol(client):
    """Open the enrolment page and confirm with the first code; returns (device, recovery codes)."""
    assert client.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user_id=client.session["_auth_user_id"], confirmed=False)
    response = client.post(SETUP, {"code": code_for(device), "next": "/"})
    assert response.status_code == 200, response.content.decode()
    codes = re.findall(r'<code class="secret-value">([a-z2-7]{8})</code>', response.content.decode())
    return TOTPDevice.objects.get(pk=device.pk), codes


def unthrottle(device):
    """Lets django-otp's back-off (1 s after the first failure) pass without sleeping."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=5))


def is_verified(client):
    return "otp_device_id" in client.session


@pytest.fixture
def province(make_user):
    return make_user("sc", "province", "510000")


@pytest.fixture
def enrolled(otp_on, province):
    """The province official, enrolled in an earlier session: its device and its recovery codes."""
    client, _ = login("sc")
    device, codes = enrol(client)
    # The enrolment used the current step; move last_t back so the tests can use it again.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=device.last_t - 1)
    return TOTPDevice.objects.get(pk=device.pk), codes


# --- who must ---------------------------------------------------------------------------------


def test_policy_requires_province_national_regulator_and_superusers_only(make_user, django_user_model, client_for):
    assert second_factor_required(make_user("sc", "province", "510000"))
    assert second_factor_required(make_user("nea", "national"))
    assert second_factor_required(make_user("reg", "regulator", "510000"))
    assert second_factor_required(django_user_model.objects.create_superuser("root", password=PASSWORD, role="county", region=None))
    for username, role, code in (("cd", "city", "510100"), ("jj", "county", "510104"), ("gw", "supply_company", "510000")):
        assert not second_factor_required(make_user(username, role, code)), role
    # A province-level token acts as a province official, but its token is its factor.
    token_user = client_for("510000").token.user
    assert token_user.role == "province" and not second_factor_required(token_user)


def test_not_forced_when_otp_required_is_off(province):
    client, response = login("sc")
    assert response.url == "/"
    assert client.get("/").status_code == 200


# --- enrolment --------------------------------------------------------------------------------


def test_a_required_user_without_a_device_is_sent_to_enrolment(otp_on, province):
    client, response = login("sc")
    response = client.get(response.url)
    assert response.status_code == 302 and response.url.startswith(SETUP)
    for path in ("/notifications/", "/ledgers/", "/api/tokens/"):
        assert client.get(path).url.startswith(SETUP), path
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=province)
    assert not device.confirmed
    # The QR code inline (no external service, no script: the CSP forbids inline scripts) and the secret.
    assert '<svg class="otp-qr"' in html and "<script" not in html
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    assert f"issuer={quote('获得电力台账')}" in device.config_url and f"secret={secret}" in device.config_url
    # Reloading keeps the same secret (the phone may already have it).
    client.get(SETUP)
    assert TOTPDevice.objects.get(user=province).key == device.key


def test_enrol_confirm_and_recovery_codes_shown_once(otp_on, province):
    client, _ = login("sc")
    device, codes = enrol(client)
    assert device.confirmed
    assert len(codes) == len(set(codes)) == 10
    assert sorted(StaticToken.objects.filter(device__user=province).values_list("token", flat=True)) == sorted(codes)
    assert is_verified(client)
    assert client.get("/").status_code == 200
    # Never shown again: enrolment now leads to the user's page, which lists none of them.
    response = client.get(SETUP)
    assert response.status_code == 302 and response.url == MANAGE
    page = client.get(MANAGE).content.decode()
    assert "剩余恢复码：10 个" in page and not any(code in page for code in codes)
    enrolled = SecurityEvent.objects.get(kind="otp_enrolled")  # in the hash-chained log, never a code
    assert enrolled.user_id == province.pk and not any(code in enrolled.detail for code in codes)


def test_a_wrong_first_code_does_not_confirm(otp_on, province):
    client, _ = login("sc")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=province)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 400 and WRONG in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and not StaticToken.objects.filter(device__user=province).exists()
    assert not is_verified(client)


# --- the code after the password ---------------------------------------------------------------


def test_the_next_login_asks_for_the_code_and_the_right_code_passes(enrolled):
    device, _ = enrolled
    client, response = login("sc")
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == f"{VERIFY}?next=%2F"
    page = client.get(response.url)
    assert page.status_code == 200 and "输入动态验证码" in page.content.decode()
    assert client.get("/ledgers/").url.startswith(VERIFY)

    response = client.post(VERIFY, {"code": code_for(device), "next": "/ledgers/"})
    assert response.status_code == 302 and response.url == "/ledgers/"
    assert is_verified(client)
    assert client.get("/ledgers/").status_code == 200


def test_a_wrong_code_is_refused_changes_nothing_is_throttled_and_recorded(enrolled, caplog):
    device, _ = enrolled
    client, _ = login("sc")
    last_t = device.last_t
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    with caplog.at_level(logging.WARNING, logger="accounts.otp"):
        response = client.post(VERIFY, {"code": wrong, "next": "/"})
    assert response.status_code == 400 and WRONG in response.content.decode()
    assert not is_verified(client) and client.get("/").url.startswith(VERIFY)
    device.refresh_from_db()
    assert device.last_t == last_t and device.throttling_failure_count == 1
    assert any("otp_failed" in record.getMessage() and f"user={device.user_id}" in record.getMessage() for record in caplog.records)
    event = SecurityEvent.objects.get(kind="otp_failed")  # the hash-chained security-event log
    assert event.user_id == device.user_id and "wrong" in event.detail

    # django-otp's back-off: even the right code is refused straight after a failure …
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 429 and THROTTLED in response.content.decode()
    assert not is_verified(client)
    # … and accepted once it has passed.
    unthrottle(device)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    assert is_verified(client)


def test_a_code_in_the_wrong_shape_is_refused_in_chinese(enrolled):
    client, _ = login("sc")
    response = client.post(VERIFY, {"code": "12ab"})
    assert response.status_code == 400 and "验证码应为 6 位数字" in response.content.decode()
    response = client.post(VERIFY, {"code": ""})
    assert response.status_code == 400 and not is_verified(client)


def test_the_same_code_replayed_is_refused(enrolled):
    device, _ = enrolled
    code = code_for(device)
    first, _ = login("sc")
    assert first.post(VERIFY, {"code": code}).status_code == 302
    # Another login (an eavesdropper) with the code just used: refused, within its 30 s too.
    second, _ = login("sc")
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 400 and REPLAYED in response.content.decode()
    assert not is_verified(second)
    # The next code still works.
    unthrottle(device)
    assert second.post(VERIFY, {"code": code_for(device, steps_ahead=1)}).status_code == 302


def test_a_recovery_code_works_once(enrolled):
    device, codes = enrolled
    client, _ = login("sc")
    response = client.post(VERIFY, {"code": codes[0].upper()[:4] + "-" + codes[0][4:], "next": "/"})
    assert response.status_code == 302 and is_verified(client)
    assert StaticToken.objects.filter(device__user=device.user).count() == 9
    assert client.get("/").status_code == 200

    again, _ = login("sc")
    response = again.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 400 and "恢复码不正确或已经用过" in response.content.decode()
    assert not is_verified(again)
    assert again.post(VERIFY, {"code": "zzzzzzzz"}).status_code in (400, 429)
    assert StaticToken.objects.filter(device__user=device.user).count() == 9


def test_renewing_recovery_codes_needs_a_current_code(enrolled):
    device, codes = enrolled
    client, _ = login("sc")
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 302
    response = client.post("/account/otp/recovery-codes/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert response.status_code == 400
    assert StaticToken.objects.filter(device__user=device.user).count() == 9
    unthrottle(device)
    response = client.post("/account/otp/recovery-codes/", {"code": code_for(device)})
    assert response.status_code == 200
    fresh = re.findall(r'<code class="secret-value">([a-z2-7]{8})</code>', response.content.decode())
    stored = StaticToken.objects.filter(device__user=device.user).values_list("token", flat=True)
    assert len(fresh) == 10 and sorted(stored) == sorted(fresh)
    # Still verified (by the authenticator now), the old codes are void.
    assert client.get("/").status_code == 200
    assert login("sc")[0].post(VERIFY, {"code": codes[1]}).status_code == 400


# --- optional users, the admin, the API ------------------------------------------------------


def test_an_optional_user_is_not_forced_and_may_enrol_and_remove(otp_on, make_user):
    county = make_user("jj", "county", "510104")
    client, response = login("jj")
    assert client.get(response.url).status_code == 200
    page = client.get("/").content.decode()
    assert f'href="{MANAGE}"' in page  # the header's link
    assert "尚未绑定身份验证器" in client.get(MANAGE).content.decode()

    device, codes = enrol(client)
    assert len(codes) == 10
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=device.last_t - 1)
    # Once enrolled, the next login asks for the code, as for everyone with a device.
    other, response = login("jj")
    assert other.get("/").url.startswith(VERIFY)
    assert other.post(VERIFY, {"code": code_for(device)}).status_code == 302

    # Removing needs a current code: a wrong one changes nothing.
    wrong = f"{(int(code_for(device, steps_ahead=1)) + 1) % 1_000_000:06d}"
    response = other.post("/account/otp/remove/", {"code": wrong})
    assert response.status_code == 400 and WRONG in response.content.decode()
    assert TOTPDevice.objects.filter(user=county, confirmed=True).exists()
    unthrottle(device)
    response = other.post("/account/otp/remove/", {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 302 and response.url == MANAGE
    assert not TOTPDevice.objects.filter(user=county).exists() and not StaticToken.objects.filter(device__user=county).exists()
    assert list(SecurityEvent.objects.filter(user=county, kind__startswith="otp_").order_by("seq").values_list("kind", flat=True)) == [
        "otp_enrolled",
        "otp_failed",
        "otp_removed",
    ]
    # Password alone again.
    again, response = login("jj")
    assert again.get("/").status_code == 200


def test_the_admin_is_not_reachable_unverified(otp_on, django_user_model):
    django_user_model.objects.create_superuser("root", password=PASSWORD, role="national")
    client, _ = login("root")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(SETUP)
    assert client.get("/admin/accounts/user/").url.startswith(SETUP)
    device, _ = enrol(client)
    assert client.get("/admin/").status_code == 200

    TOTPDevice.objects.filter(pk=device.pk).update(last_t=device.last_t - 1)
    other, _ = login("root")
    response = other.get("/admin/")
    assert response.status_code == 302 and response.url == f"{VERIFY}?next=%2Fadmin%2F"
    assert other.post(VERIFY, {"code": code_for(device), "next": "/admin/"}).url == "/admin/"
    assert other.get("/admin/").status_code == 200


def test_api_tokens_are_unaffected_and_an_unverified_session_is_refused(otp_on, province, client_for):
    api = client_for("510000")
    assert api.get("/api/v1/regions/").status_code == 200
    # A province official's portal session without its code reads no API either.
    client, _ = login("sc")
    response = client.get("/api/v1/regions/")
    assert response.status_code == 403 and response.json()["code"] == "second_factor_required"


def test_logout_and_static_pass_while_unverified(enrolled):
    client, _ = login("sc")
    assert client.get("/static/css/portal.css").status_code in (200, 404)  # never a redirect to the code page
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == "/login/"
    assert "_auth_user_id" not in client.session


def test_next_is_never_another_site(enrolled):
    device, _ = enrolled
    client, _ = login("sc")
    response = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"
