"""Completion pictures: heat map, city bars and trend, against numbers computed here from the rows
the fixture writes; a fixed number of queries whatever the region's size; region scoping."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region
from indicators.models import Checkmark, Indicator, IndicatorSet, Period, Program
from reporting import selectors

pytestmark = pytest.mark.django_db

URL = "/reporting/pictures/"
TODAY = date(2022, 7, 10)


def plan_2022s1(i, j):
    """(status, done_month, expected_month) of county i (code order) and indicator j, or None."""
    if i % 5 == 0:
        return ("done", date(2022, 3, 1), None)
    kind = (i + j) % 6
    if kind < 3:
        # A √ without its month: the table prints it “√” (it prints no month), so it counts as done.
        return ("done", None if (kind == 2 and j == 1) else date(2022, 4, 1), None)
    if kind == 3:
        return ("not_done", None, date(2022, 5, 1))  # before July: overdue
    if kind == 4:
        return ("not_done", None, date(2022, 7, 1))  # the current month: not yet overdue
    return None if j % 2 else ("", None, None)


def plan_2021(i, j):
    if i % 10 == 0 or (i + j) % 3 == 0:
        return ("done", date(2021, 6, 1), None)
    return ("not_done", None, date(2021, 12, 1))


@pytest.fixture
def data():
    national = IndicatorSet.objects.get(code="national-2021")
    indicators = list(national.indicators.filter(level="county").order_by("number"))
    periods = {
        "2021": Period.objects.create(
            code="2021",
            year=2021,
            kind="year",
            starts=date(2021, 1, 1),
            ends=date(2021, 12, 31),
            deadline=date(2022, 1, 15),
            indicator_set=national,
            program=Program.objects.get(code=Program.NATIONAL),
        ),
        "2022S1": Period.objects.create(
            code="2022S1",
            year=2022,
            kind="half",
            starts=date(2022, 1, 1),
            ends=date(2022, 6, 30),
            deadline=date(2022, 7, 15),
            indicator_set=national,
            program=Program.objects.get(code=Program.NATIONAL),
        ),
    }
    counties = list(Region.objects.filter(level="county", code__startswith="51").order_by("code"))
    plans = {"2021": plan_2021, "2022S1": plan_2022s1}
    rows = []
    for code, plan in plans.items():
        for i, county in enumerate(counties):
            for j, indicator in enumerate(indicators):
                values = plan(i, j)
                if values:
                    status, done_month, expected_month = values
                    rows.append(
                        Checkmark(
                            region=county,
                            period=periods[code],
                            indicator=indicator,
                            status=status,
                            done_month=done_month,
                            expected_month=expected_month,
                        )
                    )
    # Rows the pictures must ignore: a province indicator, another set's indicator, another province.
    rows += [
        Checkmark(
            region=Region.objects.get(code="510000"),
            period=periods["2022S1"],
            indicator=national.indicators.get(number=21),
            status="done",
            done_month=date(2022, 1, 1),
        ),
        Checkmark(
            region=counties[1],
            period=periods["2022S1"],
            status="done",
            done_month=date(2022, 1, 1),
            indicator=Indicator.objects.get(indicator_set__code="chongqing-2021", number=1),
        ),
        *[
            Checkmark(
                region=Region.objects.get(code="500101"),
                period=periods["2022S1"],
                indicator=indicator,
                status="done",
                done_month=date(2022, 2, 1),
            )
            for indicator in indicators
        ],
    ]
    Checkmark.objects.bulk_create(rows)
    return {"periods": periods, "counties": counties, "indicators": indicators, "plans": plans}


def done_count(plan, i, indicator_count):
    """County i's √, with or without their month."""
    return sum(values is not None and values[0] == "done" for values in (plan(i, j) for j in range(indicator_count)))


def share(part, whole):
    """The 填报说明's share, half up to one decimal, in integer arithmetic: (number, text)."""
    tenths = (2000 * part + whole) // (2 * whole)
    number = Decimal(tenths) / 10
    return number, f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}%"


