"""The file layout: one row per application under Chinese headers (``COLUMNS``), and the upload
template that lays them out with drop-downs and a sheet of notes (``records_template``)."""

from dataclasses import dataclass
from decimal import Decimal

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

from ..models import REQUIRED_STAGES, Application, Area, CustomerClass, CustomerType, Stage, VoltageLevel
from .rules import DOCUMENT_NAMES, ID_DOCUMENT, PROPERTY_DOCUMENT

DOCUMENT = "报装记录"  # what the file is called in messages
SHEET = "报装记录"  # the template's data sheet; a file without it is read from its first sheet
NOTES_SHEET = "填写说明"
INLINE_ROWS = 5000  # more rows than this (or an unknown number) are read by a Celery worker


@dataclass(frozen=True)
class Column:
    field: str  # of Application; the header is its verbose name (or ``title``)
    kind: str  # how a cell is read: text, choice, date, count, money, capacity, flag, legacy_type
    required: bool
    note: str
    width: int = 14
    choices: type = None  # the TextChoices of a choice column
    title: str = ""  # the header of a column that is no field (the old layout's 用户类型)

    @property
    def header(self):
        return self.title or str(Application._meta.get_field(self.field).verbose_name)


def _stage_columns():
    for stage in Stage:
        required = stage in REQUIRED_STAGES
        note = "必填" if required else "没有此环节的留空（两列都留空）"
        yield Column(f"{stage}_start", "date", required, f"{note}；如 2024-02-08", 13)
        yield Column(f"{stage}_end", "date", required, f"{note}；不早于开始日期", 13)


def _common_columns():
    """What both layouts have after the customer: the stages, their count, documents, investment."""
    return (
        *_stage_columns(),
        Column("stage_count", "count", True, "实际办理的环节个数（居民、“三零”用户应为 2 个）", 10),
        Column("documents", "text", True, f"以“、”分隔，如“{ID_DOCUMENT}、{PROPERTY_DOCUMENT}”", 30),
        Column("investment", "money", True, "用户承担的投资，单位元，没有的填 0（零投资）", 12),
        Column("force_majeure", "flag", False, "是 / 否（留空为否）", 8),
    )


_NUMBER = Column("number", "text", True, "营销系统的申请编号，同一文件内不重复", 18)
COLUMNS = (
    _NUMBER,
    Column("customer_class", "choice", True, "下拉选择：" + "、".join(CustomerClass.labels), 12, CustomerClass),
    Column(
        "voltage",
        "choice",
        False,
        "下拉选择：" + "、".join(VoltageLevel.labels) + "；380伏及以下为低压，10千伏及以上为高压",
        12,
        VoltageLevel,
    ),
    Column("dual_source", "flag", False, "高压双电源用户填“是”，其他留空", 8),
    Column("capacity_kw", "capacity", True, "报装容量，单位千瓦（kVA 按 kW 填），不能为负", 10),
    Column("area", "choice", True, "下拉选择：城市、农村", 8, Area),
    Column("small_micro", "flag", False, "小微企业填“是”（居民用户不能填“是”）", 8),
    Column("three_zero", "flag", False, "实行“三零”服务的低压非居民用户填“是”（高压、居民用户不能填“是”）", 10),
    *_common_columns(),
)

# The layout before issue 14: one customer type instead of the attributes. A file with the 用户类型
# column is read in this layout, each type into the attributes it stands for (docs/applications.md).
# A small business's capacity is the type's upper bound (160 or 100 kW), so “160kW及以下” holds.
LEGACY_TYPES = {
    CustomerType.RESIDENTIAL: dict(customer_class=CustomerClass.RESIDENTIAL),
    CustomerType.LOW_VOLTAGE_THREE_ZERO: dict(customer_class=CustomerClass.LOW_VOLTAGE, three_zero=True),
    CustomerType.LOW_VOLTAGE_OTHER: dict(customer_class=CustomerClass.LOW_VOLTAGE),
    CustomerType.HIGH_VOLTAGE_SINGLE: dict(customer_class=CustomerClass.HIGH_VOLTAGE),
    CustomerType.HIGH_VOLTAGE_DUAL: dict(customer_class=CustomerClass.HIGH_VOLTAGE, dual_source=True),
    CustomerType.SMALL_BUSINESS_URBAN: dict(
        customer_class=CustomerClass.LOW_VOLTAGE, small_micro=True, area=Area.URBAN, capacity_kw=Decimal(160)
    ),
    CustomerType.SMALL_BUSINESS_RURAL: dict(
        customer_class=CustomerClass.LOW_VOLTAGE, small_micro=True, area=Area.RURAL, capacity_kw=Decimal(100)
    ),
}
LEGACY_COLUMNS = (
    _NUMBER,
    Column("customer_type", "legacy_type", True, "旧版模板：" + "、".join(CustomerType.labels), 30, CustomerType, "用户类型"),
    *_common_columns(),
)
COLUMN_BY_HEADER = {c.header: c for c in COLUMNS}
LEGACY_COLUMN_BY_HEADER = {c.header: c for c in LEGACY_COLUMNS}
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
    for index, column in enumerate(COLUMNS, start=1):
        if column.kind in ("choice", "flag"):
            listed = ",".join(column.choices.labels if column.choices else ["是", "否"])
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
        (
            "",
            "",
            "一件报装按它的各项属性计入每一条适用的规则：如实行“三零”服务的小微企业，既按“三零”时限考核，也按小微企业“零投资”考核。",
        ),
        ("", "", "旧版模板（只有“用户类型”一列）仍可上传：用户类型按说明文档换成上述属性。"),
    ]
    for row, values in enumerate(lines, start=1):
        for column, value in enumerate(values, start=1):
            put(notes, row, column, value, bold=row == 1, horizontal="left")
    frame(notes, 1, 1, len(COLUMNS) + 1, 3)
    return save(workbook)
