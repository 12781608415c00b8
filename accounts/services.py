"""Writes on regions and users. Each is atomic and validated; callers pass keyword arguments."""
import re
from pathlib import Path

from django.db import transaction

from utilities.csvdata import DataError, DataFileError, read_rows

from .models import CODE_RE, PARENT_LEVEL, Region, RegionLevel

REGION_COLUMNS = ("code", "name", "level", "parent_code")
NAME_RE = re.compile(r"^\S.{0,63}$")


def _parse_region_rows(path):
    _header, rows = read_rows(path, REGION_COLUMNS)
    name = Path(path).name
    errors, parsed, levels = [], [], {}
    for line, row in rows:
        code, level, parent = row["code"], row["level"], row["parent_code"]
        if not CODE_RE.match(code):
            errors.append(DataError(name, line, "code", f"“{code}”不是 6 位数字行政区划代码。"))
            continue
        if code in levels:
            errors.append(DataError(name, line, "code", f"代码 {code} 重复。"))
            continue
        if not NAME_RE.match(row["name"]):
            errors.append(DataError(name, line, "name", "名称为空或过长。"))
        if level not in RegionLevel.values:
            errors.append(DataError(name, line, "level", f"“{level}”不是 province/city/county 之一。"))
            continue
        expected = PARENT_LEVEL[RegionLevel(level)]
        if expected is None and parent:
            errors.append(DataError(name, line, "parent_code", "省级区域不应有上级。"))
        elif expected is not None:
            if not parent:
                errors.append(DataError(name, line, "parent_code", "缺少上级区域代码。"))
            elif levels.get(parent) != expected:
                reason = "上级区域不存在（上级须在前面的行中）" if parent not in levels else f"上级 {parent} 不是{RegionLevel(expected).label}级"
                errors.append(DataError(name, line, "parent_code", f"{reason}。"))
        levels[code] = level
        parsed.append((code, row["name"], level, parent or None))
    if not parsed and not errors:
        errors.append(DataError(name, None, None, "文件中没有任何区域。"))
    if errors:
        raise DataFileError(errors)
    return parsed


@transaction.atomic
def regions_load(*, path):
    """Create or update every region of ``path``; all or nothing.

    Regions in the database but not in the file are kept (users and data may hang on them) and
    reported back. Returns ``(created, updated, unchanged, not_in_file)`` counts.
    """
    parsed = _parse_region_rows(path)
    existing = {r.code: r for r in Region.objects.select_related("parent")}
    created = updated = 0
    by_code = dict(existing)
    for code, name, level, parent_code in parsed:  # parents precede children in the file
        parent = by_code[parent_code] if parent_code else None
        region = existing.get(code)
        if region is None:
            region = Region(code=code, name=name, level=level, parent=parent)
            created += 1
        elif (region.name, region.level, region.parent_id) != (name, level, parent.pk if parent else None):
            region.name, region.level, region.parent = name, level, parent
            updated += 1
        else:
            continue
        region.full_clean(validate_unique=False)
        region.save()
        by_code[code] = region
    in_file = {p[0] for p in parsed}
    stale = sorted(set(existing) - in_file)
    return created, updated, len(parsed) - created - updated, stale
