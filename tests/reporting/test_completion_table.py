"""A program's own completion table: Chongqing's 42 indicators (渝经信电力〔2021〕14号 附件4) by the
same 填报说明 as the national 附件2, on the municipality's one group of districts and counties.

Hand computation (35 county indicators, 38 counties in the group 重庆市 500100):
- 万州区 ticks all 35 → 35 / 0 / 100%;
- 涪陵区 ticks 33, expects 3 in 2022年9月 and 36 in 2022年12月 → 33 / 2 / 94.3% (33/35 = 94.29%);
- 渝中区 ticks 1–10, leaves the rest blank → 10 / 25 / 28.6% (10/35 = 28.57%);
- the other 35 counties tick nothing → 0 / 35 / 0%;
- 重庆市小计 and the municipality's row: 1 county complete, 37 not → 1 / 37 / 2.6% (1/38 = 2.63%);
- per indicator: 1 → 3 counties (7.9%), 3 → 2 (万州区, 渝中区: 5.3%), 11 → 2 (万州区, 涪陵区),
  36 → 1 (2.6%), 40 → 2;
- the municipality fills *21 已完成, *28 expected 2022年10月, *42 (encouraging) 已开展.
"""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from indicators import services
from indicators.models import Checkmark, Indicator, IndicatorSet, Program
from reporting import excel, layout
from reporting.imports.applying import apply_attachment2
from reporting.imports.reading import read_attachment2
from reporting.services import attachment2_compile
from reporting.tables import attachment2_table, completion_table, printed_label
from tests.helpers import region

pytestmark = pytest.mark.django_db

CHONGQING, GROUP = "500000", "500100"
WANZHOU, FULING, YUZHONG = "500101", "500102", "500103"
PROVINCE_LEVEL = (21, 28, 29, 32, 33, 41, 42)
COUNTY_LEVEL = [n for n in range(1, 43) if n not in PROVINCE_LEVEL]
GROUPS = [("持续巩固2020年目标任务", 23), ("2021年底前", 12), ("2022年底前", 4), ("持续推进", 3)]
TODAY = date(2022, 7, 12)
ON = date(2022, 7, 13)
DONE = services.CheckmarkValue(status="done", done_month=date(2022, 1, 1))


def expected(month):
    return services.CheckmarkValue(status="not_done", expected_month=month)


def open_period(code, program_code):
    """Period ``code`` of a program (whose code is its indicator set's), opened as a province opens it."""
    indicator_set = IndicatorSet.objects.get(code=program_code)
    # programs.csv brings the programs with the reference data; made here where it has not yet.
    program, _ = Program.objects.get_or_create(code=program_code, defaults={"name": indicator_set.name, "indicator_set": indicator_set})
    return services.period_open(code=code, program=program)[0]


@pytest.fixture
def cq_period():
    return open_period("2022S1", "chongqing-2021")


@pytest.fixture
def ticked(cq_period, make_user):
    """Three districts and the municipality fill their sheets as the hand computation says."""

    def county(code, values):
        user = make_user(f"c{code}", "county", code)
        services.checkmarks_set(user=user, region=region(code), period=cq_period, values=values, today=TODAY)

    county(WANZHOU, dict.fromkeys(COUNTY_LEVEL, DONE))
    county(FULING, {**dict.fromkeys(COUNTY_LEVEL, DONE), 3: expected(date(2022, 9, 1)), 36: expected(date(2022, 12, 1))})
    county(YUZHONG, dict.fromkeys(range(1, 11), DONE))
    municipality = make_user("cq-official", "province", CHONGQING)
    values = {21: DONE, 28: expected(date(2022, 10, 1)), 42: DONE}
    services.checkmarks_set(user=municipality, region=region(CHONGQING), period=cq_period, values=values, today=TODAY)
    return cq_period


@pytest.fixture
def table(ticked):
    return completion_table(province=region(CHONGQING), period=ticked, on=ON)


