from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts.models import Region
from accounts.scoping import Action

from .filtersets import RegionFilterSet
from .serializers import RegionSerializer


@extend_schema_view(
    list=extend_schema(summary="区域列表", description="您管辖范围内可查看的区域（本区域、其上级和全部下级），按代码排序。"),
    retrieve=extend_schema(
        summary="区域详情",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="行政区划代码（6 位数字）。"),
        ],
    ),
)
@extend_schema(tags=["区域"])
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_regex = r"\d{6}"

    def get_queryset(self):
        return Region.objects.restrict(self.request.user, Action.VIEW).order_by("code")
