"""Importing 附件2 filled offline: a preview first, then all or nothing, audited with channel “import”.

The workbooks are built here in the official layout (reporting/layout.py) for 宁夏回族自治区
(640000: 5 cities, 22 counties), from the table ``reporting.tables.build_attachment2`` makes;
every refusal is checked for its located message and for nothing stored.
"""

import io
from datetime import date, datetime

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import Region
from indicators import services
from indicators.models import AuditEntry, Checkmark, Submission, SubmissionState
from indicators.services import CheckmarkValue
from reporting import layout
from reporting.imports import (
    ImportFileError,
    apply_attachment2,
    preview_lines,
    read_attachment2,
)
from tests.helpers import (
    COUNTY_NUMBERS,
    PROVINCE,
    STARRED,
    XLSX,
    build_table,
    col,
    letter,
    to_bytes,
    workbook,
    write_workbook,
)
from utilities.errors import PeriodLocked, StaleVersion

pytestmark = pytest.mark.django_db

URL = "/reporting/import/attachment2/"


# --- the workbook, in the official layout -----------------------------------------------------


def upload(data, name="附件2.xlsx"):
    return SimpleUploadedFile(name, data, content_type=XLSX)


def refused(data, province, period, **kwargs):
    with pytest.raises(ImportFileError) as caught:
        read_attachment2(upload(data), province=province, period=period, **kwargs)
    return caught.value.errors


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def ningxia():
    return Region.objects.get(code=PROVINCE)


@pytest.fixture
def official(make_user):
    return make_user("nx", "province", PROVINCE, last_name="宁夏能源局")


def nothing_stored():
    return not Checkmark.objects.exists() and not AuditEntry.objects.filter(channel="import").exists()


# --- a correct import -------------------------------------------------------------------------


def test_a_correct_table_is_previewed_then_applied_and_audited_as_import(period, ningxia, official):
    wb, rows = workbook(period, counties={"640104": {3: "2022年9月", 5: "2022 年 10 月"}})
    preview = read_attachment2(upload(to_bytes(wb)), province=ningxia, period=period)

    assert nothing_stored()  # the preview writes nothing
    assert len(preview.counties) == 22 and preview.province_entry.region == ningxia
    xingqing = next(e for e in preview.counties if e.region.code == "640104")
    assert xingqing.name == "银川市 兴庆区" and xingqing.row == rows["640104"]
    assert xingqing.values[1] == CheckmarkValue("done", date(2022, 6, 1))
    assert xingqing.values[3] == CheckmarkValue("not_done", expected_month=date(2022, 9, 1))
    assert xingqing.values[5] == CheckmarkValue("not_done", expected_month=date(2022, 10, 1))
    assert [(c.label, c.before, c.after) for c in xingqing.changes][:3] == [
        ("1", "（空）", "√ 2022年6月"),
        ("2", "（空）", "√ 2022年6月"),
        ("3", "（空）", "预计 2022年9月"),
    ]
    province = preview.province_entry
    assert province.values == {
        21: CheckmarkValue("done"),
        27: CheckmarkValue("not_done", expected_month=date(2022, 8, 1)),
        29: CheckmarkValue("done"),
        30: CheckmarkValue("done"),
        33: CheckmarkValue("not_done", expected_month=date(2022, 9, 1)),
        37: CheckmarkValue("done"),
    }
    assert province.missing == []  # *38 is encouraging: blank is allowed
    assert preview.change_count == 22 * 31 + 6
    assert preview.assumed_month == date(2022, 6, 1)
    assert any("2022年6月" in note and "不含完成月份" in note for note in preview.notes)
    text = "\n".join(preview_lines(preview))
    assert "银川市 兴庆区" in text and "指标 3：（空） → 预计 2022年9月" in text

    result = apply_attachment2(user=official, preview=preview)

    assert (result.regions, result.regions_changed, result.checkmarks_changed) == (23, 23, 22 * 31 + 6)
    assert Checkmark.objects.filter(period=period, status="done", region__level="county").count() == 22 * 31 - 2
    mark = Checkmark.objects.get(region__code="640104", period=period, indicator__number=5)
    assert (mark.status, mark.expected_month, mark.updated_by) == ("not_done", date(2022, 10, 1), official)
    assert Checkmark.objects.get(region=ningxia, period=period, indicator__number=27).expected_month == date(2022, 8, 1)
    entries = AuditEntry.objects.filter(period=period, action="set")
    assert entries.count() == 22 * 31 + 6 and set(entries.values_list("channel", flat=True)) == {"import"}
    assert set(entries.values_list("user", flat=True)) == {official.pk}
    entry = entries.get(region__code="640104", indicator__number=3)
    assert (entry.before, entry.after) == ("", "预计 2022年9月")
    assert Submission.objects.get(region=ningxia, period=period).version == 1


