"""附件3 figures, compile jobs and compiled tables. Reads through ``restrict(user, "view")``;
writes through reporting.services (which check roles and scope)."""

from django.db.models import Max, Sum
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.api.lookups import scoped_region
from accounts.api.permissions import HasPerm
from accounts.api.schema import PERIOD_CODE, REGION_CODE, region_code
from accounts.scoping import Action
from indicators.selectors import period_get
from reporting import services
from reporting.models import Benefit, Reliability, ReportJob, ReportSnapshot
from reporting.scorecard_inputs import scorecard_get
from reporting.tables import BENEFIT_CATEGORIES, BENEFIT_MEASURES

from .filtersets import BenefitFilterSet, ReportJobFilterSet, ReportSnapshotFilterSet
from .permissions import ReportReader
from .serializers import (
    BenefitFiguresSerializer,
    BenefitSerializer,
    BenefitSheetSerializer,
    ReportJobSerializer,
    ReportSnapshotSerializer,
    SnapshotSummarySerializer,
)

TAG_BENEFITS = "服务效益（附件3）"
TAG_REPORTS = "统计报表"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HALVES = (1, 2)
YEARS = range(2000, 2101)
REPORT_PERMISSIONS = [*api_settings.DEFAULT_PERMISSION_CLASSES, ReportReader]
SCORECARD_READERS = "获得电力评分只供省级、地市级能源主管部门及国家层面查看。"


@extend_schema(tags=[TAG_BENEFITS], summary="服务效益记录列表", description="您可查看的各区域、各半年、各类别的服务效益数字。")
class BenefitListView(generics.ListAPIView):
    serializer_class = BenefitSerializer
    filterset_class = BenefitFilterSet

    def get_queryset(self):
        return (
            Benefit.objects.restrict(self.request.user, Action.VIEW)
            .select_related("region", "company")
            .order_by("region__code", "year", "half", "company__code", "category")
        )


BENEFIT_PATH = [
    REGION_CODE,
    OpenApiParameter(
        "year", OpenApiTypes.INT, OpenApiParameter.PATH, description="年度，如 2022。", examples=[OpenApiExample("2022 年", value=2022)]
    ),
    OpenApiParameter("half", OpenApiTypes.INT, OpenApiParameter.PATH, enum=list(HALVES), description="半年：1 上半年，2 下半年。"),
]
BENEFITS_EXAMPLE = OpenApiExample(
    "上半年",
    request_only=True,
    value={
        "residential": {"households": 1520, "investment": "356.20", "sales": "88.00", "capacity": "12.50"},
        "small_business": {"households": 310, "investment": "1024.75"},
        "sansheng": {"households": 95, "investment": "210.00", "sales": "35.40", "capacity": "6.80"},
    },
)


@extend_schema_view(
    get=extend_schema(summary="读取某区域某半年的服务效益", parameters=BENEFIT_PATH),
    put=extend_schema(
        summary="填报某区域某半年的服务效益",
        description="供电企业填报其供电服务区域内一个区域一个半年的“三零”“三省”服务效益（记在令牌或账号所属的供电企业名下），"
        "整表替换：省略的类别或数字记为 0。一个企业只在其服务区域的层级填报，服务区域以外的区域被拒绝（400）。"
        "全部校验通过才保存，任何一项有误则一项也不保存（400，errors 以“类别.数字”为键）。"
        "省级统计表上半年取各地上半年数，全年取上、下半年之和。",
        parameters=BENEFIT_PATH,
        request=BenefitFiguresSerializer,
        examples=[BENEFITS_EXAMPLE],
    ),
)
@extend_schema(tags=[TAG_BENEFITS], responses={200: BenefitSheetSerializer})
class BenefitSheetView(generics.GenericAPIView):
    serializer_class = BenefitFiguresSerializer

    def _target(self, region_code, year, half):
        if half not in HALVES or year not in YEARS:
            raise NotFound("年度应在 2000–2100 之间，半年应为 1（上半年）或 2（下半年）。")
        return scoped_region(self.request.user, region_code, Benefit)

    def get(self, request, region_code, year, half):
        return self._sheet(self._target(region_code, year, half), year, half)

    def put(self, request, region_code, year, half):
        region = self._target(region_code, year, half)
        serializer = BenefitFiguresSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.benefits_set(user=request.user, region=region, year=year, half=half, figures=serializer.figures(), channel="api")
        return self._sheet(region, year, half)

    def _sheet(self, region, year, half):
        # A supply company reads its own figures; anyone else the sum over the companies serving the region.
        company = self.request.user.company
        rows = Benefit.objects.restrict(self.request.user, Action.VIEW).filter(region=region, year=year, half=half)
        if company is not None:
            rows = rows.filter(company=company)
        sums = rows.values("category").annotate(**{m: Sum(m) for m, _label, _places in BENEFIT_MEASURES}).order_by()
        stored = {row["category"]: row for row in sums}
        figures = {
            category: {measure: stored.get(category, {}).get(measure) or 0 for measure, _label, _places in BENEFIT_MEASURES}
            for category, _label in BENEFIT_CATEGORIES
        }
        sheet = {
            "region": region,
            "year": year,
            "half": half,
            "company": company.code if company else None,
            "figures": figures,
            "updated_at": rows.aggregate(last=Max("updated_at"))["last"],
        }
        return Response(BenefitSheetSerializer(sheet).data)


