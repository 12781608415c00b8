"""compile_reports --program for a program other than the national one (issue 13 §1, §6): its own
completion table as a snapshot (kind ``completion``), for the provinces it covers, no national
roll-up; the national program's compile unchanged beside it."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from indicators import services
from indicators.models import Indicator
from reporting.models import ReportSnapshot
from reporting.services import report_compile
from tests.helpers import YUZHONG, region

pytestmark = pytest.mark.django_db

CHONGQING = "500000"


@pytest.fixture
def cq_period(make_user):
    """Chongqing's 2022S1 with 渝中区 ticking all of its 35 county indicators."""
    period = services.period_open(code="2022S1", program="chongqing-2021")[0]
    numbers = Indicator.objects.filter(indicator_set=period.indicator_set, level="county").values_list("number", flat=True)
    values = {n: services.CheckmarkValue("done", done_month=date(2022, 3, 1)) for n in numbers}
    clerk = make_user("yz", "county", YUZHONG)
    services.checkmarks_set(user=clerk, region=region(YUZHONG), period=period, values=values, today=date(2022, 7, 1))
    return period


def test_compile_reports_compiles_the_programs_own_completion_table(media, cq_period, capsys):
    call_command("compile_reports", "--period", "2022S1", "--program", "chongqing-2021")
    snapshots = list(ReportSnapshot.objects.all())
    # Only the province it covers, and no national roll-up: Chongqing's program has no 附件2.
    assert [(s.kind, s.region.code, s.period_id) for s in snapshots] == [("completion", CHONGQING, cq_period.pk)]
    assert "本方案指标完成情况统计表 重庆市 2022年上半年" in capsys.readouterr().out
    snapshot = snapshots[0]
    assert [c["label"] for c in snapshot.data["columns"]][-2:] == ["*41", "*42"]
    ws = load_workbook(io.BytesIO(snapshot.xlsx.read())).active
    labels = [ws.cell(row=6, column=c).value for c in range(5, 5 + 42)]
    assert labels[:3] == ["1", "2", "3"] and labels[20] == "*21" and labels[-1] == "*42"
    yuzhong = next(r for r in range(7, ws.max_row + 1) if ws.cell(row=r, column=4).value == "渝中区")
    assert [ws.cell(row=yuzhong, column=c).value for c in (47, 48, 49)] == [35, 0, "100%"]


def test_the_municipality_compiles_and_reads_it_on_screen(media, cq_period, client, make_user):
    official = make_user("cqp", "province", CHONGQING)
    snapshot = report_compile(user=official, province=region(CHONGQING), period=cq_period)[0]
    assert snapshot.kind == "completion"
    client.force_login(official)
    page = client.get(reverse("reporting:snapshot", args=[snapshot.pk])).content.decode()
    assert "本方案指标完成情况统计表" in page and "渝中区" in page and "*42" in page


def test_no_national_roll_up_for_a_program_without_attachment2(media, cq_period):
    with pytest.raises(ValidationError, match="不编制附件2，没有全国汇总"):
        report_compile(user=None, province=None, period=cq_period)
    assert not ReportSnapshot.objects.exists()


def test_the_national_compile_is_unchanged_beside_it(media, cq_period, period):
    call_command("compile_reports", "--period", "2022S1", "--province", CHONGQING)
    assert sorted(ReportSnapshot.objects.values_list("kind", "period__program__code")) == [
        ("attachment2", "national-2021"),
        ("attachment3", "national-2021"),
    ]


def test_the_reports_page_offers_each_programs_own_tables(media, cq_period, client, make_user):
    official = make_user("cqp", "province", CHONGQING)
    client.force_login(official)
    page = client.get(reverse("reporting:reports"), {"program": "chongqing-2021", "region": CHONGQING}).content.decode()
    assert "编制本方案指标完成情况表" in page and "附件3" not in page and "全国汇总" not in page
    assert client.get(reverse("reporting:reports"), {"program": "chongqing-2021", "region": "510000"}).status_code == 404
    assert client.get(reverse("reporting:reports"), {"program": "no-such"}).status_code == 404
    services.period_open(code="2022S1")  # the national program's, beside it
    national = client.get(reverse("reporting:reports"), {"region": CHONGQING}).content.decode()
    assert "编制附件2、附件3" in national


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_municipality_compiles_its_table_in_the_browser_and_the_excel_reads_back(browser_page, live_server, make_user, media):
    from tests.helpers import login, screenshot

    period = services.period_open(code="2022S1", program="chongqing-2021")[0]
    numbers = Indicator.objects.filter(indicator_set=period.indicator_set, level="county").values_list("number", flat=True)
    values = {n: services.CheckmarkValue("done", done_month=date(2022, 3, 1)) for n in numbers}
    services.checkmarks_set(
        user=make_user("yz", "county", YUZHONG), region=region(YUZHONG), period=period, values=values, today=date(2022, 7, 1)
    )
    make_user("cqp", "province", CHONGQING, last_name="市经济信息委")
    page = browser_page
    login(page, live_server, "cqp")
    page.goto(f"{live_server.url}/reporting/?program=chongqing-2021&region={CHONGQING}&period=2022S1")
    page.click("button:has-text('编制本方案指标完成情况表')")
    page.wait_for_selector("text=已完成")
    page.goto(f"{live_server.url}/reporting/?program=chongqing-2021&region={CHONGQING}&period=2022S1")
    screenshot(page, "reports-chongqing-program")
    with page.expect_download() as download:
        page.click("text=下载 Excel")
    ws = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    labels = [ws.cell(row=6, column=c).value for c in range(5, 5 + 42)]
    assert labels[:3] == ["1", "2", "3"] and labels[20] == "*21" and labels[-1] == "*42"
    yuzhong = next(r for r in range(7, ws.max_row + 1) if ws.cell(row=r, column=4).value == "渝中区")
    assert [ws.cell(row=yuzhong, column=c).value for c in (47, 48, 49)] == [35, 0, "100%"]
    other = next(r for r in range(7, ws.max_row + 1) if ws.cell(row=r, column=4).value == "万州区")
    assert ws.cell(row=other, column=47).value == 0
