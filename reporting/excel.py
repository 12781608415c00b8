"""The official-layout workbooks (domain.md §5–§6): 附件2, 附件3 and the national roll-up, as .xlsx bytes.

Each writer takes the dataclass that ``reporting.tables`` builds and returns the file's bytes; where
things stand comes from ``reporting.layout``, which the importer reads too, so a form filled in and sent
back is read at the places it was written. Values go in as given: integers stay numbers, “√”, months,
“/” and “72%” stay text, and every cell passes through ``put`` (or ``put_row``, a row at a time), which
keeps text from being read as a formula (see ``put``).
"""

from decimal import Decimal, InvalidOperation

from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from utilities.excel import (  # the house style, shared with the ledger and the application records
    HEADER_FILL,
    PEOPLE_SIZE,
    fit_height,
    frame,
    head,
    merge,
    print_setup,
    put,
    put_merged,
    put_row,
    save,
    set_widths,
    sheet,
)

from . import layout
from .tables import BENEFIT_CATEGORIES, EXCEPTION_MARK, exception_line

# Light enough to print on a black-and-white printer without hiding the figures.
SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
STATISTICS_FILL = PatternFill("solid", fgColor="DDEBF7")
# 附件2 rows by kind: the sums stand out from the counties they add up.
ROW_STYLES = {
    "province": {"bold": True},
    "subtotal": {"bold": True, "fill": SUBTOTAL_FILL},
    "stat": {"bold": True, "fill": STATISTICS_FILL},
}

INDICATOR_WIDTH = 6  # “2021年” on one line, “8月” under it; “90.3%” fits


def _people(header, filled_by_label):
    return (f"{filled_by_label}：{header.filled_by}", f"审核人：{header.reviewed_by}", f"填报日期：{header.filled_on}")


def _foot(ws, last_table_row):
    row = layout.foot_row(last_table_row)
    put(ws, row, 1, layout.FOOT_TEXT, size=PEOPLE_SIZE, horizontal="left", wrap=False)
    ws.row_dimensions[row].height = 30  # room for the seal


# --- 附件2 ------------------------------------------------------------------------------------------


def attachment2_workbook(table, changes=None):
    """附件2 “获得电力”任务指标完成情况统计表 of one province and period, in the official layout;
    with ``changes`` (``reporting.changes.Changes``), the sheet “与上期比较” after it.

    附件2 is the completion table of the national set: written by the one completion writer."""
    return completion_workbook(table, changes)


