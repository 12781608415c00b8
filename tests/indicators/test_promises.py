"""Promises (issue 8 §3): the history of each expected completion month through three periods
(2022S1 → 2022 → 2023S1), what became of it, the counts per county and city, the backfill, the
heat map's slipped cells, the reminders' list and the page."""

import importlib
from datetime import UTC, date

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.changes import CHAIN as CHANGES
from accounts.models import ChainHead, Region
from indicators import promises, services
from indicators.models import Checkmark, Promise
from indicators.promises import Outcome, chain_outcome
from indicators.services import CheckmarkValue
from reporting import selectors as report_selectors

pytestmark = pytest.mark.django_db

S1_DAY, YEAR_DAY, NEXT_S1_DAY = date(2022, 6, 20), date(2022, 12, 20), date(2023, 6, 20)
A, B, C, D, E, F = 1, 2, 3, 4, 5, 6  # county indicators of the national set


def m(year, month):
    return date(year, month, 1)


def promise(month):
    return CheckmarkValue("not_done", expected_month=month)


def done(month):
    return CheckmarkValue("done", done_month=month)


# --- the outcome rules, pure -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "months, done_month, today, outcome",
    [
        ([m(2022, 9)], None, date(2022, 9, 30), Outcome.OPEN),  # the promised month itself: not yet passed
        ([m(2022, 9)], None, date(2022, 10, 1), Outcome.SLIPPED),  # ended without done
        ([m(2022, 9)], m(2022, 9), date(2023, 1, 1), Outcome.KEPT),
        ([m(2022, 9)], m(2022, 10), date(2023, 1, 1), Outcome.SLIPPED),  # done late
        ([m(2022, 9), m(2022, 12)], m(2022, 8), date(2023, 1, 1), Outcome.SLIPPED),  # moved later: slipped for good
        ([m(2022, 9), m(2022, 12)], None, date(2022, 7, 1), Outcome.SLIPPED),
        ([m(2022, 12), m(2022, 9)], None, date(2022, 7, 1), Outcome.OPEN),  # moved earlier: not a slip
        ([m(2022, 12), m(2022, 9)], None, date(2022, 10, 5), Outcome.SLIPPED),  # ...but the earlier month is in force
        ([m(2022, 12), m(2022, 9)], m(2022, 11), date(2023, 1, 1), Outcome.KEPT),  # done by the first month given
        ([m(2022, 12), m(2022, 9), m(2022, 11)], None, date(2022, 7, 1), Outcome.SLIPPED),  # later than the one before
    ],
)
def test_chain_outcome(months, done_month, today, outcome):
    assert chain_outcome(months, done_month=done_month, today=today).outcome == outcome


def test_done_month_of_a_province_indicator_without_its_month_is_when_it_was_marked():
    from datetime import datetime

    marked = datetime(2022, 11, 30, 20, 0, tzinfo=UTC)  # 2022-12-01 04:00 in Shanghai
    assert promises.done_month_of(level="province", status="done", done_month=None, updated_at=marked) == m(2022, 12)
    assert promises.done_month_of(level="county", status="done", done_month=None, updated_at=marked) is None
    assert promises.done_month_of(level="county", status="not_done", done_month=None, updated_at=marked) is None


# --- three periods --------------------------------------------------------------------------------


@pytest.fixture
def people(make_user):
    return {
        "county": make_user("k", "county", "510104", last_name="锦江填报员"),
        "county2": make_user("k2", "county", "510105", last_name="青羊填报员"),
        "county3": make_user("k3", "county", "510703", last_name="涪城填报员"),
        "city": make_user("c", "city", "510100", last_name="成都审核员"),
        "province": make_user("p", "province", "510000", last_name="省能源局"),
    }


def region(code):
    return Region.objects.get(code=code)


def write(user, code, period, values, today, channel="web"):
    return services.checkmarks_set(user=user, region=region(code), period=period, values=values, today=today, channel=channel)


def history():
    """Every Promise row as live recording and the backfill both write it (the channel aside)."""
    return list(
        Promise.objects.order_by("region__code", "indicator__number", "given_at", "pk").values_list(
            "region__code", "indicator__number", "period__code", "month", "given_at", "given_by__username"
        )
    )


