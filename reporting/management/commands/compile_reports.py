from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from indicators.models import Period
from reporting.services import report_compile


class Command(BaseCommand):
    help = "编制统计表（附件2、附件3）为新的报表快照；不指定省份时编制全部省份和全国汇总。"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="报告期，如 2022S1 或 2022")
        parser.add_argument("--province", help="省级行政区划代码，如 510000")

    def handle(self, *args, period, province, **options):
        period_obj = Period.objects.filter(code=period).first()
        if period_obj is None:
            raise CommandError(f"报告期 {period} 尚未开放（python manage.py open_period {period}）。")
        if province:
            provinces = list(Region.objects.filter(code=province, level="province"))
            if not provinces:
                raise CommandError(f"{province} 不是省级行政区划代码。")
        else:
            provinces = list(Region.objects.filter(level="province").order_by("code")) + [None]
        for region in provinces:
            for snapshot in report_compile(user=None, province=region, period=period_obj):
                self.stdout.write(f"{snapshot}：快照 #{snapshot.pk}，{snapshot.xlsx.name}")
