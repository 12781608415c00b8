"""The official-layout workbooks, written and read back with openpyxl, cell by cell (no database).

The indicator columns are the national set of fixtures/reference (38 indicators, 7 starred); the
tables are built with ``reporting.tables``' own builders, as the application builds them.
"""

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter

from reporting import excel, layout
from reporting.tables import (
    CityInput,
    Column,
    CountyInput,
    Header,
    build_attachment2,
    build_attachment3,
    build_national_rollup,
)

FIXTURES = Path(layout.__file__).resolve().parents[1] / "fixtures" / "reference" / "indicators_national_2021.csv"
PERIOD_LINE = "（2022年1月—2022年6月）"
MONTH = "2021年8月"


def national_columns():
    with open(FIXTURES, encoding="utf-8") as f:
        return [Column(int(r["number"]), r["label"], r["group"], r["level"]) for r in csv.DictReader(f)]


COLUMNS = national_columns()
COUNTY_NUMBERS = [c.number for c in COLUMNS if c.level == "county"]
STARRED = [c.number for c in COLUMNS if c.level == "province"]


def col(number):
    """The sheet column of indicator ``number`` in 附件2."""
    return layout.FIRST_INDICATOR_COL + [c.number for c in COLUMNS].index(number)


def header(**people):
    return Header(layout.attachment2_title("甲省"), PERIOD_LINE, "520000", "甲省", "2022S1", **people)


def all_done():
    return dict.fromkeys(COUNTY_NUMBERS, "√")


def d_county_cells():
    """D县: 28 √, three with their expected month (the first is indicator 2, as in the seed)."""
    cells = all_done()
    for n in (2, 26, 36):
        cells[n] = MONTH
    return cells


def a_city():
    return CityInput("520100", "A市", [CountyInput("520102", "C区", all_done()), CountyInput("520103", "D县", d_county_cells())])


def small_table(**people):
    """The province with only A市: rows 7 province, 8 A市, 9 C区, 10 D县, 11 A市小计, 12–14 statistics."""
    return build_attachment2(
        header=header(**people), columns=COLUMNS, province_cells={21: "已完成", 27: "2022年10月", 37: "已开展"}, cities=[a_city()]
    )


def read(data):
    assert isinstance(data, bytes) and data[:2] == b"PK"
    return load_workbook(io.BytesIO(data))


def merged(ws):
    return {str(r) for r in ws.merged_cells.ranges}


def row_values(ws, row, first=1, last=None):
    last = last or ws.max_column
    return [ws.cell(row, c).value for c in range(first, last + 1)]


def has_thin_box(cell):
    return all(getattr(cell.border, side).style == "thin" for side in ("left", "right", "top", "bottom"))


def outlined(ws, cell_range):
    """A merged range is drawn with its outline: each cell along an edge has a thin line on that edge.
    (openpyxl rebuilds a merged range's inner cells from the edges when reading, so only these count.)"""
    cells = ws[cell_range]
    edges = {"top": cells[0], "bottom": cells[-1], "left": [r[0] for r in cells], "right": [r[-1] for r in cells]}
    return all(getattr(c.border, side).style == "thin" for side, line in edges.items() for c in line)


@pytest.fixture(scope="module")
def ws2():
    wb = read(excel.attachment2_workbook(small_table(filled_by="张三 13800000000", reviewed_by="李四", filled_on="2022年7月5日")))
    assert wb.sheetnames == [layout.ATTACHMENT2_SHEET]
    return wb[layout.ATTACHMENT2_SHEET]


# --- 附件2 ------------------------------------------------------------------------------------------


def test_attachment2_layout_constants_match_the_official_form():
    assert len(COLUMNS) == 38 and len(COUNTY_NUMBERS) == 31 and len(STARRED) == 7
    assert layout.summary_columns(38) == (43, 44, 45)  # AQ, AR, AS
    assert layout.people_segments(45) == [(1, 15), (16, 30), (31, 45)]
    assert layout.people_segments(6) == [(1, 2), (3, 4), (5, 6)]


