from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from reporting.management.periods import add_program_argument, command_period
from reporting.models import ReportKind
from reporting.services import report_compile


class Command(BaseCommand):
    help = "编制方案的统计表（全国方案：附件2、附件3；其他方案：其完成情况统计表）为新的报表快照；不指定省份时编制方案覆盖的全部省份，全国方案另加全国汇总。"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="报告期，如 2022S1 或 2022")
        parser.add_argument("--province", help="省级行政区划代码，如 510000")
        add_program_argument(parser)

    def handle(self, *args, period, province, program, **options):
        period_obj = command_period(code=period, program=program)
        if province:
            provinces = list(Region.objects.filter(code=province, level="province"))
            if not provinces:
                raise CommandError(f"{province} 不是省级行政区划代码。")
        else:
            provinces = list(_provinces_of(period_obj.program))
            if ReportKind.ATTACHMENT2 in period_obj.program.tables:
                provinces.append(None)  # the national roll-up of 附件2
        for region in provinces:
            try:
                snapshots = report_compile(user=None, province=region, period=period_obj)
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            for snapshot in snapshots:
                self.stdout.write(f"{snapshot}：快照 #{snapshot.pk}，{snapshot.xlsx.name}")


def _provinces_of(program):
    """The provinces a program covers: those of its regions (a region covers those below it), or
    every province when it names none."""
    provinces = Region.objects.filter(level="province").order_by("code")
    codes = {region.path[:6] for region in program.regions.all()}
    return provinces.filter(code__in=codes) if codes else provinces
