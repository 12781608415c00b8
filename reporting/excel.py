"""The official-layout workbooks (domain.md §5–§6): 附件2, 附件3 and the national roll-up, as .xlsx bytes.

Each writer takes the dataclass that ``reporting.tables`` builds and returns the file's bytes; where
things stand comes from ``reporting.layout``, which the importer reads too, so a form filled in and sent
back is read at the places it was written. Values go in as given: integers stay numbers, “√”, months,
“/” and “72%” stay text, and every cell passes through ``put`` (or ``put_row``, a row at a time), which
keeps text from being read as a formula (see ``put``).
"""
import io
import math
import unicodedata
import weakref
from copy import copy
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from . import layout
from .tables import BENEFIT_CATEGORIES, EXCEPTION_MARK, exception_line

# 宋体 is what the official forms are printed in, and every Chinese Windows/WPS install has it.
FONT_NAME = "宋体"
TITLE_SIZE = 18
PERIOD_SIZE = 12
PEOPLE_SIZE = 11
DATA_SIZE = 10  # 附件2 is 45 columns on A3: 10 pt prints at about 7–8 pt after fitting to the page width

# Text that Excel, WPS or LibreOffice would take as the start of a formula when typed, also full width.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# Light enough to print on a black-and-white printer without hiding the figures.
SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
STATISTICS_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
# 附件2 rows by kind: the sums stand out from the counties they add up.
ROW_STYLES = {
    "province": {"bold": True},
    "subtotal": {"bold": True, "fill": SUBTOTAL_FILL},
    "stat": {"bold": True, "fill": STATISTICS_FILL},
}

INDICATOR_WIDTH = 6  # “2021年” on one line, “8月” under it; “90.3%” fits


# --- the shared helpers ---------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _font(size=DATA_SIZE, bold=False):
    return Font(name=FONT_NAME, size=size, bold=bold)


@lru_cache(maxsize=None)
def _alignment(horizontal="center", wrap=True):
    return Alignment(horizontal=horizontal, vertical="center", wrap_text=wrap)


def put(ws, row, column, value, *, size=DATA_SIZE, bold=False, horizontal="center", wrap=True,
         fill=None, number_format=None):
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


def put_row(ws, row, values, *, size=DATA_SIZE, bold=False, horizontal="center", wrap=True,
            fill=None, number_format=None):
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


def _put_merged(ws, first_row, first_column, last_row, last_column, value, **style):
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


def head(ws, *, width, title, period_line, people=None):
    """Title, period line and (for the forms to be signed) the people row, merged across the table."""
    _put_merged(ws, layout.TITLE_ROW, 1, layout.TITLE_ROW, width, title, size=TITLE_SIZE, bold=True)
    ws.row_dimensions[layout.TITLE_ROW].height = 36
    _put_merged(ws, layout.PERIOD_ROW, 1, layout.PERIOD_ROW, width, period_line, size=PERIOD_SIZE)
    ws.row_dimensions[layout.PERIOD_ROW].height = 22
    if people:
        for text, (first, last) in zip(people, layout.people_segments(width)):
            _put_merged(ws, layout.PEOPLE_ROW, first, layout.PEOPLE_ROW, last, text,
                        size=PEOPLE_SIZE, horizontal="left", wrap=False)
        ws.row_dimensions[layout.PEOPLE_ROW].height = 22


def _people(header, filled_by_label):
    return (f"{filled_by_label}：{header.filled_by}", f"审核人：{header.reviewed_by}",
            f"填报日期：{header.filled_on}")


def _foot(ws, last_table_row):
    row = layout.foot_row(last_table_row)
    put(ws, row, 1, layout.FOOT_TEXT, size=PEOPLE_SIZE, horizontal="left", wrap=False)
    ws.row_dimensions[row].height = 30  # room for the seal


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


# --- 附件2 ------------------------------------------------------------------------------------------

