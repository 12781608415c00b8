"""Pages people use, driven in Debian's chromium."""

import pytest

from tests.helpers import login, logout

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


def _sichuan_waiting_for_jinjiang(make_user):
    """This year's period in 四川 with every county approved and every city accepted but 锦江区 and
    成都市, and the province indicators filled; users 锦江区 (county) and 四川 (province)."""
    from django.utils import timezone

    from accounts.models import Region
    from indicators import services
    from indicators.models import Submission
    from indicators.services import CheckmarkValue

    period = services.period_open(code=str(timezone.localdate().year))[0]
    make_user("jinjiang", "county", "510104", last_name="锦江填报员")
    province_user = make_user("sichuan", "province", "510000", last_name="省能源局处长")
    sichuan = Region.objects.get(code="510000")
    others = Region.objects.filter(level="county", path__startswith="510000/").exclude(code="510104")
    Submission.objects.bulk_create([Submission(region=c, period=period, state="approved") for c in others])
    Submission.objects.bulk_create(
        [Submission(region=c, period=period, state="accepted") for c in Region.objects.filter(parent=sichuan).exclude(code="510100")]
    )
    services.checkmarks_set(
        user=province_user, region=sichuan, period=period, values={n: CheckmarkValue("done") for n in (21, 27, 29, 30, 33)}
    )
    return period


