from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Company, Region
from accounts.scoping import RestrictedQuerySet
from indicators.models import Period, PeriodKind
from utilities.models import JobDetail, JobKind, JobState  # noqa: F401  JobState: its old home

from .tables import BENEFIT_CATEGORIES


class Benefit(models.Model):
    """A power-supply company's “三零”“三省” figures for one region of its service area, one half-year
    and one category. A company enters at its service area's one level, so the province table sums
    every row exactly once; two companies serving one region each have their own row."""

    company = models.ForeignKey(Company, verbose_name="供电企业", on_delete=models.PROTECT, related_name="benefits")
    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="benefits")
    year = models.PositiveSmallIntegerField("年度")
    half = models.PositiveSmallIntegerField("半年", choices=[(1, "上半年"), (2, "下半年")])
    category = models.CharField("类别", max_length=16, choices=BENEFIT_CATEGORIES)
    households = models.PositiveIntegerField("受益户数（户）", default=0)
    investment = models.DecimalField("节省投资（万元）", max_digits=14, decimal_places=2, default=0)
    sales = models.DecimalField("增加售电量（万千瓦时）", max_digits=14, decimal_places=2, default=0)
    capacity = models.DecimalField("增加容量（万千瓦安）", max_digits=14, decimal_places=2, default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, on_delete=models.SET_NULL, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "服务效益"
        verbose_name_plural = "服务效益"
        constraints = [
            models.UniqueConstraint(fields=["company", "region", "year", "half", "category"], name="benefit_unique_per_company"),
            models.CheckConstraint(condition=Q(investment__gte=0, sales__gte=0, capacity__gte=0), name="benefit_not_negative"),
        ]

    def __str__(self):
        return f"{self.company}·{self.region}{self.year}年{self.get_half_display()}{self.get_category_display()}"


class ReportKind(models.TextChoices):
    ATTACHMENT2 = "attachment2", "附件2 任务指标完成情况统计表"
    ATTACHMENT3 = "attachment3", "附件3 “三零”“三省”服务效益统计表"
    NATIONAL = "national", "全国汇总"
    # A program's own completion table over its set (issue 13: Chongqing's 42), in 附件2's layout.
    COMPLETION = "completion", "本方案指标完成情况统计表"


def snapshot_path(instance, filename):
    return f"reports/{instance.period.code}/{filename}"


class ReportSnapshot(models.Model):
    """A compiled table kept as it was: its data, its .xlsx, who compiled it, when and from what state.

    Recompiling makes a new snapshot; a confirmed one is never changed.
    """

    kind = models.CharField("报表", max_length=12, choices=ReportKind.choices)
    region = models.ForeignKey(
        Region,
        verbose_name="省份",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="全国汇总时为空。",
    )
    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    data = models.JSONField("表格数据")
    xlsx = models.FileField("Excel 文件", upload_to=snapshot_path, max_length=300)
    data_state = models.CharField("数据状态", max_length=120, help_text="编制时的数据：最新的操作记录编号与条数，服务效益的最后更新时间。")
    compiled_at = models.DateTimeField("编制时间", auto_now_add=True)
    compiled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="编制人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "报表快照"
        verbose_name_plural = "报表快照"
        ordering = ["-compiled_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="national", region__isnull=True) | (~Q(kind="national") & Q(region__isnull=False)),
                name="snapshot_region_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.region or '全国'} {self.period}"

    def save(self, *args, **kwargs):
        if self.pk and ReportSnapshot.objects.filter(pk=self.pk, confirmed_at__isnull=False).exists():
            raise ValidationError("已确认的报表快照不能修改，请重新编制。")
        super().save(*args, **kwargs)


class ReportJob(JobDetail):
    """A compile run on a Celery worker: what it compiles and what it made. Its state and progress
    are its Job's (``utilities.jobs``); ``attempts`` counts the deliveries a killed worker caused."""

    job_kind = JobKind.REPORT

    period = models.ForeignKey(Period, verbose_name="报告期", on_delete=models.PROTECT, related_name="+")
    snapshots = models.ManyToManyField(ReportSnapshot, verbose_name="报表快照", blank=True, related_name="jobs")
    task_id = models.CharField("任务编号", max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "job__region"
    visible_from_below = False

    class Meta:
        verbose_name = "编制任务"
        verbose_name_plural = "编制任务"
        ordering = ["-pk"]  # created one after the other with their jobs: the newest first

    def __str__(self):
        return self.job_heading

    @property
    def job_heading(self):
        return f"编制任务 #{self.pk} · {self.region.name if self.region else '全国汇总'} · {self.period.label}"

    def job_results(self):
        return [(s.get_kind_display(), reverse("reporting:snapshot", args=[s.pk])) for s in self.snapshots.all()]

    def job_back(self):
        region = self.region.code if self.region else "national"
        return "返回统计报表", f"{reverse('reporting:reports')}?period={self.period.code}&region={region}"


class Reliability(models.Model):
    """A region's (county's, city's or province's) supply reliability for one period, as the
    reliability centre counts it (填报说明 第6条: these figures come separately, not from the county's
    sheet): average interruption hours
    and times per customer (SAIDI, SAIFI). Keyed by year and kind (上半年 / 全年) like the periods,
    so every program's period of that span reads the same figures."""

    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="reliabilities")
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("期间", max_length=4, choices=PeriodKind.choices)
    saidi = models.DecimalField("户均停电时间（小时/户）", max_digits=8, decimal_places=3, validators=[MinValueValidator(0)])
    saifi = models.DecimalField("户均停电次数（次/户）", max_digits=8, decimal_places=3, validators=[MinValueValidator(0)])
    source = models.CharField("数据来源", max_length=200)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField("填报时间", auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "供电可靠性"
        verbose_name_plural = "供电可靠性"
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "kind"], name="reliability_one_per_region_and_period"),
            models.CheckConstraint(condition=Q(saidi__gte=0, saifi__gte=0), name="reliability_not_negative"),
        ]

    def __str__(self):
        return f"{self.region}{self.year}年{self.get_kind_display()}供电可靠性"
