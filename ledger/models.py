from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.models import OrgUnit, Region, RegionalDocument, RegionLevel
from accounts.scoping import RestrictedQuerySet
from indicators.models import Channel, Indicator
from utilities.models import EvidenceFile

from .due import DueParseError, parse_due


class Ledger(RegionalDocument):
    """A task ledger: the national one, a province's adaptation, a city's or a company's."""

    extra_columns = models.JSONField("附加列", default=list, blank=True, help_text="文件自带的附加列名，如“年度重点举措”。")
    source = models.ForeignKey("self", verbose_name="改编自", null=True, blank=True, on_delete=models.SET_NULL, related_name="adaptations")
    is_reference = models.BooleanField(
        "文件原文", default=False, help_text="按文件原文导入的台账只读；各地据此制定本地台账后再修改、分解。"
    )
    # SET_NULL, not PROTECT: a program only groups documents; the ledger, its assignments and their
    # progress are regions' work that outlives it, and load_reference links them again.
    program = models.ForeignKey(
        "indicators.Program", verbose_name="方案", null=True, blank=True, on_delete=models.SET_NULL, related_name="ledgers"
    )

    class Meta(RegionalDocument.Meta):
        verbose_name = "任务台账"
        verbose_name_plural = "任务台账"

    def clean(self):
        if not isinstance(self.extra_columns, list) or not all(isinstance(c, str) and c.strip() for c in self.extra_columns):
            raise ValidationError({"extra_columns": "附加列必须是非空列名的列表。"})


