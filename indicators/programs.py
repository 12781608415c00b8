"""Programs and their periods: the one lookup of a period by its code (issue 13).

A period code such as ``2022S1`` names one period per program; none given means the national
program, so every old URL, command and API call keeps meaning what it meant. Re-exported by
``indicators.selectors``.
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from .models import Period, Program, ProgramTable


class ProgramNotFound(Http404):
    """An unknown program code: a 404 on a page and in the API (the API's error body carries the
    message), a CommandError in a command."""


class PeriodNotFound(Http404):
    """A period not opened (yet) in the program asked for."""


def program_codes():
    return list(Program.objects.order_by("order", "code").values_list("code", flat=True))


def program_get(code=None):
    """The program coded ``code``; none given (or blank): the national one, as every old URL,
    command and API call means."""
    code = code or Program.NATIONAL
    program = Program.objects.select_related("indicator_set").filter(code=code).first()
    if program is None:
        known = "、".join(program_codes()) or "无"
        raise ProgramNotFound(f"方案“{code}”不存在。已有方案：{known}。")
    return program


def period_get(*, code, program=None):
    """The period coded ``code`` of ``program`` (a Program, its code, or None for the national one)."""
    if not isinstance(program, Program):
        program = program_get(program)
    period = Period.objects.select_related("indicator_set", "program").filter(program=program, code=code).first()
    if period is None:
        raise PeriodNotFound(f"方案“{program.name}”（{program.code}）的报告期 {code} 尚未开放。")
    return period


def programs_covering(region):
    """The programs whose regions include ``region`` (one of them is it or above it), and those
    that name no region (the whole country): one query, usable as a subquery."""
    prefixes = []
    for code in region.path.split("/")[:-1]:
        prefixes.append((prefixes[-1] if prefixes else "") + f"{code}/")
    through = Program.regions.through.objects.filter(program=OuterRef("pk"))
    return Program.objects.filter(~Exists(through) | Exists(through.filter(region__path__in=prefixes)))


def program_create(*, code, name, document, indicator_set=None, region=None):
    """A new program running a document loaded through the portal (issue 13 §5): its set's own
    completion table if it has a set, the region it is issued for (none: the whole country), listed
    after the others. The caller holds the transaction and has checked the user (ledger.reference)."""
    if Program.objects.filter(code=code).exists():
        raise ValidationError({"code": f"方案代码 {code} 已存在。"})
    last = Program.objects.order_by("-order").values_list("order", flat=True).first() or 0
    program = Program(
        code=code,
        name=name,
        document=document,
        indicator_set=indicator_set,
        tables=[ProgramTable.COMPLETION] if indicator_set else [],
        order=last + 10,
    )
    program.full_clean()
    program.save()
    if region is not None:
        program.regions.set([region])
    return program


def periods_beside(*, region, period):
    """What a region's page of ``period`` shows beside it, in one query: the periods of its program,
    newest first (the period switcher), and the periods of the same half-year in every program
    covering the region (what other programs offer, ``mapping.offers``)."""
    periods = list(
        Period.objects.filter(Q(program=period.program_id) | Q(code=period.code, program__in=programs_covering(region)))
        .select_related("program", "indicator_set__region")
        .order_by("-ends", "program__order")
    )
    return [p for p in periods if p.program_id == period.program_id], [p for p in periods if p.code == period.code]