def test_tick_submit_return_fix_approve_confirm_then_locked(browser_page, live_server, make_user):
    """The half-year in one go: county ticks and submits, city returns, county fixes, city approves,
    province confirms; afterwards a change is refused with who locked it, and the audit shows it all."""
    from django.utils import timezone

    from indicators.models import AuditEntry

    today = timezone.localdate()
    # The test walks 锦江区 and 成都市 through the flow.
    period = _sichuan_waiting_for_jinjiang(make_user)
    make_user("chengdu", "city", "510100", last_name="成都审核员")
    month = f"{today:%Y-%m}"
    sheet = f"{live_server.url}/periods/{period.code}/sheet/510104/"
    page = browser_page

    # The county ticks everything but indicator 8, saves, and is told what is missing.
    login(page, live_server, "jinjiang")
    page.click(f"text=填报锦江区{period.label}指标")
    assert page.url == sheet
    for fieldset in page.locator("fieldset.indicator").all():
        n = fieldset.get_attribute("id").split("-")[1]
        if n == "8":
            continue
        fieldset.locator("input[value=done]").check()
        fieldset.locator(f"input[name=done_month_{n}]").fill(month)
    page.click("button[value=save]")
    assert "已保存（30 项指标" in page.locator(".message.success").inner_text()
    assert "尚未填写完整的指标（1 项）：8" in page.locator("#missing-list").inner_text()
    page.click("button[value=submit]")
    assert "以下指标尚未填写完整：8" in page.locator(".message.error").inner_text()
    # Indicator 8 is not done yet: the expected month, then submit.
    page.locator("#indicator-8 input[value=not_done]").check()
    page.fill("input[name=expected_month_8]", f"{today.year + 1}-03")
    page.click("button[value=submit]")
    assert "已上报，等待地市审核" in page.locator(".message.success").last.inner_text()
    assert page.locator("#indicator-1 input[value=done]").is_disabled()
    logout(page)

    # The city returns it with a reason.
    login(page, live_server, "chengdu")
    page.click(f"text=审核成都市各县{period.label}数据")
    row = page.locator("#county-510104")
    assert "已上报" in row.inner_text() and "30/31" in row.inner_text()
    row.locator("input[name=reason]").fill("指标 8 的预计完成时间过晚，请核实")
    row.locator("button[value=return]").click()
    assert "已退回" in page.locator("#county-510104").inner_text()
    logout(page)

    # The county sees the reason, fixes indicator 8 and resubmits.
    login(page, live_server, "jinjiang")
    page.goto(sheet)
    assert "退回原因：指标 8 的预计完成时间过晚，请核实" in page.locator(".meta").inner_text()
    page.locator("#indicator-8 input[value=done]").check()
    page.fill("input[name=done_month_8]", month)
    page.click("button[value=submit]")
    assert "已上报" in page.locator(".meta").inner_text()
    logout(page)

    # The city approves.
    login(page, live_server, "chengdu")
    page.goto(f"{live_server.url}/periods/{period.code}/review/510100/")
    page.locator("#county-510104 button[value=approve]").click()
    assert "市级已审核" in page.locator("#county-510104").inner_text()
    logout(page)

    # The province accepts 成都 and confirms the period.
    login(page, live_server, "sichuan")
    page.click(f"text=四川省{period.label}填报与确认")
    page.locator("#city-510100 button[value=accept]").click()
    assert "已接收该地市的数据" in page.locator(".message.success").inner_text()
    page.click("button[value=confirm]")
    assert "已确认，本期数据已锁定" in page.locator(".message.success").inner_text()
    logout(page)

    # A change after that is refused, saying who locked it and when.
    login(page, live_server, "chengdu")
    page.goto(f"{live_server.url}/periods/{period.code}/review/510100/")
    page.locator("#county-510104 input[name=reason]").fill("还想再改")
    page.locator("#county-510104 button[value=return]").click()
    assert "已由省能源局处长于" in page.locator(".message.error").inner_text()
    assert "确认锁定" in page.locator(".message.error").inner_text()
    logout(page)
    login(page, live_server, "jinjiang")
    page.goto(sheet)
    assert "确认锁定" in page.locator(".banner.locked").inner_text()
    assert page.locator("#indicator-1 input[value=done]").is_disabled()

    # The audit shows every step.
    page.click("text=操作记录")
    history = page.locator("table.history").inner_text()
    for step in ("上报", "退回", "审核通过"):
        assert step in history
    assert "指标 8 的预计完成时间过晚，请核实" in history
    actions = list(
        AuditEntry.objects.filter(region__code__in=["510104", "510100", "510000"])
        .exclude(action="set")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["submit", "return", "submit", "approve", "accept", "confirm"]


def test_province_accepts_a_city_naming_an_exception_then_confirms_and_the_county_still_fills(browser_page, live_server, make_user):
    """Issue 8 §4 in the browser: 锦江区 is late; the province names it an exception with a reason
    (refused without one), accepts 成都市 and confirms; 锦江区 can still save, and the province
    page then counts the change made after its confirmation."""
    from django.utils import timezone

    from accounts.models import Region
    from indicators.models import SignoffException, Submission

    today = timezone.localdate()
    period = _sichuan_waiting_for_jinjiang(make_user)
    sichuan = Region.objects.get(code="510000")
    page = browser_page
    login(page, live_server, "sichuan")
    page.goto(f"{live_server.url}/periods/{period.code}/province/510000/")
    row = page.locator("#city-510100")
    row.locator("summary").click()
    row.locator("tr[data-county='510104'] input[type=checkbox]").check()
    row.locator("button:has-text('接收（所列例外县除外）')").click()  # no reason yet
    row = page.locator("#city-510100")
    assert "原因" in row.locator("tr[data-county='510104'] .field-error").inner_text()
    assert not SignoffException.objects.exists()
    row.locator("input[name=reason_510104]").fill("县供电公司系统升级，数据延后上报")
    row.locator("button:has-text('接收（所列例外县除外）')").click()
    row = page.locator("#city-510100")
    assert "省级已接收" in row.inner_text() and "锦江区" in row.inner_text() and "系统升级" in row.inner_text()
    page.click("#confirm button[value=confirm]")
    page.wait_for_selector("text=重新开放")
    assert Submission.objects.get(region=sichuan, period=period).state == "confirmed"
    logout(page)

    # The exception county is told so on its sheet and may still save.
    login(page, live_server, "jinjiang")
    page.goto(f"{live_server.url}/periods/{period.code}/sheet/510104/")
    assert "列为例外" in page.locator(".banner.exception").inner_text()
    page.locator("#indicator-1 input[value=done]").check()
    page.fill("input[name=done_month_1]", f"{today:%Y-%m}")
    page.click("button[value=save]")
    page.wait_for_selector("h1")
    assert page.locator(".error").count() == 0
    logout(page)

    login(page, live_server, "sichuan")
    page.goto(f"{live_server.url}/periods/{period.code}/province/510000/")
    assert "自您确认后已有 1 项数据变更" in page.locator("body").inner_text()
