"""Application records (用电报装) and the indicators they prove (domain.md §8, issue 8 §1–§2).

A power-supply company's export of a county's applications — customer type, the dates each stage
started and ended, the number of stages, the documents asked for at acceptance, the customer's
investment, force majeure — proves or disproves the indicators that speak of *every* application
(national 3–10, 13, 22–24, 34; Chongqing's equivalents). This module holds:

- the rules: read from ``fixtures/reference/application_rules.csv`` by ``load_reference``
  (``rules_parse``, ``rules_sync``), one ``ApplicationRule`` per indicator, customer type and check;
- the file layout: one row per application under Chinese headers (``COLUMNS``, the template
  ``records_template``), read from .xlsx or CSV with located messages (``read_records``);
- the services: ``applications_upload`` (a small file is read at once, a large one queued for a
  Celery worker) and ``applications_batch_run`` (what the worker runs); a batch read without error
  replaces the county's records of the period, all or nothing;
- the evaluation: ``tallies`` (per county and indicator: how many applications count and how many
  fail, one grouped query), ``evaluate`` (the same for one county with every failing application
  and what it overran) and ``conflicts`` (check-marks the records contradict).

Working days come from ``indicators.workdays`` and are stored on each record when it is imported, so
a rule is a SQL condition on stored numbers (``_meets_q``) and, for the listing, the same comparison
in Python (``_breach``); both read the compared value from ``_measured_fields``.
"""
import csv
import io
import operator
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import reduce
from itertools import combinations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Region, RegionLevel, Role
from accounts.notifications import notify
from accounts.scoping import Action
from reporting.excel import HEADER_FILL, frame, print_setup, put, save, set_widths, sheet
from reporting.imports import ImportFileError, open_workbook, read_bytes
from utilities.csvdata import DataError, DataFileError, read_rows
from utilities.formatting import file_size_label

from .models import (
    REQUIRED_STAGES, Application, ApplicationBatch, ApplicationRule, AuditAction, BatchState, Channel,
    Checkmark, CheckmarkStatus, CustomerType, Indicator, IndicatorSet, RuleMeasure, Stage,
)
from .services import ConflictError, _audit, _ensure_unlocked, _in_scope, _require_role, _submission
from .workdays import working_days_between

DOCUMENT = "报装记录"  # what the file is called in messages
SHEET = "报装记录"  # the template's data sheet; a file without it is read from its first sheet
NOTES_SHEET = "填写说明"
MAX_BYTES = 64 * 1024 * 1024  # 200,000 rows are about 20 MB as .xlsx, 40 MB as CSV
MAX_UNCOMPRESSED = 768 * 1024 * 1024  # the .xlsx unpacked: about 150 MB for 200,000 rows
INLINE_ROWS = 5000  # more rows than this (or an unknown number) are read by a Celery worker
HEADER_SEARCH_ROWS = 10
MAX_ERRORS = 200  # listed; the rest are counted
MAX_LISTED = 200  # failing applications listed per indicator on the county page
MAX_FAILING_LOADED = 5000  # failing applications loaded for that listing
INSERT_CHUNK = 2000
PROGRESS_EVERY = 2000  # rows between progress reports of a background read


# --- documents asked for at acceptance -----------------------------------------------------------

ID_DOCUMENT = "用电人有效身份证件"
PROPERTY_DOCUMENT = "用电地址物权证件"
APPROVAL_DOCUMENT = "用电工程项目批准文件"
# The names the standards use (37号文 附件2-2 指标13、14; 渝经信电力〔2021〕14号 附件2) and the ones
# a company's system writes for the same paper. Any other name is an extra document.
DOCUMENT_NAMES = {
    ID_DOCUMENT: ("有效身份证件", "身份证件", "身份证", "居民身份证", "用电人身份证件", "营业执照"),
    PROPERTY_DOCUMENT: ("用电地址权证", "物权证件", "用电地址物权证明", "产权证明", "房产证", "不动产权证书", "不动产权证"),
    APPROVAL_DOCUMENT: ("项目批准文件",),
}
_CANONICAL = {alias: name for name, aliases in DOCUMENT_NAMES.items() for alias in (name, *aliases)}
_DOCUMENT_SEPARATORS = re.compile(r"[、，,；;/／\s]+")
_COPY_SUFFIX = re.compile(r"(?:复印件|原件|扫描件)$")


