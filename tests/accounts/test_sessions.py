"""Session limits (等保 8.1.4.1 c/d): idle timeout, absolute lifetime, and the user's list of
signed-in sessions, any of which the user can end."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import sessions
from accounts.models import UserSession

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # conftest.make_user's
LIST = "/account/sessions/"


class Clock:
    def __init__(self, start=1_900_000_000.0):
        self.at = start

    def __call__(self):
        return self.at

    def advance(self, **delta):
        self.at += timedelta(**delta).total_seconds()


@pytest.fixture
def clock(monkeypatch, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    settings.SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    clock = Clock()
    monkeypatch.setattr(sessions, "now", clock)
    return clock


def login(username, ip="203.0.113.10", agent="Firefox/140"):
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client


def at_login_page(response):
    return response.status_code == 302 and response.url.startswith("/login/")


def test_the_settings_bound_the_cookie_too(settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()


def test_idle_timeout_slides_with_activity_and_logs_out_with_a_message(make_user, clock):
    make_user("jinjiang", "county", "510104")
    client = login("jinjiang")
    for _ in range(4):  # two hours of activity, a request every 29 minutes
        clock.advance(minutes=29)
        assert client.get("/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    response = client.get("/notifications/")
    assert at_login_page(response) and "next=/notifications/" in response.url
    assert "_auth_user_id" not in client.session
    page = client.get(response.url).content.decode()
    assert "您已超过 30 分钟没有操作" in page
    assert not UserSession.objects.exists()  # logging out took it off the list


def test_absolute_lifetime_ends_even_an_active_session(make_user, clock):
    make_user("jinjiang", "county", "510104")
    client = login("jinjiang")
    for _ in range(35):  # active every 20 minutes for 11 hours 40 minutes
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=19, seconds=59)
    assert client.get("/").status_code == 200  # 11:59:59 after login
    clock.advance(seconds=2)
    response = client.get("/")
    assert at_login_page(response)
    assert "本次登录已超过 12 小时" in client.get(response.url).content.decode()


def test_the_list_shows_each_session_and_marks_this_one(make_user, clock):
    make_user("jinjiang", "county", "510104")
    office = login("jinjiang", ip="203.0.113.10", agent="Firefox/140")
    login("jinjiang", ip="198.51.100.20", agent="Chrome/130")
    make_user("qingyang", "county", "510105")
    login("qingyang", ip="192.0.2.30")  # someone else's: not listed

    page = office.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "203.0.113.10" in html and "198.51.100.20" in html and "192.0.2.30" not in html
    assert "Firefox/140" in html and "Chrome/130" in html
    assert html.count("当前会话") == 1 and "退出其他所有会话" in html
    rows = {row.ip_address: row for row in UserSession.objects.filter(user__username="jinjiang")}
    assert f'id="session-{rows["203.0.113.10"].pk}" class="current"' in html
    # Only the hash of the key is stored.
    assert rows["203.0.113.10"].session_key_hash == sessions.key_hash(office.session.session_key)
    assert not UserSession.objects.filter(session_key_hash=office.session.session_key).exists()


def test_revoking_another_session_sends_it_to_the_login_page(make_user, clock):
    make_user("jinjiang", "county", "510104")
    office = login("jinjiang", ip="203.0.113.10")
    stolen = login("jinjiang", ip="198.51.100.20")
    assert stolen.get("/").status_code == 200
    row = UserSession.objects.get(ip_address="198.51.100.20")
    stolen_key = stolen.session.session_key

    response = office.post(f"{LIST}{row.pk}/revoke/")
    assert response.status_code == 302 and response.url == LIST
    assert "已退出该会话" in office.get(LIST).content.decode()
    assert not Session.objects.filter(session_key=stolen_key).exists()
    assert not UserSession.objects.filter(pk=row.pk).exists()
    assert at_login_page(stolen.get("/"))
    assert office.get("/").status_code == 200


def test_one_may_not_revoke_someone_elses_session(make_user, clock):
    make_user("jinjiang", "county", "510104")
    make_user("qingyang", "county", "510105")
    office = login("jinjiang")
    other = login("qingyang")
    row = UserSession.objects.get(user__username="qingyang")
    assert office.post(f"{LIST}{row.pk}/revoke/").status_code == 404
    assert other.get("/").status_code == 200


def test_revoke_all_others_keeps_this_one(make_user, clock):
    make_user("jinjiang", "county", "510104")
    office = login("jinjiang", ip="203.0.113.10")
    others = [login("jinjiang", ip=f"198.51.100.{n}") for n in (1, 2, 3)]
    response = office.post(f"{LIST}revoke-others/")
    assert response.status_code == 302
    assert "已退出其他 3 个会话" in office.get(LIST).content.decode()
    assert all(at_login_page(client.get("/")) for client in others)
    assert office.get("/").status_code == 200
    assert list(UserSession.objects.values_list("ip_address", flat=True)) == ["203.0.113.10"]


def test_changing_the_password_keeps_this_session_and_ends_the_others(make_user, clock):
    make_user("jinjiang", "county", "510104")
    elsewhere = login("jinjiang", ip="198.51.100.20")
    client = login("jinjiang")
    response = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "Huode#Dianli-1", "new_password2": "Huode#Dianli-1"}
    )
    assert response.status_code == 302
    row = UserSession.objects.get()
    assert row.session_key_hash == sessions.key_hash(client.session.session_key)
    assert "当前会话" in client.get(LIST).content.decode()
    assert at_login_page(elsewhere.get("/"))


def test_sessions_that_ran_out_unseen_leave_the_list(make_user, clock):
    make_user("jinjiang", "county", "510104")
    login("jinjiang", ip="198.51.100.20")  # left open, never used again
    clock.advance(minutes=31)
    office = login("jinjiang", ip="203.0.113.10")
    html = office.get(LIST).content.decode()
    assert "198.51.100.20" not in html and "203.0.113.10" in html
