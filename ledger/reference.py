"""Loading the seed documents' ledgers, indicator sets, their links and application rules, and the
programs that run them (``manage.py load_reference``): parsed and checked first, then stored all
or nothing."""

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Region
from indicators.applications import rules_parse, rules_sync
from indicators.mapping import mapping_parse, mapping_sync
from indicators.models import Channel, Indicator, IndicatorLevel, IndicatorSet, Program, ProgramTable
from indicators.periods import parse_period
from indicators.programs import program_create
from indicators.services import period_open
from utilities.csvdata import DataError, DataFileError, read_rows
from utilities.excel import ZIP_MAGIC, ImportFileError, open_workbook, plain_text, read_bytes

from .due import DueParseError, parse_due
from .models import Ledger, LedgerItem

MANIFEST = "documents.csv"
MANIFEST_COLUMNS = ("kind", "code", "name", "document", "region_code", "year", "file")
LEDGER_COLUMNS = ("number", "category", "task", "responsible_units", "due_text", "due")
INDICATOR_COLUMNS = ("number", "label", "group", "level", "encouraging", "content", "standard")
PROGRAMS = "programs.csv"
PROGRAM_COLUMNS = ("code", "name", "document", "indicator_set", "ledgers", "region_codes", "tables", "order")


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


def _repeated(seen, value, line, errors, where, field, what):
    """Whether ``value`` was seen on an earlier line; if so the error names both lines."""
    first = seen.setdefault(value, line)
    if first != line:
        errors.append(DataError(*where, field, f"{what}与第 {first} 行重复。"))
    return first != line


def _parse_ledger(path, year, errors):
    header, rows = read_rows(path, LEDGER_COLUMNS)
    name = path.name
    extra_columns = header[len(LEDGER_COLUMNS) :]
    if header[: len(LEDGER_COLUMNS)] != list(LEDGER_COLUMNS):
        errors.append(DataError(name, 1, None, f"表头前六列应为 {','.join(LEDGER_COLUMNS)}。"))
    items, seen = [], {}
    for line, row in rows:
        where = (name, line)
        number = _int(row["number"], errors, where, "number")
        if number is not None:
            _repeated(seen, number, line, errors, where, "number", f"序号 {number} ")
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
    indicators, seen, groups = [], {}, {}
    for line, row in rows:
        where = (name, line)
        number = _int(row["number"], errors, where, "number")
        if number is not None:
            _repeated(seen, number, line, errors, where, "number", f"序号 {number} ")
        if row["level"] not in IndicatorLevel.values:
            errors.append(DataError(*where, "level", f"“{row['level']}”不是 province/county 之一。"))
        if row["encouraging"] not in ("0", "1"):
            errors.append(DataError(*where, "encouraging", f"“{row['encouraging']}”应为 0 或 1。"))
        elif row["encouraging"] == "1" and row["level"] == IndicatorLevel.COUNTY:
            errors.append(DataError(*where, "encouraging", "鼓励性指标只能是省级（province）指标。"))
        for field in ("label", "group", "content"):
            if not row[field]:
                errors.append(DataError(*where, field, "不能为空。"))
        # A group heads one run of columns in the completion table: its indicators come together.
        if row["group"] and row["group"] in groups and indicators[-1][1]["group"] != row["group"]:
            errors.append(
                DataError(
                    *where, "group", f"指标组“{row['group']}”从第 {groups[row['group']]} 行起已列过，中间隔有其他组：同组指标须相邻。"
                )
            )
        groups.setdefault(row["group"], line)
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


