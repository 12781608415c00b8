"""A company's ledger given to its units (issue 13 §3): 国网重庆市电力公司's 18-item activity ledger
(渝电综〔2021〕5号 附件1) assigned to the departments its 责任部门 names, with the same progress,
evidence, 督办 and history as a region's; who sees and acts on a unit's part, and bad input."""

import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import ChangeEvent, Company, OrgUnit, Region, User
from ledger import selectors, services
from ledger.demo import demo_company_ledger_create
from ledger.excel import FIRST_DATA_ROW
from ledger.models import Assignment, AssignmentStatus, Ledger, Pressing, ProgressEvidence, ProgressKind, ProgressUpdate
from ledger.resources import export_workbook, import_workbook
from tests.helpers import V1, pdf

# The departments the ledger's 责任部门 column names, in order of first mention.
CQPOWER_UNITS = ["营销部", "设备部", "巡察办", "发展部", "建设部", "财务部", "互联网部", "办公室", "调控中心"]
TODAY = date(2021, 3, 20)


@pytest.fixture
def sgcc():
    company = Company.objects.create(name="国网重庆市电力公司", code="sgcc-cq", province=Region.objects.get(code="500000"))
    for name in CQPOWER_UNITS:
        OrgUnit.objects.create(company=company, name=name)
    return company


@pytest.fixture
def other_company():
    """A second company in 重庆 with a 营销部 of its own."""
    company = Company.objects.create(name="重庆三峡水利电力（集团）股份有限公司", code="sxsl", province=Region.objects.get(code="500000"))
    OrgUnit.objects.create(company=company, name="营销部")
    return company


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="pw-for-tests-1", role="national")


@pytest.fixture
def company_ledger(root):
    """The company's own ledger, adapted from the document's text (which is read-only)."""
    return services.ledger_adapt(
        user=root,
        region=Region.objects.get(code="500000"),
        year=2021,
        source=Ledger.objects.get(code="cqpower-2021"),
        name="国网重庆市电力公司2021年优化电力营商环境“深化创新年”活动工作台账",
    )


@pytest.fixture
def staff(make_user, sgcc, other_company):
    def unit(company, name):
        return company.units.get(name=name)

    return {
        "hq": make_user("cq_hq", "supply_company", "500000", company=sgcc, last_name="公司本部"),
        "marketing": make_user("cq_yx", "supply_company", "500000", company=sgcc, org_unit=unit(sgcc, "营销部")),
        "inspection": make_user("cq_xc", "supply_company", "500103", company=sgcc, org_unit=unit(sgcc, "巡察办")),
        "other_hq": make_user("sx_hq", "supply_company", "500000", company=other_company),
        "other_marketing": make_user("sx_yx", "supply_company", "500000", company=other_company, org_unit=unit(other_company, "营销部")),
        "province": make_user("cq_gov", "province", "500000", last_name="市经济信息委"),
    }


@pytest.fixture
def given(staff, sgcc, company_ledger):
    """Every item given by the head office to the departments its 责任部门 names."""
    return services.unit_assignments_create(user=staff["hq"], ledger=company_ledger, company=sgcc)


def part(ledger, number, unit):
    return Assignment.objects.get(item__ledger=ledger, item__number=number, org_unit__name=unit)


# --- the ledger's 责任部门 to units -------------------------------------------------------------


def test_unit_names_split_the_cell_as_the_document_writes_it():
    assert services.unit_names("营销部、发展部、设备部；营销部、互联网部") == ["营销部", "发展部", "设备部", "互联网部"]
    assert services.unit_names("") == []


@pytest.mark.django_db
def test_every_item_goes_to_the_units_its_responsible_units_name_first_one_leading(given, company_ledger, sgcc):
    # 18 items; each unit named once per item (item 4 names 营销部 in both sub-measures).
    expected = sum(len(services.unit_names(i.responsible_units)) for i in company_ledger.items.all())
    assert len(given) == expected == Assignment.objects.filter(item__ledger=company_ledger).count()
    four = {a.org_unit.name: a for a in Assignment.objects.filter(item__ledger=company_ledger, item__number=4)}
    assert set(four) == {"营销部", "发展部", "设备部", "建设部", "财务部", "互联网部"}
    assert four["营销部"].lead and not four["互联网部"].lead
    assert {a.region.code for a in given} == {"500000"}  # the company's province
    assert part(company_ledger, 3, "巡察办").responsible_unit == "巡察办"
    ongoing = part(company_ledger, 18, "巡察办")  # 常态开展
    assert ongoing.status == AssignmentStatus.ONGOING and ongoing.milestone is None
    history = ProgressUpdate.objects.get(assignment=part(company_ledger, 1, "营销部"))
    assert history.kind == ProgressKind.ASSIGN and history.note == "分解至国网重庆市电力公司（营销部，牵头）"
    # Again: nothing new, nothing doubled.
    assert services.unit_assignments_create(user=given[0].updated_by, ledger=company_ledger, company=sgcc) == []


