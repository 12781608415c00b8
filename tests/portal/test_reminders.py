"""Notifications and the reporting-deadline reminders (issue 4 §7, issue 8 §5): who hears what, at
which colour, once, and the page."""

import logging
from datetime import date

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.context_processors import notifications as notifications_context
from accounts.models import Notification, Region
from accounts.notifications import (
    notification_mark_read,
    notifications_for,
    notifications_mark_all_read,
    notify,
    unread_count,
)
from accounts.services import api_token_create
from indicators import services
from indicators.blocking import deadline_level
from indicators.models import SignoffException, Submission
from indicators.reminders import deadline_reminders_send, reminder_stage
from tests.helpers import fill, labels

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 10)  # 2022S1 is due 15 July: 5 days left
PAGE = "/notifications/"


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP 服务器拒绝连接")


def set_state(code, period, state, reason=""):
    Submission.objects.update_or_create(region=Region.objects.get(code=code), period=period, defaults={"state": state, "reason": reason})


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def people(make_user, period):
    people = {
        "jinjiang": make_user("jj", "county", "510104"),  # 锦江区: not submitted (no Submission row)
        "qingyang": make_user("qy", "county", "510105"),  # 青羊区: submitted
        "wuhou": make_user("wh", "county", "510107"),  # 武侯区: returned
        "chengdu": make_user("cd", "city", "510100"),
        "zigong": make_user("zg", "city", "510300"),  # 自贡市: every county approved
        "province": make_user("sc", "province", "510000"),
        "yuzhong": make_user("yz", "county", "500103"),  # 重庆: the province confirmed
        "chongqing": make_user("cq", "city", "500100"),
        "nanming": make_user("nm", "county", "520102"),  # 贵州 南明区: approved
    }
    gone = make_user("gone", "county", "510104")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    people["service"] = api_token_create(
        user=people["province"],
        name="锦江区政务平台",
        region=Region.objects.get(code="510104"),
        access="write",
    )[0].user
    set_state("510105", period, "submitted")
    set_state("510107", period, "returned", reason="指标 5 缺少佐证")
    for county in Region.objects.filter(parent__code="510300"):
        set_state(county.code, period, "approved")
    set_state("500000", period, "confirmed")
    set_state("520102", period, "approved")
    return people


def received(user):
    return list(Notification.objects.filter(user=user))


# --- notify ----------------------------------------------------------------------------------------


def test_notify_is_idempotent_by_key(make_user):
    user = make_user("u", "county", "510104")
    first = notify(user=user, title="请更新台账", key="ledger:1")
    assert first is not None and first.pk and first.level == "info"
    assert notify(user=user, title="请更新台账（重复）", key="ledger:1") is None
    assert Notification.objects.filter(user=user).count() == 1
    other = make_user("v", "county", "510105")
    assert notify(user=other, title="请更新台账", key="ledger:1") is not None  # the key is per user
    notify(user=user, title="无键通知")
    notify(user=user, title="无键通知")
    assert Notification.objects.filter(user=user, key="").count() == 2


def test_notify_mails_only_when_enabled_and_the_user_has_an_address(make_user, settings, django_capture_on_commit_callbacks):
    with_address = with_email(make_user("u", "county", "510104"), "u@example.cn")
    without = make_user("v", "county", "510105")
    settings.NOTIFY_BY_EMAIL = False
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=with_address, title="关闭时", link="/x/")
    assert mail.outbox == []
    settings.NOTIFY_BY_EMAIL = True
    settings.SITE_URL = "https://dianli.example.gov.cn/"
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=with_address, title="开启时", body="正文", link="/periods/2022S1/sheet/510104/")
        notify(user=without, title="无邮箱")
        notify(user=with_address, title="开启时", key="k")
        notify(user=with_address, title="开启时（重复）", key="k")  # deduplicated: no second mail
    assert [m.to for m in mail.outbox] == [["u@example.cn"], ["u@example.cn"]]
    assert mail.outbox[0].subject == "【获得电力台账】开启时"
    assert "正文" in mail.outbox[0].body
    assert "https://dianli.example.gov.cn/periods/2022S1/sheet/510104/" in mail.outbox[0].body


