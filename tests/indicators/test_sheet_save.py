"""The county sheet's save is one service (issue 12 §4): values, evidence files and the optional
submit in one transaction; a form without its version is refused like a stale one; an indicator
left out of a POST is never blanked."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Region
from indicators import services
from indicators.models import AuditEntry, Checkmark, Evidence, Indicator, Submission
from indicators.services import CheckmarkValue
from tests.helpers import COUNTY_NUMBERS, pdf, table_digest
from utilities.errors import StaleVersion

pytestmark = pytest.mark.django_db

SHEET = "/periods/2022S1/sheet/510104/"
PROVINCE_SHEET = "/periods/2022S1/sheet/510000/"
DONE = CheckmarkValue("done", done_month=date(2022, 3, 1))
MISSING_VERSION = "表单缺少版本号"
NOT_SAVED = "您填写的内容尚未保存：请刷新页面核对后再保存。"


@pytest.fixture
def clerk(make_user):
    return make_user("k", "county", "510104", last_name="锦江填报员")


@pytest.fixture
def jinjiang():
    return Region.objects.get(code="510104")


def stored():
    """Everything a sheet save could change."""

    return {
        "checkmarks": table_digest(Checkmark.objects, "pk", "status", "done_month", "expected_month", "note"),
        "audit": table_digest(AuditEntry.objects, "pk", "action", "before", "after"),
        "submissions": table_digest(Submission.objects, "pk", "state", "version"),
        "evidence": Evidence.objects.count(),
    }


def all_done():
    return dict.fromkeys(COUNTY_NUMBERS, DONE)


def exe():
    return SimpleUploadedFile("说明.exe", b"MZ\x90\x00binary", content_type="application/pdf")


# --- the service ------------------------------------------------------------------------------------


def test_values_files_and_submit_are_one_call(clerk, jinjiang, period, media):
    saved = services.sheet_save(
        user=clerk,
        region=jinjiang,
        period=period,
        values=all_done(),
        files=[(8, pdf())],
        expected_version=0,
        submit=True,
    )
    assert (saved.changed, len(saved.evidence), saved.submitted, saved.submit_refused) == (31, 1, True, ())
    assert (saved.submission.state, saved.submission.version) == ("submitted", 2)  # values +1, the file +1
    assert Checkmark.objects.filter(region=jinjiang, period=period, status="done").count() == 31
    assert Evidence.objects.get().checkmark.indicator.number == 8
    actions = list(AuditEntry.objects.filter(region=jinjiang, period=period).values_list("action", flat=True))
    assert (actions.count("set"), actions.count("evidence"), actions.count("submit")) == (31, 1, 1)


def test_a_bad_file_stores_neither_the_values_nor_the_submit(clerk, jinjiang, period, media):
    before = stored()
    with pytest.raises(ValidationError) as caught:
        services.sheet_save(
            user=clerk,
            region=jinjiang,
            period=period,
            values=all_done(),
            files=[(3, pdf()), (8, exe())],
            expected_version=0,
            submit=True,
        )
    assert "说明.exe" in " ".join(caught.value.messages) and "类型不允许" in " ".join(caught.value.messages)
    assert stored() == before
    assert list(media.rglob("*.*")) == []  # the good file before it was not kept either


def test_a_submit_refused_for_what_is_missing_leaves_the_save_standing(clerk, jinjiang, period):
    values = {n: DONE for n in COUNTY_NUMBERS if n != 7}
    saved = services.sheet_save(user=clerk, region=jinjiang, period=period, values=values, expected_version=0, submit=True)
    assert saved.submitted is False and saved.changed == 30
    assert saved.submit_refused == ("以下指标尚未填写完整：7。",)
    assert (saved.submission.state, saved.submission.version) == ("draft", 1)
    assert not AuditEntry.objects.filter(action="submit").exists()


def test_without_a_version_nothing_is_written(clerk, jinjiang, period):
    before = stored()
    with pytest.raises(StaleVersion, match=f"{MISSING_VERSION}.*{NOT_SAVED}"):
        services.sheet_save(user=clerk, region=jinjiang, period=period, values=all_done(), expected_version=None)
    assert stored() == before


def test_a_stale_version_writes_nothing_and_any_version_overwrites(clerk, jinjiang, period):
    services.sheet_save(user=clerk, region=jinjiang, period=period, values={1: DONE}, expected_version=0)
    before = stored()
    with pytest.raises(StaleVersion, match="已被锦江填报员于.*修改.*尚未保存"):
        services.sheet_save(user=clerk, region=jinjiang, period=period, values=all_done(), expected_version=0)
    assert stored() == before
    saved = services.sheet_save(user=clerk, region=jinjiang, period=period, values=all_done(), expected_version=services.ANY_VERSION)
    assert (saved.changed, saved.submission.version) == (30, 2)


def test_only_the_indicators_given_change(clerk, jinjiang, period):
    services.sheet_save(user=clerk, region=jinjiang, period=period, values=all_done(), expected_version=0)
    later = CheckmarkValue("not_done", expected_month=date(2030, 1, 1))
    saved = services.sheet_save(user=clerk, region=jinjiang, period=period, values={5: later}, expected_version=1)
    assert saved.changed == 1
    statuses = dict(Checkmark.objects.filter(region=jinjiang, period=period).values_list("indicator__number", "status"))
    assert statuses[5] == "not_done" and [n for n, s in statuses.items() if s == "done"] == [n for n in COUNTY_NUMBERS if n != 5]


def test_scope_is_checked_inside(make_user, jinjiang, period):
    neighbour = make_user("qy", "county", "510105")
    before = stored()
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.sheet_save(user=neighbour, region=jinjiang, period=period, values=all_done(), expected_version=0)
    assert stored() == before


# --- the page ---------------------------------------------------------------------------------------


def form(version="0", **overrides):
    data = {"action": "save"} if version is None else {"version": version, "action": "save"}
    for n in COUNTY_NUMBERS:
        data[f"status_{n}"], data[f"done_month_{n}"], data[f"note_{n}"] = "done", "2022-03", ""
    data.update(overrides)
    return data


@pytest.mark.parametrize("version", [None, "", "abc", "1.0", "٣"])
def test_a_form_without_a_usable_version_is_refused_like_a_stale_one(client, clerk, jinjiang, period, version):
    services.sheet_save(user=clerk, region=jinjiang, period=period, values={1: DONE}, expected_version=0)
    before = stored()
    client.force_login(clerk)
    response = client.post(SHEET, form(version, note_2="我刚输入的"))
    assert response.status_code == 400  # as a stale form is
    page = response.content.decode()
    assert MISSING_VERSION in page and NOT_SAVED in page
    assert 'value="我刚输入的"' in page  # what was typed is kept
    assert stored() == before  # nothing blanked, nothing written


def test_an_indicator_left_out_of_the_post_is_not_blanked(client, clerk, jinjiang, period):
    services.sheet_save(user=clerk, region=jinjiang, period=period, values=all_done(), expected_version=0)
    Checkmark.objects.filter(region=jinjiang, indicator__number=6).update(note="已与住建局对接")
    client.force_login(clerk)
    # Only indicator 5 is sent; indicator 6 sends its status alone (its note field is left out).
    response = client.post(
        SHEET,
        {
            "version": "1",
            "action": "save",
            "status_5": "not_done",
            "expected_month_5": "2030-01",
            "note_5": "",
            "status_6": "done",
            "done_month_6": "2022-03",
        },
    )
    assert response.status_code == 302
    rows = {c.indicator.number: c for c in Checkmark.objects.filter(region=jinjiang, period=period).select_related("indicator")}
    assert (rows[5].status, rows[5].expected_month) == ("not_done", date(2030, 1, 1))
    assert rows[6].note == "已与住建局对接"  # a field left out keeps its value
    assert [n for n, c in rows.items() if c.status == "done"] == [n for n in COUNTY_NUMBERS if n != 5]
    assert (
        AuditEntry.objects.filter(action="set", indicator__number__in=[n for n in COUNTY_NUMBERS if n != 5]).count() == 30
    )  # the first save only


def test_a_status_left_out_keeps_the_stored_one(client, clerk, jinjiang, period):
    services.sheet_save(user=clerk, region=jinjiang, period=period, values=all_done(), expected_version=0)
    client.force_login(clerk)
    data = form("1", note_4="补充说明")
    del data["status_4"]  # no radio ticked: not a request to blank the indicator
    assert client.post(SHEET, data).status_code == 302
    four = Checkmark.objects.get(region=jinjiang, period=period, indicator__number=4)
    assert (four.status, four.done_month, four.note) == ("done", date(2022, 3, 1), "补充说明")


def test_an_explicit_empty_value_clears(client, make_user, period):
    # The province's encouraging indicator 37 has a “未开展（留空）” radio: status_37="" is sent on purpose.
    official = make_user("p", "province", "510000", last_name="省能源局")
    sichuan = Region.objects.get(code="510000")
    services.sheet_save(
        user=official, region=sichuan, period=period, values={37: CheckmarkValue("done"), 38: CheckmarkValue("done")}, expected_version=0
    )
    client.force_login(official)
    response = client.post(PROVINCE_SHEET, {"version": "1", "action": "save", "status_37": "", "done_month_37": "", "note_37": ""})
    assert response.status_code == 302
    statuses = dict(Checkmark.objects.filter(region=sichuan, period=period).values_list("indicator__number", "status"))
    assert (statuses[37], statuses[38]) == ("", "done")


def test_save_and_submit_with_a_bad_file_stores_nothing(client, clerk, period, media):
    before = stored()
    client.force_login(clerk)
    response = client.post(SHEET, form(action="submit", evidence_8=exe(), note_6="已对接"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "说明.exe" in page and "类型不允许" in page and 'value="已对接"' in page
    assert stored() == before


def test_save_and_submit_from_the_page(client, clerk, jinjiang, period, media):
    client.force_login(clerk)
    response = client.post(SHEET, form(action="submit", evidence_8=pdf()), follow=True)
    page = response.content.decode()
    assert "已保存（31 项指标、1 个佐证文件）" in page and "已上报，等待地市审核" in page
    submission = Submission.objects.get(region=jinjiang, period=period)
    assert (submission.state, submission.version) == ("submitted", 2)
    assert Indicator.objects.get(pk=Evidence.objects.get().checkmark.indicator_id).number == 8
