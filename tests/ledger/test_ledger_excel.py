"""Ledgers in Excel (issue 5 §6): exports in the documents' own layout read back cell by cell, and
imports that go row by row through the services — previewed, then applied all or nothing — with
every refusal located and nothing stored."""

import io
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell

from accounts.models import Region
from ledger import services
from ledger.excel import FIRST_DATA_ROW, HEADER_ROW
from ledger.models import (
    Assignment,
    AssignmentStatus,
    Ledger,
    ProgressKind,
    ProgressUpdate,
)
from ledger.resources import export_workbook, import_workbook
from utilities.excel import ImportFileError

pytestmark = pytest.mark.django_db

ITEM_HEADERS = ["序号", "分类", "工作目标任务", "责任单位", "完成时间"]
PROGRESS_HEADERS = [
    "序号",
    "工作目标任务",
    "责任区域代码",
    "责任区域",
    "责任单位",
    "牵头",
    "联系人",
    "联系电话",
    "节点时间",
    "状态",
    "进展情况",
    "进展日期",
]
NATIONAL_CATEGORIES = [
    ("工作目标", 1, 11),
    ("压缩办电时间", 12, 20),
    ("提高办电便利度", 21, 28),
    ("降低办电成本", 29, 38),
    ("提升供电能力和供电可靠性", 39, 45),
    ("加大信息公开力度", 46, 50),
    ("强化组织实施", 51, 57),
]


# --- helpers and fixtures -----------------------------------------------------------------------


def sheet_of(data):
    return load_workbook(io.BytesIO(data)).worksheets[0]