def test_attachment2_title_period_and_people_rows(ws2):
    title = ws2["A1"]
    assert title.value == "甲省“获得电力”任务指标完成情况统计表"
    assert title.font.b and title.font.sz >= 16 and title.font.name == "宋体"
    assert title.alignment.horizontal == "center"
    assert ws2["A2"].value == PERIOD_LINE and ws2["A2"].alignment.horizontal == "center"
    assert {"A1:AS1", "A2:AS2", "A3:O3", "P3:AD3", "AE3:AS3"} <= merged(ws2)
    assert ws2["A3"].value == "填报人及手机联系方式：张三 13800000000"
    assert ws2["P3"].value == "审核人：李四"
    assert ws2["AE3"].value == "填报日期：2022年7月5日"


def test_attachment2_people_row_empty_when_nobody_is_named():
    ws = read(excel.attachment2_workbook(small_table())).active
    assert [ws["A3"].value, ws["P3"].value, ws["AE3"].value] == ["填报人及手机联系方式：", "审核人：", "填报日期："]


def test_attachment2_header_cells_and_merges(ws2):
    expected = {
        "A4": ("序号", "A4:A6"),
        "B4": ("省", "B4:B6"),
        "C4": ("地市", "C4:C6"),
        "D4": ("县", "D4:D6"),
        "E4": ("指标完成情况", "E4:AP4"),
        "E5": ("2020年指标", "E5:Y5"),
        "Z5": ("2021年指标", "Z5:AK5"),
        "AL5": ("2022年指标", "AL5:AN5"),
        "AO5": ("持续推进指标", "AO5:AP5"),
        "AQ4": ("省、地市、县指标完成情况", "AQ4:AS4"),
        "AQ5": ("完成个数", "AQ5:AQ6"),
        "AR5": ("未完成个数", "AR5:AR6"),
        "AS5": ("完成百分比", "AS5:AS6"),
    }
    ranges = merged(ws2)
    for address, (text, cell_range) in expected.items():
        assert ws2[address].value == text, address
        assert cell_range in ranges, cell_range
        assert ws2[address].font.b and ws2[address].alignment.wrap_text
    labels = row_values(ws2, layout.LABEL_ROW, layout.FIRST_INDICATOR_COL, 42)
    assert labels == [c.label for c in COLUMNS]
    assert ws2["Y6"].value == "*21" and ws2["AP6"].value == "*38" and ws2["E6"].value == "1"
    assert all(isinstance(v, str) for v in labels)
    # Nothing else is merged in the header rows (the labels stand alone).
    assert not any(r.min_row == r.max_row == layout.LABEL_ROW for r in ws2.merged_cells.ranges)


def test_attachment2_province_and_city_rows(ws2):
    province = row_values(ws2, 7)
    assert province[:4] == [None, "甲省", "共1个地市", "共2个县"]
    assert ws2.cell(7, col(21)).value == "已完成"
    assert ws2.cell(7, col(27)).value == "2022年10月"
    assert ws2.cell(7, col(37)).value == "已开展"
    assert ws2.cell(7, col(38)).value is None  # not started: left blank
    assert all(ws2.cell(7, col(n)).value == "/" for n in COUNTY_NUMBERS)
    assert province[-3:] == [1, 1, "50%"]
    city = row_values(ws2, 8)
    assert city[:4] == ["1", None, "A市", "2个县"]
    assert city[4:] == [None] * 41


def test_attachment2_county_rows_values_and_types(ws2):
    c = row_values(ws2, 9)
    assert c[:4] == ["1.1", None, None, "C区"]
    assert c[-3:] == [31, 0, "100%"]
    d = row_values(ws2, 10)
    assert d[:4] == ["1.2", None, None, "D县"]
    assert d[-3:] == [28, 3, "90.3%"]
    assert ws2.cell(10, col(1)).value == "√" and ws2.cell(10, col(2)).value == MONTH
    assert [ws2.cell(10, col(n)).value for n in COUNTY_NUMBERS].count(MONTH) == 3
    assert all(ws2.cell(r, col(n)).value == "/" for r in (9, 10) for n in STARRED)
    # Integers are numbers, the rest stays text exactly as given.
    assert ws2["AQ10"].data_type == "n" and ws2["AR10"].data_type == "n"
    for address in ("AS10", "E10", "F10", "Y10", "A10"):
        assert ws2[address].data_type == "s", address


