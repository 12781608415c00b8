from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from indicators.models import Program
from indicators.selectors import ProgramNotFound
from indicators.services import period_open


class Command(BaseCommand):
    help = "开放某方案的报告期（如 2022S1 或 2022）：各县、各省从该方案上一报告期的最后状态开始。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="报告期：上半年写作 2022S1，全年写作 2022")
        parser.add_argument("--program", default=Program.NATIONAL, help=f"方案代码（默认 {Program.NATIONAL}，全国 38 项）")

    def handle(self, *args, code, program, **options):
        try:
            period, copied = period_open(code=code, program=program)
        except ProgramNotFound as exc:
            raise CommandError(str(exc)) from None
        except (ValueError, ValidationError) as exc:
            raise CommandError("；".join(getattr(exc, "messages", [str(exc)]))) from exc
        name = "" if period.program.code == Program.NATIONAL else f"{period.program.name}（{period.program.code}）"
        self.stdout.write(f"已开放{name} {period.label}（{period.code}），承接上一报告期 {copied} 条填报。")
