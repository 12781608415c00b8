"""The security-event log: who signed in, failed, was locked out, signed out, changed a password or
changed something in the admin (GB/T 22239-2019 8.1.4.3 安全审计 a–c), hash-chained like the
check-mark audit (utilities.hashchain). Never a password: only the username as typed.

``security_event_record`` is the one writer; the receivers below call it, wired in AccountsConfig.ready().
"""

import getpass

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core import checks
from django.db.models.signals import post_save

from utilities.client_ip import client_ip, ignored_forwarded_for
from utilities.hashchain import chain_append

from .models import SecurityEvent, SecurityEventKind, User
from .passwords import change_reason

MIN_RETENTION_DAYS = 180  # GB/T 22239-2019 / 网络安全法 第二十一条: logs kept at least six months
ADMIN_KINDS = {ADDITION: SecurityEventKind.ADMIN_ADD, CHANGE: SecurityEventKind.ADMIN_CHANGE, DELETION: SecurityEventKind.ADMIN_DELETE}


def _request_ip(request):
    """The client address behind the trusted proxies (utilities.client_ip, as lockout and sessions use)."""
    return client_ip(request) if request is not None else None


def security_event_record(*, kind, user=None, username="", request=None, ip=None, detail=""):
    """Append one security event to its chain, in the caller's transaction (or its own).

    ``kind`` a SecurityEventKind; ``user`` the account if known; ``username`` as typed (for a failed
    login); ``request`` supplies the client IP unless ``ip`` is given. ``detail`` never holds a secret.
    """
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    username = (username or (user.get_username() if user is not None else ""))[:150]
    forged = ignored_forwarded_for(request) if request is not None else ""
    if forged:
        detail = "；".join(filter(None, [detail, f"已忽略不可信来源的 X-Forwarded-For：{forged[:100]}"]))
    event = SecurityEvent(
        kind=SecurityEventKind(kind),
        user=user,
        username=username,
        ip=ip or _request_ip(request),
        detail=(detail or "")[:1000],
    )
    event.full_clean(exclude=["seq", "prev_hash", "hash", "user"])
    chain_append([event])  # atomic, the chain head locked until the caller's transaction ends
    return event


def command_event_record(*, kind, detail):
    """A security event for a management command run on a server (backup, a refused restore): the
    operating-system account as its user name. Skipped when the database has no event table yet
    (a restore's target before the restore), so a refusal never writes into an empty database."""
    from django.db import connection

    if SecurityEvent._meta.db_table not in connection.introspection.table_names():
        return None
    return security_event_record(kind=kind, username=f"命令行:{getpass.getuser()}", detail=detail)


# --- receivers -------------------------------------------------------------------------------


def _logged_in(sender, request, user, **kwargs):
    # A login with an expired or administrator-set password says so: the user is sent to change it.
    security_event_record(kind=SecurityEventKind.LOGIN, user=user, request=request, detail=change_reason(user) or "")


def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return  # a visitor who was not signed in
    security_event_record(kind=SecurityEventKind.LOGOUT, user=user, request=request)


def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in ``credentials``; only the username is read.
    username = str(credentials.get("username") or "")
    security_event_record(kind=SecurityEventKind.LOGIN_FAILED, username=username, request=request)


def _locked_out(sender, request, username, ip_address, **kwargs):
    security_event_record(kind=SecurityEventKind.LOCKED_OUT, username=str(username or ""), request=request, ip=ip_address)


def admin_entry_record(entry):
    """One admin LogEntry as a security event (its kind, the model, object and change message)."""
    if entry.action_flag not in ADMIN_KINDS:
        return
    content_type = entry.content_type
    what = f"{content_type.app_label}.{content_type.model}" if content_type else "?"
    message = entry.get_change_message()
    detail = f"{what} #{entry.object_id}「{entry.object_repr}」" + (f"：{message}" if message else "")
    security_event_record(kind=ADMIN_KINDS[entry.action_flag], user=entry.user, detail=detail)


def _admin_logged(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        admin_entry_record(instance)


def _user_saved(sender, instance, created, raw=False, **kwargs):
    # AbstractBaseUser.set_password() keeps the new raw password in ``_password`` until the save
    # completes: only whether it is set is read, never the value.
    if created or raw or getattr(instance, "_password", None) is None:
        return
    security_event_record(kind=SecurityEventKind.PASSWORD_CHANGED, user=instance)


def connect():
    from axes.signals import user_locked_out  # axes 8: request, username, ip_address

    user_logged_in.connect(_logged_in, dispatch_uid="security_event_login")
    user_logged_out.connect(_logged_out, dispatch_uid="security_event_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="security_event_login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="security_event_locked_out")
    post_save.connect(_admin_logged, sender=LogEntry, dispatch_uid="security_event_admin")
    post_save.connect(_user_saved, sender=User, dispatch_uid="security_event_password")


@checks.register(checks.Tags.security, deploy=False)
def check_retention(app_configs=None, **kwargs):
    days = getattr(settings, "AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)
    if not isinstance(days, int) or days < MIN_RETENTION_DAYS:
        return [
            checks.Error(
                f"AUDIT_RETENTION_DAYS={days!r}：审计记录保留期不得少于 {MIN_RETENTION_DAYS} 天（等保2.0 安全审计）。",
                id="accounts.E015",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_sm3_speed(app_configs=None, **kwargs):
    from utilities import hashchain

    if hashchain.SM3_NATIVE:
        return []
    return [
        checks.Warning(
            "本机 Python 的 OpenSSL 不提供 SM3，审计哈希链改用 gmssl 纯 Python 实现（约 170 条/秒，一次 31 项的填报约增加 0.2 秒）。"
            "请使用带 SM3 的 OpenSSL（1.1.1 及以上的默认构建）。",
            id="accounts.W016",
        )
    ]
