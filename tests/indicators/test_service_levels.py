"""Measured service levels from application records (issue 14 §3): per class and stage, per child
region, the program's limits and targets, the distribution and the trend, each figure checked
against a hand computation of the records in test_application_attributes (渝中区, 2024S1)."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.models import Region
from indicators.applications.levels import service_levels
from indicators.models import Application, CustomerClass, Program, Stage

from .test_application_attributes import RECORDS_NEW, new_xlsx
from .test_applications import YUZHONG, upload

pytestmark = pytest.mark.django_db

D = Decimal
RES, LOW, HIGH = CustomerClass.RESIDENTIAL, CustomerClass.LOW_VOLTAGE, CustomerClass.HIGH_VOLTAGE


@pytest.fixture
def period():
    from indicators import services

    return services.period_open(code="2024S1")[0]


@pytest.fixture
def yuzhong(make_user, period):
    upload(make_user("cq_supply", "supply_company", "500000"), YUZHONG, new_xlsx(RECORDS_NEW))
    return Region.objects.get(code=YUZHONG)


def copy_to(counties, source):
    """The source county's records again in each of ``counties`` (same batch, same numbers)."""
    records = list(Application.objects.filter(region=source))
    for county in counties:
        for record in records:
            record.pk, record.region = None, county
        Application.objects.bulk_create(records)


def test_a_county_measured_by_class_and_stage_as_computed_by_hand(people, yuzhong, period):
    levels = service_levels(user=people["chongqing"], region=yuzhong, period=period)
    residential, low, high = levels.by_class[RES], levels.by_class[LOW], levels.by_class[HIGH]
    assert (residential.count, low.count, high.count, levels.overall.count) == (3, 3, 1, 7)
    # R1 3, R2 3 (Spring Festival), R3 6 → 12 / 3; Z1 6, Z2 9 (make-up Saturday), B1 2 → 17 / 3
    assert (residential.elapsed.average, residential.elapsed.longest) == (D("4.0"), 6)
    assert (low.stages[Stage.CONNECTION].average, low.stages[Stage.CONNECTION].longest) == (D("5.7"), 9)
    assert residential.stages[Stage.ACCEPTANCE].average == D("0.0") and residential.stages[Stage.SCHEME].count == 0
    # H1: 受理 1, 方案 10, 竣工 2, 装表 4 = 17; 22 from acceptance to connection
    assert (high.stages[Stage.SCHEME].average, high.total.longest, high.elapsed.longest) == (D("10.0"), 17, 22)
    assert (levels.overall.elapsed.average, levels.overall.elapsed.longest) == (D("7.3"), 22)  # 51 / 7
    assert (residential.zero_percent, low.zero_percent, levels.overall.zero_percent) == (D("100.0"), D("33.3"), D("71.4"))
    shares = {(s.rule.indicator.number, s.rule.measure, s.rule.stages): (s.covered, s.met) for s in levels.overall.shares_list()}
    assert shares[(6, "elapsed_days", "")] == (3, 2)  # 居民 ≤ 5: R3 took 6
    assert shares[(34, "elapsed_days", "")] == (2, 2)
    assert shares[(4, "stage_days", "connection")] == (1, 0)  # H1's 4 days over 3
    assert shares[(3, "total_days", "")] == (1, 1)  # B1
    assert levels.children == [] and levels.targets == []
    assert levels.histograms[RES].buckets == [(0, 0), (1, 0), (2, 0), (3, 2), (4, 0), (5, 0), (6, 1)]
    assert [limit for limit, _rules in levels.histograms[RES].limits] == [5]
    [everyone] = levels.trend
    assert everyone.period.code == "2024S1" and everyone.count == 7 and everyone.classes[LOW].elapsed.longest == 9


def test_a_program_s_average_target_met_with_its_measured_value(people, yuzhong, period):
    chongqing = Program.objects.get(code="chongqing-2021")
    levels = service_levels(user=people["chongqing"], region=yuzhong, period=period, program=chongqing)
    [target] = levels.targets  # 10千伏城镇 全流程平均 ≤ 30 个工作日: H1 alone, 22
    assert (target.total, target.value, target.met) == (1, D(22), True)
    shares = {(s.rule.applies_to, s.rule.measure): (s.covered, s.met) for s in levels.overall.shares_list()}
    assert shares[("class=residential", "total_days")] == (3, 2)  # 合计 ≤ 3: R1 and R2 3, R3 6


