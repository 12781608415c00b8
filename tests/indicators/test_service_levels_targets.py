"""Each child region's average and longest targets met or missed, and the trend per customer class
(issue 14 §3), on generated records of two counties of 重庆市辖区 under SGCC Chongqing's targets
(cqpower-2021 附件2: 居民 全过程 平均 ≤ 3、最长 ≤ 3; “三零” 平均 ≤ 7、最长 ≤ 20), each figure
computed by hand."""

import html as markup
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.models import Region
from indicators import services
from indicators.applications.levels import service_levels
from indicators.models import CustomerClass, Program

from .test_application_attributes import DAYS, RECORDS_NEW, RESIDENT, THREE_ZERO_SMALL, new_xlsx, simple
from .test_applications import YUZHONG, upload
from .test_service_levels import copy_to

pytestmark = pytest.mark.django_db

D = Decimal
RES, LOW, HIGH = CustomerClass.RESIDENTIAL, CustomerClass.LOW_VOLTAGE, CustomerClass.HIGH_VOLTAGE
DADUKOU, CITY = "500104", "500100"
RESIDENT_AVERAGE = ("class=residential", "average")
RESIDENT_LONGEST = ("class=residential", "longest")
THREE_ZERO_AVERAGE = ("class=low_voltage;three_zero=yes", "average")
THREE_ZERO_LONGEST = ("class=low_voltage;three_zero=yes", "longest")

# 渝中区 meets every target: 居民 3 and 2 days (平均 2.5, 最长 3), “三零” 6 days.
YUZHONG_RECORDS = [
    simple("A1", *DAYS["R"], **RESIDENT),  # 3
    simple("A2", "2024-03-04", "2024-03-06", **RESIDENT),  # 2
    simple("A3", "2024-05-06", "2024-05-13", **THREE_ZERO_SMALL),  # 6
]
# 大渡口区 misses them: 居民 6 days; “三零” 22 (Qingming, Labour Day, two make-up Sundays) and 6 days.
DADUKOU_RECORDS = [
    simple("B1", *DAYS["SIX"], **RESIDENT),  # 6
    simple("B2", "2024-04-01", "2024-05-06", **THREE_ZERO_SMALL, investment="300"),  # 22
    simple("B3", "2024-05-06", "2024-05-13", **THREE_ZERO_SMALL),  # 6
]


@pytest.fixture
def period():
    return services.period_open(code="2024S1")[0]


@pytest.fixture
def supply(make_user):
    return make_user("cq_supply", "supply_company", "500000")


@pytest.fixture
def counties(supply, period):
    upload(supply, YUZHONG, new_xlsx(YUZHONG_RECORDS))
    upload(supply, DADUKOU, new_xlsx(DADUKOU_RECORDS))


@pytest.fixture
def admin(make_user):
    """重庆's tokens are issued by 重庆's energy administration."""
    return make_user("cq_admin", "province", "500000")


@pytest.fixture
def sgcc():
    return Program.objects.get(code="cqpower-2021")


def by_target(targets):
    return {(t.rule.applies_to, t.rule.statistic): t for t in targets}


