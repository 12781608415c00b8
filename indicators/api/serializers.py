import re
from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import RegionSerializer
from accounts.models import person_name
from indicators.models import (
    Checkmark,
    CheckmarkStatus,
    CustomerClass,
    Evidence,
    Indicator,
    IndicatorSet,
    Period,
    Program,
    ProgramTable,
    RuleStatistic,
    Stage,
    SubmissionState,
)
from indicators.services import CheckmarkValue

STATUS_CHOICES = [("", "未填"), *CheckmarkStatus.choices]
MONTH_RE = re.compile(r"^(20\d{2})-(0[1-9]|1[0-2])$")
MONTH_PATTERN = MONTH_RE.pattern
# More items than any indicator set holds: a longer list is a client error, not a big region.
MAX_ITEMS = 100
MAX_EXCEPTIONS = 500  # more counties than any province has


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2022-03"})
class MonthField(serializers.Field):
    """A month written “2022-03” (year-month); stored as the first day of that month."""

    default_error_messages = {"invalid": "“{value}”不是有效的月份，应写作“2022-03”（年-月）。"}

    def to_internal_value(self, data):
        match = MONTH_RE.match(data) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid", value=data)
        return date(int(match[1]), int(match[2]), 1)

    def to_representation(self, value):
        return f"{value:%Y-%m}"


class IndicatorSetSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="发布区域代码；国家层面的指标体系为 null。"
    )
    indicator_count = serializers.IntegerField(read_only=True, help_text="指标个数。")

    class Meta:
        model = IndicatorSet
        fields = ["code", "name", "document", "region", "year", "indicator_count"]
        extra_kwargs = {
            "code": {"help_text": "代码，如“national-2021”（国能综通监管〔2021〕37号的 38 项指标）。"},
            "name": {"help_text": "名称。"},
            "document": {"help_text": "发文文号或出处。"},
            "year": {"help_text": "年度。"},
        }


class ProgramSerializer(serializers.ModelSerializer):
    indicator_set = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="指标体系代码；只有台账、不填报指标的方案为 null。"
    )
    regions = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text="覆盖区域的代码（含其下级区域）；空列表表示全国。"
    )
    tables = serializers.ListField(
        child=serializers.ChoiceField(choices=ProgramTable.choices),
        read_only=True,
        help_text="编制的报表：attachment2 附件2、attachment3 附件3（全国方案），completion 本方案的指标完成情况表。",
    )

    class Meta:
        model = Program
        fields = ["code", "name", "document", "indicator_set", "regions", "tables"]
        extra_kwargs = {
            "code": {"help_text": "方案代码，如“national-2021”“chongqing-2021”；报告期接口的 ?program= 取此值。"},
            "name": {"help_text": "名称（与文件原文一致）。"},
            "document": {"help_text": "发文文号或出处。"},
        }


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = ["number", "label", "group", "level", "encouraging", "content", "standard", "responsible_units"]
        extra_kwargs = {
            "number": {"help_text": "指标序号。"},
            "label": {"help_text": "序号原文：省级指标带 *，如“*21”。"},
            "group": {"help_text": "指标组，如“2020年指标”“持续推进指标”。"},
            "level": {"help_text": "填报层级：county 由各县填报，province 由省级填报。"},
            "encouraging": {"help_text": "鼓励性指标：填“已开展”或留空。"},
            "content": {"help_text": "可量化指标内容。"},
            "standard": {"help_text": "指标完成标准。"},
            "responsible_units": {"help_text": "责任单位。"},
        }


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="名称，如“2022年上半年”。")
    indicator_set = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="本期使用的指标体系代码。")
    program = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="本期所属方案的代码。")

    class Meta:
        model = Period
        fields = ["code", "label", "year", "kind", "starts", "ends", "deadline", "indicator_set", "program"]
        extra_kwargs = {
            "code": {"help_text": "报告期代码：上半年“2022S1”，全年“2022”。"},
            "year": {"help_text": "年度。"},
            "kind": {"help_text": "类型：half 上半年，year 全年。"},
            "starts": {"help_text": "统计起始日期。"},
            "ends": {"help_text": "统计截止日期。"},
            "deadline": {"help_text": "报送期限：上半年为 7 月 15 日，全年为次年 1 月 15 日。"},
        }


