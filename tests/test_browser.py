"""Pages people use, driven in Debian's chromium."""
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_county_clerk_logs_in_and_sees_their_region_and_ledgers(browser_page, live_server, make_user):
    make_user("jinjiang", "county", "510104", last_name="锦江区填报员")
    page = browser_page
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "jinjiang")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert "请输入一个正确的" in page.locator(".error").inner_text()
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    assert "锦江区填报员" in page.locator("h1").inner_text()
    assert page.locator(".region").inner_text() == "四川省 成都市 锦江区"
    page.click("text=四川省2022年全面提升“获得电力”服务水平工作任务台账")
    assert page.locator("table.ledger tbody tr").count() == 66
    page.click("text=退出")
    page.wait_for_url("**/login/")


def test_login_page_fits_a_phone(browser_page, live_server):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"{live_server.url}/login/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    assert page.locator("button[type=submit]").is_visible()