def expected_completion(data, code, city_code=None):
    """(counties, complete counties, done cells) computed from the plan, not from the database."""
    n = len(data["indicators"])
    picked = [i for i, c in enumerate(data["counties"]) if city_code is None or c.parent.code == city_code]
    counts = [done_count(data["plans"][code], i, n) for i in picked]
    return len(picked), sum(1 for c in counts if c == n), sum(counts)


def cell_of(heatmap, county_code, number):
    column = [i["label"] for i in heatmap["indicators"]].index(str(number))
    county = next(c for city in heatmap["cities"] for c in city["counties"] if c["code"] == county_code)
    return county["cells"][column]


# --- selectors -----------------------------------------------------------------------------------


def test_county_done_counts_match_the_plan(data):
    period, n = data["periods"]["2022S1"], len(data["indicators"])
    counts = dict(selectors.county_done_counts(period=period, region=Region.objects.get(code="510000")).values_list("code", "done_count"))
    assert n == 31 and len(counts) == len(data["counties"]) == 183
    assert counts == {c.code: done_count(plan_2022s1, i, n) for i, c in enumerate(data["counties"])}
    assert counts["510104"] == 31  # i = 0: complete, although Chongqing's indicator 1 is also ticked for 510105


def test_heatmap_cells_states_and_headings(data):
    heatmap = selectors.heatmap(period=data["periods"]["2022S1"], region=Region.objects.get(code="510000"), today=TODAY)
    assert [(g["name"], g["span"]) for g in heatmap["groups"]] == [("2020年指标", 20), ("2021年指标", 8), ("2022年指标", 3)]
    assert len(heatmap["indicators"]) == 31 and not any(i["label"].startswith("*") for i in heatmap["indicators"])
    assert [c["name"] for c in heatmap["cities"]][:3] == ["成都市", "自贡市", "攀枝花市"]
    assert len(heatmap["cities"]) == 21
    # Known cells (county index i in code order: 510105 is 1, 510106 is 2; indicator j = number - 1).
    assert cell_of(heatmap, "510104", 36)["state"] == "done"
    assert cell_of(heatmap, "510105", 1) == {"state": "done", "month": date(2022, 4, 1)}  # (1+0)%6 = 1
    assert cell_of(heatmap, "510105", 2) == {"state": "done", "month": None}  # √ without its month
    assert cell_of(heatmap, "510105", 3) == {"state": "overdue", "month": date(2022, 5, 1)}  # (1+2)%6 = 3
    assert cell_of(heatmap, "510105", 4) == {"state": "pending", "month": date(2022, 7, 1)}  # (1+3)%6 = 4
    assert cell_of(heatmap, "510105", 5)["state"] == "missing"  # (1+4)%6 = 5, j = 4 even: status ""
    assert cell_of(heatmap, "510106", 4)["state"] == "missing"  # (2+3)%6 = 5, j = 3 odd: no row
    # Every cell against the model's own overdue rule.
    for i, county in enumerate(data["counties"]):
        for j, indicator in enumerate(data["indicators"]):
            values = plan_2022s1(i, j)
            row = Checkmark(status=values[0], done_month=values[1], expected_month=values[2]) if values else None
            if row is not None and row.status == "done":
                wanted = "done"
            elif row is None or not row.expected_month:
                wanted = "missing"
            else:
                wanted = "overdue" if row.overdue(TODAY) else "pending"
            assert cell_of(heatmap, county.code, indicator.number)["state"] == wanted, (county.code, indicator.number)
    # The row's done count is its √ cells.
    for city in heatmap["cities"]:
        for county in city["counties"]:
            assert county["done_count"] == sum(cell["state"] == "done" for cell in county["cells"])


def test_completion_by_city_matches_the_plan(data):
    period = data["periods"]["2022S1"]
    cities = {c["code"]: c for c in selectors.completion_by_city(period=period, region=Region.objects.get(code="510000"))}
    assert len(cities) == 21
    for code in ("510100", "510300", "513400"):
        counties, complete, done = expected_completion(data, "2022S1", code)
        assert cities[code]["county_count"] == counties
        assert cities[code]["complete_count"] == complete
        assert cities[code]["done_cells"] == done and cities[code]["cell_count"] == counties * 31
        assert (cities[code]["complete_percent"], cities[code]["complete_percent_text"]) == share(complete, counties)
        assert (cities[code]["done_percent"], cities[code]["done_percent_text"]) == share(done, counties * 31)
    only_chengdu = selectors.completion_by_city(period=period, region=Region.objects.get(code="510100"))
    assert only_chengdu == [cities["510100"]]


