"""The two official statistics tables as plain functions of data (domain.md §5–§6).

The builders touch no database: ``selectors`` reads the inputs in a fixed number of queries,
and the Celery task, the pages, the API and the commands all call these same builders. The result
is a JSON-ready dataclass that the Excel writer lays out and the pages show.

The completion table (附件2's 填报说明 over any indicator set, domain.md §8a) has one builder,
``build_completion_table``; ``completion_table`` reads a program's period and builds it, and the
national 附件2 (``attachment2_table``) is that same table refused for any set but 37号文's 38.
"""

from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import person_name
from indicators.cells import DONE_MARK
from indicators.signoff import exceptions_within
from utilities.formatting import percent_text

from . import layout

NOT_APPLICABLE = "/"


def group_spans(groups):
    """Runs of consecutive equal group names as heading cells: [{"name", "span"}, …] in order."""
    spans = []
    for name in groups:
        if spans and spans[-1]["name"] == name:
            spans[-1]["span"] += 1
        else:
            spans.append({"name": name, "span": 1})
    return spans


@dataclass(frozen=True)
class Column:
    """One indicator column: the number, the label as printed (“*21”), its group and level."""

    number: int
    label: str
    group: str
    level: str


PROVINCE_STAR = "*"


def printed_label(*, label, level):
    """An indicator's number as the completion table heads it: “*” before a province-level one.

    The national set's labels carry the star already (“*21”); Chongqing's 附件4 stars nothing, yet
    its table must still tell the municipality's own indicators from the counties' the same way.
    """
    if level == "province" and not label.startswith(PROVINCE_STAR):
        return PROVINCE_STAR + label
    return label


@dataclass
class Row:
    kind: str  # province | city | county | subtotal | stat
    serial: str
    province: str
    city: str
    county: str
    cells: list
    done: object = ""
    not_done: object = ""
    percent: str = ""
    region_code: str = ""
    exception: str = ""  # a county the sign-off went without: the reason it was named (issue 8 §4)


@dataclass
class Header:
    """Title, period line and the people lines of both tables."""

    title: str
    period_line: str
    province_code: str
    province_name: str
    period_code: str
    filled_by: str = ""
    reviewed_by: str = ""
    filled_on: str = ""


@dataclass(frozen=True)
class SignoffNote:
    """A county named an exception when its city was accepted or its province confirmed."""

    city: str
    county: str
    county_code: str
    reason: str


EXCEPTION_MARK = "（例外）"  # after the name of a county row that is an exception


def exception_line(notes):
    """The note above the foot: 签收例外：××市××县——原因；…"""
    return "签收例外：" + "；".join(f"{n.city}{n.county}——{n.reason}" for n in notes)


@dataclass
class Attachment2:
    header: Header
    columns: list
    rows: list
    exceptions: list = field(default_factory=list)  # SignoffNote, in table order

    @property
    def groups(self):
        """(group name, number of columns) in table order."""
        return [(g["name"], g["span"]) for g in group_spans(c.group for c in self.columns)]

    def as_dict(self):
        return asdict(self)


@dataclass
class CountyInput:
    code: str
    name: str
    cells: dict  # indicator number → "√", "2021年8月" or "" (missing)


@dataclass
class CityInput:
    code: str
    name: str
    counties: list


