"""django-import-export resources of a ledger's items and of its assignments' progress (issue 5 §6).

Both are built for one ledger and one user. What they export is read through ``restrict``. What they
import is never saved by the resource: ``save_instance`` hands each changed row to the service —
``ledger_item_save`` for an item, ``progress_report`` with channel “import” for an assignment — which
checks the user's right and validates exactly as the pages' forms do; unchanged rows are skipped.

``import_workbook`` is the one way in, for the pages and the command alike. It runs every row with
django-import-export's ``use_transactions`` (a savepoint per row, so each row's error is collected
and the rows after it still checked) inside one outer transaction of its own, which is rolled back
for a dry run, when any row fails, or when the preview being confirmed is no longer what the file
would do. The preview is therefore the import itself, rolled back: permission errors show in it.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import resources, widgets
from import_export.fields import Field

from accounts.models import Region
from accounts.scoping import Action
from utilities.excel import compact, plain_text

from .excel import ITEMS, PROGRESS, read_sheet, write_workbook
from .models import Assignment, AssignmentStatus, LedgerItem
from .services import ledger_item_save, progress_report

KINDS = {"new": "新增", "update": "修改", "skip": "未变", "error": "错误"}
DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


# --- cells ↔ values -----------------------------------------------------------------------------


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return plain_text(value)


class DueTextWidget(TextWidget):
    """完成时间 as written; a date cell (Excel turns a typed “2021年4月30日” into one) reads back as text."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, date):
            return f"{value.year}年{value.month}月{value.day}日"
        return super().clean(value, row, **kwargs)


class SerialWidget(widgets.IntegerWidget):
    def __init__(self):
        super().__init__(coerce_to_string=False)  # a number in the sheet, as the documents print it

    def clean(self, value, row=None, **kwargs):
        text = plain_text(value)
        if not text:
            raise ValueError("序号为空。")
        if not text.isdigit() or int(text) == 0:
            raise ValueError(f"“{text}”不是正整数。")
        return int(text)


class StatusWidget(widgets.Widget):
    """状态 by its label; 逾期 is read (an unchanged row keeps it) but only the system sets it."""

    by_label = {label: value for value, label in AssignmentStatus.choices}
    reportable = "、".join(label for value, label in AssignmentStatus.choices if value != AssignmentStatus.OVERDUE)

    def clean(self, value, row=None, **kwargs):
        text = compact(value)
        if text not in self.by_label:
            raise ValueError(f"“{text}”不是有效的状态：应为{self.reportable}之一。" if text else f"状态为空：应为{self.reportable}之一。")
        return self.by_label[text]

    def render(self, value, obj=None, **kwargs):
        return AssignmentStatus(value).label