def test_mail_waits_for_the_commit(make_user, settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_BY_EMAIL = True
    user = with_email(make_user("u", "county", "510104"), "u@example.cn")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user=user, title="稍后发送")
    assert mail.outbox == [] and len(callbacks) == 1


def test_a_mail_failure_is_logged_and_the_notification_kept(make_user, settings, caplog, django_capture_on_commit_callbacks):
    settings.NOTIFY_BY_EMAIL = True
    settings.EMAIL_BACKEND = "tests.portal.test_reminders.BrokenBackend"
    user = with_email(make_user("u", "county", "510104"), "u@example.cn")
    with caplog.at_level(logging.ERROR, logger="accounts.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            notification = notify(user=user, title="邮件会失败")
    assert Notification.objects.filter(pk=notification.pk).exists()
    assert "通知邮件发送失败：u@example.cn" in caplog.text


def test_read_selectors_and_services(make_user):
    user, other = make_user("u", "county", "510104"), make_user("v", "county", "510105")
    first = notify(user=user, title="一")
    second = notify(user=user, title="二")
    notify(user=other, title="别人的")
    assert list(notifications_for(user)) == [second, first]
    assert unread_count(user) == 2
    notification_mark_read(user=user, pk=first.pk)
    assert unread_count(user) == 1
    with pytest.raises(Notification.DoesNotExist):
        notification_mark_read(user=other, pk=second.pk)
    assert notifications_mark_all_read(user=user) == 1
    assert unread_count(user) == 0 and unread_count(other) == 1


# --- deadline reminders ----------------------------------------------------------------------------


def test_reminder_stages_and_colours():
    days = range(-2, 9)
    assert [reminder_stage(d, days_before=7, yellow_days=3) for d in days] == [
        "overdue-2",
        "overdue-1",
        "0",
        "3",
        "3",
        "3",
        "7",
        "7",
        "7",
        "7",
        "7",
    ]
    assert [deadline_level(d) for d in days] == [
        "red",
        "red",
        "red",
        "yellow",
        "yellow",
        "yellow",
        "blue",
        "blue",
        "blue",
        "blue",
        "info",
    ]
    assert [reminder_stage(d, days_before=2, yellow_days=3) for d in range(3)] == ["0", "2", "2"]
    assert reminder_stage(0, days_before=0, yellow_days=3) == "0"


def test_only_counties_still_missing_something_and_their_cities_are_reminded(people, period):
    fill(people["jinjiang"], "510104", period, blank={1, 2}, overdue={3})
    result = deadline_reminders_send(today=TODAY)
    assert (result.county_notifications, result.city_notifications, result.periods) == (2, 1, ["2022S1"])
    assert Notification.objects.count() == 3

    (jinjiang,) = received(people["jinjiang"])
    assert jinjiang.level == "blue"
    assert jinjiang.title == "距2022年7月15日报送截止还有5天：锦江区2022年上半年指标尚未上报"
    assert "当前为“填报中”" in jinjiang.body and "上半年数据须于7月15日前报送" in jinjiang.body
    assert "以下指标尚未填写完整：1、2；以下指标的预计完成月份已过，请更新：3（2022年3月）。" in jinjiang.body
    assert jinjiang.link == "/periods/2022S1/sheet/510104/"
    assert jinjiang.key == "deadline:2022S1:510104:7"
    # The same list as the sheet's own rule (missing_entries), read for one county.
    missing, passed = services.missing_entries(region=Region.objects.get(code="510104"), period=period, today=TODAY)
    assert (missing, passed) == (["1", "2"], ["3（2022年3月）"])

    (wuhou,) = received(people["wuhou"])
    assert "“已退回，原因：指标 5 缺少佐证”" in wuhou.body
    every = labels(period, "county")
    assert f"以下指标尚未填写完整：{'、'.join(every)}。" in wuhou.body

    (chengdu,) = received(people["chengdu"])
    assert chengdu.link == "/periods/2022S1/review/510100/"
    unsubmitted = Region.objects.filter(parent__code="510100").count() - 1  # 青羊区 submitted
    assert chengdu.title == (
        f"距2022年7月15日报送截止还有5天：成都市尚有{unsubmitted}个县（区）未上报、1个县（区）已上报待审核（2022年上半年）"
    )
    all_missing = len(every)
    assert "锦江区（填报中，2项未填、1项预计月份已过）" in chengdu.body
    assert f"金牛区（填报中，{all_missing}项未填）" in chengdu.body  # 金牛区 has no user: still listed
    assert f"武侯区（已退回，原因：指标 5 缺少佐证，{all_missing}项未填）" in chengdu.body
    assert "已上报待您审核1个：青羊区；承诺已推迟或逾期：锦江区1项。" in chengdu.body  # 3's month passed

    # Not the submitted county, not a city with nothing pending, not a confirmed province, not
    # another province's approved county, not the province.
    for untouched in ("qingyang", "zigong", "province", "yuzhong", "chongqing", "nanming"):
        assert received(people[untouched]) == [], untouched
    assert not Notification.objects.filter(user__username="gone").exists()
    assert not Notification.objects.filter(user=people["service"]).exists()  # an API client's service account


def test_slipped_promises_are_named_in_the_county_and_city_reminders(people, period):
    """Issue 8 §3: a promise moved later (5) or whose month passed undone (3) is listed; a promise
    still in time (7) is not."""
    fill(people["jinjiang"], "510104", period, blank={1, 2}, overdue={3})
    for month in (date(2022, 6, 1), date(2022, 9, 1)):  # given for June, then moved to September
        services.checkmarks_set(
            user=people["jinjiang"],
            region=Region.objects.get(code="510104"),
            period=period,
            today=TODAY,
            values={
                5: services.CheckmarkValue(status="not_done", expected_month=month),
                7: services.CheckmarkValue(status="not_done", expected_month=date(2022, 12, 1)),
            },
        )
    deadline_reminders_send(today=TODAY)
    (jinjiang,) = received(people["jinjiang"])
    assert "以下承诺已推迟或逾期：指标3（原定2022年3月）、指标5（原定2022年6月，现为2022年9月）。" in jinjiang.body
    assert "指标7" not in jinjiang.body
    (chengdu,) = received(people["chengdu"])
    assert "承诺已推迟或逾期：锦江区2项" in chengdu.body
    (wuhou,) = received(people["wuhou"])
    assert "承诺" not in wuhou.body  # nothing promised, nothing slipped


def test_a_city_with_only_counties_to_review_is_reminded_to_review(people, period):
    approved, *submitted = Region.objects.filter(parent__code="510300").order_by("code")
    for county in submitted:
        set_state(county.code, period, "submitted")
    deadline_reminders_send(today=TODAY)
    (zigong,) = received(people["zigong"])
    assert zigong.title == f"距2022年7月15日报送截止还有5天：自贡市尚有{len(submitted)}个县（区）已上报待审核（2022年上半年）"
    assert f"已上报待您审核{len(submitted)}个：{'、'.join(c.name for c in submitted)}。" in zigong.body
    assert "未上报" not in zigong.body and approved.name not in zigong.body


def test_colours_for_7_3_0_days_and_daily_after_the_deadline(people, period, settings):
    settings.REMINDER_DAYS_AFTER = 3
    sent = {}
    for day in range(7, 21):  # 8 July (7 days left) to 20 July (5 days late)
        today = date(2022, 7, day)
        deadline_reminders_send(today=today)
        deadline_reminders_send(today=today)  # twice a day: nothing new the second time
        sent[day] = [(n.level, n.key.rsplit(":", 1)[1]) for n in Notification.objects.filter(user=people["jinjiang"]).order_by("pk")]
    news = {day: sent[day][len(sent.get(day - 1, [])) :] for day in sent}
    assert {day: new for day, new in news.items() if new} == {
        8: [("blue", "7")],
        12: [("yellow", "3")],
        15: [("red", "0")],
        16: [("red", "overdue-1")],
        17: [("red", "overdue-2")],
        18: [("red", "overdue-3")],
    }
    late = Notification.objects.get(user=people["jinjiang"], key="deadline:2022S1:510104:overdue-2")
    assert late.title == "2022年7月15日报送截止已逾期2天：锦江区2022年上半年指标尚未上报"
    assert "本期报送期限2022年7月15日已过2天" in late.body
    (city_late,) = Notification.objects.filter(user=people["chengdu"], key="deadline:2022S1:510100:overdue-2")
    assert city_late.level == "red"


def test_a_county_that_submits_stops_hearing_and_its_city_is_told_to_review(people, period):
    deadline_reminders_send(today=TODAY)
    three = deadline_reminders_send(today=date(2022, 7, 12))  # 3 days left: the yellow stage
    assert three.notifications == 3 and received(people["jinjiang"])[0].level == "yellow"

    set_state("510104", period, "submitted")
    last = deadline_reminders_send(today=date(2022, 7, 15))
    assert last.county_notifications == 1 and last.city_notifications == 1  # 武侯区 and 成都市; 锦江区 submitted
    latest = received(people["chengdu"])[0]
    assert latest.level == "red" and latest.title.startswith("今天（2022年7月15日）报送截止：")
    assert "已上报待您审核2个：锦江区、青羊区。" in latest.body
    assert len(received(people["jinjiang"])) == 2
    set_state("510104", period, "approved")
    set_state("510105", period, "approved")
    deadline_reminders_send(today=date(2022, 7, 16))
    assert "待您审核" not in received(people["chengdu"])[0].body


def test_outside_the_window_nothing(people, period, settings):
    assert deadline_reminders_send(today=date(2022, 7, 7)).periods == []  # 8 days left
    assert deadline_reminders_send(today=date(2022, 7, 31)).periods == []  # 16 days late
    settings.REMINDER_DAYS_BEFORE = 3
    settings.REMINDER_DAYS_AFTER = 0
    assert deadline_reminders_send(today=TODAY).periods == []
    assert deadline_reminders_send(today=date(2022, 7, 16)).periods == []
    assert Notification.objects.count() == 0
    wider = deadline_reminders_send(today=date(2022, 7, 1), days_before=14)
    assert wider.notifications == 3 and received(people["jinjiang"])[0].key == "deadline:2022S1:510104:14"
    assert deadline_reminders_send(today=date(2022, 7, 30), days_after=15).periods == ["2022S1"]  # the default
    with pytest.raises(ValueError):
        deadline_reminders_send(today=TODAY, days_after=-1)


def test_a_signoff_exception_of_a_confirmed_province_is_still_reminded(people, make_user, period):
    confirmed = Submission.objects.get(region__code="500000", period=period)
    exception = SignoffException(
        submission=confirmed,
        county=Region.objects.get(code="500103"),
        reason="渝中区数据待核实",
        named_by=make_user("cqp", "province", "500000"),
    )
    exception.full_clean()
    exception.save()
    deadline_reminders_send(today=TODAY)
    (yuzhong,) = received(people["yuzhong"])
    assert "渝中区2022年上半年指标尚未上报" in yuzhong.title
    (chongqing,) = received(people["chongqing"])
    assert "重庆市尚有1个县（区）未上报" in chongqing.title and "渝中区（填报中" in chongqing.body
    assert "万州区" not in chongqing.body  # confirmed, not an exception


def test_a_reopened_province_is_reminded_again(people, period):
    set_state("500000", period, "draft")
    deadline_reminders_send(today=TODAY)
    assert len(received(people["yuzhong"])) == 1 and len(received(people["chongqing"])) == 1


def test_reminders_are_mailed_when_enabled(people, period, settings, django_capture_on_commit_callbacks):
    with_email(people["jinjiang"], "jj@example.cn")
    with_email(people["qingyang"], "qy@example.cn")  # submitted: no reminder, no mail
    settings.NOTIFY_BY_EMAIL = False
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_reminders_send(today=TODAY).emails == 0
    assert mail.outbox == []

    settings.NOTIFY_BY_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True):
        result = deadline_reminders_send(today=date(2022, 7, 12))
    assert result.emails == 1
    assert [m.to for m in mail.outbox] == [["jj@example.cn"]]
    assert mail.outbox[0].subject == "【获得电力台账】距2022年7月15日报送截止还有3天：锦江区2022年上半年指标尚未上报"


