"""Ledger writes: adaptation, items, breakdown, progress, review, 督办 and the overdue job, each
refusing what is out of scope or badly typed with nothing stored."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Notification, Region
from ledger import services
from ledger.models import (
    Assignment,
    AssignmentStatus,
    Ledger,
    LedgerItem,
    Pressing,
    ProgressEvidence,
    ProgressKind,
    ProgressUpdate,
)
from ledger.tasks import mark_overdue
from tests.helpers import pdf
from utilities.errors import StaleVersion

pytestmark = pytest.mark.django_db


# --- adaptation ---------------------------------------------------------------------------------


def test_a_province_adapts_the_national_ledger_item_by_item(ledger):
    national = Ledger.objects.get(code="national-2021")
    assert (ledger.code, ledger.region.code, ledger.year, ledger.source, ledger.is_reference) == (
        "510000-2022",
        "510000",
        2022,
        national,
        False,
    )
    assert ledger.items.count() == 57
    item = ledger.items.get(number=3)
    assert item.source_item == national.items.get(number=3)
    assert (item.due_text, item.due_date) == ("2020 年底前", date(2020, 12, 31))
    assert sorted(item.indicators.values_list("number", flat=True)) == [3, 4, 5]


def test_next_year_is_adapted_from_last_years_own_ledger_with_its_extra_columns(people):
    province, sichuan = people["province"], Region.objects.get(code="510000")
    this_year = services.ledger_adapt(user=province, region=sichuan, year=2023, source=Ledger.objects.get(code="sichuan-2022"))
    assert this_year.extra_columns == ["年度重点举措"] and this_year.items.count() == 66
    next_year = services.ledger_adapt(user=province, region=sichuan, year=2024, source=this_year)
    assert next_year.source == this_year and next_year.items.get(number=1).source_item.ledger == this_year
    assert next_year.items.get(number=1).extra == this_year.items.get(number=1).extra


def test_only_the_regions_own_officials_adapt(people):
    national = Ledger.objects.get(code="national-2021")
    for who, code in (("county", "510104"), ("city", "510000"), ("chongqing", "510000")):
        with pytest.raises(PermissionDenied):
            services.ledger_adapt(user=people[who], region=Region.objects.get(code=code), year=2022, source=national)
    with pytest.raises(PermissionDenied):  # 重庆's ledger is not 四川's to see
        services.ledger_adapt(
            user=people["province"], region=Region.objects.get(code="510000"), year=2022, source=Ledger.objects.get(code="chongqing-2021")
        )
    assert not Ledger.objects.filter(is_reference=False).exists()


# --- items --------------------------------------------------------------------------------------


def test_a_due_text_that_cannot_be_read_is_told_at_the_field_and_nothing_changes(people, ledger, item3):
    with pytest.raises(ValidationError) as caught:
        services.ledger_item_save(user=people["province"], ledger=ledger, item=item3, number=3, task="改过的任务", due_text="尽快")
    assert "due_text" in caught.value.message_dict and "尽快" in caught.value.message_dict["due_text"][0]
    item3.refresh_from_db()
    assert (item3.task[:6], item3.due_text) == ("未实行“三零", "2020 年底前")


def test_items_are_edited_renumbered_added_and_linked(people, ledger, item3):
    province = people["province"]
    saved = services.ledger_item_save(
        user=province,
        ledger=ledger,
        item=item3,
        number=58,
        category="工作目标",
        task=item3.task,
        due_text="2022年5月中旬前",
        indicators=[],
    )
    assert (saved.pk, saved.number, saved.due_date, saved.indicators.count()) == (item3.pk, 58, date(2022, 5, 20), 0)
    added = services.ledger_item_save(user=province, ledger=ledger, number=3, task="新增：配网改造", due_text="持续推进")
    assert added.pk != item3.pk and added.ongoing and added.due_date is None
    with pytest.raises(ValidationError):  # 58 is taken by the renumbered item
        services.ledger_item_save(user=province, ledger=ledger, item=added, number=58, task="x", due_text="2022年底前")


def test_an_item_with_reported_progress_cannot_be_deleted(people, ledger, chain):
    item3, (_city_part, county_part) = ledger.items.get(number=3), chain
    ongoing = ledger.items.get(number=57)
    services.assignment_create(
        user=people["province"], item=ongoing, region=Region.objects.get(code="510100"), responsible_unit="成都市发改委"
    )
    services.ledger_item_delete(user=people["province"], item=ongoing)  # 持续推进 from the start is not progress
    services.progress_report(user=people["county"], assignment=county_part, status="in_progress", note="已启动")
    with pytest.raises(ValidationError, match="已有进展，不能删除"):
        services.ledger_item_delete(user=people["province"], item=item3)
    assert LedgerItem.objects.filter(pk=item3.pk).exists() and not LedgerItem.objects.filter(pk=ongoing.pk).exists()


def test_a_county_cannot_edit_the_ledger_and_a_reference_ledger_is_read_only(people, ledger, item3):
    with pytest.raises(PermissionDenied):
        services.ledger_item_save(user=people["county"], ledger=ledger, item=item3, number=3, task="x", due_text="2022年底前")
    with pytest.raises(PermissionDenied):
        services.ledger_item_delete(user=people["city"], item=item3)
    national = Ledger.objects.get(code="national-2021")
    with pytest.raises(PermissionDenied, match="文件原文"):
        services.ledger_item_save(user=people["province"], ledger=national, number=3, task="x", due_text="2022年底前")
    with pytest.raises(PermissionDenied, match="文件原文"):
        services.assignment_create(
            user=people["province"], item=national.items.get(number=3), region=Region.objects.get(code="510100"), responsible_unit="x"
        )


# --- breakdown ----------------------------------------------------------------------------------


def test_an_assignment_takes_the_items_due_date_and_is_recorded(chain, item3):
    city_part, county_part = chain
    assert (city_part.milestone, city_part.status, city_part.lead) == (date(2020, 12, 31), AssignmentStatus.NOT_STARTED, True)
    assert (county_part.parent, county_part.milestone, county_part.contact) == (city_part, date(2022, 9, 30), "张三")
    assert city_part.updates.get().kind == ProgressKind.ASSIGN and "分解至成都市" in city_part.updates.get().note


def test_an_assignment_outside_the_province_is_refused(people, item3):
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.assignment_create(user=people["province"], item=item3, region=Region.objects.get(code="500101"), responsible_unit="x")
    assert not Assignment.objects.exists()


def test_only_the_city_breaks_its_part_down_and_only_to_its_counties(people, chain):
    city_part, _county_part = chain
    with pytest.raises(PermissionDenied):
        services.assignment_create(
            user=people["other_city"], item=city_part.item, parent=city_part, region=Region.objects.get(code="510703"), responsible_unit="x"
        )
    with pytest.raises(PermissionDenied):
        services.assignment_create(
            user=people["county"], item=city_part.item, parent=city_part, region=Region.objects.get(code="510105"), responsible_unit="x"
        )
    with pytest.raises(PermissionDenied):  # 涪城区 is 绵阳's
        services.assignment_create(
            user=people["city"], item=city_part.item, parent=city_part, region=Region.objects.get(code="510703"), responsible_unit="x"
        )
    assert Assignment.objects.count() == 2


# --- progress, review, 督办 ------------------------------------------------------------------------


def test_progress_with_evidence_is_kept_in_the_history(people, chain, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _city_part, county_part = chain
    update = services.progress_report(
        user=people["county"], assignment=county_part, status="done", note="已全部完成", uploads=[pdf()], expected_version=0
    )
    county_part.refresh_from_db()
    assert (county_part.status, county_part.progress, county_part.version) == ("done", "已全部完成", 1)
    assert update.evidence.get().name == "佐证.pdf" and update.status_before == "not_started"


def test_a_stale_form_is_refused_and_nothing_changes(people, chain):
    _city_part, county_part = chain
    services.progress_report(user=people["county"], assignment=county_part, status="in_progress", note="第一次", expected_version=0)
    with pytest.raises(StaleVersion, match="刚被他人更新"):
        services.progress_report(user=people["county"], assignment=county_part, status="done", note="第二次", expected_version=0)
    county_part.refresh_from_db()
    assert (county_part.status, county_part.progress, county_part.updates.filter(kind="report").count()) == ("in_progress", "第一次", 1)


def test_bad_evidence_is_told_and_nothing_is_stored(people, chain, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _city_part, county_part = chain
    with pytest.raises(ValidationError) as caught:
        services.progress_report(
            user=people["county"],
            assignment=county_part,
            status="done",
            note="完成",
            uploads=[SimpleUploadedFile("a.pdf", b"MZ not a pdf")],
        )
    assert "内容与扩展名不符" in caught.value.message_dict["evidence"][0]
    assert not ProgressEvidence.objects.exists() and county_part.updates.filter(kind="report").count() == 0


def test_only_the_responsible_region_reports(people, chain):
    city_part, county_part = chain
    for who in ("neighbour", "city", "chongqing"):
        with pytest.raises(PermissionDenied):
            services.progress_report(user=people[who], assignment=county_part, status="done", note="x")
    services.progress_report(user=people["city"], assignment=city_part, status="in_progress", note="城市推进中")


def test_the_city_sends_back_a_done_report_with_the_reason(people, chain):
    _city_part, county_part = chain
    with pytest.raises(ValidationError, match="只有报送为“已完成”的任务可以退回"):
        services.progress_review(user=people["city"], assignment=county_part, note="请补充", send_back=True)
    services.progress_report(user=people["county"], assignment=county_part, status="done", note="完成")
    with pytest.raises(PermissionDenied):
        services.progress_review(user=people["county"], assignment=county_part, note="自己退回", send_back=True)
    services.progress_review(user=people["city"], assignment=county_part, note="佐证不全，请补充验收材料", send_back=True)
    county_part.refresh_from_db()
    assert (county_part.status, county_part.returned_reason) == ("in_progress", "佐证不全，请补充验收材料")
    services.progress_review(user=people["province"], assignment=county_part, note="抓紧推进")
    kinds = list(county_part.updates.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["assign", "report", "return", "comment"]


def test_pressing_is_recorded_and_tells_the_region(people, chain):
    _city_part, county_part = chain
    with pytest.raises(ValidationError):
        services.press(user=people["city"], assignment=county_part, note="  ")
    with pytest.raises(PermissionDenied):
        services.press(user=people["neighbour"], assignment=county_part, note="催")
    services.press(user=people["city"], assignment=county_part, note="请于本周内完成")
    pressing = Pressing.objects.get()
    assert (pressing.by, pressing.channel) == (people["city"], "web")
    notice = Notification.objects.get(user=people["county"], title__startswith="督办")  # besides the notice of the assignment
    assert notice.level == "red" and "督办" in notice.title and notice.link == f"/ledgers/assignments/{county_part.pk}/"
    assert "请于本周内完成" in notice.body
    assert not Notification.objects.filter(user=people["neighbour"]).exists()


# --- the overdue job ------------------------------------------------------------------------------


def test_overdue_and_due_soon_are_marked_and_told_once(people, chain, item3):
    city_part, county_part = chain  # milestones 2020-12-31 and 2022-09-30
    soon = services.assignment_create(
        user=people["province"],
        item=item3,
        region=Region.objects.get(code="510700"),
        responsible_unit="绵阳市发改委",
        milestone=date(2022, 7, 5),
    )
    today = date(2022, 7, 1)
    assert services.assignments_mark_overdue(today=today) == (1, 2)  # 成都 late (1 user), 绵阳 soon (1 user)
    city_part.refresh_from_db()
    county_part.refresh_from_db()
    assert (city_part.status, county_part.status) == ("overdue", "not_started")
    assert city_part.updates.filter(kind=ProgressKind.OVERDUE, channel="system").count() == 1
    told = Notification.objects.filter(key__startswith="ledger:")  # not the notices of the assignments themselves
    assert told.get(user=people["city"]).title.startswith("逾期：")
    assert told.get(user=people["other_city"]).title.startswith("即将到期：")
    assert services.assignments_mark_overdue(today=today) == (0, 0)
    assert services.assignments_mark_overdue(today=today + timedelta(days=1)) == (0, 0)
    assert told.count() == 2 and ProgressUpdate.objects.filter(kind="overdue").count() == 1
    assert soon.status == "not_started"


def test_the_beat_task_marks_overdue_as_of_today(chain):
    city_part, _county_part = chain  # its milestone, 2020-12-31, is long past
    assert mark_overdue.delay().get() == {"overdue": 2, "notified": 2}
    city_part.refresh_from_db()
    assert city_part.status == "overdue"
