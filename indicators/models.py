from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.models import Region, RegionalDocument, person_name
from accounts.scoping import RestrictedQuerySet
from utilities.hashchain import AppendOnlyQuerySet, ChainedEntry
from utilities.models import EvidenceFile, JobDetail, JobKind, JobState

from .workdays import CalendarRangeError, check_covered


class IndicatorLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    COUNTY = "county", "县级"


class IndicatorSet(RegionalDocument):
    """A set of indicator completion standards: the national 38, or a province's own variant."""

    class Meta(RegionalDocument.Meta):
        verbose_name = "指标体系"
        verbose_name_plural = "指标体系"


class Indicator(models.Model):
    indicator_set = models.ForeignKey(IndicatorSet, verbose_name="指标体系", on_delete=models.CASCADE, related_name="indicators")
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
            models.CheckConstraint(condition=Q(encouraging=False) | Q(level="province"), name="indicator_encouraging_is_province"),
        ]

    def __str__(self):
        return f"{self.label}. {self.content[:40]}"


class ProgramTable(models.TextChoices):
    ATTACHMENT2 = "attachment2", "附件2 任务指标完成情况统计表"
    ATTACHMENT3 = "attachment3", "附件3 服务效益统计表"
    COMPLETION = "completion", "本方案指标完成情况表"


class Program(models.Model):
    """One document's program (issue 13): its indicator set (none for a ledger-only program), the
    regions it covers and the tables it compiles. Several programs run in one half-year for one
    region, as DHIS2 assigns several data sets to one org unit; each has its own periods."""

    NATIONAL = "national-2021"  # the default everywhere: old URLs, commands and API mean this one

    code = models.SlugField("代码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=200)
    document = models.CharField("文件", max_length=200, blank=True)
    indicator_set = models.ForeignKey(
        IndicatorSet,
        verbose_name="指标体系",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programs",
        help_text="留空：只有台账、不填报指标的方案。",
    )
    regions = models.ManyToManyField(Region, verbose_name="覆盖区域", blank=True, related_name="+", help_text="留空表示全国。")
    tables = models.JSONField("编制报表", default=list, blank=True, help_text='如 ["attachment2", "attachment3"]。')
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "方案"
        verbose_name_plural = "方案"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    def covers(self, region):
        """Whether ``region`` lies in one of the program's regions (every region if it names none)."""
        from .selectors import programs_covering  # the selector holds the one query; it imports this module

        return programs_covering(region).filter(pk=self.pk).exists()

    def clean(self):
        if not isinstance(self.tables, list) or not all(t in ProgramTable.values for t in self.tables):
            raise ValidationError({"tables": f"编制报表只能是以下几种的列表：{'、'.join(ProgramTable.values)}。"})
        if len(set(self.tables)) != len(self.tables):
            raise ValidationError({"tables": "编制报表有重复。"})
        if ProgramTable.COMPLETION in self.tables and not self.indicator_set_id:
            raise ValidationError({"tables": "没有指标体系的方案不能编制完成情况表。"})


class MappingRelation(models.TextChoices):
    EQUAL = "equal", "标准相同"
    STRICTER = "stricter", "来源标准更严"


class IndicatorMapping(models.Model):
    """An indicator of one set whose √ also meets one of another set (issue 13 §2): Chongqing's
    42 beside the national 38. Recorded only where the source's standard equals or is stricter
    than the target's, so a √ is offered from source to target and never the other way round
    (``indicators.mapping``). Loaded from ``fixtures/reference/indicator_mapping.csv``."""

    source = models.ForeignKey(Indicator, verbose_name="来源指标", on_delete=models.CASCADE, related_name="mapped_to")
    target = models.ForeignKey(Indicator, verbose_name="对应指标", on_delete=models.CASCADE, related_name="mapped_from")
    relation = models.CharField("标准关系", max_length=8, choices=MappingRelation.choices)
    basis = models.TextField("依据", help_text="两份文件各自的原文。")

    class Meta:
        verbose_name = "指标对应"
        verbose_name_plural = "指标对应"
        ordering = ["source__indicator_set", "source__number", "target__number"]
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="indicator_mapping_unique")]

    def __str__(self):
        return f"{self.source.indicator_set.code} {self.source.label} → {self.target.indicator_set.code} {self.target.label}"

    def clean(self):
        if self.source_id and self.target_id:
            if self.source.indicator_set_id == self.target.indicator_set_id:
                raise ValidationError({"target": "对应指标须属于另一指标体系。"})
            # The same region fills both: a county's √ is offered for that county's own indicator.
            if self.source.level != self.target.level:
                raise ValidationError(
                    {
                        "target": f"来源指标为{self.source.get_level_display()}指标，对应指标为{self.target.get_level_display()}指标：须同一层级。"
                    }
                )