class RegionStateSerializer(serializers.Serializer):
    """A region's place in the review flow for a period (a region with no record yet is 填报中)."""

    region = RegionSerializer(source="*", read_only=True, help_text="区域。")
    period = serializers.CharField(source="period_code", read_only=True, help_text="报告期代码。")
    state = serializers.ChoiceField(
        choices=SubmissionState.choices,
        read_only=True,
        help_text="状态：县 draft 填报中 → submitted 已上报 → approved 市级已审核（或 returned 已退回）；"
        "地市 draft → accepted 省级已接收；省 draft → confirmed 省级已确认（锁定全省本期数据）。",
    )
    state_label = serializers.SerializerMethodField(help_text="状态的中文名称。")
    version = serializers.IntegerField(read_only=True, help_text="数据版本：该区域本期的指标每改动一次加 1；即指标填报接口的 ETag。")
    reason = serializers.CharField(read_only=True, help_text="退回或重新开放的原因；没有时为空字符串。")
    state_changed_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="状态最近一次变更的时间；从未变更为 null。")
    locked = serializers.BooleanField(
        read_only=True, help_text="所在省份本期是否已由省级确认锁定（锁定后县、市、省数据均不能修改；签收时列为例外的县不锁定）。"
    )

    def get_state_label(self, region) -> str:
        return SubmissionState(region.state).label


class RegionStateDetailSerializer(RegionStateSerializer):
    missing = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="尚未填写完整的指标序号（县、省适用；鼓励性指标不计）。不为空时不能上报或确认。",
    )


class CheckmarkSerializer(serializers.ModelSerializer):
    number = serializers.IntegerField(source="indicator.number", read_only=True, help_text="指标序号。")
    label = serializers.CharField(source="indicator.label", read_only=True, help_text="序号原文：省级指标带 *，如“*21”。")
    group = serializers.CharField(source="indicator.group", read_only=True, help_text="指标组。")
    encouraging = serializers.BooleanField(
        source="indicator.encouraging", read_only=True, help_text="鼓励性指标：只能填“已开展”（done）或留空。"
    )
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES, read_only=True, help_text="完成情况：done 已完成（县级为“√”），not_done 未完成，空字符串为未填。"
    )
    done_month = MonthField(read_only=True, allow_null=True, help_text="完成月份（年-月）；未完成时为 null。")
    expected_month = MonthField(read_only=True, allow_null=True, help_text="预计完成月份（年-月）；已完成时为 null。")
    display = serializers.CharField(read_only=True, help_text="统计表中的写法：“√”“已完成”“已开展”或预计月份如“2022年9月”；未填为空。")
    complete = serializers.BooleanField(
        read_only=True, help_text="是否填写完整：已完成（县级指标须有完成月份），或未完成且有预计完成月份。"
    )
    overdue = serializers.SerializerMethodField(help_text="未完成且预计完成月份已过。")

    class Meta:
        model = Checkmark
        fields = [
            "number",
            "label",
            "group",
            "encouraging",
            "status",
            "done_month",
            "expected_month",
            "note",
            "display",
            "complete",
            "overdue",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "note": {"help_text": "备注。"},
            "updated_at": {"help_text": "最近修改时间；从未填写为 null。", "allow_null": True},
        }

    def get_overdue(self, checkmark) -> bool:
        return checkmark.overdue(self.context["today"])


class CheckmarkSheetSerializer(RegionStateDetailSerializer):
    checkmarks = CheckmarkSerializer(
        source="sheet_checkmarks", many=True, read_only=True, help_text="本区域本期应填的全部指标，按序号排列；未填的指标 status 为空。"
    )
    changed = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="写入时：实际改动的指标个数（与原值相同的不计）；读取时为 null。"
    )