def upload(ws_or_bytes, name="台账.xlsx"):
    """A workbook (or raw bytes) as the browser sends it."""
    if not isinstance(ws_or_bytes, bytes):
        buffer = io.BytesIO()
        ws_or_bytes.parent.save(buffer)
        ws_or_bytes = buffer.getvalue()
    return SimpleUploadedFile(name, ws_or_bytes, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def row_of(number):
    """The sheet row of item ``number`` (items are written in order from FIRST_DATA_ROW)."""
    return FIRST_DATA_ROW + number - 1


def framed(cell):
    """Thin lines all round; inside a merged 分类 block Excel draws the block's outline, left and right."""
    sides = ("left", "right") if isinstance(cell, MergedCell) else ("left", "right", "top", "bottom")
    return all(getattr(cell.border, side).style == "thin" for side in sides)


def items_state(ledger):
    fields = ("number", "category", "task", "responsible_units", "due_text", "due_date", "ongoing", "extra")
    return list(ledger.items.order_by("number").values_list(*fields))


@pytest.fixture
def people(make_user):
    return {
        "province": make_user("sc", "province", "510000"),
        "city": make_user("cd", "city", "510100"),
        "county": make_user("jj", "county", "510104"),
        "neighbour": make_user("qy", "county", "510105"),
        "chongqing": make_user("cq", "province", "500000"),
        "national": make_user("nea", "national"),
    }


@pytest.fixture
def national():
    return Ledger.objects.get(code="national-2021")


@pytest.fixture
def own(people, national):
    """四川's own 2024 ledger, adapted from the national one (reference ledgers are read-only)."""
    return services.ledger_adapt(user=people["province"], region=Region.objects.get(code="510000"), year=2024, source=national)


@pytest.fixture
def parts(people, own):
    """Item 3 given to 成都市 and 绵阳市; 成都市's part broken down to 锦江区 and 青羊区."""
    item = own.items.get(number=3)
    assign = lambda user, region, unit, **kw: services.assignment_create(  # noqa: E731
        user=people[user], item=item, region=Region.objects.get(code=region), responsible_unit=unit, **kw
    )
    chengdu = assign("province", "510100", "成都市发改委", lead=True, contact="李四", phone="028-87654321")
    mianyang = assign("province", "510700", "绵阳市发改委")
    jinjiang = assign("city", "510104", "锦江区发改局", parent=chengdu, contact="张三", phone="028-12345678", milestone=date(2024, 9, 30))
    qingyang = assign("city", "510105", "青羊区发改局", parent=chengdu)
    return {"chengdu": chengdu, "mianyang": mianyang, "jinjiang": jinjiang, "qingyang": qingyang}


def progress_sheet(user, ledger):
    return sheet_of(export_workbook(ledger=ledger, user=user, progress=True))


def progress_row(ws, code, unit):
    """The sheet row of the assignment to region ``code`` with ``unit``."""
    return next(r for r in range(FIRST_DATA_ROW, ws.max_row + 1) if ws.cell(r, 3).value == code and ws.cell(r, 5).value == unit)


def report(ws, row, status, note, on=None):
    ws.cell(row, 10).value, ws.cell(row, 11).value, ws.cell(row, 12).value = status, note, on


# --- export -------------------------------------------------------------------------------------


def test_the_national_ledger_exports_in_its_documents_layout(people, national):
    ws = sheet_of(export_workbook(ledger=national, user=people["county"]))
    assert ws.title == "任务台账"
    assert ws["A1"].value == national.name and ws["A1"].font.b
    assert ws["A2"].value == "国能综通监管〔2021〕37号 附件1（全国，2021 年，共 57 项）"
    assert [c.value for c in ws[HEADER_ROW]] == ITEM_HEADERS
    assert ws.max_row == row_of(57)
    for item in national.items.order_by("number"):
        row = row_of(item.number)
        first_of_category = any(item.number == first for _, first, _ in NATIONAL_CATEGORIES)
        assert [c.value for c in ws[row]] == [
            item.number,
            item.category if first_of_category else None,
            item.task,
            item.responsible_units,
            item.due_text,
        ], item.number
        assert ws.cell(row, 1).data_type == "n"
        assert all(framed(c) for c in ws[row]), item.number
        assert ws.cell(row, 3).alignment.wrap_text and ws.cell(row, 3).alignment.horizontal == "left"
    merges = {str(r) for r in ws.merged_cells.ranges}
    assert merges == {"A1:E1", "A2:E2"} | {f"B{row_of(first)}:B{row_of(last)}" for _, first, last in NATIONAL_CATEGORIES}
    for name, first, _last in NATIONAL_CATEGORIES:
        assert ws.cell(row_of(first), 2).value == name


def test_the_export_prints_landscape_with_the_header_repeated_and_frozen(people, national):
    ws = sheet_of(export_workbook(ledger=national, user=people["province"]))
    setup = ws.page_setup
    assert setup.orientation == "landscape" and int(setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert setup.fitToWidth == 1 and setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == f"{HEADER_ROW}:{HEADER_ROW}"
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert [ws.column_dimensions[c].width for c in "ABCDE"] == [6, 12, 50, 30, 14]
    assert all(c.font.b for c in ws[HEADER_ROW])
    assert ws.row_dimensions[row_of(1)].height > ws.row_dimensions[HEADER_ROW].height  # the long task wraps


def test_sichuans_ledger_exports_its_annual_measures_and_no_category(people):
    sichuan = Ledger.objects.get(code="sichuan-2022")
    ws = sheet_of(export_workbook(ledger=sichuan, user=people["county"]))
    assert [c.value for c in ws[HEADER_ROW]] == ["序号", "工作目标任务", "责任单位", "完成时间", "年度重点举措"]
    assert ws.max_row == row_of(66)
    for item in sichuan.items.order_by("number"):
        assert [c.value for c in ws[row_of(item.number)]] == [
            item.number,
            item.task,
            item.responsible_units,
            item.due_text,
            item.extra.get("年度重点举措"),
        ], item.number
    assert ws.cell(row_of(1), 5).value == "积极推动/确保完成"
    assert ws.cell(row_of(17), 5).value is None  # empty in the document
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:E1", "A2:E2"}
    assert ws.column_dimensions["E"].width == 12
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)


def test_a_wide_ledger_prints_on_a3(people):
    ws = sheet_of(export_workbook(ledger=Ledger.objects.get(code="cqpower-2021"), user=people["chongqing"]))
    assert [c.value for c in ws[HEADER_ROW]][-2:] == ["具体举措", "进度安排"]
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A3)
    # items 1–3 share a category, the rest have none: only the run is merged
    assert f"B{row_of(1)}:B{row_of(3)}" in {str(r) for r in ws.merged_cells.ranges}