def test_each_county_s_targets_from_its_own_records(people, counties, period, sgcc):
    levels = service_levels(user=people["chongqing"], region=Region.objects.get(code=CITY), period=period, program=sgcc)
    children = {child.code: by_target(targets) for child, _level, _classes, targets in levels.children}
    yuzhong, dadukou = children[YUZHONG], children[DADUKOU]
    # 渝中区: 居民 (3 + 2) / 2 = 2.5 ≤ 3, 最长 3 ≤ 3; “三零” 6 / 1 = 6.0 ≤ 7, 最长 6 ≤ 20
    assert (yuzhong[RESIDENT_AVERAGE].total, yuzhong[RESIDENT_AVERAGE].shown_value, yuzhong[RESIDENT_AVERAGE].met) == (2, D("2.5"), True)
    assert yuzhong[RESIDENT_AVERAGE].verdict == "平均 2.5 个工作日 ≤ 3 √ 达到"
    assert (yuzhong[RESIDENT_LONGEST].shown_value, yuzhong[RESIDENT_LONGEST].verdict) == (3, "最长 3 个工作日 ≤ 3 √ 达到")
    assert (yuzhong[THREE_ZERO_AVERAGE].shown_value, yuzhong[THREE_ZERO_AVERAGE].met) == (D("6.0"), True)
    # 大渡口区: 居民 6 > 3; “三零” (22 + 6) / 2 = 14.0 > 7, 最长 22 > 20
    assert dadukou[RESIDENT_AVERAGE].verdict == "平均 6.0 个工作日 > 3 ✗ 未达到"
    assert (dadukou[THREE_ZERO_AVERAGE].total, dadukou[THREE_ZERO_AVERAGE].shown_value) == (2, D("14.0"))
    longest = dadukou[THREE_ZERO_LONGEST]
    assert (longest.total, longest.shown_value, longest.met, longest.met_word) == (2, 22, False, "✗ 未达到")
    assert longest.verdict == "最长 22 个工作日 > 20 ✗ 未达到"
    # a county without records, and the 10千伏 targets no record meets
    assert all(t.met is None and t.verdict == "无此类记录" for t in children["500101"].values())
    assert yuzhong[("class=high_voltage;dual_source=no;voltage=10kv", "average")].met_word == "—"
    # the city as a whole: 居民 (3 + 2 + 6) / 3 = 3.7 > 3; “三零” 最长 22 > 20
    city = by_target(levels.targets)
    assert (city[RESIDENT_AVERAGE].total, city[RESIDENT_AVERAGE].shown_value, city[RESIDENT_AVERAGE].met) == (3, D("3.7"), False)
    assert [t.rule.pk for t in levels.children[0][3]] == [t.rule.pk for t in levels.targets]  # the same columns


def test_the_query_count_stays_five_with_the_children_s_targets(people, counties, period, sgcc, django_assert_num_queries):
    city = Region.objects.get(code=CITY)
    with django_assert_num_queries(5):
        small = service_levels(user=people["chongqing"], region=city, period=period, program=sgcc)
    others = Region.objects.filter(parent=city, level="county").exclude(code__in=[YUZHONG, DADUKOU]).order_by("code")
    copy_to(others[:12], Region.objects.get(code=DADUKOU))
    with django_assert_num_queries(5):
        large = service_levels(user=people["chongqing"], region=city, period=period, program=sgcc)
    missed = [child.code for child, _l, _c, targets in large.children if by_target(targets)[THREE_ZERO_LONGEST].met is False]
    assert (small.overall.count, large.overall.count, len(missed)) == (6, 42, 13)


def test_the_trend_per_class_over_two_periods(people, supply, counties, period):
    later = services.period_open(code="2025S1")[0]
    upload(supply, YUZHONG, new_xlsx([simple("C1", *DAYS["R"], **RESIDENT), RECORDS_NEW[-1]]), period_code="2025S1")
    levels = service_levels(user=people["chongqing"], region=Region.objects.get(code=CITY), period=later)
    first, second = levels.trend
    assert (first.period.code, second.period.code) == ("2024S1", "2025S1")

    def figures(point):
        return point.count, point.elapsed.average, point.elapsed.longest, point.zero_percent

    # 2024S1: 居民 3, 2, 6 → 11 / 3; 低压非居民 6, 22, 6 → 34 / 3, B2 not zero-investment; all 45 / 6
    assert [p.customer_class for p in first.class_points] == [RES, LOW]
    assert figures(first.classes[RES]) == (3, D("3.7"), 6, D("100.0"))
    assert figures(first.classes[LOW]) == (3, D("11.3"), 22, D("66.7"))
    assert figures(first) == (6, D("7.5"), 22, D("83.3"))
    # 2025S1: 居民 C1 3; 高压 H1 22 (its stages 17 in all); all (3 + 22) / 2
    assert [p.customer_class for p in second.class_points] == [RES, HIGH]
    assert figures(second.classes[RES]) == (1, D("3.0"), 3, D("100.0"))
    assert figures(second.classes[HIGH]) + (second.classes[HIGH].total.longest,) == (1, D("22.0"), 22, D("100.0"), 17)
    assert figures(second) == (2, D("12.5"), 22, D("100.0"))


# --- the page, the workbook and the API ------------------------------------------------------------

PAGE = "/periods/2024S1/service-levels/{}/"
API = "/api/v1/periods/2024S1/regions/{}/service-levels/"


