"""Sign-off with named exceptions (issue 8 §4): a city accepted, or the province confirmed, without
some counties, each named with its reason; those counties still write; the compiled 附件2 says
which they were; and what changed after a sign-off is counted and listed for the reviewer.

The regions: 四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104, 青羊 510105, 金牛 510106 …;
绵阳 510700 ⊃ 涪城 510703, 游仙 510704 …; 重庆 500000 is another province.
"""

from datetime import date
from io import BytesIO

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from rest_framework.test import APIClient

from accounts.models import Region
from accounts.services import api_token_create
from indicators import review, services
from indicators.models import AuditEntry, Indicator, SignoffException, Submission
from indicators.services import CheckmarkValue
from indicators.signoff import CHANGES_LISTED, changes_since_signoff, province_lock
from reporting import excel, layout
from reporting.imports import read_attachment2
from reporting.services import attachment2_compile, report_compile
from reporting.tables import SignoffNote
from utilities.errors import PeriodLocked

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 5)
DONE = CheckmarkValue("done", date(2022, 3, 1))
LATER = CheckmarkValue("not_done", expected_month=date(2022, 12, 1))
PROVINCE_NUMBERS = (21, 27, 29, 30, 33)
JINJIANG, QINGYANG, JINNIU, CHENGDU = "510104", "510105", "510106", "510100"
FUCHENG, YOUXIAN, MIANYANG, SICHUAN = "510703", "510704", "510700", "510000"
PROVINCE_PAGE = f"/periods/2022S1/province/{SICHUAN}/"


def region(code):
    return Region.objects.get(code=code)


@pytest.fixture
def people(make_user):
    return {
        "jinjiang": make_user("k", "county", JINJIANG, last_name="锦江填报员"),
        "fucheng": make_user("f", "county", FUCHENG, last_name="涪城填报员"),
        "chengdu": make_user("c", "city", CHENGDU, last_name="成都审核员"),
        "mianyang": make_user("m", "city", MIANYANG, last_name="绵阳审核员"),
        "province": make_user("p", "province", SICHUAN, last_name="省能源局"),
        "chongqing": make_user("q", "province", "500000"),
    }


