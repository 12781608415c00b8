"""The ledger endpoints: ledgers, items, assignments (分解), progress, review and 督办.

Reads are scoped like the rest of the API (out of scope is 404); writes go through ledger.services
with channel “api” (reference ledgers are read-only: 403); a stale If-Match is 412."""

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Region
from ledger import services
from ledger.models import Assignment, Ledger, LedgerItem, Pressing, ProgressUpdate
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def people(make_user):
    return {
        "province": make_user("sc", "province", "510000", last_name="省能源局"),
        "city": make_user("cd", "city", "510100"),
        "county": make_user("jj", "county", "510104"),
        "chongqing": make_user("cq", "province", "500000"),
        "national": make_user("nea", "national"),
    }


@pytest.fixture
def api(people):
    cache.clear()  # throttle counts from earlier tests

    def client(who):
        c = APIClient()
        c.force_login(people[who])
        return c

    return client


@pytest.fixture
def own(people):
    """四川's own 2024 ledger, adapted from the national one."""
    return services.ledger_adapt(
        user=people["province"],
        region=Region.objects.get(code="510000"),
        year=2024,
        source=Ledger.objects.get(code="national-2021"),
    )


@pytest.fixture
def parts(people, own):
    """Item 3 given to 成都市 (by the province), broken down to 锦江区 (by 成都)."""
    item = own.items.get(number=3)
    chengdu = services.assignment_create(
        user=people["province"],
        item=item,
        region=Region.objects.get(code="510100"),
        responsible_unit="成都市发改委",
        lead=True,
        milestone=date(2024, 12, 31),
    )
    jinjiang = services.assignment_create(
        user=people["city"],
        item=item,
        region=Region.objects.get(code="510104"),
        responsible_unit="锦江区发改局",
        parent=chengdu,
        milestone=date(2024, 9, 30),
    )
    return {"chengdu": chengdu, "jinjiang": jinjiang}


def codes(response):
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


# --- ledgers and items ----------------------------------------------------------------------------


def test_a_county_lists_the_national_ledger_its_provinces_and_not_another_provinces(api, own):
    listed = codes(api("county").get(f"{V1}/ledgers/", {"page_size": 100}))
    assert {"national-2021", "sichuan-2022", own.code} <= listed
    assert not listed & {"chongqing-2021", "cqpower-2021", "guiyang-2021"}
    assert "chongqing-2021" in codes(api("national").get(f"{V1}/ledgers/", {"page_size": 100}))


def test_ledgers_filter_by_region_year_and_reference(api, own):
    client = api("province")
    assert codes(client.get(f"{V1}/ledgers/", {"region": "510000"})) == {"sichuan-2022", own.code}
    assert codes(client.get(f"{V1}/ledgers/", {"year": 2024})) == {own.code}
    assert codes(client.get(f"{V1}/ledgers/", {"is_reference": "false"})) == {own.code}
    assert own.code not in codes(client.get(f"{V1}/ledgers/", {"is_reference": "true"}))
    assert codes(client.get(f"{V1}/ledgers/", {"national": "true"})) == {"national-2021"}


def test_a_ledger_and_its_items_with_indicators_and_extra_columns(api, own):
    body = api("county").get(f"{V1}/ledgers/{own.code}/").json()
    assert body["region"] == "510000" and body["source"] == "national-2021" and body["is_reference"] is False
    assert body["item_count"] == own.items.count()

    linked = LedgerItem.objects.filter(ledger=own, indicators__isnull=False).order_by("number").first()
    response = api("county").get(f"{V1}/ledgers/{own.code}/items/", {"page_size": 500})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["number"] for r in rows] == sorted(own.items.values_list("number", flat=True))
    item = api("county").get(f"{V1}/ledgers/{own.code}/items/{linked.number}/").json()
    assert {(i["indicator_set"], i["number"]) for i in item["indicators"]} == {
        (i.indicator_set.code, i.number) for i in linked.indicators.all()
    }
    assert item["source_item"] == linked.number and item["task"] == linked.task

    sichuan = Ledger.objects.get(code="sichuan-2022")
    first = sichuan.items.order_by("number").first()
    item = api("county").get(f"{V1}/ledgers/sichuan-2022/items/{first.number}/").json()
    assert sichuan.extra_columns and set(item["extra"]) <= set(sichuan.extra_columns)
    assert item["extra"] == first.extra


