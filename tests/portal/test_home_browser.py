"""The home pages (待办) in Debian's chromium: a return reaches the county's home and its notices, and
every role's home as its users see it, on a desktop and on a phone (screenshots as test artefacts)."""

import pytest

from tests.helpers import login, logout, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def _jinjiang_submitted(make_user):
    from accounts.models import Region
    from indicators import services
    from tests.helpers import fill

    period = services.period_open(code="2022S1")[0]
    clerk = make_user("jinjiang", "county", "510104", last_name="锦江填报员")
    make_user("chengdu", "city", "510100", last_name="成都审核员")
    fill(clerk, "510104", period)
    services.county_submit(user=clerk, region=Region.objects.get(code="510104"), period=period)
    return period


def test_a_return_reaches_the_county_home_and_its_notices(browser_page, live_server, make_user):
    from accounts.models import Region, User
    from indicators import review

    period = _jinjiang_submitted(make_user)
    page = browser_page
    login(page, live_server, "chengdu")
    page.click(".to-review >> text=锦江区")
    page.wait_for_url("**/periods/2022S1/sheet/510104/")
    logout(page)

    review.county_return(
        user=User.objects.get(username="chengdu"), region=Region.objects.get(code="510104"), period=period, reason="第5项佐证不足"
    )
    page.set_viewport_size(PHONE)
    login(page, live_server, "jinjiang")
    county = page.locator(".home-county")
    assert "已退回" in county.inner_text() and "第5项佐证不足" in county.inner_text()
    assert "锦江区2022年上半年指标被退回" in page.locator(".home-notices").inner_text()
    assert page.locator(".topbar .badge").inner_text() == "1"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click(".home-notices >> text=查看全部通知")
    page.wait_for_url("**/notifications/")
    assert "第5项佐证不足" in page.locator(".notices").inner_text()
    page.click("text=查看并标记已读")
    page.wait_for_url("**/periods/2022S1/sheet/510104/")


def test_every_role_home_on_a_desktop_and_a_phone(browser_page, live_server, make_user):
    _jinjiang_submitted(make_user)
    make_user("sichuan", "province", "510000", last_name="省能源局")
    make_user("nea", "national", last_name="国家能源局")
    make_user("scjg", "regulator", "510000", last_name="四川能源监管办")
    make_user("gdgs", "supply_company", "510104", last_name="锦江供电")
    page = browser_page
    for username, role in (
        ("jinjiang", "county"),
        ("chengdu", "city"),
        ("sichuan", "province"),
        ("nea", "national"),
        ("scjg", "regulator"),
        ("gdgs", "supply_company"),
    ):
        page.set_viewport_size(DESKTOP)
        login(page, live_server, username)
        assert page.locator("h1").inner_text().startswith("您好")
        screenshot(page, f"home-{role}-1280x900")
        page.set_viewport_size(PHONE)
        page.reload()
        screenshot(page, f"home-{role}-390x844")
        page.context.clear_cookies()  # signed out: the phone header folds the 退出 button away
