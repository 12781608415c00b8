from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Region


class RegionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True, help_text="行政区划代码（GB/T 2260，6 位数字）。")
    name = serializers.CharField(read_only=True, help_text="名称，如“锦江区”。县名在省内可能重复，请以代码识别。")
    level = serializers.ChoiceField(choices=Region._meta.get_field("level").choices, read_only=True, help_text="层级。")
    parent = serializers.SerializerMethodField(help_text="上级区域代码；省级为 null。")

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent(self, region):
        # From the path: no query per region.
        ancestors = region.ancestor_codes()
        return ancestors[-1] if ancestors else None