def test_attachment2_subtotal_row(ws2):
    row = row_values(ws2, 11)
    assert row[:4] == ["1.3", None, None, "A市小计"]
    assert row[-3:] == [1, 1, "50%"]
    for n in COUNTY_NUMBERS:
        assert ws2.cell(11, col(n)).value == (1 if n in (2, 26, 36) else 2)
        assert ws2.cell(11, col(n)).data_type == "n"
    assert all(ws2.cell(11, col(n)).value == "/" for n in STARRED)


def test_attachment2_city_cell_merged_over_its_block(ws2):
    assert "C8:C11" in merged(ws2)
    assert ws2["C8"].value == "A市"  # the importer reads the city from the top cell
    assert all(isinstance(ws2[f"C{r}"], MergedCell) for r in (9, 10, 11))


def test_attachment2_statistics_rows(ws2):
    assert "A12:C14" in merged(ws2)
    assert ws2["A12"].value == layout.STATISTICS_LABEL
    assert [ws2[f"D{r}"].value for r in (12, 13, 14)] == ["已完成县个数", "未完成县个数", "完成百分比"]
    assert ws2.cell(12, col(1)).value == 2 and ws2.cell(13, col(1)).value == 0
    assert ws2.cell(14, col(1)).value == "100%"
    assert ws2.cell(12, col(2)).value == 1 and ws2.cell(13, col(2)).value == 1
    assert ws2.cell(14, col(2)).value == "50%"
    assert all(ws2.cell(r, col(n)).value == "/" for r in (12, 13, 14) for n in STARRED)
    assert all(ws2.cell(r, c).value == "/" for r in (12, 13, 14) for c in (43, 44, 45))


def test_attachment2_foot_after_one_blank_row(ws2):
    assert ws2.max_row == 16
    assert row_values(ws2, 15) == [None] * ws2.max_column
    assert ws2["A16"].value == layout.FOOT_TEXT == "填报单位盖章处"
    assert layout.foot_row(14) == 16


def test_attachment2_borders_on_the_table_only(ws2):
    for address in ("E6", "Y6", "AP6", "A7", "B7", "D10", "E10", "AS10", "AS11", "D12", "D14", "AS14"):
        assert has_thin_box(ws2[address]), address
    for cell_range in ("A4:A6", "D4:D6", "E4:AP4", "E5:Y5", "AO5:AP5", "AQ4:AS4", "AS5:AS6", "C8:C11", "A12:C14"):
        assert outlined(ws2, cell_range), cell_range
    for address in ("A1", "A2", "A3", "A16"):
        assert not has_thin_box(ws2[address]), address


def test_attachment2_fonts_widths_and_distinguished_rows(ws2):
    assert ws2["E10"].font.name == "宋体" and 10 <= ws2["E10"].font.sz <= 11
    assert not ws2["D10"].font.b
    assert ws2["D11"].font.b and ws2["D11"].fill.fgColor.rgb.endswith("F2F2F2")  # 小计
    assert ws2["D12"].font.b and ws2["A12"].fill.fill_type == "solid"  # statistics
    assert ws2["D10"].fill.fill_type is None
    widths = ws2.column_dimensions
    assert all(5 <= widths[get_column_letter(c)].width <= 6 for c in range(5, 43))
    assert 12 <= widths["C"].width <= 14 and 12 <= widths["D"].width <= 14
    assert ws2.row_dimensions[10].height > ws2.row_dimensions[9].height  # “2021年8月” wraps


