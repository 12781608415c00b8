"""Compiling the statistics tables from the database: snapshots, jobs, commands and 附件3 figures."""

from datetime import date
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import Region
from indicators import services as marks
from indicators.models import Checkmark
from indicators.services import CheckmarkValue
from reporting import services
from reporting.models import Benefit, JobState, ReportJob, ReportSnapshot
from tests.conftest import company_for_tests
from utilities import jobs
from utilities.models import JobKind

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 5)


@pytest.fixture
def province_user(make_user):
    return make_user("p", "province", "510000", last_name="省能源局", phone="13800000000")


def tick_all(period, province_code, complete=True):
    """Check-marks for every county of a province, written in bulk like the demo data; when not
    ``complete``, each county leaves one indicator open (a different one per county)."""
    province = Region.objects.get(code=province_code)
    indicators = list(period.indicator_set.indicators.filter(level="county"))
    rows = []
    for i, county in enumerate(Region.objects.filter(level="county", path__startswith=province.path).order_by("code")):
        for j, indicator in enumerate(indicators):
            done = complete or j != i % len(indicators)
            rows.append(
                Checkmark(
                    region=county,
                    period=period,
                    indicator=indicator,
                    status="done" if done else "not_done",
                    done_month=date(2022, 3, 1) if done else None,
                    expected_month=None if done else date(2022, 12, 1),
                )
            )
    Checkmark.objects.bulk_create(rows)


def test_attachment2_from_the_database(period, province_user):
    tick_all(period, "640000", complete=False)
    marks.checkmarks_set(
        user=province_user,
        region=Region.objects.get(code="510000"),
        period=period,
        values={21: CheckmarkValue("done"), 33: CheckmarkValue("not_done", expected_month=date(2022, 9, 1))},
        today=TODAY,
    )
    ningxia = Region.objects.get(code="640000")
    table = services.attachment2_compile(province=ningxia, period=period)
    county_rows = [r for r in table.rows if r.kind == "county"]
    assert len(county_rows) == Region.objects.filter(level="county", path__startswith="640000/").count()
    assert table.header.title == "宁夏回族自治区“获得电力”任务指标完成情况统计表"
    assert table.header.period_line == "（2022年1月—2022年6月）"
    for row in county_rows:
        ticks = Checkmark.objects.filter(region__code=row.region_code, period=period, status="done").count()
        assert row.done == ticks
    sichuan = services.attachment2_compile(province=Region.objects.get(code="510000"), period=period, user=province_user)
    assert sichuan.rows[0].cells[20] == "已完成" and sichuan.rows[0].cells[32] == "2022年9月"
    assert sichuan.header.filled_by == "省能源局 13800000000"
    assert all(c == "" for r in sichuan.rows if r.kind == "county" for c, col in zip(r.cells, sichuan.columns) if col.level == "county")


def test_query_count_does_not_grow_with_the_number_of_counties(period):
    tick_all(period, "640000")
    tick_all(period, "510000")
    counts = {}
    for code in ("640000", "510000"):
        with CaptureQueriesContext(connection) as queries:
            services.attachment2_compile(province=Region.objects.get(code=code), period=period)
            services.attachment3_compile(province=Region.objects.get(code=code), period=period)
        counts[code] = len(queries)
    assert counts["640000"] == counts["510000"] <= 8


