"""A ledger as a workbook in the documents' own table layout (domain.md §4), and reading one back.

``write_workbook`` lays out a django-import-export ``Dataset`` (see ``ledger.resources``) in the
house style of ``utilities.excel``: the ledger's name as the title, the document line under it, the
header row repeated on every printed page and frozen on screen, borders, wrapped text, landscape.
Equal consecutive 分类 print as one merged cell, as the documents print them.

``read_sheet`` reads an uploaded workbook the way 附件2 is read (``utilities.excel``) — size checked
before parsing, the package checked against zip bombs and damage — then finds the header row,
compares it with the expected columns and returns the data rows, each with its sheet row number, so
every later message can say “第 N 行 X 列”. A merged cell reads as its value on every row it covers.
"""

import math
from dataclasses import dataclass
from datetime import date

from openpyxl.utils import get_column_letter

from utilities.excel import (
    HEADER_FILL,
    PERIOD_ROW,
    ImportFileError,
    compact,
    fit_height,
    frame,
    head,
    merge,
    open_workbook,
    plain_text,
    print_setup,
    put,
    read_bytes,
    save,
    set_widths,
    sheet,
    text_width,
)

HEADER_ROW = PERIOD_ROW + 1  # title, document line, then the table
FIRST_DATA_ROW = HEADER_ROW + 1
SIZE = 11  # a ledger is read on paper: 11 pt stays legible once fitted to the page width
DATE_FORMAT = "yyyy-mm-dd"
HEADER_SEARCH_ROWS = 10  # the header may have moved up if someone deleted the title rows
MAX_COLUMNS = 40  # 5 columns and the extra ones; the progress sheet has 12
A4_MAX_WIDTH = 150  # column units that print at a readable size across A4 landscape; wider goes on A3

WIDTHS = {
    "序号": 6,
    "分类": 12,
    "工作目标任务": 50,
    "责任单位": 30,
    "完成时间": 14,
    "责任区域代码": 9,
    "责任区域": 12,
    "牵头": 6,
    "联系人": 9,
    "联系电话": 14,
    "节点时间": 12,
    "状态": 9,
    "进展情况": 40,
    "进展日期": 12,
}
CENTRED = frozenset({"序号", "完成时间", "责任区域代码", "牵头", "节点时间", "状态", "进展日期"})
EXTRA_WIDTH = (12, 40)  # an extra column (年度重点举措, 具体举措…) is as wide as its text, within these bounds


@dataclass(frozen=True)
class Layout:
    sheet: str
    document: str  # what the file is called in messages
    signature: frozenset  # headers that only this layout has: a file of it uploaded elsewhere is named
    merged: tuple = ()  # columns whose runs of equal values are merged cells
    max_bytes: int = 5 * 1024 * 1024
    max_rows: int = 1000
    # Merged cells need openpyxl's full (not streaming) reader: some ten times the unpacked size in memory.
    max_uncompressed: int = 10 * 1024 * 1024


ITEMS = Layout("任务台账", "任务台账", frozenset({"完成时间"}), merged=("分类",))
# A province's ledger broken down to every county: 66 items × 183 counties in Sichuan.
PROGRESS = Layout(
    "任务分解进展",
    "任务分解进展表",
    frozenset({"责任区域代码", "进展情况"}),
    max_bytes=10 * 1024 * 1024,
    max_rows=20000,
    max_uncompressed=40 * 1024 * 1024,
)
LAYOUTS = (ITEMS, PROGRESS)


# --- writing ------------------------------------------------------------------------------------


def write_workbook(layout, *, title, subtitle, dataset):
    """The dataset under its title and subtitle, printable; returns the .xlsx bytes."""
    headers = dataset.headers
    widths = [WIDTHS.get(h) or _extra_width(h, dataset[h]) for h in headers]
    workbook, ws = sheet(layout.sheet)
    set_widths(ws, widths)
    head(ws, width=len(headers), title=title, period_line=subtitle)
    for column, text in enumerate(headers, start=1):
        put(ws, HEADER_ROW, column, text, size=SIZE, bold=True, fill=HEADER_FILL)
    fit_height(ws, HEADER_ROW, list(zip(headers, widths)), size=SIZE)

    runs = {headers.index(h): _runs(dataset[h]) for h in layout.merged if h in headers}
    # a merged value has the whole block: it makes none of the block's rows taller
    in_block = {(offset, index) for index, found in runs.items() for start, end in found for offset in range(start, end)}
    last_row = HEADER_ROW
    for offset, values in enumerate(dataset):
        last_row = FIRST_DATA_ROW + offset
        measured = []
        for index, (header, value, width) in enumerate(zip(headers, values, widths)):
            put(
                ws,
                last_row,
                index + 1,
                value,
                size=SIZE,
                horizontal="center" if header in CENTRED else "left",
                number_format=DATE_FORMAT if isinstance(value, date) else None,
            )
            measured.append((None, 0) if (offset, index) in in_block else (value, width))
        fit_height(ws, last_row, measured, size=SIZE)
    for index, found in runs.items():
        for start, end in found:
            merge(ws, FIRST_DATA_ROW + start, index + 1, FIRST_DATA_ROW + end - 1, index + 1)

    frame(ws, HEADER_ROW, 1, last_row, len(headers))
    paper = ws.PAPERSIZE_A4 if sum(widths) <= A4_MAX_WIDTH else ws.PAPERSIZE_A3
    print_setup(ws, paper=paper, title_rows=f"{HEADER_ROW}:{HEADER_ROW}", freeze=f"A{FIRST_DATA_ROW}")
    return save(workbook)