def _parse_programs(path, documents, errors):
    """The programs (``programs.csv``): each names sets and ledgers of the manifest (or already
    stored), regions that exist and tables the portal knows."""
    _header, rows = read_rows(path, PROGRAM_COLUMNS)
    name = path.name
    sets = {d["code"] for _, d in documents if d["kind"] == "indicators"} | set(IndicatorSet.objects.values_list("code", flat=True))
    ledgers = {d["code"] for _, d in documents if d["kind"] == "ledger"} | set(Ledger.objects.values_list("code", flat=True))
    codes = {code for _, row in rows for code in row["region_codes"].split()}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    programs, seen_codes, seen_ledgers = [], set(), {}
    for line, row in rows:
        where = (name, line)
        if not row["code"] or not row["name"]:
            errors.append(DataError(*where, "code" if not row["code"] else "name", "不能为空。"))
            continue
        if row["code"] in seen_codes:
            errors.append(DataError(*where, "code", f"方案代码 {row['code']} 重复。"))
        seen_codes.add(row["code"])
        if row["indicator_set"] and row["indicator_set"] not in sets:
            errors.append(DataError(*where, "indicator_set", f"指标体系 {row['indicator_set']} 不存在：须先在 {MANIFEST} 中列出。"))
        for ledger in row["ledgers"].split():
            if ledger not in ledgers:
                errors.append(DataError(*where, "ledgers", f"台账 {ledger} 不存在：须先在 {MANIFEST} 中列出。"))
            elif ledger in seen_ledgers:
                errors.append(DataError(*where, "ledgers", f"台账 {ledger} 已属于方案 {seen_ledgers[ledger]}：一个台账只属于一个方案。"))
            seen_ledgers.setdefault(ledger, row["code"])
        unknown = [c for c in row["region_codes"].split() if c not in regions]
        if unknown:
            errors.append(DataError(*where, "region_codes", f"区域 {'、'.join(unknown)} 不存在，请先导入行政区域。"))
        tables = row["tables"].split()
        wrong = [t for t in tables if t not in ProgramTable.values]
        if wrong:
            errors.append(DataError(*where, "tables", f"“{'、'.join(wrong)}”不是 {'、'.join(ProgramTable.values)} 之一。"))
        elif ProgramTable.COMPLETION in tables and not row["indicator_set"]:
            errors.append(DataError(*where, "tables", "没有指标体系的方案不能编制完成情况表（completion）。"))
        try:
            order = int(row["order"] or 0)
        except ValueError:
            errors.append(DataError(*where, "order", f"“{row['order']}”不是整数。"))
            order = 0
        programs.append(
            dict(
                code=row["code"],
                fields=dict(name=row["name"], document=row["document"], tables=tables, order=order),
                indicator_set=row["indicator_set"],
                ledgers=row["ledgers"].split(),
                regions=[regions[c] for c in row["region_codes"].split() if c in regions],
            )
        )
    return programs


def _sync_programs(programs):
    """Store the programs and link their ledgers; a program no longer in the file is left alone
    (its periods keep it)."""
    for spec in programs:
        indicator_set = IndicatorSet.objects.get(code=spec["indicator_set"]) if spec["indicator_set"] else None
        program, _ = Program.objects.update_or_create(code=spec["code"], defaults={**spec["fields"], "indicator_set": indicator_set})
        program.full_clean()
        program.regions.set(spec["regions"])
        Ledger.objects.filter(program=program).exclude(code__in=spec["ledgers"]).update(program=None)
        Ledger.objects.filter(code__in=spec["ledgers"]).update(program=program)
    return len(programs)


def _parse_reference(directory):
    directory = Path(directory)
    _header, documents = read_rows(directory / MANIFEST, MANIFEST_COLUMNS)
    errors, parsed = [], []
    regions = {r.code: r for r in Region.objects.filter(code__in=[d["region_code"] for _, d in documents if d["region_code"]])}
    for line, doc in documents:
        where = (MANIFEST, line)
        if doc["kind"] not in ("ledger", "indicators", "links", "rules", "mapping"):
            errors.append(DataError(*where, "kind", f"“{doc['kind']}”应为 ledger、indicators、links、rules 或 mapping。"))
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
            elif doc["kind"] == "mapping":
                content = mapping_parse(directory / doc["file"], errors)
            else:
                content = _parse_links(directory / doc["file"], errors)
        except DataFileError as exc:
            errors.extend(exc.errors)
            continue
        parsed.append((doc, region, year, content))
    programs = []
    if (directory / PROGRAMS).is_file():  # optional: a directory of documents only loads no programs
        try:
            programs = _parse_programs(directory / PROGRAMS, documents, errors)
        except DataFileError as exc:
            errors.extend(exc.errors)
    if errors:
        raise DataFileError(errors)
    return parsed, programs


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
    parsed, programs = _parse_reference(directory)
    for doc, region, year, content in parsed:
        common = dict(name=doc["name"], document=doc["document"], region=region, year=year)
        if doc["kind"] == "links":
            loaded[f"links:{doc['code']}"] = _link_items(doc["code"], content, doc["file"])
        elif doc["kind"] == "rules":
            continue  # after the programs, whose rules they are
        elif doc["kind"] == "mapping":
            loaded[f"mapping:{doc['code']}"] = mapping_sync(content, doc["file"])
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
    if programs:
        loaded["programs"] = _sync_programs(programs)
    for doc, _region, _year, content in parsed:
        if doc["kind"] == "rules":
            loaded[f"rules:{doc['code']}"] = rules_sync(content, doc["file"])
    return loaded


# --- a new document through the portal (issue 13 §5) ------------------------------------------

DOCUMENT_KINDS = {"indicators": "指标体系", "ledger": "任务台账"}
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # a document's table is tens of KB
MAX_DOCUMENT_UNCOMPRESSED = 32 * 1024 * 1024
FORM = "表单"  # where an error of the form's fields (code, name, year, program) is located


@dataclass(frozen=True)
class DocumentPreview:
    """What an uploaded document would store: its kind, the unsaved set or ledger, the parsed rows
    (``(number, fields)``, a ledger's extra columns) and whether it would run as a program."""

    kind: str
    document: object
    rows: list
    extra_columns: list
    program_code: str
    period_code: str