def test_a_broken_mail_server_does_not_stop_the_reminders(people, period, settings, caplog, django_capture_on_commit_callbacks):
    settings.NOTIFY_BY_EMAIL = True
    settings.EMAIL_BACKEND = "tests.portal.test_reminders.BrokenBackend"
    with_email(people["jinjiang"], "jj@example.cn")
    with_email(people["chengdu"], "cd@example.cn")
    with caplog.at_level(logging.ERROR, logger="accounts.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            result = deadline_reminders_send(today=TODAY)
    assert result.notifications == 3 and Notification.objects.count() == 3
    assert "jj@example.cn" in caplog.text and "cd@example.cn" in caplog.text  # one failure does not skip the next


def reminder_queries(today):
    with CaptureQueriesContext(connection) as queries:
        result = deadline_reminders_send(today=today)
    return len(queries), result


def test_queries_do_not_grow_with_the_counties(make_user, period):
    # Shanghai: 2 county users and the city-group user.
    small = [make_user("sh1", "county", "310101"), make_user("sh2", "county", "310104"), make_user("sh", "city", "310100")]
    few, result = reminder_queries(TODAY)
    assert result.notifications == 3
    Notification.objects.all().delete()
    for user in small:
        user.is_active = False
        user.save(update_fields=["is_active"])
    # Sichuan: a user in each of 60 counties and every city's reviewer.
    counties = list(Region.objects.filter(level="county", path__startswith="510000/").order_by("code")[:60])
    for county in counties:
        make_user(f"k{county.code}", "county", county.code)
    cities = list(Region.objects.filter(level="city", parent__code="510000"))
    for city in cities:
        make_user(f"c{city.code}", "city", city.code)
    many, result = reminder_queries(TODAY)
    assert result.county_notifications == 60 and result.city_notifications == len(cities) == 21
    assert many == few


def test_the_celery_task_runs_the_reminders_for_today(people, period, monkeypatch):
    from indicators import tasks

    monkeypatch.setattr(tasks.timezone, "localdate", lambda: TODAY)
    outcome = tasks.deadline_reminders.delay().get()
    assert outcome["notifications"] == 3 and outcome["periods"] == ["2022S1"]
    assert tasks.deadline_reminders.name == "accounts.deadline_reminders"


def test_beat_runs_the_reminders_every_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deadline-reminders"]
    schedule = entry["schedule"]
    assert entry["task"] == "accounts.deadline_reminders"
    assert (schedule.day_of_week, schedule.day_of_month, schedule.month_of_year) == (set(range(7)), set(range(1, 32)), set(range(1, 13)))
    assert len(schedule.hour) == len(schedule.minute) == 1  # once a day


# --- the context processor and the page -------------------------------------------------------------


def test_context_processor_counts_in_one_lazy_query(make_user, django_assert_num_queries):
    user = make_user("u", "county", "510104")
    notify(user=user, title="一")
    notify(user=user, title="二")
    request = RequestFactory().get("/")
    request.user = user
    with django_assert_num_queries(0):
        context = notifications_context(request)
    with django_assert_num_queries(1):
        assert int(context["unread_notifications"]) == 2 and str(context["unread_notifications"]) == "2"
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert notifications_context(request) == {}


def test_the_page_lists_and_marks_read(client, make_user, people, period):
    deadline_reminders_send(today=TODAY)
    user = people["chengdu"]
    info = notify(user=user, title="导出任务已完成", link="/reporting/pictures/")
    red = notify(user=user, title="台账事项已逾期", level="red")
    assert client.get(PAGE).status_code == 302  # login required
    client.force_login(user)
    page = client.get(PAGE).content.decode()
    assert "站内通知" in page and '未读 <strong class="unread-total">3</strong> 条' in page
    assert page.index("台账事项已逾期") < page.index("导出任务已完成") < page.index("成都市尚有")  # newest first
    assert f'class="notice level-red unread" id="notice-{red.pk}"' in page
    assert "蓝色提醒" in page and "/periods/2022S1/review/510100/" in page

    response = client.post(PAGE, {"pk": info.pk, "next": info.link})
    assert response.status_code == 302 and response["Location"] == "/reporting/pictures/"
    info.refresh_from_db()
    assert info.read_at is not None
    response = client.post(PAGE, {"pk": red.pk, "next": "https://evil.example.com/"})
    assert response["Location"] == PAGE  # an outside address is never followed
    assert unread_count(user) == 1
    page = client.get(PAGE).content.decode()
    assert f'class="notice level-info read" id="notice-{info.pk}"' in page

    other = notify(user=people["jinjiang"], title="别人的")
    assert client.post(PAGE, {"pk": other.pk}).status_code == 404
    assert client.post(PAGE, {"pk": "x"}).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None

    response = client.post(PAGE, {"all": "1"}, follow=True)
    assert "已将 1 条通知标记为已读。" in response.content.decode()
    assert unread_count(user) == 0 and unread_count(people["jinjiang"]) == 2


def test_marking_read_needs_the_csrf_token(make_user):
    user = make_user("u", "county", "510104")
    notification = notify(user=user, title="一")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(PAGE, {"all": "1"}).status_code == 403
    assert client.post(PAGE, {"pk": notification.pk}).status_code == 403
    assert unread_count(user) == 1


def test_the_badge_context_reaches_the_pages(client, make_user, settings):
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [*processors, "accounts.context_processors.notifications"],
            },
        }
    ]
    user = make_user("u", "county", "510104")
    notify(user=user, title="一")
    client.force_login(user)
    response = client.get(PAGE)
    assert int(response.context["unread_notifications"]) == 1