def build_completion_table(*, header, columns, province_cells, cities, exceptions=None):
    """The completion table of any indicator set (附件2's 填报说明): the province row, per city its
    row, county rows and 小计, then the three statistics rows.

    ``columns`` are the set's indicators in document order: the group headings are their runs of
    ``group``, a province-level label is printed with its “*” (``printed_label``), and the counts are
    over the set's county indicators, however many (31 national, 35 for Chongqing).
    ``province_cells`` maps the starred indicators to “已完成”, “已开展”, an expected month or "".
    ``exceptions`` maps the code of a county the sign-off went without to the reason it was named:
    its row carries the reason, and the table lists them (the note above the foot).
    Counts follow the 填报说明: a county row counts its √; a 小计 counts per indicator the counties
    with √ and, in the last columns, the counties with all county indicators done; the province row
    the same over every county; the statistics rows per indicator across the province.
    """
    exceptions = exceptions or {}
    columns = [replace(c, label=printed_label(label=c.label, level=c.level)) for c in columns]
    # Per column its number, or None where a county row prints “/” (a starred, provincial indicator).
    county_numbers = [c.number if c.level == "county" else None for c in columns]
    total = len(columns) - county_numbers.count(None)

    def county_row(serial, city, county):
        get = county.cells.get
        cells = [NOT_APPLICABLE if number is None else get(number, "") for number in county_numbers]
        done = cells.count(DONE_MARK)
        return Row(
            "county",
            serial,
            "",
            city.name,
            county.name,
            cells,
            done,
            total - done,
            percent_text(done, total),
            county.code,
            exceptions.get(county.code, ""),
        )

    rows, county_rows_all = [], []
    body = []
    for k, city in enumerate(cities, start=1):
        county_rows = [county_row(f"{k}.{i}", city, c) for i, c in enumerate(city.counties, start=1)]
        county_rows_all.extend(county_rows)
        body.append(Row("city", str(k), "", city.name, f"{len(city.counties)}个县", [""] * len(columns), region_code=city.code))
        body.extend(county_rows)
        body.append(
            _summary_row("subtotal", f"{k}.{len(county_rows) + 1}", city.name, f"{city.name}小计", columns, county_rows, total, city.code)
        )
    complete = sum(r.done == total for r in county_rows_all)
    province_row = Row(
        "province",
        "",
        header.province_name,
        f"共{len(cities)}个地市",
        f"共{len(county_rows_all)}个县",
        [province_cells.get(c.number, "") if c.level == "province" else NOT_APPLICABLE for c in columns],
        complete,
        len(county_rows_all) - complete,
        percent_text(complete, len(county_rows_all)),
        header.province_code,
    )
    rows = [province_row, *body, *_statistics_rows(columns, county_rows_all)]
    notes = [SignoffNote(r.city, r.county, r.region_code, r.exception) for r in county_rows_all if r.exception]
    return Attachment2(header, columns, rows, notes)


# 附件2 is the completion table of the national set: one builder, the set refused in attachment2_table.
build_attachment2 = build_completion_table


def _column_done(columns, county_rows):
    # Counted column by column on the transposed cells, not cell by cell through a generator.
    by_column = list(zip(*(r.cells for r in county_rows))) or [()] * len(columns)
    return [cells.count(DONE_MARK) if c.level == "county" else None for c, cells in zip(columns, by_column)]


def _summary_row(kind, serial, city, label, columns, county_rows, total, code):
    per_column = _column_done(columns, county_rows)
    complete = sum(r.done == total for r in county_rows)
    cells = [NOT_APPLICABLE if n is None else n for n in per_column]
    return Row(kind, serial, "", city, label, cells, complete, len(county_rows) - complete, percent_text(complete, len(county_rows)), code)


STAT_LABELS = ("已完成县个数", "未完成县个数", "完成百分比")


def _statistics_rows(columns, county_rows):
    """全省各指标的完成情况统计: per county indicator, counties with √, without, and the share."""
    per_column = _column_done(columns, county_rows)
    counties = len(county_rows)
    rows = []
    for label in STAT_LABELS:
        cells = []
        for done in per_column:
            if done is None:
                cells.append(NOT_APPLICABLE)
            elif label == STAT_LABELS[0]:
                cells.append(done)
            elif label == STAT_LABELS[1]:
                cells.append(counties - done)
            else:
                cells.append(percent_text(done, counties))
        rows.append(Row("stat", "", "全省各指标的完成情况统计", "", label, cells, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE))
    return rows


# A period's completion table, read from the database

# 附件2 is 37号文's own table over its 38 indicators; a provincial program compiles its own table.
ATTACHMENT2_INDICATOR_SET = "national-2021"


def table_header(*, title, province, period, user=None, on=None):
    """Title, period line and people lines of a table: the compiling user (name and phone) as 填报人, the date."""
    on = on or timezone.localdate()
    contact = " ".join(filter(None, [person_name(user), user.phone])) if user is not None else ""
    return Header(
        title=title,
        period_line=period.span_label,
        province_code=province.code if province else "",
        province_name=province.name if province else "全国",
        period_code=period.code,
        filled_by=contact,
        filled_on=f"{on.year}年{on.month}月{on.day}日",
    )