class PeriodKind(models.TextChoices):
    HALF = "half", "上半年"
    YEAR = "year", "全年"


class Period(models.Model):
    """A reporting period, identified as DHIS2 does: ``2022S1`` (上半年) or ``2022`` (全年)."""

    program = models.ForeignKey(Program, verbose_name="方案", on_delete=models.PROTECT, related_name="periods")
    code = models.CharField("报告期", max_length=6)
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("类型", max_length=4, choices=PeriodKind.choices)
    starts = models.DateField("开始日期")
    ends = models.DateField("截止日期")
    deadline = models.DateField("报送期限")
    # The set the period was opened with, kept beside the program's: every check-mark, table and
    # import of the period reads its indicators through it, and it stays what the period was
    # filled against even if the program is later given a new set (next year's document).
    indicator_set = models.ForeignKey(IndicatorSet, verbose_name="指标体系", on_delete=models.PROTECT)

    class Meta:
        verbose_name = "报告期"
        verbose_name_plural = "报告期"
        ordering = ["ends"]
        constraints = [
            models.UniqueConstraint(fields=["program", "year", "kind"], name="period_one_per_program_year_and_kind"),
        ]

    def __str__(self):
        return self.label

    def clean(self):
        if self.program_id and self.indicator_set_id and self.program.indicator_set_id != self.indicator_set_id:
            raise ValidationError(
                {"indicator_set": f"报告期的指标体系须为其方案“{self.program.name}”的指标体系，不能另用“{self.indicator_set.name}”。"}
            )

    @property
    def label(self):
        return f"{self.year}年{self.get_kind_display()}"

    @property
    def program_query(self):
        """What a link to one of the period's pages appends: nothing for the national program (its
        URLs are unchanged), ``?program=<code>`` for another."""
        return "" if self.program.code == Program.NATIONAL else f"?program={self.program.code}"

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
    status lacks its month is kept (nothing typed is lost) but is incomplete: it cannot be submitted.
    The tables print no done month, so a county's √ without it is still “√” there (``display``).
    """

    # No index of its own: checkmark_unique (region, period, indicator) serves every lookup by
    # region, and a region-only index led PostgreSQL to read all periods of a county (benchmarks).
    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="checkmarks", db_index=False)
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
        """The cell as the statistics table writes it (``indicators.cells.cell_text``)."""
        # cells reads this module's choices: imported here, not at the top (a cycle otherwise)
        from .cells import cell_text

        return cell_text(
            status=self.status, expected_month=self.expected_month, level=self.indicator.level, encouraging=self.indicator.encouraging
        )

    def overdue(self, today):
        return (
            self.status == CheckmarkStatus.NOT_DONE
            and self.expected_month is not None
            and ((self.expected_month.year, self.expected_month.month) < (today.year, today.month))
        )

    def clean(self):
        if self.indicator_id and self.region_id and self.indicator.level != self.region.level:
            raise ValidationError(
                {
                    "indicator": f"指标 {self.indicator.label} 由{self.indicator.get_level_display()}填报，不能由{self.region.get_level_display()}级填报。"
                }
            )
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

    @property
    def open_to_county(self):
        """A county's data is the county's to change while drafted or returned (accounts.policy)."""
        return self.state in (SubmissionState.DRAFT, SubmissionState.RETURNED)

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
    RECORDS = "records", "导入报装记录"


class AuditEntryQuerySet(AppendOnlyQuerySet, RestrictedQuerySet):
    pass


class AuditEntry(ChainedEntry):
    """Every change of a check-mark and every review step: who, when, from what to what, how.

    Append-only and hash-chained (utilities.hashchain): written with ``chain_append`` only.
    """

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    action = models.CharField("操作", max_length=10, choices=AuditAction.choices)
    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(Indicator, verbose_name="指标", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    before = models.CharField("修改前", max_length=200, blank=True)
    after = models.CharField("修改后", max_length=200, blank=True)
    reason = models.CharField("原因", max_length=500, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    chain_name = "audit"
    chain_fields = ("at", "user", "channel", "action", "region", "period", "indicator", "before", "after", "reason")
    chain_head_model = "accounts.ChainHead"

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "操作记录"
        verbose_name_plural = "操作记录"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["region", "period"]), models.Index(fields=["indicator", "period"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"


class Promise(models.Model):
    """An expected completion month given for one indicator of one region (issue 8 §3).

    One row each time the month is first given or moved, written in the same transaction as the
    check-mark (indicators.promises.promises_record), so the rows of a region's indicator, in
    order, are the promise's history across periods: first given, each move, and — read against
    the check-mark — kept, slipped or still open.
    """

    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="promises")
    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.PROTECT, related_name="promises")
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    month = models.DateField("承诺完成月份")
    given_at = models.DateTimeField("承诺时间", default=timezone.now, db_index=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="承诺人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "完成承诺"
        verbose_name_plural = "完成承诺"
        ordering = ["region", "indicator", "given_at", "pk"]
        indexes = [models.Index(fields=["region", "indicator", "given_at"], name="promise_history")]

    def __str__(self):
        return f"{self.region} 指标 {self.indicator.label}：{month_label(self.month)}"


class SignoffException(models.Model):
    """A county named when its city is accepted, or its province confirmed, without it — and why
    (issue 8 §4). It belongs to the city's or province's Submission and goes with that sign-off:
    when the sign-off is undone (a county returned, the period reopened) its exceptions are removed;
    the audit keeps them. A county that is an exception of a confirmed province may still write."""

    submission = models.ForeignKey(Submission, verbose_name="签收", on_delete=models.CASCADE, related_name="exceptions")
    county = models.ForeignKey(Region, verbose_name="例外县", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("例外原因", max_length=500)
    named_at = models.DateTimeField("时间", auto_now_add=True)
    named_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签收人", on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "county"
    visible_from_below = False

    class Meta:
        verbose_name = "签收例外"
        verbose_name_plural = "签收例外"
        ordering = ["submission", "county__code"]
        constraints = [models.UniqueConstraint(fields=["submission", "county"], name="signoff_exception_unique")]

    def __str__(self):
        return f"{self.county}：{self.reason}"

    def clean(self):
        errors = {}
        if not self.reason.strip():
            errors["reason"] = "必须写明例外原因。"
        if self.county_id and self.submission_id:
            county, signed = self.county, self.submission.region
            if county.level != "county" or not county.path.startswith(signed.path) or county.pk == signed.pk:
                errors["county"] = f"“{county.name}”不是{signed.name}所辖的县，不能列为例外。"
        if errors:
            raise ValidationError(errors)


def evidence_path(instance, filename):
    return f"evidence/{instance.checkmark.period.code}/{instance.checkmark.region.code}/{filename}"


class Evidence(EvidenceFile):
    """A supporting document of a check-mark (PDF, image or Office file; checked by content)."""

    checkmark = models.ForeignKey(Checkmark, verbose_name="指标填报", on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=evidence_path, max_length=300)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "checkmark__region"
    visible_from_below = False

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["uploaded_at"]


# --- Application records (用电报装) and the rules they prove indicators by (domain.md §8) ------------


class CustomerType(models.TextChoices):
    """The one customer type of the old file layout (before issue 14); an old file's type is read
    into the attributes it stands for (``applications.layout.LEGACY_TYPES``)."""

    RESIDENTIAL = "residential", "居民用户"
    LOW_VOLTAGE_THREE_ZERO = "low_voltage_three_zero", "实行“三零”服务的低压非居民用户"
    LOW_VOLTAGE_OTHER = "low_voltage_other", "未实行“三零”服务的低压非居民用户"
    HIGH_VOLTAGE_SINGLE = "high_voltage_single", "高压单电源用户"
    HIGH_VOLTAGE_DUAL = "high_voltage_dual", "高压双电源用户"
    SMALL_BUSINESS_URBAN = "small_business_urban", "城市地区160kW及以下小微企业"
    SMALL_BUSINESS_RURAL = "small_business_rural", "农村地区100kW及以下小微企业"


class CustomerClass(models.TextChoices):
    RESIDENTIAL = "residential", "居民"
    LOW_VOLTAGE = "low_voltage", "低压非居民"
    HIGH_VOLTAGE = "high_voltage", "高压"


class VoltageLevel(models.TextChoices):
    """Supply voltage; 380 伏 and below is low voltage, 10 千伏 and above high (渝经信电力〔2021〕14号 附件1 注1)."""

    V220 = "220v", "220伏"
    V380 = "380v", "380伏"
    KV10 = "10kv", "10千伏"
    KV20 = "20kv", "20千伏"
    KV35 = "35kv", "35千伏"
    KV110 = "110kv", "110千伏及以上"


LOW_VOLTAGES = frozenset({VoltageLevel.V220, VoltageLevel.V380})


class Area(models.TextChoices):
    URBAN = "urban", "城市"
    RURAL = "rural", "农村"


class Stage(models.TextChoices):
    """The stages of an application in the order they happen (37号文 附件2-2, indicators 3–5)."""

    ACCEPTANCE = "acceptance", "业务受理"
    SCHEME = "scheme", "供电方案答复"
    DESIGN_REVIEW = "design_review", "设计审查"
    MIDWAY_CHECK = "midway_check", "中间检查"
    COMPLETION_CHECK = "completion_check", "竣工检验"
    CONNECTION = "connection", "装表接电"


# Every application is accepted and, to be on record, connected; the stages between depend on the
# customer type (a residential one has none of them).
REQUIRED_STAGES = (Stage.ACCEPTANCE, Stage.CONNECTION)


class RuleMeasure(models.TextChoices):
    STAGE_DAYS = "stage_days", "环节办理时间"
    TOTAL_DAYS = "total_days", "各环节合计办理时间"
    ELAPSED_DAYS = "elapsed_days", "全过程办电时间"
    STAGE_COUNT = "stage_count", "办电环节数"
    DOCUMENTS = "documents", "受理环节申请资料"
    ZERO_INVESTMENT = "zero_investment", "用户零投资"


DAY_MEASURES = frozenset({RuleMeasure.STAGE_DAYS, RuleMeasure.TOTAL_DAYS, RuleMeasure.ELAPSED_DAYS})


class RuleStatistic(models.TextChoices):
    """Whom a limit binds: every application, or the population's average or longest time."""

    EACH = "each", "每件"
    AVERAGE = "average", "平均"
    LONGEST = "longest", "最长"