def index(number):
    return number - 1  # the columns are the set's 42 indicators in number order


def by_county(table):
    return {r.county: r for r in table.rows if r.kind == "county"}


def test_the_chongqing_set_is_what_the_hand_computation_assumes():
    numbers = Indicator.objects.filter(indicator_set__code="chongqing-2021")
    assert numbers.count() == 42
    assert list(numbers.filter(level="province").order_by("number").values_list("number", flat=True)) == list(PROVINCE_LEVEL)
    assert region(GROUP).name == "重庆市" and region(GROUP).level == "city"
    assert region(GROUP).children.count() == 38


def test_columns_groups_and_labels_in_document_order(table):
    assert [c.number for c in table.columns] == list(range(1, 43))
    assert table.groups == GROUPS
    labels = [c.label for c in table.columns]
    # Chongqing's 附件4 stars nothing: the table stars its municipality-level indicators itself.
    assert [labels[index(n)] for n in PROVINCE_LEVEL] == ["*21", "*28", "*29", "*32", "*33", "*41", "*42"]
    assert [labels[index(n)] for n in COUNTY_LEVEL] == [str(n) for n in COUNTY_LEVEL]
    assert table.header.title == "重庆市“获得电力”任务指标完成情况统计表"
    assert table.header.period_line == "（2022年1月—2022年6月）"
    assert table.header.filled_on == "2022年7月13日"


def test_printed_label_stars_a_province_level_number_once():
    assert printed_label(label="21", level="province") == "*21"
    assert printed_label(label="*21", level="province") == "*21"
    assert printed_label(label="3", level="county") == "3"


def test_county_rows_count_over_the_35_county_indicators(table):
    counties = by_county(table)
    assert len(counties) == 38
    wanzhou, fuling, yuzhong = counties["万州区"], counties["涪陵区"], counties["渝中区"]
    assert (wanzhou.serial, wanzhou.city, wanzhou.done, wanzhou.not_done, wanzhou.percent) == ("1.1", "重庆市", 35, 0, "100%")
    assert (fuling.serial, fuling.done, fuling.not_done, fuling.percent) == ("1.2", 33, 2, "94.3%")
    assert (yuzhong.serial, yuzhong.done, yuzhong.not_done, yuzhong.percent) == ("1.3", 10, 25, "28.6%")
    assert fuling.cells[index(3)] == "2022年9月" and fuling.cells[index(36)] == "2022年12月"
    assert yuzhong.cells[index(10)] == "√" and yuzhong.cells[index(11)] == ""  # blank: missing, not done
    untouched = counties["城口县"]
    assert (untouched.done, untouched.not_done, untouched.percent) == (0, 35, "0%")
    for row in counties.values():
        assert all(row.cells[index(n)] == "/" for n in PROVINCE_LEVEL)


def test_the_municipality_is_one_group_with_one_subtotal(table):
    kinds = [r.kind for r in table.rows]
    assert kinds == ["province", "city", *["county"] * 38, "subtotal", "stat", "stat", "stat"]
    city = table.rows[1]
    assert (city.serial, city.city, city.county) == ("1", "重庆市", "38个县")
    subtotal = table.rows[40]
    assert (subtotal.serial, subtotal.county, subtotal.done, subtotal.not_done, subtotal.percent) == ("1.39", "重庆市小计", 1, 37, "2.6%")
    assert subtotal.cells[index(1)] == 3 and subtotal.cells[index(3)] == 2 and subtotal.cells[index(36)] == 1
    assert subtotal.cells[index(21)] == "/"


def test_province_level_values_on_the_municipalitys_row(table):
    row = table.rows[0]
    assert (row.province, row.city, row.county) == ("重庆市", "共1个地市", "共38个县")
    assert (row.done, row.not_done, row.percent) == (1, 37, "2.6%")
    assert row.cells[index(21)] == "已完成"
    assert row.cells[index(28)] == "2022年10月"
    assert row.cells[index(42)] == "已开展"  # encouraging
    assert [row.cells[index(n)] for n in (29, 32, 33, 41)] == ["", "", "", ""]  # not filled yet
    assert all(row.cells[index(n)] == "/" for n in COUNTY_LEVEL)


