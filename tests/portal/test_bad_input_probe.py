"""The bad input found by the probe of issue 12: each is refused with a clear answer — the page's
Chinese message or the API's error shape — never a 500, never silently ignored, and nothing stored
changes. And what is private is never kept by a cache (Cache-Control: private, no-store)."""

from datetime import date

import pytest
from django.test import Client

from accounts.models import Region
from indicators import services
from indicators.models import AuditEntry, Checkmark, Evidence, Submission
from indicators.services import CheckmarkValue
from ledger.models import Assignment, Ledger, ProgressUpdate
from reporting.models import Benefit
from tests.helpers import CHECKMARKS, COUNTY_NUMBERS, JINJIANG, SICHUAN, V1, assert_error, pdf, table_digest

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"
NOT_FOUND_PAGE = "找不到页面"
INVALID_BOOLEAN = "不是有效的取值：应为 true 或 false（也可写 1 或 0）。"


def stored():
    """Everything the requests below could change."""

    return {
        "checkmarks": table_digest(Checkmark.objects, "pk", "status", "done_month", "expected_month", "note"),
        "audit": AuditEntry.objects.count(),
        "submissions": table_digest(Submission.objects, "pk", "state", "version"),
        "evidence": Evidence.objects.count(),
        "benefits": table_digest(Benefit.objects, "pk", "households", "investment", "sales", "capacity"),
        "assignments": table_digest(Assignment.objects, "pk", "status", "version"),
        "progress": ProgressUpdate.objects.count(),
    }


@pytest.fixture
def clerk(make_user):
    return make_user("k", "county", "510104", last_name="锦江填报员")


@pytest.fixture
def filled(clerk, period):
    """锦江区 with indicator 3 done: one check-mark, a history, version 1."""
    services.checkmarks_set(
        user=clerk, region=Region.objects.get(code=JINJIANG), period=period, values={3: CheckmarkValue("done", done_month=date(2022, 3, 1))}
    )
    return period


# --- GET /periods/<P>/history/<region>/?indicator= ---------------------------------------------------


@pytest.mark.parametrize("number", ["abc", "99", "0", "-1", "3.0", "٣", "9" * 30, "3abc"])
def test_history_of_an_unknown_indicator_is_not_found(client, clerk, filled, number):
    client.force_login(clerk)
    before = stored()
    response = client.get(f"/periods/2022S1/history/{JINJIANG}/", {"indicator": number})
    assert response.status_code == 404 and NOT_FOUND_PAGE in response.content.decode()
    assert stored() == before


def test_history_of_a_known_indicator_still_shows(client, clerk, filled):
    client.force_login(clerk)
    response = client.get(f"/periods/2022S1/history/{JINJIANG}/", {"indicator": " 3 "})
    assert response.status_code == 200 and "√ 2022年3月" in response.content.decode()


# --- POST /reporting/benefits/ -----------------------------------------------------------------------

BENEFITS = "/reporting/benefits/?year=2022&half=1"


@pytest.fixture
def supply(client, make_user):
    client.force_login(make_user("s", "supply_company", "640100"))
    return client