class ApplicationRule(models.Model):
    """A limit the application records of a program must show: for an indicator of its set (every
    application the rule applies to must meet it, and the county's √ is checked against them), or a
    target of the program without an indicator (an average, a longest time, or every application).

    Data (fixtures/reference/application_rules.csv, loaded by load_reference). ``applies_to`` is a
    predicate over the records' attributes (``applications.predicate``), so one application counts
    for every rule it meets the predicate of; where the document says 除不可抗力外, force-majeure
    cases are left out.
    """

    program = models.ForeignKey(Program, verbose_name="方案", on_delete=models.CASCADE, related_name="application_rules")
    indicator = models.ForeignKey(
        Indicator,
        verbose_name="指标",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="application_rules",
        help_text="留空：方案的时限目标，不对应指标。",
    )
    applies_to = models.CharField(
        "适用记录", max_length=300, blank=True, help_text="如“class=low_voltage;small_micro=yes;capacity_kw<=160”；留空：全部记录。"
    )
    measure = models.CharField("考核内容", max_length=16, choices=RuleMeasure.choices)
    statistic = models.CharField("统计口径", max_length=8, choices=RuleStatistic.choices, default=RuleStatistic.EACH)
    stages = models.CharField(
        "环节",
        max_length=100,
        blank=True,
        help_text="环节办理时间：一个环节，或以“+”相连、合计考核的几个环节，如“completion_check+connection”。",
    )
    limit = models.PositiveSmallIntegerField("上限", null=True, blank=True, help_text="工作日数或环节数。")
    documents = models.CharField("允许的申请资料", max_length=200, blank=True, help_text="以“、”分隔。")
    excludes_force_majeure = models.BooleanField("不可抗力除外", default=False)
    source = models.CharField("出处", max_length=200)
    note = models.TextField("原文", blank=True, help_text="出处的原话。")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "indicator__indicator_set__region"
    visible_from_below = True

    class Meta:
        verbose_name = "报装考核规则"
        verbose_name_plural = "报装考核规则"
        ordering = ["program", "indicator", "pk"]

    def __str__(self):
        owner = f"指标 {self.indicator.label}" if self.indicator_id else self.program.code
        return f"{owner} {self.applies_label}：{self.describe()}"

    @cached_property
    def terms(self):
        """The parsed ``applies_to`` (``applications.predicate``; the package imports this module)."""
        from .applications.predicate import parse

        return parse(self.applies_to)

    @property
    def applies_label(self):
        from .applications.predicate import describe

        return describe(self.terms)

    @property
    def stage_list(self):
        return [Stage(s) for s in self.stages.split("+")] if self.stages else []

    @property
    def document_list(self):
        return [d for d in self.documents.split("、") if d]

    @property
    def subject(self):
        """What a limited rule measures: “供电方案答复用时”, “全过程办电时间”, “办电环节”."""
        if self.measure == RuleMeasure.STAGE_DAYS:
            return "和".join(s.label for s in self.stage_list) + "用时"
        return "办电环节" if self.measure == RuleMeasure.STAGE_COUNT else self.get_measure_display()

    @property
    def unit(self):
        return "个工作日" if self.measure in DAY_MEASURES else "个"

    def describe(self):
        """The rule as a sentence: “供电方案答复用时 ≤ 3 个工作日”."""
        if self.measure == RuleMeasure.DOCUMENTS:
            return f"受理环节仅需{'、'.join(self.document_list)}"
        if self.measure == RuleMeasure.ZERO_INVESTMENT:
            return "用户投资为 0"
        statistic = "" if self.statistic == RuleStatistic.EACH else self.get_statistic_display()
        return f"{statistic}{self.subject} ≤ {self.limit} {self.unit}"

    def clean(self):
        errors = {}
        if self.measure == RuleMeasure.STAGE_DAYS:
            try:
                stages = self.stage_list
            except ValueError:
                stages = None
            if not stages:
                errors["stages"] = f"环节办理时间须写明环节（{'、'.join(Stage.values)}，多个以“+”相连）。"
        elif self.stages:
            errors["stages"] = "只有“环节办理时间”规则填写环节。"
        needs_limit = self.measure in DAY_MEASURES or self.measure == RuleMeasure.STAGE_COUNT
        if needs_limit and self.limit is None:
            errors["limit"] = "须填写上限。"
        if not needs_limit and self.limit is not None:
            errors["limit"] = f"“{self.get_measure_display()}”规则不填上限。"
        if (self.measure == RuleMeasure.DOCUMENTS) != bool(self.documents):
            errors["documents"] = "只有且必须为“受理环节申请资料”规则填写允许的资料。"
        if self.statistic != RuleStatistic.EACH and self.measure not in DAY_MEASURES:
            errors["statistic"] = "平均、最长只用于办理时间的规则。"
        if self.statistic != RuleStatistic.EACH and self.indicator_id:
            errors["statistic"] = "指标的规则逐件考核（each）：平均、最长是方案的时限目标，不填指标。"
        if errors:
            raise ValidationError(errors)