@pytest.mark.django_db
def test_an_unknown_unit_name_stops_the_import_naming_item_and_name(root, company_ledger, sgcc):
    OrgUnit.objects.filter(company=sgcc, name__in=["巡察办", "调控中心"]).delete()
    with pytest.raises(ValidationError) as error:
        services.unit_assignments_create(user=root, ledger=company_ledger, company=sgcc)
    messages = error.value.message_dict["responsible_units"]
    assert "第 3 项“责任单位”：“巡察办”不是国网重庆市电力公司的单位。" in messages
    assert "第 8 项“责任单位”：“调控中心”不是国网重庆市电力公司的单位。" in messages
    assert not Assignment.objects.filter(item__ledger=company_ledger).exists()


@pytest.mark.django_db
def test_a_unit_of_another_company_is_refused_naming_the_field(staff, company_ledger, other_company):
    item = company_ledger.items.get(number=1)
    theirs = other_company.units.get(name="营销部")
    with pytest.raises(ValidationError) as error:
        services.assignment_create(user=staff["hq"], item=item, org_unit=theirs)
    assert error.value.message_dict["org_unit"] == ["单位“营销部”属于重庆三峡水利电力（集团）股份有限公司，不是国网重庆市电力公司的单位。"]
    assert not Assignment.objects.filter(item=item).exists()


@pytest.mark.django_db
def test_an_official_gives_items_only_to_units_of_companies_of_its_province(people, ledger, sgcc):
    item = ledger.items.get(number=3)  # 四川's own ledger
    with pytest.raises(ValidationError) as error:
        services.assignment_create(user=people["province"], item=item, org_unit=sgcc.units.get(name="营销部"))
    assert error.value.message_dict["org_unit"] == ["单位“营销部”所属的国网重庆市电力公司不在您的管辖范围内。"]
    assert not Assignment.objects.filter(item=item).exists()


@pytest.mark.django_db
def test_a_unit_assignment_keeps_its_company_province_and_no_region_breakdown(root, company_ledger, sgcc):
    item = company_ledger.items.get(number=1)
    marketing = sgcc.units.get(name="营销部")
    with pytest.raises(ValidationError) as error:
        services.assignment_create(user=root, item=item, org_unit=marketing, region=Region.objects.get(code="500103"))
    assert "其任务的责任区域应为重庆市" in error.value.message_dict["org_unit"][0]
    services.assignment_create(user=root, item=item, org_unit=marketing)
    with pytest.raises(ValidationError) as error:
        services.assignment_create(user=root, item=item, org_unit=marketing)
    assert error.value.message_dict["__all__"] == ["该事项已分给这个单位。"]


@pytest.mark.django_db
def test_only_the_head_office_or_the_ledgers_officials_give_items_to_units(staff, company_ledger, sgcc):
    item = company_ledger.items.get(number=2)
    with pytest.raises(PermissionDenied):
        services.assignment_create(user=staff["marketing"], item=item, org_unit=sgcc.units.get(name="设备部"))
    with pytest.raises(PermissionDenied, match="文件原文"):  # the document's own text is never assigned
        services.assignment_create(
            user=staff["hq"], item=Ledger.objects.get(code="cqpower-2021").items.get(number=2), org_unit=sgcc.units.get(name="设备部")
        )
    made = services.assignment_create(user=staff["province"], item=item, org_unit=sgcc.units.get(name="设备部"))
    assert made.region.code == "500000" and made.org_unit.company == sgcc


# --- who sees a unit's part --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_unit_sees_its_own_units_part_the_company_all_others_none(given, staff, company_ledger):
    def seen(user):
        return set(Assignment.objects.restrict(user).filter(item__ledger=company_ledger).values_list("org_unit__name", flat=True))

    assert seen(staff["marketing"]) == {"营销部"}
    assert seen(staff["inspection"]) == {"巡察办"}  # its own region (渝中区) does not matter
    assert seen(staff["hq"]) == set(CQPOWER_UNITS)
    assert seen(staff["province"]) == set(CQPOWER_UNITS)  # officials read by region, as any assignment
    assert seen(staff["other_hq"]) == seen(staff["other_marketing"]) == set()


