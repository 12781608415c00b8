from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from indicators.models import Period
from reporting.services import WRITERS


class Command(BaseCommand):
    help = "按官方格式导出统计表 Excel；尚无数据的省份得到列出全部地市和县的空白表，可填写后导入。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(str(kind) for kind in WRITERS))
        parser.add_argument("--period", required=True, help="报告期，如 2022S1 或 2022")
        parser.add_argument("--province", required=True, help="省级行政区划代码，如 510000")
        parser.add_argument("-o", "--output", required=True, help="输出的 .xlsx 文件")

    def handle(self, *args, kind, period, province, output, **options):
        period_obj = Period.objects.filter(code=period).first()
        if period_obj is None:
            raise CommandError(f"报告期 {period} 尚未开放（python manage.py open_period {period}）。")
        region = Region.objects.filter(code=province, level="province").first()
        if region is None:
            raise CommandError(f"{province} 不是省级行政区划代码。")
        compile_table, write = WRITERS[kind]
        Path(output).write_bytes(write(compile_table(province=region, period=period_obj)))
        self.stdout.write(f"已写入 {output}")