def test_importing_the_same_table_again_changes_nothing(period, ningxia, official):
    data = to_bytes(workbook(period)[0])
    apply_attachment2(user=official, preview=read_attachment2(upload(data), province=ningxia, period=period))
    audited = AuditEntry.objects.count()
    again = read_attachment2(upload(data), province=ningxia, period=period)
    assert again.change_count == 0
    assert apply_attachment2(user=official, preview=again).checkmarks_changed == 0
    assert AuditEntry.objects.count() == audited


def test_a_known_done_month_is_kept_and_notes_are_kept(period, ningxia, official):
    county = Region.objects.get(code="640104")
    services.checkmarks_set(
        user=official, region=county, period=period, values={1: CheckmarkValue("done", date(2021, 3, 1), note="已出台文件")}
    )
    services.checkmarks_set(
        user=official,
        region=county,
        period=period,
        values={2: CheckmarkValue("not_done", expected_month=date(2022, 5, 1), note="等待住建局")},
    )
    preview = read_attachment2(upload(to_bytes(workbook(period)[0])), province=ningxia, period=period)
    entry = next(e for e in preview.counties if e.region == county)
    assert entry.values[1] == CheckmarkValue("done", date(2021, 3, 1), note="已出台文件")
    assert 1 not in [c.number for c in entry.changes] and "1" not in entry.assumed
    assert entry.values[2] == CheckmarkValue("done", date(2022, 6, 1), note="等待住建局")
    assert [(c.before, c.after) for c in entry.changes if c.number == 2] == [("预计 2022年5月", "√ 2022年6月")]
    apply_attachment2(user=official, preview=preview)
    mark = Checkmark.objects.get(region=county, period=period, indicator__number=2)
    assert (mark.status, mark.done_month, mark.note) == ("done", date(2022, 6, 1), "等待住建局")


def test_the_assumed_done_month_is_never_after_this_month(period, ningxia, official):
    today = date(2022, 3, 15)  # importing the half-year while it runs
    preview = read_attachment2(upload(to_bytes(workbook(period)[0])), province=ningxia, period=period, today=today)
    assert preview.assumed_month == date(2022, 3, 1)
    apply_attachment2(user=official, preview=preview, today=today)
    assert set(Checkmark.objects.filter(region__level="county").values_list("done_month", flat=True)) == {date(2022, 3, 1)}


def test_variants_of_the_tick_and_of_months_are_accepted(period, ningxia):
    wb, rows = workbook(period)
    ws = wb[layout.ATTACHMENT2_SHEET]
    row = rows["640105"]  # 西夏区
    for number, value in {
        1: "✓",
        2: "✔",
        3: " √ ",
        4: "2021 年 8 月",
        5: "2021-08",
        6: "2021.8",
        7: datetime(2021, 9, 1),
        8: "√ 2022年3月",
        9: "2021/11",
    }.items():
        ws.cell(row, col(number), value)
    preview = read_attachment2(upload(to_bytes(wb)), province=ningxia, period=period)
    values = next(e for e in preview.counties if e.region.code == "640105").values
    assert {n: values[n] for n in (1, 2, 3)} == {n: CheckmarkValue("done", date(2022, 6, 1)) for n in (1, 2, 3)}
    assert values[4] == values[5] == values[6] == CheckmarkValue("not_done", expected_month=date(2021, 8, 1))
    assert values[7] == CheckmarkValue("not_done", expected_month=date(2021, 9, 1))
    assert values[8] == CheckmarkValue("done", date(2022, 3, 1))
    assert values[9] == CheckmarkValue("not_done", expected_month=date(2021, 11, 1))