def attachment2_workbook(table, changes=None):
    """附件2 “获得电力”任务指标完成情况统计表 of one province and period, in the official layout;
    with ``changes`` (``reporting.changes.Changes``), the sheet “与上期比较” after it."""
    workbook, ws = sheet(layout.ATTACHMENT2_SHEET)
    count = len(table.columns)
    last_indicator = layout.FIRST_INDICATOR_COL + count - 1
    done_col, not_done_col, percent_col = layout.summary_columns(count)
    width = percent_col
    widths = [6, 10, 13, 13] + [INDICATOR_WIDTH] * count + [8, 8, 8]
    set_widths(ws, widths)

    head(ws, width=width, title=table.header.title, period_line=table.header.period_line,
         people=_people(table.header, "填报人及手机联系方式"))

    top, group_row, label_row = layout.HEADER_TOP_ROW, layout.GROUP_ROW, layout.LABEL_ROW
    heading = {"bold": True, "fill": HEADER_FILL}
    for column, text in ((layout.COL_SERIAL, "序号"), (layout.COL_PROVINCE, "省"),
                         (layout.COL_CITY, "地市"), (layout.COL_COUNTY, "县")):
        _put_merged(ws, top, column, label_row, column, text, **heading)
    _put_merged(ws, top, layout.FIRST_INDICATOR_COL, top, last_indicator, "指标完成情况", **heading)
    column = layout.FIRST_INDICATOR_COL
    for name, span in table.groups:
        _put_merged(ws, group_row, column, group_row, column + span - 1, name, **heading)
        column += span
    for offset, indicator in enumerate(table.columns):
        put(ws, label_row, layout.FIRST_INDICATOR_COL + offset, indicator.label, **heading)
    _put_merged(ws, top, done_col, top, percent_col, "省、地市、县指标完成情况", **heading)
    for column, text in ((done_col, "完成个数"), (not_done_col, "未完成个数"), (percent_col, "完成百分比")):
        _put_merged(ws, group_row, column, label_row, column, text, **heading)
    for row, height in ((top, 30), (group_row, 30), (label_row, 20)):
        ws.row_dimensions[row].height = height

    city_start = None  # the row of the city being written: its 地市 cell is merged down to its 小计
    statistics = []
    row_number = layout.FIRST_DATA_ROW - 1
    for row_number, row in enumerate(table.rows, start=layout.FIRST_DATA_ROW):
        style = ROW_STYLES.get(row.kind, {})
        values = [row.serial, row.province, row.city, row.county, *row.cells, row.done, row.not_done, row.percent]
        if row.kind == "city":
            city_start = row_number
        elif row.kind == "stat":
            statistics.append(row_number)
            values[:3] = [layout.STATISTICS_LABEL, None, None]
        if row.kind in ("county", "subtotal") and city_start is not None:
            values[layout.COL_CITY - 1] = None  # inside the city's merged cell
        if row.exception:
            values[layout.COL_COUNTY - 1] = f"{row.county}{EXCEPTION_MARK}"
        put_row(ws, row_number, values, **style)
        if row.kind == "subtotal" and city_start is not None:
            merge(ws, city_start, layout.COL_CITY, row_number, layout.COL_CITY)
            city_start = None
        measured = list(zip(values, widths))
        if row.kind == "city":
            measured[layout.COL_CITY - 1] = (None, 0)  # the name has the whole merged block
        elif row.kind == "stat":
            measured[0] = (layout.STATISTICS_LABEL, sum(widths[:layout.COL_CITY]))
        fit_height(ws, row_number, measured)
    if statistics:
        merge(ws, statistics[0], layout.COL_SERIAL, statistics[-1], layout.COL_CITY)

    frame(ws, top, 1, row_number, width)
    last = row_number
    if table.exceptions:  # the note stands where the foot would, the foot one row below it
        note = layout.foot_row(row_number)
        text = exception_line(table.exceptions)
        _put_merged(ws, note, 1, note, width, text, size=PEOPLE_SIZE, horizontal="left")
        fit_height(ws, note, [(text, sum(widths))], size=PEOPLE_SIZE)
        last = note - 1
    _foot(ws, last)
    print_setup(ws, paper=ws.PAPERSIZE_A3, title_rows=f"{top}:{label_row}",
                freeze=f"{get_column_letter(layout.FIRST_INDICATOR_COL)}{layout.FIRST_DATA_ROW}")
    if changes is not None:
        changes_sheet(workbook.create_sheet(CHANGES_SHEET), changes)
    return save(workbook)


# --- 附件3 ------------------------------------------------------------------------------------------

def _benefit_number(text):
    """“12” → 12, “12.50” → Decimal("12.50") with its format; anything else stays as given (text)."""
    try:
        number = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return text, None
    if not number.is_finite():
        return text, None
    places = max(0, -number.as_tuple().exponent)
    if places == 0:
        return int(number), "0"
    return number, "0." + "0" * places


