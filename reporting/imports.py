"""Import 附件2 filled in offline, in the official layout (domain.md §5): preview first, then all or nothing.

``read_attachment2`` checks the file (size, format, template, province, period, every county and
every cell) and returns a ``Preview`` of what would change, or raises ``ImportFileError`` with one
located message per problem (“附件2 第 12 行 G 列（指标 3）：…”). Nothing is written.

``apply_attachment2`` writes a preview through ``indicators.services.checkmarks_set`` — one call
per region, channel “import”, inside one transaction — so a locked period, a region out of scope,
data changed since the preview or any value the service refuses rolls everything back.

What a cell means:

- county rows, county indicators: “√” (also ✓ ✔ ☑, spaces around) is done. The table has no done
  month: the county's existing done month is kept, else the period's last month (not later than
  the current month) is used and the preview says so. “√ 2022年3月” gives the month. A month
  (“2021年8月”, “2021 年 8 月”, “2021-08”, “2021.8”, “2021/8”, a date cell) is not done, expected
  then. Blank is missing: reported in the preview, never an error, and it never clears a value the
  portal already holds (clearing is done on the sheet page).
- county rows, starred (province) indicators: “/” or blank.
- the province row: starred indicators “已完成” (done), “已开展” (done, encouraging indicators), a
  month (not done, expected; not for encouraging indicators) or blank; county indicators “/” or blank.
- city rows, 小计 rows, the statistics rows and the summary columns (完成个数…) are computed by the
  portal: their content is ignored.
"""
import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from accounts.models import Region, RegionLevel, Role
from accounts.scoping import Action
from indicators.models import Channel, Checkmark, CheckmarkStatus, Indicator, Submission, month_label
from indicators.periods import parse_month
from indicators.services import CheckmarkValue, checkmarks_set
from utilities.formatting import file_size_label

from . import layout
from .tables import DONE_MARK, EXCEPTION_MARK, NOT_APPLICABLE, STAT_LABELS

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # a real 附件2 is some tens of KB
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024  # all entries of the .xlsx package together, unpacked
MAX_ZIP_ENTRIES = 2000
MAX_ROWS = 1000  # the largest province (四川, 183 counties in 21 cities) needs about 260 rows
MAX_COLUMNS = 60  # 4 + 38 indicators + 3 summary columns = 45
MAX_ERRORS = 200  # listed; the rest are counted

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

DONE_MARKS = frozenset({"√", "✓", "✔", "☑", "✅"})
PROVINCE_DONE = "已完成"
PROVINCE_STARTED = "已开展"
HEADER_NAMES = {
    layout.COL_SERIAL: "序号",
    layout.COL_PROVINCE: "省",
    layout.COL_CITY: "地市",
    layout.COL_COUNTY: "县",
}
SUBTOTAL_SUFFIX = "小计"
MONTH_HINT = "应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”"

_SPACES = re.compile(r"\s+")
_CITY_SERIAL = re.compile(r"^\d+$")
_COUNTY_SERIAL = re.compile(r"^\d+\.\d+$")
_MONTH_EXTRA = re.compile(r"^(?:预计)?(\d{4})(?:年|-|－|\.|/|．)(\d{1,2})月?份?$")
_DONE_WITH_MONTH = re.compile(r"^([√✓✔☑✅])[（(]?(.+?)[)）]?$")