def test_formula_looking_text_is_neutralised_and_reads_back_unchanged(people, own):
    formula = '=HYPERLINK("http://example.com","点我")'
    services.ledger_item_save(
        user=people["province"], ledger=own, number=1, task=formula, responsible_units="+省能源局", due_text="持续推进"
    )
    data = export_workbook(ledger=own, user=people["province"])
    ws = sheet_of(data)
    for cell in (ws.cell(row_of(1), 3), ws.cell(row_of(1), 4)):
        assert cell.data_type == "s" and cell.quotePrefix
    assert ws.cell(row_of(1), 3).value == formula
    preview = import_workbook(upload(data), ledger=own, user=people["province"])
    assert not preview.errors and not preview.changed and len(preview.unchanged) == 57


def test_the_progress_export_lists_the_assignments_each_user_may_see(people, own, parts):
    ws = progress_sheet(people["province"], own)
    assert ws.title == "任务分解进展"
    assert ws["A1"].value == f"{own.name}任务分解及进展情况"
    assert [c.value for c in ws[HEADER_ROW]] == PROGRESS_HEADERS
    assert ws.max_row == FIRST_DATA_ROW + 3
    row = progress_row(ws, "510104", "锦江区发改局")
    assert [c.value for c in ws[row]][:9] == [
        3,
        own.items.get(number=3).task,
        "510104",
        "锦江区",
        "锦江区发改局",
        None,
        "张三",
        "028-12345678",
        datetime(2024, 9, 30),
    ]
    assert ws.cell(row, 9).number_format == "yyyy-mm-dd"
    assert ws.cell(progress_row(ws, "510100", "成都市发改委"), 6).value == "是"
    assert ws.cell(row, 10).value == "未开始"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A3) and ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    county = progress_sheet(people["county"], own)
    assert county.max_row == FIRST_DATA_ROW and county.cell(FIRST_DATA_ROW, 3).value == "510104"


# --- importing items ----------------------------------------------------------------------------


def test_round_trip_previews_two_changes_and_one_new_row_then_applies_them(people, own):
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    ws.cell(row_of(5), 5).value = "2025年6月底前"
    ws.cell(row_of(6), 3).value = "将低压非居民用户全过程办电时间压减至 10 个工作日以内。"
    ws.append([58, "强化组织实施", "建立全省“获得电力”工作月调度机制。", "省能源局", "2025年3月15日前"])
    before = items_state(own)

    preview = import_workbook(upload(ws), ledger=own, user=people["province"])
    assert [r.key for r in preview.changed] == ["第 5 项", "第 6 项"] and [r.key for r in preview.new] == ["第 58 项"]
    assert len(preview.unchanged) == 55 and not preview.errors and not preview.applied
    assert preview.changed[0].changes == [("完成时间", "2021 年底前", "2025年6月底前")]
    assert preview.changed[0].row == row_of(5)
    assert items_state(own) == before  # nothing stored

    applied = import_workbook(upload(ws), ledger=own, user=people["province"], dry_run=False, expected_digest=preview.digest)
    assert applied.applied and applied.digest == preview.digest
    item5, item6, item58 = (own.items.get(number=n) for n in (5, 6, 58))
    assert item5.due_text == "2025年6月底前" and item5.due_date == date(2025, 6, 30)  # re-parsed
    assert item6.task.startswith("将低压非居民用户")
    assert (item58.category, item58.due_date, item58.ongoing) == ("强化组织实施", date(2025, 3, 15), False)
    assert own.items.count() == 58


def test_a_ledger_without_categories_imports_without_the_column(people):
    sichuan_own = services.ledger_adapt(
        user=people["province"], region=Region.objects.get(code="510000"), year=2025, source=Ledger.objects.get(code="sichuan-2022")
    )
    ws = sheet_of(export_workbook(ledger=sichuan_own, user=people["province"]))
    ws.cell(row_of(2), 5).value = "自查自纠加强整改"
    applied = import_workbook(upload(ws), ledger=sichuan_own, user=people["province"], dry_run=False)
    assert applied.applied and [r.changes for r in applied.changed] == [[("年度重点举措", "检查督导/巩固提升", "自查自纠加强整改")]]
    assert sichuan_own.items.get(number=2).extra == {"年度重点举措": "自查自纠加强整改"}
    assert sichuan_own.items.get(number=2).category == ""