def document_set(text):
    """The documents written in ``text`` as canonical names, deduplicated, sorted, joined with “、”."""
    names = {_COPY_SUFFIX.sub("", part) for part in _DOCUMENT_SEPARATORS.split(text or "") if part}
    return "、".join(sorted({_CANONICAL.get(name, name) for name in names if name}))


def _allowed_sets(rule):
    """Every document_set value that asks for nothing beyond the rule's documents."""
    names = sorted(set(rule.document_list))
    return ["、".join(subset) for size in range(1, len(names) + 1) for subset in combinations(names, size)]


# --- the rules: fixture rows, loading, SQL and Python -------------------------------------------

RULE_COLUMNS = ("indicator_set", "indicator", "customer_type", "measure", "stages", "limit", "documents", "force_majeure", "source")


def rules_parse(path, errors):
    """The rows of the rules fixture as ``(line, set code, indicator number, fields)``; problems
    go to ``errors`` (DataError, located by file, line and field)."""
    _header, rows = read_rows(path, RULE_COLUMNS)
    parsed = []
    for line, row in rows:
        where = (path.name, line)
        problems = len(errors)
        for name, choices in (("customer_type", CustomerType), ("measure", RuleMeasure)):
            if row[name] not in choices.values:
                errors.append(DataError(*where, name, f"“{row[name]}”应为 {'、'.join(choices.values)} 之一。"))
        if any(s not in Stage.values for s in row["stages"].split("+") if row["stages"]):
            errors.append(DataError(*where, "stages", f"“{row['stages']}”中有未知环节：应为 {'、'.join(Stage.values)}，以“+”相连。"))
        unknown = [d for d in row["documents"].split("、") if d and d not in DOCUMENT_NAMES]
        if unknown:
            errors.append(DataError(*where, "documents", f"资料须写规范名称（{'、'.join(DOCUMENT_NAMES)}），“{'、'.join(unknown)}”不是。"))
        if row["force_majeure"] not in ("0", "1"):
            errors.append(DataError(*where, "force_majeure", f"“{row['force_majeure']}”应为 0 或 1。"))
        for name in ("indicator_set", "source"):
            if not row[name]:
                errors.append(DataError(*where, name, "不能为空。"))
        if not row["indicator"].isdigit():
            errors.append(DataError(*where, "indicator", f"“{row['indicator']}”不是指标序号。"))
        if row["limit"] and not row["limit"].isdigit():
            errors.append(DataError(*where, "limit", f"“{row['limit']}”不是非负整数。"))
        if len(errors) > problems:
            continue
        parsed.append((line, row["indicator_set"], int(row["indicator"]), dict(
            customer_type=row["customer_type"], measure=row["measure"], stages=row["stages"],
            limit=int(row["limit"]) if row["limit"] else None, documents=row["documents"],
            excludes_force_majeure=row["force_majeure"] == "1", source=row["source"],
        )))
    return parsed


