"""The 附件2 sheet read step by step (template, province and period, rows, counties, values) into a
``Preview``; every problem is one located message (“附件2 第 12 行 G 列（指标 3）：…”)."""

import re

from openpyxl.utils import get_column_letter

from accounts.models import Region, RegionLevel
from indicators.cells import cell_value
from indicators.models import (
    Checkmark,
    CheckmarkStatus,
    Indicator,
    Submission,
    month_label,
)
from indicators.services import CheckmarkValue
from utilities.excel import ImportFileError, compact, plain_text

from .. import layout
from ..tables import EXCEPTION_MARK, NOT_APPLICABLE, STAT_LABELS, printed_label
from .preview import Change, Preview, RegionPreview, describe, same
from .text import label_key, shown, span_key, title_key

MAX_ERRORS = 200  # listed; the rest are counted

HEADER_NAMES = {
    layout.COL_SERIAL: "序号",
    layout.COL_PROVINCE: "省",
    layout.COL_CITY: "地市",
    layout.COL_COUNTY: "县",
}
SUBTOTAL_SUFFIX = "小计"

_CITY_SERIAL = re.compile(r"^\d+$")
_COUNTY_SERIAL = re.compile(r"^\d+\.\d+$")


class Reader:
    def __init__(self, *, province, period, rows, today):
        self.province = province
        self.period = period
        self.rows = rows
        self.today = today
        self.errors = []
        self.dropped = 0
        self.indicators = list(Indicator.objects.filter(indicator_set=period.indicator_set_id).order_by("number"))
        self.assumed_month = min(period.ends, today).replace(day=1)

    # messages
    def error(self, message, row=None, column=None, indicator=None):
        if len(self.errors) >= MAX_ERRORS:
            self.dropped += 1
            return
        where = layout.ATTACHMENT2_SHEET
        if row is not None:
            where += f" 第 {row} 行"
        if column is not None:
            where += f" {get_column_letter(column)} 列"
        if indicator is not None:
            where += f"（指标 {indicator.label}）"
        self.errors.append(f"{where}：{message}")

    def cell(self, row, column):
        values = self.rows[row - 1] if 0 < row <= len(self.rows) else ()
        return values[column - 1] if column <= len(values) else None

    def raise_if_errors(self):
        if self.errors:
            errors = list(self.errors)
            if self.dropped:
                errors.append(f"另有 {self.dropped} 处错误未列出：请先改正以上各处。")
            raise ImportFileError(errors)

    def row_text(self, row, first=1, last=None):
        """The non-empty texts of a row (merged cells keep their value in the first cell)."""
        values = self.rows[row - 1] if row <= len(self.rows) else ()
        return "".join(plain_text(v) for v in values[first - 1 : last] if plain_text(v))

    # the steps
    def read(self):
        self.check_template()
        self.raise_if_errors()
        self.check_province_and_period()
        self.raise_if_errors()
        province_row, county_rows = self.scan_rows()
        counties = self.resolve_counties(county_rows)
        self.raise_if_errors()
        entries = self.parse_values(province_row, counties)
        self.raise_if_errors()
        self.compare(entries)
        province_entry, county_entries = entries[0], entries[1:]
        notes = [
            "完成个数、未完成个数、完成百分比、各地市小计和全省统计行由门户按导入后的数据重新计算，文件中的这些内容不导入。",
        ]
        assumed = sum(len(e.assumed) for e in entries)
        if assumed:
            notes.append(
                f"附件2 的“√”不含完成月份：原已填完成月份的保留原月份；其余 {assumed} 项按"
                f"{month_label(self.assumed_month)}（报告期末月，且不晚于本月）记为完成月份，可在填报页修改。"
            )
        blank = sum(len(e.missing) + len(e.kept) for e in entries)
        if blank:
            notes.append(f"文件中有 {blank} 处空白：空白不导入，门户中已有的值保留，仍未填写的在下面列为“未填写”。")
        return Preview(
            province=self.province,
            period=self.period,
            province_entry=province_entry,
            counties=county_entries,
            assumed_month=self.assumed_month,
            notes=notes,
        )

    def check_template(self):
        """序号/省/地市/县 and the indicator labels in order on LABEL_ROW."""
        if len(self.rows) < layout.FIRST_DATA_ROW:
            self.error(f"工作表只有 {len(self.rows)} 行，没有表头和数据：这不是填好的附件2。")
            return
        for column, expected in HEADER_NAMES.items():
            found, at = "", layout.HEADER_TOP_ROW
            for row in range(layout.HEADER_TOP_ROW, layout.LABEL_ROW + 1):
                if compact(self.cell(row, column)):
                    found, at = compact(self.cell(row, column)), row
                    break
            if found != expected:
                self.error(f"表头应为“{expected}”，实为“{shown(found) or '空'}”：这不是附件2 模板。", at, column)
        for offset, indicator in enumerate(self.indicators):
            column = layout.FIRST_INDICATOR_COL + offset
            found = label_key(self.cell(layout.LABEL_ROW, column))
            label = printed_label(label=indicator.label, level=indicator.level)  # as the table heads it
            if found != label_key(label):
                self.error(
                    f"表头应为指标“{label}”，实为“{shown(found) or '空'}”：指标列与附件2 模板（{len(self.indicators)} 项指标）不符。",
                    layout.LABEL_ROW,
                    column,
                )

    def check_province_and_period(self):
        title = self.row_text(layout.TITLE_ROW)
        expected = layout.attachment2_title(self.province.name)
        if title_key(title) != title_key(expected):
            other = next(
                (
                    p
                    for p in Region.objects.filter(level=RegionLevel.PROVINCE)
                    if title_key(layout.attachment2_title(p.name)) == title_key(title)
                ),
                None,
            )
            if other is not None:
                self.error(
                    f"这是{other.name}的附件2（标题“{shown(title, 60)}”），不是{self.province.name}的：请选择正确的省份或文件。",
                    layout.TITLE_ROW,
                    1,
                )
            else:
                self.error(f"标题应为“{expected}”，实为“{shown(title, 60) or '空'}”。", layout.TITLE_ROW, 1)
        span = self.row_text(layout.PERIOD_ROW)
        if span_key(span) != span_key(self.period.span_label):
            self.error(
                f"报告期应为“{self.period.span_label}”（{self.period.label}），实为“{shown(span, 60) or '空'}”："
                "这是另一报告期的表，请选择正确的报告期或文件。",
                layout.PERIOD_ROW,
                1,
            )
        row = layout.FIRST_DATA_ROW
        name = compact(self.cell(row, layout.COL_PROVINCE))
        if name != compact(self.province.name):
            if not name:
                self.error(f"第一行数据应为省份行，“省”列应为“{self.province.name}”，实为空。", row, layout.COL_PROVINCE)
            else:
                self.error(f"省份行的“省”应为“{self.province.name}”，实为“{shown(name)}”：这不是本省的表。", row, layout.COL_PROVINCE)

    def scan_rows(self):
        """The province row, then (row, city name, county name) for every county row."""
        county_rows, city = [], None
        for row in range(layout.FIRST_DATA_ROW + 1, len(self.rows) + 1):
            labels = [compact(self.cell(row, c)) for c in range(1, layout.FIRST_INDICATOR_COL)]
            joined = "".join(labels)
            if layout.STATISTICS_LABEL in joined or layout.FOOT_TEXT in joined or labels[layout.COL_COUNTY - 1] in STAT_LABELS:
                break  # the statistics rows and the foot: computed or not data
            values = self.rows[row - 1]
            if not any(plain_text(v) for v in values):
                continue
            serial = self.cell(row, layout.COL_SERIAL)
            # 1.1 typed as a number stays “1.1”; a whole number (a city's “1”) reads as “1”
            serial_text = repr(serial) if isinstance(serial, float) and not serial.is_integer() else plain_text(serial)
            county_name = labels[layout.COL_COUNTY - 1].removesuffix(EXCEPTION_MARK)  # a sign-off's exception
            if county_name.endswith(SUBTOTAL_SUFFIX):
                continue  # ××市小计: computed
            if _CITY_SERIAL.match(serial_text):
                city = (row, labels[layout.COL_CITY - 1])
                if not city[1]:
                    self.error("地市行的“地市”为空。", row, layout.COL_CITY)
                continue
            if _COUNTY_SERIAL.match(serial_text):
                if city is None:
                    self.error("县行上方没有地市行（序号为整数的行）：无法确定它属于哪个地市。", row, layout.COL_SERIAL)
                    continue
                if not county_name:
                    self.error("县行的“县”为空。", row, layout.COL_COUNTY)
                    continue
                county_rows.append((row, city, county_name, labels[layout.COL_CITY - 1]))
                continue
            if serial_text:
                self.error(f"序号“{shown(serial_text)}”无法识别：地市行写“1”、“2”…，县行写“1.1”、“1.2”…", row, layout.COL_SERIAL)
            else:
                self.error("序号为空，无法判断这是地市行、县行还是小计行。", row, layout.COL_SERIAL)
        return layout.FIRST_DATA_ROW, county_rows

    def resolve_counties(self, county_rows):
        """Each county row → its Region, identified by city and name; unknown and missing counties told."""
        counties = list(
            Region.objects.filter(level=RegionLevel.COUNTY, path__startswith=self.province.path).select_related("parent").order_by("path")
        )
        cities = {c.name for c in Region.objects.filter(level=RegionLevel.CITY, parent=self.province)}
        by_city_and_name = {(c.parent.name, c.name): c for c in counties}
        by_name = {}
        for county in counties:
            by_name.setdefault(county.name, []).append(county)
        found, seen, told_cities, misplaced = [], {}, set(), set()
        for row, (city_row, city_name), name, own_city in county_rows:
            if city_name not in cities and city_row not in told_cities:
                told_cities.add(city_row)
                self.error(self._unknown_city(city_name), city_row, layout.COL_CITY)
            if city_name in cities and own_city and own_city != city_name:
                # the writer leaves a county row's 地市 empty (merged); one typed in must agree
                self.error(
                    f"该县行的“地市”写的是“{shown(own_city)}”，但它位于地市“{city_name}”（第 {city_row} 行）之下。", row, layout.COL_CITY
                )
                misplaced.update(c.pk for c in by_name.get(name, []))
                continue
            county = by_city_and_name.get((city_name, name))
            if county is None:
                same_name = by_name.get(name, [])
                if city_name not in cities and len(same_name) == 1:
                    county = same_name[0]  # the city is told already; the county itself is known
                elif same_name:
                    misplaced.update(c.pk for c in same_name)
                    where = "、".join(c.parent.name for c in same_name)
                    self.error(f"县“{name}”不属于{city_name}：本省的“{name}”属于{where}，请把它放到所属地市之下。", row, layout.COL_COUNTY)
                    continue
                else:
                    self.error(self._unknown_county(name), row, layout.COL_COUNTY)
                    continue
            if county.pk in seen:
                self.error(
                    f"{county.parent.name}{county.name}在第 {seen[county.pk]} 行已经出现过，同一个县只能填一行。", row, layout.COL_COUNTY
                )
                continue
            seen[county.pk] = row
            found.append((row, county))
        absent = [c for c in counties if c.pk not in seen and c.pk not in misplaced]
        if absent:
            listed = "、".join(f"{c.parent.name}{c.name}" for c in absent[:50])
            more = f"等 {len(absent)} 个县" if len(absent) > 50 else f"（共 {len(absent)} 个）"
            self.errors.append(f"{layout.ATTACHMENT2_SHEET}：文件中缺少{self.province.name}的以下县：{listed}{more}。每个县都要有一行。")
        return found

    def _unknown_city(self, name):
        elsewhere = list(
            Region.objects.filter(level=RegionLevel.CITY, name=name)
            .exclude(path__startswith=self.province.path)
            .select_related("parent")[:3]
        )
        if elsewhere:
            where = "、".join(c.parent.name for c in elsewhere)
            return f"地市“{shown(name)}”不是{self.province.name}的地市，而是{where}的。"
        return f"{self.province.name}没有名为“{shown(name)}”的地市（请核对名称）。"

    def _unknown_county(self, name):
        elsewhere = list(
            Region.objects.filter(level=RegionLevel.COUNTY, name=name)
            .exclude(path__startswith=self.province.path)
            .select_related("parent__parent")
            .order_by("path")[:5]
        )
        if elsewhere:
            where = "、".join(f"{c.parent.parent.name}{c.parent.name}" for c in elsewhere)
            return f"县“{shown(name)}”不是{self.province.name}的县，而是{where}的县：这一行不属于本省的表。"
        return f"{self.province.name}没有名为“{shown(name)}”的县，全国也没有同名的县：请核对名称。"

    def parse_values(self, province_row, counties):
        regions = [self.province, *(c for _, c in counties)]
        versions = dict(Submission.objects.filter(region__in=regions, period=self.period).values_list("region_id", "version"))
        current = {}
        for mark in Checkmark.objects.filter(region__in=regions, period=self.period, indicator__indicator_set=self.period.indicator_set_id):
            current.setdefault(mark.region_id, {})[mark.indicator_id] = mark
        entries = [self._parse_row(province_row, self.province, "", current.get(self.province.pk, {}), versions)]
        for row, county in counties:
            entries.append(self._parse_row(row, county, county.parent.name, current.get(county.pk, {}), versions))
        return entries

    def _parse_row(self, row, region, city_name, marks, versions):
        is_province = region.level == RegionLevel.PROVINCE
        entry = RegionPreview(region=region, city_name=city_name, row=row, version=versions.get(region.pk, 0))
        done_in_file = 0
        for offset, indicator in enumerate(self.indicators):
            column = layout.FIRST_INDICATOR_COL + offset
            raw = self.cell(row, column)
            mark = marks.get(indicator.pk)
            if mark is not None:
                entry.current[indicator.number] = CheckmarkValue(mark.status, mark.done_month, mark.expected_month, mark.note)
            own = indicator.level == region.level
            if not own:
                if compact(raw) not in ("", NOT_APPLICABLE):
                    who = "县级指标由各县填报，省份行" if is_province else "省级指标由省填报，县行"
                    self.error(f"{who}此处应为“/”或留空，不能填“{shown(raw)}”。", row, column, indicator)
                continue
            try:
                cell = cell_value(raw, level=indicator.level, encouraging=indicator.encouraging, today=self.today)
            except ValueError as exc:
                self.error(f"{exc}。", row, column, indicator)
                continue
            note = mark.note if mark is not None else ""
            if not cell.status:
                if mark is not None and mark.status:
                    entry.kept.append(Change(indicator.number, indicator.label, describe(entry.current[indicator.number], indicator), ""))
                elif not indicator.encouraging:
                    entry.missing.append(indicator.label)
                continue
            if cell.status == CheckmarkStatus.DONE:
                done_in_file += 1
                month = cell.month
                if month is None and mark is not None and mark.status == CheckmarkStatus.DONE and mark.done_month:
                    month = mark.done_month
                if month is None and not is_province:
                    month = self.assumed_month
                    entry.assumed.append(indicator.label)
                entry.values[indicator.number] = CheckmarkValue(CheckmarkStatus.DONE, done_month=month, note=note)
            else:
                entry.values[indicator.number] = CheckmarkValue(CheckmarkStatus.NOT_DONE, expected_month=cell.month, note=note)
        if not is_province:
            self._check_done_count(entry, row, done_in_file)
        return entry

    def _check_done_count(self, entry, row, done_in_file):
        """Optional: say when the file's 完成个数 disagrees with its own √ (the portal recomputes it)."""
        column = layout.summary_columns(len(self.indicators))[0]
        written = self.cell(row, column)
        if isinstance(written, (int, float)) and not isinstance(written, bool) and written != done_in_file:
            entry.notes.append(
                f"第 {row} 行“完成个数”（{get_column_letter(column)} 列）写的是 {plain_text(written)}，表中“√”为 {done_in_file} 个："
                "以门户计算为准。"
            )

    def compare(self, entries):
        by_number = {i.number: i for i in self.indicators}
        for entry in entries:
            for number, value in sorted(entry.values.items()):
                before = entry.current.get(number)
                if not same(before, value):
                    indicator = by_number[number]
                    entry.changes.append(Change(number, indicator.label, describe(before, indicator), describe(value, indicator)))