class ImportFileError(Exception):
    """The file is refused; ``errors`` lists every problem, each located where it can be."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    @property
    def messages(self):
        return self.errors


@dataclass(frozen=True)
class Change:
    number: int
    label: str
    before: str
    after: str


@dataclass
class RegionPreview:
    """One region of the file: the province row or a county row, and what importing it would do."""

    region: Region
    city_name: str
    row: int  # the sheet row it was read from
    version: int  # the region's Submission version when read: apply refuses if it moved on
    values: dict = field(default_factory=dict)  # indicator number → CheckmarkValue, blanks left out
    current: dict = field(default_factory=dict)  # indicator number → CheckmarkValue in the portal now
    changes: list = field(default_factory=list)  # [Change]
    missing: list = field(default_factory=list)  # labels blank in the file and in the portal
    kept: list = field(default_factory=list)  # [Change]: blank in the file, the portal's value kept
    assumed: list = field(default_factory=list)  # labels: √ without a month, the month assumed
    notes: list = field(default_factory=list)

    @property
    def name(self):
        return self.region.name if self.region.level == RegionLevel.PROVINCE else f"{self.city_name} {self.region.name}"

    @property
    def is_province(self):
        return self.region.level == RegionLevel.PROVINCE


@dataclass
class Preview:
    province: Region
    period: object
    province_entry: RegionPreview
    counties: list  # [RegionPreview] in file order
    assumed_month: date  # the done month given to a “√” whose county had none
    notes: list = field(default_factory=list)
    file_name: str = ""

    @property
    def regions(self):
        return [self.province_entry, *self.counties]

    @property
    def change_count(self):
        return sum(len(r.changes) for r in self.regions)

    @property
    def changed_regions(self):
        return [r for r in self.regions if r.changes]

    @property
    def missing_count(self):
        return sum(len(r.missing) for r in self.regions)

    @property
    def kept_count(self):
        return sum(len(r.kept) for r in self.regions)

    @property
    def assumed_count(self):
        return sum(len(r.assumed) for r in self.regions)

    @property
    def digest(self):
        """Identifies what would be written, from what state: the confirm step must see the same."""
        data = [self.province.code, self.period.code]
        for entry in self.regions:
            data.append([
                entry.region.code, entry.version,
                [[n, v.status, str(v.done_month or ""), str(v.expected_month or ""), v.note] for n, v in sorted(entry.values.items())],
            ])
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    regions: int  # regions whose values were sent to the service
    regions_changed: int
    checkmarks_changed: int


# --- reading ----------------------------------------------------------------------------------

def read_attachment2(file, *, province, period, max_bytes=DEFAULT_MAX_BYTES, today=None):
    """Parse a filled-in 附件2 of ``province`` for ``period``; return a Preview or raise ImportFileError.

    ``file``: a path, an uploaded file or any binary file object. The caller resolves ``province``
    through ``Region.objects.restrict(user, "view")``. Reads the database, writes nothing.
    """
    today = today or timezone.localdate()
    name, data = read_bytes(file, max_bytes)
    rows = _load_rows(name, data)
    reader = _Reader(province=province, period=period, rows=rows, today=today)
    preview = reader.read()
    preview.file_name = name
    return preview



def read_bytes(file, max_bytes, *, document="附件2"):
    """The file's name and content, its size checked before anything is parsed.

    ``document`` names what the file should be in the messages (“附件2”, “任务台账”).
    """
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        name = path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImportFileError([f"无法读取文件“{path}”：{exc.strerror or exc}。"]) from exc
        _check_size(name, size, max_bytes, document)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    else:
        name = os.path.basename(getattr(file, "name", "") or "")
        size = getattr(file, "size", None)
        if size is None:
            file.seek(0, os.SEEK_END)
            size = file.tell()
        _check_size(name, size, max_bytes, document)
        file.seek(0)
        data = file.read(max_bytes + 1)
        file.seek(0)
    _check_size(name, len(data), max_bytes, document)  # what was actually read, whatever was claimed
    if not data:
        raise ImportFileError([f"文件“{name or '上传文件'}”是空文件。"])
    return name, data


def _spaced(word):
    """“附件2 模板” but “任务台账模板”: a space only between a Latin letter or digit and Chinese."""
    return f"{word} " if word[-1:].isascii() else word


def _check_size(name, size, max_bytes, document):
    if size > max_bytes:
        shown_size, shown_limit = file_size_label(size), file_size_label(max_bytes)
        if shown_size == shown_limit:  # just over: "5 MB，超过上限 5 MB" says nothing, so say it in bytes
            shown_size, shown_limit = f"{size} 字节", f"{max_bytes} 字节"
        raise ImportFileError([
            f"文件“{name or '上传文件'}”大小 {shown_size}，超过上限 {shown_limit}"
            f"：{_spaced(document)}通常只有几十 KB，请确认选对了文件。"
        ])


def open_workbook(name, data, *, document="附件2", max_uncompressed=MAX_UNCOMPRESSED_BYTES, read_only=True):
    """Open an uploaded .xlsx after checking its package: format, zip-bomb limits, every entry's CRC.

    Raises ImportFileError with one plain message; the caller closes the workbook.
    """
    shown = f"文件“{name}”" if name else "上传的文件"
    template = f"请上传按{_spaced(document)}模板填写的 .xlsx 文件。"
    if data.startswith(OLE2_MAGIC):
        raise ImportFileError([f"{shown}是旧版 Excel（.xls）格式：请在 Excel 中“另存为” .xlsx 后再导入。"])
    if not data.startswith(ZIP_MAGIC):
        raise ImportFileError([f"{shown}不是 Excel 工作簿（.xlsx）：{template}"])
    if name and not name.lower().endswith(".xlsx"):
        raise ImportFileError([f"{shown}的扩展名不是 .xlsx：{template}"])
    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > max_uncompressed:
                raise ImportFileError([f"{shown}解压后过大（超过 {file_size_label(max_uncompressed)}），不像是{document}。"])
            names = {e.filename for e in entries}
            if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
                raise ImportFileError([f"{shown}不是 Excel 工作簿（.xlsx）：缺少工作簿内容。"])
            bad = archive.testzip()  # CRC of every entry: a truncated or damaged file shows here
            if bad is not None:
                raise ImportFileError([f"{shown}已损坏（“{bad}”校验失败）：请重新保存或重新上传。"])
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise ImportFileError([f"{shown}已损坏或不完整（可能上传中断）：{type(exc).__name__}。请重新保存或重新上传。"]) from exc
    buffer.seek(0)
    try:
        return load_workbook(buffer, read_only=read_only, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged package
        raise ImportFileError([f"{shown}无法作为 Excel 工作簿打开（{type(exc).__name__}），可能已损坏。"]) from exc


def _load_rows(name, data):
    """The 附件2 sheet's cell values, row by row (1-based through the list index + 1)."""
    shown = f"文件“{name}”" if name else "上传的文件"
    workbook = open_workbook(name, data)
    try:
        if layout.ATTACHMENT2_SHEET not in workbook.sheetnames:
            raise ImportFileError([
                f"{shown}中没有名为“{layout.ATTACHMENT2_SHEET}”的工作表（现有：{'、'.join(workbook.sheetnames[:10])}）"
                "：这不是附件2 模板，请先在门户下载本期附件2 再填写。"
            ])
        sheet = workbook[layout.ATTACHMENT2_SHEET]
        try:
            rows = [tuple(r) for r in sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS + 1, values_only=True)]
        except Exception as exc:
            raise ImportFileError([f"{shown}的工作表“{layout.ATTACHMENT2_SHEET}”无法读取（{type(exc).__name__}），可能已损坏。"]) from exc
    finally:
        workbook.close()
    problems = []
    if len(rows) > MAX_ROWS and any(_text(v) for v in rows[MAX_ROWS]):
        problems.append(f"{layout.ATTACHMENT2_SHEET} 第 {MAX_ROWS + 1} 行仍有内容：工作表超过 {MAX_ROWS} 行，不像是附件2。")
    for index, row in enumerate(rows[:MAX_ROWS], start=1):
        if len(row) > MAX_COLUMNS and _text(row[MAX_COLUMNS]):
            problems.append(
                f"{layout.ATTACHMENT2_SHEET} 第 {index} 行 {get_column_letter(MAX_COLUMNS + 1)} 列有内容："
                f"工作表超过 {MAX_COLUMNS} 列，不像是附件2。"
            )
            break
    if problems:
        raise ImportFileError(problems)
    return rows[:MAX_ROWS]


