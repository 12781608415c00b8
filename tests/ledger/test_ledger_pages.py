"""The ledger pages: board, adaptation, items, breakdown, progress, review, 督办 and the to-do lists,
each through region scoping; refused input comes back at its field with what was typed."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, Region
from ledger import services
from ledger.models import Assignment, Ledger, LedgerItem, Pressing, ProgressEvidence
from tests.helpers import PDF, pdf

pytestmark = pytest.mark.django_db

BOARD = "/ledgers/510000-2022/"
ITEM3 = "/ledgers/510000-2022/items/3/"


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def assignment_url(assignment):
    return f"/ledgers/assignments/{assignment.pk}/"


# --- the board --------------------------------------------------------------------------------


def test_the_board_lists_items_with_their_assignments_late_first(as_user, people, chain):
    page = as_user(people["province"]).get(BOARD).content.decode()
    assert page.count('<tr id="item-') == 57
    assert page.index('id="item-3"') < page.index('id="item-1"')  # 3 is past its milestone
    assert "成都市发改委（牵头）" in page and "成都市 锦江区" in page and "（已逾期）" in page
    assert "新增事项" in page and "据此制定下一年度台账" in page


def test_the_board_costs_the_same_queries_whatever_the_assignments(as_user, people, item3, ledger):
    client = as_user(people["province"])
    client.get(BOARD)  # warm the session and the user

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(BOARD).status_code == 200
        return len(queries)

    before = count()
    province = people["province"]
    for number, code in ((3, "510100"), (3, "510700"), (5, "510104"), (9, "510703")):
        services.assignment_create(
            user=province, item=ledger.items.get(number=number), region=Region.objects.get(code=code), responsible_unit="发改委"
        )
    assert count() == before


def test_the_board_filters_by_category_unit_status_and_deadline(as_user, people, chain, ledger):
    _city_part, county_part = chain
    services.progress_report(user=people["county"], assignment=county_part, status="done", note="完成")
    client = as_user(people["province"])

    def items(**query):
        page = client.get(BOARD, query).content.decode()
        return page.count('<tr id="item-')

    assert items(category="压缩办电时间") == 9
    assert items(status="done") == 1 and items(status="overdue") == 1 and items(status="in_progress") == 0
    assert items(unit="锦江区发改局") == 1
    assert items(unit="各供电企业") == ledger.items.filter(responsible_units__icontains="各供电企业").count()
    assert items(before="2020-12-31") == ledger.items.filter(due_date__lte=date(2020, 12, 31)).count()
    response = client.get(BOARD, {"before": "明天"})
    assert response.status_code == 200 and "输入一个有效的日期" in response.content.decode()


def test_a_county_sees_only_its_own_assignments_on_the_board(as_user, people, chain):
    page = as_user(people["county"]).get(BOARD).content.decode()
    assert "锦江区发改局" in page and "成都市发改委" not in page
    assert "新增事项" not in page and "据此制定" not in page


def test_another_province_cannot_see_the_ledger(as_user, people, ledger):
    assert as_user(people["chongqing"]).get(BOARD).status_code == 404


# --- adaptation and items ------------------------------------------------------------------------


def test_a_province_adapts_the_national_ledger_from_its_page(as_user, people):
    client = as_user(people["province"])
    page = client.get("/ledgers/national-2021/").content.decode()
    assert "这是文件原文，只读" in page and "据此制定本地台账" in page and "新增事项" not in page
    response = client.post(
        "/ledgers/national-2021/adapt/", {"year": "2022", "name": "", "years": "1", "shown": "2022/1", "action": "confirm"}
    )
    assert response.status_code == 302 and response.url == BOARD
    ledger = Ledger.objects.get(code="510000-2022")
    assert ledger.items.count() == 57 and ledger.source.code == "national-2021"
    assert "共 57 项" in client.get(BOARD).content.decode()
    assert client.post("/ledgers/national-2021/adapt/", {"year": "1800"}).status_code == 400


def test_a_county_neither_adapts_nor_edits(as_user, people, ledger):
    client = as_user(people["county"])
    assert client.get("/ledgers/national-2021/adapt/").status_code == 403
    assert client.get(f"{ITEM3}edit/").status_code == 403
    assert client.post(f"{ITEM3}delete/").status_code == 403
    assert client.post(ITEM3, {"assign-region": "510104"}).status_code == 403


def test_the_reference_ledger_cannot_be_edited_from_the_pages(as_user, people):
    client = as_user(people["province"])
    response = client.get("/ledgers/national-2021/items/3/edit/")
    assert response.status_code == 403 and "文件原文" in response.content.decode()
    assert "修改事项" not in client.get("/ledgers/national-2021/items/3/").content.decode()


def test_the_item_page_shows_the_indicators_that_measure_it(as_user, people, ledger):
    page = as_user(people["county"]).get(ITEM3).content.decode()
    assert "衡量本事项的指标" in page
    assert "未实行“三零”服务的低压非居民用户" in page  # indicator 3's content
    assert page.count('<li id="indicator-') == 3


def test_an_unreadable_due_text_is_told_at_the_field_and_what_was_typed_stays(as_user, people, ledger, item3):
    client = as_user(people["province"])
    form = {"number": "3", "category": "工作目标", "task": "改写后的任务", "responsible_units": "省电力公司", "due_text": "尽快完成"}
    response = client.post(f"{ITEM3}edit/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "尽快完成" in page and "改写后的任务" in page and 'class="error field-error"' in page
    item3.refresh_from_db()
    assert item3.task.startswith("未实行")


def test_an_item_is_edited_with_its_indicators_and_renumbered(as_user, people, ledger, item3):
    client = as_user(people["province"])
    indicator = item3.indicators.get(number=4)
    response = client.post(
        f"{ITEM3}edit/",
        {
            "number": "60",
            "category": "工作目标",
            "task": "压减办电时间",
            "due_text": "2022年5月15日前",
            "indicators": [indicator.pk],
        },
    )
    assert response.status_code == 302 and response.url == "/ledgers/510000-2022/items/60/"
    item3.refresh_from_db()
    assert (item3.number, item3.due_date, list(item3.indicators.all())) == (60, date(2022, 5, 15), [indicator])
    response = client.post("/ledgers/510000-2022/items/60/edit/", {"number": "4", "task": "x", "due_text": "2022年底前"})
    assert response.status_code == 400 and "序号 4 已有事项" in response.content.decode()


def test_an_item_is_added_and_deleted(as_user, people, ledger):
    client = as_user(people["province"])
    response = client.post(
        "/ledgers/510000-2022/items/new/", {"number": "58", "category": "强化组织实施", "task": "建立月调度机制", "due_text": "持续推进"}
    )
    assert response.status_code == 302
    assert LedgerItem.objects.get(ledger=ledger, number=58).ongoing
    assert client.post("/ledgers/510000-2022/items/new/", {"number": "58", "task": "重复", "due_text": "持续推进"}).status_code == 400
    assert client.post("/ledgers/510000-2022/items/58/delete/").url == BOARD
    assert not LedgerItem.objects.filter(ledger=ledger, number=58).exists()


def test_an_item_with_progress_is_not_deleted_and_the_reason_is_shown(as_user, people, chain):
    _city_part, county_part = chain
    services.progress_report(user=people["county"], assignment=county_part, status="in_progress", note="推进中")
    response = as_user(people["province"]).post(f"{ITEM3}delete/", follow=True)
    assert "事项 3 已有进展，不能删除" in response.content.decode()


def test_extra_columns_are_edited_as_fields(as_user, people):
    sichuan = Region.objects.get(code="510000")
    own = services.ledger_adapt(user=people["province"], region=sichuan, year=2023, source=Ledger.objects.get(code="sichuan-2022"))
    client = as_user(people["province"])
    url = f"/ledgers/{own.code}/items/1/edit/"
    page = client.get(url).content.decode()
    assert "年度重点举措" in page and 'name="extra_0"' in page
    item = own.items.get(number=1)
    client.post(url, {"number": "1", "task": item.task, "due_text": item.due_text, "extra_0": "全面推行线上办电"})
    item.refresh_from_db()
    assert item.extra == {"年度重点举措": "全面推行线上办电"}


# --- breakdown ----------------------------------------------------------------------------------


def test_the_province_assigns_an_item_to_a_city(as_user, people, ledger, item3):
    client = as_user(people["province"])
    page = client.get(ITEM3).content.decode()
    # The item's due date (2020-12-31) is past: the milestone defaults to the end of this half-year.
    today = timezone.localdate()
    assert f'value="{today.year}-{"06-30" if today.month <= 6 else "12-31"}"' in page
    chengdu = Region.objects.get(code="510100")
    response = client.post(
        ITEM3,
        {
            "assign-region": chengdu.pk,
            "assign-responsible_unit": "成都市发改委",
            "assign-lead": "on",
            "assign-contact": "李四",
            "assign-phone": "028-1",
            "assign-milestone": "2022-10-31",
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(item=item3)
    assert (assignment.region, assignment.lead, assignment.milestone) == (chengdu, True, date(2022, 10, 31))


def test_a_region_outside_the_province_is_not_offered_nor_accepted(as_user, people, ledger):
    client = as_user(people["province"])
    page = client.get(ITEM3).content.decode()
    assert "成都市 · 锦江区" in page and "万州区" not in page
    response = client.post(ITEM3, {"assign-region": Region.objects.get(code="500101").pk, "assign-responsible_unit": "x"})
    assert response.status_code == 400 and "选择一个有效的选项" in response.content.decode()
    assert not Assignment.objects.exists()


def test_a_city_breaks_its_assignment_down_to_its_counties(as_user, people, item3):
    city_part = services.assignment_create(
        user=people["province"], item=item3, region=Region.objects.get(code="510100"), responsible_unit="成都市发改委"
    )
    client = as_user(people["city"])
    page = client.get(assignment_url(city_part)).content.decode()
    assert "分解到县（区）" in page and "成都市 · 青羊区" in page and "涪城区" not in page
    response = client.post(
        assignment_url(city_part),
        {
            "action": "break_down",
            "break_down-region": Region.objects.get(code="510105").pk,
            "break_down-responsible_unit": "青羊区发改局",
            "break_down-milestone": "2022-08-31",
        },
    )
    assert response.status_code == 302
    child = Assignment.objects.get(parent=city_part)
    assert (child.region.code, child.milestone) == ("510105", date(2022, 8, 31))
    assert "青羊区发改局" in client.get(assignment_url(city_part)).content.decode()


# --- progress, review, 督办 ------------------------------------------------------------------------


def test_the_county_reports_progress_with_evidence(as_user, people, chain, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _city_part, county_part = chain
    client = as_user(people["county"])
    page = client.get(assignment_url(county_part)).content.decode()
    assert "锦江区发改局" in page and "张三" in page and "2022-09-30" in page and "报送进展" in page
    response = client.post(
        assignment_url(county_part),
        {
            "action": "report",
            "report-version": "0",
            "report-status": "done",
            "report-note": "已完成低压办电压减",
            "report-progress_on": str(timezone.localdate()),
            "report-evidence": [pdf("验收单.pdf"), pdf("照片说明.pdf")],
        },
    )
    assert response.status_code == 302
    page = client.get(assignment_url(county_part)).content.decode()
    assert "进展已报送" in page and "已完成低压办电压减" in page and "验收单.pdf" in page and "照片说明.pdf" in page
    evidence = ProgressEvidence.objects.get(name="验收单.pdf")
    download = client.get(f"/ledgers/evidence/{evidence.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert as_user(people["neighbour"]).get(f"/ledgers/evidence/{evidence.pk}/").status_code == 404


def test_a_refused_report_keeps_what_was_typed_at_the_fields(as_user, people, chain):
    _city_part, county_part = chain
    client = as_user(people["county"])
    future = timezone.localdate() + timedelta(days=3)
    response = client.post(
        assignment_url(county_part),
        {
            "action": "report",
            "report-version": "0",
            "report-status": "in_progress",
            "report-note": "正在对接住建局",
            "report-progress_on": str(future),
            "report-evidence": [pdf("a.exe")],
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "进展日期不能晚于今天" in page and "类型不允许" in page and "正在对接住建局" in page
    assert "如已选择佐证文件，请重新选择" in page
    county_part.refresh_from_db()
    assert county_part.version == 0 and county_part.progress == ""


def test_a_stale_report_is_refused_and_comes_back_with_the_current_version(as_user, people, chain):
    _city_part, county_part = chain
    services.progress_report(user=people["county"], assignment=county_part, status="in_progress", note="他人先报")
    client = as_user(people["county"])
    response = client.post(
        assignment_url(county_part),
        {
            "action": "report",
            "report-version": "0",
            "report-status": "done",
            "report-note": "我填写的进展",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "刚被他人更新" in page and "我填写的进展" in page and "他人先报" in page
    assert 'name="report-version" value="1"' in page
    county_part.refresh_from_db()
    assert county_part.progress == "他人先报"


def test_the_city_sends_back_and_the_county_sees_the_reason(as_user, people, chain):
    _city_part, county_part = chain
    services.progress_report(user=people["county"], assignment=county_part, status="done", note="完成")
    client = as_user(people["city"])
    page = client.get(assignment_url(county_part)).content.decode()
    assert 'value="send_back"' in page and 'value="report"' not in page
    response = client.post(assignment_url(county_part), {"action": "send_back", "review-note": ""})
    assert response.status_code == 400 and "该字段是必填项" in response.content.decode()
    client.post(assignment_url(county_part), {"action": "send_back", "review-note": "缺少验收材料"})
    page = as_user(people["county"]).get(assignment_url(county_part)).content.decode()
    assert "退回意见" in page and "缺少验收材料" in page
    home = as_user(people["county"]).get("/").content.decode()
    assert "本区域台账待办" in home and "退回意见：缺少验收材料" in home


def test_a_county_cannot_review_and_another_province_cannot_see(as_user, people, chain):
    _city_part, county_part = chain
    client = as_user(people["county"])
    assert client.post(assignment_url(county_part), {"action": "press", "press-note": "催"}).status_code == 403
    assert as_user(people["chongqing"]).get(assignment_url(county_part)).status_code == 404
    assert as_user(people["neighbour"]).get(assignment_url(county_part)).status_code == 404


def test_officials_press_from_the_list_and_the_region_is_told(as_user, people, chain):
    city_part, county_part = chain  # both past their milestones
    client = as_user(people["province"])
    home = client.get("/").content.decode()
    assert "逾期和即将到期的任务" in home and f'id="press-{city_part.pk}"' in home and f'id="press-{county_part.pk}"' in home
    page = client.get("/ledgers/pressing/").content.decode()
    assert page.index(f'id="press-{city_part.pk}"') < page.index(f'id="press-{county_part.pk}"')  # earlier milestone first
    response = client.post(assignment_url(city_part), {"action": "press", "press-note": "请本周内报送进展", "next": "/ledgers/pressing/"})
    assert response.status_code == 302 and response.url == "/ledgers/pressing/"
    assert Pressing.objects.get().assignment == city_part
    assert "1 次" in client.get("/ledgers/pressing/").content.decode()
    assert Notification.objects.filter(user=people["city"], title__startswith="督办").count() == 1
    assert "请本周内报送进展" in as_user(people["city"]).get(assignment_url(city_part)).content.decode()


def test_the_city_to_do_list_puts_overdue_first(as_user, people, chain, item3):
    city_part, _county_part = chain
    later = services.assignment_create(
        user=people["province"],
        item=item3,
        region=Region.objects.get(code="510100"),
        responsible_unit="国网成都供电公司",
        milestone=timezone.localdate() + timedelta(days=60),
    )
    home = as_user(people["city"]).get("/").content.decode()
    assert home.index(f'id="todo-{city_part.pk}"') < home.index(f'id="todo-{later.pk}"')
    assert f'id="press-{_county_part.pk}"' in home  # the city presses its county


def test_the_item_timeline_shows_every_update_newest_first(as_user, people, chain):
    _city_part, county_part = chain
    services.progress_report(user=people["county"], assignment=county_part, status="in_progress", note="第一步")
    services.progress_report(user=people["county"], assignment=county_part, status="done", note="第二步")
    page = as_user(people["province"]).get(ITEM3).content.decode()
    assert page.index("第二步") < page.index("第一步") < page.index("分解至锦江区") < page.index("分解至成都市")
    county_view = as_user(people["county"]).get(ITEM3).content.decode()
    assert "第二步" in county_view and "分解至成都市" not in county_view  # the city's part is not the county's


def test_an_indicator_knows_the_items_of_its_regions_ledgers_that_it_measures(people, ledger, django_assert_num_queries):
    """For the county sheet: each indicator links back to the province ledger's items (one query)."""
    from indicators.models import Indicator
    from ledger.selectors import attach_measured_by

    indicators = list(Indicator.objects.filter(indicator_set__code="national-2021", number__in=[3, 6, 34, 37]).order_by("number"))
    jinjiang = Region.objects.get(code="510104")
    with django_assert_num_queries(1):
        attach_measured_by(user=people["county"], region=jinjiang, indicators=indicators)
    assert [[(i.ledger.code, i.number) for i in indicator.measured_by] for indicator in indicators] == [
        [("510000-2022", 3)],
        [("510000-2022", 4)],
        [("510000-2022", 6)],
        [("510000-2022", 28)],
    ]


def test_the_county_sheet_links_each_indicator_to_the_ledger_items_it_measures(client, people, ledger, period):
    """The sheet is the indicators app's page; the ledger (above it) supplies the items through a signal."""
    client.force_login(people["county"])
    page = client.get(f"/periods/{period.code}/sheet/510104/").content.decode()
    assert '<p class="measured-by">台账事项：<a href="/ledgers/510000-2022/items/3/">2022年第 3 项</a></p>' in page
