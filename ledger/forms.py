"""Forms of the ledger pages. They check what a form can check (types, choices in scope, a taken
number); the services decide everything else, and their messages land at the fields here."""

import re
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from django import forms
from django.utils import timezone

from indicators.evidence import EVIDENCE_KINDS

from .due import DueParseError, parse_due
from .models import AssignmentStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EVIDENCE_ACCEPT = ",".join(f".{ext}" for kind in EVIDENCE_KINDS.values() for ext in kind.extensions)


def add_service_errors(form, exc):
    """Put a service's ValidationError on the form: at the field it names when the form has one, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class AdaptForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    name = forms.CharField(label="台账名称", max_length=200, required=False, help_text="留空则按“××省××年…工作任务台账”命名。")
    years = forms.IntegerField(
        label="完成时间平移年数",
        min_value=-50,
        max_value=50,
        help_text="每项完成时间中的年份一并加上这个年数（如 1：“2021年4月底前”改为“2022年4月底前”）；也可在下表逐项改写。",
    )
    # The year and shift the preview below was computed with: a confirm with others shows it again.
    shown = forms.CharField(required=False, widget=forms.HiddenInput)

    @property
    def basis(self):
        return f"{self.cleaned_data['year']}/{self.cleaned_data['years']}"


YEAR_IN_TEXT = re.compile(r"(\d{4})(\s*年)")


def shifted(text, years):
    """A 完成时间 moved by whole years: each “2021年” in it becomes “2022年” (``years`` 1). A text
    without a year (“6月底前”) reads the ledger's own year; “持续推进” stays as it is."""
    return YEAR_IN_TEXT.sub(lambda m: f"{int(m[1]) + years}{m[2]}", text)


@dataclass
class AdaptRow:
    """One item of an adaptation's preview: its deadline in the source, and in the new ledger."""

    item: object
    text: str
    due: object = None  # ledger.due.Due of ``text`` in the new ledger's year
    error: str = ""
    past: bool = False  # due before ``today``: a deadline the new ledger would start with already missed


def adapt_preview(items, *, year, years, today, sent=None):
    """The new ledger's deadlines, one row per source item: what ``sent`` (the confirmed form) says
    for it as ``due_<number>``, else its text shifted by ``years``; each read as the new ledger will."""
    rows = []
    for item in items:
        text = (sent or {}).get(f"due_{item.number}")
        row = AdaptRow(item, (shifted(item.due_text, years) if text is None else text).strip())
        try:
            row.due = parse_due(row.text, year=year)
            row.past = row.due.date is not None and row.due.date < today
        except DueParseError as exc:
            row.error = f"第 {item.number} 项：{exc}"
        rows.append(row)
    return rows


class ItemForm(forms.Form):
    number = forms.IntegerField(label="序号", min_value=1, max_value=32767)
    category = forms.CharField(label="分类", max_length=100, required=False)
    task = forms.CharField(label="工作目标任务", widget=forms.Textarea(attrs={"rows": 4}))
    responsible_units = forms.CharField(label="责任单位", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_text = forms.CharField(
        label="完成时间",
        max_length=300,
        help_text="按文件原文填写，如“2021年4月底前”“2021年5月15日前”“2021年5月中旬前”“持续推进”。",
    )
    indicators = forms.TypedMultipleChoiceField(
        label="衡量指标",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, ledger, item=None, taken, indicators, **kwargs):
        """``taken``: the ledger's item numbers; ``indicators``: those that may be linked, in set order."""
        if item is not None:
            kwargs["initial"] = {
                "number": item.number,
                "category": item.category,
                "task": item.task,
                "responsible_units": item.responsible_units,
                "due_text": item.due_text,
                "indicators": [i.pk for i in item.indicators.all()],
                **{f"extra_{i}": item.extra.get(column, "") for i, column in enumerate(ledger.extra_columns)},
            }
        super().__init__(*args, **kwargs)
        self.ledger, self.taken = ledger, set(taken) - ({item.number} if item else set())
        # Extra columns (e.g. 年度重点举措) are the ledger's own, so they are fields of this form only.
        for i, column in enumerate(ledger.extra_columns):
            self.fields[f"extra_{i}"] = forms.CharField(label=column, required=False, widget=forms.Textarea(attrs={"rows": 2}))
        self.fields["indicators"].choices = [
            (name, [(i.pk, f"{i.label}. {i.content}") for i in group])
            for name, group in groupby(indicators, key=lambda i: i.indicator_set.name)
        ]

    def clean_number(self):
        # The service changes the item of a number it is given without one (imports rely on that):
        # a new item, or a renumbered one, must not take a number in use.
        number = self.cleaned_data["number"]
        if number in self.taken:
            raise forms.ValidationError(f"序号 {number} 已有事项，请换一个序号。")
        return number

    def extra(self):
        return {
            column: value
            for i, column in enumerate(self.ledger.extra_columns)
            if (value := self.cleaned_data.get(f"extra_{i}", "").strip())
        }


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, region):
        return f"{region.parent.name} · {region.name}" if region.level == "county" else region.name


