"""Working days (工作日) in mainland China, for the time limits of application records (domain.md §8).

Weekends and public holidays are off; the official make-up working days (调休), which fall on a
Saturday or Sunday, are working days. The data comes from the PyPI package ``chinesecalendar``,
which transcribes the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的通知);
a year is known only once its notice is out, so the library covers a closed range of years and
``working_days_between`` refuses dates outside it rather than guessing.

Counting follows the rule for periods in days (民法典 第二百零一条: 开始的当日不计入): the day a
stage starts is not counted, every working day after it up to and including the day it ends is. A
stage begun and finished on the same day therefore takes 0 working days; one begun on a Thursday
and finished on the Monday after takes 2.
"""

from datetime import date, timedelta
from functools import cache
from itertools import accumulate

import chinese_calendar

# The library starts in 2004; probing a little before and after finds its actual range.
_PROBE_FROM = 2000


class CalendarRangeError(ValueError):
    """A date outside the years the holiday calendar knows."""


@cache
def _known(year):
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@cache
def _running(year):
    """``running[i]`` = working days from 1 January of ``year`` to its day ``i`` (0-based), inclusive.

    Built a year at a time, when first needed: the library takes about 80 µs a day.
    """
    first = date(year, 1, 1)
    days = (first + timedelta(n) for n in range((date(year, 12, 31) - first).days + 1))
    return tuple(accumulate(int(chinese_calendar.is_workday(d)) for d in days))


def coverage():
    """The first and last day the calendar knows."""
    years = [y for y in range(_PROBE_FROM, date.today().year + 3) if _known(y)]
    return date(years[0], 1, 1), date(years[-1], 12, 31)


def check_covered(day):
    """Raise CalendarRangeError when ``day`` is outside the calendar's years."""
    if not _known(day.year):
        first, last = coverage()
        raise CalendarRangeError(
            f"日期 {day:%Y-%m-%d} 超出节假日日历的范围（{first.year}—{last.year} 年）："
            "日历按国务院每年发布的节假日安排更新，请升级 chinesecalendar 后再试。"
        )


def _through(day, since_year):
    """Working days from 1 January of ``since_year`` up to and including ``day``."""
    whole_years = sum(_running(y)[-1] for y in range(since_year, day.year))
    return whole_years + _running(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(start, end):
    """Working days after ``start`` up to and including ``end`` (0 when they are the same day).

    Raises ValueError when ``end`` is before ``start``, CalendarRangeError when either is outside
    the calendar's years.
    """
    if end < start:
        raise ValueError(f"结束日期 {end:%Y-%m-%d} 早于开始日期 {start:%Y-%m-%d}。")
    check_covered(start)
    check_covered(end)
    return _through(end, start.year) - _through(start, start.year)
