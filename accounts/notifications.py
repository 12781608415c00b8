"""In-portal notifications and the reporting-deadline reminders.

Services (writes: keyword-only) and selectors (reads) of ``Notification``.

E-mail: a notification is also mailed when ``settings.NOTIFY_BY_EMAIL`` is true (env
``NOTIFY_BY_EMAIL``, default false) and the user has an e-mail address. Mail leaves only once the
notification is committed (``transaction.on_commit``), and a mail failure is logged, never raised:
the in-portal notification is the record, the mail a courtesy.

Deadline reminders (``deadline_reminders_send``), run daily by beat:

- a period is in the window when ``today <= deadline <= today + days_before``;
- a county is pending when its Submission of the period is not 已上报 / 市级已审核 (no Submission
  row counts as 填报中), unless its province has confirmed the period (省级已确认);
- each active county user of a pending county gets one reminder with the link to the county's
  sheet; each active city user gets one reminder listing the city's pending counties, with the link
  to the city's review page;
- the window is cut into stages — ``days_before`` (e.g. 7), 3, 1 and 0 days left — and the dedup
  key is ``deadline:<period>:<region>:<stage>``. Running every day (or twice a day) therefore sends
  each recipient at most one reminder per stage: one a week ahead (蓝色), one 3 days ahead (黄色),
  one the day before and one on the day (红色). A day the beat missed is caught up by the next run,
  since the stage is found from the days left, not from the exact day.
"""
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone

from .models import Notification, NotificationLevel, Region, Role, User

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "【获得电力台账】"
# Days left at which a new reminder goes out (besides the first, at ``days_before``).
REMINDER_STAGES = (3, 1, 0)


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


def _mail_message(notification, email):
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


def _mail_after_commit(messages):
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
        _mail_after_commit([_mail_message(notification, user.email)])
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


# --- deadline reminders --------------------------------------------------------------------------

def _date_label(value):
    return f"{value.year}年{value.month}月{value.day}日"


def reminder_stage(days_left, days_before):
    """The stage a number of days left falls in: the smallest stage day not below it."""
    stages = sorted({days_before, *REMINDER_STAGES} & set(range(0, days_before + 1)))
    return min(s for s in stages if s >= days_left)


def _stage_level(stage):
    if stage <= 1:
        return NotificationLevel.RED
    if stage <= 3:
        return NotificationLevel.YELLOW
    return NotificationLevel.BLUE


def _when(period, days_left):
    deadline = _date_label(period.deadline)
    rule = "上半年数据须于7月15日前报送" if period.kind == "half" else "全年数据须于次年1月15日前报送"
    if days_left == 0:
        return f"今天（{deadline}）报送截止", f"{rule}，今天（{deadline}）是本期报送截止日"
    return f"距{deadline}报送截止还有{days_left}天", f"{rule}，本期报送期限为{deadline}，距截止还有{days_left}天"


def _county_state(county):
    if county.submission_state == "returned":
        reason = f"，原因：{county.submission_reason}" if county.submission_reason else ""
        return f"已退回{reason}"
    return "填报中"


@dataclass
class ReminderResult:
    periods: list = field(default_factory=list)
    counties: int = 0
    county_notifications: int = 0
    city_notifications: int = 0
    emails: int = 0

    @property
    def notifications(self):
        return self.county_notifications + self.city_notifications

    def as_dict(self):
        return {
            "periods": self.periods, "counties": self.counties, "notifications": self.notifications,
            "county_notifications": self.county_notifications, "city_notifications": self.city_notifications,
            "emails": self.emails,
        }


def _pending_counties(period):
    """Counties of the period not yet submitted (no row = 填报中), outside confirmed provinces."""
    from indicators.models import Submission, SubmissionState

    done = Submission.objects.filter(
        region=OuterRef("pk"), period=period, state__in=[SubmissionState.SUBMITTED, SubmissionState.APPROVED]
    )
    # A region's path starts with its province's code: "510000/510100/510104/".
    confirmed = Submission.objects.filter(
        period=period, state=SubmissionState.CONFIRMED, region__code=Substr(OuterRef("path"), 1, 6)
    )
    return Region.objects.filter(level="county").exclude(Exists(done)).exclude(Exists(confirmed))


def _active(role, region_ref):
    return User.objects.people().filter(role=role, region=region_ref)


