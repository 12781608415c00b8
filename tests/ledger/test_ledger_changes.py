"""The change feed's events from the ledger services (issue 16 §1): each write records its events in
its own transaction — the item or assignment as the API shows it, at a path that answers 200 to a
user in scope — a refused write records none, and the overdue job records its events in a fixed
number of statements whatever the number of assignments."""

from datetime import date

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Region
from ledger import services
from ledger.models import Assignment
from tests.helpers import events, last_seq, read
from utilities.errors import StaleVersion

pytestmark = pytest.mark.django_db

ITEM, ASSIGNMENT = "ledger_item.changed", "assignment.changed"
# The assignment fields an event carries under the API's own names.
MIRRORED = (
    "id",
    "region",
    "status",
    "parent",
    "responsible_unit",
    "lead",
    "contact",
    "phone",
    "progress",
    "progress_on",
    "returned_reason",
)


def assert_mirrors(event, shown):
    """The event's data is the assignment the API shows: a mirror that keeps it holds the same."""
    assert {key: event.data[key] for key in MIRRORED} == {key: shown[key] for key in MIRRORED}
    assert (event.data["ledger"], event.data["item"], event.data["deadline"]) == (shown["ledger"], shown["item"], shown["milestone"])
    assert event.version == str(shown["version"])


# --- items ----------------------------------------------------------------------------------------


def test_adapting_a_ledger_records_each_item_created(people, ledger):
    created = events(ITEM)
    assert len(created) == ledger.items.count() == 57
    assert {(e.data["action"], e.region.code, e.channel, e.user) for e in created} == {("create", "510000", "web", people["province"])}
    [third] = [e for e in created if e.data["number"] == 3]
    assert third.object_url == "/api/v1/ledgers/510000-2022/items/3/"
    shown = read(people["province"], third)
    assert (third.data["ledger"], third.data["title"], third.data["deadline"]) == (shown["ledger"], shown["task"], shown["due_date"])
    assert (third.data["deadline"], third.data["ongoing"]) == ("2020-12-31", False)
    assert (
        third.data["indicators"]
        == [[i["indicator_set"], i["number"]] for i in shown["indicators"]]
        == [
            ["national-2021", 3],
            ["national-2021", 4],
            ["national-2021", 5],
        ]
    )


def test_an_item_edited_renumbered_added_and_deleted(people, ledger, item3):
    province, start = people["province"], last_seq()
    services.ledger_item_save(
        user=province, ledger=ledger, item=item3, number=58, task="改过的任务", due_text="2022年5月中旬前", indicators=[]
    )
    added = services.ledger_item_save(user=province, ledger=ledger, number=3, task="新增：配网改造", due_text="持续推进")
    services.ledger_item_delete(user=province, item=added)
    renumbered, new, deleted = events(ITEM, after=start)
    assert renumbered.object_url == "/api/v1/ledgers/510000-2022/items/58/"
    assert {k: renumbered.data[k] for k in ("action", "number", "previous_number", "title", "deadline", "indicators")} == {
        "action": "update",
        "number": 58,
        "previous_number": 3,
        "title": "改过的任务",
        "deadline": "2022-05-20",
        "indicators": [],
    }
    assert read(province, renumbered)["task"] == "改过的任务"
    assert (new.data["action"], new.data["previous_number"], new.data["deadline"], new.data["ongoing"]) == ("create", None, None, True)
    assert (deleted.data["action"], deleted.data["number"], deleted.object_url) == ("delete", 3, "/api/v1/ledgers/510000-2022/items/3/")


def test_an_item_written_through_the_api_is_an_api_event(people, ledger):
    cache.clear()
    client = APIClient()
    client.force_login(people["province"])
    body = {"task": "低压小微企业办电时间压减至 15 个工作日以内", "due_text": "2024年6月底前"}
    start = last_seq()
    assert client.put("/api/v1/ledgers/510000-2022/items/1/", body, format="json").status_code == 200
    [event] = events(ITEM, after=start)
    assert (event.channel, event.data["action"], event.data["title"], event.data["deadline"]) == (
        "api",
        "update",
        body["task"],
        "2024-06-30",
    )


def test_refused_item_writes_record_nothing(people, ledger, item3, chain):
    start = last_seq()
    with pytest.raises(PermissionDenied):
        services.ledger_item_save(user=people["county"], ledger=ledger, item=item3, number=3, task="x", due_text="2022年底前")
    with pytest.raises(ValidationError):  # an unreadable due text
        services.ledger_item_save(user=people["province"], ledger=ledger, item=item3, number=3, task="x", due_text="尽快")
    services.progress_report(user=people["county"], assignment=chain[1], status="in_progress", note="已启动")
    start = last_seq()
    with pytest.raises(ValidationError, match="已有进展"):
        services.ledger_item_delete(user=people["province"], item=item3)
    with pytest.raises(PermissionDenied):
        services.ledger_adapt(user=people["county"], region=Region.objects.get(code="510104"), year=2022, source=ledger)
    assert last_seq() == start