def test_a_city_and_its_counties_in_the_same_grouped_query(people, yuzhong, period):
    copy_to(Region.objects.filter(code="500104"), yuzhong)
    city = Region.objects.get(code="500100")
    levels = service_levels(user=people["chongqing"], region=city, period=period)
    children = {
        child.code: (level.count, level.elapsed.longest, classes.get(HIGH) and classes[HIGH].count)
        for child, level, classes, _targets in levels.children
    }
    assert children["500103"] == children["500104"] == (7, 22, 1) and children["500101"] == (0, None, None)
    assert levels.overall.count == 14 and levels.overall.elapsed.average == D("7.3")
    province = service_levels(user=people["chongqing"], region=Region.objects.get(code="500000"), period=period)
    assert {child.code: level.count for child, level, _classes, _targets in province.children}["500100"] == 14


@pytest.mark.parametrize("region_code", ["500000", "500100"])
def test_the_query_count_does_not_grow_with_the_counties(people, yuzhong, period, region_code, django_assert_num_queries):
    region = Region.objects.get(code=region_code)
    others = Region.objects.filter(parent__code="500100", level="county").exclude(code=YUZHONG).order_by("code")
    copy_to(others[:1], yuzhong)
    with django_assert_num_queries(5):
        small = service_levels(user=people["chongqing"], region=region, period=period)
    copy_to(others[1:19], yuzhong)
    with django_assert_num_queries(5):
        large = service_levels(user=people["chongqing"], region=region, period=period)
    assert (small.overall.count, large.overall.count) == (14, 140)


def test_a_county_user_sees_no_other_county_s_records(make_user, yuzhong, period):
    neighbour = make_user("wz", "county", "500101")
    levels = service_levels(user=neighbour, region=yuzhong, period=period)
    assert levels.overall.count == 0 and levels.by_class == {} and levels.trend == []


# --- the page and its workbook ---------------------------------------------------------------------

PAGE = "/periods/2024S1/service-levels/{}/"


def test_the_page_shows_tables_distribution_with_limits_and_trend(client, people, yuzhong, period):
    client.force_login(people["chongqing"])
    response = client.get(PAGE.format(YUZHONG))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="record-count">7<' in html and 'id="class-residential"' in html and 'id="class-all"' in html
    assert "2 / 3" in html and "66.7%" in html  # 指标 6: 居民 ≤ 5
    assert 'aria-label="居民全过程用时分布"' in html and "≤5" in html and "6 个工作日：1 件" in html
    trend = html[html.index('id="trend-table"') :]
    assert "2024年上半年" in trend and '<th scope="row">合计</th><td class="num">7</td>' in trend and ">7.3<" in trend
    chongqing = client.get(PAGE.format(YUZHONG), {"limits": "chongqing-2021"}).content.decode()
    assert "√ 达到" in chongqing and "平均 22.0 个工作日（1 件）" in chongqing
    city = client.get(PAGE.format("500100")).content.decode()
    assert 'id="child-500103"' in city and 'id="child-500101"' in city


def test_a_county_cannot_open_another_county_s_page(client, make_user, yuzhong, period):
    client.force_login(make_user("wz", "county", "500101"))
    assert client.get(PAGE.format(YUZHONG)).status_code == 404
    assert client.get(PAGE.format("500101"), {"limits": "sichuan-2022"}).status_code == 404  # a program not covering it