# --- cell values ------------------------------------------------------------------------------

def _text(value):
    """A cell as text, stripped; numbers without a spurious “.0”; dates left to the month parser."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _compact(value):
    """For comparing labels and names: no whitespace at all (full-width spaces included)."""
    return _SPACES.sub("", _text(value).replace("\u3000", ""))


def _title_key(value):
    return re.sub(r"[“”\"「」『』'‘’]", "", _compact(value))


def _span_key(value):
    text = re.sub(r"[（）()\[\]【】]", "", _compact(value))
    return re.sub(r"[—–\-－~～至―]+", "-", text)


def _label_key(value):
    return _compact(value).replace("＊", "*")


def _shown(value, limit=30):
    text = _text(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _month_of(value, *, as_text):
    """A cell → the first day of its month; ValueError with the message to show."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        month = value.replace(day=1)
    elif isinstance(value, (int, float)):
        raise ValueError(f"数字“{_shown(value)}”不是有效的月份（2021.1 是 1 月还是 10 月？），{MONTH_HINT}")
    else:
        text = _compact(as_text)
        try:
            month = parse_month(text)
        except ValueError:
            match = _MONTH_EXTRA.match(text)
            if not match or not 1 <= int(match[2]) <= 12:
                raise ValueError(f"“{_shown(as_text)}”不是有效的月份，{MONTH_HINT}") from None
            month = date(int(match[1]), int(match[2]), 1)
    if not 2000 <= month.year <= 2100:
        raise ValueError(f"“{_shown(as_text)}”的年份不对，{MONTH_HINT}")
    return month


