from rest_framework import serializers
from rest_framework.reverse import reverse

from accounts.api.serializers import RegionSerializer
from reporting.forms import AMOUNT_DIGITS, MAX_HOUSEHOLDS  # the page form's limits: one definition
from reporting.models import Benefit, ReportJob, ReportSnapshot
from reporting.tables import BENEFIT_CATEGORIES, BENEFIT_MEASURES
from utilities.models import JobState


def _measure_field(measure, label, places):
    help_text = f"{label}：{'整数' if places == 0 else f'最多 {places} 位小数'}，不能为负；省略时为 0。"
    if places == 0:
        return serializers.IntegerField(min_value=0, max_value=MAX_HOUSEHOLDS, default=0, help_text=help_text)
    return serializers.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=places, min_value=0, default=0, help_text=help_text)


class BenefitMeasuresSerializer(serializers.Serializer):
    """The four figures of one category (受益户数, 节省投资, 增加售电量, 增加容量)."""

    def get_fields(self):
        return {measure: _measure_field(measure, label, places) for measure, label, places in BENEFIT_MEASURES}


class BenefitFiguresSerializer(serializers.Serializer):
    """附件3's columns: the three “三零” customer groups and “三省”, each with its four figures."""

    def get_fields(self):
        return {
            category: BenefitMeasuresSerializer(required=False, help_text=f"{label}；省略时四项均为 0。")
            for category, label in BENEFIT_CATEGORIES
        }

    def figures(self):
        """As benefits_set takes them: (category, measure) → value."""
        return {(category, measure): value for category, measures in self.validated_data.items() for measure, value in measures.items()}


class BenefitSheetSerializer(serializers.Serializer):
    region = RegionSerializer(read_only=True, help_text="区域。")
    year = serializers.IntegerField(read_only=True, help_text="年度。")
    half = serializers.IntegerField(read_only=True, help_text="半年：1 上半年，2 下半年。")
    company = serializers.CharField(
        read_only=True, allow_null=True, help_text="供电企业简称代码：供电企业用户读写本企业的数字；其他用户读到各企业之和，为 null。"
    )
    figures = BenefitFiguresSerializer(read_only=True, help_text="各类用户的四项数字；未填报的为 0。")
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="最近保存时间；从未填报为 null。")


class BenefitSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="供电企业简称代码。")
    company_name = serializers.CharField(source="company.name", read_only=True, help_text="供电企业名称。")
    region = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="区域代码。")

    class Meta:
        model = Benefit
        fields = [
            "company",
            "company_name",
            "region",
            "year",
            "half",
            "category",
            "households",
            "investment",
            "sales",
            "capacity",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "year": {"help_text": "年度。"},
            "half": {"help_text": "半年：1 上半年，2 下半年。"},
            "category": {
                "help_text": "类别：residential 居民用户，small_business 160kW及以下的企业用户，other 其他用户，sansheng “三省”服务效益。"
            },
            **{measure: {"help_text": label} for measure, label, _places in BENEFIT_MEASURES},
            "updated_at": {"help_text": "最近保存时间。"},
        }


class SnapshotSummarySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True, help_text="报表名称。")
    period = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="报告期代码。")
    region = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True, help_text="省份代码；全国汇总为 null。")
    url = serializers.SerializerMethodField(help_text="快照详情（含表格数据 JSON）的地址。")
    xlsx_url = serializers.SerializerMethodField(help_text="Excel 文件（.xlsx）下载地址。")

    class Meta:
        model = ReportSnapshot
        fields = ["id", "kind", "kind_label", "period", "region", "compiled_at", "confirmed_at", "data_state", "url", "xlsx_url"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "快照编号。"},
            "kind": {
                "help_text": "报表：attachment2 附件2 任务指标完成情况统计表，attachment3 附件3 服务效益统计表，national 全国汇总，completion 其他方案（如重庆 42 项）自己的完成情况统计表。"
            },
            "compiled_at": {"help_text": "编制时间。"},
            "confirmed_at": {"help_text": "确认时间；未确认为 null。确认后的快照不再改变。"},
            "data_state": {"help_text": "编制时的数据状态（操作记录编号与条数、服务效益更新时间），用于判断数据此后是否变化。"},
        }

    def get_url(self, snapshot) -> str:
        return reverse("api:report-snapshot-detail", args=[snapshot.pk], request=self.context.get("request"))

    def get_xlsx_url(self, snapshot) -> str:
        return reverse("api:report-snapshot-xlsx", args=[snapshot.pk], request=self.context.get("request"))


class ReportSnapshotSerializer(SnapshotSummarySerializer):
    data = serializers.JSONField(
        read_only=True,
        help_text="编制好的表格：header（标题、报告期、填报人等）、columns（指标列）、rows（省、市、县、小计和统计行，各格按统计表写法）；"
        "附件3 的 rows 为每项统计内容的四列数值与合计。",
    )

    class Meta(SnapshotSummarySerializer.Meta):
        fields = [*SnapshotSummarySerializer.Meta.fields, "data"]
        read_only_fields = fields


class ReportJobSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(
        choices=JobState.choices, read_only=True, help_text="状态：queued 排队中 → running 编制中 → done 已完成（或 failed 失败）。"
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True, help_text="状态的中文名称。")
    period = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="报告期代码。")
    # The lifecycle is the job's (utilities.models.Job); the report job keeps what it compiles.
    region = serializers.SlugRelatedField(
        source="job.region", slug_field="code", read_only=True, allow_null=True, help_text="省份代码；全国汇总为 null。"
    )
    progress = serializers.IntegerField(source="job.progress", read_only=True, min_value=0, max_value=100, help_text="进度，0–100。")
    message = serializers.CharField(source="job.message", read_only=True, help_text="当前步骤或失败原因。")
    created_at = serializers.DateTimeField(source="job.created_at", read_only=True, help_text="创建时间。")
    finished_at = serializers.DateTimeField(
        source="job.finished_at", read_only=True, allow_null=True, help_text="完成（或失败）时间；未结束为 null。"
    )
    snapshots = SnapshotSummarySerializer(
        many=True, read_only=True, help_text="编制出的报表快照（完成后才有）：省为附件2、附件3，全国为全国汇总。"
    )

    class Meta:
        model = ReportJob
        fields = ["id", "period", "region", "state", "state_label", "progress", "message", "created_at", "finished_at", "snapshots"]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "任务编号。"}}