def _extra_width(header, values):
    longest = max([text_width(header)] + [text_width(str(v)) for v in values if v])
    low, high = EXTRA_WIDTH
    return min(high, max(low, math.ceil(longest / 3)))  # three lines of wrapped text at most, if it fits


def _runs(values):
    """[(first, past the last)] indices of each run of two or more equal, non-empty values."""
    runs, start = [], 0
    for index in range(1, len(values) + 1):
        if index == len(values) or values[index] != values[start]:
            if values[start] and index - start > 1:
                runs.append((start, index))
            start = index
    return runs


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Sheet:
    file_name: str
    headers: list  # as the expected columns spell them, in the file's order
    rows: list  # [(sheet row, (values in header order))], blank rows left out

    def column_of(self, header):
        """The column letter of ``header`` in the file, for located messages."""
        return get_column_letter(self.headers.index(header) + 1) if header in self.headers else ""


def read_sheet(file, layout, *, headers, optional=(), title=None):
    """The data rows of an uploaded workbook of ``layout``; ImportFileError lists what is wrong.

    ``headers``: the columns expected in this order; those in ``optional`` may be left out.
    ``title``: if the file still has its title row, it must be this (a file of another ledger is refused).
    """
    name, data = read_bytes(file, layout.max_bytes, document=layout.document)
    workbook = open_workbook(name, data, document=layout.document, max_uncompressed=layout.max_uncompressed, read_only=not layout.merged)
    try:
        grid = _grid(workbook.worksheets[0], layout, name)
    finally:
        workbook.close()
    header_row = next((r for r, row in enumerate(grid[:HEADER_SEARCH_ROWS], start=1) if row and compact(row[0]) == "序号"), None)
    if header_row is None:
        raise ImportFileError(
            [
                f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（第一列为“序号”的行）：这不是从门户导出的{layout.document}，"
                f"表头应为“{'、'.join(headers)}”。"
            ]
        )
    found = [compact(v) for v in grid[header_row - 1]]
    while found and not found[-1]:
        found.pop()
    wanted = [h for h in headers if h not in optional or h in found]
    width = max(len(wanted), len(found))
    errors = [
        f"第 {header_row} 行 {get_column_letter(column)} 列：表头应为“{want or '空'}”，实为“{got or '空'}”。"
        for column, (want, got) in enumerate(zip(_padded(wanted, width), _padded(found, width)), start=1)
        if want != got
    ]
    if errors:
        other = next((o for o in LAYOUTS if o is not layout and o.signature <= set(found)), None)
        what = f"这是{other.document}，请到对应的导入页面导入" if other else f"这不是从门户导出的{layout.document}"
        raise ImportFileError([f"表头与{layout.document}不符：{what}。", *errors])
    title_row = next((r for r, row in enumerate(grid[: header_row - 1], start=1) if any(plain_text(v) for v in row)), None)
    if title and title_row:
        shown = next(plain_text(v) for v in grid[title_row - 1] if plain_text(v))
        if compact(shown) != compact(title):
            raise ImportFileError([f"第 {title_row} 行：标题是“{shown}”，不是“{title}”：这是另一份台账的表，请选择正确的台账或文件。"])
    rows = [
        (number, tuple(_padded(values[: len(wanted)], len(wanted))))
        for number, values in enumerate(grid[header_row:], start=header_row + 1)
        if any(plain_text(v) for v in values)
    ]
    if not rows:
        raise ImportFileError([f"表头（第 {header_row} 行）以下没有数据。"])
    return Sheet(file_name=name, headers=wanted, rows=rows)


def _padded(values, width):
    return list(values) + [""] * (width - len(values))


def _grid(ws, layout, name):
    """The sheet's values row by row, merged ranges filled with their value; too large a sheet refused."""
    limit_rows = FIRST_DATA_ROW + layout.max_rows
    try:
        grid = [
            list(r)
            for r in ws.iter_rows(
                max_row=min(limit_rows + 1, ws.max_row or limit_rows + 1),
                max_col=min(MAX_COLUMNS + 1, ws.max_column or MAX_COLUMNS + 1),
                values_only=True,
            )
        ]
    except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
        raise ImportFileError([f"文件“{name}”的工作表无法读取（{type(exc).__name__}），可能已损坏。"]) from exc
    if len(grid) > limit_rows and any(plain_text(v) for v in grid[limit_rows]):
        raise ImportFileError([f"第 {limit_rows + 1} 行仍有内容：{layout.document}最多 {layout.max_rows} 行，请分批导入。"])
    if any(len(row) > MAX_COLUMNS and plain_text(row[MAX_COLUMNS]) for row in grid):
        raise ImportFileError([f"{get_column_letter(MAX_COLUMNS + 1)} 列有内容：列数过多，不像是{layout.document}。"])
    for cells in getattr(ws, "merged_cells", ()):  # the streaming reader has none
        value = ws.cell(cells.min_row, cells.min_col).value
        for row in grid[cells.min_row - 1 : cells.max_row]:
            for column in range(cells.min_col - 1, min(cells.max_col, len(row))):
                row[column] = value
    return grid