class AssignmentForm(forms.Form):
    region = RegionChoiceField(label="责任区域", queryset=None, empty_label="请选择")
    responsible_unit = forms.CharField(label="责任单位", max_length=200)
    lead = forms.BooleanField(label="牵头", required=False)
    contact = forms.CharField(label="联系人", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    milestone = forms.DateField(
        label="节点时间", required=False, widget=DATE, help_text="默认为事项的完成期限，期限已过的为本半年末；持续推进的事项可留空。"
    )

    def __init__(self, *args, regions, milestone, **kwargs):
        super().__init__(*args, initial={"milestone": milestone_default(milestone, timezone.localdate())}, **kwargs)
        self.fields["region"].queryset = regions


def milestone_default(due, today):
    """The milestone first offered for a deadline ``due``: the deadline while it is ahead, else the
    end of the current half-year, never a date already past; none for an ongoing item."""
    if due is None or due >= today:
        return due
    return date(today.year, 6, 30) if today.month <= 6 else date(today.year, 12, 31)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); an empty input is an empty list."""

    widget = MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT})

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [single(f, initial) for f in files]


REPORTABLE = [(value, label) for value, label in AssignmentStatus.choices if value != AssignmentStatus.OVERDUE]


class ReportForm(forms.Form):
    # The page writes the assignment's current version itself (see assignment.html), so a form
    # refused as stale comes back carrying the version of the history shown next to it.
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label="状态", choices=REPORTABLE)
    note = forms.CharField(label="进展情况", widget=forms.Textarea(attrs={"rows": 4}), help_text="做了什么、达到什么程度。")
    progress_on = forms.DateField(label="进展日期", required=False, widget=DATE)
    evidence = MultipleFileField(label="佐证材料", required=False, help_text="可多选；PDF、OFD、图片或 Office 文档，每个不超过 20 MB。")

    def __init__(self, *args, assignment, **kwargs):
        # A 逾期 assignment is being worked on: offer 推进中 rather than a status one cannot report.
        status = AssignmentStatus.IN_PROGRESS if assignment.status == AssignmentStatus.OVERDUE else assignment.status
        super().__init__(*args, initial={"status": status, "progress_on": timezone.localdate()}, **kwargs)


class ReviewForm(forms.Form):
    note = forms.CharField(label="审阅意见 / 退回原因", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class PressForm(forms.Form):
    note = forms.CharField(label="督办意见", max_length=500)


class BoardFilterForm(forms.Form):
    category = forms.ChoiceField(label="分类", required=False)
    unit = forms.CharField(label="责任单位", required=False, max_length=100)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *AssignmentStatus.choices])
    before = forms.DateField(label="期限不晚于", required=False, widget=DATE)

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "全部"), *((c, c) for c in categories)]

    def criteria(self):
        """The filters typed that are valid (a bad one is shown at its field and left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
