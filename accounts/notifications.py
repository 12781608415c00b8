"""In-portal notifications.

Services (writes: keyword-only) and selectors (reads) of ``Notification``. The reporting-deadline
reminders that other apps send through them live with what they remind of (``indicators.reminders``).

E-mail: a notification is also mailed when ``settings.NOTIFY_BY_EMAIL`` is true (env
``NOTIFY_BY_EMAIL``, default false) and the user has an e-mail address. Mail leaves only once the
notification is committed (``transaction.on_commit``), and a mail failure is logged, never raised:
the in-portal notification is the record, the mail a courtesy.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification, NotificationLevel

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "【获得电力台账】"


# --- selectors -----------------------------------------------------------------------------------


def notifications_for(user):
    """The user's own notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def unread_count(user):
    """How many of the user's notifications are unread (one query; 0 for anonymous users)."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- services ------------------------------------------------------------------------------------


def mail_enabled():
    return bool(getattr(settings, "NOTIFY_BY_EMAIL", False))


def _mail_text(notification):
    lines = [notification.body] if notification.body else []
    if notification.link:
        base = getattr(settings, "SITE_URL", "").rstrip("/")
        lines.append(f"查看：{base}{notification.link}" if base else f"请登录获得电力台账查看：{notification.link}")
    lines.append("（本邮件由获得电力台账自动发送，请勿直接回复。）")
    return "\n\n".join(lines)


def mail_message(notification, email):
    return EmailMessage(subject=f"{SUBJECT_PREFIX}{notification.title}", body=_mail_text(notification), to=[email])


def _send_mail(messages):
    """Send each message on one connection; a failure is logged and the others still go."""
    if not messages:
        return 0
    sent = 0
    try:
        connection = get_connection()
        connection.open()
    except Exception:  # noqa: BLE001 — mail must never break a notification
        logger.exception("通知邮件：无法连接邮件服务器，%d 封邮件未发送。", len(messages))
        return 0
    try:
        for message in messages:
            try:
                sent += connection.send_messages([message]) or 0
            except Exception:  # noqa: BLE001
                logger.exception("通知邮件发送失败：%s（%s）", ", ".join(message.to), message.subject)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001
            logger.exception("通知邮件：关闭邮件连接失败。")
    return sent


def mail_after_commit(messages):
    if messages:
        transaction.on_commit(partial(_send_mail, messages))


def notify(*, user, title, body="", link="", level=NotificationLevel.INFO, key=""):
    """Create a notification for ``user``, and mail it when mail is on and the user has an address.

    With a ``key``, the notification is created once per (user, key): a second call with the same
    key does nothing and returns None. Returns the new Notification otherwise.
    """
    notification = Notification(user=user, title=title, body=body, link=link, level=level, key=key)
    notification.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if key and Notification.objects.filter(user=user, key=key).exists():
            return None
        raise
    if mail_enabled() and user.email:
        mail_after_commit([mail_message(notification, user.email)])
    return notification


def notification_mark_read(*, user, pk):
    """Mark one of the user's notifications read; another user's raises Notification.DoesNotExist."""
    notification = Notification.objects.get(user=user, pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user):
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
