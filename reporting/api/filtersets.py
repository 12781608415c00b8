import django_filters

from reporting.models import Benefit, ReportJob, ReportKind, ReportSnapshot
from reporting.tables import BENEFIT_CATEGORIES
from utilities.api import StrictBooleanFilter
from utilities.models import JobState


class _ReportFilterSet(django_filters.FilterSet):
    period = django_filters.CharFilter(field_name="period__code", label="报告期代码，如“2022S1”。")
    region = django_filters.CharFilter(field_name="region__code", label="省份代码，如“510000”。")
    national = StrictBooleanFilter(field_name="region", lookup_expr="isnull", label="true：只列全国汇总；false：只列各省的。")


class ReportJobFilterSet(_ReportFilterSet):
    # A report job's region and state are its Job's.
    region = django_filters.CharFilter(field_name="job__region__code", label="省份代码，如“510000”。")
    national = StrictBooleanFilter(field_name="job__region", lookup_expr="isnull", label="true：只列全国汇总；false：只列各省的。")
    state = django_filters.ChoiceFilter(field_name="job__state", choices=JobState.choices, label="任务状态。")

    class Meta:
        model = ReportJob
        fields = ["period", "region", "national", "state"]


class ReportSnapshotFilterSet(_ReportFilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices, label="报表种类。")
    confirmed = StrictBooleanFilter(field_name="confirmed_at", lookup_expr="isnull", exclude=True, label="true：只列已确认的快照。")

    class Meta:
        model = ReportSnapshot
        fields = ["period", "region", "national", "kind", "confirmed"]


class BenefitFilterSet(django_filters.FilterSet):
    company = django_filters.CharFilter(field_name="company__code", label="供电企业简称代码。")
    region = django_filters.CharFilter(field_name="region__code", label="区域代码。")
    year = django_filters.NumberFilter(label="年度。")
    half = django_filters.ChoiceFilter(choices=Benefit._meta.get_field("half").choices, label="半年：1 上半年，2 下半年。")
    category = django_filters.ChoiceFilter(choices=BENEFIT_CATEGORIES, label="类别。")

    class Meta:
        model = Benefit
        fields = ["company", "region", "year", "half", "category"]
