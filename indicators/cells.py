"""A check-mark as the statistics table writes it, and a table cell read back into a check-mark.

Both directions live here so they cannot drift apart (issue 12 §3):

- ``cell_text``: the 附件2 cell of a check-mark. A county indicator: “√” when done — with or
  without its done month, which the table does not print —, else its expected month “2021年8月”,
  else "" (missing). A province-level indicator: “已完成” or the expected month; an encouraging
  one (鼓励性, 37 and 38): “已开展” or "". The model's ``display``, the table selectors and the API
  all read a check-mark through it.
- ``cell_description``: the same value with its done month, as the audit trail and the import
  preview write it (“√ 2022年3月”, “预计 2022年12月”).
- ``cell_value``: a cell of an imported 附件2 (its text, or the date Excel made of “2021-08”) read
  back into a status and a month; a ``ValueError`` says in Chinese what is wrong with it.

Pure functions of the values: no query, so a selector reading ``values()`` rows calls them as well.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

from utilities.excel import compact, plain_text

from .models import CheckmarkStatus, IndicatorLevel, month_label
from .periods import parse_month

DONE_MARK = "√"
DONE_MARKS = frozenset({DONE_MARK, "✓", "✔", "☑", "✅"})  # what a reader takes for “√”
PROVINCE_DONE = "已完成"
PROVINCE_STARTED = "已开展"  # done, for an encouraging indicator
NOT_APPLICABLE = "/"  # a cell of the other level's indicator
NOT_DONE_PREFIX = "预计"
NO_EXPECTED_MONTH = "未完成（未填预计月份）"
MONTH_HINT = "应写作“2021年8月”（也可写“2021-08”或“2021.8”），已完成的写“√”"

_MONTH_EXTRA = re.compile(r"^(?:预计)?(\d{4})(?:年|-|－|\.|/|．)(\d{1,2})月?份?$")
_DONE_WITH_MONTH = re.compile(r"^([√✓✔☑✅])[（(]?(.+?)[)）]?$")


def done_text(*, level, encouraging):
    """How a done check-mark is written: “√” (county), “已完成”, or “已开展” (encouraging)."""
    if level == IndicatorLevel.COUNTY:
        return DONE_MARK
    return PROVINCE_STARTED if encouraging else PROVINCE_DONE


def cell_text(*, status, expected_month, level, encouraging):
    """The 附件2 cell: “√”, “已完成”, “已开展”, the expected month “2021年8月”, or "" (missing).

    No done month is asked for: the table prints none, so a county's √ without its month is still
    “√” (the sheet lists it as incomplete until the month is given)."""
    if status == CheckmarkStatus.DONE:
        return done_text(level=level, encouraging=encouraging)
    if status == CheckmarkStatus.NOT_DONE and expected_month:
        return month_label(expected_month)
    return ""


def cell_description(*, status, done_month, expected_month, level, encouraging):
    """The value with its months, as the audit trail and the import preview write it: “√ 2022年3月”,
    “已完成”, “预计 2022年12月”, “未完成（未填预计月份）”; "" when blank. ``cell_value`` reads it back."""
    if status == CheckmarkStatus.DONE:
        mark = done_text(level=level, encouraging=encouraging)
        return f"{mark} {month_label(done_month)}" if done_month else mark
    if status == CheckmarkStatus.NOT_DONE:
        return f"{NOT_DONE_PREFIX} {month_label(expected_month)}" if expected_month else NO_EXPECTED_MONTH
    return ""


@dataclass(frozen=True)
class CellValue:
    """What one cell says: blank (status ""), done (with its month if written) or expected by a month."""

    status: str = ""
    month: date | None = None  # the done month when done, the expected month when not done


def cell_value(value, *, level, encouraging, today):
    """A 附件2 cell → ``CellValue``; ``ValueError`` with the reason to show.

    County indicators: “√” (also ✓ ✔ ☑ ✅ or “已完成”) is done, “√ 2022年3月” done in that month (not
    later than ``today``'s), a month (“2021年8月”, “2021-08”, “2021.8”, a date cell, “预计 2021年8月”)
    is expected then. Province-level: “已完成” (or √), “已开展” for an encouraging indicator, or a
    month, which an encouraging indicator cannot take. Blank is blank; “/” is refused.
    """
    if level == IndicatorLevel.COUNTY:
        return _county_value(value, today)
    return _province_value(value, encouraging)


def _county_value(value, today):
    if isinstance(value, (date, datetime)):  # Excel turned “2021-08” into a date
        return CellValue(CheckmarkStatus.NOT_DONE, month_of(value))
    text = compact(value)
    if not text:
        return CellValue()
    if text in DONE_MARKS or text == PROVINCE_DONE:
        return CellValue(CheckmarkStatus.DONE)
    if text == NOT_APPLICABLE:
        raise ValueError("县级指标不能填“/”：已完成的写“√”，未完成的写预计完成月份（如“2021年8月”）")
    match = _DONE_WITH_MONTH.match(text)
    if match:
        month = month_of(match[2])
        if month > today.replace(day=1):
            raise ValueError(f"完成月份 {month_label(month)} 晚于本月")
        return CellValue(CheckmarkStatus.DONE, month)
    return CellValue(CheckmarkStatus.NOT_DONE, month_of(value))


def _province_value(value, encouraging):
    if isinstance(value, (date, datetime)):  # Excel turned “2021-08” into a date
        if encouraging:
            raise ValueError("鼓励性指标只能填“已开展”或留空，不能填月份")
        return CellValue(CheckmarkStatus.NOT_DONE, month_of(value))
    text = compact(value)
    if not text:
        return CellValue()
    if text in (PROVINCE_DONE, PROVINCE_STARTED) or text in DONE_MARKS:
        if text == PROVINCE_STARTED and not encouraging:
            raise ValueError("该指标应填“已完成”或预计完成月份，不能填“已开展”（“已开展”只用于鼓励性指标）")
        return CellValue(CheckmarkStatus.DONE)
    if text == NOT_APPLICABLE:
        expected = "“已开展”或留空" if encouraging else "“已完成”或预计完成月份"
        raise ValueError(f"省级指标由省填报，应填{expected}，不能填“/”")
    if encouraging:
        raise ValueError(f"鼓励性指标只能填“已开展”或留空，不能填“{_shown(value)}”")
    try:
        month = month_of(value)
    except ValueError as exc:
        raise ValueError(f"{exc}；省级指标已完成的写“已完成”") from None
    return CellValue(CheckmarkStatus.NOT_DONE, month)


def month_of(value):
    """A cell → the first day of its month; ValueError with the message to show."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        month = value.replace(day=1)
    elif isinstance(value, (int, float)):
        raise ValueError(f"数字“{_shown(value)}”不是有效的月份（2021.1 是 1 月还是 10 月？），{MONTH_HINT}")
    else:
        text = compact(value)
        try:
            month = parse_month(text)
        except ValueError:
            match = _MONTH_EXTRA.match(text)
            if not match or not 1 <= int(match[2]) <= 12:
                raise ValueError(f"“{_shown(value)}”不是有效的月份，{MONTH_HINT}") from None
            month = date(int(match[1]), int(match[2]), 1)
    if not 2000 <= month.year <= 2100:
        raise ValueError(f"“{_shown(value)}”的年份不对，{MONTH_HINT}")
    return month


def _shown(value, limit=30):
    text = plain_text(value)
    return text if len(text) <= limit else text[:limit] + "…"