def text(html):
    return re.sub(r"\s+", " ", markup.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def test_the_page_shows_each_child_s_targets_in_words(client, people, counties, period):
    client.force_login(people["chongqing"])
    html = client.get(PAGE.format(CITY), {"limits": "cqpower-2021"}).content.decode()
    children = html[html.index('id="children"') :]
    row = {code: text(children[children.index(f'id="child-{code}"') :].split("</tr>")[0]) for code in (YUZHONG, DADUKOU)}
    assert "平均 2.5 个工作日 ≤ 3 √ 达到" in row[YUZHONG] and "最长 3 个工作日 ≤ 3 √ 达到" in row[YUZHONG]
    assert "平均 14.0 个工作日 > 7 ✗ 未达到" in row[DADUKOU] and "最长 22 个工作日 > 20 ✗ 未达到" in row[DADUKOU]
    assert "居民：平均全过程办电时间 ≤ 3 个工作日" in text(children.split("</thead>")[0])
    # the trend per class: a line and a table row for each class and for all classes
    trend = text(html[html.index('id="trend"') :])
    assert "2024年上半年 居民 3 3.7 6" in trend and "2024年上半年 低压非居民 3 11.3 22" in trend and "2024年上半年 合计 6 7.5 22" in trend
    assert html.count('<g class="trend-line">') == 3


def test_the_workbook_reads_back_each_child_s_targets_cell_by_cell(client, people, counties, period):
    client.force_login(people["chongqing"])
    response = client.get(PAGE.format(CITY), {"format": "xlsx", "limits": "cqpower-2021"})
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["下级区域"]
    header = [c.value for c in ws[3]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    yuzhong, dadukou = rows[Region.objects.get(code=YUZHONG).name], rows[Region.objects.get(code=DADUKOU).name]

    def cells(row, applies_label, describe):
        column = header.index(f"{applies_label} {describe}：实测（工作日）")
        assert header[column + 1] == f"{applies_label} {describe}：结果"
        return row[column], row[column + 1]

    resident, three_zero = "居民", "低压非居民、实行“三零”服务"
    assert cells(yuzhong, resident, "平均全过程办电时间 ≤ 3 个工作日") == (2.5, "√ 达到")
    assert cells(yuzhong, resident, "最长全过程办电时间 ≤ 3 个工作日") == (3, "√ 达到")
    assert cells(yuzhong, three_zero, "平均全过程办电时间 ≤ 7 个工作日") == (6, "√ 达到")
    assert cells(yuzhong, three_zero, "最长全过程办电时间 ≤ 20 个工作日") == (6, "√ 达到")
    assert cells(dadukou, resident, "平均全过程办电时间 ≤ 3 个工作日") == (6, "✗ 未达到")
    assert cells(dadukou, resident, "最长全过程办电时间 ≤ 3 个工作日") == (6, "✗ 未达到")
    assert cells(dadukou, three_zero, "平均全过程办电时间 ≤ 7 个工作日") == (14, "✗ 未达到")
    assert cells(dadukou, three_zero, "最长全过程办电时间 ≤ 20 个工作日") == (22, "✗ 未达到")
    assert rows["万州区"][7:] == (None, "—") * ((len(header) - 7) // 2)


def test_the_api_answers_each_child_s_targets_and_the_trend_per_class(client_for, counties, period):
    body = client_for("500000", access="read").get(API.format(CITY), {"limits": "cqpower-2021"}).json()
    children = {c["code"]: {(t["applies_to"], t["statistic"]): t for t in c["targets"]} for c in body["children"]}
    met = children[YUZHONG][("居民", "average")]
    assert (met["total"], met["value"], met["limit"], met["met"], met["verdict"]) == (2, "2.5", 3, True, "平均 2.5 个工作日 ≤ 3 √ 达到")
    missed = children[DADUKOU][("低压非居民、实行“三零”服务", "longest")]
    assert (missed["total"], missed["value"], missed["limit"], missed["met"]) == (2, "22.0", 20, False)
    assert missed["verdict"] == "最长 22 个工作日 > 20 ✗ 未达到"
    [point] = body["trend"]
    assert (point["period"], point["count"], point["elapsed"]) == ("2024S1", 6, {"count": 6, "average": "7.5", "longest": 22})
    classes = {c["customer_class"]: c for c in point["classes"]}
    assert list(classes) == ["residential", "low_voltage"]
    assert classes["residential"]["elapsed"] == {"count": 3, "average": "3.7", "longest": 6}
    assert (classes["low_voltage"]["count"], classes["low_voltage"]["elapsed"]["average"], classes["low_voltage"]["zero_percent"]) == (
        3,
        "11.3",
        "66.7",
    )
