from django.db import models
from django.db.models import Q

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
