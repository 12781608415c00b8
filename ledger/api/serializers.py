"""Ledgers, their items, the assignments (分解) and their progress history, as the API shows them."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import person_name
from ledger.models import Assignment, AssignmentStatus, Ledger, LedgerItem, Pressing, ProgressKind, ProgressUpdate

# What a region may report: 逾期 is set by the system only.
REPORT_STATUSES = [(value, label) for value, label in AssignmentStatus.choices if value != AssignmentStatus.OVERDUE]
MAX_TEXT = 2000
MAX_INDICATORS = 100


def inline_choice(choices, **kwargs):
    """A choice field whose enum stays inline in the schema: drf-spectacular's enum components are
    named by field name, and a new “status” choice set would rename the indicators' own enum."""
    values = [value for value, _label in choices]
    field = type("InlineChoiceField", (serializers.ChoiceField,), {})
    return extend_schema_field({"allOf": [{"type": "string", "enum": values}]})(field)(choices=choices, **kwargs)


class LedgerSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="所属区域代码；国家层面的台账为 null。"
    )
    source = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="改编自哪一份台账（代码）；文件原文为 null。"
    )
    item_count = serializers.IntegerField(read_only=True, help_text="事项条数。")

    class Meta:
        model = Ledger
        fields = ["code", "name", "document", "region", "year", "is_reference", "source", "extra_columns", "item_count"]
        extra_kwargs = {
            "code": {"help_text": "台账代码，如“national-2021”（国家台账原文）或“510000-2024”（四川省2024年本地台账）。"},
            "name": {"help_text": "台账名称。"},
            "document": {"help_text": "发文文号或出处。"},
            "year": {"help_text": "年度。"},
            "is_reference": {"help_text": "是否为文件原文：原文只读，各地据此制定本地台账后再修改、分解。"},
            "extra_columns": {"help_text": "文件自带的附加列名，如“年度重点举措”；各事项的 extra 以这些列名为键。"},
        }


class IndicatorLinkSerializer(serializers.Serializer):
    indicator_set = serializers.CharField(max_length=64, help_text="指标体系代码，如“national-2021”。")
    number = serializers.IntegerField(min_value=1, max_value=999, help_text="指标序号（省级指标不带 *，如 21）。")
    label = serializers.CharField(read_only=True, help_text="序号原文：省级指标带 *，如“*21”。")


class LedgerItemSerializer(serializers.ModelSerializer):
    ledger = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="所属台账代码。")
    indicators = serializers.SerializerMethodField(help_text="衡量本事项完成情况的指标。")
    extra = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        read_only=True,
        help_text="附加列的内容：键为台账的附加列名（见台账的 extra_columns），值为该列的文字。",
    )
    source_item = serializers.SerializerMethodField(help_text="改编自来源台账的哪一项（序号）；新增的事项为 null。")
    assignment_count = serializers.IntegerField(read_only=True, help_text="本事项已分解的任务条数（您可查看的）。")

    class Meta:
        model = LedgerItem
        fields = [
            "ledger",
            "number",
            "category",
            "task",
            "responsible_units",
            "due_text",
            "due_date",
            "ongoing",
            "extra",
            "indicators",
            "source_item",
            "assignment_count",
        ]
        extra_kwargs = {
            "number": {"help_text": "序号。"},
            "category": {"help_text": "分类，如“压减办电时间”；没有分类的台账为空字符串。"},
            "task": {"help_text": "工作目标任务。"},
            "responsible_units": {"help_text": "责任单位（原文）。"},
            "due_text": {"help_text": "完成时间原文，如“2021年4月底前”“持续推进”。"},
            "due_date": {"help_text": "由完成时间原文解析的完成期限；持续推进的事项为 null。"},
            "ongoing": {"help_text": "是否为持续推进的事项（没有完成期限）。"},
        }

    @extend_schema_field(IndicatorLinkSerializer(many=True))
    def get_indicators(self, item):
        return [
            {"indicator_set": i.indicator_set.code, "number": i.number, "label": i.label}
            for i in sorted(item.indicators.all(), key=lambda i: (i.indicator_set.code, i.number))
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_source_item(self, item):
        return item.source_item.number if item.source_item_id else None


class LedgerItemWriteSerializer(serializers.Serializer):
    """An item as written: the due text is parsed by the service (“2021年4月底前”, “持续推进”…)."""

    number = serializers.IntegerField(
        min_value=1,
        max_value=32767,
        required=False,
        help_text="新序号；省略时保持路径中的序号。改为已被占用的序号返回 400。",
    )
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="", help_text="分类；可为空。")
    task = serializers.CharField(max_length=MAX_TEXT, help_text="工作目标任务。")
    responsible_units = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, default="", help_text="责任单位；可为空。"
    )
    due_text = serializers.CharField(max_length=300, help_text="完成时间原文，如“2024年6月底前”或“持续推进”；无法识别日期时返回 400。")
    extra = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=MAX_TEXT),
        required=False,
        help_text="附加列的内容，键须为台账的附加列名；省略时保持原内容。",
    )
    indicators = IndicatorLinkSerializer(
        many=True,
        required=False,
        max_length=MAX_INDICATORS,
        help_text="衡量本事项的指标（完整列表，替换原有的）；省略时保持不变。只能选国家指标体系和本台账所属区域及其上级的指标体系。",
    )


