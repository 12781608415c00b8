"""Indicator sets, periods, each region's state in a period, its check-marks and the review steps.

Reads go through ``restrict(user, "view")``; writes call indicators.services with channel
"api", which check roles, scope, locks and review states; errors become the API's error body.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Substr
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.api.lookups import scoped_region
from accounts.api.schema import PERIOD_CODE, REGION_CODE, errors, region_code
from accounts.models import Region
from accounts.scoping import Action
from indicators import review, services
from indicators.applications.levels import limits_program, service_levels
from indicators.models import (
    Application,
    Channel,
    Checkmark,
    Indicator,
    IndicatorSet,
    Period,
    Program,
    SignoffException,
    Submission,
    SubmissionState,
)
from indicators.selectors import period_get, program_get, sheet
from indicators.signoff import named_counties
from utilities.api import IF_MATCH, NestedListView, etag, expected_version

from .filtersets import IndicatorFilterSet, RegionStateFilterSet
from .serializers import (
    CheckmarkSheetSerializer,
    CheckmarksWriteSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    IndicatorSerializer,
    IndicatorSetSerializer,
    PeriodSerializer,
    ProgramSerializer,
    ReasonSerializer,
    RegionStateDetailSerializer,
    RegionStateSerializer,
    ServiceLevelsSerializer,
    SignoffSerializer,
)

TAG_SETS = "指标体系"
TAG_PERIODS = "报告期与填报状态"
TAG_CHECKMARKS = "指标填报"
TAG_REVIEW = "审核流程"


PROGRAM_QUERY = OpenApiParameter(
    "program",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="方案代码（见 /api/v1/programs/），省略时为全国方案 national-2021。同一报告期代码在每个方案中各是一个报告期，"
    "如重庆的 2022S1 有全国方案的和重庆方案（chongqing-2021）的两个。未知方案返回 404。",
    examples=[OpenApiExample("全国方案", value="national-2021"), OpenApiExample("重庆方案", value="chongqing-2021")],
)
PROGRAM_PATH = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="方案代码，如“national-2021”“chongqing-2021”。",
    examples=[OpenApiExample("全国方案", value="national-2021")],
)
INDICATOR_SET_CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="指标体系代码，如“national-2021”。",
    examples=[OpenApiExample("国家 38 项指标", value="national-2021")],
)


@extend_schema_view(
    list=extend_schema(summary="指标体系列表", description="国家 38 项指标，以及您可查看的省级变体（如重庆 42 项）。"),
    retrieve=extend_schema(summary="指标体系详情", parameters=[INDICATOR_SET_CODE]),
)
@extend_schema(tags=[TAG_SETS])
class IndicatorSetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndicatorSetSerializer
    lookup_field = "code"

    def get_queryset(self):
        return (
            IndicatorSet.objects.restrict(self.request.user, Action.VIEW)
            .select_related("region")
            .annotate(indicator_count=Count("indicators"))
            .order_by("year", "code")
        )


@extend_schema(tags=[TAG_SETS], summary="指标体系的指标", parameters=[INDICATOR_SET_CODE])
class IndicatorListView(NestedListView):
    model = Indicator
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet

    def nested_queryset(self, code):
        indicator_set = get_object_or_404(IndicatorSet.objects.restrict(self.request.user, Action.VIEW), code=code)
        return Indicator.objects.restrict(self.request.user, Action.VIEW).filter(indicator_set=indicator_set).order_by("number")


@extend_schema_view(
    list=extend_schema(
        summary="方案列表",
        description="每个方案是一份文件的指标体系（只有台账的方案没有）、覆盖区域（空表示全国）和编制的报表。"
        "同一区域同一半年可以同时运行几个方案，各有自己的报告期。",
    ),
    retrieve=extend_schema(summary="方案详情", parameters=[PROGRAM_PATH]),
)
@extend_schema(tags=[TAG_SETS])
class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProgramSerializer
    lookup_field = "code"

    def get_queryset(self):
        return Program.objects.select_related("indicator_set").prefetch_related("regions").order_by("order", "code")


@extend_schema_view(
    list=extend_schema(
        summary="报告期列表",
        description="某方案（?program=，默认全国方案 national-2021）的报告期，按截止日期排列。报告期不分区域。",
        parameters=[PROGRAM_QUERY],
    ),
    retrieve=extend_schema(summary="报告期详情", parameters=[PERIOD_CODE, PROGRAM_QUERY]),
)
@extend_schema(tags=[TAG_PERIODS])
class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PeriodSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{4}(?:S1)?"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is built without a request or a database
            return Period.objects.none()
        program = program_get(self.request.query_params.get("program"))
        return Period.objects.filter(program=program).select_related("indicator_set", "program").order_by("ends")

    def get_object(self):
        # One lookup for every period endpoint, with its Chinese 404.
        return _period(self.request, self.kwargs["code"])


def region_states(user, period):
    """The regions ``user`` may view, each annotated with its Submission of ``period`` (or 填报中)."""
    submission = Submission.objects.restrict(user, Action.VIEW).filter(period=period, region=OuterRef("pk"))
    lock = Submission.objects.filter(
        period=period, state=SubmissionState.CONFIRMED, region__level="province", region__code=Substr(OuterRef("path"), 1, 6)
    )
    exception = SignoffException.objects.filter(county=OuterRef("pk"), submission__period=period)  # not locked
    return (
        Region.objects.restrict(user, Action.VIEW)
        .annotate(
            period_code=Value(period.code),
            state=Coalesce(Subquery(submission.values("state")[:1]), Value(SubmissionState.DRAFT.value)),
            version=Coalesce(Subquery(submission.values("version")[:1]), Value(0)),
            reason=Coalesce(Subquery(submission.values("reason")[:1]), Value("")),
            state_changed_at=Subquery(submission.values("state_changed_at")[:1]),
            locked=ExpressionWrapper(Exists(lock) & ~Exists(exception), output_field=BooleanField()),
        )
        .order_by("code")
    )


def _period(request, code):
    """The period ``code`` of the program named by ``?program=`` (none: the national one); an
    unknown program or a period it has not opened: 404 in the error body, with a Chinese message."""
    return period_get(code=code, program=request.query_params.get("program"))


def region_state(user, period, region):
    """One region's state, with what it still misses when it fills indicators."""
    state = region_states(user, period).get(pk=region.pk)
    state.missing = services.missing_entries(region=region, period=period)[0]
    return state


