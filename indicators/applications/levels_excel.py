"""The measured service levels (``levels.service_levels``) as an .xlsx workbook in the house style
(utilities.excel): one sheet per table of the page — classes and stages, limits, targets, child
regions (with each child's average and longest targets met or missed), trend per class. Figures are
written as numbers (working days to one place, shares in per cent), an empty cell where there is
nothing to measure."""

from utilities.excel import HEADER_FILL, frame, head, print_setup, put_row, save, set_widths, sheet

from ..models import Stage

FIRST_ROW = 3  # below the title and the period line that ``head`` writes


def _table(ws, title, subtitle, header, rows, widths):
    head(ws, width=len(header), title=title, period_line=subtitle)
    put_row(ws, FIRST_ROW, header, bold=True, fill=HEADER_FILL)
    for offset, values in enumerate(rows, start=1):
        put_row(ws, FIRST_ROW + offset, values)
    frame(ws, FIRST_ROW, 1, FIRST_ROW + len(rows), len(header))
    set_widths(ws, widths)
    print_setup(ws, paper=ws.PAPERSIZE_A4, title_rows=f"{FIRST_ROW}:{FIRST_ROW}", freeze=f"B{FIRST_ROW + 1}")


def _spread(spread):
    return [spread.average, spread.longest]


def _class_row(label, level):
    stages = [value for stage in Stage for value in _spread(level.stages[stage])]
    return [label, level.count, *stages, *_spread(level.total), *_spread(level.elapsed), level.zero_percent]


CLASS_HEADER = [
    "用户类别",
    "件数",
    *(f"{stage.label}{word}" for stage in Stage for word in ("平均", "最长")),
    "各环节合计平均",
    "各环节合计最长",
    "全过程平均",
    "全过程最长",
    "零投资占比（%）",
]


def service_levels_workbook(levels):
    """The workbook's bytes."""
    region, period, program = levels.region, levels.period, levels.program
    subtitle = f"{region.name} · {period.label}{period.span_label} · {program.name} · 单位：工作日"
    workbook, ws = sheet("分类与环节")
    rows = [_class_row(customer_class.label, level) for customer_class, level in levels.classes]
    _table(
        ws,
        "用电报装服务水平（按用户类别和环节）",
        subtitle,
        CLASS_HEADER,
        [*rows, _class_row("合计", levels.overall)],
        [12, 8] + [9] * 16 + [10],
    )

    ws = workbook.create_sheet("时限达标")
    rows = [
        [customer_class.label, share.rule.applies_label, share.rule.describe(), share.covered, share.met, share.percent, share.rule.source]
        for customer_class, level in levels.classes
        for share in level.shares_list()
    ]
    _table(
        ws,
        "时限达标情况",
        subtitle,
        ["用户类别", "适用记录", "时限", "适用件数", "达标件数", "达标率（%）", "出处"],
        rows,
        [10, 28, 30, 9, 9, 10, 30],
    )

    ws = workbook.create_sheet("时限目标")
    rows = [[t.rule.applies_label, t.rule.describe(), t.total, t.shown_value, t.met_word, t.rule.source] for t in levels.targets]
    _table(ws, "平均、最长时限目标", subtitle, ["适用记录", "目标", "件数", "实测（工作日）", "结果", "出处"], rows, [28, 30, 8, 12, 8, 30])

    ws = workbook.create_sheet("下级区域")
    rows = [
        [
            child.name,
            level.count,
            *_spread(level.elapsed),
            *_spread(level.total),
            level.zero_percent,
            *(value for t in targets for value in (t.shown_value, t.met_word)),
        ]
        for child, level, _classes, targets in levels.children
    ]
    header = ["区域", "件数", "全过程平均", "全过程最长", "各环节合计平均", "各环节合计最长", "零投资占比（%）"]
    for t in levels.targets:
        target = f"{t.rule.applies_label} {t.rule.describe()}"
        header += [f"{target}：实测（工作日）", f"{target}：结果"]
    _table(ws, "下级区域服务水平", subtitle, header, rows, [16, 8, 10, 10, 12, 12, 12] + [24, 10] * len(levels.targets))

    ws = workbook.create_sheet("趋势")
    rows = [
        [p.period.label, label, p.count, *_spread(p.elapsed), *_spread(p.total), p.zero_percent]
        for everyone in levels.trend
        for label, p in everyone.rows
    ]
    header = ["报告期", "用户类别", "件数", "全过程平均", "全过程最长", "各环节合计平均", "各环节合计最长", "零投资占比（%）"]
    _table(ws, "各报告期服务水平", subtitle, header, rows, [14, 12, 8, 10, 10, 12, 12, 12])
    return save(workbook)
