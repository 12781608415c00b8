"""附件2 and 附件3 as plain functions of data: the seed's worked example and a generated province."""

import random
from decimal import Decimal

from reporting.tables import (
    DONE_MARK,
    CityInput,
    Column,
    CountyInput,
    Header,
    build_attachment2,
    build_attachment3,
    build_national_rollup,
)
from utilities.formatting import percent_text

PROVINCE_LEVEL = {21, 27, 29, 30, 33, 37, 38}


def groups_of(n):
    return "2020年指标" if n <= 21 else "2021年指标" if n <= 33 else "2022年指标" if n <= 36 else "持续推进指标"


COLUMNS = [
    Column(n, f"*{n}" if n in PROVINCE_LEVEL else str(n), groups_of(n), "province" if n in PROVINCE_LEVEL else "county")
    for n in range(1, 39)
]
COUNTY_NUMBERS = [c.number for c in COLUMNS if c.level == "county"]
HEADER = Header("××省“获得电力”任务指标完成情况统计表", "（2022年1月—2022年6月）", "990000", "××省", "2022S1")


def county(code, name, done_numbers, month="2021年8月"):
    return CountyInput(code, name, {n: DONE_MARK if n in done_numbers else month for n in COUNTY_NUMBERS})


def test_the_seeds_worked_example():
    """C区 31 → 31/0/100%; D县 28 → 28/3/90.3%; A市 1/1/50%; a province of 150 counties, 108 complete → 108/42/72%."""
    all_done = set(COUNTY_NUMBERS)
    d_county_done = all_done - {2, 36, 22}  # three indicators still open, like D县's “2021年8月” under 2
    a_city = CityInput("990100", "A市", [county("990101", "C区", all_done), county("990102", "D县", d_county_done)])
    # The rest of the 150 counties: 107 more complete ones and 41 incomplete, spread over 9 more cities.
    others, complete_left, incomplete_left = [], 107, 41
    for k in range(9):
        counties = []
        for i in range(16 if k < 5 else 17):
            if complete_left:
                counties.append(county(f"99{k + 2:02d}{i:02d}", f"完成县{k}-{i}", all_done))
                complete_left -= 1
            else:
                counties.append(county(f"99{k + 2:02d}{i:02d}", f"未完成县{k}-{i}", all_done - {5}))
                incomplete_left -= 1
        others.append(CityInput(f"99{k + 2:02d}00", f"B{k}市", counties))
    assert complete_left == 0 and incomplete_left == 0
    table = build_attachment2(header=HEADER, columns=COLUMNS, province_cells={21: "已完成", 33: "2021年4月"}, cities=[a_city, *others])
    rows = {(r.kind, r.county): r for r in table.rows}
    province = table.rows[0]
    assert (province.province, province.city, province.county) == ("××省", "共10个地市", "共150个县")
    assert (province.done, province.not_done, province.percent) == (108, 42, "72%")
    assert province.cells[20] == "已完成" and province.cells[32] == "2021年4月" and province.cells[0] == "/"
    c = rows[("county", "C区")]
    assert (c.serial, c.city, c.done, c.not_done, c.percent) == ("1.1", "A市", 31, 0, "100%")
    d = rows[("county", "D县")]
    assert (d.serial, d.done, d.not_done, d.percent) == ("1.2", 28, 3, "90.3%")
    assert d.cells[1] == "2021年8月" and d.cells[0] == DONE_MARK and d.cells[20] == "/"
    subtotal = rows[("subtotal", "A市小计")]
    assert (subtotal.serial, subtotal.done, subtotal.not_done, subtotal.percent) == ("1.3", 1, 1, "50%")
    assert subtotal.cells[0] == 2 and subtotal.cells[1] == 1 and subtotal.cells[20] == "/"
    city = table.rows[1]
    assert (city.kind, city.serial, city.city, city.county) == ("city", "1", "A市", "2个县")
    assert [r.county for r in table.rows[-3:]] == ["已完成县个数", "未完成县个数", "完成百分比"]
    assert table.groups == [("2020年指标", 21), ("2021年指标", 12), ("2022年指标", 3), ("持续推进指标", 2)]


def test_a_generated_province_against_an_independent_count():
    rng = random.Random(7)
    cities, truth = [], {}
    for k in range(12):
        counties = []
        for i in range(rng.randint(8, 40)):
            cells = {n: rng.choice([DONE_MARK, DONE_MARK, DONE_MARK, "2023年3月", ""]) for n in COUNTY_NUMBERS}
            if rng.random() < 0.3:
                cells = dict.fromkeys(COUNTY_NUMBERS, DONE_MARK)
            code = f"99{k:02d}{i:02d}"
            counties.append(CountyInput(code, f"县{code}", cells))
            truth[code] = cells
        cities.append(CityInput(f"99{k:02d}00", f"市{k}", counties))
    table = build_attachment2(header=HEADER, columns=COLUMNS, province_cells={}, cities=cities)
    complete = [code for code, cells in truth.items() if all(v == "√" for v in cells.values())]
    province = table.rows[0]
    assert province.done == len(complete) and province.not_done == len(truth) - len(complete)
    for row in table.rows:
        if row.kind == "county":
            done = sum(v == "√" for v in truth[row.region_code].values())
            assert (row.done, row.not_done) == (done, 31 - done)
    for city in cities:
        subtotal = next(r for r in table.rows if r.kind == "subtotal" and r.region_code == city.code)
        for index, column in enumerate(COLUMNS):
            if column.level == "county":
                assert subtotal.cells[index] == sum(c.cells[column.number] == "√" for c in city.counties)
    stats = {r.county: r for r in table.rows if r.kind == "stat"}
    for index, column in enumerate(COLUMNS):
        if column.level == "county":
            done = sum(cells[column.number] == "√" for cells in truth.values())
            assert stats["已完成县个数"].cells[index] == done
            assert stats["未完成县个数"].cells[index] == len(truth) - done
            assert stats["完成百分比"].cells[index] == percent_text(done, len(truth))
        else:
            assert stats["已完成县个数"].cells[index] == "/"
    assert len(table.rows) == 1 + sum(len(c.counties) + 2 for c in cities) + 3


def test_attachment3_sums_and_rounds():
    totals = {
        ("households", "residential"): 1200,
        ("households", "sansheng"): 35,
        ("investment", "residential"): Decimal("12.345"),
        ("investment", "other"): Decimal("0.5"),
        ("sales", "small_business"): Decimal("3"),
    }
    table = build_attachment3(header=HEADER, totals=totals)
    assert table.rows[0] == ("受益户数（户）", ["1200", "0", "0", "35"], "1235")
    assert table.rows[1] == ("节省投资（万元）", ["12.35", "0.00", "0.50", "0.00"], "12.85")
    assert table.rows[2][2] == "3.00"


def test_national_rollup():
    rollup = build_national_rollup(
        period_code="2022S1",
        period_line="（2022年1月—2022年6月）",
        columns=COLUMNS,
        provinces=[("510000", "四川省", 183, 61, {1: 183, 2: 90})],
    )
    row = rollup.rows[0]
    assert (row.counties, row.complete, row.percent) == (183, 61, "33.3%")
    assert row.indicator_percents[:3] == ["100%", "49.2%", "0%"] and len(row.indicator_percents) == 31