def application_file_path(instance, filename):
    return f"applications/{instance.period.code}/{instance.region.code}/{filename}"


class ApplicationBatch(JobDetail):
    """One upload of a county's application records for a period: the file as received and what
    reading it found. Who sent it, when, for which county, and how reading it went are its Job's
    (``utilities.jobs``). A batch read without error replaces the county's records of the period;
    a large one is read by a Celery worker."""

    job_kind = JobKind.APPLICATIONS

    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    file = models.FileField("文件", upload_to=application_file_path, max_length=300)
    file_name = models.CharField("原文件名", max_length=200)
    row_count = models.PositiveIntegerField("记录数", default=0)
    errors = models.JSONField("错误", default=list, blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "job__region"
    visible_from_below = False

    class Meta:
        verbose_name = "报装记录导入"
        verbose_name_plural = "报装记录导入"
        ordering = ["-pk"]  # created one after the other with their jobs: the newest first

    def __str__(self):
        return f"{self.region} {self.period} {self.file_name}"

    @property
    def job_heading(self):
        return f"报装记录导入 #{self.pk} · {self.region.name} · {self.period.label}"

    @property
    def job_note(self):
        return f"文件“{self.file_name}”，{person_name(self.created_by)}于{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}上传"

    def job_results(self):
        if self.state != JobState.DONE:
            return []
        return [(f"{self.region.name}报装记录（{self.row_count:,} 条）", self._records_url())]

    def job_errors(self):
        return list(self.errors)

    def job_back(self):
        return f"返回{self.region.name}报装记录", self._records_url()

    def _records_url(self):
        return reverse("indicators:applications", args=[self.period.code, self.region.code])


class Application(models.Model):
    """One application (用电报装) of a county's records for a period, as the supply company's
    system exported it. The working days are worked out on import (indicators.workdays) and stored,
    so the portal counts compliance in SQL."""

    region = models.ForeignKey(Region, verbose_name="县", on_delete=models.PROTECT, related_name="applications")
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(ApplicationBatch, verbose_name="导入批次", on_delete=models.CASCADE, related_name="applications")
    number = models.CharField("报装编号", max_length=64)
    customer_class = models.CharField("用户类别", max_length=16, choices=CustomerClass.choices)
    voltage = models.CharField("供电电压", max_length=8, choices=VoltageLevel.choices, blank=True)
    dual_source = models.BooleanField("双电源", default=False)
    capacity_kw = models.DecimalField(
        "报装容量（kW）", max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    area = models.CharField("城乡", max_length=8, choices=Area.choices, blank=True)
    small_micro = models.BooleanField("小微企业", default=False)
    three_zero = models.BooleanField("“三零”服务", default=False)
    acceptance_start = models.DateField("业务受理开始日期", null=True, blank=True)
    acceptance_end = models.DateField("业务受理结束日期", null=True, blank=True)
    scheme_start = models.DateField("供电方案答复开始日期", null=True, blank=True)
    scheme_end = models.DateField("供电方案答复结束日期", null=True, blank=True)
    design_review_start = models.DateField("设计审查开始日期", null=True, blank=True)
    design_review_end = models.DateField("设计审查结束日期", null=True, blank=True)
    midway_check_start = models.DateField("中间检查开始日期", null=True, blank=True)
    midway_check_end = models.DateField("中间检查结束日期", null=True, blank=True)
    completion_check_start = models.DateField("竣工检验开始日期", null=True, blank=True)
    completion_check_end = models.DateField("竣工检验结束日期", null=True, blank=True)
    connection_start = models.DateField("装表接电开始日期", null=True, blank=True)
    connection_end = models.DateField("装表接电结束日期", null=True, blank=True)
    stage_count = models.PositiveSmallIntegerField("办电环节数")
    documents = models.CharField("受理环节所需资料", max_length=500)
    investment = models.DecimalField("用户投资（元）", max_digits=14, decimal_places=2)
    force_majeure = models.BooleanField("不可抗力", default=False)
    # Worked out on import; 0 for a stage the application did not go through.
    days_acceptance = models.PositiveSmallIntegerField("业务受理（工作日）", default=0, editable=False)
    days_scheme = models.PositiveSmallIntegerField("供电方案答复（工作日）", default=0, editable=False)
    days_design_review = models.PositiveSmallIntegerField("设计审查（工作日）", default=0, editable=False)
    days_midway_check = models.PositiveSmallIntegerField("中间检查（工作日）", default=0, editable=False)
    days_completion_check = models.PositiveSmallIntegerField("竣工检验（工作日）", default=0, editable=False)
    days_connection = models.PositiveSmallIntegerField("装表接电（工作日）", default=0, editable=False)
    days_total = models.PositiveSmallIntegerField("各环节合计（工作日）", default=0, editable=False)
    days_elapsed = models.PositiveSmallIntegerField("全过程（工作日）", default=0, editable=False)
    document_set = models.CharField(
        "申请资料（规范名称）",
        max_length=500,
        editable=False,
        help_text="所需资料换成规范名称后去重、排序，以“、”相连，供规则比对。",
    )

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "报装记录"
        verbose_name_plural = "报装记录"
        ordering = ["region", "period", "number"]
        constraints = [
            models.UniqueConstraint(fields=["region", "period", "number"], name="application_number_unique"),
            models.CheckConstraint(condition=Q(investment__gte=0), name="application_investment_not_negative"),
            models.CheckConstraint(condition=Q(capacity_kw__gte=0), name="application_capacity_not_negative"),
        ]
        indexes = [models.Index(fields=["period", "region"], name="application_period_region")]

    def __str__(self):
        return f"{self.region} {self.number}"

    def dates(self, stage):
        return getattr(self, f"{stage}_start"), getattr(self, f"{stage}_end")

    @property
    def attributes_label(self):
        """“低压非居民 · 小微企业 · “三零” · 160 kW · 城市”, for the listing."""
        parts = [self.get_customer_class_display(), self.get_voltage_display() if self.voltage else ""]
        parts += ["双电源" if self.dual_source else "", "小微企业" if self.small_micro else "", "“三零”" if self.three_zero else ""]
        parts += [
            f"{self.capacity_kw.normalize():f} kW" if self.capacity_kw is not None else "",
            self.get_area_display() if self.area else "",
        ]
        return " · ".join(p for p in parts if p)

    def _attribute_errors(self):
        """Attributes that contradict each other (issue 14, bad input)."""
        errors = {}
        if self.small_micro and self.customer_class == CustomerClass.RESIDENTIAL:
            errors["small_micro"] = "居民用户不能是小微企业。"
        if self.three_zero and self.customer_class != CustomerClass.LOW_VOLTAGE:
            errors["three_zero"] = f"“三零”服务只适用于低压非居民用户，{self.get_customer_class_display()}用户不能标为“三零”。"
        if self.dual_source and self.customer_class != CustomerClass.HIGH_VOLTAGE:
            errors["dual_source"] = "只有高压用户有双电源。"
        if self.voltage and (self.voltage in LOW_VOLTAGES) != (self.customer_class != CustomerClass.HIGH_VOLTAGE):
            errors["voltage"] = (
                f"{self.get_voltage_display()}与用户类别“{self.get_customer_class_display()}”不符：380伏及以下为低压，10千伏及以上为高压。"
            )
        return errors

    def clean(self):
        """The attributes agree with each other; every stage gone through has both dates, ends after
        it starts, starts after the one before it ended, and lies in the past and within the holiday
        calendar's years."""
        today = timezone.localdate()
        errors, previous = self._attribute_errors(), None
        for stage in Stage:
            start, end = self.dates(stage)
            start_field, end_field = f"{stage}_start", f"{stage}_end"
            if start is None and end is None:
                if stage in REQUIRED_STAGES:
                    errors[start_field] = f"{stage.label}的开始和结束日期必须填写。"
                continue
            if start is None or end is None:
                missing = start_field if start is None else end_field
                errors[missing] = f"{stage.label}只填了{'结束' if start is None else '开始'}日期：两个日期都要填，没有此环节的都留空。"
                continue
            for field, day in ((start_field, start), (end_field, end)):
                if day > today:
                    errors.setdefault(field, f"日期 {day:%Y-%m-%d} 晚于今天（{today:%Y-%m-%d}）。")
                try:
                    check_covered(day)
                except CalendarRangeError as exc:
                    errors.setdefault(field, str(exc))
            if end < start:
                errors.setdefault(end_field, f"{stage.label}结束于 {end:%Y-%m-%d}，早于它的开始日期 {start:%Y-%m-%d}。")
            elif previous is not None and start < previous[1]:
                errors.setdefault(
                    start_field,
                    f"{stage.label}开始于 {start:%Y-%m-%d}，早于上一环节{previous[0].label}的结束日期 {previous[1]:%Y-%m-%d}：环节顺序不对。",
                )
            previous = (stage, end)
        if errors:
            raise ValidationError(errors)
