"""One percentage and one check-mark text on every page: the pictures and 附件2 agree (issue 12 §3)."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from accounts.models import Region
from indicators.models import Checkmark, Indicator
from reporting import layout

pytestmark = pytest.mark.django_db

BEIJING, BEIJING_CITY = "110000", "110100"  # one city group of 16 counties


def tick_all(period, county, *, without_month=()):
    """Every county indicator of ``county`` done; those in ``without_month`` without their done month."""
    indicators = Indicator.objects.filter(indicator_set=period.indicator_set, level="county")
    Checkmark.objects.bulk_create(
        Checkmark(
            region=county, period=period, indicator=i, status="done", done_month=None if i.number in without_month else date(2022, 3, 1)
        )
        for i in indicators
    )


def attachment2_rows(client, period):
    """The current 附件2 of 北京市 as downloaded to fill offline: {county column text: row values}."""
    response = client.get(f"/reporting/export/attachment2/?region={BEIJING}&period={period.code}")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)))[layout.ATTACHMENT2_SHEET]
    rows = ws.iter_rows(min_row=layout.FIRST_DATA_ROW, values_only=True)
    return {row[layout.COL_COUNTY - 1]: row for row in rows if row[layout.COL_COUNTY - 1]}


def test_one_county_of_sixteen_is_the_same_share_on_the_pictures_page_and_in_attachment2(client, make_user, period):
    counties = list(Region.objects.filter(parent__code=BEIJING_CITY).order_by("code"))
    assert len(counties) == 16
    tick_all(period, counties[0])
    client.force_login(make_user("bj", "province", BEIJING))

    page = client.get(f"/reporting/pictures/?period={period.code}&region={BEIJING}").content.decode()
    rows = attachment2_rows(client, period)
    percent_col = layout.summary_columns(len(period.indicator_set.indicators.all()))[2]
    subtotal = rows["北京市小计"]
    province = rows["共16个县"]
    # 1/16 is exactly 6.25 %: half up, as the 填报说明 rounds, both places print 6.3 %.
    assert subtotal[percent_col - 1] == province[percent_col - 1] == "6.3%"
    assert "北京市 1/16 县 6.3%" in page
    assert '<td class="num">1/16</td><td class="num">6.3%</td>' in page  # the trend table
    assert "6.2%" not in page


def test_a_tick_without_its_month_is_a_tick_in_both(client, make_user, period):
    """The table prints no done month: a county's √ without it is “√”, counted on both pages."""
    counties = list(Region.objects.filter(parent__code=BEIJING_CITY).order_by("code"))
    tick_all(period, counties[0], without_month={1, 2})
    client.force_login(make_user("bj", "province", BEIJING))

    rows = attachment2_rows(client, period)
    county_row = rows[counties[0].name]
    assert county_row[layout.FIRST_INDICATOR_COL - 1] == "√"  # indicator 1, done without its month
    done_col = layout.summary_columns(len(period.indicator_set.indicators.all()))[0]
    assert county_row[done_col - 1] == 31
    page = client.get(f"/reporting/pictures/?period={period.code}&region={BEIJING}").content.decode()
    assert "北京市 1/16 县 6.3%" in page
    api = Checkmark.objects.select_related("indicator").get(region=counties[0], period=period, indicator__number=1)
    assert api.display == "√"