@pytest.fixture
def story(people):
    """锦江 (510104) through three periods:

    A: 2022年9月 given, moved to 2023年3月 (slipped);      B: 2022年10月 given, done 2022年10月 (kept);
    C: 2022年8月 given, done 2022年11月 (done late);       D: first given in 2022: 2023年12月 (open);
    E: 2023年6月 given, moved earlier to 2023年2月, done 2023年1月 (kept);
    F: 2022年12月 given and carried, not done by 2023年6月 (overdue); in 2023S1 only its note changes.
    青羊 (510105): one overdue, one kept; 涪城 (510703, 绵阳市): one open.
    """
    county, county2, county3 = people["county"], people["county2"], people["county3"]
    s1, _ = services.period_open(code="2022S1")
    write(
        county,
        "510104",
        s1,
        {A: promise(m(2022, 9)), B: promise(m(2022, 10)), C: promise(m(2022, 8)), E: promise(m(2023, 6)), F: promise(m(2022, 12))},
        S1_DAY,
    )
    write(county2, "510105", s1, {A: promise(m(2022, 7)), B: promise(m(2022, 9))}, S1_DAY)
    write(county3, "510703", s1, {A: promise(m(2023, 12))}, S1_DAY)
    after_s1 = Promise.objects.count()

    year, copied = services.period_open(code="2022")
    assert copied and Promise.objects.count() == after_s1  # a carry is not a promise
    write(people["province"], "510104", year, {A: promise(m(2023, 3))}, YEAR_DAY, channel="api")  # the province moves it
    write(county, "510104", year, {B: done(m(2022, 10)), C: done(m(2022, 11)), D: promise(m(2023, 12)), E: promise(m(2023, 2))}, YEAR_DAY)
    write(county2, "510105", year, {B: done(m(2022, 9))}, YEAR_DAY)

    next_s1, _ = services.period_open(code="2023S1")
    only_the_note = CheckmarkValue("not_done", expected_month=m(2022, 12), note="设备到货延迟")
    write(county, "510104", next_s1, {E: done(m(2023, 1)), F: only_the_note}, NEXT_S1_DAY)
    return {"2022S1": s1, "2022": year, "2023S1": next_s1}


def chains_of(code, period, today):
    return {c.indicator.number: c for c in promises.chains(regions=[region(code).pk], period=period, today=today, people=True)}


def test_the_history_through_three_periods(story):
    rows = [(number, code, month) for county, number, code, month, _at, _by in history() if county == "510104"]
    assert rows == [
        (A, "2022S1", m(2022, 9)),
        (A, "2022", m(2023, 3)),
        (B, "2022S1", m(2022, 10)),
        (C, "2022S1", m(2022, 8)),
        (D, "2022", m(2023, 12)),
        (E, "2022S1", m(2023, 6)),
        (E, "2022", m(2023, 2)),
        (F, "2022S1", m(2022, 12)),  # its note changed in 2023S1: not a promise
    ]
    moved = Promise.objects.filter(region__code="510104", indicator__number=A).order_by("given_at", "pk").last()
    assert (moved.given_by.username, moved.channel) == ("p", "api")

    chains = chains_of("510104", story["2023S1"], NEXT_S1_DAY)
    a = chains[A]
    assert (a.first.month, a.first.period.code, a.first.given_by.username) == (m(2022, 9), "2022S1", "k")
    assert [(s.previous, s.month, s.later, s.period.code) for s in a.moves] == [(m(2022, 9), m(2023, 3), True, "2022")]
    assert [(s.previous, s.month, s.later) for s in chains[E].moves] == [(m(2023, 6), m(2023, 2), False)]
    assert {n: c.outcome for n, c in chains.items()} == {
        A: Outcome.SLIPPED,
        B: Outcome.KEPT,
        C: Outcome.SLIPPED,
        D: Outcome.OPEN,
        E: Outcome.KEPT,
        F: Outcome.SLIPPED,
    }
    assert chains[C].verdict.reason == "2022年11月完成，晚于承诺的2022年8月"
    assert chains[F].verdict.reason == "承诺的2022年12月已过，尚未完成"