@extend_schema(
    tags=[TAG_PERIODS],
    summary="各区域本期填报状态",
    description="您可查看的每个区域在本期所处的审核状态；从未填报的区域为 draft（填报中）。可按层级、上级、所属区域和状态筛选，"
    "如某市各县：?level=county&parent=510100；全省已上报的县：?within=510000&level=county&state=submitted。",
    parameters=[PERIOD_CODE, PROGRAM_QUERY],
)
class RegionStateListView(NestedListView):
    model = Region
    serializer_class = RegionStateSerializer
    filterset_class = RegionStateFilterSet

    def nested_queryset(self, code):
        return region_states(self.request.user, _period(self.request, code))


@extend_schema(
    tags=[TAG_PERIODS],
    summary="某区域本期填报状态",
    parameters=[PERIOD_CODE, PROGRAM_QUERY, REGION_CODE],
    description="状态、数据版本、退回原因、是否锁定，以及尚未填写完整的指标。",
)
class RegionStateView(generics.GenericAPIView):
    serializer_class = RegionStateDetailSerializer

    def get(self, request, code, region_code):
        period = _period(self.request, code)
        region = scoped_region(request.user, region_code, Submission)
        return Response(self.get_serializer(region_state(request.user, period, region)).data)


CHECKMARKS_EXAMPLE = OpenApiExample(
    "县级指标",
    request_only=True,
    value={
        "checkmarks": [
            {"number": 1, "status": "done", "done_month": "2021-06"},
            {"number": 5, "status": "not_done", "expected_month": "2022-12", "note": "配套电网改造进行中"},
            {"number": 8, "status": ""},
        ]
    },
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description='本区域本期数据的版本（如 "3"），写入时放在 If-Match 中。',
)


