"""The change feed (issue 16 §1): every change the indicator services make is an event in the same
transaction; GET /api/v1/changes/ gives a client its scope's events in commit order with opaque,
signed cursors; a client that follows it from the start holds exactly what the database holds.

宁夏 640000 ⊃ 银川 640100 (6 counties: 兴庆 640104, 金凤 640106 …), 石嘴山 640200 (大武口 640202,
惠农 640205, 平罗 640221), and three more cities whose counties the confirmation names exceptions.
"""

import time
from collections import defaultdict
from datetime import date
from io import StringIO

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.api.changes import cursor_sign
from accounts.models import ChangeEvent, Region
from indicators import review, services
from indicators.demo import demo_progress_create
from indicators.models import Checkmark, Indicator, SignoffException, Submission
from indicators.services import CheckmarkValue
from ledger.demo import demo_ledgers_create
from ledger.models import Assignment, LedgerItem
from portal.changes import changes_backfill
from reporting.demo import demo_benefits_create
from reporting.imports import apply_attachment2, read_attachment2
from reporting.models import Benefit
from tests.accounts.conftest import DAWUKOU, HUINONG, JINFENG, NINGXIA, SHIZUISHAN, XINGQING, YINCHUAN
from tests.helpers import V1, XLSX, assert_error, pdf, to_bytes, workbook

pytestmark = pytest.mark.django_db

CHANGES = f"{V1}/changes/"
TODAY = date(2022, 7, 5)
DONE = CheckmarkValue("done", date(2022, 3, 1))
LATER = CheckmarkValue("not_done", expected_month=date(2022, 12, 1), note="配套电网改造进行中")
PROVINCE_NUMBERS = (21, 27, 29, 30, 33)


def region(code):
    return Region.objects.get(code=code)


def county_numbers(period):
    return Indicator.objects.filter(indicator_set=period.indicator_set, level="county").values_list("number", flat=True)


def fill(user, code, period, values=None):
    values = values or dict.fromkeys(county_numbers(period), DONE)
    return services.checkmarks_set(user=user, region=region(code), period=period, values=values, today=TODAY)


def submit(user, code, period):
    return services.county_submit(user=user, region=region(code), period=period, today=TODAY)


def a_full_period(nx, period):
    """银川's and 大武口's counties fill and submit; 银川 returns one and approves them all; the province
    accepts 银川, and 石嘴山 without two counties; 银川 then returns an approved county (its acceptance
    falls), approves it again and is accepted again; the province confirms naming the counties of the
    cities it did not accept, reopens, confirms again; a county named an exception still writes."""
    province, yinchuan, shizuishan = nx["province"], nx[YINCHUAN], nx[SHIZUISHAN]
    counties = list(Region.objects.filter(parent__code=YINCHUAN).order_by("code").values_list("code", flat=True))
    for code in [*counties, DAWUKOU]:
        fill(nx[code], code, period)
    fill(nx[XINGQING], XINGQING, period, {5: LATER})
    services.evidence_add(user=nx[XINGQING], region=region(XINGQING), period=period, number=1, upload=pdf())
    for code in [*counties, DAWUKOU]:
        submit(nx[code], code, period)
    review.county_return(user=yinchuan, region=region(XINGQING), period=period, reason="指标 5 缺少佐证材料")
    services.evidence_add(user=nx[XINGQING], region=region(XINGQING), period=period, number=5, upload=pdf())
    submit(nx[XINGQING], XINGQING, period)
    for code in counties:
        review.county_approve(user=yinchuan, region=region(code), period=period)
    review.county_approve(user=shizuishan, region=region(DAWUKOU), period=period)
    services.checkmarks_set(user=province, region=region(NINGXIA), period=period, values=dict.fromkeys(PROVINCE_NUMBERS, DONE), today=TODAY)
    review.city_accept(user=province, region=region(YINCHUAN), period=period)
    review.city_accept(
        user=province,
        region=region(SHIZUISHAN),
        period=period,
        exceptions={region(HUINONG): "受灾，数据待核实", region("640221"): "机构调整"},
    )
    review.county_return(user=yinchuan, region=region(JINFENG), period=period, reason="完成月份有误")
    fill(nx[JINFENG], JINFENG, period, {3: CheckmarkValue("done", date(2022, 4, 1))})
    submit(nx[JINFENG], JINFENG, period)
    review.county_approve(user=yinchuan, region=region(JINFENG), period=period)
    review.city_accept(user=province, region=region(YINCHUAN), period=period)
    unaccepted = Region.objects.filter(parent__parent__code=NINGXIA).exclude(parent__code__in=[YINCHUAN, SHIZUISHAN])
    named = dict.fromkeys(unaccepted, "地市尚未审核，先行上报")
    review.period_confirm(user=province, region=region(NINGXIA), period=period, exceptions=named, today=TODAY)
    review.period_reopen(user=province, region=region(NINGXIA), period=period, reason="国家能源局要求更正指标 21")
    services.checkmarks_set(
        user=province, region=region(NINGXIA), period=period, values={21: CheckmarkValue("done", date(2022, 5, 1))}, today=TODAY
    )
    review.period_confirm(user=province, region=region(NINGXIA), period=period, exceptions=named, today=TODAY)
    fill(nx[HUINONG], HUINONG, period, {1: DONE, 2: LATER})  # an exception: not locked


