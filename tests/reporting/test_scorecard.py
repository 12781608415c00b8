"""The Getting-Electricity scorecard (issue 14 §4): scores against hand numbers (counties, cities
pooled from their counties, the province), ranks and movement, the time measured as the service
levels measure it, the reliability figures' bad input and scope, the workbook read back, the API,
the query count."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import Region
from indicators.applications.levels import service_levels
from indicators.models import Application, ApplicationBatch
from indicators.services import period_open
from reporting import reliability, scorecard
from reporting.models import Reliability
from reporting.scorecard_inputs import scorecard_get
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
    card = scorecard_get(user=people["province"], region=Region.objects.get(code=SICHUAN), period=three_counties)
    assert card.previous.code == "2021S1"
    by_code = {row.region.code: row for row in card.counties}
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
    rows = scorecard_get(user=people["province"], region=Region.objects.get(code=SICHUAN), period=three_counties).counties
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
        "第 4 行：行政区划代码“510302”不是您管辖范围内的县、地市或省级区域。",
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
    assert "<h2>全市</h2>" in page and '<th scope="row">成都市</th>' in page and "86.7" in page
    assert client.get(f"/reporting/scorecard/?period=2022S1&region={SICHUAN}").status_code == 403  # the province is not the city's to rank
    client.force_login(people["province"])
    page = client.get(f"/reporting/scorecard/?period=2022S1&region={SICHUAN}").content.decode()
    assert "<h2>全省与各地市</h2>" in page and '<th scope="row">四川省</th>' in page and "64.2" in page
    client.force_login(people["county"])
    assert client.get(f"/reporting/scorecard/?period=2022S1&region={CHENGDU}").status_code in (403, 404)


def test_the_workbook_reads_back(client, people, three_counties):
    client.force_login(people["province"])
    response = client.get(f"/reporting/scorecard/?period=2022S1&region={SICHUAN}&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["获得电力评分"]
    header = [c.value for c in sheet[2]]
    assert header == list(scorecard.HEADERS)
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    jinjiang = dict(zip(header, rows["锦江区"]))
    assert jinjiang["所属地市"] == "成都市"
    assert (jinjiang["排名（全省）"], jinjiang["名次变化"], jinjiang["总分"], jinjiang["上期总分"]) == (2, "↓1", 81.1, 100.0)
    assert (jinjiang["平均办电时间（工作日）"], jinjiang["SAIDI（小时/户）"], jinjiang["报装数"]) == (5.0, 1.2, 2)
    areas = load_workbook(io.BytesIO(response.content))["地市与全省"]
    assert [c.value for c in areas[2]] == list(scorecard.HEADERS)
    lines = [dict(zip(header, r)) for r in areas.iter_rows(min_row=3, values_only=True)]
    assert [(line["区域"], line["所属地市"], line["总分"]) for line in lines[:3]] == [
        ("四川省", None, 64.2),
        ("成都市", None, 86.7),
        ("自贡市", None, 12.5),
    ]
    assert (lines[1]["排名（全省）"], lines[1]["名次变化"], lines[1]["分数变化"]) == (1, "持平", 36.7)


def test_the_api_gives_the_scorecard_and_the_schema_lists_it(client, people, three_counties):
    client.force_login(people["province"])
    body = client.get(f"{V1}/periods/2022S1/regions/{SICHUAN}/scorecard/").json()
    assert body["previous_period"] == "2021S1"
    first = body["rows"][0]
    assert (first["region"], first["province_rank"], first["province_movement"], first["current"]["overall"]) == (QINGYANG, 1, 1, "100.0")
    assert first["current"]["scores"]["reliability"] is None
    chengdu, province = body["cities"][0], body["province"]
    assert (chengdu["region"], chengdu["level"], chengdu["province_rank"], chengdu["current"]["overall"]) == (CHENGDU, "city", 1, "86.7")
    assert (province["region"], province["level"], province["province_rank"], province["current"]["time"]) == (
        SICHUAN,
        "province",
        None,
        "18.3",
    )
    client.force_login(people["city"])
    assert client.get(f"{V1}/periods/2022S1/regions/{SICHUAN}/scorecard/").status_code == 404
    city = client.get(f"{V1}/periods/2022S1/regions/{CHENGDU}/scorecard/").json()
    assert {r["region"] for r in city["rows"]} >= {JINJIANG}
    assert ([c["region"] for c in city["cities"]], city["cities"][0]["province_rank"], city["province"]) == ([CHENGDU], None, None)
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
        scorecard_get(user=people["province"], region=province, period=period)
    for county in counties[2:]:
        records(county.code, period, [(3, 5, 10)])
    figures(people["province"], period, *[(c.code, "1", "1", "中心") for c in counties])
    with CaptureQueriesContext(connection) as large:
        card = scorecard_get(user=people["province"], region=province, period=period)
    assert len(small.captured_queries) == len(large.captured_queries) == 4
    assert sum(1 for r in card.counties if r.current.applications) == 20
    assert card.province.current.applications == 20


def test_a_city_and_the_whole_province_take_the_same_queries(people, three_counties, django_assert_max_num_queries):
    """成都 (3 counties with records among its 22) and 四川 (its 21 cities, 183 counties)."""
    for code in (CHENGDU, SICHUAN):
        region = Region.objects.get(code=code)
        with django_assert_max_num_queries(4):
            card = scorecard_get(user=people["province"], region=region, period=three_counties)
        assert card.cities and card.counties


# --- cities and the province, pooled from their counties -----------------------------------------


def test_a_city_is_scored_on_its_counties_records_pooled(people, three_counties):
    """成都 = 锦江 + 青羊: 3 records, stages 2+4+2 = 8, days 3+7+3 = 13, 2 of 3 zero investment,
    1000 元; reliability the counties' mean, then 成都's own figures once entered."""
    sichuan = Region.objects.get(code=SICHUAN)
    card = scorecard_get(user=people["province"], region=sichuan, period=three_counties)
    chengdu, zigong = card.cities[0], card.cities[1]
    assert (chengdu.region.code, zigong.region.code) == (CHENGDU, "510300")
    now = chengdu.current
    # 8/3 = 2.7; 13/3 = 4.3; 200/3 = 66.7 %; 1000/3 = 333.3 元
    assert (now.applications, now.procedures, now.time, now.zero_percent, now.investment) == (3, D("2.7"), D("4.3"), D("66.7"), D("333.3"))
    # 100×(9−2.7)/7 = 90.0; 100×(55−4.3)/52 = 97.5; 66.7; only 锦江 has figures (1.2, 0.6): 90, 95 → 92.5
    assert (now.saidi, now.saifi) == (D("1.200"), D("0.600"))
    assert now.scores == {"procedures": D("90.0"), "time": D("97.5"), "cost": D("66.7"), "reliability": D("92.5")}
    assert now.overall == D("86.7")  # 346.7 / 4 = 86.675
    # before: 锦江 (2, 3, 0) + 青羊 (9, 55, 1): 5.5 → 50, 29 → 50, 50 % → 50
    assert (chengdu.previous.overall, chengdu.score_change) == (D("50.0"), D("36.7"))
    assert (chengdu.province_rank, chengdu.previous_province_rank, chengdu.province_movement, chengdu.city_rank) == (1, 1, 0, None)
    assert (zigong.current.overall, zigong.province_rank, zigong.province_movement) == (D("12.5"), 2, None)  # 自流井 alone
    assert all(c.province_rank is None for c in card.cities[2:])  # no records, no figures
    # 四川: 4 records, stages 17 → 4.3 (4.25 half up), days 73 → 18.3, 2 of 4 zero, 6000 元 → 1500;
    # SAIDI (1.2 + 13)/2 = 7.1, SAIFI (0.6 + 0)/2 = 0.3
    province = card.province.current
    assert (province.procedures, province.time, province.zero_percent, province.investment) == (D("4.3"), D("18.3"), D("50.0"), D("1500.0"))
    assert (province.saidi, province.saifi) == (D("7.100"), D("0.300"))
    # 100×4.7/7 = 67.1; 100×36.7/52 = 70.6; 50; SAIDI 100×4.9/12 = 40.8, SAIFI 97.5 → 69.2 (69.15)
    assert province.scores == {"procedures": D("67.1"), "time": D("70.6"), "cost": D("50.0"), "reliability": D("69.2")}
    assert (province.overall, card.province.score_change, card.province.province_rank) == (D("64.2"), D("14.2"), None)

    figures(people["province"], three_counties, (QINGYANG, "3", "1.5", "可靠性中心"))
    chengdu = scorecard_get(user=people["province"], region=sichuan, period=three_counties).cities[0].current
    # the plain mean: SAIDI (1.2 + 3)/2 = 2.1 → 82.5, SAIFI (0.6 + 1.5)/2 = 1.05 → 91.3 (91.25) → 86.9
    assert (chengdu.saidi, chengdu.saifi, chengdu.scores["reliability"]) == (D("2.100"), D("1.050"), D("86.9"))
    assert chengdu.overall == D("85.3")  # 341.1 / 4 = 85.275
    figures(people["city"], three_counties, (CHENGDU, "6", "6", "可靠性中心 成都市统计"))
    card = scorecard_get(user=people["city"], region=Region.objects.get(code=CHENGDU), period=three_counties)
    (chengdu,) = card.cities  # a city's page: the city itself, unranked
    assert (chengdu.current.saidi, chengdu.current.scores["reliability"]) == (D(6), D("50.0"))  # its own figures, not the mean
    assert chengdu.current.overall == D("76.1")  # 304.2 / 4 = 76.05
    assert (chengdu.province_rank, chengdu.city_movement, card.province) == (None, None, None)


def test_the_time_is_the_service_levels_whole_process(people, three_counties):
    """The same field (全过程, days_elapsed; 各环节合计 days_total, 0 here, is not it), rounding and records."""
    card = scorecard_get(user=people["province"], region=Region.objects.get(code=CHENGDU), period=three_counties)
    rows = {row.region.code: row for row in [*card.cities, *card.counties]}
    for code, time in ((CHENGDU, D("4.3")), (JINJIANG, D("5.0"))):
        levels = service_levels(user=people["province"], region=Region.objects.get(code=code), period=three_counties)
        assert rows[code].current.time == levels.overall.elapsed.average == time