FIELD_LABELS = {"number": "序号", "status": "完成情况", "done_month": "完成月份", "expected_month": "预计完成月份", "note": "备注"}


class CheckmarkWriteSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=999, help_text="指标序号（省级指标不带 *，如 21）。")
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES,
        allow_blank=True,
        help_text="完成情况：done 已完成（县级“√”，省级“已完成”，鼓励性指标“已开展”），not_done 未完成，空字符串清空。",
    )
    done_month = MonthField(required=False, allow_null=True, help_text="完成月份（年-月），仅 status 为 done 时填写；不能晚于本月。")
    expected_month = MonthField(
        required=False, allow_null=True, help_text="预计完成月份（年-月），仅 status 为 not_done 时填写；鼓励性指标不能填未完成。"
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="", help_text="备注，最多 500 字。")

    def validate(self, attrs):
        errors = {}
        if attrs.get("done_month") and attrs["status"] != CheckmarkStatus.DONE:
            errors["done_month"] = "只有完成情况为 done（已完成）时才能填写完成月份。"
        if attrs.get("expected_month") and attrs["status"] != CheckmarkStatus.NOT_DONE:
            errors["expected_month"] = "只有完成情况为 not_done（未完成）时才能填写预计完成月份。"
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def refuse_repeats(items, key, name):
    """A list naming the same indicator (or county) twice is refused, each repeated one told."""
    values = [item[key] for item in items]
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise serializers.ValidationError(f"{name} {'、'.join(map(str, repeated))} 重复出现：每个{name}只能列出一次。")
    return items


class CheckmarksWriteSerializer(serializers.Serializer):
    """Some or all indicators of one region and period, written all or nothing."""

    checkmarks = CheckmarkWriteSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_ITEMS,
        help_text="要写入的指标（可以是全部，也可以是部分）；未列出的指标保持不变。任何一项有误则全部不写入。",
    )

    def validate_checkmarks(self, items):
        return refuse_repeats(items, "number", "指标")

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(self._by_indicator(exc.detail, data)) from exc

    def _by_indicator(self, detail, data):
        """Per-item errors keyed by the indicator's label (“3”, “*21”), as the service keys its own."""
        items = detail.get("checkmarks") if isinstance(detail, dict) else None
        if isinstance(items, list) and any(isinstance(item, dict) for item in items):
            items = {index: item for index, item in enumerate(items) if item}  # older DRF: one entry per item
        if not isinstance(items, dict) or not all(isinstance(index, int) for index in items):
            return detail  # not per-item errors: the body or the list itself is wrong
        raw = data["checkmarks"]
        labels = self.context.get("labels", {})
        errors = {}
        for index, item_errors in items.items():
            number = str(raw[index].get("number", "")) if isinstance(raw[index], dict) else ""
            key = labels.get(int(number), number) if number.isdigit() else f"checkmarks[{index}]"
            name = f"指标 {key} " if number.isdigit() else f"第 {index + 1} 项"
            if not isinstance(item_errors, dict):  # the item itself is wrong (null, not an object)
                item_errors = {None: item_errors}
            for field, messages in item_errors.items():
                label = FIELD_LABELS.get(field)
                where = f"{name}的{label}" if label else name.rstrip()
                errors.setdefault(key, []).extend(f"{where}：{m}" for m in messages)
        return errors

    def values(self):
        return {
            item["number"]: CheckmarkValue(item["status"], item.get("done_month"), item.get("expected_month"), item["note"])
            for item in self.validated_data["checkmarks"]
        }


class SignoffExceptionSerializer(serializers.Serializer):
    county = serializers.CharField(max_length=6, help_text="县的行政区划代码，如“510104”。")
    reason = serializers.CharField(max_length=500, help_text="例外原因（必填，最多 500 字），记入操作记录，并在附件2中注明。")