def test_each_period_reads_its_own_promises_and_check_marks(story):
    at_s1 = chains_of("510104", story["2022S1"], S1_DAY)
    assert sorted(at_s1) == [A, B, C, E, F] and all(c.outcome == Outcome.OPEN for c in at_s1.values())
    assert len(at_s1[A].steps) == 1  # the move came in 2022
    at_year = chains_of("510104", story["2022"], YEAR_DAY)
    assert {n: c.outcome for n, c in at_year.items()} == {
        A: Outcome.SLIPPED,
        B: Outcome.KEPT,
        C: Outcome.SLIPPED,
        D: Outcome.OPEN,
        E: Outcome.OPEN,
        F: Outcome.OPEN,
    }


def test_counts_per_county_and_the_reminders_list(story):
    period = story["2023S1"]
    counts = promises.outcome_counts(
        promises.chains(regions=Region.objects.filter(parent__code="510100"), period=period, today=NEXT_S1_DAY)
    )
    jinjiang, qingyang = region("510104").pk, region("510105").pk
    assert counts[jinjiang] == {"kept": 2, "slipped": 3, "open": 1}
    assert counts[qingyang] == {"kept": 1, "slipped": 1, "open": 0}
    slipped = promises.slipped_by_region(regions=Region.objects.filter(path__startswith="510000/"), period=period, today=NEXT_S1_DAY)
    assert slipped == {
        jinjiang: [("1", m(2022, 9), m(2023, 3)), ("3", m(2022, 8), m(2022, 8)), ("6", m(2022, 12), m(2022, 12))],
        qingyang: [("1", m(2022, 7), m(2022, 7))],
    }


def test_the_backfill_writes_the_rows_live_recording_wrote(story):
    live = history()
    assert Promise.objects.exclude(channel="system").count() == len(live)
    written = promises.promises_backfill(checkmark_model=Checkmark, promise_model=Promise)
    assert written == len(live) and history() == live
    assert set(Promise.objects.values_list("channel", flat=True)) == {"system"}
    # Under a path only that subtree is rebuilt.
    Promise.objects.filter(region__code="510703").delete()
    assert promises.promises_backfill(checkmark_model=Checkmark, promise_model=Promise, path="510000/510700/") == 1
    assert history() == live


def test_the_data_migration_runs_the_backfill(story):
    live = history()
    Promise.objects.all().delete()
    migration = importlib.import_module("indicators.migrations.0004_promises_backfill")
    migration.backfill(django_apps, None)
    assert history() == live
    migration.remove(django_apps, None)
    assert not Promise.objects.exists()


def test_reading_takes_the_same_queries_for_one_county_or_a_province(story):
    period = story["2023S1"]
    counts = []
    for regions in (Region.objects.filter(code="510104"), Region.objects.filter(path__startswith="510000/")):
        with CaptureQueriesContext(connection) as chains_queries:
            promises.chains(regions=regions, period=period, today=NEXT_S1_DAY, people=True)
        with CaptureQueriesContext(connection) as slipped_queries:
            promises.slipped_by_region(regions=regions, period=period, today=NEXT_S1_DAY)
        counts.append((len(chains_queries), len(slipped_queries)))
    assert counts == [(5, 3), (5, 3)]  # rows, indicators and the done marks; with people, who and when


def test_recording_takes_the_same_queries_for_one_promise_or_many(people):
    period, _ = services.period_open(code="2022S1")
    ChainHead.objects.get_or_create(name=CHANGES)  # made by the first write of all, not by a promise
    sizes = []
    for code, user, numbers in (("510104", people["county"], [A]), ("510105", people["county2"], [A, B, C, D, E, F])):
        with CaptureQueriesContext(connection) as queries:
            write(user, code, period, {n: promise(m(2022, 12)) for n in numbers}, S1_DAY)
        sizes.append(len(queries))
    assert sizes[0] == sizes[1] and Promise.objects.count() == 7


def test_the_heat_map_marks_the_slipped_cells(story):
    heatmap = report_selectors.heatmap(period=story["2023S1"], region=region("510100"), today=NEXT_S1_DAY)
    labels = [i["label"] for i in heatmap["indicators"]]
    jinjiang = next(c for city in heatmap["cities"] for c in city["counties"] if c["code"] == "510104")
    slipped = {int(labels[i]) for i, cell in enumerate(jinjiang["cells"]) if cell.get("slipped")}
    assert slipped == {A, C, F}
    assert jinjiang["cells"][labels.index(str(C))]["state"] == "done"  # done late: still √, framed red


