"""Reading an uploaded file (.xlsx or CSV) into unsaved, measured Application rows, every problem
located (“工作表“报装记录” 第 12 行 N 列（装表接电结束日期）：…”): ``read_records``."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl.utils import get_column_letter

from utilities.excel import ImportFileError, compact, open_workbook, plain_text

from ..models import Application
from .layout import COLUMN_BY_HEADER, COLUMNS, DOCUMENT, LEGACY_COLUMN_BY_HEADER, LEGACY_COLUMNS, LEGACY_TYPES, SHEET
from .measure import measure

MAX_UNCOMPRESSED = 768 * 1024 * 1024  # the .xlsx unpacked: about 150 MB for 200,000 rows
HEADER_SEARCH_ROWS = 10
MAX_ERRORS = 200  # listed; the rest are counted
PROGRESS_EVERY = 2000  # rows between progress reports of a background read

# Empty cells stay None in these fields; any other empty cell takes the field's default (否, 未填).
_NULLABLE = frozenset(f.name for f in Application._meta.fields if f.null)
FLAG_VALUES = {"是": True, "否": False, "": False, "1": True, "0": False, "TRUE": True, "FALSE": False, "Y": True, "N": False}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def _read_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        raise ValueError(f"“{plain_text(value)}”是数字，不是日期：请把单元格设为日期格式，或写成 2024-02-08")
    text = compact(value)
    if not text:
        return None
    match = _DATE.match(text)
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text[:30]}”不是有效的日期，应写成 2024-02-08") from None


def _read_count(value):
    text = plain_text(value)
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise ValueError(f"“{text[:30]}”不是 1 至 99 的整数")
    return int(text)


def _read_money(value):
    text = compact(plain_text(value)).replace(",", "").replace("，", "")
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
    text = compact(plain_text(value)).upper()
    if text not in FLAG_VALUES:
        raise ValueError(f"“{text[:30]}”应为“是”或“否”（留空为否）")
    return FLAG_VALUES[text]


def _read_capacity(value):
    text = compact(plain_text(value)).replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"“{text[:30]}”不是数值（单位千瓦）") from None
    if not number.is_finite() or number < 0 or number.as_tuple().exponent < -2 or number >= Decimal(10) ** 8:
        raise ValueError(f"“{text[:30]}”不是有效的容量：不能为负，最多两位小数")
    return number


@cache
def _choice_by_text(choices):
    """A TextChoices' values by their label and by themselves (built once per class, not per cell)."""
    return {**{label: value for value, label in choices.choices}, **{v: v for v in choices.values}}


def _read_choice(column, value):
    """A choice by its label or its code; None for an empty cell."""
    text = compact(value)
    if not text:
        return None
    choices = column.choices
    by_text = _choice_by_text(choices)
    if text not in by_text:
        raise ValueError(f"未知的{column.header}“{text[:30]}”，应为：{'、'.join(choices.labels)}")
    return by_text[text]


def read_cell(column, value):
    """A cell as its column reads it; ValueError with the reason."""
    if column.kind == "choice":
        return _read_choice(column, value)
    if column.kind == "legacy_type":
        kind = _read_choice(column, value)
        return None if kind is None else LEGACY_TYPES[kind]
    return READERS[column.kind](value)


READERS = {
    "text": plain_text,
    "date": _read_date,
    "count": _read_count,
    "money": _read_money,
    "capacity": _read_capacity,
    "flag": _read_flag,
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
        self.columns = COLUMNS  # or LEGACY_COLUMNS, as the header shows

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
            found = [compact(v) for v in values]
            if wanted in found:
                break
            if number >= HEADER_SEARCH_ROWS:
                raise ImportFileError(
                    [f"{self.source.where()}前 {HEADER_SEARCH_ROWS} 行中找不到表头（含“{wanted}”的行）：请使用门户提供的模板。"]
                )
        else:
            raise ImportFileError([f"{self.source.where()}是空的：没有表头，也没有记录。"])
        # A file with the old 用户类型 column and without 用户类别 is in the layout before issue 14.
        legacy = LEGACY_COLUMNS[1].header in found and COLUMNS[1].header not in found
        self.columns, by_header = (LEGACY_COLUMNS, LEGACY_COLUMN_BY_HEADER) if legacy else (COLUMNS, COLUMN_BY_HEADER)
        for index, text in enumerate(found):
            column = by_header.get(text)
            if column is None:
                continue  # the company's own extra columns are allowed and not read
            if column in self.positions:
                self.error(
                    f"列“{text}”出现了两次（{get_column_letter(self.positions[column] + 1)} 列和 {get_column_letter(index + 1)} 列）。",
                    number,
                )
            self.positions[column] = index
        missing = [c.header for c in self.columns if c not in self.positions]
        if missing:
            self.error(f"表头缺少以下列：{'、'.join(missing)}。请使用门户提供的模板（列的顺序不限）。", number)
        self.raise_if_errors()
        return number

    def read(self, rows, header_row):
        today = timezone.localdate()
        records, seen, count = [], {}, 0
        for number, values in rows:
            if not any(plain_text(v) for v in values):
                continue
            count += 1
            if count > self.max_rows:
                self.errors.insert(
                    0,
                    f"{self.source.where(number)}：记录超过上限 {self.max_rows:,} 条（APPLICATION_MAX_ROWS）：一个县一个报告期的记录不能多于此数，请核对文件或联系管理员。",
                )
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
                value = read_cell(column, raw)
            except ValueError as exc:
                self.error(f"{exc}。", number, column)
                bad = True
                continue
            if column.required and value in ("", None):
                self.error("不能为空。", number, column)
                bad = True
            if isinstance(value, dict):  # an old-layout type: the attributes it stands for
                fields.update(value)
            else:
                fields[column.field] = value
        record_number = fields.get("number")
        if record_number and seen.setdefault(record_number, number) != number:
            self.error(f"报装编号“{record_number}”与第 {seen[record_number]} 行重复。", number, COLUMNS[0])
            bad = True
        if bad:
            return None
        record = Application(**{name: value for name, value in fields.items() if value is not None or name in _NULLABLE})
        try:
            record.full_clean(exclude=["region", "period", "batch"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = next((c for c in self.positions if c.field == name), None)
                for message in messages:
                    self.error(message, number, column)
            return None
        measure(record)
        return record


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