class SignoffSerializer(serializers.Serializer):
    """A sign-off's counties named as exceptions (issue 8 §4); no body or no list: none."""

    exceptions = SignoffExceptionSerializer(
        many=True,
        required=False,
        max_length=MAX_EXCEPTIONS,
        help_text="尚未经市级审核、本次签收不包括的县，每个写明原因：接收地市时为该市的县；省级确认时为未接收地市的县。"
        "所列的县不随之签收，确认锁定后仍可填报、上报，附件2中注明“（例外）”。",
    )

    def validate_exceptions(self, items):
        return refuse_repeats(items, "county", "县")

    def named(self):
        """{county code: reason}."""
        return {item["county"]: item["reason"] for item in self.validated_data.get("exceptions", [])}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="原因（必填，最多 500 字），会通知对方并记入操作记录。")


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="佐证材料：PDF、图片（PNG/JPEG）、Office 或 WPS 文件，按内容识别类型（不只看扩展名），不超过 20 MB。"
    )


class EvidenceSerializer(serializers.ModelSerializer):
    number = serializers.IntegerField(source="checkmark.indicator.number", read_only=True, help_text="指标序号。")
    uploaded_by = serializers.SerializerMethodField(help_text="上传人。")

    class Meta:
        model = Evidence
        fields = ["id", "number", "name", "size", "kind", "uploaded_at", "uploaded_by"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "佐证材料编号。"},
            "name": {"help_text": "原文件名。"},
            "size": {"help_text": "大小（字节）。"},
            "kind": {"help_text": "按内容识别的类型，如 pdf、png、xlsx。"},
            "uploaded_at": {"help_text": "上传时间。"},
        }

    def get_uploaded_by(self, evidence) -> str:
        return person_name(evidence.uploaded_by)


# --- measured service levels (issue 14 §3): read-only views of indicators.applications.levels ------


class SpreadSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="计入的申请件数（环节：经过该环节的件数）。")
    average = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, help_text="平均工作日，保留一位小数；无记录为 null。"
    )
    longest = serializers.IntegerField(allow_null=True, help_text="最长工作日；无记录为 null。")


class StageSpreadSerializer(SpreadSerializer):
    stage = serializers.ChoiceField(choices=Stage.choices, help_text="环节。")


class ShareSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(
        source="rule.indicator.number", allow_null=True, default=None, help_text="指标序号；方案自身的时限为 null。"
    )
    applies_to = serializers.CharField(source="rule.applies_label", help_text="适用记录。")
    limit = serializers.CharField(source="rule.describe", help_text="时限。")
    covered = serializers.IntegerField(help_text="适用件数。")
    met = serializers.IntegerField(help_text="达标件数。")
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="达标率（%）。")
    source = serializers.CharField(source="rule.source", help_text="出处。")


class LevelSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="申请件数。")
    stages = serializers.SerializerMethodField(help_text="各环节的件数、平均和最长工作日。")
    total = SpreadSerializer(help_text="各环节合计。")
    elapsed = SpreadSerializer(help_text="全过程（受理至装表接电）。")
    zero_investment = serializers.IntegerField(help_text="用户零投资的件数。")
    zero_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="零投资占比（%）。")
    limits = ShareSerializer(many=True, source="shares_list", help_text="方案的逐件时限及达标情况。")

    @extend_schema_field(StageSpreadSerializer(many=True))
    def get_stages(self, level):
        return [{"stage": stage.value, **SpreadSerializer(spread).data} for stage, spread in level.stages.items()]


class ClassLevelSerializer(serializers.Serializer):
    customer_class = serializers.ChoiceField(choices=CustomerClass.choices, help_text="用户类别。")
    level = LevelSerializer(help_text="该类别的服务水平。")


