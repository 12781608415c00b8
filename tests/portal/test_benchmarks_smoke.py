"""benchmarks/run.py keeps working: each measurement once on a tiny dataset (two small provinces,
two periods). Nothing is timed here; what is asserted are the query-count invariants the
benchmarks report: table 2 and the county page do not ask more of the database for a larger
province, the county page keeps within its query budgets, and a bulk write of 31 check-marks costs the same statements as one of 2.
"""

import pytest

from benchmarks import run
from indicators.demo import demo_national_progress_create

pytestmark = pytest.mark.django_db

SMALL, LARGER = "110000", "640000"  # 北京市 16 counties, 宁夏回族自治区 22


@pytest.fixture
def period():
    demo_national_progress_create(period_count=2, province_codes=[SMALL, LARGER])
    return run.latest_period()


def test_every_measurement_runs_and_the_query_counts_do_not_grow(period):
    provinces = run.provinces_by_size(period)
    assert [p.code for p in provinces] == [SMALL, LARGER]

    results, checks = run.bench_attachment2(period, 1, provinces)
    assert checks and all(passed for _description, passed in checks), checks
    results.append(run.bench_national(period, 1))
    results += run.bench_exports(period, 1, provinces[-1])
    writer = run.CountyWriter(period, provinces[-1])
    county = run.bench_county_page(period, 1, writer)
    assert all(r.met for r in county), [(r.name, r.queries) for r in county]  # within the pages' query budgets
    results += county
    results.append(run.bench_checkmarks_set(period, 1, writer))
    results.append(run.bench_api(period, 1, writer))
    results += run.bench_pages(period, 1, provinces[-1])  # the officials' widest pages: each answers 200
    for result in results:
        assert result.time > 0 or result.note, result
        assert result.python_peak is None or result.python_peak > 0

    report = run.Report(
        "sqlite", True, 1, dict.fromkeys(("date", "cpu", "cores", "ram", "os", "python", "django", "openpyxl", "database", "load"), "x")
    )
    report.results, report.checks = results, checks
    assert "附件2 编制" in run.render(report)


def test_the_floor_counts_what_table_2_counts(period):
    """The floor reads the same rows: its per-county done counts are the table's 完成个数."""
    province = run.provinces_by_size(period)[-1]
    table = run.compile_province(province, period)
    from accounts.models import Region

    codes = dict(Region.objects.filter(level="county", path__startswith=province.path).values_list("pk", "code"))
    floor = {
        codes[key]: n for kind, key, _indicator, n in run.floor_attachment2(period=period, path_prefix=province.path) if kind == "county"
    }
    assert floor == {row.region_code: row.done for row in table.rows if row.kind == "county"}
    per_city = sum(n for kind, _key, _indicator, n in run.floor_attachment2(period=period, path_prefix=province.path) if kind == "city")
    assert per_city == sum(row.done for row in table.rows if row.kind == "county")


def test_the_county_page_and_the_bulk_write_cost_the_same_for_any_county_and_any_number_of_values(period):
    from django.test import Client

    from indicators.models import Channel
    from indicators.services import checkmarks_set

    small, larger = run.provinces_by_size(period)
    pages = []
    for province in (small, larger):
        writer = run.CountyWriter(period, province)
        client = Client()
        client.force_login(writer.user)
        url = f"/periods/{period.code}/sheet/{writer.county.code}/"
        pages.append(run.query_count(lambda client=client, url=url: client.get(url)))
    assert pages[0] == pages[1]

    def write(count):
        values, version = writer.next_values()
        subset = dict(list(values.items())[:count])
        return run.query_count(
            lambda: checkmarks_set(
                user=writer.user,
                region=writer.county,
                period=period,
                values=subset,
                expected_version=version,
                channel=Channel.API,
            )
        )

    assert write(31) == write(2)
