from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from indicators.models import IndicatorSet
from indicators.services import period_open


class Command(BaseCommand):
    help = "开放报告期（如 2022S1 或 2022）：各县、各省从上一报告期的最后状态开始。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="报告期：上半年写作 2022S1，全年写作 2022")
        parser.add_argument("--indicator-set", default="national-2021", help="指标体系代码（默认全国 38 项）")

    def handle(self, *args, code, indicator_set, **options):
        try:
            period, copied = period_open(code=code, indicator_set=IndicatorSet.objects.get(code=indicator_set))
        except IndicatorSet.DoesNotExist:
            raise CommandError(f"指标体系 {indicator_set} 不存在。") from None
        except (ValueError, ValidationError) as exc:
            raise CommandError("；".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(f"已开放 {period.label}（{period.code}），承接上一报告期 {copied} 条填报。")
