"""Ledgers, their items, assignments (分解), progress, review and 督办.

Reads go through ``restrict(user, "view")`` (out of scope answers 404, like unknown); writes call
ledger.services with channel "api", which check who may edit, assign, report or review (403).
"""

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api.schema import errors
from accounts.models import Region
from accounts.scoping import Action
from indicators.models import Channel, Indicator
from ledger import selectors, services
from ledger.models import Assignment, LedgerItem, ProgressEvidence, ProgressUpdate
from utilities.api import IF_MATCH, NestedListView, etag, expected_version

from .filtersets import AssignmentFilterSet, LedgerFilterSet
from .serializers import (
    AssignmentCreateSerializer,
    AssignmentSerializer,
    LedgerItemSerializer,
    LedgerItemWriteSerializer,
    LedgerSerializer,
    PressingSerializer,
    PressSerializer,
    ProgressReportSerializer,
    ProgressUpdateSerializer,
    ReviewSerializer,
)

TAG_LEDGERS = "任务台账"
TAG_ASSIGNMENTS = "任务分解与进展"

LEDGER_CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="台账代码，如“national-2021”（国家台账原文）。不在您可查看范围内的台账返回 404。",
    examples=[OpenApiExample("国家台账原文", value="national-2021")],
)
ITEM_NUMBER = OpenApiParameter(
    "number",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="台账事项序号。",
    examples=[OpenApiExample("第 1 项", value=1)],
)
ASSIGNMENT_ID = OpenApiParameter(
    "id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="任务分解编号。不在您可查看范围内的任务返回 404。",
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description='本任务的数据版本（如 "3"），报送进展时放在 If-Match 中。',
)
PROGRESS_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    description='报送后本任务的新版本（如 "4"）。',
)


def _ledger(user, code):
    return selectors.ledger_for(user=user, code=code)


def _items(user, ledger):
    indicators = Indicator.objects.select_related("indicator_set")
    assignments = Assignment.objects.restrict(user, Action.VIEW)
    return (
        LedgerItem.objects.restrict(user, Action.VIEW)
        .filter(ledger=ledger)
        .select_related("ledger", "source_item")
        .prefetch_related(Prefetch("indicators", queryset=indicators))
        .annotate(assignment_count=Count("assignments", filter=Q(assignments__in=assignments), distinct=True))
        .order_by("number")
    )


def _item(user, ledger, number):
    return get_object_or_404(_items(user, ledger), number=number)


def _assignments(user):
    return Assignment.objects.restrict(user, Action.VIEW).select_related("item__ledger", "region", "org_unit__company", "updated_by")


def _assignment(user, pk):
    return get_object_or_404(_assignments(user), pk=pk)


@extend_schema_view(
    list=extend_schema(
        summary="任务台账列表",
        description="国家台账原文、您所在区域及其上级的台账，以及您管辖范围内各地制定的本地台账。可按所属区域、年度、是否文件原文筛选。",
    ),
    retrieve=extend_schema(summary="任务台账详情", parameters=[LEDGER_CODE]),
)
@extend_schema(tags=[TAG_LEDGERS])
class LedgerViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LedgerSerializer
    filterset_class = LedgerFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return selectors.ledgers_for(self.request.user).select_related("source").order_by("year", "code")


@extend_schema(
    tags=[TAG_LEDGERS],
    summary="台账事项列表",
    parameters=[LEDGER_CODE],
    description="台账的全部事项，按序号排列，含附加列内容和衡量指标。",
)
class LedgerItemListView(NestedListView):
    model = LedgerItem
    serializer_class = LedgerItemSerializer

    def nested_queryset(self, code):
        return _items(self.request.user, _ledger(self.request.user, code))


