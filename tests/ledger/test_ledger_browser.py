"""A ledger item from the province down to a county and back, driven in Debian's chromium."""

import pytest

from tests.helpers import PDF, login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_adapt_assign_break_down_report_with_evidence_and_send_back(browser_page, live_server, make_user, settings, tmp_path):
    from ledger.models import Assignment, ProgressEvidence

    settings.MEDIA_ROOT = tmp_path
    make_user("sichuan", "province", "510000", last_name="省能源局处长")
    make_user("chengdu", "city", "510100", last_name="成都审核员")
    make_user("jinjiang", "county", "510104", last_name="锦江填报员")
    page = browser_page

    # The province makes its 2022 ledger from the national one and gives item 3 to 成都市.
    login(page, live_server, "sichuan")
    page.goto(f"{live_server.url}/ledgers/national-2021/")
    page.click("a.button:has-text('据此制定本地台账')")
    page.fill("#id_year", "2022")
    page.fill("#id_years", "1")
    page.click("button:has-text('重新计算')")  # the preview of the new deadlines, then confirm
    page.click("button:has-text('确认制定台账')")
    assert "共 57 项" in page.locator(".message.success").inner_text()
    page.locator("#item-3 td.num a").click()
    page.select_option("#id_assign-region", label="成都市")
    page.fill("#id_assign-responsible_unit", "成都市发改委")
    page.check("#id_assign-lead")
    page.fill("#id_assign-contact", "王五")
    page.click("button:has-text('分解')")
    assert "已分解至成都市" in page.locator(".message.success").inner_text()
    assert "成都市发改委（牵头）" in page.locator("table.assignments-table").inner_text()
    logout(page)

    # The city finds it on its to-do list and breaks it down to 锦江区.
    login(page, live_server, "chengdu")
    page.locator("table.todo a").first.click()
    page.select_option("#id_break_down-region", label="成都市 · 锦江区")
    page.fill("#id_break_down-responsible_unit", "锦江区发改局")
    page.click("button[value=break_down]")
    assert "已分解至锦江区" in page.locator(".message.success").inner_text()
    city_page = page.url
    logout(page)

    # The county reports it done, with a PDF as evidence.
    login(page, live_server, "jinjiang")
    page.locator("table.todo a").first.click()
    assert "锦江区发改局" in page.locator("dl.facts").inner_text()
    page.select_option("#id_report-status", label="已完成")
    page.fill("#id_report-note", "低压非居民用户办电时间已压减至 6 个工作日")
    page.set_input_files("#id_report-evidence", files=[{"name": "验收报告.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("button[value=report]")
    assert "进展已报送" in page.locator(".message.success").inner_text()
    assert "已完成" in page.locator("#status").inner_text()
    assert page.locator("a:has-text('验收报告.pdf')").count() == 1
    county_page = page.url
    logout(page)

    # The city sends it back with a reason.
    login(page, live_server, "chengdu")
    page.goto(city_page)
    page.locator("#breakdown a:has-text('锦江区')").click()
    assert page.url == county_page
    page.fill("#id_review-note", "验收报告缺少供电公司盖章，请补充")
    page.click("button[value=send_back]")
    assert "已退回" in page.locator(".message.success").inner_text()
    logout(page)

    # The county sees the reason, on its home page and on the assignment.
    login(page, live_server, "jinjiang")
    assert "验收报告缺少供电公司盖章，请补充" in page.locator("table.todo").inner_text()
    page.goto(county_page)
    assert page.locator("#returned-reason").inner_text() == "验收报告缺少供电公司盖章，请补充"
    assert "推进中" in page.locator("#status").inner_text()
    assert "退回" in page.locator("ol.history-list").inner_text()
    county_part = Assignment.objects.get(region__code="510104")
    assert (county_part.status, county_part.parent.region.code) == ("in_progress", "510100")
    assert ProgressEvidence.objects.get().name == "验收报告.pdf"

    # The same page on a phone: no sideways scrolling.
    page.set_viewport_size({"width": 375, "height": 700})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(f"{live_server.url}/ledgers/{county_part.item.ledger.code}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
