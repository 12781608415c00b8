"""Notices on every state change (issue 17 §2): the change feed's events reach the people who must act,
in their scope only, once per event, by mail where they have an address.

The regions (tests/conftest.py ``people``): 四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104 (jj), 青羊 510105
(qy, a neighbour); 绵阳 510700 (my, another city); 重庆 500000 (cq, another province).
"""

from datetime import date

import pytest
from django.core import mail
from django.utils import timezone

from accounts.changes import change_recorded
from accounts.models import ChangeEvent, Notification, Region
from indicators import review, services
from indicators.models import Submission
from ledger import services as ledger_services
from portal.notices import notices_send
from tests.helpers import fill

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 5)
SHEET = "/periods/2022S1/sheet/510104/"


def told(user):
    return list(Notification.objects.filter(user=user).order_by("pk"))


def who_heard(people, title_part):
    return {name for name, user in people.items() if Notification.objects.filter(user=user, title__contains=title_part).exists()}


@pytest.fixture
def submitted(people, period):
    fill(people["county"], "510104", period, today=TODAY)
    services.county_submit(user=people["county"], region=Region.objects.get(code="510104"), period=period, today=TODAY)
    return period


def test_a_submission_tells_its_city_reviewers_only(people, submitted):
    assert who_heard(people, "已上报") == {"city"}
    notice = told(people["city"])[-1]
    assert notice.title == "锦江区2022年上半年指标已上报，请审核" and notice.link == SHEET and notice.key.startswith("event:")


def test_a_return_tells_the_county_clerks_the_reason_with_a_link_to_the_sheet(people, submitted):
    review.county_return(user=people["city"], region=Region.objects.get(code="510104"), period=submitted, reason="第5项佐证不足")
    assert who_heard(people, "被退回") == {"county"}
    notice = told(people["county"])[-1]
    assert notice.title == "锦江区2022年上半年指标被退回" and notice.level == "yellow"
    assert "第5项佐证不足" in notice.body and "成都审核员" in notice.body and notice.link == SHEET


def test_an_approval_tells_the_county_clerks(people, submitted):
    review.county_approve(user=people["city"], region=Region.objects.get(code="510104"), period=submitted)
    assert who_heard(people, "已通过市级审核") == {"county"}


def test_acceptance_confirmation_and_reopening_reach_the_regions_that_act(people, make_user, period):
    """A city accepted → its users; the province confirmed → the province and every city; reopened
    → the province, its cities and its counties, with the reason. 重庆 hears nothing."""
    people["mianyang_county"] = make_user("fc", "county", "510703")
    counties = Region.objects.filter(level="county", path__startswith="510000/")
    Submission.objects.bulk_create(
        [Submission(region=c, period=period, state="approved", state_changed_at=timezone.now()) for c in counties]
    )
    sichuan, province = Region.objects.get(code="510000"), people["province"]
    for city in Region.objects.filter(parent=sichuan):
        review.city_accept(user=province, region=city, period=period)
    assert who_heard(people, "已由省级接收") == {"city", "other_city"}
    assert told(people["city"])[-1].link == "/periods/2022S1/review/510100/"

    done = services.CheckmarkValue("done", date(2022, 3, 1))
    services.checkmarks_set(user=province, region=sichuan, period=period, values=dict.fromkeys((21, 27, 29, 30, 33), done), today=TODAY)
    review.period_confirm(user=province, region=sichuan, period=period, today=TODAY)
    assert who_heard(people, "已省级确认") == {"city", "other_city"}  # the province itself confirmed: not told
    assert told(people["other_city"])[-1].link == "/periods/2022S1/review/510700/"

    other = make_user("sc2", "province", "510000")
    review.period_reopen(user=province, region=sichuan, period=period, reason="锦江区数据有误")
    assert who_heard({**people, "other": other}, "已重新开放") == {"city", "other_city", "county", "neighbour", "mianyang_county", "other"}
    assert "锦江区数据有误" in told(other)[-1].body and told(other)[-1].link == "/periods/2022S1/province/510000/"
    assert told(people["county"])[-1].link == SHEET
    assert not told(people["chongqing"])


def test_a_county_named_an_exception_learns_its_data_stays_open(people, period):
    jinjiang, chengdu = Region.objects.get(code="510104"), Region.objects.get(code="510100")
    Submission.objects.bulk_create(
        [
            Submission(region=c, period=period, state="approved", state_changed_at=timezone.now())
            for c in chengdu.children.exclude(pk=jinjiang.pk)
        ]
    )
    review.city_accept(user=people["province"], region=chengdu, period=period, exceptions={jinjiang: "受灾，数据待核实"})
    assert who_heard(people, "签收例外") == {"county"}
    notice = told(people["county"])[-1]
    assert "受灾，数据待核实" in notice.body and "接收地市" in notice.body and notice.link == SHEET


def test_ledger_assignments_reach_the_assignee_and_progress_the_assigner(people, chain):
    city_part, county_part = chain
    assert who_heard(people, "新任务") == {"city", "county"}
    assert told(people["county"])[-1].link == f"/ledgers/assignments/{county_part.pk}/"

    ledger_services.progress_report(user=people["county"], assignment=county_part, status="done", note="已完成验收")
    assert who_heard(people, "报送了进展") == {"city"}  # 成都 gave the part to 锦江: its reviewers hear
    assert "已完成验收" in told(people["city"])[-1].body

    ledger_services.progress_review(user=people["city"], assignment=county_part, note="缺少验收材料", send_back=True)
    assert who_heard(people, "进展被退回") == {"county"} and "缺少验收材料" in told(people["county"])[-1].body

    ledger_services.press(user=people["province"], assignment=city_part, note="请本周内报送进展")
    assert who_heard(people, "督办") == {"city"}
    pressed = Notification.objects.get(user=people["city"], title__startswith="督办")
    assert pressed.level == "red" and "请本周内报送进展" in pressed.body and pressed.link == f"/ledgers/assignments/{city_part.pk}/"


def test_an_event_replayed_adds_nothing_and_a_batch_costs_a_fixed_number_of_queries(people, submitted, django_assert_max_num_queries):
    review.county_return(user=people["city"], region=Region.objects.get(code="510104"), period=submitted, reason="重填")
    events = list(ChangeEvent.objects.filter(type="submission.changed").select_related("user"))
    before = Notification.objects.count()
    change_recorded.send(sender=ChangeEvent, events=events)
    assert Notification.objects.count() == before

    Notification.objects.all().delete()
    with django_assert_max_num_queries(5):
        assert len(notices_send(events=events)) == 2  # the city of the submission, the county of the return
    assert Notification.objects.count() == 2


def test_notices_are_mailed_to_users_with_an_address(people, period, settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_BY_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people["neighbour"].email = ""
    people["neighbour"].save()
    people["county"].email = "jj@example.cn"
    people["county"].save()
    fill(people["county"], "510104", period, today=TODAY)
    jinjiang = Region.objects.get(code="510104")
    services.county_submit(user=people["county"], region=jinjiang, period=period, today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        review.county_return(user=people["city"], region=jinjiang, period=period, reason="第5项佐证不足")
    assert [m.to for m in mail.outbox] == [["jj@example.cn"]]
    assert mail.outbox[0].subject == "【获得电力台账】锦江区2022年上半年指标被退回" and "第5项佐证不足" in mail.outbox[0].body
