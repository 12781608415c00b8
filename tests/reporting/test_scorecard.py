"""The Getting-Electricity scorecard (issue 14 §4): scores against hand numbers, ranks and movement,
the reliability figures' bad input and scope, the workbook read back, the API, the query count."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import Region
from indicators.models import Application, ApplicationBatch
from indicators.services import period_open
from reporting import reliability, scorecard
from reporting.models import Reliability
from reporting.scorecard_inputs import scorecard_rows
from tests.helpers import V1
from utilities.models import Job

pytestmark = pytest.mark.django_db

D = Decimal
JINJIANG, QINGYANG, ZILIUJING, CHENGDU, SICHUAN = "510104", "510105", "510302", "510100", "510000"


@pytest.fixture
def periods(db):
    previous = period_open(code="2021S1")[0]
    return previous, period_open(code="2022S1")[0]


@pytest.fixture
def people(make_user):
    return {
        "province": make_user("province", "province", SICHUAN),
        "city": make_user("city", "city", CHENGDU),
        "county": make_user("county", "county", JINJIANG),
    }


def records(code, period, rows):
    """Applications of county ``code`` with (环节数, working days acceptance→connection, investment)."""
    county = Region.objects.get(code=code)
    batch = ApplicationBatch.objects.create(
        job=Job.objects.create(kind="applications", region=county), period=period, file="x.xlsx", file_name="x.xlsx"
    )
    Application.objects.bulk_create(
        Application(
            region=county,
            period=period,
            batch=batch,
            number=f"N{i}",
            customer_class="residential",
            stage_count=stages,
            days_elapsed=days,
            investment=D(investment),
            documents="身份证",
        )
        for i, (stages, days, investment) in enumerate(rows)
    )


def figures(user, period, *rows):
    reliability.reliability_set(
        user=user,
        year=period.year,
        kind=period.kind,
        figures=[reliability.Figure(f"第 {n} 行", *row) for n, row in enumerate(rows, start=2)],
    )


@pytest.fixture
def three_counties(people, periods):
    """锦江 (stages 2, 4; days 3, 7; one zero investment of two; SAIDI 1.2, SAIFI 0.6), 青羊 (2, 3, 0,
    no reliability figures) and 自流井 (9, 60, 5000; SAIDI 13, SAIFI 0); before: 锦江 best, 青羊 worst."""
    previous, period = periods
    records(JINJIANG, period, [(2, 3, 0), (4, 7, 1000)])
    records(QINGYANG, period, [(2, 3, 0)])
    records(ZILIUJING, period, [(9, 60, 5000)])
    figures(people["province"], period, (JINJIANG, "1.2", "0.6", "可靠性中心"), (ZILIUJING, "13", "0", "可靠性中心"))
    records(JINJIANG, previous, [(2, 3, 0)])
    records(QINGYANG, previous, [(9, 55, 1)])
    return period


# --- scoring -------------------------------------------------------------------------------------


def test_distance_to_frontier_is_clipped_and_works_both_ways():
    time = scorecard.FRONTIERS["time"]  # worst 55, best 3
    assert scorecard.distance_score(5, time) == D("96.2")  # 100 × 50 / 52
    assert scorecard.distance_score(60, time) == D("0.0") and scorecard.distance_score(1, time) == D("100.0")
    assert scorecard.distance_score(D("33.3"), scorecard.FRONTIERS["zero_investment"]) == D("33.3")  # worst 0, best 100
    assert scorecard.distance_score(None, time) is None


def test_scores_of_three_counties_as_computed_by_hand(people, three_counties):
    rows, previous = scorecard_rows(user=people["province"], region=Region.objects.get(code=SICHUAN), period=three_counties)
    assert previous.code == "2021S1"
    by_code = {row.region.code: row for row in rows}
    jinjiang = by_code[JINJIANG].current
    assert (jinjiang.procedures, jinjiang.time, jinjiang.zero_percent, jinjiang.investment) == (D("3.0"), D("5.0"), D("50.0"), D("500.0"))
    # 100×(9−3)/7 = 85.7; 100×(55−5)/52 = 96.2; 50; SAIDI 100×10.8/12 = 90, SAIFI 95 → 92.5
    assert jinjiang.scores == {"procedures": D("85.7"), "time": D("96.2"), "cost": D("50.0"), "reliability": D("92.5")}
    assert jinjiang.overall == D("81.1")  # 324.4 / 4
    qingyang = by_code[QINGYANG].current
    assert qingyang.scores["reliability"] is None and qingyang.overall == D("100.0")  # the three present, each 100
    ziliujing = by_code[ZILIUJING].current
    assert ziliujing.scores == {"procedures": D("0.0"), "time": D("0.0"), "cost": D("0.0"), "reliability": D("50.0")}
    assert ziliujing.overall == D("12.5")
    empty = by_code["510106"]  # 金牛: no records, no figures
    assert empty.current.overall is None and empty.city_rank is None and empty.province_rank is None


def test_ranked_within_city_and_province_with_movement(people, three_counties):
    rows, _previous = scorecard_rows(user=people["province"], region=Region.objects.get(code=SICHUAN), period=three_counties)
    assert [r.region.code for r in rows[:3]] == [QINGYANG, JINJIANG, ZILIUJING]
    by_code = {row.region.code: row for row in rows}
    ranks = {code: (by_code[code].province_rank, by_code[code].city_rank) for code in (QINGYANG, JINJIANG, ZILIUJING)}
    assert ranks == {QINGYANG: (1, 1), JINJIANG: (2, 2), ZILIUJING: (3, 1)}
    jinjiang, qingyang = by_code[JINJIANG], by_code[QINGYANG]
    # before: 锦江 100 (rank 1), 青羊 0 (rank 2)
    assert (jinjiang.province_movement, jinjiang.city_movement, jinjiang.score_change) == (-1, -1, D("-18.9"))
    assert (qingyang.province_movement, qingyang.score_change) == (1, D("100.0"))
    assert by_code[ZILIUJING].province_movement is None  # nothing before
    assert scorecard.ranks({"a": D(5), "b": D(7), "c": D(5), "d": None}) == {"a": 2, "b": 1, "c": 2, "d": None}


# --- the reliability figures ----------------------------------------------------------------------


def test_bad_figures_are_named_by_row_and_field_and_nothing_is_stored(people, periods):
    _previous, period = periods
    with pytest.raises(ValidationError) as caught:
        figures(
            people["city"],
            period,
            (JINJIANG, "1.5", "0.4", "可靠性中心"),  # good, but not stored with the others
            (QINGYANG, "-1", "abc", "可靠性中心"),
            (ZILIUJING, "2", "1", "可靠性中心"),  # 自贡's county: outside 成都's scope
            ("510106", "2", "1", ""),
        )
    assert caught.value.messages == [
        "第 3 行：户均停电时间（SAIDI）不能为负数（填了 -1）。",
        "第 3 行：户均停电次数（SAIFI）“abc”不是数字。",
        "第 4 行：行政区划代码“510302”不是您管辖范围内的县级区域。",
        "第 5 行：数据来源未填写（如“供电可靠性中心 2022 年上半年统计”）。",
    ]
    assert not Reliability.objects.exists()
    with pytest.raises(PermissionDenied):
        figures(people["county"], period, (JINJIANG, "1", "1", "可靠性中心"))


def test_a_csv_upload_stores_all_rows_or_none(client, people, periods):
    _previous, period = periods
    client.force_login(people["city"])
    url = f"/reporting/scorecard/reliability/?period={period.code}&region={CHENGDU}"
    bad = "行政区划代码,SAIDI,SAIFI,数据来源\n510104,1.2,0.5,中心\n510105,-3,0.5,中心\n".encode()
    response = client.post(url, {"file": SimpleUploadedFile("r.csv", bad)})
    assert response.status_code == 400 and "第 3 行：户均停电时间（SAIDI）不能为负数（填了 -3）。" in response.content.decode()
    assert not Reliability.objects.exists()
    good = "行政区划代码,SAIDI,SAIFI,数据来源\n510104,1.2,0.5,中心\n510105,3,0.5,中心\n".encode("gbk")
    assert client.post(url, {"file": SimpleUploadedFile("r.csv", good)}).status_code == 302
    stored = Reliability.objects.get(region__code=QINGYANG, year=2022, kind="half")
    assert (stored.saidi, stored.saifi, stored.source, stored.entered_by) == (D(3), D("0.5"), "中心", people["city"])
    # the form: typing again replaces the county's figures of that span
    assert client.post(url, {f"{QINGYANG}-saidi": "2", f"{QINGYANG}-saifi": "1", f"{QINGYANG}-source": "复核"}).status_code == 302
    assert Reliability.objects.filter(region__code=QINGYANG).count() == 1
    assert Reliability.objects.get(region__code=QINGYANG).saidi == D(2)
    half_typed = client.post(url, {f"{JINJIANG}-saidi": "2"})  # SAIFI and the source left blank
    assert half_typed.status_code == 400 and "锦江区：户均停电次数（SAIFI）未填写。" in half_typed.content.decode()
    assert Reliability.objects.get(region__code=JINJIANG).saidi == D("1.2")


# --- the page, the workbook, the API --------------------------------------------------------------


def test_the_page_ranks_a_city_s_counties_and_a_county_may_not_see_it(client, people, three_counties):
    client.force_login(people["city"])
    page = client.get(f"/reporting/scorecard/?period=2022S1&region={CHENGDU}").content.decode()
    assert "成都市获得电力评分" in page and "青羊区" in page and "自流井区" not in page
    assert "排名（全省）" not in page and "↓1" in page  # 锦江 lost its first place in 成都
    assert client.get(f"/reporting/scorecard/?period=2022S1&region={SICHUAN}").status_code == 403  # the province is not the city's to rank
    client.force_login(people["county"])
    assert client.get(f"/reporting/scorecard/?period=2022S1&region={CHENGDU}").status_code in (403, 404)


def test_the_workbook_reads_back(client, people, three_counties):
    client.force_login(people["province"])
    response = client.get(f"/reporting/scorecard/?period=2022S1&region={SICHUAN}&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["获得电力评分"]
    header = [c.value for c in sheet[2]]
    assert header == list(scorecard.HEADERS)
    rows = {r[4]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    jinjiang = dict(zip(header, rows["锦江区"]))
    assert (jinjiang["排名（全省）"], jinjiang["名次变化"], jinjiang["总分"], jinjiang["上期总分"]) == (2, "↓1", 81.1, 100.0)
    assert (jinjiang["平均办电时间（工作日）"], jinjiang["SAIDI（小时/户）"], jinjiang["报装数"]) == (5.0, 1.2, 2)


def test_the_api_gives_the_scorecard_and_the_schema_lists_it(client, people, three_counties):
    client.force_login(people["province"])
    body = client.get(f"{V1}/periods/2022S1/regions/{SICHUAN}/scorecard/").json()
    assert body["previous_period"] == "2021S1"
    first = body["rows"][0]
    assert (first["region"], first["province_rank"], first["province_movement"], first["current"]["overall"]) == (QINGYANG, 1, 1, "100.0")
    assert first["current"]["scores"]["reliability"] is None
    client.force_login(people["city"])
    assert client.get(f"{V1}/periods/2022S1/regions/{SICHUAN}/scorecard/").status_code == 404
    assert {r["region"] for r in client.get(f"{V1}/periods/2022S1/regions/{CHENGDU}/scorecard/").json()["rows"]} >= {JINJIANG}
    client.force_login(people["county"])
    assert client.get(f"{V1}/periods/2022S1/regions/{CHENGDU}/scorecard/").status_code in (403, 404)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/periods/{code}/regions/{region_code}/scorecard/" in schema["paths"]


def test_a_fixed_number_of_queries_for_2_or_20_counties(people, periods):
    _previous, period = periods
    province = Region.objects.get(code=SICHUAN)
    counties = list(Region.objects.filter(path__startswith=province.path, level="county").order_by("code")[:20])
    for county in counties[:2]:
        records(county.code, period, [(2, 3, 0)])
    with CaptureQueriesContext(connection) as small:
        scorecard_rows(user=people["province"], region=province, period=period)
    for county in counties[2:]:
        records(county.code, period, [(3, 5, 10)])
    figures(people["province"], period, *[(c.code, "1", "1", "中心") for c in counties])
    with CaptureQueriesContext(connection) as large:
        rows, _previous = scorecard_rows(user=people["province"], region=province, period=period)
    assert len(small.captured_queries) == len(large.captured_queries) == 4
    assert sum(1 for r in rows if r.current.applications) == 20