def test_another_provinces_ledger_is_not_found(api):
    assert_error(api("province").get(f"{V1}/ledgers/chongqing-2021/"), 404, "not_found")
    assert_error(api("province").get(f"{V1}/ledgers/chongqing-2021/items/"), 404, "not_found")
    assert_error(api("province").get(f"{V1}/ledgers/chongqing-2021/items/1/"), 404, "not_found")
    assert_error(
        api("province").put(f"{V1}/ledgers/chongqing-2021/items/1/", {"task": "x", "due_text": "持续推进"}, format="json"), 404, "not_found"
    )


ITEM_BODY = {
    "category": "压减办电时间",
    "task": "低压小微企业办电时间压减至 15 个工作日以内",
    "responsible_units": "省能源局",
    "due_text": "2024年6月底前",
    "indicators": [{"indicator_set": "national-2021", "number": 1}],
}


def test_the_province_changes_an_item_of_its_own_ledger(api, own):
    response = api("province").put(f"{V1}/ledgers/{own.code}/items/2/", ITEM_BODY, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["due_date"] == "2024-06-30" and body["ongoing"] is False
    assert [(i["indicator_set"], i["number"]) for i in body["indicators"]] == [("national-2021", 1)]
    item = own.items.get(number=2)
    assert item.task == ITEM_BODY["task"] and item.due_date == date(2024, 6, 30)
    assert list(item.indicators.values_list("number", flat=True)) == [1]


def test_a_reference_ledger_is_read_only(api):
    body = assert_error(api("province").put(f"{V1}/ledgers/sichuan-2022/items/1/", ITEM_BODY, format="json"), 403, "permission_denied")
    assert "文件原文" in body["message"]
    body = assert_error(api("province").put(f"{V1}/ledgers/national-2021/items/1/", ITEM_BODY, format="json"), 403, "permission_denied")
    assert "文件原文" in body["message"]


def test_only_the_ledgers_officials_change_items(api, own):
    for who in ("city", "county"):
        assert_error(api(who).put(f"{V1}/ledgers/{own.code}/items/2/", ITEM_BODY, format="json"), 403, "permission_denied")
    assert own.items.get(number=2).task != ITEM_BODY["task"]


def test_bad_item_data_is_refused_field_by_field(api, own):
    body = assert_error(
        api("province").put(f"{V1}/ledgers/{own.code}/items/2/", {**ITEM_BODY, "due_text": "尽快"}, format="json"), 400, "validation_error"
    )
    assert "due_text" in body["errors"]
    body = assert_error(
        api("province").put(
            f"{V1}/ledgers/{own.code}/items/2/",
            {**ITEM_BODY, "indicators": [{"indicator_set": "chongqing-2021", "number": 40}]},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "indicators" in body["errors"]
    body = assert_error(
        api("province").put(f"{V1}/ledgers/{own.code}/items/2/", {**ITEM_BODY, "number": 3}, format="json"), 400, "validation_error"
    )
    assert own.items.get(number=2).task != ITEM_BODY["task"]


# --- assignments ----------------------------------------------------------------------------------


def test_the_province_assigns_and_the_city_breaks_down_through_the_api(api, own):
    response = api("province").post(
        f"{V1}/ledgers/{own.code}/items/5/assignments/",
        {"region": "510100", "responsible_unit": "成都市发改委", "lead": True, "milestone": "2024-10-31"},
        format="json",
    )
    assert response.status_code == 201, response.content
    chengdu = response.json()
    assert chengdu["region"] == "510100" and chengdu["item"] == 5 and chengdu["ledger"] == own.code and chengdu["version"] == 0
    assert response["ETag"] == '"0"'
    response = api("city").post(
        f"{V1}/ledgers/{own.code}/items/5/assignments/",
        {"region": "510104", "responsible_unit": "锦江区发改局", "parent": chengdu["id"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["parent"] == chengdu["id"]
    updates = ProgressUpdate.objects.filter(assignment__item__ledger=own, assignment__item__number=5)
    assert set(updates.values_list("kind", "channel")) == {("assign", "api")}
    assert updates.count() == 2


def test_assigning_is_refused_on_reference_ledgers_and_out_of_scope(api, own, people):
    assert_error(
        api("province").post(
            f"{V1}/ledgers/sichuan-2022/items/1/assignments/",
            {"region": "510100", "responsible_unit": "成都市发改委"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    assert_error(
        api("city").post(
            f"{V1}/ledgers/{own.code}/items/5/assignments/",
            {"region": "510104", "responsible_unit": "锦江区发改局"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    body = assert_error(
        api("province").post(
            f"{V1}/ledgers/{own.code}/items/5/assignments/",
            {"region": "500103", "responsible_unit": "渝中区"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "region" in body["errors"]
    assert not Assignment.objects.filter(item__ledger=own, item__number=5).exists()


def test_assignments_are_scoped_and_filtered(api, parts, own):
    ids = lambda r: {row["id"] for row in r.json()["results"]}  # noqa: E731
    jinjiang, chengdu = parts["jinjiang"].pk, parts["chengdu"].pk
    assert ids(api("county").get(f"{V1}/assignments/")) == {jinjiang}
    assert ids(api("city").get(f"{V1}/assignments/")) == {jinjiang, chengdu}
    assert ids(api("chongqing").get(f"{V1}/assignments/")) == set()
    province = api("province")
    assert ids(province.get(f"{V1}/assignments/", {"ledger": own.code})) == {jinjiang, chengdu}
    assert ids(province.get(f"{V1}/assignments/", {"ledger": "sichuan-2022"})) == set()
    assert ids(province.get(f"{V1}/assignments/", {"region": "510104"})) == {jinjiang}
    assert ids(province.get(f"{V1}/assignments/", {"milestone_before": "2024-09-30"})) == {jinjiang}
    assert ids(province.get(f"{V1}/assignments/", {"milestone_before": "2024-09-29"})) == set()
    Assignment.objects.filter(pk=chengdu).update(status="in_progress", milestone=date.today() - timedelta(days=1))
    Assignment.objects.filter(pk=jinjiang).update(status="done")  # its milestone passed, but it is done
    assert ids(province.get(f"{V1}/assignments/", {"overdue": "true"})) == {chengdu}
    assert ids(province.get(f"{V1}/assignments/", {"overdue": "false"})) == {jinjiang}
    assert ids(province.get(f"{V1}/assignments/", {"status": "in_progress"})) == {chengdu}
    first = province.get(f"{V1}/assignments/").json()["results"][0]
    assert first["id"] == chengdu and first["overdue"] is True  # late first


def test_an_assignment_out_of_scope_is_not_found(api, parts):
    chengdu = parts["chengdu"].pk
    for path in ("", "progress/"):
        assert_error(api("county").get(f"{V1}/assignments/{chengdu}/{path}"), 404, "not_found")
        assert_error(api("chongqing").get(f"{V1}/assignments/{chengdu}/{path}"), 404, "not_found")
    assert_error(api("chongqing").post(f"{V1}/assignments/{chengdu}/press/", {"note": "x"}, format="json"), 404, "not_found")


# --- progress, review, 督办 ------------------------------------------------------------------------

REPORT = {"status": "done", "note": "已完成配套线路建设", "progress_on": "2024-05-20"}


def test_a_county_reports_progress_with_the_etag_and_it_is_recorded_as_api(api, parts):
    county, pk = api("county"), parts["jinjiang"].pk
    response = county.get(f"{V1}/assignments/{pk}/")
    assert response.status_code == 200 and response["ETag"] == '"0"' and response.json()["version"] == 0
    response = county.post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json", HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 201, response.content
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["kind"] == "report" and body["channel"] == "api" and body["status_after"] == "done"
    assignment = Assignment.objects.get(pk=pk)
    assert (assignment.status, assignment.version, assignment.progress_on) == ("done", 1, date(2024, 5, 20))
    update = ProgressUpdate.objects.get(assignment=assignment, kind="report")
    assert update.channel == "api" and update.user.username == "jj"
    history = county.get(f"{V1}/assignments/{pk}/progress/").json()["results"]
    assert [h["kind"] for h in history] == ["report", "assign"]


def test_a_stale_etag_is_412_and_nothing_is_saved(api, parts):
    county, pk = api("county"), parts["jinjiang"].pk
    assert county.post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json", HTTP_IF_MATCH='"0"').status_code == 201
    body = assert_error(
        county.post(f"{V1}/assignments/{pk}/progress/", {**REPORT, "status": "in_progress"}, format="json", HTTP_IF_MATCH='"0"'),
        412,
        "precondition_failed",
    )
    assert "刚被他人更新" in body["message"]
    assert Assignment.objects.get(pk=pk).status == "done"
    assert ProgressUpdate.objects.filter(assignment_id=pk, kind="report").count() == 1
    assert_error(county.post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json"), 428, "precondition_required")


def test_bad_progress_and_the_wrong_reporter_are_refused(api, parts):
    pk = parts["jinjiang"].pk
    body = assert_error(
        api("county").post(f"{V1}/assignments/{pk}/progress/", {"status": "overdue", "note": ""}, format="json", HTTP_IF_MATCH="*"),
        400,
        "validation_error",
    )
    assert set(body["errors"]) == {"status", "note"}
    future = (date.today() + timedelta(days=3)).isoformat()
    body = assert_error(
        api("county").post(f"{V1}/assignments/{pk}/progress/", {**REPORT, "progress_on": future}, format="json", HTTP_IF_MATCH="*"),
        400,
        "validation_error",
    )
    assert "progress_on" in body["errors"]
    assert_error(
        api("province").post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json", HTTP_IF_MATCH="*"), 403, "permission_denied"
    )


def test_the_city_sends_back_a_done_assignment_and_presses(api, parts, people):
    pk = parts["jinjiang"].pk
    api("county").post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json", HTTP_IF_MATCH="*")
    assert_error(api("county").post(f"{V1}/assignments/{pk}/review/", {"note": "好"}, format="json"), 403, "permission_denied")
    response = api("city").post(f"{V1}/assignments/{pk}/review/", {"note": "请补充验收材料", "send_back": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "return" and response.json()["channel"] == "api"
    assignment = Assignment.objects.get(pk=pk)
    assert (assignment.status, assignment.returned_reason, assignment.version) == ("in_progress", "请补充验收材料", 2)
    body = assert_error(
        api("city").post(f"{V1}/assignments/{pk}/review/", {"note": "再退", "send_back": True}, format="json"), 400, "validation_error"
    )
    assert "note" in body["errors"]

    response = api("city").post(f"{V1}/assignments/{pk}/press/", {"note": "请于本周内报送"}, format="json")
    assert response.status_code == 201, response.content
    pressing = Pressing.objects.get(assignment_id=pk)
    assert (pressing.note, pressing.channel) == ("请于本周内报送", "api")
    assert response.json()["channel"] == "api"
    assert_error(api("city").post(f"{V1}/assignments/{pk}/press/", {"note": " "}, format="json"), 400, "validation_error")


def test_a_read_token_reads_ledgers_but_may_not_report(client_for, parts, own):  # noqa: F811
    reader = client_for("510104", access="read")
    pk = parts["jinjiang"].pk
    assert reader.get(f"{V1}/ledgers/{own.code}/items/3/").status_code == 200
    assert reader.get(f"{V1}/assignments/{pk}/").status_code == 200
    assert_error(reader.post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json", HTTP_IF_MATCH="*"), 403, "permission_denied")
    writer = client_for("510104")
    response = writer.post(f"{V1}/assignments/{pk}/progress/", REPORT, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 201, response.content
    assert ProgressUpdate.objects.get(assignment_id=pk, kind="report").channel == "api"
