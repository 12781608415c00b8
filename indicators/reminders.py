"""The reporting-deadline reminders: in-portal notifications (``accounts.notifications``) to the
counties still missing something and their cities.

Deadline reminders (``deadline_reminders_send``), run daily by beat (CELERY_BEAT_SCHEDULE
"deadline-reminders"):

- a period is in the window from REMINDER_DAYS_BEFORE (7) days before its deadline to
  REMINDER_DAYS_AFTER (15) days after it;
- who is still missing something is the 未完成报送情况 selector's answer (indicators.blocking):
  counties 填报中 / 已退回 (no Submission row counts as 填报中), and counties 已上报 that their city has
  not yet approved, outside provinces that have confirmed the period except the counties named as
  sign-off exceptions;
- each active county user of a county still to fill or submit gets a reminder listing its missing
  indicators, with the link to its sheet; each active city user gets one listing the city's counties
  with their missing counts and those it must review, with the link to its review page; a county
  waiting for its city's review is not reminded, nor is an API service account;
- stages: 蓝色 at ``days_before`` days left, 黄色 from REMINDER_YELLOW_DAYS (3), 红色 on the day and
  then one a day after it. The dedup key is ``deadline:<period>:<region>:<stage>`` (stage "7", "3",
  "0", "overdue-<days late>"), so running every day (or twice a day) sends each recipient at most one
  reminder per stage. A day the beat missed is caught up by the next run, since the stage is found
  from the days left, not from the exact day.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from accounts import policy
from accounts.models import Notification, Region, User
from accounts.notifications import mail_after_commit, mail_enabled, mail_message

from .blocking import deadline_level, holdups
from .models import Period, month_label
from .promises import slipped_by_region

logger = logging.getLogger(__name__)


def _date_label(value):
    return f"{value.year}年{value.month}月{value.day}日"


def reminder_stage(days_left, *, days_before, yellow_days):
    """The dedup stage of a number of days left: the blue stage (``days_before``), the yellow one
    (``yellow_days``), the deadline day ("0"), then one a day after it ("overdue-<days late>")."""
    if days_left < 0:
        return f"overdue-{-days_left}"
    if days_left == 0:
        return "0"
    if days_left <= yellow_days:
        return str(min(yellow_days, days_before))
    return str(days_before)


def _when(period, days_left):
    deadline = _date_label(period.deadline)
    rule = "上半年数据须于7月15日前报送" if period.kind == "half" else "全年数据须于次年1月15日前报送"
    if days_left < 0:
        return f"{deadline}报送截止已逾期{-days_left}天", f"{rule}，本期报送期限{deadline}已过{-days_left}天"
    if days_left == 0:
        return f"今天（{deadline}）报送截止", f"{rule}，今天（{deadline}）是本期报送截止日"
    return f"距{deadline}报送截止还有{days_left}天", f"{rule}，本期报送期限为{deadline}，距截止还有{days_left}天"


def _county_state(row):
    if row.reason:
        return f"{row.state_label}，原因：{row.reason}"
    return row.state_label


def _missing_text(row):
    """A county's missing indicators, as its own reminder lists them."""
    parts = []
    if row.missing:
        parts.append(f"以下指标尚未填写完整：{'、'.join(row.missing)}")
    if row.passed:
        parts.append(f"以下指标的预计完成月份已过，请更新：{'、'.join(row.passed)}")
    return "；".join(parts) + "。" if parts else "各项指标均已填写，请核对后上报。"


def _slipped_text(slipped):
    """A county's slipped promises, as its own reminder lists them (issue 8 §3)."""
    if not slipped:
        return ""
    listing = "、".join(
        f"指标{label}（原定{month_label(first)}" + ("" if current == first else f"，现为{month_label(current)}") + "）"
        for label, first, current in slipped
    )
    return f"以下承诺已推迟或逾期：{listing}。"


def _missing_count(row):
    """A county's missing indicators, counted, as its city's reminder lists them."""
    parts = [f"{len(row.missing)}项未填"] if row.missing else []
    if row.passed:
        parts.append(f"{len(row.passed)}项预计月份已过")
    return "、".join(parts) or "指标已填完"


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
            "periods": self.periods,
            "counties": self.counties,
            "notifications": self.notifications,
            "county_notifications": self.county_notifications,
            "city_notifications": self.city_notifications,
            "emails": self.emails,
        }


def _reminded_counties():
    """The counties anyone will hear about: with an active county user, or a city reviewer above them."""
    people = User.objects.people()
    return Region.objects.filter(
        Q(Exists(people.filter(policy.county_fillers_q(region=OuterRef("pk")))))
        | Q(Exists(people.filter(policy.county_reviewers_q(region=OuterRef("parent_id")))))
    )


def _period_words(period):
    """The half-year, and the program when it is not the national one (two programs share a half-year)."""
    return f"{period.label}{period.program.name}" if period.program_query else period.label


def _county_reminder(row, slipped, period, when_title, when_body):
    county = row.county
    title = f"{when_title}：{county.name}{_period_words(period)}指标尚未上报"
    body = (
        f"{county.parent.name}{county.name}{period.label}{period.span_label}“获得电力”任务指标当前为"
        f"“{_county_state(row)}”，尚未上报。{_missing_text(row)}{_slipped_text(slipped)}"
        f"{when_body}，请尽快填写完整并上报地市审核。"
    )
    return county.code, title, body, reverse("indicators:sheet", args=[period.code, county.code]) + period.program_query