class AssignmentSerializer(serializers.ModelSerializer):
    ledger = serializers.CharField(source="item.ledger.code", read_only=True, help_text="台账代码。")
    item = serializers.IntegerField(source="item.number", read_only=True, help_text="台账事项序号。")
    task = serializers.CharField(source="item.task", read_only=True, help_text="工作目标任务（事项原文）。")
    region = serializers.CharField(source="region.code", read_only=True, help_text="责任区域代码。")
    region_name = serializers.CharField(source="region.name", read_only=True, help_text="责任区域名称。")
    org_unit_name = serializers.CharField(
        source="org_unit.name", read_only=True, allow_null=True, help_text="企业单位（部门）名称；分给区域的任务为 null。"
    )
    company = serializers.CharField(
        source="org_unit.company.code", read_only=True, allow_null=True, help_text="企业单位所属供电企业的代码；分给区域的任务为 null。"
    )
    status_label = serializers.SerializerMethodField(help_text="状态的中文名称。")
    status = inline_choice(
        AssignmentStatus.choices,
        read_only=True,
        help_text="状态：not_started 未开始，in_progress 推进中，done 已完成，overdue 逾期（系统标记），ongoing 持续推进。",
    )
    overdue = serializers.SerializerMethodField(help_text="是否逾期：已标记逾期，或节点时间已过而未完成。")
    updated_by = serializers.SerializerMethodField(help_text="最近一次更新的操作人；没有时为空字符串。")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "ledger",
            "item",
            "task",
            "region",
            "region_name",
            "org_unit",
            "org_unit_name",
            "company",
            "parent",
            "responsible_unit",
            "lead",
            "contact",
            "phone",
            "milestone",
            "status",
            "status_label",
            "overdue",
            "progress",
            "progress_on",
            "returned_reason",
            "version",
            "updated_at",
            "updated_by",
        ]
        extra_kwargs = {
            "id": {"help_text": "任务分解编号。"},
            "org_unit": {
                "help_text": "企业单位（部门）编号：供电企业的台账分给其部门时；分给区域的任务为 null，其责任区域为企业所在省份。"
            },
            "parent": {"help_text": "上级分解编号（由地市继续分解到县时）；直接分解的为 null。"},
            "responsible_unit": {"help_text": "责任单位。"},
            "lead": {"help_text": "是否为牵头单位。"},
            "contact": {"help_text": "联系人。"},
            "phone": {"help_text": "联系电话。"},
            "milestone": {"help_text": "节点时间；持续推进的任务为 null。"},
            "progress": {"help_text": "最近一次报送的进展情况。"},
            "progress_on": {"help_text": "最近一次进展的日期。"},
            "returned_reason": {"help_text": "上级退回的意见；未退回时为空字符串。"},
            "version": {"help_text": "数据版本：每报送一次或被退回一次加 1；即本任务的 ETag，报送进展时放在 If-Match 中。"},
            "updated_at": {"help_text": "最近一次更新的时间。"},
        }

    def get_status_label(self, assignment) -> str:
        return AssignmentStatus(assignment.status).label

    def get_overdue(self, assignment) -> bool:
        return assignment.status == AssignmentStatus.OVERDUE or assignment.overdue(timezone.localdate())

    def get_updated_by(self, assignment) -> str:
        return person_name(assignment.updated_by, nobody="") if assignment.updated_by_id else ""


