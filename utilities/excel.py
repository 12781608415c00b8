"""Excel in the portal's house style, below the apps that share it (issue 12 §2).

Writing: every workbook the portal hands out (附件2/附件3 and the roll-up in ``reporting.excel``, a
ledger in ``ledger.excel``, the application-records template in ``indicators``) is written through
``put``/``put_row`` (values safe from being read as formulas), ``frame`` (borders), ``set_widths`` /
``fit_height`` (column widths, row heights), ``head`` (title, subtitle and people row) and
``print_setup`` (landscape, fitted to the page width).

Reading: every uploaded workbook is read through ``read_bytes`` (size checked before parsing) and
``open_workbook`` (the package checked against zip bombs and damage); what is wrong is raised as
``ImportFileError`` with one plain Chinese message per problem.
"""

import io
import math
import os
import re
import unicodedata
import weakref
import zipfile
import zlib
from copy import copy
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from .formatting import file_size_label

# --- writing --------------------------------------------------------------------------------------

# 宋体 is what the official forms are printed in, and every Chinese Windows/WPS install has it.
FONT_NAME = "宋体"
TITLE_SIZE = 18
PERIOD_SIZE = 12
PEOPLE_SIZE = 11
DATA_SIZE = 10  # 附件2 is 45 columns on A3: 10 pt prints at about 7–8 pt after fitting to the page width

# Where ``head`` writes: the title, the subtitle (period or document line), the people to sign.
TITLE_ROW = 1
PERIOD_ROW = 2
PEOPLE_ROW = 3

# Text that Excel, WPS or LibreOffice would take as the start of a formula when typed, also full width.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# Light enough to print on a black-and-white printer without hiding the figures.
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")


@cache
def _font(size=DATA_SIZE, bold=False):
    return Font(name=FONT_NAME, size=size, bold=bold)


@cache
def _alignment(horizontal="center", wrap=True):
    return Alignment(horizontal=horizontal, vertical="center", wrap_text=wrap)


def put(ws, row, column, value, *, size=DATA_SIZE, bold=False, horizontal="center", wrap=True, fill=None, number_format=None):
    """Write one value with its style; the only place a value enters a sheet.

    Formula neutralising: openpyxl stores any text starting with “=” as a formula, and Excel or WPS
    turn text starting with = + - @ (or tab/CR, or their full-width forms) into one as soon as a user
    edits the cell. Such text is stored as a plain string (data_type "s", never "f") with the cell
    style's ``quotePrefix`` set — ECMA-376 §18.8.45, what Excel itself records when a user types a
    leading apostrophe. The value stays exactly as given (a county called “=HYPERLINK(…)” reads back
    unchanged for the importer) and no spreadsheet program evaluates it. Only text is concerned:
    numbers, negative ones included, are written as numbers. "" is written as an empty cell, and the
    control characters an .xlsx cannot hold are dropped.
    """
    cell = ws.cell(row=row, column=column)
    if _bind(cell, value):
        cell.quotePrefix = True
    _style(cell, size, bold, horizontal, wrap, fill, number_format)
    return cell


def put_row(ws, row, values, *, size=DATA_SIZE, bold=False, horizontal="center", wrap=True, fill=None, number_format=None):
    """``put`` for each of ``values`` in columns 1, 2, … of ``row`` (not yet written), with one style.

    The style ids are found once for the row and copied to each cell: styling a large 附件2 cell by
    cell (a cache look-up each) cost as much as writing its values.
    """
    styled = Cell(ws)  # not in the sheet: it only finds the ids, as ``put`` would for a first cell
    _style(styled, size, bold, horizontal, wrap, fill, number_format)
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column)
        cell._style = StyleArray(styled._style)
        if _bind(cell, value):
            cell.quotePrefix = True


def _bind(cell, value):
    """Give ``cell`` its value as ``put`` describes; True for text to be kept from being a formula."""
    if not isinstance(value, str):
        cell.value = value
        return False
    try:
        cell.value = value or None
    except IllegalCharacterError:  # openpyxl looks for them anyway: stripped only when there are some
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value or None
    if value.startswith(FORMULA_TRIGGERS):
        cell.data_type = "s"
        return True
    return False


# workbook → {(the cell's style ids before, the style asked for): (fill, the style ids after)}
_STYLES = weakref.WeakKeyDictionary()


def _style(cell, size, bold, horizontal, wrap, fill, number_format):
    """Give ``cell`` its font, alignment, fill and number format.

    openpyxl hashes each style object, field by field, on every assignment: that was most of the
    time a styled 附件2 took to write. So each combination (from each starting style) is assigned
    once per workbook, and the array of style ids it produced is copied to the next cells — the
    same ids openpyxl would have found, at a fraction of the cost.
    """
    cache = _STYLES.setdefault(cell.parent.parent, {})
    key = (tuple(cell._style or ()), size, bold, horizontal, wrap, id(fill), number_format)
    known = cache.get(key)
    if known is not None and known[0] is fill:  # the cache keeps the fill alive: its id stays its own
        cell._style = copy(known[1])
        return
    cell.font = _font(size, bold)
    cell.alignment = _alignment(horizontal, wrap)
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
    cache[key] = (fill, copy(cell._style))