# --- assignments ----------------------------------------------------------------------------------


def test_each_assignment_write_records_the_assignment_as_the_api_shows_it(people, chain):
    city_part, county_part = chain
    assign_city, assign_county = events(ASSIGNMENT)
    assert (assign_city.region.code, assign_city.user, assign_city.data["action"]) == ("510100", people["province"], "assign")
    assert (assign_county.region.code, assign_county.user, assign_county.version) == ("510104", people["city"], "0")
    assert assign_county.object_url == f"/api/v1/assignments/{county_part.pk}/"
    assert assign_county.data["note"] == "分解至锦江区（锦江区发改局）" and assign_county.data["deadline"] == "2022-09-30"
    assert_mirrors(assign_county, read(people["county"], assign_county))

    start = last_seq()
    services.progress_report(user=people["county"], assignment=county_part, status="done", note="已完成验收", progress_on=date(2022, 6, 1))
    services.progress_review(user=people["city"], assignment=county_part, note="缺验收材料", send_back=True)
    services.progress_review(user=people["city"], assignment=county_part, note="已阅")
    services.press(user=people["province"], assignment=county_part, note="请于本周内补齐", channel="api")
    reported, returned, approved, pressed = events(ASSIGNMENT, after=start)
    assert [(e.data["action"], e.data["status"], e.version, e.data["note"], e.user) for e in (reported, returned, approved, pressed)] == [
        ("progress", "done", "1", "已完成验收", people["county"]),
        ("return", "in_progress", "2", "缺验收材料", people["city"]),
        ("approve", "in_progress", "2", "已阅", people["city"]),
        ("press", "in_progress", "2", "请于本周内补齐", people["province"]),
    ]
    assert (reported.data["progress"], reported.data["progress_on"]) == ("已完成验收", "2022-06-01")
    assert (returned.data["returned_reason"], pressed.channel) == ("缺验收材料", "api")
    assert {e.region.code for e in (reported, returned, approved, pressed)} == {"510104"}
    assert_mirrors(pressed, read(people["city"], pressed))  # a region above reads it too


def test_refused_assignment_writes_record_nothing(people, chain, item3):
    _city_part, county_part = chain
    start = last_seq()
    with pytest.raises(PermissionDenied):  # a county does not assign
        services.assignment_create(user=people["neighbour"], item=item3, region=Region.objects.get(code="510105"), responsible_unit="x")
    with pytest.raises(ValidationError):
        services.progress_report(user=people["county"], assignment=county_part, status="overdue", note="")
    with pytest.raises(StaleVersion):
        services.progress_report(user=people["county"], assignment=county_part, status="done", note="完成", expected_version=7)
    with pytest.raises(ValidationError, match="已完成"):  # only a task reported done is sent back
        services.progress_review(user=people["city"], assignment=county_part, note="退回", send_back=True)
    with pytest.raises(PermissionDenied):
        services.press(user=people["neighbour"], assignment=county_part, note="催")
    assert last_seq() == start


def _late(ledger, province, codes):
    """Past-milestone assignments of item 5 to counties without users (so no one is notified)."""
    item = ledger.items.get(number=5)
    for code in codes:
        services.assignment_create(
            user=province, item=item, region=Region.objects.get(code=code), responsible_unit="发改局", milestone=date(2022, 3, 31)
        )


def test_the_overdue_job_records_each_assignment_in_a_fixed_number_of_queries(people, ledger):
    deyang = list(Region.objects.filter(parent__code="510600").order_by("code").values_list("code", flat=True))
    assert len(deyang) >= 6
    today = date(2022, 7, 1)
    counts = []
    for codes in (deyang[:1], deyang[1:6]):
        _late(ledger, people["province"], codes)
        start = last_seq()
        with CaptureQueriesContext(connection) as queries:
            assert services.assignments_mark_overdue(today=today) == (len(codes), 0)
        counts.append(len(queries))
        marked = events(ASSIGNMENT, after=start)
        assert sorted(e.region.code for e in marked) == codes
        assert {(e.data["action"], e.data["status"], e.channel, e.user, e.version) for e in marked} == {
            ("overdue", "overdue", "system", None, "0")
        }
        assert {e.data["note"] for e in marked} == {"节点时间 2022-03-31 已过"}
    assert counts[0] == counts[1]
    shown = read(people["province"], marked[0])
    assert shown["status"] == "overdue" and shown["id"] == marked[0].data["id"]
    assert services.assignments_mark_overdue(today=today) == (0, 0) and last_seq() == marked[-1].seq
    assert Assignment.objects.filter(status="overdue").count() == 6
