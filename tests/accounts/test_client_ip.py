"""The client address behind trusted proxies (utilities.client_ip), and django-axes keyed by it."""

from datetime import timedelta

import pytest
from django.test import Client, RequestFactory

from accounts.models import SecurityEvent
from utilities.client_ip import client_ip

PASSWORD = "pw-for-tests-1"  # conftest.make_user's
LOCKED = "登录失败次数过多，账户已暂时锁定"


def request(peer, forwarded=None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@pytest.fixture
def proxied(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "172.16.5.5"]
    settings.TRUSTED_PROXY_COUNT = 1
    return settings


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert client_ip(request("203.0.113.7")) == "203.0.113.7"


def test_a_trusted_proxy_gives_the_client_it_saw(proxied):
    assert client_ip(request("10.1.2.3", "203.0.113.7")) == "203.0.113.7"
    assert client_ip(request("172.16.5.5", "203.0.113.7")) == "203.0.113.7"
    # What the client wrote itself before our proxy appended its address counts for nothing.
    assert client_ip(request("10.1.2.3", "1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    # No header from the proxy: the proxy is the peer.
    assert client_ip(request("10.1.2.3")) == "10.1.2.3"


def test_a_forged_header_from_an_untrusted_peer_is_ignored(proxied):
    assert client_ip(request("203.0.113.7", "10.9.9.9")) == "203.0.113.7"
    assert client_ip(request("172.16.5.6", "198.51.100.1")) == "172.16.5.6"  # not the trusted host
    assert client_ip(request("198.51.100.9", "garbage")) == "198.51.100.9"


def test_two_proxy_hops(proxied):
    proxied.TRUSTED_PROXY_COUNT = 2  # a load balancer in front of nginx
    assert client_ip(request("10.1.2.3", "6.6.6.6, 203.0.113.7, 10.2.0.1")) == "203.0.113.7"


def test_no_address_at_all():
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None


# --- django-axes behind the proxy ------------------------------------------------------------


@pytest.fixture
def axes_on(proxied):
    proxied.AXES_ENABLED = True
    proxied.AXES_FAILURE_LIMIT = 5
    proxied.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return proxied


def login(username, password, peer, forwarded=None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/login/", {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_lockout_is_per_username_and_real_client_behind_the_proxy(axes_on, make_user):
    from axes.models import AccessAttempt

    make_user("jinjiang", "county", "510104")
    make_user("chengdu", "city", "510100")
    for _ in range(5):
        login("jinjiang", "wrong", "10.0.0.2", "203.0.113.7")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    locked = login("jinjiang", PASSWORD, "10.0.0.2", "203.0.113.7")
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    # Every client comes through the same proxy: another client, or another user, is not locked.
    assert login("jinjiang", PASSWORD, "10.0.0.2", "203.0.113.8").status_code == 302
    assert login("chengdu", PASSWORD, "10.0.0.2", "203.0.113.7").status_code == 302


@pytest.mark.django_db
def test_an_untrusted_peer_cannot_dodge_the_lockout_with_a_forged_header(axes_on, make_user):
    make_user("jinjiang", "county", "510104")
    for n in range(5):
        login("jinjiang", "wrong", "198.51.100.9", f"192.0.2.{n}")
    assert login("jinjiang", PASSWORD, "198.51.100.9", "192.0.2.200").status_code == 429
    assert login("jinjiang", PASSWORD, "198.51.100.10").status_code == 302
    # The log holds the real peer, and says a forged header was ignored.
    failed = SecurityEvent.objects.filter(kind="login_failed").order_by("seq")
    assert {e.ip for e in failed} == {"198.51.100.9"}
    assert all("已忽略不可信来源的 X-Forwarded-For：192.0.2." in e.detail for e in failed)