def rules_sync(rows, file_name):
    """Make the rules of every set named in ``rows`` exactly those rows; DataFileError lists what is wrong.

    Returns the number of rules. Run inside ``reference_load``'s transaction, after the sets.
    """
    codes = {code for _line, code, _number, _fields in rows}
    sets = {s.code: s for s in IndicatorSet.objects.filter(code__in=codes)}
    indicators = {(i.indicator_set.code, i.number): i for i in Indicator.objects.filter(indicator_set__code__in=codes).select_related("indicator_set")}
    errors, rules, seen = [], [], {}
    for line, code, number, fields in rows:
        indicator = indicators.get((code, number))
        if code not in sets:
            errors.append(DataError(file_name, line, "indicator_set", f"指标体系 {code} 不存在：须在 documents.csv 中先于本文件导入。"))
            continue
        if indicator is None or indicator.level != "county":
            errors.append(DataError(file_name, line, "indicator", f"指标体系 {code} 没有县级指标 {number}。"))
            continue
        key = (code, number, fields["customer_type"], fields["measure"], fields["stages"])
        if seen.setdefault(key, line) != line:
            errors.append(DataError(file_name, line, None, f"与第 {seen[key]} 行重复：同一指标、用户类型、考核内容和环节只能有一条规则。"))
            continue
        rule = ApplicationRule(indicator=indicator, **fields)
        try:
            rule.full_clean(exclude=["indicator"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.extend(DataError(file_name, line, name, "；".join(messages)) for name, messages in exc.message_dict.items())
            continue
        rules.append(rule)
    if errors:
        raise DataFileError(errors)
    ApplicationRule.objects.filter(indicator__indicator_set__in=sets.values()).delete()
    ApplicationRule.objects.bulk_create(rules)
    return len(rules)


# The stored field(s) a measure compares with the rule's limit; stage_days sums its stages' days.
_MEASURED_FIELD = {
    RuleMeasure.TOTAL_DAYS: "days_total",
    RuleMeasure.ELAPSED_DAYS: "days_elapsed",
    RuleMeasure.STAGE_COUNT: "stage_count",
    RuleMeasure.ZERO_INVESTMENT: "investment",
    RuleMeasure.DOCUMENTS: "document_set",
}


def _measured_fields(rule):
    if rule.measure == RuleMeasure.STAGE_DAYS:
        return [f"days_{stage}" for stage in rule.stage_list]
    return [_MEASURED_FIELD[rule.measure]]


def _limit(rule):
    return 0 if rule.measure == RuleMeasure.ZERO_INVESTMENT else rule.limit


def _applies_q(rule):
    applies = Q(customer_type=rule.customer_type)
    return applies & Q(force_majeure=False) if rule.excludes_force_majeure else applies


def _meets_q(rule):
    if rule.measure == RuleMeasure.DOCUMENTS:
        return Q(document_set__in=_allowed_sets(rule))
    value = reduce(operator.add, (F(name) for name in _measured_fields(rule)))
    return Q(LessThanOrEqual(value, _limit(rule)))


def _applies(rule, record):
    return record.customer_type == rule.customer_type and not (rule.excludes_force_majeure and record.force_majeure)


@dataclass(frozen=True)
class Breach:
    """One rule an application fails, with what it shows against what the rule allows."""

    rule: ApplicationRule
    value: object  # working days, stages, the investment, or the extra documents
    limit: object

    @property
    def overrun(self):
        """By how much (working days, stages, yuan); None for documents."""
        return None if self.rule.measure == RuleMeasure.DOCUMENTS else self.value - self.limit

    @property
    def text(self):
        rule = self.rule
        if rule.measure == RuleMeasure.DOCUMENTS:
            return f"受理时另收：{self.value}"
        if rule.measure == RuleMeasure.ZERO_INVESTMENT:
            return f"用户投资 {self.value:,.2f} 元（应为 0）"
        return f"{rule.subject} {self.value} {rule.unit}，超出 {self.overrun} 个（上限 {self.limit}）"


def _breach(rule, record):
    """The Breach of ``rule`` by ``record``, or None when the record meets it (the same comparison as _meets_q)."""
    if rule.measure == RuleMeasure.DOCUMENTS:
        extra = [d for d in record.document_set.split("、") if d and d not in rule.document_list]
        return Breach(rule, "、".join(extra), None) if extra else None
    value = sum(getattr(record, name) for name in _measured_fields(rule))
    limit = _limit(rule)
    return Breach(rule, value, limit) if value > limit else None


def rules_by_indicator(indicator_set_id):
    """{Indicator: [ApplicationRule]} of a set, in indicator order (one query)."""
    rules = defaultdict(list)
    for rule in ApplicationRule.objects.filter(indicator__indicator_set_id=indicator_set_id).select_related("indicator").order_by("indicator__number", "pk"):
        rules[rule.indicator].append(rule)
    return dict(rules)


# --- the file layout -----------------------------------------------------------------------------

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
FLAG_VALUES = {"是": True, "否": False, "": False, "1": True, "0": False, "TRUE": True, "FALSE": False, "Y": True, "N": False}
DATE_FORMAT = "yyyy-mm-dd"
_SPACES = re.compile(r"\s+")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_TYPE_BY_TEXT = {**{label: value for value, label in CustomerType.choices}, **{v: v for v in CustomerType.values}}


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
        ("", "", f"一次上传一个县一个报告期的全部记录，重新上传即替换；最多 {settings.APPLICATION_MAX_ROWS:,} 行，超过 {INLINE_ROWS:,} 行的在后台导入。"),
        ("", "", "工作日按国务院节假日安排计算（周末、法定节假日不计，调休上班日计入）；环节开始的当天不计，结束的当天计入。"),
        ("", "", f"申请资料的规范名称：{'、'.join(DOCUMENT_NAMES)}；常见写法（如“身份证”“房产证”“营业执照”）会自动识别，其他名称视为另收的资料。"),
    ]
    for row, values in enumerate(lines, start=1):
        for column, value in enumerate(values, start=1):
            put(notes, row, column, value, bold=row == 1, horizontal="left")
    frame(notes, 1, 1, len(COLUMNS) + 1, 3)
    return save(workbook)


# --- reading a file ------------------------------------------------------------------------------

def _compact(value):
    return _SPACES.sub("", str(value).replace("\u3000", "")) if value is not None else ""


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        raise ValueError(f"“{_text(value)}”是数字，不是日期：请把单元格设为日期格式，或写成 2024-02-08")
    text = _compact(value)
    if not text:
        return None
    match = _DATE.match(text)
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text[:30]}”不是有效的日期，应写成 2024-02-08") from None