def test_the_workbook_reads_back_cell_by_cell(client, people, yuzhong, period):
    copy_to(Region.objects.filter(code="500104"), yuzhong)
    client.force_login(people["chongqing"])
    response = client.get(PAGE.format("500100"), {"format": "xlsx", "limits": "chongqing-2021"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["分类与环节", "时限达标", "时限目标", "下级区域", "趋势"]
    ws = workbook["分类与环节"]
    assert ws["A1"].value == "用电报装服务水平（按用户类别和环节）"
    header = [c.value for c in ws[3]]
    assert header[:4] == ["用户类别", "件数", "业务受理平均", "业务受理最长"] and header[-5:] == [
        "各环节合计平均",
        "各环节合计最长",
        "全过程平均",
        "全过程最长",
        "零投资占比（%）",
    ]
    rows = {r[0]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["居民"][1] == 6 and rows["居民"][-2:] == (6, 100) and rows["居民"][-3] == 4
    assert rows["高压"][header.index("供电方案答复平均")] == 10 and rows["高压"][header.index("装表接电最长")] == 4
    assert rows["合计"][1] == 14 and rows["合计"][-3:] == (7.3, 22, 71.4)
    assert rows["居民"][header.index("供电方案答复平均")] is None
    limits = list(workbook["时限达标"].iter_rows(min_row=4, values_only=True))
    assert ("居民", "居民", "各环节合计办理时间 ≤ 3 个工作日", 6, 4, 66.7) == limits[
        [r[2] for r in limits].index("各环节合计办理时间 ≤ 3 个工作日")
    ][:6]
    [target] = workbook["时限目标"].iter_rows(min_row=4, values_only=True)
    assert target[2:5] == (2, 22, "√ 达到")
    children = {r[0]: r for r in workbook["下级区域"].iter_rows(min_row=4, values_only=True)}
    assert children["渝中区"][1:4] == (7, 7.3, 22) and children["万州区"][1:4] == (0, None, None)
    assert children["渝中区"][-2:] == (22, "√ 达到") and children["万州区"][-2:] == (None, "—")  # 10千伏城镇 平均 ≤ 30
    trend = list(workbook["趋势"].iter_rows(min_row=4, values_only=True))
    assert trend[-1][:5] == ("2024年上半年", "合计", 14, 7.3, 22)


# --- the API ---------------------------------------------------------------------------------------

API = "/api/v1/periods/2024S1/regions/{}/service-levels/"


@pytest.fixture
def admin(make_user):
    """重庆's tokens are issued by 重庆's energy administration."""
    return make_user("cq_admin", "province", "500000")


def test_the_api_answers_the_same_figures(client_for, yuzhong, period):
    client = client_for("500000", access="read")
    body = client.get(API.format("500100"), {"limits": "chongqing-2021"}).json()
    assert (body["region"], body["period"], body["program"]) == ("500100", "2024S1", "chongqing-2021")
    assert body["overall"]["count"] == 7 and body["overall"]["elapsed"] == {"count": 7, "average": "7.3", "longest": 22}
    assert body["overall"]["zero_percent"] == "71.4"
    classes = {c["customer_class"]: c["level"] for c in body["classes"]}
    assert {s["stage"]: s["average"] for s in classes["high_voltage"]["stages"]}["scheme"] == "10.0"
    residential_total = next(s for s in classes["residential"]["limits"] if s["limit"] == "各环节合计办理时间 ≤ 3 个工作日")
    assert (residential_total["covered"], residential_total["met"], residential_total["percent"]) == (3, 2, "66.7")
    assert [(t["total"], t["value"], t["met"]) for t in body["targets"]] == [(1, "22.0", True)]
    assert {c["code"]: c["level"]["count"] for c in body["children"]}["500103"] == 7
    distribution = {d["customer_class"]: d for d in body["distributions"]}["residential"]
    assert distribution["counts"] == [0, 0, 0, 2, 0, 0, 1] and distribution["limits"] == [3]
    assert [(p["period"], p["count"]) for p in body["trend"]] == [("2024S1", 7)]


def test_the_api_hides_another_county_s_levels(client_for, yuzhong, period):
    response = client_for("500101", access="read").get(API.format(YUZHONG))
    assert response.status_code == 404 and "不在您的管辖范围内" in str(response.json())


def test_the_benchmark_floor_counts_what_the_selector_counts(people, yuzhong, period):
    from benchmarks.run import floor_service_levels

    copy_to(Region.objects.filter(code="500104"), yuzhong)
    chongqing = Program.objects.get(code="chongqing-2021")
    province = Region.objects.get(code="500000")
    levels = service_levels(user=people["chongqing"], region=province, period=period, program=chongqing)
    width = 2 + 2 + 3 * len(Stage) + 4 + 2 * len(levels.rules)
    main = [row[2:] for row in floor_service_levels(period=period, region=province, rules=levels.rules) if len(row) == width]
    assert sum(row[0] for row in main) == levels.overall.count == 14
    assert sum(row[1] for row in main) == levels.overall.zero_investment == 10
    rule_columns = 2 + 3 * len(Stage) + 4
    for i, rule in enumerate(levels.rules):
        covered = sum(row[rule_columns + 2 * i] for row in main)
        assert covered == levels.overall.covered.get(rule.pk, 0), rule
        if rule.statistic == "each":
            assert sum(row[rule_columns + 2 * i + 1] for row in main) == levels.overall.shares[rule.pk].met, rule


def test_the_benchmark_row_runs_and_its_query_count_holds(period):
    from benchmarks.run import bench_service_levels

    result, (_text, passed) = bench_service_levels(period, 1, Region.objects.get(code="640000"), records=300)
    assert passed and result.queries == 5 and result.floor > 0
    assert Application.objects.filter(period=period, region__path__startswith="640000/").count() == 300


@pytest.mark.browser
def test_the_page_in_a_browser(browser_page, live_server, transactional_db, people, yuzhong, period):
    from tests.helpers import login, screenshot

    login(browser_page, live_server, "cq")
    browser_page.goto(f"{live_server.url}{PAGE.format(YUZHONG)}?limits=chongqing-2021")
    figure = browser_page.locator("#distribution-residential")
    assert "时限 3 个工作日" in figure.inner_text() and figure.locator("rect").count() == 7
    assert browser_page.locator("#targets").inner_text().count("√ 达到") == 1
    screenshot(browser_page, "service-levels-county")