class DayWidget(widgets.Widget):
    """A date cell, or a date typed as text; written as a real date."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = compact(value)
        if not text:
            return None
        for pattern in DAY_FORMATS:
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise ValueError(f"“{text}”不是日期：应写作“2024-05-31”或“2024年5月31日”。")

    def render(self, value, obj=None, **kwargs):
        return value


class LeadWidget(widgets.Widget):
    def render(self, value, obj=None, **kwargs):
        return "是" if value else ""


class ExtraField(Field):
    """An extra column of the ledger (年度重点举措, 具体举措…), kept in ``LedgerItem.extra`` under its name."""

    def __init__(self, column):
        super().__init__(attribute="extra", column_name=column, widget=TextWidget())

    def get_value(self, instance):
        return instance.extra.get(self.column_name, "")

    def save(self, instance, row, is_m2m=False, **kwargs):
        values = {**instance.extra, self.column_name: self.clean(row, **kwargs)}
        instance.extra = {column: value for column, value in values.items() if value}


# --- the preview --------------------------------------------------------------------------------


@dataclass
class RowPreview:
    row: int  # the sheet row
    key: str  # “第 12 项”, “第 12 项 成都市 市经信局”
    kind: str  # a key of KINDS
    changes: list = field(default_factory=list)  # [(column, before, after)]
    errors: list = field(default_factory=list)  # located messages

    @property
    def kind_label(self):
        return KINDS[self.kind]


@dataclass
class ImportPreview:
    ledger: object
    document: str
    file_name: str
    rows: list
    errors: list = field(default_factory=list)  # every row's and the file's, in order
    applied: bool = False
    stale: bool = False  # confirming: the file would now do something else than the preview said

    def of_kind(self, kind):
        return [r for r in self.rows if r.kind == kind]

    @property
    def new(self):
        return self.of_kind("new")

    @property
    def changed(self):
        return self.of_kind("update")

    @property
    def unchanged(self):
        return self.of_kind("skip")

    @property
    def digest(self):
        """What the import would write, from what state: the confirm step must see the same."""
        data = [self.ledger.code, self.document, [[r.row, r.kind, r.changes, r.errors] for r in self.rows], self.errors]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str).encode()).hexdigest()


def preview_lines(preview):
    """The preview as text, for the command."""
    lines = [
        f"{preview.ledger.name}：{preview.document}导入预览（{preview.file_name}）",
        f"共 {len(preview.rows)} 行：新增 {len(preview.new)}，修改 {len(preview.changed)}，未变 {len(preview.unchanged)}，"
        f"错误 {len(preview.errors)} 处。",
    ]
    for row in preview.rows:
        if row.kind in ("new", "update"):
            lines.append(f"第 {row.row} 行 {row.key}：{row.kind_label}")
            lines += [f"  {column}：{before or '（空）'} → {after or '（空）'}" for column, before, after in row.changes]
    return lines + preview.errors


# --- the resources ------------------------------------------------------------------------------


class _LedgerResource(resources.ModelResource):
    layout = None
    optional = ()  # columns a file may leave out: those fields are then not imported
    key_columns = ()  # the columns that identify a row: a second row with the same key is refused
    label_columns = ()  # the columns that name a row in the preview
    row_noun = ""
    aliases = {}  # service error keys that are not a field's attribute → the column they concern

    class Meta:
        skip_unchanged = True  # an unchanged row never reaches the service
        report_skipped = True  # one row result per sheet row, in order: the preview pairs them up
        store_instance = True  # the preview compares it with the original
        skip_html_diff = True  # the preview lists the changes itself, column by column

    def __init__(self, *, ledger, user, today=None):
        super().__init__()
        self.ledger, self.user = ledger, user
        self.today = today or timezone.localdate()
        self.sheet_rows = []  # dataset row i (from 1) came from sheet row sheet_rows[i - 1]
        self.seen = {}

    def headers(self):
        return [f.column_name for f in self.get_export_fields()]

    # exporting

    def workbook(self):
        dataset = self.export()
        return write_workbook(self.layout, title=self.title(), subtitle=self.subtitle(len(dataset)), dataset=dataset)

    # importing

    def read(self, file):
        """The uploaded sheet, checked against this ledger's columns; fields of left-out columns dropped."""
        sheet = read_sheet(file, self.layout, headers=self.headers(), optional=self.optional, title=self.title())
        for name in [n for n, f in self.fields.items() if f.column_name not in sheet.headers]:
            del self.fields[name]
        self.sheet_rows = [number for number, _ in sheet.rows]
        return sheet

    def before_import_row(self, row, row_number=None, **kwargs):
        key = tuple(compact(row[c]) for c in self.key_columns)
        if key in self.seen:
            first = next(f for f in self.fields.values() if f.column_name == self.key_columns[0])
            raise ValidationError({first.attribute: f"与第 {self.seen[key]} 行重复：同一{self.row_noun}只能有一行。"})
        self.seen[key] = self.sheet_rows[row_number - 1]

    def column_of(self, key):
        by_attribute = {f.attribute: f.column_name for f in self.fields.values() if not isinstance(f, ExtraField)}
        return by_attribute.get(key) or self.aliases.get(key)

    def preview(self, sheet, result):
        rows = []
        for (number, values), row_result in zip(sheet.rows, result.rows):
            errors = self.row_errors(sheet, number, row_result)
            kind = "error" if errors else row_result.import_type
            instance = row_result.instance
            changes = [] if errors or instance is None else self.changes(row_result.original, instance)
            rows.append(RowPreview(number, self.row_key(dict(zip(sheet.headers, values))), kind, changes, errors))
        errors = [message for r in rows for message in r.errors]
        errors += [f"导入失败：{e.error}" for e in result.base_errors]
        return ImportPreview(ledger=self.ledger, document=self.layout.document, file_name=sheet.file_name, rows=rows, errors=errors)

    def row_key(self, values):
        number, *rest = (plain_text(values.get(c)) for c in self.label_columns)
        return " ".join([f"第 {number} 项", *rest])

    def changes(self, original, instance):
        """[(column, before, after)] of the imported columns; a new row's filled ones."""
        return [
            (f.column_name, before, after)
            for f in self.get_import_fields()
            if not f.readonly
            for before, after in [(self._shown(f, original), self._shown(f, instance))]
            if before != after
        ]

    def _shown(self, resource_field, instance):
        return "" if instance is None else plain_text(self.export_field(resource_field, instance))

    def row_errors(self, sheet, number, row_result):
        """Every problem of one row, as “第 N 行 X 列（列名）：…”, or “第 N 行：…” when no column is to blame."""
        found = []
        if row_result.validation_error is not None:
            error = row_result.validation_error
            by_key = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
            for key, messages in by_key.items():
                column = self.column_of(key)
                where = f"第 {number} 行 {sheet.column_of(column)} 列（{column}）" if column in sheet.headers else f"第 {number} 行"
                found += [f"{where}：{message}" for message in messages]
        for error in row_result.errors:
            reason = error.error
            message = str(reason) if isinstance(reason, PermissionDenied) else f"保存失败（{type(reason).__name__}：{reason}）"
            found.append(f"第 {number} 行：{message}")
        return found