def follow(client, limit=100):
    """Every event the client may see, from the start, page by page; and the last cursor."""
    events, cursor = [], None
    while True:
        response = client.get(CHANGES, {"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        events += body["results"]
        cursor = body["next"]
        if not body["has_more"]:
            return events, cursor


def rebuild(events):
    """The indicator data a client holds after applying ``events`` in order."""
    checkmarks, states, versions, exceptions = {}, {}, defaultdict(int), {}
    for event in events:
        if event["type"] not in ("checkmark.changed", "submission.changed", "signoff.exception"):
            continue  # the ledger's and reporting's own
        data = event["data"]
        where = (data["program"], data["period"], data["region"])
        if event["type"] == "checkmark.changed":
            checkmarks[(*where, data["indicator"])] = (
                data["status"],
                data["done_month"],
                data["expected_month"],
                data["note"],
                data["evidence"],
            )
        elif event["type"] == "submission.changed":
            states[where] = (data["state"], data["reason"])
            exceptions[where] = set(data["exceptions"])
        if event["version"]:
            versions[where] = int(event["version"])
    return checkmarks, states, versions, exceptions


def month(value):
    return f"{value:%Y-%m}" if value else None


def stored(within):
    """What the database holds under ``within``, in the shape ``rebuild`` gives."""
    checkmarks = {
        (c.period.program.code, c.period.code, c.region.code, c.indicator.number): (
            c.status,
            month(c.done_month),
            month(c.expected_month),
            c.note,
            c.evidence.count(),
        )
        for c in Checkmark.objects.filter(region__path__startswith=within.path).select_related("period__program", "region", "indicator")
    }
    submissions = {
        (s.period.program.code, s.period.code, s.region.code): s
        for s in Submission.objects.filter(region__path__startswith=within.path).select_related("period__program", "region")
    }
    exceptions = defaultdict(set)
    for e in SignoffException.objects.filter(submission__region__path__startswith=within.path).select_related(
        "submission__period__program", "submission__region", "county"
    ):
        s = e.submission
        exceptions[(s.period.program.code, s.period.code, s.region.code)].add(e.county.code)
    return checkmarks, submissions, exceptions


def assert_rebuilt(events, within):
    checkmarks, states, versions, exceptions = rebuild(events)
    db_checkmarks, db_submissions, db_exceptions = stored(within)
    assert checkmarks == db_checkmarks
    for key, submission in db_submissions.items():
        assert states.get(key, ("draft", "")) == (submission.state, submission.reason), key
        assert versions[key] == submission.version, key
        assert exceptions.get(key, set()) == db_exceptions[key], key
    assert set(states) <= set(db_submissions)


def test_a_province_client_following_the_feed_rebuilds_the_province(nx, period, media, feed_client):
    a_full_period(nx, period)
    services.period_open(code="2022")  # the year carries 2022S1's check-marks over: events too

    events, _cursor = follow(feed_client(NINGXIA), limit=50)

    assert len({e["id"] for e in events}) == len(events)
    assert len(events) == ChangeEvent.objects.filter(region__path__startswith="640000/").count()
    assert {e["type"] for e in events} == {"checkmark.changed", "submission.changed", "signoff.exception"}
    assert_rebuilt(events, region(NINGXIA))
    carried = [e for e in events if e["data"]["period"] == "2022"]
    assert carried and {(e["channel"], e["version"]) for e in carried} == {("system", "0")}
    assert len({e["data"]["region"] for e in carried}) == 9  # 银川's 6 counties, 大武口, 惠农 and the province


def test_a_county_client_sees_its_own_changes_only(nx, period, media, feed_client):
    a_full_period(nx, period)

    for code in (HUINONG, XINGQING):
        events, _cursor = follow(feed_client(code), limit=7)
        assert events and {e["region"] for e in events} == {code}
        assert len(events) == ChangeEvent.objects.filter(region__code=code).count()
        assert_rebuilt(events, region(code))
    huinong, _cursor = follow(feed_client(HUINONG))
    named = [e["data"] for e in huinong if e["type"] == "signoff.exception"]
    assert [(d["signoff"], d["city"], d["reason"]) for d in named] == [(SHIZUISHAN, SHIZUISHAN, "受灾，数据待核实")]
    city, _cursor = follow(feed_client(SHIZUISHAN))
    assert {e["region"] for e in city} == {SHIZUISHAN, DAWUKOU, HUINONG, "640221"}  # not 银川's, not the province's


def test_each_event_names_the_object_its_version_and_the_step(nx, period, media, feed_client):
    writer = feed_client(XINGQING, access="write")
    sheet = f"{V1}/periods/2022S1/regions/{XINGQING}/checkmarks/"
    body = {"checkmarks": [{"number": 1, "status": "done", "done_month": "2022-03"}, {"number": 2, "status": ""}]}
    response = writer.put(sheet, body, format="json", HTTP_IF_MATCH='"0"')
    assert response.status_code == 200, response.content

    (event,) = follow(writer)[0]
    assert event["type"] == "checkmark.changed" and event["object"] == sheet and event["channel"] == "api"
    assert event["version"] == response["ETag"].strip('"') == "1" and event["region"] == XINGQING
    assert event["data"] == {
        "period": "2022S1",
        "program": "national-2021",
        "region": XINGQING,
        "indicator": 1,
        "label": "1",
        "status": "done",
        "done_month": "2022-03",
        "expected_month": None,
        "note": "",
        "evidence": 0,
    }
    fill(nx[XINGQING], XINGQING, period)
    submit(nx[XINGQING], XINGQING, period)
    review.county_return(user=nx[YINCHUAN], region=region(XINGQING), period=period, reason="指标 8 缺少佐证材料")
    *_, submitted, returned = follow(writer)[0]
    assert submitted["object"] == f"{V1}/periods/2022S1/regions/{XINGQING}/" and submitted["channel"] == "web"
    assert (submitted["data"]["action"], submitted["data"]["state"]) == ("submit", "submitted")
    assert returned["data"] == {
        "period": "2022S1",
        "program": "national-2021",
        "region": XINGQING,
        "state": "returned",
        "action": "return",
        "reason": "指标 8 缺少佐证材料",
        "exceptions": [],
    }
    assert returned["version"] == submitted["version"] == "2"


def test_a_refused_write_records_no_event(nx, period):
    with pytest.raises(ValidationError):
        fill(nx[XINGQING], XINGQING, period, {1: DONE, 2: CheckmarkValue("done", date(2030, 1, 1))})
    with pytest.raises(ValidationError):
        submit(nx[XINGQING], XINGQING, period)  # nothing filled
    assert not ChangeEvent.objects.exists()


def test_the_cursor_resumes_where_the_client_stopped_and_waits_there(nx, period, feed_client):
    client = feed_client(NINGXIA)
    empty = client.get(CHANGES).json()
    assert empty["results"] == [] and not empty["has_more"]
    fill(nx[XINGQING], XINGQING, period, {1: DONE, 2: DONE, 3: DONE})
    first = client.get(CHANGES, {"cursor": empty["next"], "limit": 2}).json()
    assert [e["data"]["indicator"] for e in first["results"]] == [1, 2] and first["has_more"]
    rest = client.get(CHANGES, {"cursor": first["next"]}).json()
    assert [e["data"]["indicator"] for e in rest["results"]] == [3] and not rest["has_more"]
    again = client.get(CHANGES, {"cursor": rest["next"]}).json()
    assert again["results"] == [] and not again["has_more"]
    fill(nx[XINGQING], XINGQING, period, {4: DONE})
    assert [e["data"]["indicator"] for e in client.get(CHANGES, {"cursor": again["next"]}).json()["results"]] == [4]


def test_a_session_reads_the_feed_in_its_scope(client, nx, period):
    fill(nx[XINGQING], XINGQING, period, {1: DONE})
    fill(nx[DAWUKOU], DAWUKOU, period, {1: DONE})
    client.force_login(nx[SHIZUISHAN])
    body = client.get(CHANGES).json()
    assert [e["region"] for e in body["results"]] == [DAWUKOU]


@pytest.mark.parametrize("cursor", ["abc", "eyJ1IjoxLCJzIjo1fQ:1abc:forged", "", "readable"])
def test_a_forged_or_tampered_cursor_is_400(nx, period, feed_client, cursor):
    client = feed_client(NINGXIA)
    if not cursor:  # a real one with one character of its ciphertext changed
        real = client.get(CHANGES).json()["next"]
        middle = len(real) // 2
        cursor = real[:middle] + ("A" if real[middle] != "A" else "B") + real[middle + 1 :]
    if cursor == "readable":  # a signed, unencrypted position (the earlier format) is not accepted
        cursor = signing.TimestampSigner(salt="accounts.api.changes.cursor").sign_object({"u": client.token.user.pk, "s": 0})
    body = assert_error(client.get(CHANGES, {"cursor": cursor}), 400, "cursor_invalid")
    assert list(body["errors"]) == ["cursor"] and "游标无效" in body["message"]


def test_another_clients_cursor_is_400(nx, period, feed_client):
    fill(nx[XINGQING], XINGQING, period, {1: DONE})
    province, county = feed_client(NINGXIA), feed_client(XINGQING)
    cursor = county.get(CHANGES).json()["next"]
    body = assert_error(province.get(CHANGES, {"cursor": cursor}), 400, "cursor_invalid")
    assert "不属于当前令牌" in body["message"]


def test_an_expired_cursor_is_400(nx, period, feed_client, settings, monkeypatch):
    client = feed_client(NINGXIA)
    two_days_ago = time.time() - 2 * 86400
    monkeypatch.setattr(time, "time", lambda: two_days_ago)  # Fernet stamps the cursor with time.time()
    cursor = cursor_sign(user=client.token.user, seq=0)
    monkeypatch.undo()
    assert client.get(CHANGES, {"cursor": cursor}).status_code == 200  # 90 days by default
    settings.CHANGES_CURSOR_MAX_AGE_DAYS = 1
    body = assert_error(client.get(CHANGES, {"cursor": cursor}), 400, "cursor_expired")
    assert "1 天" in body["message"]


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
def test_a_bad_limit_is_400(feed_client, limit):
    body = assert_error(feed_client(NINGXIA).get(CHANGES, {"limit": limit}), 400, "validation_error")
    assert list(body["errors"]) == ["limit"]


def test_the_feed_needs_credentials(client):
    assert_error(client.get(CHANGES), 401, "not_authenticated")


def test_the_backfill_gives_bulk_inserted_rows_their_events(nx, feed_client):
    # The demo's bulk inserts: check-marks, review states, 附件3 figures, assignments; no services.
    written = demo_progress_create(province_code=NINGXIA)
    demo_benefits_create(provinces=[region(NINGXIA)], years={2022})
    demo_ledgers_create(user=nx["province"], province_codes=[NINGXIA])
    assert written and not ChangeEvent.objects.filter(type__in=["checkmark.changed", "benefit.changed", "assignment.changed"]).exists()

    recorded = changes_backfill()

    events, _cursor = follow(feed_client(NINGXIA), limit=1000)
    assert recorded >= len(events) == ChangeEvent.objects.filter(region__path__startswith="640000/").count()
    assert_rebuilt(events, region(NINGXIA))
    backfilled = [e for e in events if e["channel"] == "system" and e["type"] != "checkmark.changed"]
    assert {e["data"].get("action", "backfill") for e in backfilled} == {"backfill"}
    by_type = defaultdict(set)
    for e in events:
        by_type[e["type"]].add((e["object"], e["data"].get("company"), e["data"].get("category")))
    within = {"region__path__startswith": "640000/"}
    assert len(by_type["benefit.changed"]) == Benefit.objects.filter(**within).count() > 0
    assert len(by_type["assignment.changed"]) == Assignment.objects.filter(**within).count() > 0
    assert len(by_type["ledger_item.changed"]) == LedgerItem.objects.filter(ledger__region__code=NINGXIA).count() > 0
    assert changes_backfill() == 0


def test_the_backfill_records_only_objects_without_an_event(nx, period, media, feed_client):
    a_full_period(nx, period)
    # As if the first half had been written by a release without the feed.
    half = ChangeEvent.objects.order_by("seq")[ChangeEvent.objects.count() // 2].seq
    ChangeEvent.objects.filter(seq__lt=half).delete()
    kept, last = ChangeEvent.objects.count(), ChangeEvent.objects.order_by("seq").last().seq

    changes_backfill()

    events, _cursor = follow(feed_client(NINGXIA), limit=1000)
    before = {event.public_id for event in ChangeEvent.objects.filter(seq__lte=last)}
    backfilled = [e for e in events if e["id"] not in before]
    assert 0 < len(backfilled) < len(events) == kept + len(backfilled)
    assert {e["channel"] for e in backfilled} == {"system"}
    assert_rebuilt(events, region(NINGXIA))
    total = ChangeEvent.objects.count()
    call_command("changes_backfill", stdout=StringIO())
    assert ChangeEvent.objects.count() == total


def test_an_imported_attachment2_is_in_the_feed_as_import(nx, period, feed_client):
    wb, _rows = workbook(period, counties={XINGQING: {3: "2022年9月"}})
    data = SimpleUploadedFile("附件2.xlsx", to_bytes(wb), content_type=XLSX)
    apply_attachment2(user=nx["province"], preview=read_attachment2(data, province=region(NINGXIA), period=period))

    events, _cursor = follow(feed_client(NINGXIA), limit=1000)
    assert len(events) == 22 * 31 + 6 and {(e["type"], e["channel"]) for e in events} == {("checkmark.changed", "import")}
    assert_rebuilt(events, region(NINGXIA))


def test_an_event_of_another_programs_period_names_it(client, make_user):
    """A period of 重庆's own program is read with ?program=: the event's object says so."""
    yuzhong = make_user("yz", "county", "500103")
    period = services.period_open(code="2022S1", program="chongqing-2021")[0]
    services.checkmarks_set(user=yuzhong, region=region("500103"), period=period, values={1: DONE}, today=TODAY)

    client.force_login(yuzhong)
    (event,) = client.get(CHANGES).json()["results"]
    assert event["object"] == f"{V1}/periods/2022S1/regions/500103/checkmarks/?program=chongqing-2021"
    assert event["data"]["program"] == "chongqing-2021"
    sheet = client.get(event["object"]).json()
    assert next(c for c in sheet["checkmarks"] if c["number"] == 1)["status"] == "done"