class LedgerItem(models.Model):
    """One row of a ledger; 完成时间 kept as written, with its parsed due date or “ongoing”."""

    ledger = models.ForeignKey(Ledger, verbose_name="台账", on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField("序号")
    category = models.CharField("分类", max_length=100, blank=True)
    task = models.TextField("工作目标任务")
    responsible_units = models.TextField("责任单位", blank=True)
    due_text = models.CharField("完成时间（原文）", max_length=300)
    due_date = models.DateField("完成期限", null=True, blank=True, help_text="由完成时间原文解析；原文没有日期时才需手工填写。")
    ongoing = models.BooleanField("持续推进", default=False)
    extra = models.JSONField("附加列内容", default=dict, blank=True)
    source_item = models.ForeignKey(
        "self", verbose_name="来源事项", null=True, blank=True, on_delete=models.SET_NULL, related_name="adaptations"
    )
    indicators = models.ManyToManyField(
        Indicator,
        verbose_name="衡量指标",
        blank=True,
        related_name="ledger_items",
        help_text="衡量本事项完成情况的指标。",
    )

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

    def validate_constraints(self, exclude=None):
        # An unreadable due text already says why there is no due date: don't add the constraint's own message.
        if exclude and "due_text" in exclude:
            exclude = {*exclude, "due_date", "ongoing"}
        super().validate_constraints(exclude)

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


class AssignmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "推进中"
    DONE = "done", "已完成"
    OVERDUE = "overdue", "逾期"
    ONGOING = "ongoing", "持续推进"


class Assignment(models.Model):
    """A ledger item's part given to a region below (and its responsible unit), with a milestone.

    A city's assignment can be broken down further: its counties' assignments point to it as parent.
    A company's ledger is given to its units (``org_unit``: 营销部, 巡察办…); such an assignment's
    region is the company's province, so officials read it by region as any other, while the
    company's own users reach it through their company and unit (accounts.scoping).
    """

    item = models.ForeignKey(LedgerItem, verbose_name="台账事项", on_delete=models.CASCADE, related_name="assignments")
    region = models.ForeignKey(Region, verbose_name="责任区域", on_delete=models.PROTECT, related_name="assignments")
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="责任单位（企业部门）", null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    parent = models.ForeignKey("self", verbose_name="上级分解", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    responsible_unit = models.CharField("责任单位", max_length=200)
    lead = models.BooleanField("牵头", default=False)
    contact = models.CharField("联系人", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    milestone = models.DateField("节点时间", null=True, blank=True, help_text="持续推进的事项可留空。")
    status = models.CharField("状态", max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.NOT_STARTED)
    progress = models.TextField("进展情况", blank=True)
    progress_on = models.DateField("进展日期", null=True, blank=True)
    returned_reason = models.CharField("退回意见", max_length=500, blank=True)
    version = models.PositiveIntegerField("版本", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    unit_lookup = "org_unit"
    visible_from_below = False

    class Meta:
        verbose_name = "任务分解"
        verbose_name_plural = "任务分解"
        ordering = ["item__ledger", "item__number", "region__code"]
        constraints = [
            # A region's units are named by text; a company's units by their row, so two companies'
            # 营销部 in one province each get the item once.
            models.UniqueConstraint(
                fields=["item", "region", "responsible_unit"], condition=Q(org_unit__isnull=True), name="assignment_unique"
            ),
            models.UniqueConstraint(
                fields=["item", "org_unit"], name="assignment_unit_unique", violation_error_message="该事项已分给这个单位。"
            ),
        ]
        indexes = [models.Index(fields=["status", "milestone"])]

    def __str__(self):
        return f"{self.item} → {self.region.name} {self.responsible_unit}"

    @property
    def assignee(self):
        """Whom it was given to, as the pages name it: a unit's company (the unit is its responsible
        unit), else its region, a county with its city."""
        if self.org_unit_id:
            return self.org_unit.company.name
        if self.region.level == RegionLevel.COUNTY:
            return f"{self.region.parent.name} {self.region.name}"
        return self.region.name

    def overdue(self, today):
        return (
            self.milestone is not None and self.milestone < today and self.status not in (AssignmentStatus.DONE, AssignmentStatus.ONGOING)
        )

    def clean(self):
        if self.org_unit_id:
            self._clean_unit()
        ledger_region = self.item.ledger.region if self.item_id else None
        if self.region_id and ledger_region and not self.region.path.startswith(ledger_region.path):
            raise ValidationError({"region": f"“{self.region.name}”不在{ledger_region.name}范围内，不能分解到该区域。"})
        if self.parent_id:
            if self.parent.item_id != self.item_id:
                raise ValidationError({"parent": "上级分解必须属于同一台账事项。"})
            below_parent = self.region.path.startswith(self.parent.region.path) and self.region_id != self.parent.region_id
            if self.region_id and not below_parent:
                raise ValidationError({"region": f"只能继续分解到{self.parent.region.name}的下级区域。"})

    def _clean_unit(self):
        company = self.org_unit.company
        if self.region_id and self.region_id != company.province_id:
            raise ValidationError(
                {"org_unit": f"单位“{self.org_unit.name}”属于{company.name}，其任务的责任区域应为{company.province.name}。"}
            )
        if self.parent_id:
            raise ValidationError({"parent": "分给企业单位的任务不再按区域分解。"})


class ProgressKind(models.TextChoices):
    ASSIGN = "assign", "分解"
    REPORT = "report", "报送进展"
    COMMENT = "comment", "审阅意见"
    RETURN = "return", "退回"
    OVERDUE = "overdue", "系统标记逾期"


class ProgressUpdate(models.Model):
    """Every change of an assignment: who, when, how, from which status to which, what was said."""

    assignment = models.ForeignKey(Assignment, verbose_name="任务分解", on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices, default=Channel.WEB)
    kind = models.CharField("类型", max_length=8, choices=ProgressKind.choices)
    status_before = models.CharField("原状态", max_length=12, choices=AssignmentStatus.choices, blank=True)
    status_after = models.CharField("新状态", max_length=12, choices=AssignmentStatus.choices, blank=True)
    note = models.TextField("内容", blank=True)
    progress_on = models.DateField("进展日期", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "assignment__region"
    unit_lookup = "assignment__org_unit"
    visible_from_below = False

    class Meta:
        verbose_name = "进展记录"
        verbose_name_plural = "进展记录"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} {self.get_kind_display()}"


def progress_evidence_path(instance, filename):
    return f"ledger/{instance.update.assignment.item.ledger.code}/{instance.update.assignment_id}/{filename}"


class ProgressEvidence(EvidenceFile):
    update = models.ForeignKey(ProgressUpdate, verbose_name="进展记录", on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=progress_evidence_path, max_length=300)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "update__assignment__region"
    unit_lookup = "update__assignment__org_unit"
    visible_from_below = False

    class Meta:
        verbose_name = "进展佐证"
        verbose_name_plural = "进展佐证"


class Pressing(models.Model):
    """督办: an official presses a region on an overdue or due-soon assignment; kept on record."""

    assignment = models.ForeignKey(Assignment, verbose_name="任务分解", on_delete=models.CASCADE, related_name="pressings")
    at = models.DateTimeField("时间", auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="督办人", on_delete=models.PROTECT, related_name="+")
    note = models.CharField("督办意见", max_length=500)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices, default=Channel.WEB)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "assignment__region"
    unit_lookup = "assignment__org_unit"
    visible_from_below = False

    class Meta:
        verbose_name = "督办"
        verbose_name_plural = "督办"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"督办 {self.assignment}"