def test_attachment2_print_setup(ws2):
    setup = ws2.page_setup
    assert int(setup.paperSize) == int(ws2.PAPERSIZE_A3)  # openpyxl's constant is "8", the file gives 8
    assert setup.orientation == "landscape"
    assert setup.fitToWidth == 1 and setup.fitToHeight == 0
    assert ws2.sheet_properties.pageSetUpPr.fitToPage
    # openpyxl reads the print titles back as an absolute reference.
    assert ws2.print_title_rows.replace("$", "") == "4:6"
    assert ws2.print_options.horizontalCentered
    assert ws2.freeze_panes == "E7"
    assert 0.2 <= ws2.page_margins.left <= 1 and 0.2 <= ws2.page_margins.top <= 1


def test_attachment2_worked_example_of_the_seed():
    """domain.md §5: 10 cities, 150 counties, 108 complete; A市: C区 31 / 0 / 100%, D县 28 / 3 / 90.3%."""
    cities, complete_left = [a_city()], 107
    sizes = [16] * 8 + [20]  # 148 more counties in B市…J市
    for k, size in enumerate(sizes, start=2):
        counties = []
        for i in range(size):
            cells = all_done() if complete_left else {**all_done(), 1: MONTH}
            complete_left -= bool(complete_left)
            counties.append(CountyInput(f"{k}{i:03}", f"{k}市{i + 1}县", cells))
        cities.append(CityInput(str(k), f"{chr(ord('A') + k - 1)}市", counties))
    table = build_attachment2(header=header(), columns=COLUMNS, province_cells={21: "已完成"}, cities=cities)
    ws = read(excel.attachment2_workbook(table)).active

    assert row_values(ws, 7)[:4] == [None, "甲省", "共10个地市", "共150个县"]
    assert row_values(ws, 7)[-3:] == [108, 42, "72%"]
    assert row_values(ws, 9)[3:4] + row_values(ws, 9)[-3:] == ["C区", 31, 0, "100%"]
    assert row_values(ws, 10)[3:4] + row_values(ws, 10)[-3:] == ["D县", 28, 3, "90.3%"]
    assert row_values(ws, 11)[3:4] + row_values(ws, 11)[-3:] == ["A市小计", 1, 1, "50%"]
    # B市 starts on row 12; its block is its row, 16 counties and 小计: rows 12–29.
    assert ws["A12"].value == "2" and ws["C12"].value == "B市" and "C12:C29" in merged(ws)
    assert ws["A29"].value == "2.17" and ws["D29"].value == "B市小计"
    first_stat = 7 + 1 + sum(len(c.counties) + 2 for c in cities)
    assert ws.cell(first_stat, 1).value == layout.STATISTICS_LABEL
    assert f"A{first_stat}:C{first_stat + 2}" in merged(ws)
    # Indicator 1 is missing in the 41 incomplete counties of B市…J市; D县 has it.
    assert ws.cell(first_stat, col(1)).value == 109
    assert ws.cell(first_stat + 1, col(1)).value == 41
    assert ws.cell(first_stat + 2, col(1)).value == "72.7%"
    assert ws.cell(first_stat, col(2)).value == 149 and ws.cell(first_stat + 2, col(2)).value == "99.3%"
    assert ws.cell(first_stat + 4, 1).value == layout.FOOT_TEXT
    assert has_thin_box(ws.cell(first_stat + 2, 45)) and outlined(ws, "C12:C29")


# --- formula neutralising ---------------------------------------------------------------------------

DANGEROUS = [
    '=HYPERLINK("http://evil.example/","点击")',
    "+1",
    "@SUM(A1:A9)",
    "-2+3",
    "\t=1+1",
    "\r=1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "=cmd|' /C calc'!A0",
]