def _city_reminder(rows, slipped, period, today, when_title, when_body):
    city = rows[0].city
    to_fill = [r for r in rows if r.county_to_act]
    to_review = [r for r in rows if not r.county_to_act]
    counts, listing = [], []
    if to_fill:
        counts.append(f"{len(to_fill)}个县（区）未上报")
        listing.append(
            f"未上报{len(to_fill)}个：" + "、".join(f"{r.county.name}（{_county_state(r)}，{_missing_count(r)}）" for r in to_fill)
        )
    if to_review:
        counts.append(f"{len(to_review)}个县（区）已上报待审核")
        listing.append(f"已上报待您审核{len(to_review)}个：" + "、".join(r.county.name for r in to_review))
    late = [f"{r.county.name}{len(slipped[r.county.pk])}项" for r in rows if slipped.get(r.county.pk)]
    if late:
        listing.append("承诺已推迟或逾期：" + "、".join(late))
    title = f"{when_title}：{city.name}尚有{'、'.join(counts)}（{_period_words(period)}）"
    body = (
        f"截至{_date_label(today)}，{city.name}{period.label}指标尚未完成的县（区）——{'；'.join(listing)}。"
        f"{when_body}，请督促尽快上报，并及时审核。"
    )
    return city.code, title, body, reverse("indicators:review", args=[period.code, city.code]) + period.program_query


def _period_reminders(period, *, today, days_before, yellow_days, result, mails):
    days_left = (period.deadline - today).days
    stage = reminder_stage(days_left, days_before=days_before, yellow_days=yellow_days)
    level = deadline_level(days_left, days_before=days_before)
    when_title, when_body = _when(period, days_left)

    # 1. The counties still missing something, what they miss and their people: the same selector
    # as the 未完成报送情况 page, a fixed number of queries.
    rows = holdups(counties=_reminded_counties(), period=period, today=today, days_before=days_before)
    if not rows:
        return
    result.counties += len(rows)
    slipped = slipped_by_region(regions=[row.county.pk for row in rows], period=period, today=today)
    by_city = {}
    for row in sorted(rows, key=lambda r: r.county.code):
        by_city.setdefault(row.county.parent_id, []).append(row)

    # 2. Who hears what: a county only while it is to act, its city while any of its counties is.
    messages = []
    for row in rows:
        if row.county_to_act and row.county_people:
            messages.append(("county", row.county_people, _county_reminder(row, slipped.get(row.county.pk), period, when_title, when_body)))
    for city_rows in by_city.values():
        if city_rows[0].city_people:
            messages.append(("city", city_rows[0].city_people, _city_reminder(city_rows, slipped, period, today, when_title, when_body)))

    # 3. Who already has this stage's reminder: one query.
    # Several programs share a half-year's code: another program's reminders are keyed by it too.
    prefix = f"deadline:{period.code}:" if not period.program_query else f"deadline:{period.program.code}:{period.code}:"
    already = set(Notification.objects.filter(key__startswith=prefix, key__endswith=f":{stage}").values_list("user_id", "key"))
    new, by_audience = [], {"county": 0, "city": 0}
    for audience, users, (code, title, body, link) in messages:
        key = f"{prefix}{code}:{stage}"
        for user in users:
            if (user.pk, key) in already:
                continue
            notification = Notification(user=user, level=level, title=title[:200], body=body, link=link, key=key)
            new.append(notification)
            by_audience[audience] += 1
            if user.email and mail_enabled():
                mails.append(mail_message(notification, user.email))

    # 4. Store them: the unique (user, key) constraint drops any a concurrent run stored first.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    result.county_notifications += by_audience["county"]
    result.city_notifications += by_audience["city"]


def deadline_reminders_send(*, today, days_before=None, days_after=None):
    """Remind the counties still missing something, and their cities, of every period due within
    ``days_before`` days or overdue by at most ``days_after`` days.

    A fixed number of queries per period in the window, whatever the number of counties and users
    (bulk_create splits very large batches on SQLite only). Mails leave after the commit.
    Returns a ReminderResult.
    """
    days_before = settings.REMINDER_DAYS_BEFORE if days_before is None else days_before
    days_after = settings.REMINDER_DAYS_AFTER if days_after is None else days_after
    if days_before < 0 or days_after < 0:
        raise ValueError("days_before 和 days_after 不能为负数。")
    result, mails = ReminderResult(), []
    periods = (
        Period.objects.filter(deadline__gte=today - timedelta(days=days_after), deadline__lte=today + timedelta(days=days_before))
        .select_related("program", "indicator_set")
        .order_by("deadline")
    )
    with transaction.atomic():
        for period in periods:
            result.periods.append(period.code)
            _period_reminders(
                period,
                today=today,
                days_before=days_before,
                yellow_days=settings.REMINDER_YELLOW_DAYS,
                result=result,
                mails=mails,
            )
        result.emails = len(mails)
        mail_after_commit(mails)
    logger.info("报送提醒 %s：%s", today.isoformat(), result.as_dict())
    return result
