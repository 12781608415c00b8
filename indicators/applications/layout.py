"""The file layout: one row per application under Chinese headers (``COLUMNS``), and the upload
template that lays them out with drop-downs and a sheet of notes (``records_template``)."""

from dataclasses import dataclass

from django.conf import settings
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from utilities.excel import (
    HEADER_FILL,
    frame,
    print_setup,
    put,
    save,
    set_widths,
    sheet,
)

from ..models import REQUIRED_STAGES, Application, CustomerType, Stage
from .rules import DOCUMENT_NAMES, ID_DOCUMENT, PROPERTY_DOCUMENT

DOCUMENT = "报装记录"  # what the file is called in messages
SHEET = "报装记录"  # the template's data sheet; a file without it is read from its first sheet
NOTES_SHEET = "填写说明"
INLINE_ROWS = 5000  # more rows than this (or an unknown number) are read by a Celery worker


@dataclass(frozen=True)
class Column:
    field: str  # of Application; the header is its verbose name
    kind: str  # how a cell is read: text, type, date, count, money, flag
    required: bool
    note: str
    width: int = 14

    @property
    def header(self):
        return str(Application._meta.get_field(self.field).verbose_name)


def _stage_columns():
    for stage in Stage:
        required = stage in REQUIRED_STAGES
        note = "必填" if required else "没有此环节的留空（两列都留空）"
        yield Column(f"{stage}_start", "date", required, f"{note}；如 2024-02-08", 13)
        yield Column(f"{stage}_end", "date", required, f"{note}；不早于开始日期", 13)


COLUMNS = (
    Column("number", "text", True, "营销系统的申请编号，同一文件内不重复", 18),
    Column("customer_type", "type", True, "下拉选择：" + "、".join(CustomerType.labels), 30),
    *_stage_columns(),
    Column("stage_count", "count", True, "实际办理的环节个数（居民、“三零”用户应为 2 个）", 10),
    Column("documents", "text", True, f"以“、”分隔，如“{ID_DOCUMENT}、{PROPERTY_DOCUMENT}”", 30),
    Column("investment", "money", True, "用户承担的投资，单位元，没有的填 0", 12),
    Column("force_majeure", "flag", False, "是 / 否（留空为否）", 8),
)
COLUMN_BY_HEADER = {c.header: c for c in COLUMNS}
DATE_FORMAT = "yyyy-mm-dd"


def records_template():
    """The upload template: the data sheet with its headers and drop-downs, and a sheet of notes."""
    workbook, ws = sheet(SHEET)
    set_widths(ws, [c.width for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        put(ws, 1, index, column.header, bold=True, fill=HEADER_FILL)
        if column.kind == "date":  # the whole column, so no empty cells are written below the header
            ws.column_dimensions[get_column_letter(index)].number_format = DATE_FORMAT
    ws.row_dimensions[1].height = 32
    choices = {"customer_type": CustomerType.labels, "force_majeure": ["是", "否"]}
    for index, column in enumerate(COLUMNS, start=1):
        if column.field in choices:
            listed = ",".join(choices[column.field])
            validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=not column.required)
            validation.add(f"{get_column_letter(index)}2:{get_column_letter(index)}{settings.APPLICATION_MAX_ROWS + 1}")
            ws.add_data_validation(validation)
    print_setup(ws, paper=ws.PAPERSIZE_A3, title_rows="1:1", freeze="C2")

    notes = workbook.create_sheet(NOTES_SHEET)
    set_widths(notes, [26, 8, 70])
    lines = [("列", "必填", "说明"), *((c.header, "是" if c.required else "否", c.note) for c in COLUMNS)]
    lines += [
        ("", "", ""),
        ("说明", "", "每行一件报装，表头在第 1 行，列的顺序不限，可另加其他列（不导入）。也可另存为 CSV（UTF-8 或 GBK 编码）上传。"),
        (
            "",
            "",
            f"一次上传一个县一个报告期的全部记录，重新上传即替换；最多 {settings.APPLICATION_MAX_ROWS:,} 行，超过 {INLINE_ROWS:,} 行的在后台导入。",
        ),
        ("", "", "工作日按国务院节假日安排计算（周末、法定节假日不计，调休上班日计入）；环节开始的当天不计，结束的当天计入。"),
        (
            "",
            "",
            f"申请资料的规范名称：{'、'.join(DOCUMENT_NAMES)}；常见写法（如“身份证”“房产证”“营业执照”）会自动识别，其他名称视为另收的资料。",
        ),
    ]
    for row, values in enumerate(lines, start=1):
        for column, value in enumerate(values, start=1):
            put(notes, row, column, value, bold=row == 1, horizontal="left")
    frame(notes, 1, 1, len(COLUMNS) + 1, 3)
    return save(workbook)
