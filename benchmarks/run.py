#!/usr/bin/env python
"""Benchmarks of the portal's heavy paths, each measured next to its floor in the same run.

    python benchmarks/run.py [--quick] [--database-url postgres://user:pass@host:5432/postgres] [--keep]

The script makes its own database (a fresh SQLite file under var/bench/, or a database
``bench_…`` created on the given PostgreSQL server and dropped afterwards), migrates it, loads the
regions and reference documents, seeds the national dataset (``seed_demo --scale national``; quick
mode: fewer periods and provinces), then measures:

- table 2 (附件2) compiled for the largest province and for every province, against one
  hand-written SQL aggregate over the same rows (the floor), and its query count for the smallest
  and the largest province (it must not change with the number of counties);
- the national roll-up compiled, against the same floor over the whole country;
- the .xlsx of the largest province's table 2 and of the national roll-up, against openpyxl writing
  the same cells bare (no styles, no merges);
- the county page (GET, and a POST saving 31 values) through Django's test client: time and queries;
- the bulk write of a county's 31 check-marks through ``checkmarks_set`` (and the API, when one is
  installed);
- the measured service levels (issue 14 §3) of the largest province over 1,000,000 generated
  application records (quick mode: 100,000), against three hand-written SQL statements;
- the peak memory of each (tracemalloc's peak and the process's peak RSS during it).

It prints a table and, for a full run (or with ``--doc``), rewrites this database's results section
of docs/benchmarks.md. Nothing here is timed by the test suite: tests/portal/test_benchmarks_smoke.py runs
each measurement once on a tiny dataset to keep this script working.

The functions below import Django lazily: the command line sets the database up first.
"""

import argparse
import gc
import io
import os
import platform
import re
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BENCH_DIR = ROOT / "var" / "bench"

# Quick mode: the largest province, the smallest, and two between; two periods.
QUICK_PROVINCES = ("510000", "110000", "500000", "640000")
QUICK_PERIODS = 2
FULL_PERIODS = 8

TARGET_COMPILE_RATIO = 3.0
TARGET_EXPORT_RATIO = 1.5
TARGET_PAGE_QUERIES = 15
# A save writes more than it reads: besides the form, scope, lock and rows, the audit chain (4), the
# change feed (3) and the webhook fan-out (1) — docs/benchmarks.md lists them. Fixed, whatever the
# number of indicators.
TARGET_SAVE_QUERIES = 25


@dataclass
class Result:
    """One line of the table. Times in seconds; memory in bytes."""

    name: str
    time: float
    floor: float | None = None
    target: str = ""
    met: bool | None = None
    queries: int | None = None
    transaction_queries: int = 0
    rate: str = ""
    python_peak: int | None = None
    rss_peak: int | None = None
    note: str = ""

    @property
    def ratio(self):
        return self.time / self.floor if self.floor else None


@dataclass
class Report:
    vendor: str
    quick: bool
    runs: int
    machine: dict
    seed_seconds: float | None = None
    seed_summary: str = ""
    results: list = field(default_factory=list)
    checks: list = field(default_factory=list)  # (description, passed)


# --- measuring --------------------------------------------------------------------------------------


def median_time(fn, runs, warmup=1):
    """Median wall time of ``runs`` calls of ``fn`` after ``warmup`` calls (not counted)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


TRANSACTION_SQL = re.compile(r"^\s*(BEGIN|SAVEPOINT|RELEASE|COMMIT|ROLLBACK)\b", re.I)


def query_count(fn, *, split=False):
    """The SQL statements ``fn`` sends to the default database: their number, or with ``split``
    (data statements, transaction statements). Transaction control (BEGIN, SAVEPOINT, RELEASE,
    COMMIT) is counted apart because the backends differ: Django sends SQLite's BEGIN IMMEDIATE
    and COMMIT as statements, psycopg2 does not."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    control = sum(1 for q in captured.captured_queries if TRANSACTION_SQL.match(q["sql"]))
    total = len(captured.captured_queries)
    return (total - control, control) if split else total


