import django_filters

from accounts.api.filtersets import RegionFilterSet
from indicators.models import Indicator, IndicatorLevel, SubmissionState
from utilities.api import StrictBooleanFilter


class IndicatorFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=IndicatorLevel.choices, label="填报层级：county 县级指标，province 省级指标。")
    group = django_filters.CharFilter(label="指标组，如“2021年指标”。")

    class Meta:
        model = Indicator
        fields = ["level", "group"]


class RegionStateFilterSet(RegionFilterSet):
    state = django_filters.ChoiceFilter(choices=SubmissionState.choices, label="本期状态。")
    locked = StrictBooleanFilter(label="所在省份本期是否已确认锁定。")

    class Meta(RegionFilterSet.Meta):
        fields = [*RegionFilterSet.Meta.fields, "state", "locked"]