@pytest.mark.django_db
def test_a_units_to_do_list_is_its_units_part_and_not_the_regions(given, staff, company_ledger, client):
    todo = selectors.assignments_to_do(user=staff["inspection"], today=TODAY)
    assert {(a.item.number, a.org_unit.name) for a in todo} == {(3, "巡察办"), (18, "巡察办")}
    assert selectors.assignments_to_do(user=staff["province"], today=TODAY) == []  # the company's work, not the province's
    client.force_login(staff["inspection"])
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="todo-{part(company_ledger, 3, "巡察办").pk}"' in html and "坚决治理“三指定”问题" in html
    assert f'id="todo-{part(company_ledger, 3, "营销部").pk}"' not in html


# --- progress, evidence, review, 督办, history ---------------------------------------------------


@pytest.mark.django_db
def test_a_unit_reports_with_evidence_and_the_company_reviews_returns_and_presses(given, staff, company_ledger, media):
    mine = part(company_ledger, 3, "巡察办")
    update = services.progress_report(
        user=staff["inspection"], assignment=mine, status="done", note="专项治理完成。", uploads=[pdf()], today=TODAY
    )
    assert ProgressEvidence.objects.get(update=update).name == "佐证.pdf"
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.DONE and mine.version == 1
    with pytest.raises(PermissionDenied):  # a unit does not review its own part
        services.progress_review(user=staff["inspection"], assignment=mine, note="好", send_back=True)
    with pytest.raises(PermissionDenied):  # nor do the province's officials: it is the company's own ledger
        services.progress_review(user=staff["province"], assignment=mine, note="好", send_back=True)
    services.progress_review(user=staff["hq"], assignment=mine, note="缺少自查自纠台账。", send_back=True)
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.IN_PROGRESS and mine.returned_reason == "缺少自查自纠台账。"
    pressing = services.press(user=staff["hq"], assignment=mine, note="请于本周内补报。")
    assert Pressing.objects.restrict(staff["inspection"]).get() == pressing
    kinds = list(ProgressUpdate.objects.restrict(staff["inspection"]).filter(assignment=mine).values_list("kind", flat=True))
    assert kinds == [ProgressKind.RETURN, ProgressKind.REPORT, ProgressKind.ASSIGN]
    # The change feed carries the unit.
    event = ChangeEvent.objects.filter(type="assignment.changed", data__id=mine.pk).latest("seq")
    assert event.data["action"] == "press" and event.data["org_unit"] == mine.org_unit_id and event.data["org_unit_name"] == "巡察办"


@pytest.mark.django_db
def test_nobody_else_reports_on_a_units_part(given, staff, company_ledger):
    theirs = part(company_ledger, 3, "营销部")
    for who in ("inspection", "hq", "province", "other_hq", "other_marketing"):
        with pytest.raises(PermissionDenied):
            services.progress_report(user=staff[who], assignment=theirs, status="in_progress", note="冒报。", today=TODAY)
    with pytest.raises(PermissionDenied):
        services.press(user=staff["other_hq"], assignment=theirs, note="督办")
    assert not ProgressUpdate.objects.filter(assignment=theirs, kind=ProgressKind.REPORT).exists()
    assert not Pressing.objects.exists()


@pytest.mark.django_db
def test_a_unit_above_reviews_the_units_below_it(staff, company_ledger, sgcc):
    marketing = sgcc.units.get(name="营销部")
    centre = OrgUnit.objects.create(company=sgcc, name="渝中供电服务中心", kind="district_company", parent=marketing)
    assignment = services.assignment_create(user=staff["hq"], item=company_ledger.items.get(number=12), org_unit=centre)
    assert staff["marketing"].has_perm("ledger.review_progress", assignment)
    assert Assignment.objects.restrict(staff["marketing"]).filter(pk=assignment.pk).exists()
    assert not staff["inspection"].has_perm("ledger.review_progress", assignment)
    rows = selectors.assignments_to_press(user=staff["marketing"], today=date(2021, 5, 28))
    assert [(a.pk, a.can_press) for a in rows] == [(assignment.pk, True)]