def _proc_status(key):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_rss_peak():
    """Reset the kernel's peak-RSS mark of this process (Linux ≥ 4.0); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_memory(fn):
    """(tracemalloc peak of one call, peak RSS of the process during another call) in bytes.

    The RSS peak is the whole process (Django, the dataset's caches) at its highest during the call,
    read from VmHWM after resetting it; None where the kernel does not allow the reset.
    """
    gc.collect()
    rss_peak = None
    if _reset_rss_peak():
        fn()
        rss_peak = _proc_status("VmHWM")
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        _current, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return python_peak, rss_peak


def median_times(fn, floor_fn, runs, warmup=1):
    """Medians of ``fn`` and of its floor, timed in turns (fn, floor, fn, floor, …) so that both
    meet the same load on the machine."""
    for _ in range(warmup):
        fn()
        floor_fn()
    samples, floor_samples = [], []
    for _ in range(runs):
        for f, into in ((fn, samples), (floor_fn, floor_samples)):
            started = time.perf_counter()
            f()
            into.append(time.perf_counter() - started)
    return statistics.median(samples), statistics.median(floor_samples)


def measured(name, fn, runs, *, floor_fn=None, target="", ratio_target=None, queries=True, note=""):
    """A Result for ``fn`` (and its floor, when given): median times, queries, memory."""
    if floor_fn is None:
        result = Result(name, median_time(fn, runs), target=target, note=note)
    else:
        result = Result(name, *median_times(fn, floor_fn, runs), target=target, note=note)
        if ratio_target is not None:
            result.met = result.ratio <= ratio_target
    if queries:
        result.queries, result.transaction_queries = query_count(fn, split=True)
    result.python_peak, result.rss_peak = peak_memory(fn)
    return result


# --- the dataset --------------------------------------------------------------------------------------


def latest_period():
    """The national program's latest period, with its set and program loaded (as period_get does),
    so each measured call counts only its own queries."""
    from indicators.models import Period, Program

    return Period.objects.filter(program__code=Program.NATIONAL).select_related("indicator_set", "program").order_by("-ends").first()


def provinces_by_size(period):
    """Provinces holding check-marks in ``period``, smallest first by county count (ties by code)."""
    from django.db.models import Count, Exists, OuterRef

    from accounts.models import Region
    from indicators.models import Checkmark

    with_marks = Exists(Checkmark.objects.filter(period=period, region=OuterRef("pk")))
    provinces = list(Region.objects.filter(level="province").filter(with_marks))
    counts = dict(Region.objects.filter(level="county").values_list("parent__parent_id").annotate(n=Count("pk")).order_by())
    for province in provinces:
        province.county_count = counts.get(province.pk, 0)
    return sorted(provinces, key=lambda p: (p.county_count, p.code))


# --- table 2 and its floor ---------------------------------------------------------------------------


def floor_sql(*, subtree=True):
    """One portable SQL statement: per county its done county indicators, and per city and county
    indicator the number of its counties with that indicator done, in a period — for the counties
    under a region path (``subtree``), or for the whole country. The least any table 2 compile must
    ask the database for: it reads the same check-marks, a subtree's driven from its regions through
    the (region, period, indicator) index, the whole country's in one pass over the period."""
    from accounts.models import Region
    from indicators.models import Checkmark, Indicator

    region, mark, indicator = (m._meta.db_table for m in (Region, Checkmark, Indicator))
    done = (
        f"m.region_id = r.id AND m.period_id = %s AND m.status = %s AND m.done_month IS NOT NULL "
        f"AND m.indicator_id IN (SELECT i.id FROM {indicator} i WHERE i.indicator_set_id = %s AND i.level = %s)"
    )
    counties = f"SELECT c.id FROM {region} c WHERE c.level = %s" + (" AND c.path LIKE %s" if subtree else "")
    return (
        f"SELECT %s AS kind, r.id AS key_id, NULL AS indicator_id, COUNT(m.id) AS n "
        f"FROM {region} r LEFT JOIN {mark} m ON {done} "
        f"WHERE r.id IN ({counties}) GROUP BY r.id "
        f"UNION ALL "
        f"SELECT %s, r.parent_id, m.indicator_id, COUNT(*) "
        f"FROM {mark} m JOIN {region} r ON {done} "
        + (f"WHERE m.region_id IN ({counties}) " if subtree else "WHERE r.level = %s ")
        + "GROUP BY r.parent_id, m.indicator_id"
    )


def floor_attachment2(*, period, path_prefix=None):
    """Run the floor for the counties under ``path_prefix`` (None: the whole country); returns its rows."""
    from django.db import connection

    done = [period.pk, "done", period.indicator_set_id, "county"]
    counties = ["county"] + ([f"{path_prefix}%"] if path_prefix is not None else [])
    params = ["county", *done, *counties, "city", *done, *counties]
    with connection.cursor() as cursor:
        cursor.execute(floor_sql(subtree=path_prefix is not None), params)
        return cursor.fetchall()


def compile_province(province, period):
    from reporting.services import attachment2_compile

    return attachment2_compile(province=province, period=period, on=date(2000, 1, 1))


def compile_all(provinces, period):
    return [compile_province(p, period) for p in provinces]


def bench_attachment2(period, runs, provinces=None):
    """Table 2 of the largest province and of every province, each against its floor; the query
    count of the smallest and the largest province. Returns (results, checks)."""
    from accounts.models import Region

    provinces = provinces or provinces_by_size(period)
    small, large = provinces[0], provinces[-1]
    everyone = list(Region.objects.filter(level="province").order_by("code"))
    small_queries = query_count(lambda: compile_province(small, period))
    large_queries = query_count(lambda: compile_province(large, period))
    results = [
        measured(
            f"附件2 编制：{large.name}（{large.county_count} 县）",
            lambda: compile_province(large, period),
            runs,
            floor_fn=lambda: floor_attachment2(period=period, path_prefix=large.path),
            target=f"≤ {TARGET_COMPILE_RATIO:g}× 底线",
            ratio_target=TARGET_COMPILE_RATIO,
            note=f"查询数 {small.name}（{small.county_count} 县）{small_queries} 条，{large.name} {large_queries} 条",
        ),
        measured(
            f"附件2 编制：全部 {len(everyone)} 个省份",
            lambda: compile_all(everyone, period),
            max(1, runs // 2),
            floor_fn=lambda: floor_attachment2(period=period),
            target=f"≤ {TARGET_COMPILE_RATIO:g}× 底线",
            ratio_target=TARGET_COMPILE_RATIO,
            note="底线为全国一条 SQL 聚合",
        ),
    ]
    checks = [
        (
            f"附件2 查询数与县数无关：{small.name}（{small.county_count} 县）{small_queries} 条 = "
            f"{large.name}（{large.county_count} 县）{large_queries} 条",
            small_queries == large_queries,
        )
    ]
    return results, checks


def bench_national(period, runs):
    """The national roll-up compiled, against the floor over the whole country."""
    from reporting.services import national_compile

    return measured(
        "全国汇总 编制",
        lambda: national_compile(period=period),
        runs,
        floor_fn=lambda: floor_attachment2(period=period),
        target=f"≤ {TARGET_COMPILE_RATIO:g}× 底线",
        ratio_target=TARGET_COMPILE_RATIO,
        note="底线同上（全国一条 SQL 聚合）",
    )


# --- the workbooks and their floors -------------------------------------------------------------------


def _save(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bare_attachment2_workbook(table):
    """The cells of 附件2 (title, period, people, the three heading rows, every row, the foot) written
    by openpyxl with no style, no merge, no size: the floor of the styled writer."""
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    header = table.header
    ws.append([header.title])
    ws.append([header.period_line])
    ws.append([f"填报人及手机联系方式：{header.filled_by}", f"审核人：{header.reviewed_by}", f"填报日期：{header.filled_on}"])
    ws.append(["序号", "省", "地市", "县", "指标完成情况", *[None] * (len(table.columns) - 1), "省、地市、县指标完成情况"])
    groups = []
    for name, span in table.groups:
        groups += [name] + [None] * (span - 1)
    ws.append([None] * 4 + groups + ["完成个数", "未完成个数", "完成百分比"])
    ws.append([None] * 4 + [c.label for c in table.columns])
    for row in table.rows:
        ws.append([row.serial, row.province, row.city, row.county, *row.cells, row.done, row.not_done, row.percent])
    ws.append([])
    ws.append(["填报单位盖章处"])
    return _save(workbook)


def bare_national_workbook(rollup):
    """The national roll-up's cells, bare."""
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    ws.append(["全国“获得电力”任务指标完成情况汇总表"])
    ws.append([rollup.period_line])
    ws.append(["序号", "省", "县个数", "全部完成县个数", "完成百分比", "各指标完成县占比"])
    ws.append([None] * 5 + [c.label for c in rollup.columns])
    for serial, row in enumerate(rollup.rows, start=1):
        ws.append([serial, row.province_name, row.counties, row.complete, row.percent, *row.indicator_percents])
    return _save(workbook)


def bench_exports(period, runs, large=None):
    """The .xlsx of the largest province's 附件2 and of the national roll-up, against bare openpyxl."""
    from reporting.excel import attachment2_workbook, national_workbook
    from reporting.services import national_compile

    large = large or provinces_by_size(period)[-1]
    table = compile_province(large, period)
    rollup = national_compile(period=period)
    size = len(attachment2_workbook(table))
    return [
        measured(
            f"附件2 .xlsx：{large.name}（{len(table.rows)} 行 × {len(table.columns) + 7} 列）",
            lambda: attachment2_workbook(table),
            runs,
            floor_fn=lambda: bare_attachment2_workbook(table),
            target=f"≤ {TARGET_EXPORT_RATIO:g}× 底线",
            ratio_target=TARGET_EXPORT_RATIO,
            queries=False,
            note=f"文件 {size / 1024:.0f} KiB",
        ),
        measured(
            f"全国汇总 .xlsx（{len(rollup.rows)} 行）",
            lambda: national_workbook(rollup),
            runs,
            floor_fn=lambda: bare_national_workbook(rollup),
            target=f"≤ {TARGET_EXPORT_RATIO:g}× 底线",
            ratio_target=TARGET_EXPORT_RATIO,
            queries=False,
        ),
    ]


# --- the county page and the bulk write -------------------------------------------------------------

BENCH_USERNAME = "bench_county"


class CountyWriter:
    """The benchmark's county user and what it writes: two sets of 31 values, each different from the
    other in every indicator, alternated so that every save changes all 31 check-marks. It keeps the
    Submission's version as the saves raise it, so a timed request carries no look-up of its own."""

    def __init__(self, period, province=None):
        from accounts.models import Region, User
        from indicators.models import Channel, Submission, SubmissionState
        from indicators.services import checkmarks_set

        province = province or provinces_by_size(period)[-1]
        county = Region.objects.filter(level="county", path__startswith=province.path).order_by("code").first()
        user = User.objects.filter(username=BENCH_USERNAME).first()
        if user is None:
            user = User(username=BENCH_USERNAME, role="county", region=county, last_name="基准测试")
            user.set_unusable_password()
            user.full_clean()
            user.save()
        elif user.region_id != county.pk:
            User.objects.filter(pk=user.pk).update(region=county)
            user.refresh_from_db()
        # Back to 填报中 whatever the demo gave it, then a known state: the second set.
        Submission.objects.update_or_create(region=county, period=period, defaults={"state": SubmissionState.DRAFT})
        self.period, self.user, self.county = period, user, county
        self.sets = self._value_sets(period)
        submission, _changed = checkmarks_set(user=user, region=county, period=period, values=self.sets[1], channel=Channel.SYSTEM)
        self.version, self.turn = submission.version, 1

    @staticmethod
    def _value_sets(period):
        from indicators.models import Indicator
        from indicators.services import CheckmarkValue

        today = date.today()
        done_month = date(today.year, today.month, 1)
        expected = date(today.year + 1, 6, 1)
        numbers = list(
            Indicator.objects.filter(indicator_set=period.indicator_set_id, level="county")
            .order_by("number")
            .values_list("number", flat=True)
        )
        return (
            {n: CheckmarkValue("done", done_month, None, "基准 A") for n in numbers},
            {n: CheckmarkValue("not_done", None, expected, "基准 B") for n in numbers},
        )

    def next_values(self):
        """The set to write next (the other one than last time), and the version it is written over."""
        self.turn = 1 - self.turn
        version = self.version
        self.version += 1
        return self.sets[self.turn], version

    def form(self):
        values, version = self.next_values()
        data = {"version": str(version), "action": "save"}
        for n, v in values.items():
            data[f"status_{n}"] = v.status
            data[f"done_month_{n}"] = f"{v.done_month:%Y-%m}" if v.done_month else ""
            data[f"expected_month_{n}"] = f"{v.expected_month:%Y-%m}" if v.expected_month else ""
            data[f"note_{n}"] = v.note
        return data


def bench_county_page(period, runs, writer=None):
    """The county page through the test client: GET, and POST saving 31 changed values."""
    from django.test import Client

    writer = writer or CountyWriter(period)
    client = Client()
    client.force_login(writer.user)
    url = f"/periods/{period.code}/sheet/{writer.county.code}/"

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")

    def post():
        response = client.post(url, writer.form())
        if response.status_code != 302:
            raise RuntimeError(f"POST {url}: HTTP {response.status_code} {response.content.decode()[:500]}")

    name = writer.county.name
    results = []
    for label, fn, budget, note in (
        (f"县级填报页 GET（{name}）", get, TARGET_PAGE_QUERIES, "服务端时间（测试客户端，含中间件与模板）"),
        (f"县级填报页 POST 保存 31 项（{name}）", post, TARGET_SAVE_QUERIES, "每次 31 项全部改变；不含随后的重定向"),
    ):
        result = measured(label, fn, runs, target=f"≤ {budget} 条查询", note=note)
        result.met = result.queries <= budget
        result.rate = f"{1 / result.time:.0f} 次/秒"
        results.append(result)
    return results


def bench_checkmarks_set(period, runs, writer=None):
    """31 check-marks of a county through ``checkmarks_set``, the service the pages and the API call."""
    from indicators.models import Channel
    from indicators.services import checkmarks_set

    writer = writer or CountyWriter(period)

    def write():
        values, version = writer.next_values()
        _submission, changed = checkmarks_set(
            user=writer.user,
            region=writer.county,
            period=period,
            values=values,
            expected_version=version,
            channel=Channel.API,
        )
        if changed != len(values):
            raise RuntimeError(f"checkmarks_set changed {changed} of {len(values)}")

    result = measured(f"checkmarks_set 批量写 31 项（{writer.county.name}）", write, runs, note="每次 31 项全部改变")
    result.rate = f"{1 / result.time:.0f} 次/秒（{31 / result.time:.0f} 项/秒）"
    return result


def api_route():
    """The URL name of the API's bulk write of a region's check-marks, if an API is installed."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("api:checkmarks", kwargs={"code": "2000", "region_code": "000000"})
    except NoReverseMatch:
        return None
    return "api:checkmarks"


def api_client(writer):
    """A test client speaking to the API as a 政务平台 would: with a read-write client token of the
    county when the token service exists, else with the county user's session. Returns (client, how)."""
    from django.test import Client

    try:
        from accounts.models import User
        from accounts.services import api_token_create

        admin = User.objects.filter(is_superuser=True).first()
        _token, secret = api_token_create(user=admin, name="基准测试", region=writer.county, access="write")
        return Client(HTTP_AUTHORIZATION=f"Token {secret}"), "令牌"
    except Exception:  # an API without tokens (yet): the session, which the API accepts too
        client = Client()
        client.force_login(writer.user)
        return client, "会话"


def bench_api(period, runs, writer=None):
    """PUT of a county's 31 check-marks through the API, when one is installed (config/api_urls.py)."""
    import json

    from django.urls import reverse

    route = api_route()
    if route is None:
        return Result("API 批量写 31 项", float("nan"), note="本次运行时没有 API（找不到 api:checkmarks），未测")
    writer = writer or CountyWriter(period)
    client, how = api_client(writer)
    url = reverse(route, kwargs={"code": period.code, "region_code": writer.county.code})

    def put():
        values, version = writer.next_values()
        body = {
            "checkmarks": [
                {
                    "number": n,
                    "status": v.status,
                    "done_month": f"{v.done_month:%Y-%m}" if v.done_month else None,
                    "expected_month": f"{v.expected_month:%Y-%m}" if v.expected_month else None,
                    "note": v.note,
                }
                for n, v in values.items()
            ]
        }
        response = client.put(url, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=f'"{version}"')
        if response.status_code != 200:
            raise RuntimeError(f"PUT {url}: HTTP {response.status_code} {response.content.decode()[:500]}")

    result = measured(
        f"API PUT 批量写 31 项（{writer.county.name}）", put, runs, note=f"测试客户端，{how}认证，If-Match；响应含本县全部 31 项"
    )
    result.rate = f"{1 / result.time:.0f} 次/秒"
    return result


# --- the officials' widest pages ---------------------------------------------------------------------

TARGET_PAGE_TIME = 0.3  # issue 17 §9: every page's server time for the widest scope its users have


def page_user(username, role, region=None):
    """A benchmark user of ``role`` (a national user has no region), made once and reused."""
    from accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, role=role, region=region, last_name="基准测试")
        user.set_unusable_password()
        user.full_clean()
        user.save()
    return user


def bench_pages(period, runs, large=None):
    """The officials' pages at their widest through the test client: the national overview and home,
    the largest province's heat map, province, review, blocking and promises pages. Each row: server
    time, queries and the page's weight, against 300 ms."""
    from django.test import Client, override_settings

    from accounts.models import Region

    large = large or provinces_by_size(period)[-1]
    # The officials' second factor is the login's cost, not the pages': these sessions skip it.
    with override_settings(OTP_REQUIRED=False):
        return _bench_pages(period, runs, large, Client, Region)


def _bench_pages(period, runs, large, Client, Region):
    from django.db.models import Count

    national = Client()
    national.force_login(page_user("bench_national", "national"))
    province = Client()
    province.force_login(page_user("bench_province", "province", Region.objects.get(pk=large.pk)))
    # The review page is a city's: the largest province's largest city.
    city = (
        Region.objects.filter(parent=large.pk).annotate(n=Count("children")).order_by("-n", "code").values_list("code", "name", "n").first()
    )
    pages = [
        ("全国总览（完成情况图）", national, f"/reporting/pictures/?period={period.code}"),
        (f"热力图：{large.name}（{large.county_count} 县）", national, f"/reporting/pictures/?period={period.code}&region={large.code}"),
        ("国家能源局首页", national, "/"),
        *[
            (f"{label}：{large.name}（{large.county_count} 县）", province, f"/periods/{period.code}/{kind}/{large.code}/")
            for label, kind in (("省级页", "province"), ("未完成报送", "blocking"), ("完成承诺", "promises"))
        ],
        (f"审核页：{city[1]}（{city[2]} 县）", province, f"/periods/{period.code}/review/{city[0]}/"),
    ]
    results = []
    for label, client, url in pages:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
        result = measured(
            label,
            lambda client=client, url=url: client.get(url),
            runs,
            target=f"≤ {TARGET_PAGE_TIME * 1000:.0f} ms",
            note=f"页面 {len(response.content) / 1024:.0f} KiB；{url}",
        )
        result.met = result.time <= TARGET_PAGE_TIME
        results.append(result)
    return results


# --- measured service levels from application records (issue 14 §3) ---------------------------------

LEVELS_RECORDS = 1_000_000  # a province's applications of one period, spread over its counties
LEVELS_RECORDS_QUICK = 100_000
LEVELS_CAP = 40  # indicators.applications.levels.HISTOGRAM_CAP, written again in the floor


def applications_build(period, province, total):
    """``total`` generated application records over ``province``'s counties (bulk inserts, one
    batch), with the attributes, stages and stored working days an import would give them, drawn
    from a fixed seed. Returns the number inserted."""
    import random
    from decimal import Decimal

    from accounts.models import Region
    from indicators.models import Application, ApplicationBatch, Stage
    from utilities import jobs
    from utilities.models import JobKind

    counties = list(Region.objects.filter(level="county", path__startswith=province.path).order_by("code"))
    batch = ApplicationBatch.objects.create(
        job=jobs.create(kind=JobKind.APPLICATIONS, region=province, user=None), period=period, file_name="bench.xlsx"
    )
    draw, day, chunk = random.Random(14), date(2024, 3, 1), []
    for n in range(total):
        kind = draw.choices(("residential", "low_voltage", "high_voltage"), (6, 3, 1))[0]
        three_zero = kind == "low_voltage" and draw.random() < 0.5
        stages = {Stage.ACCEPTANCE: draw.randint(0, 1), Stage.CONNECTION: draw.randint(0, 6)}
        if kind == "low_voltage" and not three_zero:
            stages[Stage.SCHEME] = draw.randint(0, 4)
        if kind == "high_voltage":
            stages |= {Stage.SCHEME: draw.randint(3, 15), Stage.COMPLETION_CHECK: draw.randint(1, 5)}
            if draw.random() < 0.5:
                stages |= {Stage.DESIGN_REVIEW: draw.randint(1, 4), Stage.MIDWAY_CHECK: draw.randint(0, 3)}
        record = Application(
            region=counties[n % len(counties)],
            period=period,
            batch=batch,
            number=f"B{n}",
            customer_class=kind,
            voltage="10kv" if kind == "high_voltage" else "380v",
            dual_source=kind == "high_voltage" and draw.random() < 0.2,
            capacity_kw=Decimal({"residential": 8, "low_voltage": draw.randint(10, 200), "high_voltage": draw.randint(200, 2000)}[kind]),
            area=draw.choice(("urban", "urban", "rural")),
            small_micro=kind == "low_voltage" and draw.random() < 0.6,
            three_zero=three_zero,
            stage_count=len(stages),
            documents="",
            investment=Decimal(0 if draw.random() < 0.8 else 500),
            force_majeure=draw.random() < 0.01,
            days_total=sum(stages.values()),
            days_elapsed=sum(stages.values()) + draw.randint(0, 3),
        )
        for stage, days in stages.items():
            setattr(record, f"{stage}_start", day)
            setattr(record, f"{stage}_end", day)
            setattr(record, f"days_{stage}", days)
        chunk.append(record)
        if len(chunk) == 5000:
            Application.objects.bulk_create(chunk)
            chunk = []
    Application.objects.bulk_create(chunk)
    return total


def _term_sql(term):
    """One predicate term (indicators.applications.predicate) written as SQL, with its parameters."""
    if term.key == "capacity_kw":
        return f"a.capacity_kw {term.op} %s", [float(term.values[0])]
    if term.key == "zero_investment":
        return ("a.investment = 0" if term.values[0] else "a.investment <> 0"), []
    if term.key in {"scheme", "design_review", "midway_check", "completion_check"}:
        return f"a.{term.key}_start IS {'NOT ' if term.values[0] else ''}NULL", []
    column = {"class": "customer_class"}.get(term.key, term.key)
    return f"a.{column} IN ({', '.join(['%s'] * len(term.values))})", list(term.values)


def _rule_sql(rule):
    """(the rule applies, the measured days) as SQL, with the parameters of the first."""
    terms = [_term_sql(t) for t in rule.terms] + ([("a.force_majeure = %s", [False])] if rule.excludes_force_majeure else [])
    applies = " AND ".join(sql for sql, _p in terms) or "1 = 1"
    fields = [f"days_{s}" for s in rule.stage_list] if rule.stages else ["days_total" if rule.measure == "total_days" else "days_elapsed"]
    return applies, [p for _sql, params in terms for p in params], " + ".join(f"a.{f}" for f in fields)


def floor_service_levels(*, period, region, rules):
    """The same figures as ``service_levels`` written as three SQL statements: the records grouped
    by child and class, the distribution of days, the trend across the program's periods."""
    from django.db import connection

    from indicators.models import Stage

    columns, params = ["COUNT(*)", "SUM(CASE WHEN a.investment = 0 THEN 1 ELSE 0 END)"], []
    for stage in Stage:
        columns += [f"SUM(CASE WHEN a.{stage}_start IS NOT NULL THEN 1 ELSE 0 END)", f"SUM(a.days_{stage})", f"MAX(a.days_{stage})"]
    columns += ["SUM(a.days_total)", "MAX(a.days_total)", "SUM(a.days_elapsed)", "MAX(a.days_elapsed)"]
    for rule in rules:
        applies, applies_params, days = _rule_sql(rule)
        columns.append(f"SUM(CASE WHEN {applies} THEN 1 ELSE 0 END)")
        params += applies_params
        if rule.statistic == "each":
            columns.append(f"SUM(CASE WHEN {applies} AND {days} <= {rule.limit} THEN 1 ELSE 0 END)")
        else:
            columns.append(f"{'SUM' if rule.statistic == 'average' else 'MAX'}(CASE WHEN {applies} THEN {days} END)")
        params += applies_params
    scope = "FROM indicators_application a JOIN accounts_region r ON r.id = a.region_id WHERE r.path LIKE %s"
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUBSTR(r.path, 1, %s), a.customer_class, {', '.join(columns)} {scope} AND a.period_id = %s GROUP BY 1, 2",
            [len(region.path) + 7, *params, f"{region.path}%", period.pk],
        )
        rows = cursor.fetchall()
        cursor.execute(
            f"SELECT a.customer_class, {least}(a.days_elapsed, {LEVELS_CAP}), COUNT(*) {scope} AND a.period_id = %s GROUP BY 1, 2",
            [f"{region.path}%", period.pk],
        )
        rows += cursor.fetchall()
        cursor.execute(
            "SELECT a.period_id, p.code, a.customer_class, COUNT(*), SUM(CASE WHEN a.investment = 0 THEN 1 ELSE 0 END), "
            "SUM(a.days_total), MAX(a.days_total), SUM(a.days_elapsed), MAX(a.days_elapsed) FROM indicators_application a "
            "JOIN accounts_region r ON r.id = a.region_id JOIN indicators_period p ON p.id = a.period_id "
            "WHERE r.path LIKE %s AND p.program_id = %s GROUP BY 1, 2, 3",
            [f"{region.path}%", period.program_id],
        )
        return rows + cursor.fetchall()


def bench_service_levels(period, runs, province, *, records):
    """The measured service levels of a province of ``records`` generated applications, against
    its floor; the query count must not change between a city and the province. Returns (result, check)."""
    from accounts.models import Region
    from indicators.applications.levels import service_levels
    from indicators.models import DAY_MEASURES, ApplicationRule

    started = time.perf_counter()
    applications_build(period, province, records)
    analyze()
    built = time.perf_counter() - started
    user = page_user("bench_levels", "province", province)
    rules = list(ApplicationRule.objects.filter(program=period.program, measure__in=DAY_MEASURES))
    city = Region.objects.filter(parent=province).order_by("code").first()
    city_queries = query_count(lambda: service_levels(user=user, region=city, period=period))
    province_queries = query_count(lambda: service_levels(user=user, region=province, period=period))
    counties = Region.objects.filter(level="county", path__startswith=province.path).count()
    result = measured(
        f"报装服务水平：{province.name}（{counties} 县，{records:,} 条记录）",
        lambda: service_levels(user=user, region=province, period=period),
        runs,
        floor_fn=lambda: floor_service_levels(period=period, region=province, rules=rules),
        target=f"≤ {TARGET_COMPILE_RATIO:g}× 底线",
        ratio_target=TARGET_COMPILE_RATIO,
        note=f"生成记录 {built:.0f} 秒；{len(rules)} 条时限；查询数 {city.name} {city_queries} 条，全省 {province_queries} 条",
    )
    check = (f"报装服务水平查询数与县数无关：{city.name} {city_queries} 条 = 全省 {province_queries} 条", city_queries == province_queries)
    return result, check


# --- running everything -----------------------------------------------------------------------------


def run_all(*, runs, report):
    """Every measurement on the database as it is (seeded); fills ``report``."""
    period = latest_period()
    provinces = provinces_by_size(period)
    results, checks = bench_attachment2(period, runs, provinces)
    report.results += results
    report.checks += checks
    report.results.append(bench_national(period, runs))
    report.results += bench_exports(period, runs, provinces[-1])
    writer = CountyWriter(period, provinces[-1])
    report.results += bench_county_page(period, runs, writer)
    report.results.append(bench_checkmarks_set(period, runs, writer))
    report.results.append(bench_api(period, runs, writer))
    report.results += bench_pages(period, runs, provinces[-1])
    result, check = bench_service_levels(period, runs, provinces[-1], records=LEVELS_RECORDS_QUICK if report.quick else LEVELS_RECORDS)
    report.results.append(result)
    report.checks.append(check)
    return report


def machine(vendor):
    """The machine and software the figures were measured on."""
    import django
    import openpyxl
    from django.db import connection

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = _meminfo("MemTotal")
    info = {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": f"{ram / 2**30:.1f} GiB" if ram else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "openpyxl": openpyxl.__version__,
    }
    if vendor == "sqlite":
        import sqlite3

        info["database"] = f"SQLite {sqlite3.sqlite_version}（WAL）"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["database"] = f"PostgreSQL {cursor.fetchone()[0]}（本机 127.0.0.1）"
    return info


def _meminfo(key):
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --- output -----------------------------------------------------------------------------------------


def _ms(seconds):
    if seconds is None or seconds != seconds:  # None or NaN
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _mib(value):
    return "—" if value is None else f"{value / 2**20:.1f} MiB"


def render(report):
    """The results as Markdown: the machine, the seed, the table, the checks."""
    m = report.machine
    lines = [
        f"### {'SQLite' if report.vendor == 'sqlite' else 'PostgreSQL'}{'（快速模式）' if report.quick else ''}",
        "",
        f"- 日期：{m['date']}",
        f"- 机器：{m['cpu']}，{m['cores']} 核，内存 {m['ram']}；{m['os']}",
        f"- 软件：Python {m['python']}，Django {m['django']}，openpyxl {m['openpyxl']}，{m['database']}",
        f"- 开始时的负载（1/5/15 分钟平均）：{m['load']}；结束时：{' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- 每项取 {report.runs} 次的中位数（先预热 1 次）；“全部省份”取 {max(1, report.runs // 2)} 次。",
    ]
    if report.seed_seconds is not None:
        lines.append(f"- 生成数据集（`seed_demo --scale national`）：{report.seed_seconds:.1f} 秒；{report.seed_summary}")
    lines += [
        "",
        "查询数：SQL 数据语句条数（括号内为另计的事务语句：BEGIN、SAVEPOINT、RELEASE、COMMIT）。",
        "",
        "| 测量 | 中位时间 | 底线 | 倍数 | 目标 | 达标 | 查询数 | 速率 | Python 峰值 | RSS 峰值 | 说明 |",
        "|---|---:|---:|---:|---|---|---:|---|---:|---:|---|",
    ]
    for r in report.results:
        ratio = f"{r.ratio:.2f}×" if r.ratio else "—"
        met = {True: "✅", False: "❌", None: "—"}[r.met]
        queries = "—" if r.queries is None else str(r.queries)
        if r.transaction_queries:
            queries += f"（+{r.transaction_queries}）"
        lines.append(
            f"| {r.name} | {_ms(r.time)} | {_ms(r.floor)} | {ratio} | {r.target or '—'} | {met} | {queries} | "
            f"{r.rate or '—'} | {_mib(r.python_peak)} | {_mib(r.rss_peak)} | {r.note} |"
        )
    lines.append("")
    for description, passed in report.checks:
        lines.append(f"- {'✅' if passed else '❌'} {description}")
    lines.append(f"- 进程 RSS 最高（ru_maxrss，含生成数据）：{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return "\n".join(lines) + "\n"


def write_doc(report, path=DOC):
    """Replace this database's part of the results section (between its markers) in the doc."""
    key = f"{report.vendor}{'-quick' if report.quick else ''}"
    start, end = f"<!-- results:{key}:start -->", f"<!-- results:{key}:end -->"
    block = f"{start}\n{render(report)}{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# 性能基准\n\n## 结果\n"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --- the database of a run --------------------------------------------------------------------------


def _pg_admin(url):
    """A psycopg2 connection in autocommit to the server of ``url`` (its database, or postgres)."""
    from urllib.parse import unquote, urlparse

    import psycopg2

    parts = urlparse(url)
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
    )
    connection.autocommit = True
    return connection


def database_create(database_url=None):
    """Make the run's own database; returns (vendor, Django DATABASE_URL, cleanup function)."""
    stamp = f"{datetime.now():%Y%m%d_%H%M%S}_{os.getpid()}"
    if not database_url:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        path = BENCH_DIR / f"bench-{stamp}.sqlite3"

        def drop():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return "sqlite", f"sqlite:///{path}", drop
    from urllib.parse import urlparse, urlunparse

    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--database-url 只接受 postgres://（SQLite 是默认）。")
    name = f"bench_{stamp}"
    admin = _pg_admin(database_url)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    parts = urlparse(database_url)

    def drop():
        from django.db import connections

        connections.close_all()
        admin = _pg_admin(database_url)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    return "postgresql", urlunparse(parts._replace(path=f"/{name}")), drop


def seed(*, quick, out):
    """Migrate, load regions and reference documents, seed the national dataset; returns (seconds, summary)."""
    from django.core.management import call_command

    sink = io.StringIO()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False, stdout=sink)
    call_command("load_regions", stdout=sink)
    call_command("load_reference", stdout=sink)
    out(f"迁移并导入区域与参考文件：{time.perf_counter() - started:.1f} 秒")
    options = {"scale": "national", "periods": QUICK_PERIODS if quick else FULL_PERIODS}
    if quick:
        options["provinces"] = ",".join(QUICK_PROVINCES)
    sink = io.StringIO()
    started = time.perf_counter()
    call_command("seed_demo", stdout=sink, **options)
    seconds = time.perf_counter() - started
    lines = [line.strip() for line in sink.getvalue().splitlines() if line.startswith("演示")]
    summary = "；".join(line for line in lines if not line.startswith("演示账号"))
    out(f"生成数据集：{seconds:.1f} 秒（{summary}）")
    analyze()
    return seconds, f"{options['periods']} 个报告期，{summary}"