def test_the_pictures_page_shows_the_slipped_cells(story, client, people):
    client.force_login(people["province"])
    page = client.get("/reporting/pictures/?period=2023S1&region=510100&slips=1").content.decode()  # the layer, on request
    assert "承诺已推迟或逾期" in page and 'class="done slipped"' in page and 'class="overdue slipped"' in page


# --- the page --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def judged_in_june_2023(monkeypatch):
    """The pages judge the promises on 2023-06-20, the day of the story's last writes."""
    from indicators import views_promises

    monkeypatch.setattr(views_promises, "_today", lambda: NEXT_S1_DAY)


def test_the_county_page_shows_each_promise_with_its_history(story, client, people):
    client.force_login(people["city"])
    page = client.get("/periods/2023S1/promises/510104/").content.decode()
    assert "完成承诺" in page
    row_a = page.split('id="indicator-1"')[1].split("</tr>")[0]
    assert "2022年9月" in row_a and "锦江填报员" in row_a and "2022年上半年" in row_a
    assert "2022年9月 → <strong>2023年3月</strong>（推迟）" in row_a and "省能源局" in row_a and "接口" in row_a
    assert "已推迟/逾期" in row_a
    row_e = page.split('id="indicator-5"')[1].split("</tr>")[0]
    assert "（提前）" in row_e and "已兑现" in row_e
    assert 'id="own-kept">2<' in page and 'id="own-slipped">3<' in page and 'id="own-open">1<' in page


def test_the_city_page_counts_per_county_and_lists_the_slipped(story, client, people):
    client.force_login(people["city"])
    page = client.get("/periods/2023S1/promises/510100/").content.decode()
    jinjiang = page.split('id="county-510104"')[1].split("</tr>")[0]
    assert "/periods/2023S1/promises/510104/" in jinjiang
    assert '<td class="num">2</td><td class="num"><span class="state status-late">3</span></td><td class="num">1</td>' in jinjiang
    assert 'id="total-slipped">4<' in page  # 锦江 3, 青羊 1
    slipped = page.split('id="slipped"')[1].split("</table>")[0]
    assert slipped.count("<tr>") == 1 + 4 and "晚于承诺的2022年8月" in slipped
    assert "涪城区" not in page


def test_the_province_page_has_city_subtotals_and_a_city_reviewer_sees_only_their_counties(story, client, people):
    client.force_login(people["province"])
    page = client.get("/periods/2023S1/promises/510000/").content.decode()
    assert "成都市" in page and "绵阳市" in page and 'id="total-open">2<' in page  # 锦江 D, 涪城 A
    client.force_login(people["city"])
    page = client.get("/periods/2023S1/promises/510000/").content.decode()
    assert "涪城区" not in page and 'id="total-open">1<' in page


def test_the_page_takes_the_same_queries_for_few_or_many_counties(story, client, people):
    client.force_login(people["province"])
    sizes = []
    for code in ("510700", "510100"):  # 绵阳市: one county with one promise; 成都市: two with eight chains
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/periods/2023S1/promises/{code}/").status_code == 200
        sizes.append(len(queries))
    assert sizes[0] == sizes[1]


def test_the_sheet_and_the_review_link_to_the_page(story, client, people):
    client.force_login(people["city"])
    assert 'href="/periods/2023S1/promises/510104/"' in client.get("/periods/2023S1/sheet/510104/").content.decode()
    assert 'href="/periods/2023S1/promises/510100/"' in client.get("/periods/2023S1/review/510100/").content.decode()


def test_the_demo_seeding_writes_promises(story):
    from indicators.demo import demo_progress_create

    assert demo_progress_create(province_code="110000", today=date(2023, 6, 20))
    beijing = Promise.objects.filter(region__path__startswith="110000/")
    assert beijing.exists() and Promise.objects.filter(region__code="510104").count() == 8  # Sichuan untouched
    # Each past period was written at its own time, so the moves come after the first promises.
    assert beijing.values("given_at").distinct().count() > 1
    assert beijing.filter(period__code="2022S1").count() < beijing.count()