# --- the pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_assignment_page_shows_the_unit_and_refuses_strangers(given, staff, company_ledger, client, media):
    mine = part(company_ledger, 3, "巡察办")
    url = reverse("ledger:assignment", args=[mine.pk])
    client.force_login(staff["inspection"])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "国网重庆市电力公司 巡察办 · 第 3 项" in html and 'id="report"' in html
    assert 'id="review"' not in html
    response = client.post(
        url,
        {
            "action": "report",
            "report-status": "done",
            "report-note": "专项治理完成。",
            "report-version": mine.version,
            "report-evidence": pdf(),
        },
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.DONE and mine.updated_by == staff["inspection"]

    client.force_login(staff["hq"])
    html = client.get(url).content.decode()
    assert 'id="review"' in html and 'id="press"' in html and 'id="report"' not in html
    response = client.post(url, {"action": "send_back", "review-note": "佐证不全。"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.IN_PROGRESS

    for stranger in ("marketing", "other_hq", "other_marketing"):
        client.force_login(staff[stranger])
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "report", "report-status": "done", "report-note": "x"}).status_code == 404


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_shows_the_unit_and_filters_by_it(given, staff, company_ledger):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(staff["hq"])
    body = api.get(f"{V1}/assignments/", {"ledger": company_ledger.code, "org_unit": "巡察办"}).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert {(r["item"], r["org_unit_name"], r["company"]) for r in rows} == {(3, "巡察办", "sgcc-cq"), (18, "巡察办", "sgcc-cq")}
    assert all(r["org_unit"] == part(company_ledger, 3, "巡察办").org_unit_id for r in rows)
    api.force_authenticate(staff["other_hq"])
    body = api.get(f"{V1}/assignments/", {"ledger": company_ledger.code}).json()
    assert (body["results"] if isinstance(body, dict) else body) == []


# --- the region assignments are unchanged ------------------------------------------------------


@pytest.mark.django_db
def test_region_assignments_work_as_before_beside_unit_ones(chain, people, given, staff):
    city_part, county_part = chain
    assert county_part.org_unit is None
    services.progress_report(user=people["county"], assignment=county_part, status="done", note="完成。", today=date(2022, 3, 1))
    services.progress_review(user=people["city"], assignment=county_part, note="佐证不全。", send_back=True)
    services.press(user=people["province"], assignment=city_part, note="请加快。")
    assert not Assignment.objects.restrict(staff["hq"]).filter(pk__in=[city_part.pk, county_part.pk]).exists()
    assert not Assignment.objects.restrict(people["province"]).filter(org_unit__isnull=False).exists()  # 四川 does not see 重庆's


# --- the demo --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_gives_the_company_ledger_to_its_departments_once(root):
    credentials = demo_company_ledger_create(user=root)
    assert [c[0] for c in credentials] == ["sgcc_cq", "sgcc_cq_marketing", "sgcc_cq_inspection"]
    company = Company.objects.get(name="国网重庆市电力公司")
    assert sorted(company.units.values_list("name", flat=True)) == sorted(CQPOWER_UNITS)
    ledger = Ledger.objects.get(source__code="cqpower-2021", region__code="500000")
    assert ledger.name == "国网重庆市电力公司2021年优化电力营商环境“深化创新年”活动工作台账" and ledger.items.count() == 18
    made = Assignment.objects.filter(item__ledger=ledger).count()
    assert made == sum(len(services.unit_names(i.responsible_units)) for i in ledger.items.all())
    assert part(ledger, 3, "巡察办").status == AssignmentStatus.IN_PROGRESS  # reported done, sent back
    assert ProgressUpdate.objects.filter(assignment__item__ledger=ledger, kind=ProgressKind.REPORT).count() == 3
    assert Pressing.objects.filter(assignment=part(ledger, 5, "营销部")).count() == 1
    inspection = User.objects.get(username="sgcc_cq_inspection")
    assert {a.org_unit.name for a in selectors.assignments_to_do(user=inspection, today=TODAY)} == {"巡察办"}
    demo_company_ledger_create(user=root)
    assert Ledger.objects.filter(source__code="cqpower-2021").count() == 1
    assert Assignment.objects.filter(item__ledger__source__code="cqpower-2021").count() == made


@pytest.mark.django_db
def test_the_head_office_gives_the_ledger_to_its_departments_from_the_ledger_page(staff, company_ledger, sgcc, client):
    url = reverse("ledger:assign-units", args=[company_ledger.code])
    client.force_login(staff["marketing"])  # a department does not
    assert 'id="assign-units"' not in client.get(reverse("ledger:detail", args=[company_ledger.code])).content.decode()
    assert client.post(url).status_code == 403
    client.force_login(staff["hq"])
    OrgUnit.objects.filter(company=sgcc, name="调控中心").delete()
    page = client.post(url, follow=True).content.decode()
    assert "第 8 项“责任单位”：“调控中心”不是国网重庆市电力公司的单位。" in page
    assert not Assignment.objects.filter(item__ledger=company_ledger).exists()
    OrgUnit.objects.create(company=sgcc, name="调控中心")
    page = client.post(url, follow=True).content.decode()
    assert 'id="assign-units"' in page and "已按责任单位分给国网重庆市电力公司各部门" in page
    board_link = f'<a href="{reverse("ledger:assignment", args=[part(company_ledger, 3, "巡察办").pk])}">国网重庆市电力公司</a>'
    assert board_link in page  # the board names the company, then the unit as the responsible unit
    assert Assignment.objects.filter(item__ledger=company_ledger, org_unit__name="调控中心").count() == 2  # items 8 and 11


@pytest.mark.django_db
def test_a_unit_reports_through_the_progress_import_and_sees_only_its_rows(given, staff, company_ledger):
    ws = load_workbook(io.BytesIO(export_workbook(ledger=company_ledger, user=staff["inspection"], progress=True))).worksheets[0]
    rows = range(FIRST_DATA_ROW, ws.max_row + 1)
    assert [(ws.cell(r, 1).value, ws.cell(r, 5).value) for r in rows] == [(3, "巡察办"), (18, "巡察办")]
    ws.cell(FIRST_DATA_ROW, 10).value, ws.cell(FIRST_DATA_ROW, 11).value = "推进中", "已完成自查。"
    buffer = io.BytesIO()
    ws.parent.save(buffer)
    preview = import_workbook(
        SimpleUploadedFile("进展.xlsx", buffer.getvalue()), ledger=company_ledger, user=staff["inspection"], progress=True, dry_run=False
    )
    assert not preview.errors
    update = part(company_ledger, 3, "巡察办").updates.get(kind=ProgressKind.REPORT)
    assert (update.channel, update.user, update.note) == ("import", staff["inspection"], "已完成自查。")
    # The head office sends such a sheet: it reviews, it does not report for the unit.
    ws.cell(FIRST_DATA_ROW, 10).value, ws.cell(FIRST_DATA_ROW, 11).value = "已完成", "本部代报。"
    buffer = io.BytesIO()
    ws.parent.save(buffer)
    preview = import_workbook(
        SimpleUploadedFile("进展.xlsx", buffer.getvalue()), ledger=company_ledger, user=staff["hq"], progress=True, dry_run=True
    )
    assert preview.errors == [f"第 {FIRST_DATA_ROW} 行：只有巡察办可以报送这项任务的进展。"]


@pytest.mark.django_db
def test_a_units_part_is_heard_of_by_its_unit_and_company_only(given, staff, company_ledger, media):
    """The change feed and the notices follow the assignment's scope: another company's users in 重庆
    never read a unit's events nor hear of its 督办; the unit hears, its head office hears of progress."""
    mine = part(company_ledger, 3, "巡察办")
    services.progress_report(user=staff["inspection"], assignment=mine, status="in_progress", note="已部署。", today=TODAY)
    services.press(user=staff["hq"], assignment=mine, note="请加快。")
    unit_events = ChangeEvent.objects.filter(type="assignment.changed", org_unit__isnull=False)
    assert unit_events.restrict(staff["province"]).filter(data__id=mine.pk).count() == 3  # assign, progress, press
    assert unit_events.restrict(staff["inspection"]).filter(data__id=mine.pk).count() == 3
    assert unit_events.restrict(staff["hq"]).count() == unit_events.count()
    assert not unit_events.restrict(staff["other_hq"]).exists()
    assert not unit_events.restrict(staff["other_marketing"]).exists()

    def titles(who):
        return set(staff[who].notifications.values_list("title", flat=True))

    assert any(t.startswith("督办") for t in titles("inspection")) and any(t.startswith("新任务") for t in titles("inspection"))
    assert any("报送了进展" in t for t in titles("hq"))
    assert not staff["other_hq"].notifications.exists() and not staff["other_marketing"].notifications.exists()
    assert not any(t.startswith("督办") for t in titles("marketing"))  # another unit of the same company