def analyze():
    """PostgreSQL: fresh planner statistics after the bulk load, as autovacuum leaves them once it
    has caught up (its own ANALYZE may have run half-way through the load). SQLite: nothing — a
    deployment does not run ANALYZE, so neither does the benchmark."""
    from django.apps import apps
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in apps.get_models() if m._meta.managed)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="性能基准：每项与其底线在同一次运行中对比测量。")
    parser.add_argument(
        "--quick", action="store_true", help=f"快速模式：{len(QUICK_PROVINCES)} 个省、{QUICK_PERIODS} 个报告期、每项 3 次。"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL 服务器（postgres://user:pass@host:5432/postgres）；在其上建库 bench_… 并在结束后删除。默认用 var/bench/ 下的新 SQLite 文件。",
    )
    parser.add_argument("--runs", type=int, default=None, help="每项运行次数（默认：完整 11 次，快速 3 次）。")
    parser.add_argument("--keep", action="store_true", help="保留本次的数据库。")
    doc = parser.add_mutually_exclusive_group()
    doc.add_argument("--doc", action="store_true", help="快速模式也写入 docs/benchmarks.md。")
    doc.add_argument("--no-doc", action="store_true", help="不写 docs/benchmarks.md。")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 11)

    vendor, url, drop = database_create(args.database_url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    def out(message):
        print(message, flush=True)

    out(f"数据库：{vendor}（{url.rsplit('@', 1)[-1]}）")
    try:
        seconds, summary = seed(quick=args.quick, out=out)
        report = Report(vendor, args.quick, runs, machine(vendor), seconds, summary)
        run_all(runs=runs, report=report)
        text = render(report)
        print()
        print(text)
        if (not args.quick or args.doc) and not args.no_doc:
            write_doc(report)
            out(f"已写入 {DOC.relative_to(ROOT)}")
    finally:
        if args.keep:
            out(f"保留数据库：{url}")
        else:
            drop()
    failed = [d for d, passed in report.checks if not passed]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