def test_compile_keeps_snapshots_and_never_overwrites_a_confirmed_one(period, province_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    tick_all(period, "510000", complete=False)
    sichuan = Region.objects.get(code="510000")
    steps = []
    first = services.report_compile(user=province_user, province=sichuan, period=period, progress=lambda p, m: steps.append(p))
    assert [s.kind for s in first] == ["attachment2", "attachment3"]
    assert steps[-1] == 100 and steps == sorted(steps)
    workbook = load_workbook(BytesIO(first[0].xlsx.read()))
    assert workbook.active["A1"].value == "四川省“获得电力”任务指标完成情况统计表"
    services.snapshot_confirm(user=province_user, snapshot=first[0])
    with pytest.raises(ValidationError, match="已经确认"):
        services.snapshot_confirm(user=province_user, snapshot=first[0])
    confirmed = ReportSnapshot.objects.get(pk=first[0].pk)
    confirmed.data = {}
    with pytest.raises(ValidationError, match="不能修改"):
        confirmed.save()
    second = services.report_compile(user=province_user, province=sichuan, period=period)
    assert ReportSnapshot.objects.count() == 4 and second[0].pk != first[0].pk
    assert ReportSnapshot.objects.get(pk=first[0].pk).confirmed_at is not None


def test_only_officials_of_the_province_compile(period, make_user):
    sichuan = Region.objects.get(code="510000")
    for role, code in (("county", "510104"), ("city", "510100"), ("province", "500000"), ("supply_company", "510000")):
        with pytest.raises(PermissionDenied):
            services.report_compile(user=make_user(f"u-{role}-{code}", role, code), province=sichuan, period=period)
    with pytest.raises(PermissionDenied, match="全国汇总"):
        services.report_compile(user=make_user("p2", "province", "510000"), province=None, period=period)


def test_a_job_runs_and_reports_progress(period, province_user, settings, tmp_path, django_capture_on_commit_callbacks):
    """Eager here (unit-test settings); the integration test runs the same task on a real worker."""
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_job_start(user=province_user, province=Region.objects.get(code="510000"), period=period)
    job.refresh_from_db()
    assert (job.state, job.progress, job.message, job.attempts) == (JobState.DONE, 100, "编制完成", 1)
    assert job.snapshots.count() == 2


def test_a_failing_job_is_marked_failed(period, province_user, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(services, "attachment2_compile", broken)
    monkeypatch.setitem(services.WRITERS, "attachment2", (broken, None))
    job = ReportJob.objects.create(
        job=jobs.create(kind=JobKind.REPORT, region=Region.objects.get(code="510000"), user=province_user),
        period=period,
    )
    with pytest.raises(RuntimeError):
        services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "磁盘已满" in job.message
    assert not ReportSnapshot.objects.exists()


def test_national_rollup(period, settings, tmp_path, make_user):
    settings.MEDIA_ROOT = tmp_path
    tick_all(period, "640000")
    tick_all(period, "630000", complete=False)
    [snapshot] = services.report_compile(user=make_user("n", "national"), province=None, period=period)
    rows = {r["province_code"]: r for r in snapshot.data["rows"]}
    ningxia_counties = Region.objects.filter(level="county", path__startswith="640000/").count()
    assert rows["640000"]["complete"] == ningxia_counties and rows["640000"]["percent"] == "100%"
    assert rows["630000"]["complete"] == 0
    assert len(rows) == 31 and rows["510000"]["percent"] == "0%"


def test_benefit_figures_all_or_nothing(make_user):
    supply = make_user("s", "supply_company", "510100")
    region = Region.objects.get(code="510100")
    with pytest.raises(ValidationError) as exc:
        services.benefits_set(
            user=supply,
            region=region,
            year=2022,
            half=1,
            figures={
                ("residential", "households"): "12.5",
                ("other", "investment"): "-1",
                ("sansheng", "sales"): "abc",
                ("small_business", "capacity"): "1.234",
            },
        )
    errors = exc.value.message_dict
    assert "必须是整数" in errors["residential-households"][0]
    assert "不能为负数" in errors["other-investment"][0]
    assert "不是数字" in errors["sansheng-sales"][0]
    assert "最多保留 2 位小数" in errors["small_business-capacity"][0]
    assert not Benefit.objects.exists()
    services.benefits_set(
        user=supply, region=region, year=2022, half=1, figures={("residential", "households"): "120", ("residential", "investment"): "3.50"}
    )
    # Its company serves 成都市: a county of it is another level, outside the service area.
    with pytest.raises(ValidationError, match="锦江区不在s供电公司的供电服务区域内"):
        services.benefits_set(
            user=supply, region=Region.objects.get(code="510104"), year=2022, half=2, figures={("residential", "households"): "30"}
        )
    with pytest.raises(PermissionDenied):
        services.benefits_set(user=supply, region=Region.objects.get(code="511100"), year=2022, half=1, figures={})
    with pytest.raises(PermissionDenied):
        services.benefits_set(
            user=make_user("k", "county", "510104"), region=Region.objects.get(code="510104"), year=2022, half=1, figures={}
        )


def test_attachment3_sums_the_halves(period, make_user):
    cities = Region.objects.filter(code__in=["510100", "511100"])
    supply = make_user("s", "supply_company", "510000", company=company_for_tests("s", *cities))
    services.benefits_set(
        user=supply,
        region=Region.objects.get(code="510100"),
        year=2022,
        half=1,
        figures={("residential", "households"): "100", ("sansheng", "capacity"): "1.25"},
    )
    services.benefits_set(
        user=supply, region=Region.objects.get(code="511100"), year=2022, half=1, figures={("residential", "households"): "20"}
    )
    services.benefits_set(
        user=supply, region=Region.objects.get(code="510100"), year=2022, half=2, figures={("residential", "households"): "7"}
    )
    services.benefits_set(
        user=make_user("s2", "supply_company", "500000"),
        region=Region.objects.get(code="500000"),
        year=2022,
        half=1,
        figures={("residential", "households"): "9999"},
    )
    sichuan = Region.objects.get(code="510000")
    h1 = services.attachment3_compile(province=sichuan, period=period)
    assert h1.rows[0] == ("受益户数（户）", ["120", "0", "0", "0"], "120")
    assert h1.rows[3][1][3] == "1.25"
    full = marks.period_open(code="2022")[0]
    assert services.attachment3_compile(province=sichuan, period=full).rows[0][2] == "127"


def test_commands(period, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    out = tmp_path / "blank.xlsx"
    call_command("export_report", "attachment2", "--period", "2022S1", "--province", "640000", "-o", str(out))
    sheet = load_workbook(out).active
    names = {cell.value for row in sheet.iter_rows(min_col=4, max_col=4) for cell in row}
    counties = set(Region.objects.filter(level="county", path__startswith="640000/").values_list("name", flat=True))
    assert counties <= names
    with pytest.raises(CommandError, match="尚未开放"):
        call_command("export_report", "attachment2", "--period", "2030S1", "--province", "640000", "-o", str(out))
    with pytest.raises(CommandError, match="不是省级"):
        call_command("export_report", "attachment3", "--period", "2022S1", "--province", "510100", "-o", str(out))
    call_command("compile_reports", "--period", "2022S1", "--province", "640000")
    assert ReportSnapshot.objects.filter(region__code="640000").count() == 2


def test_a_snapshot_describes_its_data_in_officials_words(period, make_user):
    from reporting.selectors import data_state

    sichuan = Region.objects.get(code="510000")
    assert data_state(region=sichuan, period=period) == "本期尚无填报与审核记录；服务效益尚未填报"
    clerk = make_user("jj", "county", "510104")
    marks.checkmarks_set(user=clerk, region=clerk.region, period=period, values={1: CheckmarkValue("done", done_month=date(2022, 3, 1))})
    state = data_state(region=sichuan, period=period)
    assert state.startswith("本期填报与审核记录 1 条（最近一条 #") and state.endswith("；服务效益尚未填报")