@extend_schema_view(
    get=extend_schema(
        summary="读取某县（或省）本期指标填报",
        description="县：31 项县级指标；省（代码如 510000）：7 项省级指标（*21、*27…）。地市没有指标填报，返回 404。"
        "响应头 ETag 是数据版本，写入时放在 If-Match 中。",
        parameters=[PERIOD_CODE, PROGRAM_QUERY, REGION_CODE, ETAG_HEADER],
        responses={200: CheckmarkSheetSerializer},
    ),
    put=extend_schema(
        summary="批量写入某县（或省）本期指标",
        description="一次写入部分或全部指标，全部校验通过才写入，任何一项有误则一项也不写（400，errors 按指标序号列出）。"
        "必须带 If-Match（见参数说明）。本期已由省级确认锁定时返回 409；县已上报、等待审核时县级令牌写入也返回 409。"
        "每项改动都记入操作记录，渠道为“接口”。",
        parameters=[PERIOD_CODE, PROGRAM_QUERY, REGION_CODE, IF_MATCH, ETAG_HEADER],
        request=CheckmarksWriteSerializer,
        examples=[CHECKMARKS_EXAMPLE],
        responses={200: CheckmarkSheetSerializer, **errors(409, 412, 428)},
    ),
)
@extend_schema(tags=[TAG_CHECKMARKS])
class CheckmarksView(generics.GenericAPIView):
    serializer_class = CheckmarksWriteSerializer
    levels = ("county", "province")

    def _target(self, code, region_code):
        return _period(self.request, code), scoped_region(self.request.user, region_code, Checkmark, self.levels)

    def get(self, request, code, region_code):
        period, region = self._target(code, region_code)
        return self._sheet(period, region)

    def put(self, request, code, region_code):
        period, region = self._target(code, region_code)
        stored = Submission.objects.filter(region=region, period=period).values_list("version", flat=True)
        version = expected_version(request, current=lambda: stored.first() or 0)
        labels = dict(Indicator.objects.filter(indicator_set=period.indicator_set_id, level=region.level).values_list("number", "label"))
        serializer = CheckmarksWriteSerializer(data=request.data, context={"labels": labels})
        serializer.is_valid(raise_exception=True)
        # The sheet's one write, as on the page (evidence and submit have their own endpoints).
        saved = services.sheet_save(
            user=request.user,
            region=region,
            period=period,
            values=serializer.values(),
            expected_version=services.ANY_VERSION if version is None else version,
            channel=Channel.API,
        )
        return self._sheet(period, region, saved.changed)

    def _sheet(self, period, region, changed=None):
        data = sheet(region=region, period=period)
        state = region_state(self.request.user, period, region)
        state.sheet_checkmarks = [row.checkmark or Checkmark(region=region, period=period, indicator=row.indicator) for row in data.rows]
        state.changed = changed
        body = CheckmarkSheetSerializer(state, context={"today": timezone.localdate()}).data
        return Response(body, headers={"ETag": etag(state.version)})