def _period_reminders(period, *, today, days_before, result, mails):
    from indicators.models import Submission

    days_left = (period.deadline - today).days
    stage = reminder_stage(days_left, days_before)
    level = _stage_level(stage)
    when_title, when_body = _when(period, days_left)
    pending = _pending_counties(period)

    # 1. The pending counties that anyone will hear about, with their city and state: one query.
    own = Submission.objects.filter(region=OuterRef("pk"), period=period)
    counties = list(
        pending.filter(Q(Exists(_active(Role.COUNTY, OuterRef("pk")))) | Q(Exists(_active(Role.CITY, OuterRef("parent_id")))))
        .annotate(submission_state=Subquery(own.values("state")[:1]), submission_reason=Subquery(own.values("reason")[:1]))
        .select_related("parent").order_by("code")
    )
    if not counties:
        return
    result.counties += len(counties)
    by_code = {c.pk: c for c in counties}
    by_city = {}
    for county in counties:
        by_city.setdefault(county.parent_id, []).append(county)

    # 2. Their recipients: one query.
    recipients = list(
        User.objects.people().filter(
            Q(role=Role.COUNTY, region__in=pending.values("pk")) | Q(role=Role.CITY, region__in=pending.values("parent_id"))
        ).only("pk", "email", "role", "region").order_by("pk")
    )

    # 3. Who already has this stage's reminder: one query.
    prefix = f"deadline:{period.code}:"
    already = set(
        Notification.objects.filter(key__startswith=prefix, key__endswith=f":{stage}").values_list("user_id", "key")
    )

    new, by_role = [], {Role.COUNTY: 0, Role.CITY: 0}
    for user in recipients:
        if user.role == Role.COUNTY:
            county = by_code.get(user.region_id)
            if county is None:
                continue
            key = f"{prefix}{county.code}:{stage}"
            title = f"{when_title}：{county.name}{period.label}指标尚未上报"
            body = (
                f"{county.parent.name}{county.name}{period.label}{period.span_label}“获得电力”任务指标当前为"
                f"“{_county_state(county)}”，尚未上报。{when_body}，请尽快填写完整并上报地市审核。"
            )
            link = reverse("indicators:sheet", args=[period.code, county.code])
        else:
            city_counties = by_city.get(user.region_id)
            if not city_counties:
                continue
            city = city_counties[0].parent
            key = f"{prefix}{city.code}:{stage}"
            title = f"{when_title}：{city.name}尚有{len(city_counties)}个县（区）未上报{period.label}指标"
            listing = "、".join(f"{c.name}（{_county_state(c)}）" for c in city_counties)
            body = (
                f"截至{_date_label(today)}，{city.name}以下{len(city_counties)}个县（区）的{period.label}指标尚未上报："
                f"{listing}。{when_body}，请督促尽快上报，并及时审核。"
            )
            link = reverse("indicators:review", args=[period.code, city.code])
        if (user.pk, key) in already:
            continue
        notification = Notification(user=user, level=level, title=title[:200], body=body, link=link, key=key)
        new.append(notification)
        by_role[user.role] += 1
        if user.email and mail_enabled():
            mails.append(_mail_message(notification, user.email))

    # 4. Store them: the unique (user, key) constraint drops any a concurrent run stored first.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    result.county_notifications += by_role[Role.COUNTY]
    result.city_notifications += by_role[Role.CITY]


def deadline_reminders_send(*, today, days_before=None):
    """Remind the counties not yet submitted, and their cities, of every period due within ``days_before`` days.

    A fixed number of queries per period in the window, whatever the number of counties and users
    (bulk_create splits very large batches on SQLite only). Mails leave after the commit.
    Returns a ReminderResult.
    """
    from indicators.models import Period

    if days_before is None:
        days_before = int(getattr(settings, "REMINDER_DAYS_BEFORE", 7))
    if days_before < 0:
        raise ValueError("days_before 不能为负数。")
    result, mails = ReminderResult(), []
    periods = Period.objects.filter(deadline__gte=today, deadline__lte=today + timedelta(days=days_before)).order_by("deadline")
    with transaction.atomic():
        for period in periods:
            result.periods.append(period.code)
            _period_reminders(period, today=today, days_before=days_before, result=result, mails=mails)
        result.emails = len(mails)
        _mail_after_commit(mails)
    logger.info("报送提醒 %s：%s", today.isoformat(), result.as_dict())
    return result
