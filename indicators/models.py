from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from accounts.models import Region
from accounts.scoping import RestrictedQuerySet
from utilities.models import RegionalDocument


class IndicatorLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    COUNTY = "county", "县级"


class IndicatorSet(RegionalDocument):
    """A set of indicator completion standards: the national 38, or a province's own variant."""

    class Meta(RegionalDocument.Meta):
        verbose_name = "指标体系"
        verbose_name_plural = "指标体系"


class Indicator(models.Model):
    indicator_set = models.ForeignKey(
        IndicatorSet, verbose_name="指标体系", on_delete=models.CASCADE, related_name="indicators"
    )
    number = models.PositiveSmallIntegerField("指标序号")
    label = models.CharField("序号（原文）", max_length=8, help_text="如“*21”：带 * 的为省级指标。")
    group = models.CharField("指标组", max_length=64)
    level = models.CharField("填报层级", max_length=8, choices=IndicatorLevel.choices)
    encouraging = models.BooleanField("鼓励性指标", default=False)
    content = models.TextField("可量化指标内容")
    standard = models.TextField("指标完成标准", blank=True)
    responsible_units = models.TextField("责任单位", blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "indicator_set__region"
    visible_from_below = True

    class Meta:
        verbose_name = "指标"
        verbose_name_plural = "指标"
        ordering = ["indicator_set", "number"]
        constraints = [
            models.UniqueConstraint(fields=["indicator_set", "number"], name="indicator_number_unique_in_set"),
            models.CheckConstraint(
                condition=Q(encouraging=False) | Q(level="province"), name="indicator_encouraging_is_province"
            ),
        ]

    def __str__(self):
        return f"{self.label}. {self.content[:40]}"


class PeriodKind(models.TextChoices):
    HALF = "half", "上半年"
    YEAR = "year", "全年"


class Period(models.Model):
    """A reporting period, identified as DHIS2 does: ``2022S1`` (上半年) or ``2022`` (全年)."""

    code = models.CharField("报告期", max_length=6, unique=True)
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("类型", max_length=4, choices=PeriodKind.choices)
    starts = models.DateField("开始日期")
    ends = models.DateField("截止日期")
    deadline = models.DateField("报送期限")
    indicator_set = models.ForeignKey(IndicatorSet, verbose_name="指标体系", on_delete=models.PROTECT)

    class Meta:
        verbose_name = "报告期"
        verbose_name_plural = "报告期"
        ordering = ["ends"]
        constraints = [models.UniqueConstraint(fields=["year", "kind"], name="period_one_per_year_and_kind")]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return f"{self.year}年{self.get_kind_display()}"

    @property
    def span_label(self):
        """As the tables head it: （2022年1月—2022年6月）."""
        return f"（{self.starts.year}年{self.starts.month}月—{self.ends.year}年{self.ends.month}月）"


class CheckmarkStatus(models.TextChoices):
    DONE = "done", "已完成"
    NOT_DONE = "not_done", "未完成"


class Checkmark(models.Model):
    """One indicator of one region in one period.

    County indicators: √ with the month done, or the expected month. Province indicators: 已完成
    (the month optional), or the expected month; encouraging ones: 已开展 or nothing. A row whose
    status lacks its month is kept (nothing typed is lost) but counts as missing.
    """

    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="checkmarks")
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="checkmarks")
    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.PROTECT, related_name="checkmarks")
    status = models.CharField("完成情况", max_length=8, choices=CheckmarkStatus.choices, blank=True)
    done_month = models.DateField("完成月份", null=True, blank=True)
    expected_month = models.DateField("预计完成月份", null=True, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = True

    class Meta:
        verbose_name = "指标填报"
        verbose_name_plural = "指标填报"
        constraints = [
            models.UniqueConstraint(fields=["region", "period", "indicator"], name="checkmark_unique"),
            models.CheckConstraint(
                condition=Q(status="done", expected_month__isnull=True)
                | Q(status="not_done", done_month__isnull=True)
                | Q(status="", done_month__isnull=True, expected_month__isnull=True),
                name="checkmark_months_match_status",
            ),
        ]
        indexes = [models.Index(fields=["period", "region"])]

    def __str__(self):
        return f"{self.region} {self.period} {self.indicator.label}: {self.display}"

    @property
    def complete(self):
        if self.status == CheckmarkStatus.DONE:
            return self.done_month is not None or self.indicator.level == "province"
        if self.status == CheckmarkStatus.NOT_DONE:
            return self.expected_month is not None
        return False

    @property
    def display(self):
        """The cell as the statistics table writes it."""
        if self.status == CheckmarkStatus.DONE:
            if self.indicator.level == "county":
                return "√"
            return "已开展" if self.indicator.encouraging else "已完成"
        if self.status == CheckmarkStatus.NOT_DONE and self.expected_month:
            return month_label(self.expected_month)
        return ""

    def overdue(self, today):
        return self.status == CheckmarkStatus.NOT_DONE and self.expected_month is not None and (
            (self.expected_month.year, self.expected_month.month) < (today.year, today.month)
        )

    def clean(self):
        if self.indicator_id and self.region_id and self.indicator.level != self.region.level:
            raise ValidationError({"indicator": f"指标 {self.indicator.label} 由{self.indicator.get_level_display()}填报，不能由{self.region.get_level_display()}级填报。"})
        if self.status != CheckmarkStatus.DONE:
            self.done_month = None
        if self.status != CheckmarkStatus.NOT_DONE:
            self.expected_month = None
        if self.indicator_id and self.indicator.encouraging and self.status == CheckmarkStatus.NOT_DONE:
            raise ValidationError({"status": f"指标 {self.indicator.label} 为鼓励性指标：填“已开展”或留空。"})
        for field in ("done_month", "expected_month"):
            value = getattr(self, field)
            if value is not None and value.day != 1:
                setattr(self, field, value.replace(day=1))


def month_label(value):
    return f"{value.year}年{value.month}月"


class SubmissionState(models.TextChoices):
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "已上报"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "市级已审核"
    ACCEPTED = "accepted", "省级已接收"
    CONFIRMED = "confirmed", "省级已确认"


# The states each level's Submission can take.
LEVEL_STATES = {
    "county": {SubmissionState.DRAFT, SubmissionState.SUBMITTED, SubmissionState.RETURNED, SubmissionState.APPROVED},
    "city": {SubmissionState.DRAFT, SubmissionState.ACCEPTED},
    "province": {SubmissionState.DRAFT, SubmissionState.CONFIRMED},
}


class Submission(models.Model):
    """Where a region's data of a period stands in the review flow.

    A county: 填报中 → 已上报 → 市级已审核 (or 已退回). A city: accepted by the province. The
    province: 省级已确认, which locks the whole province's period until it is reopened. ``version``
    rises with every change of the region's data, so a stale form is refused, not applied.
    """

    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="submissions")
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="submissions")
    state = models.CharField("状态", max_length=10, choices=SubmissionState.choices, default=SubmissionState.DRAFT)
    version = models.PositiveIntegerField("版本", default=0)
    reason = models.CharField("退回或重新开放原因", max_length=500, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state_changed_at = models.DateTimeField("状态变更时间", null=True, blank=True)
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="状态变更人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = True

    class Meta:
        verbose_name = "填报状态"
        verbose_name_plural = "填报状态"
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="submission_unique")]

    def __str__(self):
        return f"{self.region} {self.period}: {self.get_state_display()}"

    def clean(self):
        if self.region_id and self.state not in LEVEL_STATES[self.region.level]:
            raise ValidationError({"state": f"{self.region.get_level_display()}级区域不能处于“{self.get_state_display()}”状态。"})