def completion_workbook(table, changes=None):
    """A completion table (``tables.build_completion_table``: 附件2, or a program's own such as
    Chongqing's 42 indicators) in 附件2's official layout: A3 landscape, the province's title, the
    period and people rows, the group headings and labels of the table's own columns (“*” before a
    province-level number), county, 小计, province and statistics rows, the 填报单位盖章处 foot.

    The sheet keeps 附件2's name, so the importer finds a filled-in form where it went out."""
    workbook, ws = sheet(layout.ATTACHMENT2_SHEET)
    count = len(table.columns)
    last_indicator = layout.FIRST_INDICATOR_COL + count - 1
    done_col, not_done_col, percent_col = layout.summary_columns(count)
    width = percent_col
    widths = [6, 10, 13, 13] + [INDICATOR_WIDTH] * count + [8, 8, 8]
    set_widths(ws, widths)

    head(
        ws,
        width=width,
        title=table.header.title,
        period_line=table.header.period_line,
        people=_people(table.header, "填报人及手机联系方式"),
    )

    top, group_row, label_row = layout.HEADER_TOP_ROW, layout.GROUP_ROW, layout.LABEL_ROW
    heading = {"bold": True, "fill": HEADER_FILL}
    for column, text in ((layout.COL_SERIAL, "序号"), (layout.COL_PROVINCE, "省"), (layout.COL_CITY, "地市"), (layout.COL_COUNTY, "县")):
        put_merged(ws, top, column, label_row, column, text, **heading)
    put_merged(ws, top, layout.FIRST_INDICATOR_COL, top, last_indicator, "指标完成情况", **heading)
    column = layout.FIRST_INDICATOR_COL
    for name, span in table.groups:
        put_merged(ws, group_row, column, group_row, column + span - 1, name, **heading)
        column += span
    for offset, indicator in enumerate(table.columns):
        put(ws, label_row, layout.FIRST_INDICATOR_COL + offset, indicator.label, **heading)
    put_merged(ws, top, done_col, top, percent_col, "省、地市、县指标完成情况", **heading)
    for column, text in ((done_col, "完成个数"), (not_done_col, "未完成个数"), (percent_col, "完成百分比")):
        put_merged(ws, group_row, column, label_row, column, text, **heading)
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
            measured[0] = (layout.STATISTICS_LABEL, sum(widths[: layout.COL_CITY]))
        fit_height(ws, row_number, measured)
    if statistics:
        merge(ws, statistics[0], layout.COL_SERIAL, statistics[-1], layout.COL_CITY)

    frame(ws, top, 1, row_number, width)
    last = row_number
    if table.exceptions:  # the note stands where the foot would, the foot one row below it
        note = layout.foot_row(row_number)
        text = exception_line(table.exceptions)
        put_merged(ws, note, 1, note, width, text, size=PEOPLE_SIZE, horizontal="left")
        fit_height(ws, note, [(text, sum(widths))], size=PEOPLE_SIZE)
        last = note - 1
    _foot(ws, last)
    print_setup(
        ws,
        paper=ws.PAPERSIZE_A3,
        title_rows=f"{top}:{label_row}",
        freeze=f"{get_column_letter(layout.FIRST_INDICATOR_COL)}{layout.FIRST_DATA_ROW}",
    )
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
    head(ws, width=width, title=table.header.title, period_line=table.header.period_line, people=_people(table.header, "填报人及联系方式"))

    top, sub = layout.A3_HEADER_TOP_ROW, layout.A3_HEADER_SUB_ROW
    first, total = layout.A3_FIRST_VALUE_COL, layout.A3_TOTAL_COL
    heading = {"bold": True, "fill": HEADER_FILL, "size": size}
    put_merged(ws, top, layout.A3_COL_LABEL, sub, layout.A3_COL_LABEL, "统计内容", **heading)
    put_merged(ws, top, first, top, first + 2, "“三零”服务效益", **heading)
    for offset, (_, name) in enumerate(BENEFIT_CATEGORIES[:3]):
        put(ws, sub, first + offset, name, **heading)
    put_merged(ws, top, first + 3, sub, first + 3, BENEFIT_CATEGORIES[3][1], **heading)
    put_merged(ws, top, total, sub, total, "合计", **heading)
    ws.row_dimensions[top].height = 24
    ws.row_dimensions[sub].height = 32

    row_number = sub
    for row_number, (label, values, row_total) in enumerate(table.rows, start=layout.A3_FIRST_DATA_ROW):
        put(ws, row_number, layout.A3_COL_LABEL, label, size=size, bold=True)
        for column, text in enumerate([*values, row_total], start=first):
            value, number_format = _benefit_number(text)
            put(ws, row_number, column, value, size=size, horizontal="right", number_format=number_format, bold=column == total)
        ws.row_dimensions[row_number].height = 26

    frame(ws, top, 1, row_number, width)
    _foot(ws, row_number)
    print_setup(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{top}:{sub}")
    if getattr(table, "breakdown", None):  # reporting.breakdown: after the official sheet, which stays as it is
        _attachment3_breakdown_sheet(workbook.create_sheet(A3_BREAKDOWN_SHEET), table)
    return save(workbook)


A3_BREAKDOWN_SHEET = "按供电企业和地市分列"
# The breakdown's columns: 供电企业 | 地市 | 统计内容 | the four categories | 合计; rows as the official sheet's.
A3B_COL_COMPANY, A3B_COL_CITY, A3B_COL_LABEL, A3B_FIRST_VALUE_COL = 1, 2, 3, 4
A3B_TOTAL_COL = A3B_FIRST_VALUE_COL + len(BENEFIT_CATEGORIES)


def _attachment3_breakdown_sheet(ws, table):
    """附件3 per supply company and city: four rows (the official sheet's) per company × city, then
    the province's 合计, in the official sheet's style."""
    width, size = A3B_TOTAL_COL, PEOPLE_SIZE
    set_widths(ws, [22, 12, 24, 12, 16, 12, 16, 12])
    head(ws, width=width, title=f"{table.header.title}（按供电企业和地市分列）", period_line=table.header.period_line)
    top, sub = layout.A3_HEADER_TOP_ROW, layout.A3_HEADER_SUB_ROW
    first, total = A3B_FIRST_VALUE_COL, A3B_TOTAL_COL
    heading = {"bold": True, "fill": HEADER_FILL, "size": size}
    for column, name in ((A3B_COL_COMPANY, "供电企业"), (A3B_COL_CITY, "地市"), (A3B_COL_LABEL, "统计内容")):
        put_merged(ws, top, column, sub, column, name, **heading)
    put_merged(ws, top, first, top, first + 2, "“三零”服务效益", **heading)
    for offset, (_, name) in enumerate(BENEFIT_CATEGORIES[:3]):
        put(ws, sub, first + offset, name, **heading)
    put_merged(ws, top, first + 3, sub, first + 3, BENEFIT_CATEGORIES[3][1], **heading)
    put_merged(ws, top, total, sub, total, "合计", **heading)
    ws.row_dimensions[top].height = 24
    ws.row_dimensions[sub].height = 32

    row_number = layout.A3_FIRST_DATA_ROW
    for block in table.breakdown:
        is_total = block is table.breakdown[-1]
        block_top = row_number
        for label, values, row_total in block["rows"]:
            put(ws, row_number, A3B_COL_LABEL, label, size=size, bold=True)
            for column, text in enumerate([*values, row_total], start=first):
                value, number_format = _benefit_number(text)
                bold = is_total or column == total
                put(ws, row_number, column, value, size=size, horizontal="right", number_format=number_format, bold=bold)
            row_number += 1
        put_merged(ws, block_top, A3B_COL_COMPANY, row_number - 1, A3B_COL_COMPANY, block["company"], size=size, bold=is_total)
        put_merged(ws, block_top, A3B_COL_CITY, row_number - 1, A3B_COL_CITY, block["city"], size=size, bold=is_total)
    frame(ws, top, 1, row_number - 1, width)
    freeze = f"{get_column_letter(A3B_FIRST_VALUE_COL)}{layout.A3_FIRST_DATA_ROW}"  # the labels stay in view
    print_setup(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{top}:{sub}", freeze=freeze)


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
        put_merged(ws, top, column, label_row, column, text, **heading)
    if count:
        put_merged(ws, top, first, top, first + count - 1, "各指标完成县占比", **heading)
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
    print_setup(
        ws, paper=ws.PAPERSIZE_A3, title_rows=f"{top}:{label_row}", freeze=f"{get_column_letter(first)}{layout.NATIONAL_FIRST_DATA_ROW}"
    )
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

    rows = [
        (
            summary(
                "", changes.province_name, f"共{changes.county_count}个县", changes.complete_before, changes.complete_after, changes.counts
            ),
            ROW_STYLES["province"],
        )
    ]
    rows += change_rows("", "省级指标", None, changes.province)
    for k, city in enumerate(changes.cities, start=1):
        rows.append(
            (
                summary(str(k), city.name, f"{city.county_count}个县", city.complete_before, city.complete_after, city.counts),
                ROW_STYLES["subtotal"],
            )
        )
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
        put_merged(ws, first_indicator_row, 1, row_number, 3, "全省各指标的变化统计", **ROW_STYLES["stat"])
    frame(ws, top, 1, row_number, width)
    _changes_benefits(ws, changes, row_number + 2)
    print_setup(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{top}:{top}", freeze=f"A{top + 1}")


def _changes_benefits(ws, changes, top):
    """附件3's figures that changed (and every row's 合计), with both periods' values and the difference."""
    heading = {"bold": True, "fill": HEADER_FILL}
    put_merged(ws, top, 1, top, 3, "附件3 统计内容", **heading)
    put_merged(ws, top, 4, top, 5, "类别", **heading)
    for column, text in ((6, changes.before.label), (7, changes.after.label), (8, "增减")):
        put(ws, top, column, text, **heading)
    row_number = top
    for row_number, (row, cell) in enumerate(changes.benefit_lines, start=top + 1):
        put_merged(ws, row_number, 1, row_number, 3, row.label)
        put_merged(ws, row_number, 4, row_number, 5, cell.column)
        for column, text in ((6, cell.before), (7, cell.after)):
            value, number_format = _benefit_number(text)
            put(ws, row_number, column, value, horizontal="right", number_format=number_format)
        value, number_format = _benefit_number(cell.difference)
        put(ws, row_number, 8, value, horizontal="right", number_format=f"+{number_format};-{number_format};0")
        ws.row_dimensions[row_number].height = 20
    frame(ws, top, 1, row_number, 8)