def attachment3_workbook(table):
    """附件3 “三零”“三省”服务效益统计表 of one province and period, in the official layout.

    A4 landscape: six columns fit at full size, A4 is the paper every office prints and files the
    signed forms on; landscape leaves the long column headings room on one or two lines.
    """
    workbook, ws = sheet(layout.ATTACHMENT3_SHEET)
    width = layout.A3_TOTAL_COL
    size = PEOPLE_SIZE  # a small table: print it at 11 pt
    set_widths(ws, [26, 14, 16, 14, 16, 14])
    head(ws, width=width, title=table.header.title, period_line=table.header.period_line,
         people=_people(table.header, "填报人及联系方式"))

    top, sub = layout.A3_HEADER_TOP_ROW, layout.A3_HEADER_SUB_ROW
    first, total = layout.A3_FIRST_VALUE_COL, layout.A3_TOTAL_COL
    heading = {"bold": True, "fill": HEADER_FILL, "size": size}
    _put_merged(ws, top, layout.A3_COL_LABEL, sub, layout.A3_COL_LABEL, "统计内容", **heading)
    _put_merged(ws, top, first, top, first + 2, "“三零”服务效益", **heading)
    for offset, (_, name) in enumerate(BENEFIT_CATEGORIES[:3]):
        put(ws, sub, first + offset, name, **heading)
    _put_merged(ws, top, first + 3, sub, first + 3, BENEFIT_CATEGORIES[3][1], **heading)
    _put_merged(ws, top, total, sub, total, "合计", **heading)
    ws.row_dimensions[top].height = 24
    ws.row_dimensions[sub].height = 32

    row_number = sub
    for row_number, (label, values, row_total) in enumerate(table.rows, start=layout.A3_FIRST_DATA_ROW):
        put(ws, row_number, layout.A3_COL_LABEL, label, size=size, bold=True)
        for column, text in enumerate([*values, row_total], start=first):
            value, number_format = _benefit_number(text)
            put(ws, row_number, column, value, size=size, horizontal="right",
                number_format=number_format, bold=column == total)
        ws.row_dimensions[row_number].height = 26

    frame(ws, top, 1, row_number, width)
    _foot(ws, row_number)
    print_setup(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{top}:{sub}")
    return save(workbook)


# --- 全国汇总 ---------------------------------------------------------------------------------------

def national_workbook(rollup):
    """全国汇总: per province its counties, those with every county indicator done, and per indicator the share."""
    workbook, ws = sheet(layout.NATIONAL_SHEET)
    first = layout.NATIONAL_FIRST_INDICATOR_COL
    count = len(rollup.columns)
    width = first - 1 + count
    widths = [6, 12, 8, 10, 8] + [INDICATOR_WIDTH] * count
    set_widths(ws, widths)
    head(ws, width=width, title=layout.NATIONAL_TITLE, period_line=rollup.period_line)

    top, label_row = layout.NATIONAL_HEADER_TOP_ROW, layout.NATIONAL_LABEL_ROW
    heading = {"bold": True, "fill": HEADER_FILL}
    for column, text in enumerate(("序号", "省", "县个数", "全部完成县个数", "完成百分比"), start=1):
        _put_merged(ws, top, column, label_row, column, text, **heading)
    if count:
        _put_merged(ws, top, first, top, first + count - 1, "各指标完成县占比", **heading)
    for offset, indicator in enumerate(rollup.columns):
        put(ws, label_row, first + offset, indicator.label, **heading)
    ws.row_dimensions[top].height = 24
    ws.row_dimensions[label_row].height = 30

    row_number = label_row
    for serial, row in enumerate(rollup.rows, start=1):
        row_number = layout.NATIONAL_FIRST_DATA_ROW + serial - 1
        values = [serial, row.province_name, row.counties, row.complete, row.percent, *row.indicator_percents]
        put_row(ws, row_number, values)
        fit_height(ws, row_number, list(zip(values, widths)))

    frame(ws, top, 1, row_number, width)
    print_setup(ws, paper=ws.PAPERSIZE_A3, title_rows=f"{top}:{label_row}",
                freeze=f"{get_column_letter(first)}{layout.NATIONAL_FIRST_DATA_ROW}")
    return save(workbook)


# --- 与上期比较 -------------------------------------------------------------------------------------

CHANGES_SHEET = "与上期比较"
CHANGES_HEADER_ROW = 3  # no people row: the column headings follow the title and the period line
CHANGES_WIDTHS = [7, 12, 14, 6, 9, 20, 20]  # 序号 | 地市 | 县 | 指标 | 变化 | before | after; then a count per kind
COUNT_WIDTH = 8


def changes_workbook(changes):
    """What changed between two periods of a province, alone in a workbook (the changes page's download)."""
    workbook, ws = sheet(CHANGES_SHEET)
    changes_sheet(ws, changes)
    return save(workbook)


def changes_sheet(ws, changes):
    """Write ``reporting.changes.Changes`` on ``ws``: the province row, its own indicators' changes,
    per city its row and its counties' changes, the per-indicator counts, then 附件3's differences.

    Summary rows carry the counts per kind and, under the two periods, the counties with every
    county indicator done; a change row its indicator, kind and both periods' values.
    """
    kinds = [label for _kind, label in changes.kinds]
    widths = CHANGES_WIDTHS + [COUNT_WIDTH] * len(kinds)
    width = len(widths)
    set_widths(ws, widths)
    head(ws, width=width, title=changes.title, period_line=changes.period_line)
    top = CHANGES_HEADER_ROW
    heading = {"bold": True, "fill": HEADER_FILL}
    labels = ["序号", "地市", "县", "指标", "变化", changes.before.label, changes.after.label, *kinds]
    for column, text in enumerate(labels, start=1):
        put(ws, top, column, text, **heading)
    ws.row_dimensions[top].height = 30

    def summary(serial, name, counties, before, after, counts):
        return [serial, name, counties, None, None, f"全部完成{before}县", f"全部完成{after}县", *counts]

    def change_rows(serial, city, county, region):
        return [([serial, city, county, c.label, c.kind_label, c.before, c.after], {}) for c in region.changes]

    rows = [(summary("", changes.province_name, f"共{changes.county_count}个县", changes.complete_before,
                     changes.complete_after, changes.counts), ROW_STYLES["province"])]
    rows += change_rows("", "省级指标", None, changes.province)
    for k, city in enumerate(changes.cities, start=1):
        rows.append((summary(str(k), city.name, f"{city.county_count}个县", city.complete_before,
                             city.complete_after, city.counts), ROW_STYLES["subtotal"]))
        for i, county in enumerate(city.counties, start=1):
            rows += change_rows(f"{k}.{i}", city.name, county.name, county)
    first_indicator_row = top + len(rows) + 1
    rows += [([None, None, None, i.label, None, None, None, *i.counts], ROW_STYLES["stat"]) for i in changes.indicators]

    row_number = top
    for row_number, (values, style) in enumerate(rows, start=top + 1):
        for column, value in enumerate(values, start=1):
            put(ws, row_number, column, value, horizontal="left" if column in (6, 7) else "center", **style)
        fit_height(ws, row_number, list(zip(values, widths)))
    if changes.indicators:
        _put_merged(ws, first_indicator_row, 1, row_number, 3, "全省各指标的变化统计", **ROW_STYLES["stat"])
    frame(ws, top, 1, row_number, width)
    _changes_benefits(ws, changes, row_number + 2)
    print_setup(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{top}:{top}", freeze=f"A{top + 1}")


def _changes_benefits(ws, changes, top):
    """附件3's figures that changed (and every row's 合计), with both periods' values and the difference."""
    heading = {"bold": True, "fill": HEADER_FILL}
    _put_merged(ws, top, 1, top, 3, "附件3 统计内容", **heading)
    _put_merged(ws, top, 4, top, 5, "类别", **heading)
    for column, text in ((6, changes.before.label), (7, changes.after.label), (8, "增减")):
        put(ws, top, column, text, **heading)
    row_number = top
    for row_number, (row, cell) in enumerate(changes.benefit_lines, start=top + 1):
        _put_merged(ws, row_number, 1, row_number, 3, row.label)
        _put_merged(ws, row_number, 4, row_number, 5, cell.column)
        for column, text in ((6, cell.before), (7, cell.after)):
            value, number_format = _benefit_number(text)
            put(ws, row_number, column, value, horizontal="right", number_format=number_format)
        value, number_format = _benefit_number(cell.difference)
        put(ws, row_number, 8, value, horizontal="right", number_format=f"+{number_format};-{number_format};0")
        ws.row_dimensions[row_number].height = 20
    frame(ws, top, 1, row_number, 8)