@dataclass
class _Cell:
    """What one indicator cell says: blank, done (with its month if written) or expected by a month."""

    status: str = ""
    month: date | None = None


def _county_cell(value, today):
    if isinstance(value, (date, datetime)):  # Excel turned “2021-08” into a date
        return _Cell(CheckmarkStatus.NOT_DONE, _month_of(value, as_text=value))
    text = _compact(value)
    if not text:
        return _Cell()
    if text in DONE_MARKS or text == PROVINCE_DONE:
        return _Cell(CheckmarkStatus.DONE)
    if text == NOT_APPLICABLE:
        raise ValueError("县级指标不能填“/”：已完成的写“√”，未完成的写预计完成月份（如“2021年8月”）")
    match = _DONE_WITH_MONTH.match(text)
    if match:
        month = _month_of(match[2], as_text=match[2])
        if month > today.replace(day=1):
            raise ValueError(f"完成月份 {month_label(month)} 晚于本月")
        return _Cell(CheckmarkStatus.DONE, month)
    return _Cell(CheckmarkStatus.NOT_DONE, _month_of(value, as_text=_text(value)))


def _province_cell(value, indicator):
    if isinstance(value, (date, datetime)):  # Excel turned “2021-08” into a date
        if indicator.encouraging:
            raise ValueError("鼓励性指标只能填“已开展”或留空，不能填月份")
        return _Cell(CheckmarkStatus.NOT_DONE, _month_of(value, as_text=value))
    text = _compact(value)
    if not text:
        return _Cell()
    if text in (PROVINCE_DONE, PROVINCE_STARTED) or text in DONE_MARKS:
        if text == PROVINCE_STARTED and not indicator.encouraging:
            raise ValueError("该指标应填“已完成”或预计完成月份，不能填“已开展”（“已开展”只用于鼓励性指标）")
        return _Cell(CheckmarkStatus.DONE)
    if text == NOT_APPLICABLE:
        expected = "“已开展”或留空" if indicator.encouraging else "“已完成”或预计完成月份"
        raise ValueError(f"省级指标由省填报，应填{expected}，不能填“/”")
    if indicator.encouraging:
        raise ValueError(f"鼓励性指标只能填“已开展”或留空，不能填“{_shown(value)}”")
    try:
        month = _month_of(value, as_text=_text(value))
    except ValueError as exc:
        raise ValueError(f"{exc}；省级指标已完成的写“已完成”") from None
    return _Cell(CheckmarkStatus.NOT_DONE, month)


def describe(value, indicator):
    """A value as the preview and the audit write it."""
    if value is None or not value.status:
        return "（空）"
    if value.status == CheckmarkStatus.DONE:
        mark = DONE_MARK if indicator.level == "county" else (PROVINCE_STARTED if indicator.encouraging else PROVINCE_DONE)
        return f"{mark} {month_label(value.done_month)}" if value.done_month else mark
    return f"预计 {month_label(value.expected_month)}" if value.expected_month else "未完成（未填预计月份）"


def _same(a, b):
    a_key = (a.status, a.done_month, a.expected_month) if a else ("", None, None)
    b_key = (b.status, b.done_month, b.expected_month) if b else ("", None, None)
    return a_key == b_key


# --- the reader -------------------------------------------------------------------------------

