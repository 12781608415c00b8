"""The sheet page (issue 17 §3): one summary of every blocker the submit refuses for, each a link
to its indicator; the state beside every save message; done indicators folded; a city reviewer
approves or returns from the sheet; the period switcher; an unknown period is the Chinese 404."""

import re
from datetime import date

import pytest

from indicators import services
from indicators.models import Submission
from tests.helpers import CHENGDU, JINJIANG, fill, region

pytestmark = pytest.mark.django_db

SHEET = f"/periods/2022S1/sheet/{JINJIANG}/"


@pytest.fixture
def clerk(make_user):
    return make_user("k", "county", JINJIANG, last_name="锦江填报员")


@pytest.fixture
def reviewer(make_user):
    return make_user("c", "city", CHENGDU, last_name="成都审核员")


def blocker_links(html):
    summary = html[html.index('id="missing-list"') : html.index("</section>", html.index('id="missing-list"'))]
    return re.findall(r'href="#indicator-(\d+)"', summary)


def test_the_summary_names_every_blocker_the_submit_refuses_for(client, clerk, period):
    """The issue's case: 3, 7, 12 blank and 2's expected month passed; the summary links all four,
    and after fixing the blank ones the submit is refused only for what the summary still names."""
    fill(clerk, JINJIANG, period, blank=(3, 7, 12), overdue=(2,))
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    assert blocker_links(html) == ["3", "7", "12", "2"]
    assert "尚未填写完整的指标（3 项）" in html and "预计完成月份已过、须更新的指标（1 项）" in html and "2（2022年3月）" in html
    for n in (2, 3, 7, 12):
        assert f'id="indicator-{n}"' in html

    fill(clerk, JINJIANG, period, overdue=(2,))
    html = client.get(SHEET).content.decode()
    assert blocker_links(html) == ["2"]
    response = client.post(SHEET, {"version": Submission.objects.get(region__code=JINJIANG).version, "action": "submit"}, follow=True)
    page = response.content.decode()
    assert "未能上报，本表状态：未上报。" in page and "以下指标的预计完成月份已过，请更新：2（2022年3月）" in page
    assert blocker_links(page) == ["2"]


def test_each_blocker_links_on_to_the_next(client, clerk, period):
    fill(clerk, JINJIANG, period, blank=(3, 7))
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    assert 'href="#indicator-7">下一项未完成：7' in html
    assert 'class="next-blocker" href="#indicator-3">未完成项（2）' in html


def test_a_save_message_says_the_sheet_is_not_submitted(client, clerk, period):
    client.force_login(clerk)
    response = client.post(SHEET, {"version": "0", "action": "save", "status_1": "done", "done_month_1": "2022-03"}, follow=True)
    assert "已保存（1 项指标、0 个佐证文件）。本表状态：未上报。" in response.content.decode()


def test_done_indicators_are_folded_and_the_rest_open(client, clerk, period):
    fill(clerk, JINJIANG, period, blank=(3,))
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    assert html.count('<details class="done-indicator">') == 30
    folded = html.index('<details class="done-indicator"><summary><span class="label">1</span>')
    assert folded < html.index('id="indicator-1"')
    assert '<summary><span class="label">3</span>' not in html  # still to fill: open
    assert "js/sheet.js" in html  # the unsaved-changes guard, loaded by the sheet only


def test_without_blockers_there_is_no_summary(client, clerk, period):
    fill(clerk, JINJIANG, period)
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    assert 'id="missing-list"' not in html and "已完成 31 / 31" in html


def test_the_city_approves_from_the_sheet(client, clerk, reviewer, period):
    fill(clerk, JINJIANG, period)
    services.county_submit(user=clerk, region=region(JINJIANG), period=period, today=date(2022, 7, 1))
    client.force_login(reviewer)
    html = client.get(SHEET).content.decode()
    assert "如需修改请联系地市退回" not in html
    assert 'value="approve"' in html and 'value="return"' in html and "审核锦江区的数据" in html
    assert "js/sheet.js" not in html  # nothing to fill: no guard
    response = client.post(f"/periods/2022S1/act/{JINJIANG}/", {"action": "approve", "next": SHEET}, follow=True)
    assert response.redirect_chain[-1][0] == SHEET
    assert "已审核通过" in response.content.decode()
    assert Submission.objects.get(region__code=JINJIANG, period=period).state == "approved"


def test_the_city_returns_from_the_sheet_with_a_reason(client, clerk, reviewer, period):
    fill(clerk, JINJIANG, period)
    services.county_submit(user=clerk, region=region(JINJIANG), period=period, today=date(2022, 7, 1))
    client.force_login(reviewer)
    response = client.post(f"/periods/2022S1/act/{JINJIANG}/", {"action": "return", "reason": "", "next": SHEET}, follow=True)
    assert "退回时必须填写原因" in response.content.decode()
    client.post(f"/periods/2022S1/act/{JINJIANG}/", {"action": "return", "reason": "指标 8 请核实", "next": SHEET})
    submission = Submission.objects.get(region__code=JINJIANG, period=period)
    assert (submission.state, submission.reason) == ("returned", "指标 8 请核实")
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    assert "已退回，尚未重新上报" in html and "退回原因：指标 8 请核实" in html


def test_the_county_still_reads_the_returned_hint(client, clerk, period):
    fill(clerk, JINJIANG, period)
    services.county_submit(user=clerk, region=region(JINJIANG), period=period, today=date(2022, 7, 1))
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    assert "如需修改请联系地市退回" in html and 'value="approve"' not in html


def test_the_period_switcher_lists_the_program_periods_and_moves(client, clerk, period):
    services.period_open(code="2022")
    client.force_login(clerk)
    html = client.get(SHEET).content.decode()
    switcher = html[html.index('class="filters period-switcher"') :]
    assert switcher.index('value="2022"') < switcher.index('value="2022S1"')
    assert '<option value="2022S1" selected>' in switcher
    response = client.get("/periods/switch/", {"page": "sheet", "period": "2022", "region": JINJIANG})
    assert response.status_code == 302 and response.url == f"/periods/2022/sheet/{JINJIANG}/"
    response = client.get("/periods/switch/", {"page": "review", "period": "2022S1", "region": CHENGDU, "program": "x y"})
    assert response.url == f"/periods/2022S1/review/{CHENGDU}/?program=x+y"


@pytest.mark.parametrize(
    "query",
    [
        {"page": "admin", "period": "2022", "region": JINJIANG},
        {"page": "sheet", "period": "../../x", "region": JINJIANG},
        {"page": "sheet", "period": "2022", "region": "51/01"},
        {},
    ],
)
def test_a_bad_switch_is_a_404_never_a_500(client, clerk, period, query):
    client.force_login(clerk)
    assert client.get("/periods/switch/", query).status_code == 404


def test_an_unknown_period_is_the_chinese_404(client, clerk, period):
    client.force_login(clerk)
    response = client.get(f"/periods/2031S1/sheet/{JINJIANG}/")
    assert response.status_code == 404
    assert "找不到页面" in response.content.decode() and "返回首页" in response.content.decode()