def _read_count(value):
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise ValueError(f"“{text[:30]}”不是 1 至 99 的整数")
    return int(text)


def _read_money(value):
    text = _compact(_text(value)).replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"“{text[:30]}”不是金额（单位元，没有投资的填 0）") from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 or amount >= Decimal(10) ** 12:
        raise ValueError(f"“{text[:30]}”不是有效金额：不能为负，最多两位小数")
    return amount


def _read_flag(value):
    text = _compact(_text(value)).upper()
    if text not in FLAG_VALUES:
        raise ValueError(f"“{text[:30]}”应为“是”或“否”（留空为否）")
    return FLAG_VALUES[text]


def _read_type(value):
    text = _compact(value)
    if not text:
        return None
    if text not in _TYPE_BY_TEXT:
        raise ValueError(f"未知的用户类型“{text[:30]}”，应为：{'、'.join(CustomerType.labels)}")
    return _TYPE_BY_TEXT[text]


READERS = {
    "text": _text, "type": _read_type, "date": _read_date, "count": _read_count, "money": _read_money, "flag": _read_flag,
}


def _decode(name, data):
    """A CSV's text: UTF-8 (with or without BOM), else GBK/GB18030, as Chinese Excel saves it."""
    if b"\x00" in data[:4096]:
        raise ImportFileError([f"文件“{name}”不是文本格式的 CSV：请上传 .xlsx，或在 Excel 中另存为“CSV UTF-8”。"])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError([f"文件“{name}”既不是 UTF-8 也不是 GBK 编码：请在 Excel 中另存为“CSV UTF-8”。"])