def test_a_bad_due_text_on_row_5_is_located_and_nothing_is_stored(people, own):
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    assert ws.cell(5, 1).value == 2
    ws.cell(5, 5).value = "尽快完成"
    ws.cell(row_of(9), 3).value = "一项本身没有问题的修改"
    before = items_state(own)
    for dry_run in (True, False):
        preview = import_workbook(upload(ws), ledger=own, user=people["province"], dry_run=dry_run)
        # the model's check constraint adds its own message after it (see the report)
        assert preview.errors[0] == (
            "第 5 行 E 列（完成时间）：无法识别完成时间“尽快完成”：应写明年月（如“2021年4月底前”），或写“持续推进”“长期”。"
        )
        assert all(e.startswith("第 5 行") for e in preview.errors)
        assert not preview.applied and len(preview.changed) == 1
    assert items_state(own) == before


def test_bad_serials_and_repeated_rows_are_located(people, own):
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    ws.cell(row_of(2), 1).value = "二"
    ws.cell(row_of(4), 1).value = 3
    ws.cell(row_of(7), 3).value = None
    preview = import_workbook(upload(ws), ledger=own, user=people["province"])
    assert preview.errors == [
        "第 5 行 A 列（序号）：“二”不是正整数。",
        "第 7 行 A 列（序号）：与第 6 行重复：同一序号只能有一行。",
        "第 10 行 C 列（工作目标任务）：此字段不能为空。",
    ]


def test_only_the_ledgers_officials_may_import_items_and_the_preview_says_so_per_row(people, own, national):
    ws = sheet_of(export_workbook(ledger=own, user=people["city"]))
    ws.cell(row_of(1), 3).value = "市里想改的任务"
    ws.cell(row_of(2), 3).value = "另一项"
    preview = import_workbook(upload(ws), ledger=own, user=people["city"])
    assert preview.errors == [f"第 {row_of(n)} 行：您不能修改“{own.name}”。" for n in (1, 2)]

    ref = sheet_of(export_workbook(ledger=national, user=people["province"]))
    ref.cell(row_of(1), 3).value = "改文件原文"
    preview = import_workbook(upload(ref), ledger=national, user=people["province"], dry_run=False)
    assert preview.errors == [f"第 {row_of(1)} 行：“{national.name}”是文件原文，不能修改；请先据此制定本地台账。"]
    assert national.items.get(number=1).task.startswith("各地区全面实现")


def test_a_file_of_another_layout_is_refused(people, own, parts):
    before = items_state(own)
    with pytest.raises(ImportFileError) as refused:
        import_workbook(
            upload(export_workbook(ledger=own, user=people["province"], progress=True)), ledger=own, user=people["province"], dry_run=False
        )
    assert items_state(own) == before
    assert refused.value.errors[:3] == [
        "表头与任务台账不符：这是任务分解进展表，请到对应的导入页面导入。",
        "第 3 行 C 列：表头应为“责任单位”，实为“责任区域代码”。",
        "第 3 行 D 列：表头应为“完成时间”，实为“责任区域”。",
    ]
    with pytest.raises(ImportFileError) as refused:
        import_workbook(upload(export_workbook(ledger=own, user=people["province"])), ledger=own, user=people["province"], progress=True)
    assert refused.value.errors[0] == "表头与任务分解进展表不符：这是任务台账，请到对应的导入页面导入。"

    other = Workbook()
    other.active.append(["姓名", "电话"])
    with pytest.raises(ImportFileError) as refused:
        import_workbook(upload(other.active), ledger=own, user=people["province"])
    assert refused.value.errors[0].startswith("前 10 行中找不到表头（第一列为“序号”的行）：这不是从门户导出的任务台账")