def test_formula_looking_names_are_stored_as_text():
    counties = [CountyInput(str(i), name, all_done()) for i, name in enumerate(DANGEROUS)]
    table = build_attachment2(header=header(filled_by="=1+1"), columns=COLUMNS, province_cells={}, cities=[CityInput("9", "=A1", counties)])
    data = excel.attachment2_workbook(table)
    ws = read(data).active
    assert ws["C8"].value == "=A1" and ws["C8"].data_type == "s" and ws["C8"].quotePrefix
    for offset, name in enumerate(DANGEROUS):
        cell = ws.cell(9 + offset, layout.COL_COUNTY)
        # Unchanged, so the importer reads the name it wrote (XML itself reads a CR back as LF).
        assert cell.value == name.replace("\r", "\n")
        assert cell.data_type == "s" and cell.data_type != "f"
        assert cell.quotePrefix
    assert not ws["D7"].quotePrefix  # ordinary text is left alone
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "<f " not in sheet
        assert 'quotePrefix="1"' in z.read("xl/styles.xml").decode()


def test_neutralising_concerns_text_only():
    ws = Workbook().active
    cases = {1: -5, 2: "-", 3: Decimal("-1.50"), 4: "√", 5: "", 6: "a\x07b", 7: 0, 8: "=1"}
    for column, value in cases.items():
        excel.put(ws, 1, column, value)
    assert ws["A1"].value == -5 and ws["A1"].data_type == "n" and not ws["A1"].quotePrefix
    assert ws["B1"].value == "-" and ws["B1"].data_type == "s"
    assert ws["C1"].data_type == "n" and not ws["C1"].quotePrefix
    assert ws["D1"].value == "√" and not ws["D1"].quotePrefix
    assert ws["E1"].value is None
    assert ws["F1"].value == "ab"  # a character an .xlsx cannot hold is dropped
    assert ws["G1"].value == 0 and ws["G1"].data_type == "n"
    assert ws["H1"].data_type == "s" and ws["H1"].quotePrefix


# --- 附件3 ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ws3():
    totals = {
        ("households", "residential"): 120,
        ("households", "small_business"): 35,
        ("households", "other"): 4,
        ("households", "sansheng"): 1,
        ("investment", "residential"): Decimal("12.5"),
        ("investment", "small_business"): Decimal("3.25"),
        ("sales", "other"): Decimal("0.1"),
        ("capacity", "sansheng"): Decimal("7"),
    }
    h = Header(
        layout.attachment3_title("甲省"),
        PERIOD_LINE,
        "520000",
        "甲省",
        "2022S1",
        filled_by="王五 0851-1234567",
        reviewed_by="赵六",
        filled_on="2022年7月6日",
    )
    wb = read(excel.attachment3_workbook(build_attachment3(header=h, totals=totals)))
    assert wb.sheetnames == [layout.ATTACHMENT3_SHEET]
    return wb[layout.ATTACHMENT3_SHEET]


def test_attachment3_head_and_header(ws3):
    assert ws3["A1"].value == "甲省“三零”“三省”服务效益统计表" and ws3["A1"].font.b
    assert ws3["A2"].value == PERIOD_LINE
    assert ws3["A3"].value == "填报人及联系方式：王五 0851-1234567"
    assert ws3["C3"].value == "审核人：赵六" and ws3["E3"].value == "填报日期：2022年7月6日"
    assert {"A1:F1", "A2:F2", "A3:B3", "C3:D3", "E3:F3", "A4:A5", "B4:D4", "E4:E5", "F4:F5"} <= merged(ws3)
    assert [ws3["A4"].value, ws3["B4"].value, ws3["E4"].value, ws3["F4"].value] == ["统计内容", "“三零”服务效益", "“三省”服务效益", "合计"]
    assert row_values(ws3, 5, 2, 4) == ["居民用户", "160kW及以下的企业用户", "其他用户"]


