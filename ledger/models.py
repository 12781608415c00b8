from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.scoping import RestrictedQuerySet
from utilities.models import RegionalDocument

from .due import DueParseError, parse_due


class Ledger(RegionalDocument):
    """A task ledger: the national one, a province's adaptation, a city's or a company's."""

    extra_columns = models.JSONField(
        "附加列", default=list, blank=True, help_text="文件自带的附加列名，如“年度重点举措”。"
    )

    class Meta(RegionalDocument.Meta):
        verbose_name = "任务台账"
        verbose_name_plural = "任务台账"

    def clean(self):
        if not isinstance(self.extra_columns, list) or not all(
            isinstance(c, str) and c.strip() for c in self.extra_columns
        ):
            raise ValidationError({"extra_columns": "附加列必须是非空列名的列表。"})


class LedgerItem(models.Model):
    """One row of a ledger; 完成时间 kept as written, with its parsed due date or “ongoing”."""

    ledger = models.ForeignKey(Ledger, verbose_name="台账", on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField("序号")
    category = models.CharField("分类", max_length=100, blank=True)
    task = models.TextField("工作目标任务")
    responsible_units = models.TextField("责任单位", blank=True)
    due_text = models.CharField("完成时间（原文）", max_length=300)
    due_date = models.DateField(
        "完成期限", null=True, blank=True, help_text="由完成时间原文解析；原文没有日期时才需手工填写。"
    )
    ongoing = models.BooleanField("持续推进", default=False)
    extra = models.JSONField("附加列内容", default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "ledger__region"
    visible_from_below = True

    class Meta:
        verbose_name = "台账事项"
        verbose_name_plural = "台账事项"
        ordering = ["ledger", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ledger", "number"], name="ledger_item_number_unique"),
            models.CheckConstraint(
                condition=Q(ongoing=True, due_date__isnull=True) | Q(ongoing=False, due_date__isnull=False),
                name="ledger_item_due_xor_ongoing",
            ),
        ]

    def __str__(self):
        return f"{self.number}. {self.task[:40]}"

    @property
    def extra_values(self):
        return [self.extra.get(column, "") for column in self.ledger.extra_columns]

    @property
    def due_display(self):
        return "持续推进" if self.ongoing else self.due_date.isoformat()

    def clean(self):
        # The parsed text wins; an explicit due date or “ongoing” stands only where the text
        # names neither (e.g. “按市政府相关文件要求执行”).
        try:
            due = parse_due(self.due_text, year=self.ledger.year if self.ledger_id else None)
        except DueParseError as exc:
            if self.due_date is None and not self.ongoing:
                raise ValidationError({"due_text": str(exc)}) from exc
        else:
            self.due_date, self.ongoing = due.date, due.ongoing
        unknown = set(self.extra) - set(self.ledger.extra_columns) if self.ledger_id else set()
        if unknown:
            raise ValidationError({"extra": f"台账没有这些附加列：{'、'.join(sorted(unknown))}。"})
