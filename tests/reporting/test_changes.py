"""What changed between two periods (issue 8 §6): the pure comparison, its reads, the page, the
workbook and the extra sheet of a compiled 附件2."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import Region
from indicators import services as marks
from indicators.services import CheckmarkValue
from reporting import excel, services
from reporting.changes import (
    BLANK_MARK,
    Change,
    Mark,
    PeriodRef,
    build_changes,
    classify,
)
from reporting.selectors import changes_input
from reporting.tables import Column

pytestmark = pytest.mark.django_db

# --- build_changes on hand-made data ----------------------------------------------------------------

COLUMNS = [Column(n, str(n), "2020年指标", "county") for n in range(1, 7)] + [
    Column(21, "*21", "2020年指标", "province"),
    Column(37, "*37", "持续推进指标", "province"),
]


def done(year, month, text="√"):
    return Mark("done", date(year, month, 1), text)


def due(year, month):
    return Mark("not_done", date(year, month, 1), f"{year}年{month}月")


ALL_DONE = {n: done(2022, 3) for n in range(1, 7)}
BEFORE = {
    "A": {2: due(2022, 9), 3: due(2022, 12), 5: done(2022, 3), 6: done(2022, 3)},
    "B": {1: due(2022, 9), 2: done(2022, 2), 3: due(2022, 12), 4: due(2022, 12), 5: done(2022, 1), 6: done(2022, 1)},
    "D": ALL_DONE,
    "E": {**ALL_DONE, 6: due(2022, 11)},
    "P": {21: due(2022, 9), 37: Mark("done", None, "已开展")},
}
AFTER = {
    "A": {1: done(2022, 9), 2: due(2022, 12), 3: due(2022, 10), 4: due(2023, 3), 5: due(2022, 12), 6: done(2022, 3)},
    "B": {1: done(2022, 8), 2: done(2022, 2), 4: due(2022, 12), 5: done(2022, 1), 6: done(2022, 1)},
    "D": ALL_DONE,
    "E": {**ALL_DONE, 6: done(2022, 11)},
    "P": {21: Mark("done", None, "已完成")},
}


def hand_made(county_a="甲县"):
    return build_changes(
        province=("P", "某省"),
        before=PeriodRef("2022S1", "2022年上半年"),
        after=PeriodRef("2022", "2022年全年"),
        columns=COLUMNS,
        cities=[("C1", "一市", [("A", county_a), ("B", "乙县")]), ("C2", "二市", [("D", "丁县"), ("E", "戊县")])],
        before_marks=BEFORE,
        after_marks=AFTER,
        before_benefits={("households", "residential"): 10, ("investment", "residential"): Decimal("1.5")},
        after_benefits={
            ("households", "residential"): 25,
            ("investment", "residential"): Decimal("1.5"),
            ("sales", "other"): Decimal("3.25"),
        },
    )


def test_each_kind_is_listed_and_counted():
    changes = hand_made()
    one, two = changes.cities
    a, b = one.counties
    assert a.changes == [
        Change("done", "新完成", 1, "1", "空白", "√（2022年9月完成）"),
        Change("postponed", "推迟", 2, "2", "预计2022年9月", "预计2022年12月"),
        Change("advanced", "提前", 3, "3", "预计2022年12月", "预计2022年10月"),
        Change("promised", "新填预计", 4, "4", "空白", "预计2023年3月"),
        Change("regressed", "回退", 5, "5", "√（2022年3月完成）", "预计2022年12月"),
    ]
    assert a.counts == [1, 1, 1, 1, 1]
    assert b.changes == [
        Change("done", "新完成", 1, "1", "预计2022年9月", "√（2022年8月完成）"),
        Change("regressed", "回退", 3, "3", "预计2022年12月", "空白"),
    ]
    assert b.counts == [1, 0, 0, 0, 1]
    assert (one.county_count, one.complete_before, one.complete_after, one.counts) == (2, 0, 0, [2, 1, 1, 1, 2])
    # 丁县 did not change: counted among the counties, not listed
    assert [c.name for c in two.counties] == ["戊县"]
    assert (two.county_count, two.complete_before, two.complete_after, two.counts) == (2, 1, 2, [1, 0, 0, 0, 0])
    assert changes.province.changes == [
        Change("done", "新完成", 21, "*21", "预计2022年9月", "已完成"),
        Change("regressed", "回退", 37, "*37", "已开展", "空白"),
    ]
    assert (changes.county_count, changes.complete_before, changes.complete_after) == (4, 1, 2)
    assert changes.counts == [4, 1, 1, 1, 3]
    assert [(i.label, i.counts) for i in changes.indicators] == [
        ("1", [2, 0, 0, 0, 0]),
        ("2", [0, 1, 0, 0, 0]),
        ("3", [0, 0, 1, 0, 1]),
        ("4", [0, 0, 0, 1, 0]),
        ("5", [0, 0, 0, 0, 1]),
        ("6", [1, 0, 0, 0, 0]),
        ("*21", [1, 0, 0, 0, 0]),
        ("*37", [0, 0, 0, 0, 1]),
    ]


def test_benefits_list_the_changed_figures_and_every_total():
    lines = [(row.label, cell.column, cell.before, cell.after, cell.difference) for row, cell in hand_made().benefit_lines]
    assert lines == [
        ("受益户数（户）", "居民用户", "10", "25", "+15"),
        ("受益户数（户）", "合计", "10", "25", "+15"),
        ("节省投资（万元）", "合计", "1.50", "1.50", "0"),
        ("增加售电量（万千瓦时）", "其他用户", "0.00", "3.25", "+3.25"),
        ("增加售电量（万千瓦时）", "合计", "0.00", "3.25", "+3.25"),
        ("增加容量（万千瓦安）", "合计", "0.00", "0.00", "0"),
    ]


@pytest.mark.parametrize(
    "before, after, kind",
    [
        (BLANK_MARK, BLANK_MARK, None),
        (done(2022, 3), done(2022, 5), None),  # a corrected done month is no change of state
        (due(2022, 9), due(2022, 9), None),
        (due(2022, 9), BLANK_MARK, "regressed"),
        (BLANK_MARK, done(2022, 1), "done"),
        (done(2022, 1), BLANK_MARK, "regressed"),
    ],
)
def test_classify(before, after, kind):
    assert classify(before, after) == kind


# --- the reads, across 2022S1 → 2022 ----------------------------------------------------------------

NINGXIA, XINGQING, XIXIA, JINFENG = "640000", "640104", "640105", "640106"


@pytest.fixture
def two_periods(make_user):
    """宁夏 in 2022S1 and 2022: check-marks written by the province official, figures by its supply company."""
    official = make_user("p", "province", NINGXIA)
    supply = make_user("s", "supply_company", NINGXIA)
    region = Region.objects.get
    h1 = marks.period_open(code="2022S1")[0]

    def write(period, code, values, today):
        marks.checkmarks_set(user=official, region=region(code=code), period=period, values=values, today=today)

    mid = date(2022, 7, 5)
    write(
        h1,
        XINGQING,
        {
            1: CheckmarkValue("done", done_month=date(2022, 3, 1)),
            2: CheckmarkValue("not_done", expected_month=date(2022, 9, 1)),
            3: CheckmarkValue("not_done", expected_month=date(2022, 12, 1)),
        },
        mid,
    )
    write(h1, XIXIA, {1: CheckmarkValue("not_done", expected_month=date(2022, 10, 1))}, mid)
    write(h1, NINGXIA, {21: CheckmarkValue("not_done", expected_month=date(2022, 9, 1))}, mid)
    services.benefits_set(
        user=supply,
        region=region(code=NINGXIA),
        year=2022,
        half=1,
        figures={("residential", "households"): "100", ("sansheng", "investment"): "12.5"},
    )

    full = marks.period_open(code="2022")[0]  # starts from 2022S1's state
    end = date(2022, 12, 20)
    write(
        full,
        XINGQING,
        {
            1: CheckmarkValue("not_done", expected_month=date(2023, 6, 1)),
            2: CheckmarkValue("done", done_month=date(2022, 10, 1)),
            3: CheckmarkValue("not_done", expected_month=date(2023, 3, 1)),
        },
        end,
    )
    write(full, XIXIA, {1: CheckmarkValue("not_done", expected_month=date(2022, 8, 1))}, end)
    write(full, JINFENG, {4: CheckmarkValue("not_done", expected_month=date(2022, 12, 1))}, end)
    write(full, NINGXIA, {21: CheckmarkValue("done")}, end)
    services.benefits_set(user=supply, region=region(code=NINGXIA), year=2022, half=2, figures={("residential", "households"): "30"})
    return h1, full


def test_the_selector_compares_the_two_periods(two_periods):
    h1, full = two_periods
    changes = build_changes(**changes_input(province=Region.objects.get(code=NINGXIA), before=h1, after=full))
    yinchuan = changes.cities[0]
    assert yinchuan.name == "银川市" and yinchuan.county_count == 6 and len(changes.cities) == 5
    listed = {county.name: [(c.kind, c.label, c.before, c.after) for c in county.changes] for county in yinchuan.counties}
    assert listed == {
        "兴庆区": [
            ("regressed", "1", "√（2022年3月完成）", "预计2023年6月"),
            ("done", "2", "预计2022年9月", "√（2022年10月完成）"),
            ("postponed", "3", "预计2022年12月", "预计2023年3月"),
        ],
        "西夏区": [("advanced", "1", "预计2022年10月", "预计2022年8月")],
        "金凤区": [("promised", "4", "空白", "预计2022年12月")],
    }
    assert yinchuan.counts == [1, 1, 1, 1, 1]
    assert all(city.counts == [0] * 5 and not city.counties for city in changes.cities[1:])
    assert [(c.kind, c.label, c.after) for c in changes.province.changes] == [("done", "*21", "已完成")]
    assert changes.counts == [2, 1, 1, 1, 1]
    assert changes.county_count == Region.objects.filter(level="county", path__startswith=f"{NINGXIA}/").count()
    # 附件3: the H1 table has the first half, the full-year table both halves
    households = changes.benefits[0]
    assert [(c.column, c.before, c.after, c.difference) for c in households.cells if c.changed] == [
        ("居民用户", "100", "130", "+30"),
        ("合计", "100", "130", "+30"),
    ]
    investment = changes.benefits[1]
    assert not any(c.changed for c in investment.cells) and investment.cells[-1].after == "12.50"


def test_the_reads_take_the_same_queries_for_one_county_or_many(two_periods, make_user):
    h1, full = two_periods
    official = make_user("sc", "province", "510000")
    sichuan = Region.objects.get(code="510000")
    counties = list(Region.objects.filter(level="county", path__startswith=sichuan.path)[:40])
    for county in counties:
        marks.checkmarks_set(
            user=official,
            region=county,
            period=full,
            today=date(2022, 12, 20),
            values={5: CheckmarkValue("done", done_month=date(2022, 11, 1))},
        )
    counts = {}
    for code in ("110000", NINGXIA, "510000"):  # no check-mark, 3 counties changed, 40 counties changed
        province = Region.objects.get(code=code)
        with CaptureQueriesContext(connection) as queries:
            changes = services.changes_compile(province=province, before=h1, after=full)
        counts[code] = len(queries)
    assert changes.counts[0] == len(counties)
    assert counts["110000"] == counts[NINGXIA] == counts["510000"] == 5


def test_the_periods_are_checked(two_periods):
    h1, full = two_periods
    assert services.changes_periods(before="2022S1", after="2022") == (h1, full)
    for before, after, message in [
        ("2022", "2022S1", "比较的前一报告期（2022年全年）必须早于后一报告期（2022年上半年）结束。"),
        ("2022", "2022", "比较的前一报告期（2022年全年）必须早于后一报告期（2022年全年）结束。"),
        ("2021S1", "2022", "报告期 2021S1 不存在。"),
        ("", "2023", "报告期 （空）、2023 不存在。"),
    ]:
        with pytest.raises(ValidationError) as raised:
            services.changes_periods(before=before, after=after)
        assert raised.value.messages == [message]


# --- the page and its download ----------------------------------------------------------------------


def test_the_page_for_a_province_official(two_periods, client, make_user):
    client.force_login(make_user("viewer", "province", NINGXIA))
    response = client.get(f"/reporting/changes/?region={NINGXIA}&before=2022S1&after=2022")
    assert response.status_code == 200
    page = response.content.decode()
    assert "任务指标变化情况 · 宁夏回族自治区" in page and "兴庆区：3 项变化" in page
    assert "预计2023年6月" in page and "银川市（3 / 6 个县有变化）" in page
    assert response.context["changes"].counts == [2, 1, 1, 1, 1]
    # without periods: the latest period and the one before it
    default = client.get("/reporting/changes/")
    assert default.status_code == 200 and (default.context["before"], default.context["after"]) == ("2022S1", "2022")
    assert default.context["region"].code == NINGXIA
    reversed_ = client.get(f"/reporting/changes/?region={NINGXIA}&before=2022&after=2022S1")
    assert reversed_.status_code == 400 and "必须早于" in reversed_.content.decode()
    assert client.get(f"/reporting/changes/?region={NINGXIA}&before=2019&after=2022").status_code == 400
    assert "与上期比较" in client.get(f"/reporting/?region={NINGXIA}&period=2022").content.decode()


def test_the_page_is_scoped(two_periods, client, make_user):
    url = "/reporting/changes/?region={}&before=2022S1&after=2022"
    client.force_login(make_user("county", "county", XINGQING))
    assert client.get(url.format(NINGXIA)).status_code == 403
    client.force_login(make_user("other", "province", "510000"))
    assert client.get(url.format(NINGXIA)).status_code == 404
    assert client.get(url.format(NINGXIA) + "&format=xlsx").status_code == 404
    client.force_login(make_user("nation", "national"))
    assert client.get(url.format(NINGXIA)).status_code == 200


def test_the_download_reads_back_cell_by_cell(two_periods, client, make_user):
    client.force_login(make_user("viewer", "regulator", NINGXIA))
    response = client.get(f"/reporting/changes/?region={NINGXIA}&before=2022S1&after=2022&format=xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["与上期比较"]
    ws = workbook["与上期比较"]
    assert ws["A1"].value == "宁夏回族自治区“获得电力”任务指标变化情况"
    assert ws["A2"].value == "（2022年上半年与2022年全年比较）"
    assert [c.value for c in ws[3]] == [
        "序号",
        "地市",
        "县",
        "指标",
        "变化",
        "2022年上半年",
        "2022年全年",
        "新完成",
        "推迟",
        "提前",
        "新填预计",
        "回退",
    ]
    assert [c.value for c in ws[4]] == [None, "宁夏回族自治区", "共22个县", None, None, "全部完成0县", "全部完成0县", 2, 1, 1, 1, 1]
    assert [c.value for c in ws[5]] == [None, "省级指标", None, "*21", "新完成", "预计2022年9月", "已完成", None, None, None, None, None]
    assert [c.value for c in ws[6]] == ["1", "银川市", "6个县", None, None, "全部完成0县", "全部完成0县", 1, 1, 1, 1, 1]
    assert [c.value for c in ws[7]][:7] == ["1.1", "银川市", "兴庆区", "1", "回退", "√（2022年3月完成）", "预计2023年6月"]
    assert [c.value for c in ws[8]][:7] == ["1.1", "银川市", "兴庆区", "2", "新完成", "预计2022年9月", "√（2022年10月完成）"]
    assert [c.value for c in ws[9]][:7] == ["1.1", "银川市", "兴庆区", "3", "推迟", "预计2022年12月", "预计2023年3月"]
    assert [c.value for c in ws[10]][:7] == ["1.2", "银川市", "西夏区", "1", "提前", "预计2022年10月", "预计2022年8月"]
    assert [c.value for c in ws[11]][:7] == ["1.3", "银川市", "金凤区", "4", "新填预计", "空白", "预计2022年12月"]
    assert [c.value for c in ws[12]][:3] == ["2", "石嘴山市", "3个县"]
    # the four other cities, then the per-indicator rows under one merged label
    assert ws["A16"].value == "全省各指标的变化统计" and "A16:C20" in ws.merged_cells
    assert [[c.value for c in row[3:]] for row in ws.iter_rows(min_row=16, max_row=20)] == [
        ["1", None, None, None, 0, 0, 1, 0, 1],
        ["2", None, None, None, 1, 0, 0, 0, 0],
        ["3", None, None, None, 0, 1, 0, 0, 0],
        ["4", None, None, None, 0, 0, 0, 1, 0],
        ["*21", None, None, None, 1, 0, 0, 0, 0],
    ]
    assert [c.value for c in ws[22]][:8] == ["附件3 统计内容", None, None, "类别", None, "2022年上半年", "2022年全年", "增减"]
    benefits = [[ws.cell(row, column).value for column in (1, 4, 6, 7, 8)] for row in range(23, ws.max_row + 1)]
    assert benefits == [
        ["受益户数（户）", "居民用户", 100, 130, 30],
        ["受益户数（户）", "合计", 100, 130, 30],
        ["节省投资（万元）", "合计", Decimal("12.5"), Decimal("12.5"), 0],
        ["增加售电量（万千瓦时）", "合计", 0, 0, 0],
        ["增加容量（万千瓦安）", "合计", 0, 0, 0],
    ]
    assert ws["F25"].number_format == "0.00" and ws["H23"].number_format == "+0;-0;0"
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws["A7"].border.left.style == "thin" and ws["L20"].border.bottom.style == "thin"


def test_formula_looking_names_are_neutralised_in_the_sheet():
    workbook = load_workbook(BytesIO(excel.changes_workbook(hand_made(county_a='=HYPERLINK("http://x","y")'))))
    ws = workbook.active
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://x","y")']
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


# --- the compiled 附件2 workbook --------------------------------------------------------------------


def test_the_snapshot_workbook_has_the_comparison_after_the_official_sheet(two_periods, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    h1, full = two_periods
    ningxia = Region.objects.get(code=NINGXIA)
    official = make_user("compiler", "province", NINGXIA)
    attachment2, attachment3 = services.report_compile(user=official, province=ningxia, period=full)
    workbook = load_workbook(attachment2.xlsx.path)
    assert workbook.sheetnames == ["附件2", "与上期比较"]
    assert load_workbook(attachment3.xlsx.path).sheetnames == ["附件3", "按供电企业和地市分列"]
    # the official sheet is what the writer makes without the comparison, cell by cell
    table = services.attachment2_compile(province=ningxia, period=full, user=official)
    plain = load_workbook(BytesIO(excel.attachment2_workbook(table)))["附件2"]
    official_sheet = workbook["附件2"]
    assert [[c.value for c in row] for row in official_sheet.iter_rows()] == [[c.value for c in row] for row in plain.iter_rows()]
    compared = workbook["与上期比较"]
    assert compared["F3"].value == "2022年上半年" and compared["G3"].value == "2022年全年"
    assert [c.value for c in compared[4]][7:] == [2, 1, 1, 1, 1]
    # the first period has none before it: no extra sheet
    first = services.report_compile(user=official, province=ningxia, period=h1)[0]
    assert load_workbook(first.xlsx.path).sheetnames == ["附件2"]


def test_compile_queries_do_not_grow_with_the_counties(two_periods, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _h1, full = two_periods
    counts = {}
    for code in (NINGXIA, "510000"):
        with CaptureQueriesContext(connection) as queries:
            services.report_compile(user=None, province=Region.objects.get(code=code), period=full)
        counts[code] = len(queries)
    assert counts[NINGXIA] == counts["510000"]