def _filled(row):
    """The width of ``row`` up to its last non-empty cell."""
    return max((i + 1 for i, value in enumerate(row) if value), default=0)


def _as_csv(upload, directory):
    """The upload (.xlsx: its first sheet; or UTF-8 CSV) as a CSV file under ``directory``, named
    as uploaded and one line per row, so the reference parsers read it and their errors name the
    file and row the user sees."""
    try:
        name, data = read_bytes(upload, MAX_DOCUMENT_BYTES, document="指标体系或台账文件")
        if data.startswith(ZIP_MAGIC) or name.lower().endswith(".xlsx"):
            workbook = open_workbook(name, data, document="指标体系或台账文件", max_uncompressed=MAX_DOCUMENT_UNCOMPRESSED)
            rows = [[plain_text(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
            while rows and not any(rows[-1]):
                rows.pop()
            # The header's width; a row with cells beyond it keeps them, for the reader to refuse.
            width = _filled(rows[0]) if rows else 0
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows([(r + [""] * width)[: max(width, _filled(r))] for r in rows])
            data = buffer.getvalue().encode("utf-8")
    except ImportFileError as exc:
        raise DataFileError([DataError(getattr(upload, "name", "") or "上传文件", None, None, m) for m in exc.errors]) from exc
    path = Path(directory) / (Path(name).name or "upload.csv")
    path.write_bytes(data)
    return path


def document_preview(*, user, kind, upload, code, name, document, year, region=None, run=False, period_code=""):
    """What loading the uploaded document would store (DocumentPreview), or DataFileError listing
    every problem located by file, row and field (DataError); nothing is stored."""
    if kind not in DOCUMENT_KINDS:
        raise DataFileError([DataError(FORM, None, "kind", f"“{kind}”应为 {'、'.join(DOCUMENT_KINDS)} 之一。")])
    model = IndicatorSet if kind == "indicators" else Ledger
    doc = model(code=code, name=name, document=document, region=region, year=year or 0)
    if kind == "ledger":
        doc.is_reference = True
    if not user.has_perm("indicators.load_documents", doc):
        raise PermissionDenied(f"{user.get_role_display()}不能为{region.name if region else '全国'}导入{DOCUMENT_KINDS[kind]}。")
    errors = []
    try:
        doc.full_clean(exclude=["extra_columns"])
    except ValidationError as exc:
        errors += [DataError(FORM, None, field, "；".join(messages)) for field, messages in exc.message_dict.items()]
    if run and Program.objects.filter(code=code).exists():
        errors.append(DataError(FORM, None, "code", f"方案代码 {code} 已存在：请换一个代码。"))
    if period_code and not (run and kind == "indicators"):
        errors.append(DataError(FORM, None, "period", "只有作为方案运行的指标体系才能开放报告期。"))
    if period_code:
        try:
            parse_period(period_code)
        except ValueError as exc:
            errors.append(DataError(FORM, None, "period", str(exc)))
    with tempfile.TemporaryDirectory() as directory:
        try:
            path = _as_csv(upload, directory)
            if kind == "indicators":
                rows, extra = _parse_indicators(path, errors), []
            else:
                extra, rows = _parse_ledger(path, year or 0, errors)
        except DataFileError as exc:
            errors += exc.errors
            rows, extra = [], []
    if not rows and not errors:
        errors.append(DataError(getattr(upload, "name", ""), None, None, "文件中没有任何指标或事项。"))
    if errors:
        raise DataFileError(errors)
    return DocumentPreview(kind, doc, rows, extra, code if run else "", period_code)


@transaction.atomic
def document_load(*, user, kind, upload, code, name, document, year, region=None, run=False, period_code=""):
    """Load a new indicator set or ledger (next year's document) from an uploaded .xlsx or CSV in
    the ``fixtures/reference/FORMAT.md`` layout, read by the same parsers as ``load_reference``;
    with ``run``, a program of the same code runs it for ``region`` (none: the whole country), and
    with ``period_code`` its first period is opened. All or nothing: every problem is reported
    (DataFileError) and nothing is stored. Returns the DocumentPreview of what was stored."""
    preview = document_preview(
        user=user,
        kind=kind,
        upload=upload,
        code=code,
        name=name,
        document=document,
        year=year,
        region=region,
        run=run,
        period_code=period_code,
    )
    doc = preview.document
    if kind == "ledger":
        doc.extra_columns = preview.extra_columns
    doc.save()
    _sync_rows(
        {"indicator_set" if kind == "indicators" else "ledger": doc}, Indicator if kind == "indicators" else LedgerItem, preview.rows
    )
    if run:
        program = program_create(
            code=code, name=name, document=document, indicator_set=doc if kind == "indicators" else None, region=region
        )
        if kind == "ledger":
            Ledger.objects.filter(pk=doc.pk).update(program=program)
        if period_code:
            period_open(code=period_code, program=program, channel=Channel.WEB, user=user)
    return preview