def test_completion_over_periods_matches_the_plan(data):
    for region_code, city_code in (("510000", None), ("510100", "510100")):
        points = selectors.completion_over_periods(region=Region.objects.get(code=region_code))
        assert [p["code"] for p in points] == ["2021", "2022S1"]
        for point in points:
            counties, complete, done = expected_completion(data, point["code"], city_code)
            assert (point["county_count"], point["complete_count"], point["done_cells"]) == (counties, complete, done)
            assert (point["complete_percent"], point["complete_percent_text"]) == share(complete, counties)
            assert (point["done_percent"], point["done_percent_text"]) == share(done, counties * 31)


def test_selectors_take_fixed_queries(data, django_assert_num_queries):
    period = data["periods"]["2022S1"]
    for code in ("510104", "510100", "510000"):
        region = Region.objects.get(code=code)
        with django_assert_num_queries(1):
            list(selectors.county_done_counts(period=period, region=region))
        with django_assert_num_queries(4):  # the fourth: the promise chains, for the slipped cells
            selectors.heatmap(period=period, region=region, today=TODAY)
        with django_assert_num_queries(2):
            selectors.completion_by_city(period=period, region=region)
        with django_assert_num_queries(3):
            selectors.completion_over_periods(region=region)


# --- the page ------------------------------------------------------------------------------------


def page_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_page_queries_do_not_grow_with_the_counties(client, make_user, data):
    client.force_login(make_user("p", "province", "510000"))
    one_city = page_queries(client, f"{URL}?period=2022S1&region=510300")  # 自贡市: 6 counties
    province = page_queries(client, f"{URL}?period=2022S1&region=510000")  # 183 counties
    assert one_city == province


def test_page_is_chinese_and_shows_the_pictures(client, make_user, data):
    client.force_login(make_user("p", "province", "510000"))
    page = client.get(f"{URL}?period=2022S1&region=510000").content.decode()
    assert 'lang="zh-hans"' in page and "css/pictures.css" in page
    assert "四川省各县指标完成情况（2022年上半年）" in page
    assert '<th colspan="20" scope="colgroup">2020年指标</th>' in page and "持续推进指标" not in page
    assert "已逾期" in page and "未填报或填报不全" in page
    counties, complete, _ = expected_completion(data, "2022S1", "510100")
    assert f"成都市 {complete}/{counties} 县 {share(complete, counties)[1]}" in page
    assert "<svg" in page and "<polyline" in page and "历次报告期完成情况" in page
    assert '<option value="510100">　成都市</option>' in page  # the cities of the province to choose


def test_page_defaults_to_the_latest_begun_period_and_own_province(client, make_user, data):
    client.force_login(make_user("cq", "province", "500000"))
    page = client.get(URL).content.decode()
    assert "重庆市各县指标完成情况（2022年上半年）" in page
    assert "重庆市 1/38 县 2.6%" in page  # 万州区 ticked all 31
    assert "四川省" not in page


@pytest.mark.parametrize("role,code", [("city", "510100"), ("county", "510104"), ("supply_company", "510000")])
def test_other_roles_are_refused_in_chinese(client, make_user, data, role, code):
    client.force_login(make_user("u", role, code))
    response = client.get(URL)
    assert response.status_code == 403 and "无权查看" in response.content.decode()


def test_region_is_limited_to_what_the_user_may_view(client, make_user, data):
    client.force_login(make_user("cq", "province", "500000"))
    assert client.get(f"{URL}?region=510000").status_code == 404
    client.force_login(make_user("sc", "regulator", "510000"))
    assert client.get(f"{URL}?region=510100").status_code == 200
    assert client.get(f"{URL}?region=510104").status_code == 404  # a county is not a picture's region
    assert client.get(f"{URL}?period=1999").status_code == 404
    client.force_login(make_user("n", "national"))
    assert client.get(f"{URL}?region=500000").status_code == 200


def test_login_required(client):
    assert client.get(URL).url.startswith("/login/")