def test_another_ledgers_file_is_refused_by_its_title(people, own, national):
    with pytest.raises(ImportFileError) as refused:
        import_workbook(upload(export_workbook(ledger=national, user=people["province"])), ledger=own, user=people["province"])
    assert refused.value.errors == [f"第 1 行：标题是“{national.name}”，不是“{own.name}”：这是另一份台账的表，请选择正确的台账或文件。"]


def test_a_missing_extra_column_is_located(people):
    sichuan = Ledger.objects.get(code="sichuan-2022")
    ws = sheet_of(export_workbook(ledger=sichuan, user=people["province"]))
    ws.delete_cols(5)
    with pytest.raises(ImportFileError) as refused:
        import_workbook(upload(ws), ledger=sichuan, user=people["province"])
    assert refused.value.errors[1:] == ["第 3 行 E 列：表头应为“年度重点举措”，实为“空”。"]


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"PK\x03\x04" + b"\0" * 200, "台账.xlsx", "已损坏或不完整"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "台账.xls", "是旧版 Excel（.xls）格式"),
        (b"number,task\n1,x\n", "台账.csv", "不是 Excel 工作簿（.xlsx）：请上传按任务台账模板填写的 .xlsx 文件。"),
        (b"", "台账.xlsx", "是空文件"),
    ],
)
def test_a_corrupt_or_foreign_file_is_refused(people, own, content, name, message):
    before = items_state(own)
    with pytest.raises(ImportFileError) as refused:
        import_workbook(upload(content, name), ledger=own, user=people["province"], dry_run=False)
    assert message in refused.value.errors[0]
    assert items_state(own) == before