@extend_schema_view(
    get=extend_schema(summary="台账事项详情", parameters=[LEDGER_CODE, ITEM_NUMBER], responses={200: LedgerItemSerializer}),
    put=extend_schema(
        summary="修改台账事项",
        description="修改一项事项的内容（可连同序号），完成时间原文由系统重新解析。只有台账所属区域的省、市主管部门可以修改；"
        "文件原文（is_reference 为 true）只读，返回 403。记入操作记录，渠道为“接口”。",
        parameters=[LEDGER_CODE, ITEM_NUMBER],
        request=LedgerItemWriteSerializer,
        examples=[
            OpenApiExample(
                "修改事项",
                request_only=True,
                value={
                    "category": "压减办电时间",
                    "task": "低压小微企业办电时间压减至 15 个工作日以内",
                    "responsible_units": "省能源局、国网四川省电力公司",
                    "due_text": "2024年6月底前",
                    "indicators": [{"indicator_set": "national-2021", "number": 1}],
                },
            )
        ],
        responses={200: LedgerItemSerializer},
    ),
)
@extend_schema(tags=[TAG_LEDGERS])
class LedgerItemView(generics.GenericAPIView):
    serializer_class = LedgerItemWriteSerializer

    def get(self, request, code, number):
        return Response(LedgerItemSerializer(_item(request.user, _ledger(request.user, code), number)).data)

    def put(self, request, code, number):
        ledger = _ledger(request.user, code)
        item = _item(request.user, ledger, number)
        serializer = LedgerItemWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        indicators = None
        if "indicators" in data:
            selectors.ensure_can_edit(request.user, ledger)  # refuse (403) before saying which indicator is unknown
            indicators = self._indicators(ledger, data["indicators"])
        services.ledger_item_save(
            user=request.user,
            ledger=ledger,
            number=data.get("number", item.number),
            category=data["category"],
            task=data["task"],
            responsible_units=data["responsible_units"],
            due_text=data["due_text"],
            extra=data.get("extra"),
            indicators=indicators,
            item=item,
            channel=Channel.API,
        )
        return Response(LedgerItemSerializer(_item(request.user, ledger, data.get("number", item.number))).data)

    def _indicators(self, ledger, links):
        choices = {(i.indicator_set.code, i.number): i for i in selectors.indicator_choices(user=self.request.user, ledger=ledger)}
        found, unknown = [], []
        for link in links:
            key = (link["indicator_set"], link["number"])
            (found.append(choices[key]) if key in choices else unknown.append(f"{key[0]} 第 {key[1]} 项"))
        if unknown:
            raise ValidationError(
                {"indicators": [f"不能选用这些指标：{'、'.join(unknown)}（只能选国家指标体系和本台账所属区域及其上级的指标）。"]}
            )
        return found


@extend_schema(
    tags=[TAG_ASSIGNMENTS],
    summary="分解台账事项",
    parameters=[LEDGER_CODE, ITEM_NUMBER],
    description="把事项的一部分分解给下级区域及其责任单位，或（填写 parent）由地市把分给本市的任务继续分解到县。"
    "直接分解只能由台账所属区域的省、市主管部门进行；文件原文不能分解（403）。节点时间省略时取事项的完成期限。"
    "记入进展记录，渠道为“接口”。",
    request=AssignmentCreateSerializer,
    examples=[
        OpenApiExample(
            "分解到县",
            request_only=True,
            value={
                "region": "510104",
                "responsible_unit": "锦江区发改局",
                "lead": True,
                "contact": "张三",
                "phone": "028-12345678",
                "milestone": "2024-09-30",
            },
        )
    ],
    responses={201: AssignmentSerializer},
)
class AssignmentCreateView(generics.GenericAPIView):
    serializer_class = AssignmentCreateSerializer

    def post(self, request, code, number):
        ledger = _ledger(request.user, code)
        item = _item(request.user, ledger, number)
        serializer = AssignmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        region = Region.objects.restrict(request.user, Action.VIEW).filter(code=data["region"]).first()
        if region is None:
            raise ValidationError({"region": [f"没有代码为 {data['region']} 的区域，或该区域不在您的管辖范围内。"]})
        parent = None
        if data["parent"] is not None:
            parent = _assignments(request.user).filter(pk=data["parent"], item=item).first()
            if parent is None:
                raise ValidationError({"parent": [f"本事项没有编号为 {data['parent']} 的分解，或它不在您的管辖范围内。"]})
        assignment = services.assignment_create(
            user=request.user,
            item=item,
            region=region,
            responsible_unit=data["responsible_unit"],
            lead=data["lead"],
            contact=data["contact"],
            phone=data["phone"],
            milestone=data["milestone"],
            parent=parent,
            channel=Channel.API,
        )
        body = AssignmentSerializer(_assignment(request.user, assignment.pk)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"ETag": etag(assignment.version)})


@extend_schema_view(
    list=extend_schema(
        summary="任务分解列表",
        description="您管辖范围内各区域的任务（分给本区域及其下级的），逾期的在前，再按节点时间排列。"
        "可按台账、事项、区域、状态、是否逾期和节点时间筛选，如本省逾期任务：?overdue=true；"
        "某台账 9 月底前到期的：?ledger=510000-2024&milestone_before=2024-09-30。",
    ),
    retrieve=extend_schema(
        summary="任务分解详情",
        parameters=[ASSIGNMENT_ID, ETAG_HEADER],
        description="含数据版本 version；响应头 ETag 即该版本，报送进展时放在 If-Match 中。",
    ),
)
@extend_schema(tags=[TAG_ASSIGNMENTS])
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors._late_first(_assignments(self.request.user), timezone.localdate())

    def retrieve(self, request, *args, **kwargs):
        assignment = self.get_object()
        return Response(self.get_serializer(assignment).data, headers={"ETag": etag(assignment.version)})