def test_attachment3_numbers_and_formats(ws3):
    assert [ws3[f"A{r}"].value for r in range(6, 10)] == [
        "受益户数（户）",
        "节省投资（万元）",
        "增加售电量（万千瓦时）",
        "增加容量（万千瓦安）",
    ]
    assert row_values(ws3, 6, 2, 6) == [120, 35, 4, 1, 160]
    assert all(isinstance(ws3.cell(6, c).value, int) for c in range(2, 7))
    assert row_values(ws3, 7, 2, 6) == [12.5, 3.25, 0, 0, 15.75]
    assert row_values(ws3, 8, 2, 6) == [0, 0, 0.1, 0, 0.1]
    assert row_values(ws3, 9, 2, 6) == [0, 0, 0, 7, 7]
    for r in (7, 8, 9):
        for c in range(2, 7):
            assert ws3.cell(r, c).data_type == "n" and ws3.cell(r, c).number_format == "0.00"
    assert ws3["B6"].number_format == "0"


def test_attachment3_borders_print_and_foot(ws3):
    for address in ("B5", "C5", "D5", "A6", "B6", "F6", "A9", "F9"):
        assert has_thin_box(ws3[address]), address
    for cell_range in ("A4:A5", "B4:D4", "E4:E5", "F4:F5"):
        assert outlined(ws3, cell_range), cell_range
    assert not has_thin_box(ws3["A1"])
    assert ws3["A11"].value == layout.FOOT_TEXT and ws3["A10"].value is None
    assert int(ws3.page_setup.paperSize) == int(ws3.PAPERSIZE_A4) and ws3.page_setup.orientation == "landscape"
    assert ws3.page_setup.fitToWidth == 1 and ws3.sheet_properties.pageSetUpPr.fitToPage
    assert ws3["B7"].font.name == "宋体"


# --- 全国汇总 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wsn():
    provinces = [
        ("520000", "甲省", 150, 108, {1: 150, 2: 120}),
        ("530000", "乙省", 0, 0, {}),
        ("540000", "+丙省", 3, 1, dict.fromkeys(COUNTY_NUMBERS, 3)),
    ]
    rollup = build_national_rollup(period_code="2022S1", period_line=PERIOD_LINE, columns=COLUMNS, provinces=provinces)
    wb = read(excel.national_workbook(rollup))
    assert wb.sheetnames == [layout.NATIONAL_SHEET]
    return wb[layout.NATIONAL_SHEET]


def test_national_head_and_header(wsn):
    assert wsn["A1"].value == "全国“获得电力”任务指标完成情况汇总表" == layout.NATIONAL_TITLE
    assert wsn["A2"].value == PERIOD_LINE
    assert {"A1:AJ1", "A2:AJ2", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:AJ3"} <= merged(wsn)
    assert row_values(wsn, 3, 1, 6) == ["序号", "省", "县个数", "全部完成县个数", "完成百分比", "各指标完成县占比"]
    assert row_values(wsn, 4, 6, 36) == [str(n) for n in COUNTY_NUMBERS]
    assert wsn.max_column == 36


def test_national_rows(wsn):
    assert row_values(wsn, 5, 1, 7) == [1, "甲省", 150, 108, "72%", "100%", "80%"]
    assert wsn.cell(5, 8).value == "0%"
    assert row_values(wsn, 6, 1, 6) == [2, "乙省", 0, 0, "/", "/"]
    assert row_values(wsn, 7, 1, 6) == [3, "+丙省", 3, 1, "33.3%", "100%"]
    assert wsn["B7"].data_type == "s" and wsn["B7"].quotePrefix
    assert wsn["C5"].data_type == "n" and wsn["E5"].data_type == "s"
    assert wsn.max_row == 7


def test_national_borders_and_print_setup(wsn):
    for address in ("F4", "AJ4", "AJ7", "A5", "B6", "E7"):
        assert has_thin_box(wsn[address]), address
    for cell_range in ("A3:A4", "E3:E4", "F3:AJ3"):
        assert outlined(wsn, cell_range), cell_range
    assert int(wsn.page_setup.paperSize) == int(wsn.PAPERSIZE_A3) and wsn.page_setup.orientation == "landscape"
    assert wsn.page_setup.fitToWidth == 1 and wsn.page_setup.fitToHeight == 0
    assert wsn.print_title_rows.replace("$", "") == "3:4"
    assert wsn.freeze_panes == "F5"
    assert wsn.print_options.horizontalCentered