class _Reader:
    def __init__(self, *, province, period, rows, today):
        self.province = province
        self.period = period
        self.rows = rows
        self.today = today
        self.errors = []
        self.dropped = 0
        self.indicators = list(Indicator.objects.filter(indicator_set=period.indicator_set_id).order_by("number"))
        self.assumed_month = min(period.ends, today).replace(day=1)

    # messages
    def error(self, message, row=None, column=None, indicator=None):
        if len(self.errors) >= MAX_ERRORS:
            self.dropped += 1
            return
        where = layout.ATTACHMENT2_SHEET
        if row is not None:
            where += f" 第 {row} 行"
        if column is not None:
            where += f" {get_column_letter(column)} 列"
        if indicator is not None:
            where += f"（指标 {indicator.label}）"
        self.errors.append(f"{where}：{message}")

    def cell(self, row, column):
        values = self.rows[row - 1] if 0 < row <= len(self.rows) else ()
        return values[column - 1] if column <= len(values) else None

    def raise_if_errors(self):
        if self.errors:
            errors = list(self.errors)
            if self.dropped:
                errors.append(f"另有 {self.dropped} 处错误未列出：请先改正以上各处。")
            raise ImportFileError(errors)

    def row_text(self, row, first=1, last=None):
        """The non-empty texts of a row (merged cells keep their value in the first cell)."""
        values = self.rows[row - 1] if row <= len(self.rows) else ()
        return "".join(_text(v) for v in values[first - 1:last] if _text(v))

    # the steps
    def read(self):
        self.check_template()
        self.raise_if_errors()
        self.check_province_and_period()
        self.raise_if_errors()
        province_row, county_rows = self.scan_rows()
        counties = self.resolve_counties(county_rows)
        self.raise_if_errors()
        entries = self.parse_values(province_row, counties)
        self.raise_if_errors()
        self.compare(entries)
        province_entry, county_entries = entries[0], entries[1:]
        notes = [
            "完成个数、未完成个数、完成百分比、各地市小计和全省统计行由门户按导入后的数据重新计算，文件中的这些内容不导入。",
        ]
        assumed = sum(len(e.assumed) for e in entries)
        if assumed:
            notes.append(
                f"附件2 的“√”不含完成月份：原已填完成月份的保留原月份；其余 {assumed} 项按"
                f"{month_label(self.assumed_month)}（报告期末月，且不晚于本月）记为完成月份，可在填报页修改。"
            )
        blank = sum(len(e.missing) + len(e.kept) for e in entries)
        if blank:
            notes.append(f"文件中有 {blank} 处空白：空白不导入，门户中已有的值保留，仍未填写的在下面列为“未填写”。")
        return Preview(
            province=self.province, period=self.period, province_entry=province_entry, counties=county_entries,
            assumed_month=self.assumed_month, notes=notes,
        )

    def check_template(self):
        """序号/省/地市/县 and the indicator labels in order on LABEL_ROW."""
        if len(self.rows) < layout.FIRST_DATA_ROW:
            self.error(f"工作表只有 {len(self.rows)} 行，没有表头和数据：这不是填好的附件2。")
            return
        for column, expected in HEADER_NAMES.items():
            found, at = "", layout.HEADER_TOP_ROW
            for row in range(layout.HEADER_TOP_ROW, layout.LABEL_ROW + 1):
                if _compact(self.cell(row, column)):
                    found, at = _compact(self.cell(row, column)), row
                    break
            if found != expected:
                self.error(f"表头应为“{expected}”，实为“{_shown(found) or '空'}”：这不是附件2 模板。", at, column)
        for offset, indicator in enumerate(self.indicators):
            column = layout.FIRST_INDICATOR_COL + offset
            found = _label_key(self.cell(layout.LABEL_ROW, column))
            if found != _label_key(indicator.label):
                self.error(
                    f"表头应为指标“{indicator.label}”，实为“{_shown(found) or '空'}”：指标列与附件2 模板（{len(self.indicators)} 项指标）不符。",
                    layout.LABEL_ROW, column,
                )

    def check_province_and_period(self):
        title = self.row_text(layout.TITLE_ROW)
        expected = layout.attachment2_title(self.province.name)
        if _title_key(title) != _title_key(expected):
            other = next(
                (p for p in Region.objects.filter(level=RegionLevel.PROVINCE)
                 if _title_key(layout.attachment2_title(p.name)) == _title_key(title)),
                None,
            )
            if other is not None:
                self.error(f"这是{other.name}的附件2（标题“{_shown(title, 60)}”），不是{self.province.name}的：请选择正确的省份或文件。", layout.TITLE_ROW, 1)
            else:
                self.error(f"标题应为“{expected}”，实为“{_shown(title, 60) or '空'}”。", layout.TITLE_ROW, 1)
        span = self.row_text(layout.PERIOD_ROW)
        if _span_key(span) != _span_key(self.period.span_label):
            self.error(
                f"报告期应为“{self.period.span_label}”（{self.period.label}），实为“{_shown(span, 60) or '空'}”："
                "这是另一报告期的表，请选择正确的报告期或文件。",
                layout.PERIOD_ROW, 1,
            )
        row = layout.FIRST_DATA_ROW
        name = _compact(self.cell(row, layout.COL_PROVINCE))
        if name != _compact(self.province.name):
            if not name:
                self.error(f"第一行数据应为省份行，“省”列应为“{self.province.name}”，实为空。", row, layout.COL_PROVINCE)
            else:
                self.error(f"省份行的“省”应为“{self.province.name}”，实为“{_shown(name)}”：这不是本省的表。", row, layout.COL_PROVINCE)

    def scan_rows(self):
        """The province row, then (row, city name, county name) for every county row."""
        county_rows, city = [], None
        for row in range(layout.FIRST_DATA_ROW + 1, len(self.rows) + 1):
            labels = [_compact(self.cell(row, c)) for c in range(1, layout.FIRST_INDICATOR_COL)]
            joined = "".join(labels)
            if layout.STATISTICS_LABEL in joined or layout.FOOT_TEXT in joined or labels[layout.COL_COUNTY - 1] in STAT_LABELS:
                break  # the statistics rows and the foot: computed or not data
            values = self.rows[row - 1]
            if not any(_text(v) for v in values):
                continue
            serial = self.cell(row, layout.COL_SERIAL)
            # 1.1 typed as a number stays “1.1”; a whole number (a city's “1”) reads as “1”
            serial_text = repr(serial) if isinstance(serial, float) and not serial.is_integer() else _text(serial)
            county_name = labels[layout.COL_COUNTY - 1].removesuffix(EXCEPTION_MARK)  # a sign-off's exception
            if county_name.endswith(SUBTOTAL_SUFFIX):
                continue  # ××市小计: computed
            if _CITY_SERIAL.match(serial_text):
                city = (row, labels[layout.COL_CITY - 1])
                if not city[1]:
                    self.error("地市行的“地市”为空。", row, layout.COL_CITY)
                continue
            if _COUNTY_SERIAL.match(serial_text):
                if city is None:
                    self.error("县行上方没有地市行（序号为整数的行）：无法确定它属于哪个地市。", row, layout.COL_SERIAL)
                    continue
                if not county_name:
                    self.error("县行的“县”为空。", row, layout.COL_COUNTY)
                    continue
                county_rows.append((row, city, county_name, labels[layout.COL_CITY - 1]))
                continue
            if serial_text:
                self.error(f"序号“{_shown(serial_text)}”无法识别：地市行写“1”、“2”…，县行写“1.1”、“1.2”…", row, layout.COL_SERIAL)
            else:
                self.error("序号为空，无法判断这是地市行、县行还是小计行。", row, layout.COL_SERIAL)
        return layout.FIRST_DATA_ROW, county_rows

    def resolve_counties(self, county_rows):
        """Each county row → its Region, identified by city and name; unknown and missing counties told."""
        counties = list(
            Region.objects.filter(level=RegionLevel.COUNTY, path__startswith=self.province.path).select_related("parent").order_by("path")
        )
        cities = {c.name for c in Region.objects.filter(level=RegionLevel.CITY, parent=self.province)}
        by_city_and_name = {(c.parent.name, c.name): c for c in counties}
        by_name = {}
        for county in counties:
            by_name.setdefault(county.name, []).append(county)
        found, seen, told_cities, misplaced = [], {}, set(), set()
        for row, (city_row, city_name), name, own_city in county_rows:
            if city_name not in cities and city_row not in told_cities:
                told_cities.add(city_row)
                self.error(self._unknown_city(city_name), city_row, layout.COL_CITY)
            if city_name in cities and own_city and own_city != city_name:
                # the writer leaves a county row's 地市 empty (merged); one typed in must agree
                self.error(f"该县行的“地市”写的是“{_shown(own_city)}”，但它位于地市“{city_name}”（第 {city_row} 行）之下。", row, layout.COL_CITY)
                misplaced.update(c.pk for c in by_name.get(name, []))
                continue
            county = by_city_and_name.get((city_name, name))
            if county is None:
                same_name = by_name.get(name, [])
                if city_name not in cities and len(same_name) == 1:
                    county = same_name[0]  # the city is told already; the county itself is known
                elif same_name:
                    misplaced.update(c.pk for c in same_name)
                    where = "、".join(c.parent.name for c in same_name)
                    self.error(f"县“{name}”不属于{city_name}：本省的“{name}”属于{where}，请把它放到所属地市之下。", row, layout.COL_COUNTY)
                    continue
                else:
                    self.error(self._unknown_county(name), row, layout.COL_COUNTY)
                    continue
            if county.pk in seen:
                self.error(f"{county.parent.name}{county.name}在第 {seen[county.pk]} 行已经出现过，同一个县只能填一行。", row, layout.COL_COUNTY)
                continue
            seen[county.pk] = row
            found.append((row, county))
        absent = [c for c in counties if c.pk not in seen and c.pk not in misplaced]
        if absent:
            listed = "、".join(f"{c.parent.name}{c.name}" for c in absent[:50])
            more = f"等 {len(absent)} 个县" if len(absent) > 50 else f"（共 {len(absent)} 个）"
            self.errors.append(f"{layout.ATTACHMENT2_SHEET}：文件中缺少{self.province.name}的以下县：{listed}{more}。每个县都要有一行。")
        return found

    def _unknown_city(self, name):
        elsewhere = list(Region.objects.filter(level=RegionLevel.CITY, name=name).exclude(path__startswith=self.province.path).select_related("parent")[:3])
        if elsewhere:
            where = "、".join(c.parent.name for c in elsewhere)
            return f"地市“{_shown(name)}”不是{self.province.name}的地市，而是{where}的。"
        return f"{self.province.name}没有名为“{_shown(name)}”的地市（请核对名称）。"

    def _unknown_county(self, name):
        elsewhere = list(
            Region.objects.filter(level=RegionLevel.COUNTY, name=name).exclude(path__startswith=self.province.path)
            .select_related("parent__parent").order_by("path")[:5]
        )
        if elsewhere:
            where = "、".join(f"{c.parent.parent.name}{c.parent.name}" for c in elsewhere)
            return f"县“{_shown(name)}”不是{self.province.name}的县，而是{where}的县：这一行不属于本省的表。"
        return f"{self.province.name}没有名为“{_shown(name)}”的县，全国也没有同名的县：请核对名称。"

    def parse_values(self, province_row, counties):
        regions = [self.province, *(c for _, c in counties)]
        versions = dict(Submission.objects.filter(region__in=regions, period=self.period).values_list("region_id", "version"))
        current = {}
        for mark in Checkmark.objects.filter(region__in=regions, period=self.period, indicator__indicator_set=self.period.indicator_set_id):
            current.setdefault(mark.region_id, {})[mark.indicator_id] = mark
        entries = [self._parse_row(province_row, self.province, "", current.get(self.province.pk, {}), versions)]
        for row, county in counties:
            entries.append(self._parse_row(row, county, county.parent.name, current.get(county.pk, {}), versions))
        return entries

    def _parse_row(self, row, region, city_name, marks, versions):
        is_province = region.level == RegionLevel.PROVINCE
        entry = RegionPreview(region=region, city_name=city_name, row=row, version=versions.get(region.pk, 0))
        done_in_file = 0
        for offset, indicator in enumerate(self.indicators):
            column = layout.FIRST_INDICATOR_COL + offset
            raw = self.cell(row, column)
            mark = marks.get(indicator.pk)
            if mark is not None:
                entry.current[indicator.number] = CheckmarkValue(mark.status, mark.done_month, mark.expected_month, mark.note)
            own = indicator.level == region.level
            if not own:
                if _compact(raw) not in ("", NOT_APPLICABLE):
                    who = "县级指标由各县填报，省份行" if is_province else "省级指标由省填报，县行"
                    self.error(f"{who}此处应为“/”或留空，不能填“{_shown(raw)}”。", row, column, indicator)
                continue
            try:
                cell = _province_cell(raw, indicator) if is_province else _county_cell(raw, self.today)
            except ValueError as exc:
                self.error(f"{exc}。", row, column, indicator)
                continue
            note = mark.note if mark is not None else ""
            if not cell.status:
                if mark is not None and mark.status:
                    entry.kept.append(Change(indicator.number, indicator.label, describe(entry.current[indicator.number], indicator), ""))
                elif not indicator.encouraging:
                    entry.missing.append(indicator.label)
                continue
            if cell.status == CheckmarkStatus.DONE:
                done_in_file += 1
                month = cell.month
                if month is None and mark is not None and mark.status == CheckmarkStatus.DONE and mark.done_month:
                    month = mark.done_month
                if month is None and not is_province:
                    month = self.assumed_month
                    entry.assumed.append(indicator.label)
                entry.values[indicator.number] = CheckmarkValue(CheckmarkStatus.DONE, done_month=month, note=note)
            else:
                entry.values[indicator.number] = CheckmarkValue(CheckmarkStatus.NOT_DONE, expected_month=cell.month, note=note)
        if not is_province:
            self._check_done_count(entry, row, done_in_file)
        return entry

    def _check_done_count(self, entry, row, done_in_file):
        """Optional: say when the file's 完成个数 disagrees with its own √ (the portal recomputes it)."""
        column = layout.summary_columns(len(self.indicators))[0]
        written = self.cell(row, column)
        if isinstance(written, (int, float)) and not isinstance(written, bool) and written != done_in_file:
            entry.notes.append(
                f"第 {row} 行“完成个数”（{get_column_letter(column)} 列）写的是 {_text(written)}，表中“√”为 {done_in_file} 个："
                "以门户计算为准。"
            )

    def compare(self, entries):
        by_number = {i.number: i for i in self.indicators}
        for entry in entries:
            for number, value in sorted(entry.values.items()):
                before = entry.current.get(number)
                if not _same(before, value):
                    indicator = by_number[number]
                    entry.changes.append(Change(number, indicator.label, describe(before, indicator), describe(value, indicator)))