@pytest.fixture
def api(people):
    """An API client holding a write token of 四川."""
    cache.clear()  # throttle counts from earlier tests
    _token, secret = api_token_create(user=people["province"], name="政务平台", region=region(SICHUAN), access="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def county_numbers():
    return list(Indicator.objects.filter(indicator_set__code="national-2021", level="county").values_list("number", flat=True))


def fill(user, code, period, numbers=None, value=DONE):
    return services.checkmarks_set(
        user=user,
        region=region(code),
        period=period,
        values=dict.fromkeys(numbers or county_numbers(), value),
        today=TODAY,
    )


def approve_all(period, *, but=()):
    """Every county of 四川 approved in bulk (as their cities would have), except ``but``."""
    counties = Region.objects.filter(level="county", path__startswith=f"{SICHUAN}/").exclude(code__in=but)
    now = timezone.now()
    Submission.objects.bulk_create([Submission(region=c, period=period, state="approved", state_changed_at=now) for c in counties])


def accept_all(people, period, *, but=()):
    for city in Region.objects.filter(parent__code=SICHUAN).exclude(code__in=but):
        review.city_accept(user=people["province"], region=city, period=period)


def fill_province(people, period):
    services.checkmarks_set(
        user=people["province"], region=region(SICHUAN), period=period, values=dict.fromkeys(PROVINCE_NUMBERS, DONE), today=TODAY
    )


def errors_of(excinfo):
    return excinfo.value.message_dict


def state(code, period):
    return Submission.objects.get(region__code=code, period=period).state


# --- city_accept -----------------------------------------------------------------------------------


def test_city_accept_with_named_exceptions(people, period):
    approve_all(period, but=(JINJIANG, QINGYANG))
    Submission.objects.create(region=region(QINGYANG), period=period, state="submitted")
    chengdu, province = region(CHENGDU), people["province"]

    def accept(exceptions=None):
        return review.city_accept(user=province, region=chengdu, period=period, exceptions=exceptions)

    with pytest.raises(ValidationError) as refused:
        accept()
    assert errors_of(refused) == {"__all__": ["成都市尚有 2 个县未经市级审核：锦江区、青羊区。请待其审核通过，或将其列为例外并写明原因。"]}
    with pytest.raises(ValidationError) as refused:
        accept({region(JINJIANG): "   ", region(QINGYANG): "系统故障"})
    assert errors_of(refused) == {JINJIANG: ["锦江区：必须写明例外原因。"]}
    with pytest.raises(ValidationError) as refused:
        accept({region(JINJIANG): "受灾", region(QINGYANG): "系统故障", region(JINNIU): "多列一个"})
    assert errors_of(refused) == {JINNIU: ["金牛区已经市级审核通过，不能列为例外。"]}
    with pytest.raises(ValidationError) as refused:
        accept({region(JINJIANG): "受灾", region(QINGYANG): "系统故障", region(FUCHENG): "别市的县"})
    assert errors_of(refused) == {FUCHENG: ["“涪城区”不是成都市所辖的县，不能列为例外。"]}
    with pytest.raises(ValidationError) as refused:
        accept({region(JINJIANG): "长" * 501, region(QINGYANG): "系统故障"})
    assert errors_of(refused) == {JINJIANG: ["锦江区：例外原因不能超过 500 字（现有 501 字）。"]}
    # Refused: nothing stored.
    assert not SignoffException.objects.exists() and not Submission.objects.filter(region=chengdu).exclude(state="draft").exists()
    assert not AuditEntry.objects.filter(action="accept").exists()

    for outsider in (people["chengdu"], people["chongqing"]):
        with pytest.raises(PermissionDenied):
            review.city_accept(
                user=outsider, region=chengdu, period=period, exceptions={region(JINJIANG): "受灾", region(QINGYANG): "故障"}
            )

    accept({region(QINGYANG): " 系统故障，数据待补 ", region(JINJIANG): "受灾，数据待核实"})
    assert state(CHENGDU, period) == "accepted"
    named = list(
        SignoffException.objects.order_by("county__code").values_list("submission__region__code", "county__code", "reason", "named_by")
    )
    assert named == [(CHENGDU, JINJIANG, "受灾，数据待核实", province.pk), (CHENGDU, QINGYANG, "系统故障，数据待补", province.pk)]
    entry = AuditEntry.objects.get(action="accept")
    assert (entry.region.code, entry.user, entry.channel, entry.after) == (CHENGDU, province, "web", "省级已接收")
    assert entry.reason == "例外：锦江区（受灾，数据待核实）；青羊区（系统故障，数据待补）"


def test_a_city_with_every_county_approved_is_accepted_without_exceptions(people, period):
    approve_all(period)
    review.city_accept(user=people["province"], region=region(CHENGDU), period=period, exceptions={})
    assert state(CHENGDU, period) == "accepted" and not SignoffException.objects.exists()
    assert AuditEntry.objects.get(action="accept").reason == ""


# --- period_confirm and the lock -------------------------------------------------------------------


def confirmed_with_exceptions(people, period):
    """成都 accepted without 锦江 (still filling); 四川 confirmed without 涪城 (绵阳 not accepted)."""
    approve_all(period, but=(JINJIANG, FUCHENG))
    review.city_accept(user=people["province"], region=region(CHENGDU), period=period, exceptions={region(JINJIANG): "受灾，数据待核实"})
    accept_all(people, period, but=(CHENGDU, MIANYANG))
    fill_province(people, period)
    review.period_confirm(
        user=people["province"], region=region(SICHUAN), period=period, today=TODAY, exceptions={region(FUCHENG): "绵阳市审核人员空缺"}
    )


def test_period_confirm_with_exceptions(people, period):
    approve_all(period, but=(JINJIANG, FUCHENG))
    review.city_accept(user=people["province"], region=region(CHENGDU), period=period, exceptions={region(JINJIANG): "受灾，数据待核实"})
    accept_all(people, period, but=(CHENGDU, MIANYANG, "510300"))
    sichuan, province = region(SICHUAN), people["province"]

    def confirm(exceptions=None):
        return review.period_confirm(user=province, region=sichuan, period=period, today=TODAY, exceptions=exceptions)

    with pytest.raises(ValidationError) as refused:
        confirm()
    assert errors_of(refused) == {
        "__all__": [
            "以下地市的县均已审核，请先接收：自贡市。",
            "尚有 1 个地市未接收，其中以下县未经市级审核，也未列为例外：绵阳市涪城区。请先接收这些地市，或将这些县列为例外并写明原因。",
            "省级指标尚未填写：*21、*27、*29、*30、*33。",
        ]
    }
    review.city_accept(user=province, region=region("510300"), period=period)
    fill_province(people, period)
    with pytest.raises(ValidationError) as refused:
        confirm({region(FUCHENG): "空缺", region(JINJIANG): "再列一次", region(YOUXIAN): "已审核的县"})
    assert errors_of(refused) == {
        JINJIANG: ["锦江区所属的成都市已经接收，不能在省级确认时列为例外。"],
        YOUXIAN: ["游仙区已经市级审核通过，不能列为例外。"],
    }
    with pytest.raises(ValidationError) as refused:
        confirm({region(FUCHENG): "", region("500103"): "别省的县"})
    assert errors_of(refused) == {
        FUCHENG: ["涪城区：必须写明例外原因。"],
        "500103": ["“渝中区”不是四川省所辖的县，不能列为例外。"],
    }
    assert state(SICHUAN, period) == "draft"
    assert not SignoffException.objects.filter(submission__region=sichuan).exists()

    confirm({region(FUCHENG): "绵阳市审核人员空缺"})
    assert state(SICHUAN, period) == "confirmed"
    assert not Submission.objects.filter(region__code=MIANYANG, period=period).exclude(state="draft").exists()  # 绵阳 as it was
    assert list(SignoffException.objects.filter(submission__region=sichuan).values_list("county__code", "reason")) == [
        (FUCHENG, "绵阳市审核人员空缺")
    ]
    assert AuditEntry.objects.get(action="confirm").reason == "例外：涪城区（绵阳市审核人员空缺）"


def test_exception_counties_still_write_after_confirmation_the_others_are_locked(people, period, client):
    confirmed_with_exceptions(people, period)
    province = people["province"]
    # 涪城 (the province's exception) and 锦江 (成都's) are not locked: they fill in and submit …
    for user, code in ((people["fucheng"], FUCHENG), (people["jinjiang"], JINJIANG)):
        assert province_lock(region=region(code), period=period) is None
        assert fill(user, code, period)[1] == 31
        services.county_submit(user=user, region=region(code), period=period, today=TODAY)
    # … and their cities review them.
    review.county_approve(user=people["mianyang"], region=region(FUCHENG), period=period)
    review.county_return(user=people["chengdu"], region=region(JINJIANG), period=period, reason="指标 8 缺少佐证")
    assert (state(FUCHENG, period), state(JINJIANG, period), state(CHENGDU, period)) == ("approved", "returned", "accepted")
    # Everyone else is locked.
    assert province_lock(region=region(JINNIU), period=period).region.code == SICHUAN
    with pytest.raises(PeriodLocked, match="已由省能源局于.*确认锁定"):
        fill(province, JINNIU, period, [1], LATER)
    with pytest.raises(PeriodLocked):
        review.county_return(user=people["chengdu"], region=region(JINNIU), period=period, reason="再改")
    with pytest.raises(PeriodLocked):
        services.checkmarks_set(user=province, region=region(SICHUAN), period=period, values={21: LATER}, today=TODAY)

    # The sheets say so: 锦江's names the exception and is open, 金牛's is locked.
    client.force_login(people["jinjiang"])
    page = client.get(f"/periods/2022S1/sheet/{JINJIANG}/").content.decode()
    assert "锦江区已在省级接收成都市时列为例外（原因：受灾，数据待核实），未随之签收，不受确认锁定：本县仍可按审核流程填报、上报。" in page
    assert 'class="banner locked"' not in page and 'name="action" value="submit"' in page
    client.force_login(people["fucheng"])
    assert (
        "涪城区已在省级确认四川省数据时列为例外（原因：绵阳市审核人员空缺）"
        in client.get(f"/periods/2022S1/sheet/{FUCHENG}/").content.decode()
    )
    client.force_login(province)
    page = client.get(f"/periods/2022S1/sheet/{JINNIU}/").content.decode()
    assert 'class="banner locked"' in page and "列为例外" not in page


def test_the_api_reports_exception_counties_unlocked(people, period, api):
    confirmed_with_exceptions(people, period)
    states = {code: api.get(f"/api/v1/periods/2022S1/regions/{code}/").json()["locked"] for code in (FUCHENG, JINJIANG, JINNIU, SICHUAN)}
    assert states == {FUCHENG: False, JINJIANG: False, JINNIU: True, SICHUAN: True}


def test_exceptions_go_with_the_signoff_when_it_is_undone(people, period):
    confirmed_with_exceptions(people, period)
    province, sichuan = people["province"], region(SICHUAN)
    review.period_reopen(user=province, region=sichuan, period=period, reason="更正指标 8")
    # The province's exceptions go with its confirmation; 成都's acceptance and its exception stay.
    assert list(SignoffException.objects.values_list("county__code", flat=True)) == [JINJIANG]
    assert AuditEntry.objects.get(action="confirm").reason == "例外：涪城区（绵阳市审核人员空缺）"  # the audit keeps it
    # 锦江 was not part of 成都's acceptance: returning it leaves the acceptance standing.
    fill(people["jinjiang"], JINJIANG, period)
    services.county_submit(user=people["jinjiang"], region=region(JINJIANG), period=period, today=TODAY)
    review.county_approve(user=people["chengdu"], region=region(JINJIANG), period=period)
    review.county_return(user=people["chengdu"], region=region(JINJIANG), period=period, reason="指标 8 缺少佐证")
    assert state(CHENGDU, period) == "accepted" and SignoffException.objects.filter(county__code=JINJIANG).exists()
    # A county that was part of it takes the acceptance, and its exceptions, with it.
    review.county_return(user=people["chengdu"], region=region(QINGYANG), period=period, reason="指标 3 有误")
    assert state(CHENGDU, period) == "draft"
    assert not SignoffException.objects.exists()
    assert AuditEntry.objects.get(action="accept", region__code=CHENGDU).reason == "例外：锦江区（受灾，数据待核实）"


# --- what changed after a sign-off ----------------------------------------------------------------


def test_changes_since_signoff_count_exactly_the_changes_after_it(people, period, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    province, jinjiang = people["province"], region(JINJIANG)
    approve_all(period, but=(JINJIANG, FUCHENG))
    fill(people["jinjiang"], JINJIANG, period)  # 31 changes before the approval: not counted
    services.county_submit(user=people["jinjiang"], region=jinjiang, period=period, today=TODAY)
    review.county_approve(user=people["chengdu"], region=jinjiang, period=period)
    counties = list(Region.objects.filter(parent__code=CHENGDU))
    assert changes_since_signoff(user=people["chengdu"], regions=counties, period=period) == {}

    fill(province, JINJIANG, period, [3, 5], LATER)  # the province corrects two values …
    fill(province, JINJIANG, period, [3], DONE)  # … puts one back …
    pdf = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")
    services.evidence_add(user=province, region=jinjiang, period=period, number=8, upload=pdf)  # … and adds a file
    changes = changes_since_signoff(user=people["chengdu"], regions=counties, period=period)
    assert list(changes) == [jinjiang.pk]
    assert (changes[jinjiang.pk].verb, changes[jinjiang.pk].count) == ("审核", 4)
    listed = [(e.action, e.indicator.number, e.before, e.after, e.user) for e in changes[jinjiang.pk].entries]
    assert listed == [  # newest first
        ("evidence", 8, "", "整改报告.pdf", province),
        ("set", 3, "预计 2022年12月", "√ 2022年3月", province),
        ("set", 5, "√ 2022年3月", "预计 2022年12月", province),
        ("set", 3, "√ 2022年3月", "预计 2022年12月", province),
    ]
    client.force_login(people["chengdu"])
    page = client.get(f"/periods/2022S1/review/{CHENGDU}/").content.decode()
    assert "自您审核后已有 4 项数据变更" in page and "√ 2022年3月 → 预计 2022年12月" in page and "整改报告.pdf" in page

    # 成都 accepted now (涪城 is 绵阳's): only what changes after the acceptance counts for it.
    review.city_accept(user=province, region=region(CHENGDU), period=period)
    fill(province, JINJIANG, period, [1, 2], LATER)
    cities = list(Region.objects.filter(parent__code=SICHUAN))
    changes = changes_since_signoff(user=province, regions=cities, period=period)
    assert list(changes) == [region(CHENGDU).pk] and (changes[region(CHENGDU).pk].verb, changes[region(CHENGDU).pk].count) == ("接收", 2)
    assert changes_since_signoff(user=people["chengdu"], regions=counties, period=period)[jinjiang.pk].count == 6
    # More than are listed: all counted, the latest listed.
    accept_all(people, period, but=(CHENGDU, MIANYANG))
    fill_province(people, period)
    review.period_confirm(
        user=province, region=region(SICHUAN), period=period, today=TODAY, exceptions={region(FUCHENG): "绵阳市审核人员空缺"}
    )
    fill(people["fucheng"], FUCHENG, period)
    changes = changes_since_signoff(user=province, regions=[region(SICHUAN)], period=period)[region(SICHUAN).pk]
    assert (changes.verb, changes.count, len(changes.entries)) == ("确认", 31, CHANGES_LISTED)
    assert {e.region.code for e in changes.entries} == {FUCHENG}
    client.force_login(province)
    page = client.get(PROVINCE_PAGE).content.decode()
    assert "自您确认后已有 31 项数据变更" in page and f"仅列出最近 {CHANGES_LISTED} 项" in page
    assert "自您接收后已有 2 项数据变更" in page

    # Approved again after a return: counted from the new approval.
    review.period_reopen(user=province, region=region(SICHUAN), period=period, reason="更正")
    review.county_return(user=people["chengdu"], region=jinjiang, period=period, reason="请核实")
    services.county_submit(user=people["jinjiang"], region=jinjiang, period=period, today=TODAY)
    review.county_approve(user=people["chengdu"], region=jinjiang, period=period)
    assert jinjiang.pk not in changes_since_signoff(user=people["chengdu"], regions=counties, period=period)


def test_changes_since_signoff_is_one_query_whatever_the_number_of_counties(people, period):
    approve_all(period)
    for code in (JINJIANG, "510402"):  # one county each of 成都 (22 counties) and 攀枝花 (5)
        fill(people["province"], code, period, [1, 2, 3], LATER)
    counts = {}
    for city in (CHENGDU, "510400"):
        counties = list(Region.objects.filter(parent__code=city))
        with CaptureQueriesContext(connection) as queries:
            changes = changes_since_signoff(user=people["province"], regions=counties, period=period)
        counts[city] = len(queries)
        assert [c.count for c in changes.values()] == [3]
    assert counts == {CHENGDU: 1, "510400": 1}


# --- the province page -----------------------------------------------------------------------------


def test_the_province_page_names_exceptions_with_errors_at_the_field(people, period, client):
    approve_all(period, but=(JINJIANG, QINGYANG))
    client.force_login(people["province"])
    page = client.get(PROVINCE_PAGE).content.decode()
    assert "尚有 2 个县未审核：列为例外后接收" in page
    assert 'name="reason_510104"' in page and 'name="reason_510105"' in page and "列为例外" in page

    response = client.post(PROVINCE_PAGE, {"action": "accept", "city": CHENGDU, "exception": [JINJIANG], "reason_510104": " "})
    assert response.status_code == 400
    page = response.content.decode()
    row = page[page.index('data-county="510104"') :]
    row = row[: row.index("</tr>")]
    assert "锦江区：必须写明例外原因。" in row and "checked" in row  # at the field, what was ticked kept
    # Summed up per city on top (the form lists 青羊区 itself), not repeated as one paragraph.
    assert "尚有 1 个县未经市级审核、也未列为例外" in page and ">成都市</a>：1 个县" in page
    assert "成都市尚有 1 个县未经市级审核：青羊区。" not in page
    assert not Submission.objects.filter(region__code=CHENGDU, state="accepted").exists()
    assert not SignoffException.objects.exists()

    response = client.post(
        PROVINCE_PAGE,
        {
            "action": "accept",
            "city": CHENGDU,
            "exception": [JINJIANG, QINGYANG],
            "reason_510104": "受灾，数据待核实",
            "reason_510105": "系统故障",
        },
    )
    assert response.status_code == 302 and response.url == PROVINCE_PAGE
    assert state(CHENGDU, period) == "accepted"
    page = client.get(PROVINCE_PAGE).content.decode()
    assert "已接收该地市的数据。" in page
    assert "锦江区</a>（例外）：受灾，数据待核实" in page and "青羊区</a>（例外）：系统故障" in page

    # The confirmation lists the counties of cities not accepted.
    Submission.objects.filter(region__code=FUCHENG).update(state="submitted")
    accept_all(people, period, but=(CHENGDU, MIANYANG))
    fill_province(people, period)
    page = client.get(PROVINCE_PAGE).content.decode()
    assert "以下县所属地市尚未接收" in page and "绵阳市涪城区" in page
    response = client.post(PROVINCE_PAGE, {"action": "confirm", "exception": [FUCHENG, "999999"], "reason_510703": "空缺"})
    assert response.status_code == 400 and "没有代码为“999999”的县，或该县不在您的管辖范围内。" in response.content.decode()
    response = client.post(PROVINCE_PAGE, {"action": "confirm", "exception": [FUCHENG], "reason_510703": "绵阳市审核人员空缺"})
    assert response.status_code == 302 and state(SICHUAN, period) == "confirmed"
    page = client.get(PROVINCE_PAGE).content.decode()
    assert "确认时列为例外的县" in page and "绵阳市涪城区</a>（例外）：绵阳市审核人员空缺" in page


def test_only_the_provinces_officials_sign_off_and_only_with_the_csrf_token(people, period, make_user):
    approve_all(period)
    body = {"action": "accept", "city": CHENGDU}
    expected = {"jinjiang": 403, "chengdu": 403, "chongqing": 404}
    for name, status in expected.items():
        client = Client()
        client.force_login(people[name])
        assert client.post(PROVINCE_PAGE, body).status_code == status, name
    national = Client()
    national.force_login(make_user("n", "national"))
    assert national.post(PROVINCE_PAGE, body).status_code == 403
    assert Client().post(PROVINCE_PAGE, body).status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people["province"])
    response = strict.post(PROVINCE_PAGE, body)
    assert response.status_code == 403 and "CSRF" in response.content.decode()
    assert not Submission.objects.filter(region__code=CHENGDU).exists()


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_takes_exceptions_on_accept_and_confirm(people, period, api):
    approve_all(period, but=(JINJIANG,))
    client = api
    url = f"/api/v1/periods/2022S1/regions/{CHENGDU}/accept/"
    for body, key in (
        ({"exceptions": [{"county": "999999", "reason": "无此县"}]}, "999999"),
        ({"exceptions": [{"county": JINJIANG, "reason": ""}]}, "exceptions.0.reason"),
        ({"exceptions": [{"county": JINJIANG, "reason": "a"}, {"county": JINJIANG, "reason": "b"}]}, "exceptions"),
        ({"exceptions": [{"county": JINNIU, "reason": "已审核"}, {"county": JINJIANG, "reason": "受灾"}]}, JINNIU),
    ):
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and any(k.startswith(key) for k in response.json()["errors"]), (body, response.json())
    assert response.json()["errors"][JINNIU] == ["金牛区已经市级审核通过，不能列为例外。"]
    response = client.post(url, {}, format="json")
    assert response.status_code == 400 and "锦江区" in response.json()["message"]
    response = client.post(url, {"exceptions": [{"county": JINJIANG, "reason": "受灾，数据待核实"}]}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    entry = AuditEntry.objects.get(action="accept")
    assert (entry.channel, entry.reason) == ("api", "例外：锦江区（受灾，数据待核实）")
    schema = client.get("/api/schema/?format=json").json()
    for name in ("accept", "confirm"):
        operation = schema["paths"][f"/api/v1/periods/{{code}}/regions/{{region_code}}/{name}/"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SignoffRequest")
    fields = schema["components"]["schemas"]["SignoffExceptionRequest"]["properties"]
    assert set(fields) == {"county", "reason"} and "例外原因" in fields["reason"]["description"]


# --- the compiled 附件2 ----------------------------------------------------------------------------


def test_the_compiled_table_marks_the_exceptions(people, period, settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    confirmed_with_exceptions(people, period)
    sichuan = region(SICHUAN)
    with CaptureQueriesContext(connection) as queries:
        table = attachment2_compile(province=sichuan, period=period)
    notes = [SignoffNote("成都市", "锦江区", JINJIANG, "受灾，数据待核实"), SignoffNote("绵阳市", "涪城区", FUCHENG, "绵阳市审核人员空缺")]
    assert table.exceptions == notes
    rows = {r.region_code: r for r in table.rows if r.kind == "county"}
    assert (rows[JINJIANG].county, rows[JINJIANG].exception) == ("锦江区", "受灾，数据待核实")
    assert (rows[FUCHENG].county, rows[FUCHENG].exception) == ("涪城区", "绵阳市审核人员空缺")
    assert sum(bool(r.exception) for r in rows.values()) == 2
    # One query for the exceptions, whatever their number.
    SignoffException.objects.filter(county__code=JINJIANG).delete()
    with CaptureQueriesContext(connection) as fewer:
        assert len(attachment2_compile(province=sichuan, period=period).exceptions) == 1
    assert len(queries) == len(fewer)
    SignoffException.objects.create(
        submission=Submission.objects.get(region__code=CHENGDU),
        county=region(JINJIANG),
        reason="受灾，数据待核实",
        named_by=people["province"],
    )

    # The workbook, cell by cell: the marked county rows, the note line, the foot below it.
    sheet = load_workbook(BytesIO(excel.attachment2_workbook(table)))[layout.ATTACHMENT2_SHEET]
    by_name = {}
    for row in range(layout.FIRST_DATA_ROW, sheet.max_row + 1):
        by_name.setdefault(sheet.cell(row, layout.COL_COUNTY).value, row)
    for code, name in ((JINJIANG, "锦江区（例外）"), (FUCHENG, "涪城区（例外）")):
        row, written = by_name[name], rows[code]
        values = [sheet.cell(row, column).value for column in range(1, layout.FIRST_INDICATOR_COL + len(table.columns) + 3)]
        assert values[: layout.COL_COUNTY] == [written.serial, None, None, name]
        assert values[layout.COL_COUNTY :] == [
            None if c == "" else c for c in [*written.cells, written.done, written.not_done, written.percent]
        ]
    assert by_name.get("青羊区") and "青羊区（例外）" not in by_name
    last = layout.FIRST_DATA_ROW + len(table.rows) - 1
    assert sheet.cell(last, layout.COL_COUNTY).value == "完成百分比"
    note = layout.foot_row(last)
    assert sheet.cell(note, 1).value == "签收例外：成都市锦江区——受灾，数据待核实；绵阳市涪城区——绵阳市审核人员空缺"
    width = layout.summary_columns(len(table.columns))[-1]  # the note spans the table
    assert f"A{note}:{get_column_letter(width)}{note}" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.cell(note + 1, 1).value == layout.FOOT_TEXT
    # A form downloaded and sent back reads the marked names as their counties.
    upload = SimpleUploadedFile("附件2.xlsx", excel.attachment2_workbook(table))
    preview = read_attachment2(upload, province=sichuan, period=period, today=TODAY)
    assert {JINJIANG, FUCHENG} <= {entry.region.code for entry in preview.counties}

    # The compiled snapshot on screen.
    snapshot = report_compile(user=people["province"], province=sichuan, period=period)[0]
    assert snapshot.data["exceptions"][0] == {"city": "成都市", "county": "锦江区", "county_code": JINJIANG, "reason": "受灾，数据待核实"}
    client.force_login(people["province"])
    page = client.get(f"/reporting/snapshots/{snapshot.pk}/").content.decode()
    assert 'title="例外原因：受灾，数据待核实">锦江区（例外）</th>' in page
    assert "签收例外：成都市锦江区——受灾，数据待核实；绵阳市涪城区——绵阳市审核人员空缺" in page


def test_the_demo_has_a_city_accepted_with_an_exception():
    from django.core.management import call_command

    call_command("seed_demo")
    exception = SignoffException.objects.select_related("submission__region", "county").get()
    assert (exception.submission.region.code, exception.submission.state, exception.county.code) == ("510400", "accepted", "510422")
    assert AuditEntry.objects.get(action="accept", region__code="510400").reason == f"例外：盐边县（{exception.reason}）"
