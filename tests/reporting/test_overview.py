"""The national overview (issue 17 §6): provinces × indicators as shares of counties done, and
submission and sign-off progress per province, counted in a fixed number of queries; each
province a link down to its heat map. The heat map's slipped-promise layer is off until asked for."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region
from indicators.models import Checkmark, Indicator, Submission
from indicators.services import CheckmarkValue, checkmarks_set
from reporting.overview import overview

pytestmark = pytest.mark.django_db

URL = "/reporting/pictures/"
BEIJING, NINGXIA, SICHUAN = "110000", "640000", "510000"


def tick(period, county, numbers):
    indicators = Indicator.objects.filter(indicator_set=period.indicator_set, level="county", number__in=numbers)
    Checkmark.objects.bulk_create(
        Checkmark(region=county, period=period, indicator=i, status="done", done_month=date(2022, 3, 1)) for i in indicators
    )


def state(region, period, value):
    Submission.objects.update_or_create(region=region, period=period, defaults={"state": value})


@pytest.fixture
def data(period):
    every = [i.number for i in Indicator.objects.filter(indicator_set=period.indicator_set, level="county")]
    beijing = list(Region.objects.filter(level="county", path__startswith=f"{BEIJING}/").order_by("code"))
    ningxia = list(Region.objects.filter(level="county", path__startswith=f"{NINGXIA}/").order_by("code"))
    for county in beijing[:4] + ningxia[:1]:
        tick(period, county, every)
    tick(period, beijing[4], [1, 2, 3])
    for county, value in zip(beijing, ["submitted", "submitted", "submitted", "approved", "returned"]):
        state(county, period, value)
    state(Region.objects.get(code="110100"), period, "accepted")
    state(Region.objects.get(code=NINGXIA), period, "confirmed")
    return {"beijing": beijing, "ningxia": ningxia}


def test_overview_counts_each_province(period, data):
    result = overview(provinces=Region.objects.all(), period=period)
    rows = {row["code"]: row for row in result["rows"]}
    assert len(rows) == 31 and len(result["indicators"]) == 31
    beijing, ningxia = rows[BEIJING], rows[NINGXIA]
    assert (beijing["county_count"], beijing["city_count"]) == (16, 1)
    assert (beijing["complete"]["part"], beijing["complete"]["text"]) == (4, "25%")
    first, last = beijing["cells"][0], beijing["cells"][-1]
    assert (first["part"], first["text"], first["band"]) == (5, "31.3%", "some")  # indicator 1: 4 complete + 1
    assert (last["part"], last["text"]) == (4, "25%")
    assert (beijing["submitted"]["part"], beijing["submitted"]["text"]) == (4, "25%")  # 3 submitted + 1 approved
    assert beijing["approved"]["part"] == 1 and beijing["returned"] == 1
    assert (beijing["accepted"]["part"], beijing["accepted"]["text"]) == (1, "100%")
    assert not beijing["confirmed"] and ningxia["confirmed"]
    assert (ningxia["county_count"], ningxia["complete"]["text"]) == (22, "4.5%")
    # A province without counties' data: every share 0 of its counties, never a missing row.
    assert rows[SICHUAN]["complete"]["text"] == "0%" and rows[SICHUAN]["cells"][0]["band"] == "few"
    totals = result["totals"]
    assert totals["county_count"] == sum(r["county_count"] for r in rows.values())
    assert totals["complete"]["part"] == 5 and totals["confirmed"] == 1


def test_overview_takes_fixed_queries_whatever_the_provinces(period, data, django_assert_num_queries):
    for provinces in (Region.objects.filter(code=BEIJING), Region.objects.all()):
        with django_assert_num_queries(6):
            overview(provinces=provinces, period=period)


def test_a_national_user_gets_the_overview_linking_to_each_heat_map(client, make_user, data):
    client.force_login(make_user("n", "national"))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(URL).content.decode()
    assert "各省“获得电力”指标完成情况总览" in page and "各省填报与签收进度（2022年上半年）" in page
    assert '<a href="?period=2022S1&amp;region=110000">北京市</a>' in page
    assert "4/16　25%" in page and "31.3%" in page and "已确认" in page
    assert len(queries) < 25
    heat_map = client.get(f"{URL}?period=2022S1&region={BEIJING}").content.decode()
    assert "北京市各县指标完成情况（2022年上半年）" in heat_map and "← 各省总览" in heat_map


def test_a_regulator_and_a_province_see_only_their_provinces_in_the_overview(client, make_user, data):
    client.force_login(make_user("r", "regulator", SICHUAN))
    assert "四川省各县指标完成情况" in client.get(URL).content.decode()  # one province: its heat map first
    page = client.get(f"{URL}?region=all").content.decode()
    assert 'region=510000">四川省</a>' in page and "北京市" not in page
    client.force_login(make_user("b", "province", BEIJING))
    page = client.get(f"{URL}?region=all").content.decode()
    assert 'region=110000">北京市</a>' in page and "四川省" not in page


def test_the_heat_map_shows_state_first_and_slips_only_as_a_layer(client, make_user, period, region):
    county = make_user("c", "county", "510104")
    for month in (date(2022, 8, 1), date(2022, 10, 1)):  # the promise moved later: slipped
        checkmarks_set(
            user=county, region=region("510104"), period=period, values={1: CheckmarkValue(status="not_done", expected_month=month)}
        )
    client.force_login(make_user("p", "province", SICHUAN))
    plain = client.get(f"{URL}?period=2022S1&region=510100").content.decode()
    assert 'class="overdue" title="预计2022年10月完成">!</td>' in plain  # this month is past 2022
    assert "slipped" not in plain and "显示承诺推迟图层" in plain
    layered = client.get(f"{URL}?period=2022S1&region=510100&slips=1").content.decode()
    assert 'class="overdue slipped" title="预计2022年10月完成；承诺已推迟或逾期">!</td>' in layered
    assert "承诺已推迟或逾期（图层已打开）" in layered and "隐藏承诺推迟图层" in layered


def test_the_trend_prints_its_values(client, make_user, data):
    client.force_login(make_user("b", "province", BEIJING))
    page = client.get(f"{URL}?period=2022S1&region={BEIJING}").content.decode()
    assert '<text class="value share-counties"' in page and ">25%</text>" in page
