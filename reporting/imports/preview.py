"""What importing a 附件2 would do — per region, its changes, blanks and assumed months
(``Preview``, ``RegionPreview``, ``Change``) — and the same as text for the command (``preview_lines``)."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from accounts.models import Region, RegionLevel
from indicators.cells import cell_description


@dataclass(frozen=True)
class Change:
    number: int
    label: str
    before: str
    after: str


@dataclass
class RegionPreview:
    """One region of the file: the province row or a county row, and what importing it would do."""

    region: Region
    city_name: str
    row: int  # the sheet row it was read from
    version: int  # the region's Submission version when read: apply refuses if it moved on
    values: dict = field(default_factory=dict)  # indicator number → CheckmarkValue, blanks left out
    current: dict = field(default_factory=dict)  # indicator number → CheckmarkValue in the portal now
    changes: list = field(default_factory=list)  # [Change]
    missing: list = field(default_factory=list)  # labels blank in the file and in the portal
    kept: list = field(default_factory=list)  # [Change]: blank in the file, the portal's value kept
    assumed: list = field(default_factory=list)  # labels: √ without a month, the month assumed
    notes: list = field(default_factory=list)

    @property
    def name(self):
        return self.region.name if self.region.level == RegionLevel.PROVINCE else f"{self.city_name} {self.region.name}"

    @property
    def is_province(self):
        return self.region.level == RegionLevel.PROVINCE


@dataclass
class Preview:
    province: Region
    period: object
    province_entry: RegionPreview
    counties: list  # [RegionPreview] in file order
    assumed_month: date  # the done month given to a “√” whose county had none
    notes: list = field(default_factory=list)
    file_name: str = ""

    @property
    def regions(self):
        return [self.province_entry, *self.counties]

    @property
    def change_count(self):
        return sum(len(r.changes) for r in self.regions)

    @property
    def changed_regions(self):
        return [r for r in self.regions if r.changes]

    @property
    def missing_count(self):
        return sum(len(r.missing) for r in self.regions)

    @property
    def kept_count(self):
        return sum(len(r.kept) for r in self.regions)

    @property
    def assumed_count(self):
        return sum(len(r.assumed) for r in self.regions)

    @property
    def digest(self):
        """Identifies what would be written, from what state: the confirm step must see the same."""
        data = [self.province.code, self.period.code]
        for entry in self.regions:
            data.append(
                [
                    entry.region.code,
                    entry.version,
                    [[n, v.status, str(v.done_month or ""), str(v.expected_month or ""), v.note] for n, v in sorted(entry.values.items())],
                ]
            )
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    regions: int  # regions whose values were sent to the service
    regions_changed: int
    checkmarks_changed: int


def describe(value, indicator):
    """A value as the preview and the audit write it (``indicators.cells.cell_description``)."""
    if value is None or not value.status:
        return "（空）"
    return cell_description(
        status=value.status,
        done_month=value.done_month,
        expected_month=value.expected_month,
        level=indicator.level,
        encouraging=indicator.encouraging,
    )


def same(a, b):
    a_key = (a.status, a.done_month, a.expected_month) if a else ("", None, None)
    b_key = (b.status, b.done_month, b.expected_month) if b else ("", None, None)
    return a_key == b_key


def preview_lines(preview):
    lines = [
        f"{preview.province.name} {preview.period.label}（{preview.period.code}）附件2 导入预览"
        + (f"：{preview.file_name}" if preview.file_name else ""),
        f"共 {len(preview.regions)} 个区域（省级 1 个、县 {len(preview.counties)} 个），"
        f"{len(preview.changed_regions)} 个有变更，合计 {preview.change_count} 项变更。",
    ]
    lines += [f"说明：{note}" for note in preview.notes]
    for entry in preview.regions:
        if not (entry.changes or entry.missing or entry.kept or entry.notes):
            continue
        heading = f"{entry.name}{'（省级指标）' if entry.is_province else ''}（第 {entry.row} 行）：{len(entry.changes)} 项变更"
        lines.append(heading)
        for change in entry.changes:
            assumed = "（完成月份按报告期末月记）" if change.label in entry.assumed else ""
            lines.append(f"  指标 {change.label}：{change.before} → {change.after}{assumed}")
        if entry.missing:
            lines.append(f"  未填写：{'、'.join(entry.missing)}")
        if entry.kept:
            lines.append("  文件中空白、保留门户现值：" + "、".join(f"{c.label}（{c.before}）" for c in entry.kept))
        lines += [f"  {note}" for note in entry.notes]
    return lines