class AssignmentCreateSerializer(serializers.Serializer):
    region = serializers.RegexField(
        r"^\d{6}$", help_text="责任区域代码（6 位数字）：须在台账所属区域之内、在您的管辖范围内；继续分解时须为上级分解区域的下级。"
    )
    responsible_unit = serializers.CharField(max_length=200, help_text="责任单位，如“锦江区发改局”。同一事项、区域和单位只能分解一次。")
    lead = serializers.BooleanField(required=False, default=False, help_text="是否为牵头单位。")
    contact = serializers.CharField(max_length=50, required=False, allow_blank=True, default="", help_text="联系人；可为空。")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="", help_text="联系电话；可为空。")
    milestone = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="节点时间（年-月-日）；省略时取事项的完成期限，持续推进的事项为空。"
    )
    parent = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="上级分解编号：地市把分给本市的任务继续分解到县时填写；省略表示直接分解。",
    )


class ProgressUpdateSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField(help_text="操作人；系统操作为“系统”。")
    kind = serializers.ChoiceField(
        choices=ProgressKind.choices,
        read_only=True,
        help_text="类型：assign 分解，report 报送进展，comment 审阅意见，return 退回，overdue 系统标记逾期。",
    )
    status_before = inline_choice([("", "无"), *AssignmentStatus.choices], read_only=True, help_text="原状态；没有时为空字符串。")
    status_after = inline_choice([("", "无"), *AssignmentStatus.choices], read_only=True, help_text="新状态；没有时为空字符串。")
    evidence = serializers.SerializerMethodField(help_text="佐证材料的原文件名（通过网页上传；接口只列出名称）。")

    class Meta:
        model = ProgressUpdate
        fields = ["id", "at", "user", "channel", "kind", "status_before", "status_after", "note", "progress_on", "evidence"]
        extra_kwargs = {
            "id": {"help_text": "记录编号。"},
            "at": {"help_text": "时间。"},
            "channel": {"help_text": "渠道：web 网页，api 接口，import 导入，system 系统。"},
            "note": {"help_text": "内容：进展情况、审阅意见或退回原因。"},
            "progress_on": {"help_text": "进展日期；不是报送进展的记录为 null。"},
        }

    def get_user(self, update) -> str:
        return person_name(update.user)

    def get_evidence(self, update) -> list[str]:
        return [e.name for e in update.evidence.all()]


class ProgressReportSerializer(serializers.Serializer):
    status = inline_choice(
        REPORT_STATUSES,
        help_text="新状态：not_started 未开始，in_progress 推进中，done 已完成，ongoing 持续推进（逾期由系统标记，不能报送）。",
    )
    note = serializers.CharField(max_length=MAX_TEXT, help_text="进展情况，不能为空。")
    progress_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="进展日期（年-月-日），不能晚于今天；省略时为今天。"
    )


class ReviewSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, help_text="审阅意见或退回原因，不能为空。")
    send_back = serializers.BooleanField(
        required=False, default=False, help_text="是否退回：只有报送为“已完成”的任务可以退回，退回后回到“推进中”；否则只记录审阅意见。"
    )


class PressSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, help_text="督办意见，不能为空；将通知责任区域的用户。")


class PressingSerializer(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="assignment_id", read_only=True, help_text="任务分解编号。")
    by = serializers.SerializerMethodField(help_text="督办人。")

    class Meta:
        model = Pressing
        fields = ["id", "assignment", "at", "by", "note", "channel"]
        extra_kwargs = {
            "id": {"help_text": "督办记录编号。"},
            "channel": {"help_text": "渠道：web 网页、api 接口。"},
            "at": {"help_text": "督办时间。"},
            "note": {"help_text": "督办意见。"},
        }

    def get_by(self, pressing) -> str:
        return person_name(pressing.by)