def completion_table(*, province, period, user=None, on=None):
    """The completion table of ``province`` for ``period`` over the period's own indicator set.

    A set issued for a region (Chongqing's 42 for 重庆市) is refused for a province outside it. A
    municipality has no city tier: its districts and counties are one group named after it (that
    is how the regions are held, domain.md §2), so its table has one group and one 小计.
    """
    from .selectors import attachment2_input  # deferred: selectors builds on this module's dataclasses

    indicator_set = period.indicator_set
    if indicator_set.region_id and not province.path.startswith(indicator_set.region.path):
        raise ValidationError(f"“{indicator_set.name}”只适用于{indicator_set.region.name}，不能用于编制{province.name}的完成情况统计表。")
    columns, province_cells, cities = attachment2_input(province=province, period=period)
    header = table_header(title=layout.attachment2_title(province.name), province=province, period=period, user=user, on=on)
    # The counties the confirmation or a city's acceptance went without: marked in the table.
    exceptions = {e.county.code: e.reason for e in exceptions_within(province=province, period=period)}
    return build_completion_table(header=header, columns=columns, province_cells=province_cells, cities=cities, exceptions=exceptions)


def attachment2_table(*, province, period, user=None, on=None):
    """附件2: the completion table of the national set. Any other set is refused: 附件2 is 37号文's
    table of its 38 indicators, and a provincial program's period has its own completion table."""
    indicator_set = period.indicator_set
    if indicator_set.code != ATTACHMENT2_INDICATOR_SET:
        raise ValidationError(
            f"附件2 按国能综通监管〔2021〕37号的全国 38 项指标编制，{period.label}使用的是“{indicator_set.name}”："
            "请编制该方案自己的完成情况统计表。"
        )
    return completion_table(province=province, period=period, user=user, on=on)


# 附件3
BENEFIT_MEASURES = (
    ("households", "受益户数（户）", 0),
    ("investment", "节省投资（万元）", 2),
    ("sales", "增加售电量（万千瓦时）", 2),
    ("capacity", "增加容量（万千瓦安）", 2),
)
BENEFIT_CATEGORIES = (
    ("residential", "居民用户"),
    ("small_business", "160kW及以下的企业用户"),
    ("other", "其他用户"),
    ("sansheng", "“三省”服务效益"),
)


@dataclass
class Attachment3:
    header: Header
    rows: list  # per measure: (label, [four category values], total), values as Decimal strings

    def as_dict(self):
        return asdict(self)


def build_attachment3(*, header, totals):
    """附件3: ``totals`` maps (measure, category) → Decimal; each row adds the 合计 of its four columns.

    Households are whole numbers, the other three rows carry two decimals.
    """
    rows = []
    for measure, label, places in BENEFIT_MEASURES:
        quantum = Decimal(1).scaleb(-places)
        values = [Decimal(totals.get((measure, category), 0)).quantize(quantum, ROUND_HALF_UP) for category, _ in BENEFIT_CATEGORIES]
        rows.append((label, [str(v) for v in values], str(sum(values, Decimal(0)).quantize(quantum))))
    return Attachment3(header, rows)


@dataclass
class NationalRow:
    province_code: str
    province_name: str
    counties: int
    complete: int
    percent: str
    indicator_percents: list


@dataclass
class NationalRollup:
    period_code: str
    period_line: str
    columns: list
    rows: list

    def as_dict(self):
        return asdict(self)


def build_national_rollup(*, period_code, period_line, columns, provinces):
    """One row per province: counties, counties complete, percent; per county indicator the share done.

    ``provinces`` is a list of (code, name, county count, complete count, {number: counties done}).
    """
    county_columns = [c for c in columns if c.level == "county"]
    rows = [
        NationalRow(
            code,
            name,
            counties,
            complete,
            percent_text(complete, counties),
            [percent_text(done.get(c.number, 0), counties) for c in county_columns],
        )
        for code, name, counties, complete, done in provinces
    ]
    return NationalRollup(period_code, period_line, county_columns, rows)
