"""What changed between two periods (issue 8 §6), as a plain function of data like ``reporting.tables``.

``selectors.changes_input`` reads both periods' check-marks and 附件3 figures of one province; the
page, its download and the extra sheet of a compiled 附件2 all call ``build_changes`` on them.

A check-mark counts as the statistics table counts it (see ``Mark``): a county cell is done only
with its month, and a cell without its month is blank. Comparing the two periods, per indicator:

- 新完成: not done before, done after (the done month shown);
- 推迟 / 提前: not done in both, the expected month later / earlier;
- 新填预计: blank before, an expected month after;
- 回退: done before and not done (or blank) after, or an expected month before and blank after.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from indicators.models import month_label

from .tables import BENEFIT_CATEGORIES, build_attachment3

DONE, NOT_DONE, BLANK = "done", "not_done", ""

# (kind, label) in the order the counts are shown.
KINDS = (
    ("done", "新完成"),
    ("postponed", "推迟"),
    ("advanced", "提前"),
    ("promised", "新填预计"),
    ("regressed", "回退"),
)
KIND_LABELS = dict(KINDS)
KIND_INDEX = {kind: index for index, (kind, _label) in enumerate(KINDS)}
TOTAL_COLUMN = "合计"


@dataclass(frozen=True)
class Mark:
    """One check-mark as the tables count it: ``state`` DONE, NOT_DONE or BLANK; ``month`` the done
    or expected month (a province indicator may be done without one); ``text`` the table's cell."""

    state: str
    month: date | None = None
    text: str = ""


BLANK_MARK = Mark(BLANK)


@dataclass(frozen=True)
class PeriodRef:
    code: str
    label: str


@dataclass
class Change:
    kind: str
    kind_label: str
    number: int
    label: str  # the indicator as printed: “8”, “*21”
    before: str
    after: str


@dataclass
class RegionChanges:
    code: str
    name: str
    changes: list
    counts: list  # per KINDS


@dataclass
class CityChanges:
    code: str
    name: str
    county_count: int
    complete_before: int  # counties with every county indicator done
    complete_after: int
    counts: list
    counties: list  # RegionChanges of the counties with a change, in code order


@dataclass
class IndicatorChanges:
    number: int
    label: str
    counts: list


@dataclass
class BenefitCell:
    column: str
    before: str
    after: str
    difference: str
    changed: bool


@dataclass
class BenefitRow:
    label: str
    cells: list  # the four categories, then 合计


@dataclass
class Changes:
    province_code: str
    province_name: str
    before: PeriodRef
    after: PeriodRef
    county_count: int
    complete_before: int
    complete_after: int
    counts: list  # the province's own indicators and every county
    province: RegionChanges  # the province's own (starred) indicators
    cities: list
    indicators: list  # IndicatorChanges of the indicators with a change, in number order
    benefits: list  # BenefitRow per 附件3 row

    kinds = KINDS

    @property
    def title(self):
        return f"{self.province_name}“获得电力”任务指标变化情况"

    @property
    def period_line(self):
        return f"（{self.before.label}与{self.after.label}比较）"

    @property
    def benefit_lines(self):
        """(row, cell) of 附件3 to list: the figures that changed, and every row's 合计 in any case."""
        return [(row, cell) for row in self.benefits for cell in row.cells if cell.changed or cell.column == TOTAL_COLUMN]


def classify(before, after):
    """The kind of change from Mark ``before`` to Mark ``after``, or None when nothing that matters moved."""
    if after.state == DONE:
        return None if before.state == DONE else "done"
    if before.state == DONE:
        return "regressed"
    if after.state == NOT_DONE:
        if before.state == BLANK:
            return "promised"
        if after.month != before.month:
            return "postponed" if after.month > before.month else "advanced"
        return None
    return "regressed" if before.state == NOT_DONE else None