@extend_schema(tags=[TAG_REPORTS])
class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Jobs and snapshots, for report readers, as far as their scope goes."""

    model = None
    permission_classes = REPORT_PERMISSIONS

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, Action.VIEW).select_related("period", "region")


@extend_schema_view(
    list=extend_schema(summary="编制任务列表"),
    retrieve=extend_schema(
        summary="编制任务状态", description="轮询此地址直到 state 为 done（或 failed）；完成后 snapshots 列出编制出的报表。"
    ),
)
class ReportJobViewSet(ReportViewSet):
    model = ReportJob
    serializer_class = ReportJobSerializer
    filterset_class = ReportJobFilterSet

    def get_queryset(self):
        return (
            self.model.objects.restrict(self.request.user, Action.VIEW)
            .select_related("period", "job__region")
            .prefetch_related("snapshots__period", "snapshots__region")
        )


@extend_schema(
    tags=[TAG_REPORTS],
    request=None,
    responses={202: OpenApiResponse(ReportJobSerializer, "已排队：响应头 Location 是任务状态的地址，轮询至完成。")},
)
class ReportJobCreateView(generics.GenericAPIView):
    serializer_class = ReportJobSerializer
    permission_classes = REPORT_PERMISSIONS

    def post(self, request, code, region_code=None):
        # 附件2, 附件3 and the roll-up are the national program's tables: its period, Chinese 404 otherwise.
        period = period_get(code=code)
        province = None if region_code is None else scoped_region(request.user, region_code, ReportJob, ("province",))
        job = services.report_job_start(user=request.user, province=province, period=period)
        job.refresh_from_db()
        location = reverse("api:report-job-detail", args=[job.pk])
        return Response(
            ReportJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )


@extend_schema(
    summary="编制某省本期统计表",
    parameters=[PERIOD_CODE, region_code("province")],
    description="在后台编制附件2和附件3（省级能源主管部门可编制本省，国家能源局可编制任何省）。",
)
class ProvinceReportJobCreateView(ReportJobCreateView):
    pass


@extend_schema(summary="编制本期全国汇总", parameters=[PERIOD_CODE], description="在后台编制全国汇总（仅国家能源局）。")
class NationalReportJobCreateView(ReportJobCreateView):
    pass


@extend_schema_view(
    list=extend_schema(summary="报表快照列表", responses={200: SnapshotSummarySerializer(many=True)}),
    retrieve=extend_schema(summary="报表快照（表格数据 JSON）"),
    xlsx=extend_schema(
        summary="下载报表快照的 Excel 文件",
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, "统计表 .xlsx 文件，版式同官方附件。")},
    ),
)
class ReportSnapshotViewSet(ReportViewSet):
    model = ReportSnapshot
    serializer_class = ReportSnapshotSerializer
    filterset_class = ReportSnapshotFilterSet

    def get_serializer_class(self):
        return SnapshotSummarySerializer if self.action == "list" else ReportSnapshotSerializer

    def perform_content_negotiation(self, request, force=False):
        # The .xlsx is sent as a file, so an Accept for it must not end in 406; errors stay JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "xlsx")

    @action(detail=True, url_path="xlsx")
    def xlsx(self, request, pk=None):
        snapshot = self.get_object()
        region = snapshot.region.name if snapshot.region else "全国"
        name = f"{region}{snapshot.period.label}{snapshot.get_kind_display().split()[0]}.xlsx"
        return FileResponse(snapshot.xlsx.open("rb"), as_attachment=True, filename=name, content_type=XLSX)


# --- the Getting-Electricity scorecard (issue 14 §4) ---------------------------------------------

TAG_SCORECARD = "获得电力评分"


class ScoreSerializer(serializers.Serializer):
    applications = serializers.IntegerField(help_text="报装记录数")
    procedures = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True, help_text="平均办电环节（个）")
    time = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True, help_text="平均办电时间（工作日，受理至接电）")
    zero_percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True, help_text="零投资占比（%）")
    investment = serializers.DecimalField(max_digits=16, decimal_places=1, allow_null=True, help_text="户均用户投资（元）")
    saidi = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True, help_text="户均停电时间（小时/户）")
    saifi = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True, help_text="户均停电次数（次/户）")
    scores = serializers.DictField(
        child=serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True),
        help_text="各项得分（0–100）：procedures、time、cost、reliability",
    )
    overall = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True, help_text="总分：有数据各项得分的平均")


class ScorecardRowSerializer(serializers.Serializer):
    region = serializers.CharField(source="region.code", help_text="县的行政区划代码")
    name = serializers.CharField(source="region.name", help_text="县名")
    city = serializers.CharField(source="region.parent.code", help_text="所属地市的行政区划代码")
    current = ScoreSerializer(help_text="本期各项数值与得分")
    previous = ScoreSerializer(allow_null=True, help_text="上一报告期的数值与得分；无上期时为 null")
    city_rank = serializers.IntegerField(allow_null=True, help_text="地市内名次（同分同名次）；无总分时为 null")
    province_rank = serializers.IntegerField(allow_null=True, help_text="省级区域时才有")
    city_movement = serializers.IntegerField(allow_null=True, help_text="地市内名次比上期上升（正）或下降（负）的位数")
    province_movement = serializers.IntegerField(allow_null=True, help_text="全省名次比上期上升（正）或下降（负）的位数")
    score_change = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="总分比上期的变化")


class AreaScoreSerializer(serializers.Serializer):
    region = serializers.CharField(source="region.code", help_text="地市或省的行政区划代码")
    name = serializers.CharField(source="region.name", help_text="地市或省名")
    level = serializers.CharField(source="region.level", help_text="city 或 province")
    current = ScoreSerializer(
        help_text="本期各项数值与得分：所辖各县报装记录合计计算；SAIDI/SAIFI 为本级填报数，未填报时为所辖各县的简单平均"
    )
    previous = ScoreSerializer(allow_null=True, help_text="上一报告期的数值与得分；无上期时为 null")
    province_rank = serializers.IntegerField(allow_null=True, help_text="地市在全省内的名次（省级区域时才有；省本身为 null）")
    province_movement = serializers.IntegerField(allow_null=True, help_text="全省名次比上期上升（正）或下降（负）的位数")
    score_change = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="总分比上期的变化")


class ScorecardSerializer(serializers.Serializer):
    region = serializers.CharField(source="region.code", help_text="排名范围（省或地市）的行政区划代码")
    period = serializers.CharField(source="period.code", help_text="报告期代码")
    previous_period = serializers.CharField(
        source="previous.code", allow_null=True, default=None, help_text="用于比较的上一报告期；无则为 null"
    )
    rows = ScorecardRowSerializer(source="counties", many=True, help_text="各县，按总分从高到低")
    cities = AreaScoreSerializer(many=True, help_text="各地市（地市级区域时为其本身，不排名），按总分从高到低")
    province = AreaScoreSerializer(allow_null=True, help_text="全省（省级区域时才有，否则为 null）")


@extend_schema(
    tags=[TAG_SCORECARD],
    summary="某省或地市各县的获得电力评分",
    description="按世界银行“获得电力”方法改编（docs/scorecard.md）：办电环节、办电时间、办电成本、供电可靠性各按与前沿的距离计 0–100 分，"
    "总分为有数据各项的平均；各县在地市内（省级区域时也在全省）排名，并与上一报告期比较。只计您可查看的记录。"
    "`rows` 为各县；`cities`（各地市，省级区域时在全省内排名）和 `province`（全省）按所辖各县的记录合计计算，"
    "供电可靠性用本级填报的数字，未填报时用所辖各县数字的简单平均。",
    parameters=[
        PERIOD_CODE,
        region_code("province"),
        OpenApiParameter("program", OpenApiTypes.STR, OpenApiParameter.QUERY, description="方案代码；不填为全国方案。"),
    ],
    responses={200: ScorecardSerializer},
)
class ScorecardView(generics.GenericAPIView):
    serializer_class = ScorecardSerializer
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, HasPerm.of("reporting.view_scorecard", SCORECARD_READERS)]

    def get(self, request, code, region_code):
        region = scoped_region(request.user, region_code, Reliability, ("province", "city"))
        if not request.user.has_perm("reporting.view_scorecard", region):
            raise PermissionDenied(SCORECARD_READERS)
        period = period_get(code=code, program=request.query_params.get("program"))
        card = scorecard_get(user=request.user, region=region, period=period)
        return Response(ScorecardSerializer(card).data)
