"""Loading the seed documents' ledgers, indicator sets, their links and application rules
(``manage.py load_reference``): parsed and checked first, then stored all or nothing."""

from datetime import date
from pathlib import Path

from django.db import transaction

from accounts.models import Region
from indicators.applications import rules_parse, rules_sync
from indicators.models import Indicator, IndicatorLevel, IndicatorSet
from utilities.csvdata import DataError, DataFileError, read_rows

from .due import DueParseError, parse_due
from .models import Ledger, LedgerItem

MANIFEST = "documents.csv"
MANIFEST_COLUMNS = ("kind", "code", "name", "document", "region_code", "year", "file")
LEDGER_COLUMNS = ("number", "category", "task", "responsible_units", "due_text", "due")
INDICATOR_COLUMNS = ("number", "label", "group", "level", "encouraging", "content", "standard")


def _int(value, errors, where, field):
    try:
        number = int(value)
        if number <= 0:
            raise ValueError
        return number
    except ValueError:
        errors.append(DataError(*where, field, f"“{value}”不是正整数。"))
        return None


def _numbers_in_order(rows, errors, name):
    numbers = [n for n, _ in rows]
    if numbers != list(range(1, len(numbers) + 1)):
        errors.append(DataError(name, None, "number", f"序号应从 1 起连续递增，实为 {numbers}。"))


def _parse_ledger(path, year, errors):
    header, rows = read_rows(path, LEDGER_COLUMNS)
    name = path.name
    extra_columns = header[len(LEDGER_COLUMNS) :]
    if header[: len(LEDGER_COLUMNS)] != list(LEDGER_COLUMNS):
        errors.append(DataError(name, 1, None, f"表头前六列应为 {','.join(LEDGER_COLUMNS)}。"))
    items = []
    for line, row in rows:
        where = (name, line)
        number = _int(row["number"], errors, where, "number")
        if not row["task"]:
            errors.append(DataError(*where, "task", "工作目标任务为空。"))
        if not row["due_text"]:
            errors.append(DataError(*where, "due_text", "完成时间为空。"))
            continue
        due_override = row["due"]
        try:
            if due_override == "ongoing":
                due_date, ongoing = None, True
            elif due_override:
                due_date, ongoing = date.fromisoformat(due_override), False
            else:
                due = parse_due(row["due_text"], year=year)
                due_date, ongoing = due.date, due.ongoing
        except ValueError as exc:  # DueParseError or a bad ISO date
            field = "due" if due_override else "due_text"
            reason = str(exc) if isinstance(exc, DueParseError) else f"“{due_override}”不是 YYYY-MM-DD 日期或 ongoing。"
            errors.append(DataError(*where, field, reason))
            continue
        items.append(
            (
                number,
                dict(
                    category=row["category"],
                    task=row["task"],
                    responsible_units=row["responsible_units"],
                    due_text=row["due_text"],
                    due_date=due_date,
                    ongoing=ongoing,
                    extra={c: row[c] for c in extra_columns if row[c]},
                ),
            )
        )
    _numbers_in_order(items, errors, name)
    return extra_columns, items


def _parse_indicators(path, errors):
    header, rows = read_rows(path, INDICATOR_COLUMNS)
    name = path.name
    indicators = []
    for line, row in rows:
        where = (name, line)
        number = _int(row["number"], errors, where, "number")
        if row["level"] not in IndicatorLevel.values:
            errors.append(DataError(*where, "level", f"“{row['level']}”不是 province/county 之一。"))
        if row["encouraging"] not in ("0", "1"):
            errors.append(DataError(*where, "encouraging", f"“{row['encouraging']}”应为 0 或 1。"))
        for field in ("label", "group", "content"):
            if not row[field]:
                errors.append(DataError(*where, field, "不能为空。"))
        indicators.append(
            (
                number,
                dict(
                    label=row["label"],
                    group=row["group"],
                    level=row["level"],
                    encouraging=row["encouraging"] == "1",
                    content=row["content"],
                    standard=row["standard"],
                    responsible_units=row.get("responsible_units", ""),
                ),
            )
        )
    _numbers_in_order(indicators, errors, name)
    return indicators


