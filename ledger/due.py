"""Parse a ledger item's 完成时间 as written into a due date or “ongoing”.

The documents write deadlines many ways: “2020年底前”, “2021年4月底前”, “2021年5月15日前”,
“2021年5月中旬前”, “2021年9月”, “6月底前” (the ledger's own year), “6月前完成…；12月前开展试点”
(several milestones: the item is due at the last one), “持续推进”, “长期”, “常态开展”.
“N月前” and “N月” are read as “by the end of month N”, like “N日前” includes day N.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date


class DueParseError(ValueError):
    pass


@dataclass(frozen=True)
class Due:
    date: date | None
    ongoing: bool


ONGOING_WORDS = ("持续推进", "长期", "常态", "持续", "动态")

_Y = r"(?:(?P<year>\d{4})\s*年\s*)?"
_PATTERNS = [
    # 2021年5月15日 / 5月15日
    re.compile(_Y + r"(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日"),
    # 2021年5月中旬 / 上旬 / 下旬
    re.compile(_Y + r"(?P<month>\d{1,2})\s*月\s*(?P<part>上旬|中旬|下旬)"),
    # 2021年4月底 / 2021年9月 / 6月前
    re.compile(_Y + r"(?P<month>\d{1,2})\s*(?:月份|月)"),
    # 2020年底 / 年底 / 2022年前 (the year before)
    re.compile(r"(?:(?P<year>\d{4})\s*)?年\s*(?P<yearpart>底|末|内)"),
    re.compile(r"(?P<year>\d{4})\s*年\s*(?P<upper>上半年)"),
    re.compile(r"(?P<upper>上半年)"),
]
_TEN_DAY_END = {"上旬": 10, "中旬": 20}


def _month_end(year, month):
    return date(year, month, calendar.monthrange(year, month)[1])


def _dates(text, year):
    spans = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue  # already read by a more specific pattern
            spans.append(m.span())
            y = int(m.group("year")) if m.groupdict().get("year") else year
            if y is None:
                raise DueParseError(f"“{text}”没有写年份，且所属台账没有年度。")
            gd = m.groupdict()
            try:
                if gd.get("day"):
                    yield date(y, int(gd["month"]), int(gd["day"]))
                elif gd.get("part"):
                    month = int(gd["month"])
                    day = _TEN_DAY_END.get(gd["part"])
                    yield date(y, month, day) if day else _month_end(y, month)
                elif gd.get("month"):
                    yield _month_end(y, int(gd["month"]))
                elif gd.get("upper"):
                    yield date(y, 6, 30)
                else:
                    yield date(y, 12, 31)
            except ValueError as exc:
                raise DueParseError(f"“{text}”中的日期不存在：{m.group(0)}。") from exc


def parse_due(text, *, year=None):
    """Return the Due of ``text``; ``year`` is the ledger's year for dates written without one."""
    text = (text or "").strip()
    if not text:
        raise DueParseError("完成时间为空。")
    found = list(_dates(text, year))
    if found:
        return Due(date=max(found), ongoing=False)
    if any(word in text for word in ONGOING_WORDS):
        return Due(date=None, ongoing=True)
    raise DueParseError(f"无法识别完成时间“{text}”：应写明年月（如“2021年4月底前”），或写“持续推进”“长期”。")
