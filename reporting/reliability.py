"""SAIDI/SAIFI per county, city or province (填报说明 第6条: the reliability figures come separately,
from the reliability centre), entered on a form or uploaded as CSV by province and city officials.
All or nothing: every bad row and field is named in Chinese and nothing is stored. Every figure
stored is a ``reliability.changed`` event of the change feed."""

import csv
import io
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.changes import change_event, changes_record
from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.periods import period_code

from .models import Reliability

logger = logging.getLogger(__name__)

PLACES = 3
MAX_FIGURE = Decimal(10) ** (Reliability._meta.get_field("saidi").max_digits - PLACES)
SOURCE_LENGTH = Reliability._meta.get_field("source").max_length
FIELD_LABELS = {"region": "行政区划代码", "saidi": "户均停电时间（SAIDI）", "saifi": "户均停电次数（SAIFI）", "source": "数据来源"}
# The CSV's columns: the Chinese header or the plain name, in any order.
CSV_HEADERS = {
    "行政区划代码": "region",
    "区域代码": "region",
    "region": "region",
    "saidi": "saidi",
    "户均停电时间": "saidi",
    "saifi": "saifi",
    "户均停电次数": "saifi",
    "数据来源": "source",
    "来源": "source",
    "source": "source",
}
MAX_CSV_BYTES = 1024 * 1024
# A city's or province's own figure, when the centre gives one, is scored before its counties' mean.
LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
RELIABILITY = "reliability.changed"


@dataclass(frozen=True)
class Figure:
    """One region's figures as typed; ``where`` names the row (“第 3 行”, or the region's name)."""

    where: str
    region: str
    saidi: str
    saifi: str
    source: str


def _number(raw, label):
    text = (raw or "").strip()
    if not text:
        raise ValueError(f"{label}未填写。")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{label}“{text}”不是数字。") from None
    if not number.is_finite():
        raise ValueError(f"{label}“{text}”不是数字。")
    if number < 0:
        raise ValueError(f"{label}不能为负数（填了 {text}）。")
    if number >= MAX_FIGURE:
        raise ValueError(f"{label} {text} 过大，应小于 {MAX_FIGURE}。")
    if number.as_tuple().exponent < -PLACES:
        raise ValueError(f"{label}最多保留 {PLACES} 位小数。")
    return number


def csv_figures(data):
    """The rows of an uploaded CSV (UTF-8 or GBK) as Figures; a file that cannot be read raises
    ValidationError naming why."""
    if len(data) > MAX_CSV_BYTES:
        raise ValidationError("文件超过 1 MB，请只上传区域代码、SAIDI、SAIFI、数据来源四列。")
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError("文件不是 UTF-8 或 GBK 编码的 CSV。")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    columns = {CSV_HEADERS.get(cell.strip().lower()): i for i, cell in enumerate(header or []) if CSV_HEADERS.get(cell.strip().lower())}
    missing = [FIELD_LABELS[name] for name in FIELD_LABELS if name not in columns]
    if missing:
        raise ValidationError(f"第 1 行（表头）缺少列：{'、'.join(missing)}。表头应为：行政区划代码,SAIDI,SAIFI,数据来源。")
    figures = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {name: cells[i].strip() if i < len(cells) else "" for name, i in columns.items()}
        figures.append(Figure(where=f"第 {line} 行", **values))
    if not figures:
        raise ValidationError("文件没有数据行。")
    return figures


def reliability_changed(*, row, channel, user=None):
    """The change-feed event of one region's stored figures. Its object is the scorecard showing
    them (the city's for a county; a city's or province's own), of the national program's period
    of that span (``?program=`` gives another program's)."""
    region = row.region
    shown_in = region.parent if region.level == RegionLevel.COUNTY else region
    return change_event(
        type=RELIABILITY,
        object_url=reverse("api:scorecard", kwargs={"code": period_code(row.year, row.kind), "region_code": shown_in.code}),
        region=region,
        channel=channel,
        user=user,
        data={
            "region": region.code,
            "year": row.year,
            "kind": row.kind,
            "saidi": f"{row.saidi:.{PLACES}f}",
            "saifi": f"{row.saifi:.{PLACES}f}",
            "source": row.source,
        },
    )


@transaction.atomic
def reliability_set(*, user, year, kind, figures, channel="web"):
    """Store ``figures`` (Figures) for the period span ``year``/``kind``, replacing a region's earlier
    figures of that span. Refused as a whole, every problem named by row and field: a region unknown
    or outside the user's change scope, a figure missing, not a number or negative, no source."""
    if not user.has_perm("reporting.enter_reliability"):
        raise PermissionDenied("只有省级、地市级能源主管部门可以填报供电可靠性数据。")
    if not figures:
        raise ValidationError("没有填写任何区域的数据。")
    codes = {f.region.strip() for f in figures}
    # Read inside the transaction: a region moved out of scope meanwhile is refused here.
    in_scope = Region.objects.restrict(user, Action.CHANGE).filter(code__in=codes, level__in=LEVELS)
    areas = {r.code: r for r in in_scope.select_related("parent").select_for_update(of=("self",))}
    errors, seen, rows = [], {}, []
    for figure in figures:
        code = figure.region.strip()
        problems = []
        area = areas.get(code)
        if area is None:
            problems.append(f"{FIELD_LABELS['region']}“{code}”不是您管辖范围内的县、地市或省级区域。")
        elif code in seen:
            problems.append(f"{FIELD_LABELS['region']}“{code}”（{area.name}）与{seen[code]}重复。")
        seen.setdefault(code, figure.where)
        values = {}
        for name in ("saidi", "saifi"):
            try:
                values[name] = _number(getattr(figure, name), FIELD_LABELS[name])
            except ValueError as exc:
                problems.append(str(exc))
        source = figure.source.strip()
        if not source:
            problems.append(f"{FIELD_LABELS['source']}未填写（如“供电可靠性中心 2022 年上半年统计”）。")
        elif len(source) > SOURCE_LENGTH:
            problems.append(f"{FIELD_LABELS['source']}超过 {SOURCE_LENGTH} 个字。")
        if problems:
            errors += [f"{figure.where}：{p}" for p in problems]
        else:
            rows.append((area, values, source))
    if errors:
        raise ValidationError(errors)
    # The figures being replaced, read once rather than one query per region.
    earlier = {r.region_id: r for r in Reliability.objects.filter(region__in=[a for a, _v, _s in rows], year=year, kind=kind)}
    stored = []
    for area, values, source in rows:
        row = earlier.get(area.pk) or Reliability(region=area, year=year, kind=kind)
        row.region = area  # the region read above, not read again by clean() or the change event
        row.saidi, row.saifi, row.source, row.entered_by = values["saidi"], values["saifi"], source, user
        row.full_clean()
        row.save()
        stored.append(row)
    changes_record(reliability_changed(row=row, channel=channel, user=user) for row in stored)
    logger.info("reliability entered", extra={"user": user.pk, "year": year, "kind": kind, "regions": sorted(areas)})
    return stored