class TargetResultSerializer(serializers.Serializer):
    applies_to = serializers.CharField(source="rule.applies_label", help_text="适用记录。")
    target = serializers.CharField(source="rule.describe", help_text="平均或最长时限目标。")
    statistic = serializers.ChoiceField(
        source="rule.statistic",
        choices=[(s.value, s.label) for s in (RuleStatistic.AVERAGE, RuleStatistic.LONGEST)],
        help_text="目标口径：average 平均、longest 最长。",
    )
    limit = serializers.IntegerField(source="rule.limit", help_text="目标工作日数：实测值不超过它为达到。")
    total = serializers.IntegerField(help_text="适用件数。")
    value = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, source="shown_value", help_text="实测平均（保留一位小数）或最长工作日。"
    )
    met = serializers.BooleanField(allow_null=True, help_text="是否达到；无适用记录为 null。")
    verdict = serializers.CharField(
        help_text="页面与 Excel 所示的结论，如“平均 12.3 个工作日 ≤ 15 √ 达到”“最长 58 个工作日 > 55 ✗ 未达到”；无适用记录为“无此类记录”。"
    )
    source = serializers.CharField(source="rule.source", help_text="出处。")


class ChildLevelSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="下级区域代码。")
    name = serializers.CharField(help_text="下级区域名称。")
    level = LevelSerializer(help_text="全部用户类别合计。")
    targets = TargetResultSerializer(many=True, help_text="该下级区域自己的实测值对平均、最长时限目标的达成情况，顺序同上级的 targets。")


class DistributionSerializer(serializers.Serializer):
    customer_class = serializers.ChoiceField(choices=CustomerClass.choices, help_text="用户类别。")
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="全过程用时为 0、1、2…个工作日的件数（最后一项含其以上）。")
    limits = serializers.ListField(child=serializers.IntegerField(), help_text="适用于该类别的全过程时限。")


class TrendFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="申请件数。")
    elapsed = SpreadSerializer(help_text="全过程。")
    total = SpreadSerializer(help_text="各环节合计。")
    zero_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="零投资占比（%）。")


class ClassTrendPointSerializer(TrendFiguresSerializer):
    customer_class = serializers.ChoiceField(choices=CustomerClass.choices, help_text="用户类别。")


class TrendPointSerializer(TrendFiguresSerializer):
    """一个报告期：全部用户类别合计（classes 之外的字段），及 classes 中的各用户类别。"""

    period = serializers.CharField(source="period.code", help_text="报告期代码。")
    classes = ClassTrendPointSerializer(
        many=True, source="class_points", help_text="按用户类别（该期有记录的类别）；外层的件数、全过程等为全部类别合计。"
    )


class ServiceLevelsSerializer(serializers.Serializer):
    region = serializers.CharField(source="region.code", help_text="区域代码。")
    period = serializers.CharField(source="period.code", help_text="报告期代码。")
    program = serializers.CharField(source="program.code", help_text="测算所依时限的方案。")
    overall = LevelSerializer(help_text="全部用户类别合计。")
    classes = serializers.SerializerMethodField(help_text="按用户类别。")
    children = serializers.SerializerMethodField(help_text="下级区域（市的各县、省的各市）；县为空。")
    targets = TargetResultSerializer(many=True, help_text="平均、最长时限目标的达成情况。")
    distributions = serializers.SerializerMethodField(help_text="按用户类别的全过程用时分布。")
    trend = TrendPointSerializer(many=True, help_text="本方案各报告期，由早到晚：全部用户类别合计，及 classes 中的各用户类别。")

    @extend_schema_field(ClassLevelSerializer(many=True))
    def get_classes(self, levels):
        return ClassLevelSerializer([{"customer_class": c.value, "level": level} for c, level in levels.classes], many=True).data

    @extend_schema_field(ChildLevelSerializer(many=True))
    def get_children(self, levels):
        children = [{"code": r.code, "name": r.name, "level": level, "targets": targets} for r, level, _c, targets in levels.children]
        return ChildLevelSerializer(children, many=True).data

    @extend_schema_field(DistributionSerializer(many=True))
    def get_distributions(self, levels):
        return [
            {"customer_class": c.value, "counts": [n for _days, n in h.buckets], "limits": [limit for limit, _rules in h.limits]}
            for c, h in levels.histograms.items()
        ]
