"""The one way the reporting commands find their period: ``--period P [--program CODE]``."""

from django.core.management.base import CommandError

from indicators.models import Program
from indicators.selectors import PeriodNotFound, ProgramNotFound, period_get, program_get


def add_program_argument(parser):
    parser.add_argument("--program", default=Program.NATIONAL, help=f"方案代码（默认 {Program.NATIONAL}，全国方案）")


def command_period(*, code, program):
    """The period ``code`` of ``program``, or a CommandError in Chinese saying what is wrong: an
    unknown program (with the known ones), or a period the program has not opened."""
    try:
        program_obj = program_get(program)
        return period_get(code=code, program=program_obj)
    except ProgramNotFound as exc:
        raise CommandError(str(exc)) from None
    except PeriodNotFound:
        option = "" if program_obj.code == Program.NATIONAL else f" --program {program_obj.code}"
        opened = program_obj.periods.order_by("ends").values_list("code", flat=True)
        raise CommandError(
            f"方案“{program_obj.name}”的报告期 {code} 尚未开放（python manage.py open_period {code}{option}；"
            f"已开放：{'、'.join(opened) or '无'}）。"
        ) from None
