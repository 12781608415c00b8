import django_filters
from django.utils import timezone

from ledger.models import Assignment, AssignmentStatus, Ledger
from ledger.selectors import overdue_q
from utilities.api import StrictBooleanFilter


class LedgerFilterSet(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="region__code", label="所属区域代码，如“510000”；国家台账用 national=true。")
    national = StrictBooleanFilter(field_name="region", lookup_expr="isnull", label="true：只列国家层面的台账；false：只列各地的。")
    year = django_filters.NumberFilter(label="年度。")
    is_reference = StrictBooleanFilter(label="true：只列文件原文（只读）；false：只列各地制定的本地台账。")

    class Meta:
        model = Ledger
        fields = ["region", "national", "year", "is_reference"]


class AssignmentFilterSet(django_filters.FilterSet):
    ledger = django_filters.CharFilter(field_name="item__ledger__code", label="台账代码。")
    item = django_filters.NumberFilter(field_name="item__number", label="台账事项序号（与 ledger 一起使用）。")
    region = django_filters.CharFilter(field_name="region__code", label="责任区域代码（只列分解到该区域本身的任务）。")
    org_unit = django_filters.CharFilter(field_name="org_unit__name", label="企业单位（部门）名称，如“营销部”（可与 company 一起使用）。")
    company = django_filters.CharFilter(field_name="org_unit__company__code", label="供电企业代码：只列分给该企业各单位的任务。")
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices, label="状态。")
    overdue = StrictBooleanFilter(
        method="filter_overdue", label="true：只列逾期的（已标记逾期，或节点时间已过而未完成）；false：只列未逾期的。"
    )
    milestone_before = django_filters.DateFilter(field_name="milestone", lookup_expr="lte", label="节点时间不晚于该日期（年-月-日）。")

    class Meta:
        model = Assignment
        fields = ["ledger", "item", "region", "org_unit", "company", "status", "overdue", "milestone_before"]

    def filter_overdue(self, queryset, name, value):
        late = overdue_q(timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)