def test_the_three_bottom_rows_per_county_indicator(table):
    done, not_done, share = table.rows[-3:]
    assert [r.county for r in (done, not_done, share)] == ["已完成县个数", "未完成县个数", "完成百分比"]
    expected_done = {1: 3, 3: 2, 10: 3, 11: 2, 36: 1, 40: 2}
    for number, count in expected_done.items():
        assert done.cells[index(number)] == count, number
        assert not_done.cells[index(number)] == 38 - count, number
    assert [share.cells[index(n)] for n in (1, 3, 36)] == ["7.9%", "5.3%", "2.6%"]
    assert all(r.cells[index(n)] == "/" for r in (done, not_done, share) for n in PROVINCE_LEVEL)


def test_the_national_attachment2_refuses_the_chongqing_set(ticked):
    with pytest.raises(ValidationError) as refused:
        attachment2_table(province=region(CHONGQING), period=ticked)
    message = refused.value.messages[0]
    assert "附件2" in message and "全国 38 项" in message and "重庆市“获得电力”任务指标完成标准（42 项）" in message


def test_a_set_issued_for_chongqing_is_refused_for_another_province(cq_period):
    with pytest.raises(ValidationError) as refused:
        completion_table(province=region("510000"), period=cq_period)
    assert refused.value.messages == ["“重庆市“获得电力”任务指标完成标准（42 项）”只适用于重庆市，不能用于编制四川省的完成情况统计表。"]


def test_a_fixed_number_of_queries(ticked, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        completion_table(province=region(CHONGQING), period=ticked)


def test_the_national_attachment2_is_the_completion_table_of_the_national_set(make_user):
    """Sichuan's 附件2 through the national wrapper is the table the reports have compiled all along."""
    period = open_period("2022S1", "national-2021")
    user = make_user("jj", "county", "510104")
    services.checkmarks_set(user=user, region=region("510104"), period=period, values={1: DONE, 2: expected(date(2022, 9, 1))}, today=TODAY)
    sichuan = region("510000")
    national = attachment2_table(province=sichuan, period=period, on=ON)
    assert national.as_dict() == attachment2_compile(province=sichuan, period=period, on=ON).as_dict()
    assert len(national.columns) == 38 and national.columns[20].label == "*21"
    assert national.groups == [("2020年指标", 21), ("2021年指标", 12), ("2022年指标", 3), ("持续推进指标", 2)]


def test_both_programs_in_one_half_year_for_chongqing(make_user):
    """The national 附件2 of 重庆市 stays 38 columns over 31 while Chongqing's 42 run in the same half-year."""
    national, own = open_period("2022S1", "national-2021"), open_period("2022S1", "chongqing-2021")
    user = make_user("wz", "county", WANZHOU)
    national_county = Indicator.objects.filter(indicator_set=national.indicator_set, level="county").values_list("number", flat=True)
    services.checkmarks_set(user=user, region=region(WANZHOU), period=national, values=dict.fromkeys(national_county, DONE), today=TODAY)
    services.checkmarks_set(user=user, region=region(WANZHOU), period=own, values=dict.fromkeys(range(1, 11), DONE), today=TODAY)
    chongqing = region(CHONGQING)

    attachment2 = attachment2_table(province=chongqing, period=national, on=ON)
    assert len(attachment2.columns) == 38 and attachment2.groups[0] == ("2020年指标", 21)
    wanzhou = by_county(attachment2)["万州区"]
    assert (wanzhou.done, wanzhou.not_done, wanzhou.percent) == (31, 0, "100%")
    assert (attachment2.rows[0].done, attachment2.rows[0].not_done, attachment2.rows[0].percent) == (1, 37, "2.6%")
    assert attachment2.as_dict() == attachment2_compile(province=chongqing, period=national, on=ON).as_dict()

    table = completion_table(province=chongqing, period=own, on=ON)
    assert len(table.columns) == 42 and table.groups == GROUPS
    wanzhou = by_county(table)["万州区"]
    assert (wanzhou.done, wanzhou.not_done, wanzhou.percent) == (10, 25, "28.6%")
    assert (table.rows[0].done, table.rows[0].not_done, table.rows[0].percent) == (0, 38, "0%")
    with pytest.raises(ValidationError):
        attachment2_table(province=chongqing, period=own)


# --- the workbook, read back cell by cell -------------------------------------------------------


@pytest.fixture
def ws(table):
    wb = load_workbook(io.BytesIO(excel.completion_workbook(table)))
    assert wb.sheetnames == [layout.ATTACHMENT2_SHEET]
    return wb[layout.ATTACHMENT2_SHEET]


def col(number):
    return layout.FIRST_INDICATOR_COL + number - 1


def values(ws, row, first=1, last=None):
    return [ws.cell(row, c).value for c in range(first, (last or ws.max_column) + 1)]


def merged(ws):
    return {str(r) for r in ws.merged_cells.ranges}


def test_workbook_title_period_people_and_print_setup(ws):
    done_col, _, percent_col = layout.summary_columns(42)
    assert (done_col, percent_col) == (47, 49)  # AU … AW
    assert ws["A1"].value == "重庆市“获得电力”任务指标完成情况统计表"
    assert ws["A2"].value == "（2022年1月—2022年6月）"
    assert {"A1:AW1", "A2:AW2"} <= merged(ws)
    people = [v for v in values(ws, layout.PEOPLE_ROW) if v]
    assert people == ["填报人及手机联系方式：", "审核人：", "填报日期：2022年7月13日"]
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A3) and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows.replace("$", "") == "4:6" and ws.freeze_panes == "E7"