def _parse_links(path, errors):
    """Which indicators measure which item: ``item,indicators`` with the numbers space-separated."""
    _header, rows = read_rows(path, ("item", "indicators"))
    links = []
    for line, row in rows:
        where = (path.name, line)
        item = _int(row["item"], errors, where, "item")
        numbers = [_int(n, errors, where, "indicators") for n in row["indicators"].split()]
        if not numbers:
            errors.append(DataError(*where, "indicators", "至少写一个指标序号。"))
        links.append((line, item, numbers))
    return links


def _link_items(code, links, file_name):
    """Attach the indicators to the items of the ledger and set that share ``code``."""
    items = {i.number: i for i in LedgerItem.objects.filter(ledger__code=code)}
    indicators = {i.number: i for i in Indicator.objects.filter(indicator_set__code=code)}
    errors = []
    for line, item_number, numbers in links:
        if item_number not in items:
            errors.append(DataError(file_name, line, "item", f"台账 {code} 没有第 {item_number} 项。"))
            continue
        unknown = [n for n in numbers if n not in indicators]
        if unknown:
            errors.append(DataError(file_name, line, "indicators", f"指标体系 {code} 没有指标 {'、'.join(map(str, unknown))}。"))
            continue
        items[item_number].indicators.set([indicators[n] for n in numbers])
    if errors:
        raise DataFileError(errors)
    return len(links)


def _parse_reference(directory):
    directory = Path(directory)
    _header, documents = read_rows(directory / MANIFEST, MANIFEST_COLUMNS)
    errors, parsed = [], []
    regions = {r.code: r for r in Region.objects.filter(code__in=[d["region_code"] for _, d in documents if d["region_code"]])}
    for line, doc in documents:
        where = (MANIFEST, line)
        if doc["kind"] not in ("ledger", "indicators", "links", "rules"):
            errors.append(DataError(*where, "kind", f"“{doc['kind']}”应为 ledger、indicators、links 或 rules。"))
            continue
        region = None
        if doc["region_code"]:
            region = regions.get(doc["region_code"])
            if region is None:
                errors.append(DataError(*where, "region_code", f"区域 {doc['region_code']} 不存在，请先导入行政区域。"))
        year = _int(doc["year"], errors, where, "year")
        try:
            if doc["kind"] == "ledger":
                content = _parse_ledger(directory / doc["file"], year, errors)
            elif doc["kind"] == "indicators":
                content = _parse_indicators(directory / doc["file"], errors)
            elif doc["kind"] == "rules":
                content = rules_parse(directory / doc["file"], errors)
            else:
                content = _parse_links(directory / doc["file"], errors)
        except DataFileError as exc:
            errors.extend(exc.errors)
            continue
        parsed.append((doc, region, year, content))
    if errors:
        raise DataFileError(errors)
    return parsed


def _sync_rows(owner_filter, model, rows, key="number"):
    """Make ``model`` rows under an owner match ``rows`` exactly (create, update, delete)."""
    existing = {getattr(o, key): o for o in model.objects.filter(**owner_filter)}
    for number, fields in rows:
        obj = existing.pop(number, None) or model(**owner_filter, **{key: number})
        for field, value in fields.items():
            setattr(obj, field, value)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
    model.objects.filter(pk__in=[o.pk for o in existing.values()]).delete()


@transaction.atomic
def reference_load(*, directory):
    """Load the seed documents' ledgers, indicator sets, the links between them and the sets'
    application rules; all or nothing, idempotent.

    Returns ``{code: row count}`` for what was loaded.
    """
    loaded = {}
    for doc, region, year, content in _parse_reference(directory):
        common = dict(name=doc["name"], document=doc["document"], region=region, year=year)
        if doc["kind"] == "links":
            loaded[f"links:{doc['code']}"] = _link_items(doc["code"], content, doc["file"])
        elif doc["kind"] == "rules":
            loaded[f"rules:{doc['code']}"] = rules_sync(content, doc["file"])
        elif doc["kind"] == "ledger":
            extra_columns, items = content
            ledger, _ = Ledger.objects.update_or_create(
                code=doc["code"], defaults={**common, "extra_columns": extra_columns, "is_reference": True}
            )
            ledger.full_clean()
            _sync_rows({"ledger": ledger}, LedgerItem, items)
            loaded[f"ledger:{doc['code']}"] = len(items)
        else:
            indicator_set, _ = IndicatorSet.objects.update_or_create(code=doc["code"], defaults=common)
            indicator_set.full_clean()
            _sync_rows({"indicator_set": indicator_set}, Indicator, content)
            loaded[f"indicators:{doc['code']}"] = len(content)
    return loaded
