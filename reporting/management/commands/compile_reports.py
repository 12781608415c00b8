from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from indicators.models import Program
from reporting.management.periods import add_program_argument, command_period
from reporting.services import report_compile


class Command(BaseCommand):
    help = "编制统计表（附件2、附件3）为新的报表快照；不指定省份时编制全部省份和全国汇总。"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="报告期，如 2022S1 或 2022")
        parser.add_argument("--province", help="省级行政区划代码，如 510000")
        add_program_argument(parser)

    def handle(self, *args, period, province, program, **options):
        period_obj = command_period(code=period, program=program)
        if period_obj.program.code != Program.NATIONAL:
            # Snapshots are kept per report kind (附件2, 附件3, national roll-up); a program's own
            # completion table has no snapshot kind yet: it is exported with export_report.
            raise CommandError(
                f"方案“{period_obj.program.name}”的完成情况表尚不能编制为报表快照；"
                f"请用 python manage.py export_report attachment2 --period {period} --program {period_obj.program.code} "
                "--province 省代码 -o 文件.xlsx 导出。"
            )
        if province:
            provinces = list(Region.objects.filter(code=province, level="province"))
            if not provinces:
                raise CommandError(f"{province} 不是省级行政区划代码。")
        else:
            provinces = list(Region.objects.filter(level="province").order_by("code")) + [None]
        for region in provinces:
            try:
                snapshots = report_compile(user=None, province=region, period=period_obj)
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            for snapshot in snapshots:
                self.stdout.write(f"{snapshot}：快照 #{snapshot.pk}，{snapshot.xlsx.name}")