@extend_schema_view(
    get=extend_schema(
        summary="任务的进展记录",
        parameters=[ASSIGNMENT_ID],
        description="分解、报送进展、审阅意见、退回和系统标记逾期的全部记录，新的在前；含操作人和渠道。",
    ),
    post=extend_schema(
        summary="报送进展",
        description="责任区域（或服务该区域的供电企业）报送新状态和进展情况。必须带 If-Match（任务详情的 ETag）："
        "任务此后已被他人更新则返回 412，不作任何修改。记入进展记录，渠道为“接口”。佐证材料请通过网页上传。",
        parameters=[ASSIGNMENT_ID, IF_MATCH, PROGRESS_ETAG],
        request=ProgressReportSerializer,
        examples=[
            OpenApiExample(
                "报送进展",
                request_only=True,
                value={
                    "status": "in_progress",
                    "note": "已完成 10kV 配套线路选址",
                    "progress_on": "2024-05-20",
                },
            )
        ],
        responses={201: ProgressUpdateSerializer, **errors(412, 428)},
    ),
)
@extend_schema(tags=[TAG_ASSIGNMENTS])
class ProgressView(NestedListView):
    model = ProgressUpdate
    serializer_class = ProgressUpdateSerializer

    def get_serializer_class(self):
        return ProgressReportSerializer if self.request.method == "POST" else ProgressUpdateSerializer

    def nested_queryset(self, pk):
        assignment = _assignment(self.request.user, pk)
        evidence = ProgressEvidence.objects.restrict(self.request.user, Action.VIEW)
        return (
            ProgressUpdate.objects.restrict(self.request.user, Action.VIEW)
            .filter(assignment=assignment)
            .select_related("user")
            .prefetch_related(Prefetch("evidence", queryset=evidence))
            .order_by("-at", "-pk")
        )

    def post(self, request, pk):
        assignment = _assignment(request.user, pk)
        version = expected_version(request, current=lambda: assignment.version)
        serializer = ProgressReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        update = services.progress_report(
            user=request.user,
            assignment=assignment,
            status=data["status"],
            note=data["note"],
            progress_on=data["progress_on"],
            expected_version=version,
            channel=Channel.API,
        )
        update = ProgressUpdate.objects.select_related("user").prefetch_related("evidence").get(pk=update.pk)
        new_version = Assignment.objects.filter(pk=assignment.pk).values_list("version", flat=True).get()
        return Response(ProgressUpdateSerializer(update).data, status=status.HTTP_201_CREATED, headers={"ETag": etag(new_version)})


@extend_schema(
    tags=[TAG_ASSIGNMENTS],
    summary="审阅或退回任务",
    parameters=[ASSIGNMENT_ID],
    request=ReviewSerializer,
    description="上级主管部门（省、市）对下级的任务写审阅意见；send_back 为 true 时退回报送为“已完成”的任务（回到“推进中”，版本加 1）。"
    "记入进展记录，渠道为“接口”。",
    examples=[OpenApiExample("退回", request_only=True, value={"note": "请补充验收材料", "send_back": True})],
    responses={200: ProgressUpdateSerializer},
)
class ReviewView(generics.GenericAPIView):
    serializer_class = ReviewSerializer

    def post(self, request, pk):
        assignment = _assignment(request.user, pk)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update = services.progress_review(
            user=request.user,
            assignment=assignment,
            note=serializer.validated_data["note"],
            send_back=serializer.validated_data["send_back"],
            channel=Channel.API,
        )
        update = ProgressUpdate.objects.select_related("user").prefetch_related("evidence").get(pk=update.pk)
        return Response(ProgressUpdateSerializer(update).data)


@extend_schema(
    tags=[TAG_ASSIGNMENTS],
    summary="督办任务",
    parameters=[ASSIGNMENT_ID],
    request=PressSerializer,
    description="上级主管部门（省、市）督办下级逾期或即将到期的任务：留有记录，并通知责任区域的用户。",
    examples=[OpenApiExample("督办", request_only=True, value={"note": "节点已过，请于本周内报送进展"})],
    responses={201: PressingSerializer},
)
class PressView(generics.GenericAPIView):
    serializer_class = PressSerializer

    def post(self, request, pk):
        assignment = _assignment(request.user, pk)
        serializer = PressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pressing = services.press(user=request.user, assignment=assignment, note=serializer.validated_data["note"], channel="api")
        return Response(PressingSerializer(pressing).data, status=status.HTTP_201_CREATED)