class _Source:
    """The cell values of an uploaded .xlsx (its 报装记录 sheet, else the first) or CSV, row by row."""

    def __init__(self, name, data):
        self.name = name
        self.workbook = None
        if name.lower().endswith(".csv"):
            text = _decode(name, data)
            self.sheet = None
            self.estimated_rows = text.count("\n") + 1
            self._rows = csv.reader(io.StringIO(text))
            return
        self.workbook = open_workbook(name, data, document=DOCUMENT, max_uncompressed=MAX_UNCOMPRESSED)
        ws = self.workbook[SHEET] if SHEET in self.workbook.sheetnames else self.workbook.worksheets[0]
        self.sheet = ws.title
        # The sheet's own <dimension> gives the row count without reading it; it may be absent
        # (None: read in the background) or wrong, so rows are then read regardless of it.
        self.estimated_rows = ws.max_row
        ws.reset_dimensions()
        self._rows = ws.iter_rows(values_only=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.workbook is not None:
            self.workbook.close()

    def rows(self):
        try:
            yield from enumerate(self._rows, start=1)
        except ImportFileError:
            raise
        except Exception as exc:  # csv.Error, or openpyxl's many kinds on a damaged sheet
            raise ImportFileError([f"{self.where()}无法读取（{type(exc).__name__}），文件可能已损坏。"]) from exc

    def where(self, row=None):
        """“工作表“报装记录” 第 12 行” (a CSV has no sheet); the file itself without a row."""
        place = f"工作表“{self.sheet}”" if self.sheet else ""
        if row is not None:
            place += f"{' ' if place else ''}第 {row} 行"
        return place or f"文件“{self.name}”"


class _Reader:
    """Reads a _Source into unsaved, measured Application rows; every problem located."""

    def __init__(self, source, *, max_rows, progress=None):
        self.source = source
        self.max_rows = max_rows
        self.progress = progress
        self.errors = []
        self.dropped = 0
        self.positions = {}  # Column → index in the row

    def error(self, message, row=None, column=None):
        if len(self.errors) >= MAX_ERRORS:
            self.dropped += 1
            return
        place = self.source.where(row)
        if column is not None:
            place += f" {get_column_letter(self.positions[column] + 1)} 列（{column.header}）"
        self.errors.append(f"{place}：{message}")

    def raise_if_errors(self):
        if self.errors:
            more = [f"另有 {self.dropped} 处错误未列出：请先改正以上各处。"] if self.dropped else []
            raise ImportFileError(self.errors + more)

    def header(self, rows):
        """Find the header row among the first rows and map every column; missing ones are errors."""
        wanted = COLUMNS[0].header
        for number, values in rows:
            found = [_compact(v) for v in values]
            if wanted in found:
                break
            if number >= HEADER_SEARCH_ROWS:
                raise ImportFileError([f"{self.source.where()}前 {HEADER_SEARCH_ROWS} 行中找不到表头（含“{wanted}”的行）：请使用门户提供的模板。"])
        else:
            raise ImportFileError([f"{self.source.where()}是空的：没有表头，也没有记录。"])
        for index, text in enumerate(found):
            column = COLUMN_BY_HEADER.get(text)
            if column is None:
                continue  # the company's own extra columns are allowed and not read
            if column in self.positions:
                self.error(f"列“{text}”出现了两次（{get_column_letter(self.positions[column] + 1)} 列和 {get_column_letter(index + 1)} 列）。", number)
            self.positions[column] = index
        missing = [c.header for c in COLUMNS if c not in self.positions]
        if missing:
            self.error(f"表头缺少以下列：{'、'.join(missing)}。请使用门户提供的模板（列的顺序不限）。", number)
        self.raise_if_errors()
        return number

    def read(self, rows, header_row):
        today = timezone.localdate()
        records, seen, count = [], {}, 0
        for number, values in rows:
            if not any(_text(v) for v in values):
                continue
            count += 1
            if count > self.max_rows:
                self.errors.insert(0, f"{self.source.where(number)}：记录超过上限 {self.max_rows:,} 条（APPLICATION_MAX_ROWS）：一个县一个报告期的记录不能多于此数，请核对文件或联系管理员。")
                break
            record = self.row(number, values, today, seen)
            if record is not None:
                records.append(record)
            if self.progress and count % PROGRESS_EVERY == 0:
                self.progress(count, (self.source.estimated_rows or 0) - header_row)
        if count == 0 and not self.errors:
            self.error(f"表头（第 {header_row} 行）以下没有记录。")
        self.raise_if_errors()
        return records

    def row(self, number, values, today, seen):
        """One row → a measured Application, or None with its problems reported.

        ``seen`` maps the record numbers read so far to their rows.
        """
        fields, bad = {}, False
        for column, index in self.positions.items():
            raw = values[index] if index < len(values) else None
            try:
                value = READERS[column.kind](raw)
            except ValueError as exc:
                self.error(f"{exc}。", number, column)
                bad = True
                continue
            if column.required and value in ("", None):
                self.error("不能为空。", number, column)
                bad = True
            fields[column.field] = value
        record_number = fields.get("number")
        if record_number and seen.setdefault(record_number, number) != number:
            self.error(f"报装编号“{record_number}”与第 {seen[record_number]} 行重复。", number, COLUMNS[0])
            bad = True
        if bad:
            return None
        record = Application(**fields)
        try:
            record.full_clean(exclude=["region", "period", "batch"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = next((c for c in COLUMNS if c.field == name), None)
                for message in messages:
                    self.error(message, number, column)
            return None
        _measure(record)
        return record


def _measure(record):
    """Store the working days of each stage, of all stages together and of the whole process, and
    the documents as canonical names, for the rules to compare in SQL."""
    total = 0
    for stage in Stage:
        start, end = record.dates(stage)
        days = working_days_between(start, end) if start else 0
        setattr(record, f"days_{stage}", days)
        total += days
    record.days_total = total
    record.days_elapsed = working_days_between(record.acceptance_start, record.connection_end)
    record.document_set = document_set(record.documents)


def read_records(name, data, *, max_rows, progress=None, at_most=None):
    """The unsaved, measured Application rows of a file; ImportFileError lists every problem, located.

    ``progress(rows read, rows expected)`` is called every PROGRESS_EVERY rows. With ``at_most``, a
    file of more rows than that (or of an unknown number) is checked up to its header only, and
    None is returned.
    """
    with _Source(name, data) as source:
        reader = _Reader(source, max_rows=max_rows, progress=progress)
        rows = source.rows()
        header_row = reader.header(rows)
        if at_most is not None and (source.estimated_rows is None or source.estimated_rows - header_row > at_most):
            return None
        return reader.read(rows, header_row)


# --- services ------------------------------------------------------------------------------------

def _check_uploader(user, region, period):
    """Who may replace a county's records: its county staff and the supply companies over it, in
    scope, while the province has not confirmed (locked) the period."""
    _require_role(user, {Role.COUNTY, Role.SUPPLY_COMPANY}, "上传报装记录")
    if region.level != RegionLevel.COUNTY:
        raise ValidationError({"region": "报装记录按县上传：请选择一个县。"})
    _in_scope(user, region)
    _ensure_unlocked(region, period)


def applications_upload(*, user, region, period, upload, max_rows=None):
    """Upload a county's application records of a period.

    The header is checked at once. A file of up to INLINE_ROWS rows is read at once and, without
    error, replaces the county's records of the period (ImportFileError otherwise, and nothing is
    stored); a larger one is kept and queued for a Celery worker (``applications_batch_run``),
    whose progress and outcome the returned batch reports.
    """
    _check_uploader(user, region, period)
    max_rows = max_rows or settings.APPLICATION_MAX_ROWS
    if upload.size > MAX_BYTES:  # said here: read_bytes' own message calls the file a form of some KB
        raise ImportFileError([f"文件“{upload.name}”大小 {file_size_label(upload.size)}，超过上限 {file_size_label(MAX_BYTES)}。"])
    name, data = read_bytes(upload, MAX_BYTES, document=DOCUMENT)
    records = read_records(name, data, max_rows=max_rows, at_most=INLINE_ROWS)
    with transaction.atomic():
        batch = ApplicationBatch(region=region, period=period, file_name=name, uploaded_by=user)
        batch.file.save(name, ContentFile(data), save=False)
        batch.full_clean()
        batch.save()
        if records is not None:
            _replace(batch=batch, user=user, records=records)
            return batch
        from .tasks import read_application_batch  # the task module imports these services

        batch.message = "已排队，等待后台导入"
        batch.save(update_fields=["message"])
        transaction.on_commit(lambda: read_application_batch.delay(batch.pk))
    return batch


def applications_batch_run(*, batch_id, max_rows=None):
    """Read a queued batch (called by the Celery task) and replace the county's records with it.

    A file with errors, a user no longer allowed or a locked period leave the records as they were
    and the batch ``failed`` with the messages; the uploader is notified either way.
    """
    batch = ApplicationBatch.objects.select_related("region", "period", "uploaded_by").get(pk=batch_id)
    if batch.state in (BatchState.DONE, BatchState.FAILED):
        return batch
    ApplicationBatch.objects.filter(pk=batch.pk).update(state=BatchState.RUNNING, message="正在读取文件")

    def progress(rows, expected):
        # reading is 90% of the work; the last 10% are the write
        percent = min(90, rows * 90 // max(expected, rows))
        ApplicationBatch.objects.filter(pk=batch.pk).update(progress=percent, message=f"已读取 {rows:,} 行")

    try:
        with batch.file.open("rb") as handle:
            data = handle.read()
        records = read_records(batch.file_name, data, max_rows=max_rows or settings.APPLICATION_MAX_ROWS, progress=progress)
        ApplicationBatch.objects.filter(pk=batch.pk).update(progress=90, message=f"正在写入 {len(records):,} 条记录")
        with transaction.atomic():
            _replace(batch=batch, user=batch.uploaded_by, records=records)
    except (ImportFileError, ValidationError, ConflictError, PermissionDenied) as exc:
        messages = list(getattr(exc, "messages", None) or [str(exc)])
        _fail(batch, message=f"未导入：{messages[0]}", errors=messages)
    except Exception as exc:
        _fail(batch, message=f"导入失败：{exc}", errors=[str(exc)])
        raise
    finally:
        batch.refresh_from_db()
        _notify(batch)
    return batch


def _fail(batch, *, message, errors):
    ApplicationBatch.objects.filter(pk=batch.pk).update(
        state=BatchState.FAILED, message=message[:500], errors=errors, finished_at=timezone.now(),
    )


def _notify(batch):
    """Tell the uploader how a background read ended."""
    done = batch.state == BatchState.DONE
    notify(
        user=batch.uploaded_by, level="info" if done else "red",
        title=f"{batch.region.name}{batch.period.label}报装记录{'已导入' if done else '未导入'}：{batch.file_name}"[:200],
        body=batch.message, link=reverse("indicators:application-batch", args=[batch.pk]),
    )


def _replace(*, batch, user, records):
    """Inside the caller's transaction: the county's records of the period become ``records``."""
    region, period = batch.region, batch.period
    _check_uploader(user, region, period)
    _submission(region, period)  # locks the county's period: one replacement at a time
    newer = ApplicationBatch.objects.filter(region=region, period=period, state=BatchState.DONE, pk__gt=batch.pk).first()
    if newer is not None:
        raise ConflictError(f"{region.name}{period.label}已有更晚上传的记录（{newer.file_name}），本文件不再导入。")
    existing = Application.objects.filter(region=region, period=period)
    before = existing.count()
    existing.delete()
    for record in records:
        record.region, record.period, record.batch = region, period, batch
    Application.objects.bulk_create(records, batch_size=INSERT_CHUNK)
    message = f"已导入 {len(records):,} 条记录，替换原有 {before:,} 条"
    batch.row_count, batch.progress, batch.message = len(records), 100, message
    batch.state, batch.finished_at = BatchState.DONE, timezone.now()
    batch.save()
    _audit(
        user=user, channel=Channel.IMPORT, action=AuditAction.RECORDS, region=region, period=period,
        before=f"{before:,} 条", after=f"{len(records):,} 条（{batch.file_name}）"[:200],
    ).save()


# --- evaluation ------------------------------------------------------------------------------------

# How the records line reads, by what an indicator's rules check.
PHRASES = {
    RuleMeasure.STAGE_DAYS: "在时限内", RuleMeasure.TOTAL_DAYS: "在时限内", RuleMeasure.ELAPSED_DAYS: "在时限内",
    RuleMeasure.STAGE_COUNT: "环节数达标", RuleMeasure.DOCUMENTS: "申请资料合规", RuleMeasure.ZERO_INVESTMENT: "零投资",
}


@dataclass(frozen=True)
class Tally:
    """What a county's records say about one indicator: how many applications it covers, how many fail."""

    indicator: Indicator
    rules: tuple
    total: int
    failed: int

    @property
    def met(self):
        return self.total - self.failed

    @property
    def label(self):
        phrases = {PHRASES[r.measure] for r in self.rules}
        phrase = phrases.pop() if len(phrases) == 1 else "符合要求"
        return f"{self.met:,} / {self.total:,} {phrase}"

    @property
    def rule_lines(self):
        """The rules as lines, customer types with the same rules on one line:
        “未实行“三零”服务的低压非居民用户：业务受理用时 ≤ 1 个工作日；…”."""
        by_type = defaultdict(list)
        for rule in self.rules:
            exception = "（不可抗力除外）" if rule.excludes_force_majeure else ""
            by_type[rule.get_customer_type_display()].append(rule.describe() + exception)
        lines = defaultdict(list)
        for kind, texts in by_type.items():
            lines["；".join(texts)].append(kind)
        return [f"{'、'.join(kinds)}：{texts}" for texts, kinds in lines.items()]

    def conflict(self, checkmark):
        """Why the county's check-mark and its records disagree, or "" when they do not."""
        if not self.total:
            return ""
        done = checkmark is not None and checkmark.status == CheckmarkStatus.DONE
        if done and self.failed:
            return f"已打√，但记录显示 {self.failed:,} 件不符合"
        if not done and not self.failed:
            return "记录全部符合，但尚未打√"
        return ""


def _aggregates(rules):
    """Per indicator: Count of the applications it covers, and of those failing one of its rules."""
    aggregates = {}
    for indicator, its_rules in rules.items():
        covered = reduce(operator.or_, (_applies_q(r) for r in its_rules))
        failing = reduce(operator.or_, (_applies_q(r) & ~_meets_q(r) for r in its_rules))
        aggregates[f"total_{indicator.pk}"] = Count("pk", filter=covered)
        aggregates[f"failed_{indicator.pk}"] = Count("pk", filter=failing)
    return aggregates


def tallies(*, regions, period, indicator_set_id=None):
    """{(county id, indicator id): Tally} for the counties in ``regions`` (a queryset or list), under
    the rules of ``indicator_set_id`` (default: the period's set). Two queries: the rules, then one
    grouped count over the records; none when the set has no rules. Counties without records are absent."""
    rules = rules_by_indicator(indicator_set_id or period.indicator_set_id)
    if not rules:
        return {}
    rows = (
        Application.objects.filter(region__in=regions, period=period)
        .values("region_id").order_by().annotate(**_aggregates(rules))
    )
    return {
        (row["region_id"], indicator.pk): Tally(indicator, tuple(its_rules), row[f"total_{indicator.pk}"], row[f"failed_{indicator.pk}"])
        for row in rows for indicator, its_rules in rules.items()
    }


@dataclass
class IndicatorResult:
    tally: Tally
    failing: list = field(default_factory=list)  # [(Application, [Breach])], at most MAX_LISTED

    @property
    def unlisted(self):
        return self.tally.failed - len(self.failing)


def evaluate(*, region, period, indicator_set):
    """One county's records of a period under a set's rules: per indicator the Tally and the
    failing applications with every rule they break and by how much (three queries)."""
    rules = rules_by_indicator(indicator_set.pk)
    if not rules:
        return []
    records = Application.objects.filter(region=region, period=period)
    counts = next(iter(records.values("region_id").order_by().annotate(**_aggregates(rules))), {})
    results = {
        indicator: IndicatorResult(Tally(indicator, tuple(r), counts.get(f"total_{indicator.pk}", 0), counts.get(f"failed_{indicator.pk}", 0)))
        for indicator, r in rules.items()
    }
    any_failing = reduce(operator.or_, (_applies_q(r) & ~_meets_q(r) for its_rules in rules.values() for r in its_rules))
    for record in records.filter(any_failing).order_by("number")[:MAX_FAILING_LOADED]:
        for indicator, its_rules in rules.items():
            result = results[indicator]
            breaches = [b for b in (_breach(r, record) for r in its_rules if _applies(r, record)) if b]
            if breaches and len(result.failing) < MAX_LISTED:
                result.failing.append((record, breaches))
    return list(results.values())


def county_evaluation(*, region, period):
    """For each set with rules that applies to a county: (set, whether the county ticks it, rows of
    (IndicatorResult, the county's Checkmark, the conflict between them)). The county ticks the
    period's set only; another set (its province's own) is shown for comparison, without ticks."""
    marks = {m.indicator_id: m for m in Checkmark.objects.filter(region=region, period=period)}
    sets = []
    for indicator_set in rule_sets_for(region):
        ticked = indicator_set.pk == period.indicator_set_id
        rows = []
        for result in evaluate(region=region, period=period, indicator_set=indicator_set):
            mark = marks.get(result.tally.indicator.pk) if ticked else None
            rows.append((result, mark, result.tally.conflict(mark) if ticked else ""))
        sets.append((indicator_set, ticked, rows))
    return sets


def rule_sets_for(region):
    """The indicator sets with rules that apply to a county: the national one and its province's own."""
    ancestors = region.ancestor_codes()
    return list(
        IndicatorSet.objects.filter(Q(region__isnull=True) | Q(region__code__in=ancestors))
        .filter(indicators__application_rules__isnull=False).distinct()
        .order_by(F("region__code").asc(nulls_first=True), "year", "code")
    )


@dataclass(frozen=True)
class Conflict:
    county: Region
    tally: Tally
    checkmark: Checkmark | None
    reason: str


def conflicts(*, user, region, period):
    """Every county under ``region`` that ``user`` may see whose check-mark of an indicator its
    records contradict, under the period's set, in region order (four queries)."""
    counties = Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.COUNTY, path__startswith=region.path)
    counts = tallies(regions=counties, period=period)
    if not counts:
        return []
    indicator_ids = {indicator_id for _county, indicator_id in counts}
    marks = {
        (m.region_id, m.indicator_id): m
        for m in Checkmark.objects.filter(region__in=counties, period=period, indicator_id__in=indicator_ids).select_related("indicator")
    }
    names = {c.pk: c for c in Region.objects.filter(pk__in={county_id for county_id, _ in counts}).select_related("parent")}
    found = []
    for (county_id, indicator_id), tally in counts.items():
        mark = marks.get((county_id, indicator_id))
        reason = tally.conflict(mark)
        if reason:
            found.append(Conflict(names[county_id], tally, mark, reason))
    return sorted(found, key=lambda c: (c.county.path, c.tally.indicator.number))