def test_workbook_header_rows(ws):
    assert values(ws, layout.HEADER_TOP_ROW, 1, 5) == ["序号", "省", "地市", "县", "指标完成情况"]
    assert ws["AU4"].value == "省、地市、县指标完成情况" and {"E4:AT4", "AU4:AW4"} <= merged(ws)
    # The four group headings over their runs of columns, in document order.
    assert ws["E5"].value == "持续巩固2020年目标任务" and "E5:AA5" in merged(ws)
    assert ws["AB5"].value == "2021年底前" and "AB5:AM5" in merged(ws)
    assert ws["AN5"].value == "2022年底前" and "AN5:AQ5" in merged(ws)
    assert ws["AR5"].value == "持续推进" and "AR5:AT5" in merged(ws)
    assert values(ws, layout.GROUP_ROW, 47, 49) == ["完成个数", "未完成个数", "完成百分比"]
    labels = values(ws, layout.LABEL_ROW, layout.FIRST_INDICATOR_COL, layout.FIRST_INDICATOR_COL + 41)
    assert labels == [f"*{n}" if n in PROVINCE_LEVEL else str(n) for n in range(1, 43)]


def test_workbook_municipality_group_and_county_rows(ws):
    province = values(ws, 7)
    assert province[:4] == [None, "重庆市", "共1个地市", "共38个县"]
    assert province[-3:] == [1, 37, "2.6%"]
    assert [ws.cell(7, col(n)).value for n in (21, 28, 42)] == ["已完成", "2022年10月", "已开展"]
    assert ws.cell(7, col(29)).value is None
    assert all(ws.cell(7, col(n)).value == "/" for n in COUNTY_LEVEL)
    assert values(ws, 8)[:4] == ["1", None, "重庆市", "38个县"]
    assert "C8:C47" in merged(ws)  # the municipality's block: its row, 38 counties and 小计
    wanzhou, fuling, yuzhong = values(ws, 9), values(ws, 10), values(ws, 11)
    assert wanzhou[:4] + wanzhou[-3:] == ["1.1", None, None, "万州区", 35, 0, "100%"]
    assert fuling[:4] + fuling[-3:] == ["1.2", None, None, "涪陵区", 33, 2, "94.3%"]
    assert yuzhong[:4] + yuzhong[-3:] == ["1.3", None, None, "渝中区", 10, 25, "28.6%"]
    assert ws.cell(10, col(3)).value == "2022年9月" and ws.cell(10, col(36)).value == "2022年12月"
    assert ws.cell(11, col(10)).value == "√" and ws.cell(11, col(11)).value is None
    assert all(ws.cell(9, col(n)).value == "√" for n in COUNTY_LEVEL)
    assert all(ws.cell(r, col(n)).value == "/" for r in (9, 10, 11) for n in PROVINCE_LEVEL)
    assert ws["AU9"].data_type == "n" and ws["AW9"].data_type == "s"