@pytest.mark.parametrize(
    "field, label",
    [
        ("residential-investment", "居民用户的节省投资（万元）"),
        ("other-households", "其他用户的受益户数（户）"),
        ("sansheng-capacity", "“三省”服务效益的增加容量（万千瓦安）"),
    ],
)
@pytest.mark.parametrize(
    "value, reason",
    [
        ("NaN", "不是数字"),
        ("nan", "不是数字"),
        ("sNaN", "不是数字"),
        ("Infinity", "不是数字"),
        ("-Infinity", "不是数字"),
        ("inf", "不是数字"),
        ("1e400", "不能超过"),
        ("1E+13", "不能超过"),
    ],
)
def test_a_figure_that_is_not_a_finite_number_is_told_at_its_field(supply, field, label, value, reason):
    before = stored()
    response = supply.post(BENEFITS, {field: value, "small_business-sales": "8.25"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "有填写错误，未保存任何内容。" in page
    assert f"{label}“{value}”不是数字。" in page if reason == "不是数字" else f"{label}不能超过" in page
    assert 'value="8.25"' in page  # what was typed is kept
    assert stored() == before


def test_the_largest_figures_the_columns_hold_are_saved(supply):
    response = supply.post(
        BENEFITS, {"residential-households": "2147483647", "residential-investment": "999999999999.99", "other-sales": "1e2"}
    )
    assert response.status_code == 302
    residential = Benefit.objects.get(category="residential")
    assert (residential.households, str(residential.investment)) == (2147483647, "999999999999.99")
    assert str(Benefit.objects.get(category="other").sales) == "100.00"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_the_api_refuses_the_same_figures(period, client_for, value):
    before = stored()
    supply = client_for(SICHUAN, role="supply_company")
    body = assert_error(
        supply.put(f"{V1}/benefits/{SICHUAN}/2022/1/", {"residential": {"investment": value}}, format="json"), 400, "validation_error"
    )
    assert set(body["errors"]) == {"residential.investment"}
    assert stored() == before


# --- boolean filters and page_size -------------------------------------------------------------------

BOOLEAN_FILTERS = [
    ("periods/2022S1/regions/", "locked"),
    ("ledgers/", "is_reference"),
    ("ledgers/", "national"),
    ("assignments/", "overdue"),
    ("report-snapshots/", "confirmed"),
    ("report-snapshots/", "national"),
    ("report-jobs/", "national"),
]


@pytest.mark.parametrize("path, name", BOOLEAN_FILTERS)
@pytest.mark.parametrize("value", ["maybe", "yes", "2", "tru", "-1", "null"])
def test_a_boolean_filter_refuses_what_it_does_not_understand(period, chain, client_for, path, name, value):
    before = stored()
    body = assert_error(client_for(SICHUAN, access="read").get(f"{V1}/{path}", {name: value}), 400, "validation_error")
    assert body["errors"] == {name: [f"“{value}”{INVALID_BOOLEAN}"]}
    assert stored() == before


@pytest.mark.parametrize("path, name", BOOLEAN_FILTERS)
def test_a_boolean_filter_takes_true_false_one_zero_and_empty_is_no_filter(period, chain, client_for, path, name):
    client = client_for(SICHUAN, access="read")

    def listed(**params):
        response = client.get(f"{V1}/{path}", {"page_size": 500, **params})
        assert response.status_code == 200, response.content
        body = response.json()
        return body["count"], [row.get("id") or row.get("code") or row["region"] for row in body["results"]]

    yes, no, everything = listed(**{name: "true"}), listed(**{name: "false"}), listed()
    assert listed(**{name: "1"}) == listed(**{name: "TRUE"}) == yes
    assert listed(**{name: "0"}) == listed(**{name: "False"}) == no
    assert listed(**{name: ""}) == everything
    assert yes[0] + no[0] == everything[0]


def test_the_boolean_filters_still_filter(period, chain, client_for):
    client = client_for(SICHUAN, access="read")
    codes = lambda params: {row["code"] for row in client.get(f"{V1}/ledgers/", params).json()["results"]}  # noqa: E731
    assert codes({"national": "1"}) == {"national-2021"}
    assert codes({"is_reference": "0"}) == set(Ledger.objects.filter(is_reference=False).values_list("code", flat=True))


@pytest.mark.parametrize("size", ["abc", "0", "-1", "501", "1.5", "1e2", "٣", "9" * 40])
def test_a_page_size_out_of_range_is_400(period, client_for, size):
    before = stored()
    body = assert_error(client_for(SICHUAN, access="read").get(f"{V1}/regions/", {"page_size": size}), 400, "validation_error")
    assert body["errors"] == {"page_size": [f"每页条数“{size}”无效：应为 1 至 500 之间的整数。"]}
    assert stored() == before


@pytest.mark.parametrize("size, expected", [("", 50), ("1", 1), ("500", 500)])
def test_a_page_size_in_range_is_used(period, client_for, size, expected):
    body = client_for(SICHUAN, access="read").get(f"{V1}/regions/", {"page_size": size}).json()
    assert len(body["results"]) == min(expected, body["count"])


# --- If-Match ---------------------------------------------------------------------------------------


def put(client, if_match):
    body = {"checkmarks": [{"number": n, "status": "done", "done_month": "2022-03"} for n in COUNTY_NUMBERS]}
    return client.put(CHECKMARKS.format(JINJIANG), body, format="json", HTTP_IF_MATCH=if_match)


@pytest.mark.parametrize(
    "if_match, says",
    [
        ('W/"1"', '弱标签 W/"1" 不能用于写入'),
        ('W/"1", W/"0"', "弱标签"),
        ('"0", "2"', "不是最新内容"),  # a list with none current: the service says who changed it
        ('"0"', "不是最新内容"),
        ("1", "与当前版本不符"),  # not a quoted tag
        ('"1" "2"', "与当前版本不符"),  # not a comma-separated list
        ('*, "1"', "与当前版本不符"),  # “*” stands alone
        ('"abc"', "与当前版本不符"),  # a valid tag that is no version of ours
    ],
)
def test_if_match_that_does_not_match_strongly_is_412(filled, client_for, if_match, says):
    before = stored()
    body = assert_error(put(client_for(JINJIANG), if_match), 412, "precondition_failed")
    assert says in body["message"]
    assert stored() == before


@pytest.mark.parametrize("if_match", ['"1"', '"0", "1"', '"7", "1", "9"', 'W/"1", "1"', '"1",', ' "1" ', "*"])
def test_if_match_matches_a_strong_tag_in_the_list_or_star(filled, client_for, if_match):
    response = put(client_for(JINJIANG), if_match)
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"' and Checkmark.objects.filter(region__code=JINJIANG, status="done").count() == 31


def test_if_match_on_a_ledger_progress_report(chain, client_for):
    _city_part, county_part = chain
    client = client_for(JINJIANG)
    url = f"{V1}/assignments/{county_part.pk}/progress/"
    report = {"status": "in_progress", "note": "正在推进", "progress_on": str(date.today())}
    before = stored()
    assert "弱标签" in assert_error(client.post(url, report, format="json", HTTP_IF_MATCH='W/"0"'), 412, "precondition_failed")["message"]
    assert (
        "刚被他人更新"
        in assert_error(client.post(url, report, format="json", HTTP_IF_MATCH='"3", "4"'), 412, "precondition_failed")["message"]
    )
    assert stored() == before
    response = client.post(url, report, format="json", HTTP_IF_MATCH='"3", "0"')
    assert response.status_code == 201 and response["ETag"] == '"1"'


# --- Cache-Control -----------------------------------------------------------------------------------


def test_authenticated_pages_are_private(client, clerk, filled):
    client.force_login(clerk)
    for url in ("/", "/periods/2022S1/sheet/510104/", f"/periods/2022S1/history/{JINJIANG}/", "/periods/2022S1/sheet/510199/"):
        response = client.get(url)
        assert response["Cache-Control"] == PRIVATE, (url, response.status_code)


def test_api_answers_are_private_errors_included(filled, client_for):
    client = client_for(JINJIANG)
    assert client.get(CHECKMARKS.format(JINJIANG))["Cache-Control"] == PRIVATE
    assert client.get(f"{V1}/regions/", {"page_size": "abc"})["Cache-Control"] == PRIVATE
    anonymous = Client().get(CHECKMARKS.format(JINJIANG))
    assert anonymous.status_code == 401 and anonymous["Cache-Control"] == PRIVATE


def test_evidence_downloads_are_private(client, clerk, period, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = services.evidence_add(user=clerk, region=Region.objects.get(code=JINJIANG), period=period, number=8, upload=pdf())
    client.force_login(clerk)
    response = client.get(f"/evidence/{evidence.pk}/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == PRIVATE


def test_a_page_that_forbids_storing_itself_keeps_its_header_and_signed_out_pages_are_left_alone(client, clerk):
    login_page = client.get("/login/")  # Django's LoginView is never_cache: no-store already, and more
    assert login_page.status_code == 200 and "no-store" in login_page["Cache-Control"] and "max-age=0" in login_page["Cache-Control"]
    client.force_login(clerk)
    assert "max-age=0" in client.get("/login/")["Cache-Control"]  # not replaced by ours
    signed_out = Client().get("/")
    assert signed_out.status_code == 302 and "Cache-Control" not in signed_out