def test_blank_cells_are_missing_not_errors_and_never_clear_a_value(period, ningxia, official):
    county = Region.objects.get(code="640104")
    services.checkmarks_set(
        user=official, region=county, period=period, values={4: CheckmarkValue("not_done", expected_month=date(2022, 12, 1))}
    )
    wb, rows = workbook(period, counties={"640104": {3: "", 4: ""}}, province_cells={21: "已完成"})
    preview = read_attachment2(upload(to_bytes(wb)), province=ningxia, period=period)
    entry = next(e for e in preview.counties if e.region == county)
    assert entry.missing == ["3"] and 3 not in entry.values
    assert [(c.label, c.before) for c in entry.kept] == [("4", "预计 2022年12月")] and 4 not in entry.values
    assert preview.province_entry.missing == ["*27", "*29", "*30", "*33"]
    assert preview.missing_count == 5
    apply_attachment2(user=official, preview=preview)
    assert Checkmark.objects.get(region=county, period=period, indicator__number=4).expected_month == date(2022, 12, 1)
    assert not Checkmark.objects.filter(region=county, period=period, indicator__number=3).exists()


def test_the_portals_own_workbook_reads_back_the_same_values(period, ningxia, official):
    """Round trip: build_attachment2 → excel.attachment2_workbook → read_attachment2."""
    excel = pytest.importorskip("reporting.excel")
    cells = {"640104": {3: "2022年9月"}, "640522": dict.fromkeys(COUNTY_NUMBERS, "2023年1月")}
    table = build_table(period, counties=cells)
    preview = read_attachment2(upload(excel.attachment2_workbook(table)), province=ningxia, period=period)
    written = {row.region_code: row for row in table.rows if row.kind == "county"}
    assert len(preview.counties) == len(written) == 22
    for entry in preview.counties:
        row = written[entry.region.code]
        for offset, column in enumerate(table.columns):
            if column.level != "county":
                continue
            value = entry.values[column.number]
            shown = "√" if value.status == "done" else f"{value.expected_month.year}年{value.expected_month.month}月"
            assert shown == row.cells[offset], (entry.region.name, column.label)
    assert preview.province_entry.values[27] == CheckmarkValue("not_done", expected_month=date(2022, 8, 1))
    assert 38 not in preview.province_entry.values
    apply_attachment2(user=official, preview=preview)
    # and what is stored shows as the cells that were written
    stored = {
        (m.region.code, m.indicator.label): m.display for m in Checkmark.objects.filter(period=period).select_related("region", "indicator")
    }
    for row in table.rows:
        if row.kind in ("county", "province"):
            for column, cell in zip(table.columns, row.cells):
                if cell not in ("", "/"):
                    assert stored[(row.region_code, column.label)] == cell


def test_a_county_name_repeated_in_the_province_is_told_apart_by_its_city(period):
    sichuan = Region.objects.get(code="510000")
    cells = {"511102": {1: "2022年7月"}, "511002": {1: "2022年11月"}}  # 市中区 of 乐山市 and of 内江市
    data = to_bytes(write_workbook(build_table(period, code="510000", counties=cells, province_cells={}))[0])
    preview = read_attachment2(upload(data), province=sichuan, period=period)
    by_code = {e.region.code: e for e in preview.counties}
    assert len(by_code) == Region.objects.filter(level="county", path__startswith="510000/").count()
    assert by_code["511102"].values[1].expected_month == date(2022, 7, 1)
    assert by_code["511002"].values[1].expected_month == date(2022, 11, 1)
    assert by_code["511102"].name == "乐山市 市中区" and by_code["511002"].name == "内江市 市中区"


# --- every refusal: located, in Chinese, nothing stored ----------------------------------------


def edited(period, edit, **kwargs):
    wb, rows = workbook(period, **kwargs)
    edit(wb[layout.ATTACHMENT2_SHEET], rows)
    return to_bytes(wb)


def test_not_an_xlsx_is_refused(period, ningxia):
    assert refused(b"just some text, not a workbook", ningxia, period) == [
        "文件“附件2.xlsx”不是 Excel 工作簿（.xlsx）：请上传按附件2 模板填写的 .xlsx 文件。"
    ]
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert "旧版 Excel（.xls）格式" in refused(ole2, ningxia, period)[0]
    zipped = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "缺少工作簿内容" in refused(zipped.getvalue(), ningxia, period)[0]
    good = to_bytes(workbook(period)[0])  # a good workbook under another name
    with pytest.raises(ImportFileError) as caught:
        read_attachment2(upload(good, name="附件2.csv"), province=ningxia, period=period)
    assert caught.value.errors == ["文件“附件2.csv”的扩展名不是 .xlsx：请上传按附件2 模板填写的 .xlsx 文件。"]
    assert nothing_stored()


