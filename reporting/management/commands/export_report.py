from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from indicators.models import Program
from reporting.management.periods import add_program_argument, command_period
from reporting.services import WRITERS


def _completion_writer():
    """A program's own completion table (helper C's reporting.tables / reporting.excel), if built."""
    from reporting import excel, tables

    compile_table, write = getattr(tables, "completion_table", None), getattr(excel, "completion_workbook", None)
    if compile_table is None or write is None:
        raise CommandError("该方案的完成情况表尚未实现。")
    return compile_table, write


class Command(BaseCommand):
    help = (
        "按官方格式导出统计表 Excel；尚无数据的省份得到列出全部地市和县的空白表，可填写后导入。"
        "其他方案（--program）的 attachment2 是该方案自己的完成情况表，版式同附件2。"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(str(kind) for kind in WRITERS))
        parser.add_argument("--period", required=True, help="报告期，如 2022S1 或 2022")
        parser.add_argument("--province", required=True, help="省级行政区划代码，如 510000")
        add_program_argument(parser)
        parser.add_argument("-o", "--output", required=True, help="输出的 .xlsx 文件")

    def handle(self, *args, kind, period, province, program, output, **options):
        period_obj = command_period(code=period, program=program)
        region = Region.objects.filter(code=province, level="province").first()
        if region is None:
            raise CommandError(f"{province} 不是省级行政区划代码。")
        if period_obj.program.code == Program.NATIONAL:
            compile_table, write = WRITERS[kind]
        elif kind == "attachment2":
            compile_table, write = _completion_writer()
        else:
            raise CommandError(f"附件3 只属于全国方案；方案“{period_obj.program.name}”不编制附件3。")
        try:
            content = write(compile_table(province=region, period=period_obj))
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        Path(output).write_bytes(content)
        self.stdout.write(f"已写入 {output}")