# --- applying ---------------------------------------------------------------------------------

def can_import(user):
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.role == Role.PROVINCE))


def apply_attachment2(*, user, preview, channel=Channel.IMPORT, today=None):
    """Write every region of ``preview`` through checkmarks_set in one transaction: all or nothing.

    Each region is written at the version it was read at: if anyone changed a region since the
    preview, StaleVersion rolls the whole import back. PermissionDenied, ValidationError and the
    service's ConflictError subclasses propagate after the rollback.
    """
    if not can_import(user):
        raise PermissionDenied("只有省级能源主管部门可以导入附件2。")
    if not Region.objects.restrict(user, Action.CHANGE).filter(pk=preview.province.pk, level=RegionLevel.PROVINCE).exists():
        raise PermissionDenied(f"“{preview.province.name}”不在您的管辖范围内，不能导入它的附件2。")
    regions = changed_regions = changed = 0
    with transaction.atomic():
        for entry in preview.regions:
            if not entry.values:
                continue
            _submission, count = checkmarks_set(
                user=user, region=entry.region, period=preview.period, values=entry.values,
                expected_version=entry.version, channel=channel, today=today,
            )
            regions += 1
            changed_regions += bool(count)
            changed += count
    return ImportResult(regions=regions, regions_changed=changed_regions, checkmarks_changed=changed)


