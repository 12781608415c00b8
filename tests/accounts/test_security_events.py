"""The security-event log: logins, logouts, failures, lockouts, password and admin changes, hash-chained."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import checks
from django.core.management import call_command
from django.test import Client

from accounts.audit import check_retention, security_event_record
from accounts.models import SecurityEvent
from utilities.hashchain import AppendOnlyViolation, verify

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # conftest.make_user's


def kinds():
    return list(SecurityEvent.objects.order_by("seq").values_list("kind", flat=True))


def login(client, username, password, ip="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_and_logout_are_recorded_with_user_and_ip(make_user):
    clerk = make_user("jinjiang", "county", "510104")
    client = Client()
    login(client, "jinjiang", PASSWORD, ip="10.1.2.3")
    assert "_auth_user_id" in client.session
    client.post("/logout/", REMOTE_ADDR="10.1.2.3")
    events = list(SecurityEvent.objects.order_by("seq"))
    assert [(e.kind, e.user_id, e.username, e.ip) for e in events] == [
        ("login", clerk.pk, "jinjiang", "10.1.2.3"),
        ("logout", clerk.pk, "jinjiang", "10.1.2.3"),
    ]
    assert verify(SecurityEvent) == (2, None)


def test_a_failed_login_keeps_the_username_as_typed_and_never_the_password(make_user):
    make_user("jinjiang", "county", "510104")
    login(Client(), "jinjiang", "Secret-Guess-42")
    login(Client(), "nobody-such", "Other-Guess-43", ip="10.9.9.9")
    events = list(SecurityEvent.objects.order_by("seq").values("kind", "username", "user", "ip", "detail"))
    assert events == [
        {"kind": "login_failed", "username": "jinjiang", "user": None, "ip": "10.0.0.1", "detail": ""},
        {"kind": "login_failed", "username": "nobody-such", "user": None, "ip": "10.9.9.9", "detail": ""},
    ]
    stored = " ".join(str(v) for row in SecurityEvent.objects.values_list() for v in row)
    assert "Guess" not in stored


def test_a_lockout_is_recorded(settings, make_user):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    make_user("jinjiang", "county", "510104")
    client = Client()
    for _ in range(3):
        login(client, "jinjiang", "wrong")
    assert "locked_out" in kinds()
    locked = SecurityEvent.objects.get(kind="locked_out")
    assert (locked.username, locked.ip) == ("jinjiang", "10.0.0.1")
    assert kinds().count("login_failed") == 3


def test_an_admin_change_is_recorded_with_the_object_and_the_message(make_user, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    clerk = make_user("jinjiang", "county", "510104")
    LogEntry.objects.log_actions(
        user_id=admin.pk, queryset=[clerk], action_flag=CHANGE, change_message=[{"changed": {"fields": ["Phone"]}}], single_object=True
    )
    event = SecurityEvent.objects.get(kind="admin_change")
    assert event.user_id == admin.pk
    assert "accounts.user" in event.detail and "jinjiang" in event.detail and "Phone" in event.detail


def test_a_deletion_in_the_admin_is_recorded(make_user, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    clerk = make_user("jinjiang", "county", "510104")
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/accounts/user/{clerk.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not django_user_model.objects.filter(pk=clerk.pk).exists()
    event = SecurityEvent.objects.get(kind="admin_delete")
    assert event.user_id == admin.pk and "jinjiang" in event.detail


def test_a_bulk_deletion_in_the_admin_records_every_object(make_user, django_user_model):
    # "Delete selected" bulk-creates its LogEntry rows (no post_save): each must still be recorded.
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    clerks = [make_user(name, "county", code) for name, code in (("jinjiang", "510104"), ("qingyang", "510105"))]
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [c.pk for c in clerks], "post": "yes"}
    )
    assert response.status_code == 302
    assert not django_user_model.objects.filter(pk__in=[c.pk for c in clerks]).exists()
    details = sorted(SecurityEvent.objects.filter(kind="admin_delete").values_list("detail", flat=True))
    assert len(details) == 2
    assert "jinjiang" in details[0] and "qingyang" in details[1]
    assert all(e.user_id == admin.pk for e in SecurityEvent.objects.filter(kind="admin_delete"))
    count, broken = verify(SecurityEvent)
    assert broken is None and count == SecurityEvent.objects.count()


def test_a_password_change_is_recorded_without_the_password(make_user):
    clerk = make_user("jinjiang", "county", "510104")
    clerk.set_password("New-Password-2026!")
    clerk.save()
    event = SecurityEvent.objects.get(kind="password_changed")
    assert event.user_id == clerk.pk and "New-Password" not in event.detail


def test_the_service_for_other_events_chains_them(make_user):
    clerk = make_user("jinjiang", "county", "510104")
    security_event_record(kind="otp_failed", user=clerk, ip="192.0.2.1", detail="动态口令错误")
    security_event_record(kind="otp_failed", username="jinjiang")
    assert [e.seq for e in SecurityEvent.objects.order_by("seq")] == [1, 2]
    out = StringIO()
    call_command("verify_audit", "--chain", "security", stdout=out)
    assert "完整" in out.getvalue() and "共 2 条" in out.getvalue()


def test_security_events_cannot_be_changed_or_deleted(make_user):
    clerk = make_user("jinjiang", "county", "510104")
    event = security_event_record(kind="login", user=clerk)
    for attempt in (event.delete, SecurityEvent.objects.all().delete, lambda: SecurityEvent.objects.update(detail="x")):
        with pytest.raises(AppendOnlyViolation):
            attempt()
    event.detail = "x"
    with pytest.raises(AppendOnlyViolation):
        event.save()
    assert SecurityEvent.objects.get().detail == ""


def test_the_admin_shows_events_read_only_to_province_administrators_of_their_province(make_user):
    province = make_user("sc-admin", "province", "510000", is_staff=True)
    ours = make_user("jinjiang", "county", "510104")
    theirs = make_user("yuzhong", "county", "500103")
    county = make_user("k", "county", "510104", is_staff=True)
    for user in (ours, theirs):
        security_event_record(kind="login", user=user)
    assert province.has_perm("accounts.view_securityevent")
    assert not province.has_perm("accounts.change_securityevent") and not province.has_perm("accounts.delete_securityevent")
    assert not county.has_perm("accounts.view_securityevent")
    client = Client()
    client.force_login(province)
    page = client.get("/admin/accounts/securityevent/").content.decode()
    assert "jinjiang" in page and "yuzhong" not in page
    event = SecurityEvent.objects.get(username="jinjiang")
    assert client.post(f"/admin/accounts/securityevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_a_retention_below_180_days_is_refused(settings):
    settings.AUDIT_RETENTION_DAYS = 90
    errors = check_retention()
    assert [e.id for e in errors] == ["accounts.E015"] and isinstance(errors[0], checks.Error) and "180" in errors[0].msg
    settings.AUDIT_RETENTION_DAYS = 365
    assert check_retention() == []
