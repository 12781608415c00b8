"""Every role's home page (待办, issue 17 §1): what is theirs to do in the period, with one-click links,
in a fixed number of queries whatever the data size.

The regions (tests/conftest.py ``people``): 四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104 (jj), 青羊 510105
(qy); 绵阳 510700 (my); 重庆 500000 (cq).
"""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, Region
from indicators import review, services
from indicators.models import Submission
from ledger import services as ledger_services
from tests.helpers import fill
from utilities.models import Job

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 5)
SHEET = "/periods/2022S1/sheet/510104/"


def home(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/{query}")
    assert response.status_code == 200
    return response.content.decode()


def queries(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def submit(user, code, period):
    fill(user, code, period, today=TODAY)
    services.county_submit(user=user, region=Region.objects.get(code=code), period=period, today=TODAY)


def test_the_county_home_names_each_blocker_with_a_link_to_the_sheet(client, people, period):
    fill(people["county"], "510104", period, blank=(3, 7), overdue=(12,), today=TODAY)
    page = home(client, people["county"])
    assert "锦江区2022年上半年指标填报" in page and "填报中" in page and "已完成 <strong>28</strong> / 31 项" in page
    assert "报送期限 2022年7月15日" in page and "报送已截止" in page  # long past: no more counting of days
    assert f'<a href="{SHEET}#indicator-3">指标3</a>：未填写' in page and f'<a href="{SHEET}#indicator-7">' in page
    assert f'<a href="{SHEET}#indicator-12">指标12</a>：预计2022年3月完成，已过期' in page
    assert "填报锦江区2022年上半年指标" in page  # the button to the sheet stays


def test_a_returned_sheet_shows_its_reason_and_the_notice_on_the_county_home(client, people, period):
    submit(people["county"], "510104", period)
    assert "各项指标均已填写" not in home(client, people["county"])  # submitted: nothing to do
    review.county_return(user=people["city"], region=Region.objects.get(code="510104"), period=period, reason="第5项佐证不足")
    page = home(client, people["county"])
    assert "已退回" in page and '退回原因：<span class="reason">第5项佐证不足</span>' in page
    assert "锦江区2022年上半年指标被退回" in page and f'href="{SHEET}"' in page
    assert "各项指标均已填写，请" in page


def test_the_city_home_lists_counties_to_review_returned_and_not_started(client, people, period, make_user):
    qingyang = Region.objects.get(code="510105")
    submit(people["county"], "510104", period)
    submit(people["neighbour"], "510105", period)
    review.county_return(user=people["city"], region=qingyang, period=period, reason="请补充佐证")
    page = home(client, people["city"])
    to_review = page[page.index("待您审核") : page.index("已退回（")]
    assert f'<a href="{SHEET}">锦江区</a>：已上报' in to_review and "青羊区" not in to_review
    assert '<a href="/periods/2022S1/sheet/510105/">青羊区</a>：退回原因：请补充佐证' in page
    assert '<a href="/periods/2022S1/sheet/510106/">金牛区</a>：31 项未填' in page
    assert '<a href="/periods/2022S1/review/510100/">打开审核页</a>' in page and "绵阳" not in page


def test_the_province_home_shows_cities_blockers_what_to_accept_and_jobs(client, people, period):
    chengdu = Region.objects.get(code="510100")
    Submission.objects.bulk_create(
        [Submission(region=c, period=period, state="approved", state_changed_at=timezone.now()) for c in chengdu.children.all()]
    )
    Job.objects.create(kind="report", region=Region.objects.get(code="510000"), created_by=people["province"])
    page = home(client, people["province"])
    assert '可接收的地市（各县均已审核）：<a href="/periods/2022S1/province/510000/">成都市</a>' in page
    assert '<a href="/periods/2022S1/blocking/510000/">查看未完成报送情况</a>' in page
    assert '<a href="/periods/2022S1/review/510700/">绵阳市</a>' in page and "最近的报表编制" in page and "报表编制 #" in page
    assert "省级指标待填：*21" in page and "重庆" not in page


def test_national_users_see_every_province_and_a_regulator_its_own(client, people, period, make_user):
    submit(people["county"], "510104", period)
    page = home(client, make_user("nea", "national"))
    assert '<a href="/periods/2022S1/province/510000/">四川省</a>' in page and "重庆市" in page and "最近的报表编制" in page
    assert '<a href="/reporting/pictures/?region=all">全国完成情况总览</a>' in page
    page = home(client, make_user("reg", "regulator", "510000"))
    assert '<a href="/periods/2022S1/province/510000/">四川省</a>' in page and "重庆市" not in page


def test_the_supply_company_home_lists_its_area_and_what_is_entered(client, period, make_user):
    page = home(client, make_user("gd", "supply_company", "510104"))
    assert "2022年上半年“三零”“三省”服务效益（附件3）" in page
    assert '<a href="/reporting/benefits/?year=2022&amp;half=1&amp;region=510104">锦江区</a>：<strong>未填报</strong>' in page


def test_the_period_switcher_shows_another_period_and_refuses_an_unknown_one(client, people, period):
    services.period_open(code="2022")
    page = home(client, people["county"])
    assert '<option value="2022" selected>2022年全年</option>' in page and "锦江区2022年全年指标填报" in page
    page = home(client, people["county"], "?period=2022S1")
    assert '<option value="2022S1" selected>2022年上半年</option>' in page and "锦江区2022年上半年指标填报" in page
    client.force_login(people["county"])
    response = client.get("/?period=1999S1")
    assert response.status_code == 404 and "返回首页" in response.content.decode()


def _grow(people, period, make_user):
    """More of everything each home page reads: sheets, reviews, notices, assignments, jobs."""
    for code in ("510106", "510107", "510108"):
        submit(make_user(f"k{code}", "county", code), code, period)
    review.county_return(user=people["city"], region=Region.objects.get(code="510106"), period=period, reason="重填")
    Submission.objects.bulk_create(
        [
            Submission(region=c, period=period, state="approved", state_changed_at=timezone.now())
            for c in Region.objects.filter(parent__code="510700")
        ]
    )
    for user in people.values():
        Notification.objects.bulk_create([Notification(user=user, title=f"通知{i}") for i in range(8)])
    ledger = ledger_services.ledger_adapt(
        user=people["province"], region=Region.objects.get(code="510000"), year=2022, source=_national_ledger()
    )
    for item in ledger.items.order_by("number")[:4]:
        part = ledger_services.assignment_create(
            user=people["province"], item=item, region=Region.objects.get(code="510100"), responsible_unit="成都"
        )
        ledger_services.assignment_create(
            user=people["city"], item=item, parent=part, region=Region.objects.get(code="510104"), responsible_unit="锦江"
        )
    for _ in range(3):
        Job.objects.create(kind="report", region=Region.objects.get(code="510000"))


def _national_ledger():
    from ledger.models import Ledger

    return Ledger.objects.get(code="national-2021")


def test_each_home_page_costs_a_fixed_number_of_queries(client, people, period, make_user, django_assert_max_num_queries):
    users = {
        **people,
        "national": make_user("nea", "national"),
        "regulator": make_user("reg", "regulator", "510000"),
        "company": make_user("gd", "supply_company", "510104"),
    }
    fill(people["county"], "510104", period, blank=(3,), today=TODAY)
    small = {name: queries(client, user) for name, user in users.items()}
    _grow(people, period, make_user)
    for name, user in users.items():
        client.force_login(user)
        with django_assert_max_num_queries(small[name]):
            assert client.get("/").status_code == 200, name