def test_a_truncated_file_is_refused(people, own):
    data = export_workbook(ledger=own, user=people["province"])
    with pytest.raises(ImportFileError) as refused:
        import_workbook(upload(data[: len(data) // 2]), ledger=own, user=people["province"])
    assert "已损坏" in refused.value.errors[0]


def test_an_oversized_file_is_refused_before_it_is_parsed(people, own):
    big = SimpleUploadedFile("台账.xlsx", b"not even read")
    big.size = 6 * 1024 * 1024  # what the upload says: refused on that alone
    before = items_state(own)
    with pytest.raises(ImportFileError) as refused:
        import_workbook(big, ledger=own, user=people["province"], dry_run=False)
    assert items_state(own) == before
    assert refused.value.errors == ["文件“台账.xlsx”大小 6 MB，超过上限 5 MB：任务台账通常只有几十 KB，请确认选对了文件。"]


def test_a_preview_that_no_longer_holds_is_not_applied(people, own):
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    ws.cell(row_of(5), 5).value = "2025年6月底前"
    preview = import_workbook(upload(ws), ledger=own, user=people["province"])
    services.ledger_item_save(user=people["province"], ledger=own, number=5, task="他人刚改过", due_text="2026年底前")
    stale = import_workbook(upload(ws), ledger=own, user=people["province"], dry_run=False, expected_digest=preview.digest)
    assert stale.stale and not stale.applied
    assert own.items.get(number=5).due_text == "2026年底前"


# --- importing progress -------------------------------------------------------------------------


def test_a_county_reports_progress_through_the_import(people, own, parts):
    ws = progress_sheet(people["county"], own)
    report(ws, FIRST_DATA_ROW, "推进中", "已完成摸底，正在对接供电企业。", date(2024, 5, 20))
    preview = import_workbook(upload(ws), ledger=own, user=people["county"], progress=True)
    assert [(r.key, r.changes) for r in preview.changed] == [
        (
            "第 3 项 锦江区 锦江区发改局",
            [("状态", "未开始", "推进中"), ("进展情况", "", "已完成摸底，正在对接供电企业。"), ("进展日期", "", "2024-05-20")],
        )
    ]
    assert not ProgressUpdate.objects.filter(kind=ProgressKind.REPORT).exists()

    import_workbook(upload(ws), ledger=own, user=people["county"], progress=True, dry_run=False, expected_digest=preview.digest)
    assignment = Assignment.objects.get(pk=parts["jinjiang"].pk)
    assert (assignment.status, assignment.progress_on, assignment.version) == (AssignmentStatus.IN_PROGRESS, date(2024, 5, 20), 1)
    update = assignment.updates.get(kind=ProgressKind.REPORT)
    assert (update.channel, update.user, update.status_before, update.status_after) == (
        "import",
        people["county"],
        "not_started",
        "in_progress",
    )


def test_progress_rows_are_refused_for_whoever_may_not_report_them(people, own, parts):
    ws = progress_sheet(people["province"], own)
    report(ws, progress_row(ws, "510104", "锦江区发改局"), "推进中", "省里代填")
    report(ws, progress_row(ws, "510105", "青羊区发改局"), "推进中", "省里代填")
    preview = import_workbook(upload(ws), ledger=own, user=people["province"], progress=True, dry_run=False)
    assert preview.errors == [
        f"第 {progress_row(ws, code, unit)} 行：只有责任区域或其供电企业可以报送这项任务的进展。"
        for code, unit in (("510104", "锦江区发改局"), ("510105", "青羊区发改局"))
    ]
    # a county sent the province's whole table: the other regions' rows are not in its scope
    preview = import_workbook(upload(ws), ledger=own, user=people["county"], progress=True)
    assert preview.errors == [
        f"第 {progress_row(ws, code, unit)} 行：台账第 3 项没有分解给{name}的“{unit}”，"
        "或这项分解不在您的管辖范围内：进展表只能更新已有的分解，新的分解请在台账页面添加。"
        for code, name, unit in (
            ("510100", "成都市", "成都市发改委"),
            ("510105", "青羊区", "青羊区发改局"),
            ("510700", "绵阳市", "绵阳市发改委"),
        )
    ]
    assert [r.key for r in preview.changed] == ["第 3 项 锦江区 锦江区发改局"]
    assert not ProgressUpdate.objects.filter(kind=ProgressKind.REPORT).exists()


def test_bad_progress_rows_are_located_and_nothing_is_stored(people, own, parts):
    ws = progress_sheet(people["province"], own)
    rows = [
        progress_row(ws, *key)
        for key in (("510100", "成都市发改委"), ("510104", "锦江区发改局"), ("510105", "青羊区发改局"), ("510700", "绵阳市发改委"))
    ]
    ws.cell(rows[0], 3).value = "999999"
    ws.cell(rows[1], 3).value = "500101"
    report(ws, rows[2], "完成了", "写错了状态")
    report(ws, rows[3], "已完成", "省里代填")
    jinjiang = progress_sheet(people["county"], own)
    report(jinjiang, FIRST_DATA_ROW, "已完成", "", None)
    preview = import_workbook(upload(ws), ledger=own, user=people["province"], progress=True, dry_run=False)
    assert preview.errors == [
        f"第 {rows[0]} 行 C 列（责任区域代码）：区域代码“999999”不存在。",
        f"第 {rows[1]} 行 C 列（责任区域代码）：万州区（500101）不在四川省范围内。",
        f"第 {rows[2]} 行 J 列（状态）：“完成了”不是有效的状态：应为未开始、推进中、已完成、持续推进之一。",
        f"第 {rows[3]} 行：只有责任区域或其供电企业可以报送这项任务的进展。",
    ]
    preview = import_workbook(upload(jinjiang), ledger=own, user=people["county"], progress=True, dry_run=False)
    assert preview.errors == [f"第 {FIRST_DATA_ROW} 行 K 列（进展情况）：请填写进展情况。"]
    assert not ProgressUpdate.objects.filter(kind=ProgressKind.REPORT).exists()


def test_one_bad_progress_row_keeps_the_good_ones_out_too(people, own, parts, make_user):
    company = make_user("gd", "supply_company", "510000")  # serves the whole province: reports for every region
    ws = progress_sheet(company, own)
    report(ws, progress_row(ws, "510104", "锦江区发改局"), "推进中", "已派客户经理对接")
    report(ws, progress_row(ws, "510105", "青羊区发改局"), "办结", "状态写错")
    preview = import_workbook(upload(ws), ledger=own, user=company, progress=True, dry_run=False)
    assert len(preview.changed) == 1 and len(preview.errors) == 1 and not preview.applied
    assert not ProgressUpdate.objects.filter(kind=ProgressKind.REPORT).exists()
    assert Assignment.objects.get(pk=parts["jinjiang"].pk).status == AssignmentStatus.NOT_STARTED


def test_a_future_progress_date_is_located(people, own, parts, make_user):
    mianyang = make_user("my", "city", "510700")
    ws = progress_sheet(mianyang, own)
    report(ws, FIRST_DATA_ROW, "已完成", "全部完成", (timezone.localdate() + timedelta(days=3)).strftime("%Y年%m月%d日"))
    preview = import_workbook(upload(ws), ledger=own, user=mianyang, progress=True, dry_run=False)
    assert preview.errors == [f"第 {FIRST_DATA_ROW} 行 L 列（进展日期）：进展日期不能晚于今天。"]
    report(ws, FIRST_DATA_ROW, "已完成", "全部完成", "下周")
    preview = import_workbook(upload(ws), ledger=own, user=mianyang, progress=True)
    assert preview.errors == [f"第 {FIRST_DATA_ROW} 行 L 列（进展日期）：“下周”不是日期：应写作“2024-05-31”或“2024年5月31日”。"]
    assert Assignment.objects.get(pk=parts["mianyang"].pk).version == 0


# --- the pages ----------------------------------------------------------------------------------


@pytest.fixture
def pages(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "imports" / "ledger"


def test_the_exports_download_for_users_who_may_view(client, people, own):
    client.force_login(people["county"])
    response = client.get(f"/ledgers/{own.code}/export.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    assert sheet_of(response.content)["A1"].value == own.name
    assert client.get(f"/ledgers/{own.code}/progress.xlsx").status_code == 200
    client.force_login(people["chongqing"])
    assert client.get(f"/ledgers/{own.code}/export.xlsx").status_code == 404
    assert client.get(f"/ledgers/{own.code}/progress.xlsx").status_code == 404
    client.logout()
    assert client.get(f"/ledgers/{own.code}/export.xlsx").url.startswith("/login/")


def test_the_import_page_previews_then_applies(client, people, own, pages):
    client.force_login(people["province"])
    url = f"/ledgers/{own.code}/import/"
    assert client.get(url).status_code == 200
    ws = sheet_of(client.get(f"/ledgers/{own.code}/export.xlsx").content)
    ws.cell(row_of(5), 5).value = "2025年6月底前"
    response = client.post(url, {"action": "preview", "file": upload(ws)})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="changed-count">1<' in page and "2021 年底前 → 2025年6月底前" in page
    assert own.items.get(number=5).due_text == "2021 年底前"
    assert len(list(pages.iterdir())) == 1
    confirm = response.context["confirm"]
    response = client.post(url, {"action": "confirm", **confirm.initial})
    assert response.status_code == 302 and response.url == url
    assert own.items.get(number=5).due_date == date(2025, 6, 30)
    assert not any(pages.iterdir())
    assert "已导入任务台账" in client.get(url).content.decode()


def test_the_confirm_step_refuses_a_changed_state_or_someone_elses_upload(client, people, own, pages, make_user):
    client.force_login(people["province"])
    url = f"/ledgers/{own.code}/import/"
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    ws.cell(row_of(5), 5).value = "2025年6月底前"
    confirm = client.post(url, {"action": "preview", "file": upload(ws)}).context["confirm"].initial

    services.ledger_item_save(user=people["province"], ledger=own, number=5, task="他人刚改过", due_text="2026年底前")
    response = client.post(url, {"action": "confirm", **confirm})
    assert response.status_code == 409 and "预览之后台账中的数据有变动" in response.content.decode()
    assert own.items.get(number=5).due_text == "2026年底前"

    colleague = make_user("sc2", "province", "510000")
    client.force_login(colleague)
    fresh = response.context["confirm"].initial
    response = client.post(url, {"action": "confirm", **fresh})
    assert response.status_code == 400 and "这次上传已失效" in response.content.decode()
    response = client.post(url, {"action": "confirm", "token": "forged", "digest": "0" * 64})
    assert response.status_code == 400 and own.items.get(number=5).due_text == "2026年底前"


def test_the_import_page_lists_every_error_and_keeps_nothing(client, people, own, pages):
    client.force_login(people["province"])
    url = f"/ledgers/{own.code}/import/"
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    ws.cell(5, 5).value = "尽快完成"
    response = client.post(url, {"action": "preview", "file": upload(ws)})
    page = response.content.decode()
    assert response.status_code == 400 and "第 5 行 E 列（完成时间）：无法识别完成时间“尽快完成”" in page
    assert response.context["confirm"] is None
    response = client.post(url, {"action": "preview", "file": upload(b"PK\x03\x04broken", "坏.xlsx")})
    assert response.status_code == 400 and "未导入任何内容：“坏.xlsx”有 1 处问题。" in response.content.decode()
    assert not pages.exists() or not any(pages.iterdir())


def test_the_progress_import_page_shows_permission_errors_per_row(client, people, own, parts, pages):
    client.force_login(people["city"])
    url = f"/ledgers/{own.code}/progress-import/"
    ws = progress_sheet(people["city"], own)
    report(ws, progress_row(ws, "510104", "锦江区发改局"), "已完成", "市里代填")
    response = client.post(url, {"action": "preview", "file": upload(ws, "进展.xlsx")})
    assert response.status_code == 400
    assert "只有责任区域或其供电企业可以报送这项任务的进展" in response.content.decode()

    client.force_login(people["county"])
    ws = progress_sheet(people["county"], own)
    report(ws, FIRST_DATA_ROW, "已完成", "已全部完成", date(2024, 6, 1))
    confirm = client.post(url, {"action": "preview", "file": upload(ws, "进展.xlsx")}).context["confirm"].initial
    assert client.post(url, {"action": "confirm", **confirm}).status_code == 302
    assert Assignment.objects.get(pk=parts["jinjiang"].pk).status == AssignmentStatus.DONE
    assert client.get(f"/ledgers/{Ledger.objects.get(code='chongqing-2021').code}/progress-import/").status_code == 404


# --- the commands -------------------------------------------------------------------------------


def test_export_ledger_writes_the_workbook(tmp_path, people, national, own, parts, django_user_model):
    django_user_model.objects.create_superuser("root", password="pw-for-tests-1", role="national")
    call_command("export_ledger", "national-2021", "-o", str(tmp_path / "national.xlsx"))
    assert sheet_of((tmp_path / "national.xlsx").read_bytes()).max_row == row_of(57)
    call_command("export_ledger", own.code, "-o", str(tmp_path / "progress.xlsx"), "--progress", "--user", "jj")
    assert sheet_of((tmp_path / "progress.xlsx").read_bytes()).max_row == FIRST_DATA_ROW
    with pytest.raises(CommandError, match="不存在或不在用户 cq 的管辖范围内"):
        call_command("export_ledger", own.code, "-o", str(tmp_path / "x.xlsx"), "--user", "cq")


def test_import_ledger_previews_applies_and_refuses(tmp_path, people, own, capsys):
    ws = sheet_of(export_workbook(ledger=own, user=people["province"]))
    ws.cell(row_of(5), 5).value = "2025年6月底前"
    path = tmp_path / "台账.xlsx"
    ws.parent.save(path)
    call_command("import_ledger", own.code, str(path), "--user", "sc", "--dry-run")
    out = capsys.readouterr().out
    assert "新增 0，修改 1，未变 56" in out and "完成时间：2021 年底前 → 2025年6月底前" in out and "--dry-run" in out
    assert own.items.get(number=5).due_text == "2021 年底前"
    call_command("import_ledger", own.code, str(path), "--user", "sc")
    assert own.items.get(number=5).due_date == date(2025, 6, 30)

    ws.cell(5, 5).value = "尽快完成"
    ws.parent.save(path)
    with pytest.raises(CommandError, match="处错误，未导入任何内容"):
        call_command("import_ledger", own.code, str(path), "--user", "sc")
    assert "第 5 行 E 列（完成时间）" in capsys.readouterr().out
    (tmp_path / "坏.xlsx").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(CommandError, match="文件未通过检查"):
        call_command("import_ledger", own.code, str(tmp_path / "坏.xlsx"), "--user", "sc")