# --- the preview as text (the command prints it) ----------------------------------------------

def preview_lines(preview):
    lines = [
        f"{preview.province.name} {preview.period.label}（{preview.period.code}）附件2 导入预览"
        + (f"：{preview.file_name}" if preview.file_name else ""),
        f"共 {len(preview.regions)} 个区域（省级 1 个、县 {len(preview.counties)} 个），"
        f"{len(preview.changed_regions)} 个有变更，合计 {preview.change_count} 项变更。",
    ]
    lines += [f"说明：{note}" for note in preview.notes]
    for entry in preview.regions:
        if not (entry.changes or entry.missing or entry.kept or entry.notes):
            continue
        heading = f"{entry.name}{'（省级指标）' if entry.is_province else ''}（第 {entry.row} 行）：{len(entry.changes)} 项变更"
        lines.append(heading)
        for change in entry.changes:
            assumed = "（完成月份按报告期末月记）" if change.label in entry.assumed else ""
            lines.append(f"  指标 {change.label}：{change.before} → {change.after}{assumed}")
        if entry.missing:
            lines.append(f"  未填写：{'、'.join(entry.missing)}")
        if entry.kept:
            lines.append("  文件中空白、保留门户现值：" + "、".join(f"{c.label}（{c.before}）" for c in entry.kept))
        lines += [f"  {note}" for note in entry.notes]
    return lines