def merge(ws, first_row, first_column, last_row, last_column):
    if (first_row, first_column) != (last_row, last_column):
        ws.merge_cells(start_row=first_row, start_column=first_column, end_row=last_row, end_column=last_column)


def put_merged(ws, first_row, first_column, last_row, last_column, value, **style):
    """A value in the top-left cell of a merged range, where Excel shows it and the importer reads it."""
    cell = put(ws, first_row, first_column, value, **style)
    merge(ws, first_row, first_column, last_row, last_column)
    return cell


def frame(ws, first_row, first_column, last_row, last_column):
    """Thin borders on every cell of the table, merged ones included: Excel draws a merged range's
    outline from the borders of the cells along its edges, not from the top-left cell alone."""
    border_id = None  # assigned once (openpyxl hashes the border each time), then set in the style ids
    for cells in ws.iter_rows(min_row=first_row, max_row=last_row, min_col=first_column, max_col=last_column):
        for cell in cells:
            if border_id is None:
                cell.border = BORDER
                border_id = cell._style.borderId
                continue
            if cell._style is None:  # merged cells have no style of their own
                cell._style = StyleArray()
            cell._style.borderId = border_id


def set_widths(ws, widths):
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width


@lru_cache(maxsize=4096)  # the same few texts (“√”, “/”, months, counts) fill most cells
def text_width(text):
    """Width in column units: CJK (and ambiguous, e.g. “√” and “”, wide in 宋体) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def fit_height(ws, row, values_and_widths, size=DATA_SIZE):
    """Set a row tall enough for its wrapped text: Excel does not re-measure rows of a written file."""
    lines = 1
    for value, width in values_and_widths:
        if isinstance(value, str) and value:
            lines = max(lines, math.ceil(text_width(value) / max(width, 1)))
    ws.row_dimensions[row].height = round(lines * size * 1.4 + 4)


def people_segments(total_columns):
    """The (first, last) columns of the 填报人, 审核人 and 填报日期 segments of a people row, in thirds."""
    bounds = [1 + round(total_columns * i / 3) for i in range(4)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(3)]


def head(ws, *, width, title, period_line, people=None):
    """Title, period line and (for the forms to be signed) the people row, merged across the table."""
    put_merged(ws, TITLE_ROW, 1, TITLE_ROW, width, title, size=TITLE_SIZE, bold=True)
    ws.row_dimensions[TITLE_ROW].height = 36
    put_merged(ws, PERIOD_ROW, 1, PERIOD_ROW, width, period_line, size=PERIOD_SIZE)
    ws.row_dimensions[PERIOD_ROW].height = 22
    if people:
        for text, (first, last) in zip(people, people_segments(width)):
            put_merged(ws, PEOPLE_ROW, first, PEOPLE_ROW, last, text, size=PEOPLE_SIZE, horizontal="left", wrap=False)
        ws.row_dimensions[PEOPLE_ROW].height = 22


def print_setup(ws, *, paper, title_rows=None, freeze=None):
    """Landscape, one page wide and as many pages long as needed, header rows repeated, centred."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = paper
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: no limit on the number of pages down
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if title_rows:
        ws.print_title_rows = title_rows
    if freeze:
        ws.freeze_panes = freeze


def save(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet(title):
    workbook = Workbook()
    ws = workbook.active
    ws.title = title
    return workbook, ws


# --- reading --------------------------------------------------------------------------------------

MAX_ZIP_ENTRIES = 2000
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportFileError(Exception):
    """The file is refused; ``errors`` lists every problem, each located where it can be."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    @property
    def messages(self):
        return self.errors


_SPACES = re.compile(r"\s+")


def plain_text(value):
    """A cell as text, stripped: whole numbers without a spurious “.0”, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def compact(value):
    """For comparing labels and names: no whitespace at all (full-width spaces included)."""
    return _SPACES.sub("", plain_text(value).replace("\u3000", ""))


def read_bytes(file, max_bytes, *, document):
    """The file's name and content, its size checked before anything is parsed.

    ``file``: a path, an uploaded file or any binary file object. ``document`` names what the file
    should be in the messages (“附件2”, “任务台账”).
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
        raise ImportFileError(
            [
                (
                    f"文件“{name or '上传文件'}”大小 {shown_size}，超过上限 {shown_limit}"
                    f"：{_spaced(document)}通常只有几十 KB，请确认选对了文件。"
                )
            ]
        )


def open_workbook(name, data, *, document, max_uncompressed, read_only=True):
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