class LedgerItemResource(_LedgerResource):
    """序号, 分类, 工作目标任务, 责任单位, 完成时间 and the ledger's extra columns, in the documents' order."""

    layout = ITEMS
    optional = ("分类",)  # documents without categories (Sichuan's) print without the column
    key_columns = label_columns = ("序号",)
    row_noun = "序号"

    number = Field("number", "序号", widget=SerialWidget())
    category = Field("category", "分类", widget=TextWidget())
    task = Field("task", "工作目标任务", widget=TextWidget())
    responsible_units = Field("responsible_units", "责任单位", widget=TextWidget())
    due_text = Field("due_text", "完成时间", widget=DueTextWidget())

    class Meta:
        model = LedgerItem
        fields = ("number", "category", "task", "responsible_units", "due_text")
        import_id_fields = ("number",)

    def __init__(self, *, ledger, user, today=None):
        super().__init__(ledger=ledger, user=user, today=today)
        for column in ledger.extra_columns:
            self.fields[f"extra:{column}"] = ExtraField(column)

    def title(self):
        return self.ledger.name

    def subtitle(self, count):
        where = self.ledger.region.name if self.ledger.region else "全国"
        return f"{self.ledger.document}（{where}，{self.ledger.year} 年，共 {count} 项）".lstrip()

    def get_queryset(self):
        return LedgerItem.objects.restrict(self.user, Action.VIEW).filter(ledger=self.ledger).order_by("number")

    def export(self, queryset=None, **kwargs):
        if not self.get_queryset().exclude(category="").exists():
            del self.fields["category"]
        return super().export(queryset, **kwargs)

    def init_instance(self, row=None):
        return LedgerItem(ledger=self.ledger)

    def get_instance(self, instance_loader, row):
        number = _clean_or_invalid(self.fields["number"], row)
        return self.get_queryset().filter(number=number).first()

    def save_instance(self, instance, is_create, row, **kwargs):
        ledger_item_save(
            user=self.user,
            ledger=self.ledger,
            number=instance.number,
            category=instance.category,
            task=instance.task,
            responsible_units=instance.responsible_units,
            due_text=instance.due_text,
            extra=instance.extra,
            channel="import",
        )