class Channel(models.TextChoices):
    WEB = "web", "网页"
    API = "api", "接口"
    IMPORT = "import", "导入"
    SYSTEM = "system", "系统"


class AuditAction(models.TextChoices):
    SET = "set", "填报"
    EVIDENCE = "evidence", "上传佐证"
    CARRY = "carry", "承接上期"
    SUBMIT = "submit", "上报"
    RETURN = "return", "退回"
    APPROVE = "approve", "审核通过"
    ACCEPT = "accept", "省级接收"
    CONFIRM = "confirm", "确认"
    REOPEN = "reopen", "重新开放"


class AuditEntry(models.Model):
    """Every change of a check-mark and every review step: who, when, from what to what, how."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    action = models.CharField("操作", max_length=10, choices=AuditAction.choices)
    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    before = models.CharField("修改前", max_length=200, blank=True)
    after = models.CharField("修改后", max_length=200, blank=True)
    reason = models.CharField("原因", max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "操作记录"
        verbose_name_plural = "操作记录"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["region", "period"]), models.Index(fields=["indicator", "period"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"


def evidence_path(instance, filename):
    return f"evidence/{instance.checkmark.period.code}/{instance.checkmark.region.code}/{filename}"


class Evidence(models.Model):
    """A supporting document of a check-mark (PDF, image or Office file; checked by content)."""

    checkmark = models.ForeignKey(Checkmark, verbose_name="指标填报", on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=evidence_path, max_length=300)
    name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    kind = models.CharField("类型", max_length=8)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "checkmark__region"
    visible_from_below = False

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.name
