"""未完成报送情况 (issue 8 §5): which counties hold a province up, what they miss, whom to chase,
how many days are left — the selector, its query count, its scope and the page."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region
from accounts.services import api_token_create
from indicators.blocking import blocking
from indicators.models import SignoffException, Submission
from tests.helpers import fill, labels, region

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 12)  # 2022S1 is due 15 July: 3 days left, the yellow stage
PAGE = "/periods/2022S1/blocking/640000/"


def set_state(code, period, state, reason=""):
    return Submission.objects.update_or_create(region=region(code), period=period, defaults={"state": state, "reason": reason})[0]


@pytest.fixture
def ningxia(make_user, period):
    """宁夏: every county approved but 兴庆区 (填报中, 2 blank and 1 passed month), 西夏区 (已退回),
    金凤区 (已上报, complete) of 银川市, and 大武口区 of 石嘴山市 (never touched: no Submission row)."""
    people = {
        "xingqing": make_user("xq", "county", "640104", first_name="王芳", phone="13800000001"),
        "xixia": make_user("xx", "county", "640105", first_name="李强"),
        "jinfeng": make_user("jf", "county", "640106", first_name="陈静"),
        "yinchuan": make_user("yc", "city", "640100", first_name="张敏", phone="13900000002"),
        "shizuishan": make_user("szs", "city", "640200", first_name="赵磊"),
        "province": make_user("nx", "province", "640000", first_name="马宁"),
    }
    people["xingqing"].email = "wf@example.cn"
    people["xingqing"].save(update_fields=["email"])
    api_token_create(user=people["province"], name="兴庆区政务平台", region=region("640104"), access="write")
    for county in Region.objects.filter(path__startswith="640000/", level="county").exclude(
        code__in=["640104", "640105", "640106", "640202"]
    ):
        set_state(county.code, period, "approved")
    fill(people["xingqing"], "640104", period, blank={1, 2}, overdue={3})
    fill(people["jinfeng"], "640106", period)
    set_state("640105", period, "returned", reason="指标 7 佐证不全")
    set_state("640106", period, "submitted")
    return people


def names(users):
    return [u.get_full_name() for u in users]


def test_the_counties_holding_the_province_up_most_urgent_first(ningxia, period):
    data = blocking(province=region("640000"), period=period, today=TODAY)
    # Returned first, then never submitted (the most missing first), then waiting for the city.
    assert [row.county.code for row in data.rows] == ["640105", "640202", "640104", "640106"]
    assert (data.days_left, data.level, data.days_label, data.to_fill, data.to_review) == (3, "yellow", "还有3天", 3, 1)
    xixia, dawukou, xingqing, jinfeng = data.rows
    every = labels(period, "county")

    assert (xixia.city.name, xixia.county.name, xixia.state_label, xixia.reason) == ("银川市", "西夏区", "已退回", "指标 7 佐证不全")
    assert xixia.missing == every and xixia.passed == []
    assert names(xixia.chase) == ["李强"] and names(xixia.city_people) == ["张敏"]

    assert (dawukou.city.name, dawukou.state_label, dawukou.missing) == ("石嘴山市", "填报中", every)
    assert dawukou.county_people == [] and names(dawukou.city_people) == ["赵磊"]

    assert (xingqing.state_label, xingqing.missing, xingqing.passed) == ("填报中", ["1", "2"], ["3（2022年3月）"])
    assert names(xingqing.chase) == ["王芳"]  # the API client's service account of 兴庆区 is nobody to chase
    assert (xingqing.chase[0].phone, xingqing.chase[0].email) == ("13800000001", "wf@example.cn")

    assert (jinfeng.state_label, jinfeng.missing, jinfeng.passed, jinfeng.county_to_act) == ("已上报", [], [], False)
    assert names(jinfeng.chase) == ["张敏"]  # the city reviewer is the blocker

    assert {(row.days_left, row.level, row.days_label) for row in data.rows} == {(3, "yellow", "还有3天")}
    assert data.province_missing == labels(period, "province") == ["*21", "*27", "*29", "*30", "*33"]


def test_days_left_and_colour(ningxia, period):
    colours = {
        day: blocking(province=region("640000"), period=period, today=day).rows[0]
        for day in (date(2022, 7, 1), date(2022, 7, 8), date(2022, 7, 15), date(2022, 7, 20))
    }
    assert [(r.days_left, r.level, r.days_label) for r in colours.values()] == [
        (14, "info", "还有14天"),
        (7, "blue", "还有7天"),
        (0, "red", "今天截止"),
        (-5, "red", "已逾期5天"),
    ]


def test_a_city_reviewer_sees_only_their_counties(ningxia, period):
    data = blocking(province=region("640000"), period=period, today=TODAY, user=ningxia["yinchuan"])
    assert [row.county.code for row in data.rows] == ["640105", "640104", "640106"]


def test_a_confirmed_province_is_held_up_only_by_its_signoff_exceptions(ningxia, period):
    province = set_state("640000", period, "confirmed")
    assert blocking(province=region("640000"), period=period, today=TODAY).rows == []

    city = set_state("640100", period, "accepted")
    for submission, code, reason in ((city, "640105", "西夏区正在补充佐证"), (province, "640202", "大武口区系统故障，延后报送")):
        exception = SignoffException(submission=submission, county=region(code), reason=reason, named_by=ningxia["province"])
        exception.full_clean()
        exception.save()
    rows = blocking(province=region("640000"), period=period, today=TODAY).rows
    assert [(row.county.code, row.exception) for row in rows] == [
        ("640105", "西夏区正在补充佐证"),
        ("640202", "大武口区系统故障，延后报送"),
    ]


def test_approved_counties_hold_nothing_up(ningxia, period):
    for code in ("640104", "640105", "640106", "640202"):
        set_state(code, period, "approved")
    assert blocking(province=region("640000"), period=period, today=TODAY).rows == []


def blocking_queries(province, period, user=None):
    with CaptureQueriesContext(connection) as queries:
        data = blocking(province=province, period=period, today=TODAY, user=user)
    return len(queries), len(data.rows)


def test_queries_do_not_grow_with_the_counties(ningxia, make_user, period):
    for code in ("640105", "640106", "640202"):
        set_state(code, period, "approved")
    one = blocking_queries(region("640000"), period)
    assert one[1] == 1
    # 四川: 183 counties none of which has reported, a user in each of 60 and every city's reviewer.
    for county in Region.objects.filter(level="county", path__startswith="510000/").order_by("code")[:60]:
        make_user(f"k{county.code}", "county", county.code)
    for city in Region.objects.filter(level="city", parent__code="510000"):
        make_user(f"c{city.code}", "city", city.code)
    many = blocking_queries(region("510000"), period)
    assert many[1] == Region.objects.filter(level="county", path__startswith="510000/").count()
    assert many[0] == one[0]
    reviewer = ningxia["yinchuan"]
    assert (
        blocking_queries(region("640000"), period, reviewer)[0]
        == blocking_queries(region("510000"), period, make_user("cd", "city", "510100"))[0]
    )


# --- the page ------------------------------------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    from indicators import views_blocking

    monkeypatch.setattr(views_blocking.timezone, "localdate", lambda: TODAY)


def test_the_page_for_the_province(client, ningxia, period, today):
    client.force_login(ningxia["province"])
    page = client.get(PAGE).content.decode()
    assert "宁夏回族自治区 · 2022年上半年未完成报送情况" in page
    assert [page.index(f'id="county-{code}"') for code in ("640105", "640202", "640104", "640106")] == sorted(
        page.index(f'id="county-{code}"') for code in ("640105", "640202", "640104", "640106")
    )
    assert '<span class="days level-yellow">还有3天</span>' in page
    assert 'href="/periods/2022S1/sheet/640104/">兴庆区</a>' in page
    assert 'href="/periods/2022S1/review/640200/">石嘴山市</a>' in page
    assert "未填写 2 项：1、2" in page and "预计完成月份已过 1 项：3（2022年3月）" in page
    assert "王芳 13800000001" in page and 'href="mailto:wf@example.cn"' in page
    assert "退回原因：指标 7 佐证不全" in page
    assert "尚有 <strong>4</strong> 个县（区）未完成报送" in page
    assert "尚未填写：*21、*27、*29、*30、*33。" in page
    assert "接口：兴庆区政务平台" not in page


def test_the_page_for_a_city_reviewer_shows_their_city_only(client, ningxia, period, today):
    client.force_login(ningxia["yinchuan"])
    page = client.get(PAGE).content.decode()
    assert "仅列出您所辖地市的县（区）。" in page
    assert 'id="county-640104"' in page and 'id="county-640202"' not in page and "石嘴山市" not in page


def test_the_page_when_nothing_is_pending(client, ningxia, period, today):
    for code in ("640104", "640105", "640106", "640202"):
        set_state(code, period, "approved")
    client.force_login(ningxia["province"])
    page = client.get(PAGE).content.decode()
    assert "全省各县（区）均已上报并经地市审核" in page and "<table" not in page


def test_who_may_open_the_page(client, ningxia, make_user, period, today):
    expected = {
        "xingqing": 403,  # a county
        "yinchuan": 200,
        "province": 200,
        make_user("sup", "supply_company", "640000"): 403,
        make_user("reg", "regulator", "640000"): 200,
        make_user("nat", "national"): 200,
        make_user("sc", "province", "510000"): 404,  # another province
    }
    for who, status in expected.items():
        client.force_login(ningxia[who] if isinstance(who, str) else who)
        assert client.get(PAGE).status_code == status, who
    client.force_login(ningxia["province"])
    assert client.get("/periods/2022S1/blocking/640100/").status_code == 404  # a city is not a province


def test_linked_from_the_province_page_and_the_review_matrix(client, ningxia, period):
    client.force_login(ningxia["province"])
    assert f'href="{PAGE}"' in client.get("/periods/2022S1/province/640000/").content.decode()
    client.force_login(ningxia["yinchuan"])
    assert f'href="{PAGE}"' in client.get("/periods/2022S1/review/640100/").content.decode()