class AssignmentProgressResource(_LedgerResource):
    """Each assignment of the ledger with its progress; only 状态, 进展情况 and 进展日期 are imported."""

    layout = PROGRESS
    key_columns = ("序号", "责任区域代码", "责任单位")
    label_columns = ("序号", "责任区域", "责任单位")
    row_noun = "分解（序号、区域、责任单位）"
    aliases = {"note": "进展情况"}  # progress_report's name for the text

    number = Field("item__number", "序号", widget=SerialWidget(), readonly=True)
    task = Field("item__task", "工作目标任务", widget=TextWidget(), readonly=True)
    region_code = Field("region__code", "责任区域代码", widget=TextWidget(), readonly=True)
    region_name = Field("region__name", "责任区域", widget=TextWidget(), readonly=True)
    responsible_unit = Field("responsible_unit", "责任单位", widget=TextWidget(), readonly=True)
    lead = Field("lead", "牵头", widget=LeadWidget(), readonly=True)
    contact = Field("contact", "联系人", widget=TextWidget(), readonly=True)
    phone = Field("phone", "联系电话", widget=TextWidget(), readonly=True)
    milestone = Field("milestone", "节点时间", widget=DayWidget(), readonly=True)
    status = Field("status", "状态", widget=StatusWidget())
    progress = Field("progress", "进展情况", widget=TextWidget())
    # a blank date keeps the one reported before (or, for a first report, the service's today)
    progress_on = Field("progress_on", "进展日期", widget=DayWidget(), saves_null_values=False)

    class Meta:
        model = Assignment
        fields = (
            "number",
            "task",
            "region_code",
            "region_name",
            "responsible_unit",
            "lead",
            "contact",
            "phone",
            "milestone",
            "status",
            "progress",
            "progress_on",
        )

    def title(self):
        return f"{self.ledger.name}任务分解及进展情况"

    def subtitle(self, count):
        return f"共 {count} 条分解，导出日期 {self.today:%Y-%m-%d}"

    def get_queryset(self):
        return (
            Assignment.objects.restrict(self.user, Action.VIEW)
            .filter(item__ledger=self.ledger)
            .select_related("item", "region")
            .order_by("item__number", "region__code", "responsible_unit")
        )

    def get_instance(self, instance_loader, row):
        """The assignment the row names; the region is checked first, for a message that says what is wrong."""
        number = _clean_or_invalid(self.fields["number"], row)
        code = plain_text(row["责任区域代码"])
        # Regions are public reference data: looked up to name the problem, not to grant anything.
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ValidationError({"region__code": f"区域代码“{code}”不存在。" if code else "责任区域代码为空。"})
        scope = self.ledger.region
        if scope is not None and not region.path.startswith(scope.path):
            raise ValidationError({"region__code": f"{region.name}（{code}）不在{scope.name}范围内。"})
        unit = plain_text(row["责任单位"])
        assignment = self.get_queryset().filter(item__number=number, region=region, responsible_unit=unit).first()
        if assignment is None:
            raise ValidationError(
                f"台账第 {number} 项没有分解给{region.name}的“{unit}”，或这项分解不在您的管辖范围内："
                "进展表只能更新已有的分解，新的分解请在台账页面添加。"
            )
        return assignment

    def save_instance(self, instance, is_create, row, **kwargs):
        progress_report(
            user=self.user,
            assignment=instance,
            status=instance.status,
            note=instance.progress,
            progress_on=instance.progress_on,
            expected_version=instance.version,
            channel="import",
            today=self.today,
        )


def _clean_or_invalid(resource_field, row):
    try:
        return resource_field.clean(row)
    except ValueError as exc:
        raise ValidationError({resource_field.attribute: str(exc)}) from exc


# --- the entry points ---------------------------------------------------------------------------


def export_workbook(*, ledger, user, progress=False):
    """The ledger's items (or its assignments with their progress) as a printable .xlsx, as ``user`` sees them."""
    resource_class = AssignmentProgressResource if progress else LedgerItemResource
    return resource_class(ledger=ledger, user=user).workbook()


def import_workbook(file, *, ledger, user, progress=False, dry_run=True, expected_digest=None, today=None):
    """Read ``file`` and run its rows through the services, all or nothing; returns the ImportPreview.

    ``dry_run``: everything is checked and rolled back. Otherwise it is applied unless a row fails
    or (with ``expected_digest``) the outcome differs from the preview the user confirmed.
    Raises ImportFileError for a file that cannot be read as this ledger's workbook.
    """
    resource_class = AssignmentProgressResource if progress else LedgerItemResource
    resource = resource_class(ledger=ledger, user=user, today=today)
    sheet = resource.read(file)
    dataset = tablib.Dataset(*[values for _, values in sheet.rows], headers=sheet.headers)
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True)
        preview = resource.preview(sheet, result)
        preview.stale = expected_digest is not None and preview.digest != expected_digest
        preview.applied = not (dry_run or preview.errors or preview.stale)
        if not preview.applied:
            transaction.set_rollback(True)
    return preview