@extend_schema(
    tags=[TAG_CHECKMARKS],
    summary="上传某项指标的佐证材料",
    description="multipart/form-data，字段 file。与网页上传同一规则：按文件内容识别类型（PDF、图片、Office、WPS），"
    "不超过 20 MB，否则返回 400；谁能写该区域本期指标，谁就能上传（本期已锁定返回 409）。"
    "上传使数据版本加 1（新的 ETag 见读取指标填报）；记入操作记录，渠道为“接口”。",
    parameters=[
        PERIOD_CODE,
        PROGRAM_QUERY,
        REGION_CODE,
        OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="指标序号。"),
    ],
    request={"multipart/form-data": EvidenceUploadSerializer},
    responses={201: EvidenceSerializer, **errors(409, 413, 415)},
)
class EvidenceUploadView(generics.GenericAPIView):
    serializer_class = EvidenceUploadSerializer
    parser_classes = [MultiPartParser]

    def post(self, request, code, region_code, number):
        period = _period(self.request, code)
        region = scoped_region(request.user, region_code, Checkmark, CheckmarksView.levels)
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = services.evidence_add(
            user=request.user,
            region=region,
            period=period,
            number=number,
            upload=serializer.validated_data["file"],
            channel=Channel.API,
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


@dataclass(frozen=True)
class ReviewAction:
    service: object
    levels: tuple
    needs_reason: bool
    summary: str
    description: str
    names_exceptions: bool = False


REVIEW_ACTIONS = {
    "submit": ReviewAction(
        services.county_submit,
        ("county",),
        False,
        "县级上报",
        "县级用户（或县级令牌）上报本县本期数据。所有县级指标须填写完整、预计完成月份未过，否则返回 400 并列出问题。",
    ),
    "return": ReviewAction(
        review.county_return, ("county",), True, "退回县级数据", "地市或省级退回已上报或已审核的县，须填写原因；县可修改后重新上报。"
    ),
    "approve": ReviewAction(review.county_approve, ("county",), False, "审核通过县级数据", "地市或省级审核通过已上报的县。"),
    "accept": ReviewAction(
        review.city_accept,
        ("city",),
        False,
        "省级接收地市",
        "省级接收一个地市：该市各县须已市级审核通过，或在 exceptions 中列为例外并写明原因（请求体可省略）。",
        True,
    ),
    "confirm": ReviewAction(
        review.period_confirm,
        ("province",),
        False,
        "省级确认（锁定本期）",
        "省级确认本省本期数据：各地市须已接收，或其未经市级审核的县在 exceptions 中逐一列为例外并写明原因"
        "（该地市保持未接收）；省级指标须填写完整。确认后全省本期数据锁定，任何写入返回 409，列为例外的县除外。",
        True,
    ),
    "reopen": ReviewAction(review.period_reopen, ("province",), True, "重新开放本期", "省级重新开放已确认的本期数据以便更正，须填写原因。"),
}


class ReviewActionView(generics.GenericAPIView):
    action_name = None
    serializer_class = RegionStateSerializer

    def post(self, request, code, region_code):
        action = REVIEW_ACTIONS[self.action_name]
        period = _period(self.request, code)
        region = scoped_region(request.user, region_code, Submission, action.levels)
        kwargs = {}
        if action.needs_reason:
            reason = ReasonSerializer(data=request.data)
            reason.is_valid(raise_exception=True)
            kwargs["reason"] = reason.validated_data["reason"]
        if action.names_exceptions:
            body = SignoffSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            kwargs["exceptions"], errors = named_counties(user=request.user, named=body.named())
            if errors:
                raise ValidationError(errors)
        action.service(user=request.user, region=region, period=period, channel=Channel.API, **kwargs)
        return Response(RegionStateSerializer(region_states(request.user, period).get(pk=region.pk)).data)


REQUEST_EXAMPLES = {
    "return": [OpenApiExample("原因", value={"reason": "指标 8 缺少佐证材料"}, request_only=True)],
    "reopen": [OpenApiExample("原因", value={"reason": "国家能源局要求更正指标 8"}, request_only=True)],
    "accept": [OpenApiExample("列为例外", value={"exceptions": [{"county": "510104", "reason": "受灾，数据待核实"}]}, request_only=True)],
    "confirm": [
        OpenApiExample("列为例外", value={"exceptions": [{"county": "510703", "reason": "地市尚未审核，先行上报"}]}, request_only=True)
    ],
}


def review_action_view(name):
    """The view of one review step, with its own documented operation."""
    action = REVIEW_ACTIONS[name]
    view = type(f"Review{name.title()}View", (ReviewActionView,), {"action_name": name})
    return extend_schema_view(
        post=extend_schema(
            tags=[TAG_REVIEW],
            operation_id=f"review_{name}",
            summary=action.summary,
            description=action.description + "成功时返回该区域的新状态；记入操作记录，渠道为“接口”。",
            parameters=[PERIOD_CODE, PROGRAM_QUERY, region_code(action.levels[0])],
            request=ReasonSerializer if action.needs_reason else SignoffSerializer if action.names_exceptions else None,
            examples=REQUEST_EXAMPLES.get(name, []),
            responses={200: RegionStateSerializer, **errors(409)},
        )
    )(view).as_view()


LIMITS_QUERY = OpenApiParameter(
    "limits",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="按哪个方案的时限测算（须覆盖该区域，如重庆区县用 chongqing-2021），省略时为报告期所属方案。",
)


@extend_schema(
    tags=[TAG_PERIODS],
    summary="某区域本期用电报装服务水平",
    description="按报装记录测算：各用户类别的申请件数，各环节、各环节合计和全过程的平均、最长工作日，方案各项时限的达标率，"
    "零投资占比；平均、最长时限目标是否达到；全过程用时分布；下级区域（市的各县、省的各市）及各自的平均、最长时限目标是否达到；"
    "本方案各报告期的趋势（全部用户类别合计及各用户类别）。"
    "只计您可查看的记录。",
    parameters=[PERIOD_CODE, PROGRAM_QUERY, REGION_CODE, LIMITS_QUERY],
    responses={200: ServiceLevelsSerializer},
)
class ServiceLevelsView(generics.GenericAPIView):
    serializer_class = ServiceLevelsSerializer

    def get(self, request, code, region_code):
        period = _period(request, code)
        region = scoped_region(request.user, region_code, Application, levels={"county", "city", "province"})
        program = limits_program(region=region, period=period, code=request.query_params.get("limits"))
        return Response(self.get_serializer(service_levels(user=request.user, region=region, period=period, program=program)).data)