def test_workbook_subtotal_statistics_and_foot(ws):
    subtotal = values(ws, 47)
    assert subtotal[:4] == ["1.39", None, None, "重庆市小计"]
    assert subtotal[-3:] == [1, 37, "2.6%"]
    assert [ws.cell(47, col(n)).value for n in (1, 3, 11, 36, 40)] == [3, 2, 2, 1, 2]
    assert ws.cell(47, col(21)).value == "/"
    assert ws["A48"].value == layout.STATISTICS_LABEL and "A48:C50" in merged(ws)
    assert [ws[f"D{r}"].value for r in (48, 49, 50)] == ["已完成县个数", "未完成县个数", "完成百分比"]
    assert [ws.cell(r, col(1)).value for r in (48, 49, 50)] == [3, 35, "7.9%"]
    assert [ws.cell(r, col(36)).value for r in (48, 49, 50)] == [1, 37, "2.6%"]
    assert all(ws.cell(r, col(n)).value == "/" for r in (48, 49, 50) for n in PROVINCE_LEVEL)
    assert ws.max_row == 52 and values(ws, 51) == [None] * ws.max_column
    assert ws["A52"].value == layout.FOOT_TEXT


def test_attachment2_workbook_is_the_same_writer(table):
    """附件2's writer is the completion writer: the same table gives the same sheet, cell for cell."""
    one = load_workbook(io.BytesIO(excel.attachment2_workbook(table))).active
    other = load_workbook(io.BytesIO(excel.completion_workbook(table))).active
    cells = lambda sheet: [[c.value for c in row] for row in sheet.iter_rows()]  # noqa: E731
    assert cells(one) == cells(other) and merged(one) == merged(other)


def test_the_chongqing_form_goes_out_and_comes_back(cq_period, make_user):
    """The blank form of the municipality, filled by hand and imported: what was written is stored."""
    user = make_user("cq-official", "province", CHONGQING)
    chongqing = region(CHONGQING)
    wb = load_workbook(io.BytesIO(excel.completion_workbook(completion_table(province=chongqing, period=cq_period))))
    ws = wb[layout.ATTACHMENT2_SHEET]
    labels = {ws.cell(layout.LABEL_ROW, col(n)).value: col(n) for n in range(1, 43)}
    ws.cell(9, labels["1"]).value = "√"  # 万州区
    ws.cell(9, labels["2"]).value = "2022年12月"
    ws.cell(7, labels["*21"]).value = "已完成"  # the municipality's row
    ws.cell(7, labels["*42"]).value = "已开展"
    filled = io.BytesIO()
    wb.save(filled)
    filled.seek(0)
    filled.name = "重庆市.xlsx"
    preview = read_attachment2(filled, province=chongqing, period=cq_period, today=TODAY)
    apply_attachment2(user=user, preview=preview, today=TODAY)
    stored = Checkmark.objects.filter(period=cq_period).values_list("region__code", "indicator__number", "status")
    assert set(stored) == {(WANZHOU, 1, "done"), (WANZHOU, 2, "not_done"), (CHONGQING, 21, "done"), (CHONGQING, 42, "done")}