def describe(mark):
    """A Mark for a reader: “√（2022年3月完成）”, “预计2022年9月”, “已完成”, “空白”."""
    if mark.state == DONE:
        return f"{mark.text}（{month_label(mark.month)}完成）" if mark.month else mark.text
    if mark.state == NOT_DONE:
        return f"预计{mark.text}"
    return "空白"


def _counts(changes):
    return [sum(c.kind == kind for c in changes) for kind, _label in KINDS]


def _add(*counts):
    return [sum(values) for values in zip(*counts)]


def build_changes(*, province, before, after, columns, cities, before_marks, after_marks, before_benefits, after_benefits):
    """Compare two periods of one province.

    ``province`` is (code, name); ``before`` and ``after`` PeriodRefs; ``columns`` the indicators
    (``tables.Column``) of both periods' set; ``cities`` [(code, name, [(county code, name), …]), …]
    in code order; ``before_marks`` / ``after_marks`` map a region code to {indicator number: Mark}
    (absent: blank); ``before_benefits`` / ``after_benefits`` 附件3's totals of each period as
    ``selectors.attachment3_totals`` reads them.
    """
    by_level = {level: [c for c in columns if c.level == level] for level in ("province", "county")}
    county_total = len(by_level["county"])
    per_indicator = {c.number: [0] * len(KINDS) for c in columns}

    def region_changes(code, name, level):
        old, new = before_marks.get(code, {}), after_marks.get(code, {})
        changes = []
        for column in by_level[level]:
            mark_before, mark_after = old.get(column.number, BLANK_MARK), new.get(column.number, BLANK_MARK)
            kind = classify(mark_before, mark_after)
            if kind:
                changes.append(Change(kind, KIND_LABELS[kind], column.number, column.label, describe(mark_before), describe(mark_after)))
                per_indicator[column.number][KIND_INDEX[kind]] += 1
        return RegionChanges(code, name, changes, _counts(changes))

    def complete(marks, code):
        done = sum(marks.get(code, {}).get(c.number, BLANK_MARK).state == DONE for c in by_level["county"])
        return county_total > 0 and done == county_total

    city_changes = []
    for code, name, counties in cities:
        regions = [region_changes(county_code, county_name, "county") for county_code, county_name in counties]
        city_changes.append(
            CityChanges(
                code,
                name,
                len(counties),
                sum(complete(before_marks, c) for c, _n in counties),
                sum(complete(after_marks, c) for c, _n in counties),
                _add([0] * len(KINDS), *(r.counts for r in regions)),
                [r for r in regions if r.changes],
            )
        )
    own = region_changes(province[0], province[1], "province")
    return Changes(
        province_code=province[0],
        province_name=province[1],
        before=before,
        after=after,
        county_count=sum(c.county_count for c in city_changes),
        complete_before=sum(c.complete_before for c in city_changes),
        complete_after=sum(c.complete_after for c in city_changes),
        counts=_add(own.counts, *(c.counts for c in city_changes)),
        province=own,
        cities=city_changes,
        indicators=[IndicatorChanges(c.number, c.label, per_indicator[c.number]) for c in columns if any(per_indicator[c.number])],
        benefits=_benefit_rows(before_benefits, after_benefits),
    )


def _benefit_rows(before_totals, after_totals):
    """附件3 of both periods as the official tables print them (rounded, with 合计), cell by cell."""
    columns = [name for _code, name in BENEFIT_CATEGORIES] + [TOTAL_COLUMN]
    old_rows = build_attachment3(header=None, totals=before_totals).rows
    new_rows = build_attachment3(header=None, totals=after_totals).rows
    rows = []
    for (label, old_values, old_total), (_label, new_values, new_total) in zip(old_rows, new_rows):
        cells = []
        for column, old, new in zip(columns, [*old_values, old_total], [*new_values, new_total]):
            difference = Decimal(new) - Decimal(old)
            cells.append(BenefitCell(column, old, new, f"{difference:+f}" if difference else "0", difference != 0))
        rows.append(BenefitRow(label, cells))
    return rows