def test_a_truncated_or_corrupt_file_is_refused(period, ningxia):
    good = to_bytes(workbook(period)[0])
    assert "已损坏或不完整" in refused(good[: len(good) // 2], ningxia, period)[0]
    damaged = bytearray(good)
    middle = len(damaged) // 3
    damaged[middle : middle + 64] = bytes(64)  # zeroes inside a compressed entry
    assert "已损坏" in refused(bytes(damaged), ningxia, period)[0]
    assert nothing_stored()


def test_the_size_is_checked_before_parsing(period, ningxia):
    good = to_bytes(workbook(period)[0])
    assert refused(good, ningxia, period, max_bytes=1000)[0].startswith("文件“附件2.xlsx”大小 ")
    assert "超过上限 1000 字节" in refused(good, ningxia, period, max_bytes=1000)[0]
    huge = b"PK\x03\x04" + b"\x00" * (6 * 1024 * 1024)  # not even a zip: only its size is looked at
    assert refused(huge, ningxia, period) == ["文件“附件2.xlsx”大小 6 MB，超过上限 5 MB：附件2 通常只有几十 KB，请确认选对了文件。"]


def test_too_many_rows_or_columns_are_refused(period, ningxia):
    data = edited(period, lambda ws, rows: ws.cell(1001, 1, "x"))
    assert refused(data, ningxia, period) == ["附件2 第 1001 行仍有内容：工作表超过 1000 行，不像是附件2。"]
    data = edited(period, lambda ws, rows: ws.cell(9, 61, "x"))
    assert refused(data, ningxia, period) == ["附件2 第 9 行 BI 列有内容：工作表超过 60 列，不像是附件2。"]


def test_a_workbook_of_another_template_is_refused(period, ningxia):
    def rename(ws, rows):
        ws.title = "Sheet1"

    errors = refused(edited(period, rename), ningxia, period)
    assert errors == ["文件“附件2.xlsx”中没有名为“附件2”的工作表（现有：Sheet1）：这不是附件2 模板，请先在门户下载本期附件2 再填写。"]

    def headers(ws, rows):
        ws.cell(layout.HEADER_TOP_ROW, 1, "编号")
        ws.cell(layout.LABEL_ROW, col(21), "21")

    errors = refused(edited(period, headers), ningxia, period)
    assert errors == [
        "附件2 第 4 行 A 列：表头应为“序号”，实为“编号”：这不是附件2 模板。",
        "附件2 第 6 行 Y 列：表头应为指标“*21”，实为“21”：指标列与附件2 模板（38 项指标）不符。",
    ]
    assert nothing_stored()


def test_a_table_of_another_province_or_period_is_refused(period, ningxia):
    errors = refused(edited(period, lambda ws, rows: ws.cell(1, 1, layout.attachment2_title("青海省"))), ningxia, period)
    assert errors == [
        "附件2 第 1 行 A 列：这是青海省的附件2（标题“青海省“获得电力”任务指标完成情况统计表”），不是宁夏回族自治区的：请选择正确的省份或文件。"
    ]
    errors = refused(edited(period, lambda ws, rows: ws.cell(1, 1, "某某统计表")), ningxia, period)
    assert errors == ["附件2 第 1 行 A 列：标题应为“宁夏回族自治区“获得电力”任务指标完成情况统计表”，实为“某某统计表”。"]
    errors = refused(edited(period, lambda ws, rows: ws.cell(7, 2, "青海省")), ningxia, period)
    assert errors == ["附件2 第 7 行 B 列：省份行的“省”应为“宁夏回族自治区”，实为“青海省”：这不是本省的表。"]
    errors = refused(edited(period, lambda ws, rows: ws.cell(2, 1, "（2022年1月—2022年12月）")), ningxia, period)
    assert errors == [
        "附件2 第 2 行 A 列：报告期应为“（2022年1月—2022年6月）”（2022年上半年），实为“（2022年1月—2022年12月）”：这是另一报告期的表，请选择正确的报告期或文件。"
    ]
    # the same period written loosely is the same period
    loose = edited(period, lambda ws, rows: ws.cell(2, 1, "(2022年1月 - 2022年6月)"))
    assert read_attachment2(upload(loose), province=ningxia, period=period).change_count
    assert nothing_stored()


def test_unknown_misplaced_missing_and_repeated_counties_are_refused(period, ningxia):
    def edit(ws, rows):
        ws.cell(rows["640105"], 4, "不存在县")  # 西夏区 → unknown
        ws.cell(rows["640106"], 4, "锦江区")  # 金凤区 → a county of 四川省
        ws.cell(rows["640121"], 4, "大武口区")  # 永宁县 → 石嘴山市's, under 银川市
        ws.cell(rows["640122"], 4, "兴庆区")  # 贺兰县 → 兴庆区 again

    errors = refused(edited(period, edit), ningxia, period)
    r = rows_of(period)
    assert errors == [
        f"附件2 第 {r['640105']} 行 D 列：宁夏回族自治区没有名为“不存在县”的县，全国也没有同名的县：请核对名称。",
        f"附件2 第 {r['640106']} 行 D 列：县“锦江区”不是宁夏回族自治区的县，而是四川省成都市的县：这一行不属于本省的表。",
        f"附件2 第 {r['640121']} 行 D 列：县“大武口区”不属于银川市：本省的“大武口区”属于石嘴山市，请把它放到所属地市之下。",
        f"附件2 第 {r['640122']} 行 D 列：银川市兴庆区在第 {r['640104']} 行已经出现过，同一个县只能填一行。",
        "附件2：文件中缺少宁夏回族自治区的以下县：银川市西夏区、银川市金凤区、银川市永宁县、银川市贺兰县（共 4 个）。每个县都要有一行。",
    ]
    assert nothing_stored()


def rows_of(period):
    return workbook(period)[1]


def test_a_county_left_out_of_the_file_is_listed(period, ningxia):
    data = to_bytes(workbook(period, skip=("640202", "640522"))[0])
    assert refused(data, ningxia, period) == [
        "附件2：文件中缺少宁夏回族自治区的以下县：石嘴山市大武口区、中卫市海原县（共 2 个）。每个县都要有一行。"
    ]


def test_a_county_row_whose_own_city_disagrees_is_refused(period, ningxia):
    def edit(ws, rows):
        ws.cell(rows["640202"], 3, "银川市")  # 大武口区, written under 石嘴山市 but saying 银川市

    row = rows_of(period)["640202"]
    assert refused(edited(period, edit), ningxia, period) == [
        f"附件2 第 {row} 行 C 列：该县行的“地市”写的是“银川市”，但它位于地市“石嘴山市”（第 {row - 1} 行）之下。"
    ]


def test_an_unknown_city_is_told_once(period, ningxia):
    def edit(ws, rows):
        ws.cell(rows["640202"] - 1, 3, "成都市")  # the 石嘴山市 city row

    errors = refused(edited(period, edit), ningxia, period)
    assert errors == [f"附件2 第 {rows_of(period)['640202'] - 1} 行 C 列：地市“成都市”不是宁夏回族自治区的地市，而是四川省的。"]


@pytest.mark.parametrize(
    "number, value, message",
    [
        (3, "2021年13月", "“2021年13月”不是有效的月份，应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”。"),
        (3, "明年", "“明年”不是有效的月份，应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”。"),
        (
            4,
            2021.1,
            "数字“2021.1”不是有效的月份（2021.1 是 1 月还是 10 月？），应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”。",
        ),
        (5, "1921年8月", "“1921年8月”的年份不对，应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”。"),
        (6, "/", "县级指标不能填“/”：已完成的写“√”，未完成的写预计完成月份（如“2021年8月”）。"),
        (7, "√ 2099年1月", "完成月份 2099年1月 晚于本月。"),
        (21, "√", "省级指标由省填报，县行此处应为“/”或留空，不能填“√”。"),
        (37, "已开展", "省级指标由省填报，县行此处应为“/”或留空，不能填“已开展”。"),
    ],
)
def test_a_bad_county_cell_is_located(period, ningxia, number, value, message):
    data = edited(period, lambda ws, rows: ws.cell(rows["640104"], col(number), value))
    row = rows_of(period)["640104"]
    label = f"*{number}" if number in STARRED else str(number)
    assert refused(data, ningxia, period) == [f"附件2 第 {row} 行 {letter(number)} 列（指标 {label}）：{message}"]
    assert nothing_stored()


def test_the_example_message_of_the_brief(period, ningxia):
    data = edited(period, lambda ws, rows: ws.cell(12, col(3), "2021年13月"))
    assert refused(data, ningxia, period)[0].startswith("附件2 第 12 行 G 列（指标 3）：“2021年13月”不是有效的月份")


@pytest.mark.parametrize(
    "number, value, message",
    [
        (1, "√", "县级指标由各县填报，省份行此处应为“/”或留空，不能填“√”。"),
        (21, "已开展", "该指标应填“已完成”或预计完成月份，不能填“已开展”（“已开展”只用于鼓励性指标）。"),
        (27, "/", "省级指标由省填报，应填“已完成”或预计完成月份，不能填“/”。"),
        (
            29,
            "2022年13月",
            "“2022年13月”不是有效的月份，应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”；省级指标已完成的写“已完成”。",
        ),
        (37, "2022年8月", "鼓励性指标只能填“已开展”或留空，不能填“2022年8月”。"),
    ],
)
def test_a_bad_province_cell_is_located(period, ningxia, number, value, message):
    data = edited(period, lambda ws, rows: ws.cell(layout.FIRST_DATA_ROW, col(number), value))
    label = f"*{number}" if number in STARRED else str(number)
    assert refused(data, ningxia, period) == [f"附件2 第 7 行 {letter(number)} 列（指标 {label}）：{message}"]


def test_serials_typed_as_numbers_are_read(period, ningxia):
    def edit(ws, rows):
        ws.cell(rows["640104"] - 1, 1).value = 1  # the 银川市 city row
        ws.cell(rows["640104"], 1).value = 1.1
        ws.cell(rows["640105"], 1).value = 1.2

    preview = read_attachment2(upload(edited(period, edit)), province=ningxia, period=period)
    assert [e.region.code for e in preview.counties][:2] == ["640104", "640105"]


def test_rows_that_cannot_be_placed_are_refused(period, ningxia):
    def edit(ws, rows):
        ws.cell(rows["640104"], 1, "甲")
        ws.cell(rows["640105"], 1).value = None

    r = rows_of(period)
    assert refused(edited(period, edit), ningxia, period) == [
        f"附件2 第 {r['640104']} 行 A 列：序号“甲”无法识别：地市行写“1”、“2”…，县行写“1.1”、“1.2”…",
        f"附件2 第 {r['640105']} 行 A 列：序号为空，无法判断这是地市行、县行还是小计行。",
        "附件2：文件中缺少宁夏回族自治区的以下县：银川市兴庆区、银川市西夏区（共 2 个）。每个县都要有一行。",
    ]


def test_summary_columns_are_ignored_and_a_disagreement_is_told(period, ningxia):
    def edit(ws, rows):
        done_col = layout.summary_columns(38)[0]
        ws.cell(rows["640104"], done_col, 7)
        ws.cell(rows["640104"] + 6, col(1), 99)  # the 银川市小计 row

    preview = read_attachment2(upload(edited(period, edit)), province=ningxia, period=period)
    entry = next(e for e in preview.counties if e.region.code == "640104")
    assert entry.notes == [f"第 {entry.row} 行“完成个数”（AQ 列）写的是 7，表中“√”为 31 个：以门户计算为准。"]


# --- applying: all or nothing ----------------------------------------------------------------


def test_a_locked_period_refuses_and_nothing_is_stored(period, ningxia, official):
    preview = read_attachment2(upload(to_bytes(workbook(period)[0])), province=ningxia, period=period)
    Submission.objects.create(region=ningxia, period=period, state=SubmissionState.CONFIRMED)
    with pytest.raises(PeriodLocked, match="确认锁定"):
        apply_attachment2(user=official, preview=preview)
    assert nothing_stored()


def test_a_change_after_the_preview_rolls_everything_back(period, ningxia, official, make_user):
    preview = read_attachment2(upload(to_bytes(workbook(period)[0])), province=ningxia, period=period)
    last = Region.objects.get(code="640522")  # 海原县, the last county written
    clerk = make_user("hy", "county", "640522")
    services.checkmarks_set(user=clerk, region=last, period=period, values={1: CheckmarkValue("not_done", expected_month=date(2023, 1, 1))})
    with pytest.raises(StaleVersion):
        apply_attachment2(user=official, preview=preview)
    assert Checkmark.objects.count() == 1  # only the clerk's own
    assert not AuditEntry.objects.filter(channel="import").exists()


def test_only_a_province_official_of_that_province_may_apply(period, ningxia, make_user):
    preview = read_attachment2(upload(to_bytes(workbook(period)[0])), province=ningxia, period=period)
    for user in (
        make_user("qh", "province", "630000"),
        make_user("c", "county", "640104"),
        make_user("n", "national"),
        make_user("r", "regulator", PROVINCE),
    ):
        with pytest.raises(PermissionDenied):
            apply_attachment2(user=user, preview=preview)
    assert nothing_stored()


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def table_file(tmp_path, period):
    path = tmp_path / "宁夏附件2.xlsx"
    path.write_bytes(to_bytes(workbook(period, counties={"640104": {3: "2022年9月"}})[0]))
    return path


def test_the_command_dry_run_prints_the_preview_and_writes_nothing(table_file, official, capsys):
    call_command("import_attachment2", str(table_file), "--period", "2022S1", "--user", "nx", "--dry-run")
    out = capsys.readouterr().out
    assert "宁夏回族自治区 2022年上半年（2022S1）附件2 导入预览：宁夏附件2.xlsx" in out
    assert "银川市 兴庆区（第 9 行）：31 项变更" in out and "指标 3：（空） → 预计 2022年9月" in out
    assert "试运行（--dry-run）：未写入任何内容。" in out
    assert nothing_stored()


def test_the_command_applies_as_the_given_user_or_the_first_superuser(table_file, official, django_user_model, capsys):
    call_command("import_attachment2", str(table_file), "--period", "2022S1", "--user", "nx")
    assert "已导入：23 个区域，其中 23 个有变更，共更新 688 项指标（操作人 nx，渠道“导入”）。" in capsys.readouterr().out
    assert AuditEntry.objects.filter(channel="import", user=official).count() == 688

    Checkmark.objects.filter(indicator__number=3, region__code="640104").update(expected_month=date(2022, 11, 1))
    admin = django_user_model.objects.create_superuser("root", password="pw-for-tests-1", role="national")
    call_command("import_attachment2", str(table_file), "--period", "2022S1", "--province", PROVINCE)
    assert AuditEntry.objects.get(channel="import", user=admin).after == "预计 2022年9月"


def test_the_command_refuses_with_every_located_message(tmp_path, period, official):
    wb, rows = workbook(period)
    ws = wb[layout.ATTACHMENT2_SHEET]
    ws.cell(rows["640104"], col(3), "2021年13月")
    ws.cell(rows["640105"], col(4), "下月")
    path = tmp_path / "bad.xlsx"
    path.write_bytes(to_bytes(wb))
    with pytest.raises(CommandError) as caught:
        call_command("import_attachment2", str(path), "--period", "2022S1", "--user", "nx")
    message = str(caught.value)
    assert f"附件2 第 {rows['640104']} 行 G 列（指标 3）：“2021年13月”不是有效的月份" in message
    assert f"附件2 第 {rows['640105']} 行 H 列（指标 4）：“下月”不是有效的月份" in message
    assert nothing_stored()


def test_the_command_checks_user_province_and_period(table_file, period, official, make_user):
    make_user("clerk", "county", "640104")
    make_user("qh", "province", "630000")
    cases = [
        (["--user", "clerk"], "不能导入附件2"),
        (["--user", "qh", "--province", PROVINCE], "省份 640000 不存在或不在用户 qh 的管辖范围内"),
        (["--user", "nobody"], "没有名为 nobody 的有效用户"),
    ]
    for extra, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("import_attachment2", str(table_file), "--period", "2022S1", *extra)
    with pytest.raises(CommandError, match="报告期 2023 尚未开放"):
        call_command("import_attachment2", str(table_file), "--period", "2023", "--user", "nx")
    Submission.objects.create(region=Region.objects.get(code=PROVINCE), period=period, state=SubmissionState.CONFIRMED)
    with pytest.raises(CommandError, match="确认锁定.*未导入任何内容"):
        call_command("import_attachment2", str(table_file), "--period", "2022S1", "--user", "nx")
    assert nothing_stored()


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def page(client, official, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(official)
    return client


def post_file(client, period, data, name="附件2.xlsx"):
    return client.post(URL, {"action": "preview", "period": period.code, "province": PROVINCE, "file": upload(data, name)})


def confirm_fields(response):
    import re

    page = response.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page)[1]
    digest = re.search(r'name="digest" value="([^"]+)"', page)[1]
    return {"action": "confirm", "token": token, "digest": digest, "period": "2022S1", "province": PROVINCE}


def test_the_page_previews_then_applies(page, period, settings, tmp_path):
    response = page.get(URL)
    assert response.status_code == 200 and "上传并预览" in response.content.decode()
    data = to_bytes(workbook(period, counties={"640104": {3: "2022年9月"}})[0])
    response = post_file(page, period, data)
    text = response.content.decode()
    assert response.status_code == 200
    assert "预览：宁夏回族自治区 2022年上半年（附件2.xlsx）" in text and 'id="change-count">688<' in text
    assert "指标 3：（空） → 预计 2022年9月" in text and "确认导入（688 项变更）" in text
    assert nothing_stored()
    fields = confirm_fields(response)
    [kept] = (tmp_path / "imports" / "attachment2").iterdir()  # the one upload store's folder for 附件2
    assert kept.read_bytes() == data

    response = page.post(URL, fields, follow=True)
    text = response.content.decode()
    assert "已导入宁夏回族自治区2022年上半年附件2（附件2.xlsx）：23 个区域，其中 23 个有变更，共更新 688 项指标" in text
    assert AuditEntry.objects.filter(channel="import").count() == 688
    assert not kept.exists()
    # the same confirmation again: the upload is gone
    response = page.post(URL, fields)
    assert response.status_code == 400 and "这次上传已失效" in response.content.decode()
    assert AuditEntry.objects.filter(channel="import").count() == 688


def test_the_page_lists_every_error_and_keeps_nothing(page, period, tmp_path):
    wb, rows = workbook(period)
    wb[layout.ATTACHMENT2_SHEET].cell(rows["640104"], col(3), "2021年13月")
    response = post_file(page, period, to_bytes(wb))
    text = response.content.decode()
    assert response.status_code == 400
    assert "未通过检查，未导入任何内容" in text
    assert f"附件2 第 {rows['640104']} 行 G 列（指标 3）：“2021年13月”不是有效的月份" in text
    assert not (tmp_path / "imports").exists() or not any((tmp_path / "imports").iterdir())
    assert nothing_stored()


def test_the_confirm_step_refuses_a_changed_state_a_bad_token_or_someone_elses_upload(page, period, make_user, client):
    response = post_file(page, period, to_bytes(workbook(period)[0]))
    fields = confirm_fields(response)
    # not a uuid: refused before any path is built
    response = page.post(URL, {**fields, "token": "../../etc/passwd"})
    assert response.status_code == 400 and "确认信息不完整或无效" in response.content.decode()
    # a token of the right shape that the portal never signed
    response = page.post(URL, {**fields, "token": signing.dumps({"path": "imports/attachment2/x.xlsx"}, salt="other")})
    assert response.status_code == 400 and "这次上传已失效" in response.content.decode()
    # a colleague of the same province cannot confirm this upload
    colleague = make_user("nx2", "province", PROVINCE)
    other = Client()
    other.force_login(colleague)
    assert other.post(URL, fields).status_code == 400
    # the data moved on since the preview: nothing written, the new preview shown
    county = Region.objects.get(code="640104")
    services.checkmarks_set(
        user=colleague, region=county, period=period, values={1: CheckmarkValue("not_done", expected_month=date(2023, 1, 1))}
    )
    response = page.post(URL, fields)
    assert response.status_code == 409
    assert "预览之后门户中的数据有变动，未导入任何内容" in response.content.decode()
    assert not AuditEntry.objects.filter(channel="import").exists()
    response = page.post(URL, confirm_fields(response), follow=True)
    assert "共更新 688 项指标" in response.content.decode()


def test_the_confirm_step_on_a_locked_period_writes_nothing(page, period):
    fields = confirm_fields(post_file(page, period, to_bytes(workbook(period)[0])))
    Submission.objects.create(region=Region.objects.get(code=PROVINCE), period=period, state=SubmissionState.CONFIRMED)
    response = page.post(URL, fields)
    assert response.status_code == 409 and "确认锁定" in response.content.decode()
    assert nothing_stored()


@pytest.mark.parametrize(
    "role, code", [("county", "640104"), ("city", "640100"), ("national", None), ("regulator", PROVINCE), ("supply_company", PROVINCE)]
)
def test_other_roles_get_403(client, period, make_user, role, code):
    client.force_login(make_user("u", role, code))
    assert client.get(URL).status_code == 403
    response = post_file(client, period, to_bytes(workbook(period)[0]))
    assert response.status_code == 403 and "只有省级能源主管部门可以导入附件2" in response.content.decode()
    assert nothing_stored()


def test_login_and_csrf_are_required(client, period, official):
    assert client.get(URL).status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(official)
    assert strict.get(URL).status_code == 200
    assert post_file(strict, period, to_bytes(workbook(period)[0])).status_code == 403


def test_a_province_official_can_only_choose_their_own_province(page, period):
    form = page.get(URL).content.decode()
    assert '<option value="640000">宁夏回族自治区</option>' in form and 'value="630000"' not in form
    response = page.post(
        URL, {"action": "preview", "period": "2022S1", "province": "630000", "file": upload(to_bytes(workbook(period, code="630000")[0]))}
    )
    assert response.status_code == 400
    assert "选择一个有效的选项" in response.content.decode()
    assert nothing_stored()
