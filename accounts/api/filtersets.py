import django_filters

from accounts.models import Region, RegionLevel


class RegionFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices, label="层级：province 省、city 地市、county 县。")
    parent = django_filters.CharFilter(field_name="parent__code", label="上级区域代码：只列出它的直接下级。")
    within = django_filters.CharFilter(method="filter_within", label="区域代码：列出该区域本身及其全部下级。")
    name = django_filters.CharFilter(lookup_expr="contains", label="名称包含的文字。")

    class Meta:
        model = Region
        fields = ["level", "parent", "within", "name"]

    def filter_within(self, queryset, name, value):
        region = Region.objects.filter(code=value).first()
        return queryset.filter(path__startswith=region.path) if region else queryset.none()