BADGE = '{% if unread_notifications %}<span class="badge">{{ unread_notifications }}</span>{% endif %}'


def test_the_nav_badge_snippet_shows_the_count_and_hides_at_zero(make_user, django_assert_num_queries):
    from django.template import Context, Template

    user = make_user("u", "county", "510104")
    request = RequestFactory().get("/")
    request.user = user
    assert Template(BADGE).render(Context(notifications_context(request))) == ""
    notify(user=user, title="一")
    context = notifications_context(request)
    with django_assert_num_queries(1):  # read twice by the snippet, counted once
        assert Template(BADGE).render(Context(context)) == '<span class="badge">1</span>'


@pytest.mark.django_db
def test_two_programs_of_one_half_year_each_remind_on_their_own(make_user):
    """Chongqing's program and the national one share 2022S1: each reminds its counties, keyed apart,
    each linking to its own sheet."""
    services.period_open(code="2022S1")
    services.period_open(code="2022S1", program="chongqing-2021")
    clerk = make_user("yz_clerk", "county", "500103")
    deadline_reminders_send(today=date(2022, 7, 8))
    notices = list(clerk.notifications.order_by("link"))
    assert len(notices) == 2
    assert {n.link for n in notices} == {"/periods/2022S1/sheet/500103/", "/periods/2022S1/sheet/500103/?program=chongqing-2021"}
    assert any("重庆市" in n.title and "42" in n.title for n in notices)
    deadline_reminders_send(today=date(2022, 7, 8))
    assert clerk.notifications.count() == 2  # once per program and stage
