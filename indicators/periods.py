"""Period codes as DHIS2 writes them: ``2022S1`` (上半年, due 15 July) and ``2022`` (全年, due 15 January next year)."""

import re
from dataclasses import dataclass
from datetime import date

CODE_RE = re.compile(r"^(?P<year>\d{4})(?P<half>S1)?$")


@dataclass(frozen=True)
class PeriodSpan:
    code: str
    year: int
    kind: str
    starts: date
    ends: date
    deadline: date


def parse_period(code):
    match = CODE_RE.match(code or "")
    if not match or not 2000 <= int(match["year"]) <= 2100:
        raise ValueError(f"报告期“{code}”格式不对：上半年写作“2022S1”，全年写作“2022”。")
    year = int(match["year"])
    if match["half"]:
        return PeriodSpan(code, year, "half", date(year, 1, 1), date(year, 6, 30), date(year, 7, 15))
    return PeriodSpan(code, year, "year", date(year, 1, 1), date(year, 12, 31), date(year + 1, 1, 15))


def period_code(year, kind):
    """The code of the ``kind`` (half / year) period of ``year``: ``parse_period``'s inverse."""
    return f"{year}S1" if kind == "half" else f"{year}"


def parse_month(text):
    """“2021-08” (an HTML month input) or “2021年8月” (the tables) → the first day of that month."""
    text = (text or "").strip()
    match = re.fullmatch(r"(\d{4})\s*(?:-|年)\s*(\d{1,2})\s*月?", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"“{text}”不是有效的月份，应写作“2021年8月”或“2021-08”。")
    return date(int(match[1]), int(match[2]), 1)
