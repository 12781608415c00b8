"""The sheet, review from the sheet and sign-off in bulk (issue 17 §3, §4), driven in Debian's
chromium: a county clerk on a phone follows the blocker links, is warned before leaving with
unsaved changes and submits; a city approves from the sheet; a province confirms naming a whole
city's counties as exceptions with one reason."""

from datetime import date

import pytest

from tests.helpers import CHENGDU, JINJIANG, SICHUAN, fill, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _this_year(make_user):
    from django.utils import timezone

    from indicators import services

    period = services.period_open(code=str(timezone.localdate().year))[0]
    clerk = make_user("jinjiang", "county", JINJIANG, last_name="锦江填报员")
    return period, clerk


def _in_view(page, selector):
    top = page.evaluate(f"document.querySelector('{selector}').getBoundingClientRect().top")
    return -2 <= top < page.viewport_size["height"]  # an anchor may land a fraction of a pixel above the top


def test_a_county_clerk_finishes_the_sheet_on_a_phone(browser_page, live_server, make_user):
    from django.utils import timezone

    from indicators.models import Submission

    period, clerk = _this_year(make_user)
    fill(clerk, JINJIANG, period, blank=(3, 7), overdue=(2,))
    month = f"{timezone.localdate():%Y-%m}"
    sheet = f"{live_server.url}/periods/{period.code}/sheet/{JINJIANG}/"
    page = browser_page
    page.set_viewport_size(PHONE)
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    login(page, live_server, "jinjiang")
    # From the home page: its 待办 names each blocker with a link into the sheet.
    home = page.locator("main")
    screenshot(page, "home-county-phone-blockers")
    assert "上报前还需处理 3 项" in home.inner_text()
    home.locator("a[href$='#indicator-3']").first.click()
    page.wait_for_url("**#indicator-3")
    page.wait_for_load_state("load")  # the browser scrolls to the anchor once the page has loaded
    assert page.url.startswith(sheet) and _in_view(page, "#indicator-3")
    summary = page.locator("#missing-list")
    assert "尚未填写完整的指标（2 项）：3、7" in summary.inner_text()
    assert "2（" in summary.inner_text()
    assert page.locator("details.done-indicator").count() == 28  # what is done is folded away
    screenshot(page, "sheet-phone-blockers")

    # Each blocker is a link to its indicator; each blocker links on to the next one.
    summary.locator("a[href='#indicator-3']").click()
    page.wait_for_url("**#indicator-3")
    assert _in_view(page, "#indicator-3")
    page.locator("#indicator-3 input[value=done]").check()
    page.fill("input[name=done_month_3]", month)

    # Leaving with that unsaved is warned about; dismissing the warning stays on the sheet.
    page.locator("#indicator-3 .next-blocker a").click()
    page.wait_for_url("**#indicator-7")
    assert dialogs == []  # a jump inside the page is not leaving it
    page.click("header .brand")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"] and page.url.startswith(sheet)

    page.locator("#indicator-7 input[value=done]").check()
    page.fill("input[name=done_month_7]", month)
    page.locator("#indicator-2 input[value=done]").check()
    page.fill("input[name=done_month_2]", month)
    page.click("button[value=submit]")
    assert "已上报，等待地市审核" in page.locator(".message.success").last.inner_text()
    assert "已上报，待地市审核" in page.locator(".meta").inner_text()
    assert page.locator("#missing-list").count() == 0
    assert dialogs == ["beforeunload"]  # saving is leaving on purpose: no warning
    assert Submission.objects.get(region__code=JINJIANG, period=period).state == "submitted"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    screenshot(page, "sheet-phone-submitted")


def test_a_city_approves_from_the_sheet(browser_page, live_server, make_user):
    from accounts.models import Region
    from indicators import services
    from indicators.models import Submission

    period, clerk = _this_year(make_user)
    make_user("chengdu", "city", CHENGDU, last_name="成都审核员")
    fill(clerk, JINJIANG, period)
    services.county_submit(user=clerk, region=Region.objects.get(code=JINJIANG), period=period, today=date(2022, 7, 12))
    page = browser_page
    login(page, live_server, "chengdu")
    page.goto(f"{live_server.url}/periods/{period.code}/sheet/{JINJIANG}/")
    assert "如需修改请联系地市退回" not in page.locator("main").inner_text()
    box = page.locator(".review-actions")
    assert "审核锦江区的数据" in box.inner_text()
    screenshot(page, "sheet-city-review")
    box.locator("button[value=approve]").click()
    assert "已审核通过" in page.locator(".message.success").inner_text()
    assert "市级已审核" in page.locator(".meta").inner_text()
    assert page.url.endswith(f"/sheet/{JINJIANG}/")
    assert Submission.objects.get(region__code=JINJIANG, period=period).state == "approved"


def test_a_province_confirms_naming_a_whole_city_as_exceptions(browser_page, live_server, make_user):
    from django.utils import timezone

    from accounts.models import Region
    from indicators import review, services
    from indicators.models import SignoffException, Submission
    from indicators.services import CheckmarkValue

    period = services.period_open(code=str(timezone.localdate().year))[0]
    province = make_user("sichuan", "province", SICHUAN, last_name="省能源局处长")
    others = Region.objects.filter(level="county", path__startswith=f"{SICHUAN}/").exclude(parent__code=CHENGDU)
    Submission.objects.bulk_create([Submission(region=c, period=period, state="approved") for c in others])
    for city in Region.objects.filter(parent__code=SICHUAN).exclude(code=CHENGDU):
        review.city_accept(user=province, region=city, period=period)
    services.checkmarks_set(
        user=province,
        region=Region.objects.get(code=SICHUAN),
        period=period,
        values={n: CheckmarkValue("done") for n in (21, 27, 29, 30, 33)},
    )
    chengdu_counties = Region.objects.filter(parent__code=CHENGDU).count()
    page = browser_page
    login(page, live_server, "sichuan")
    page.goto(f"{live_server.url}/periods/{period.code}/province/{SICHUAN}/")

    # Refused: the reason is on top, in view, with the count for 成都市 and a link to its row.
    page.click("#confirm button[value=confirm]")
    refusal = page.locator("#refusal")
    assert refusal.get_attribute("role") == "alert"
    assert f"成都市：{chengdu_counties} 个县" in refusal.inner_text()
    assert _in_view(page, "#refusal")
    screenshot(page, "province-confirm-refused")
    refusal.locator(f"a[href='#rest-{CHENGDU}']").click()
    page.wait_for_url(f"**#rest-{CHENGDU}")

    # The whole city with one reason: each county is stored and listed one by one.
    row = page.locator(f"#rest-{CHENGDU}")
    row.locator("input[name=rest_city]").check()
    row.locator(f"input[name=rest_reason_{CHENGDU}]").fill("成都市审核人员调整，县级数据延后审核")
    page.click("#confirm button[value=confirm]")
    assert "已确认，本期数据已锁定" in page.locator(".message.success").inner_text()
    assert Submission.objects.get(region__code=SICHUAN, period=period).state == "confirmed"
    assert SignoffException.objects.filter(reason="成都市审核人员调整，县级数据延后审核").count() == chengdu_counties
    listed = page.locator("ul.exceptions").last.inner_text()
    assert "成都市锦江区（例外）：成都市审核人员调整" in listed and "成都市青羊区（例外）" in listed
    screenshot(page, "province-confirmed-with-exceptions")
