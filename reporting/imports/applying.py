"""Applying a preview: every region through ``indicators.services.checkmarks_set`` in one
transaction, channel “import” — all or nothing."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.models import Channel
from indicators.services import checkmarks_set

from .preview import ImportResult


def can_import(user):
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("reporting.import_attachment2"))


def apply_attachment2(*, user, preview, channel=Channel.IMPORT, today=None):
    """Write every region of ``preview`` through checkmarks_set in one transaction: all or nothing.

    Each region is written at the version it was read at: if anyone changed a region since the
    preview, StaleVersion rolls the whole import back. PermissionDenied, ValidationError and the
    service's ConflictError subclasses propagate after the rollback.
    """
    if not can_import(user):
        raise PermissionDenied("只有省级能源主管部门可以导入附件2。")
    if not Region.objects.restrict(user, Action.CHANGE).filter(pk=preview.province.pk, level=RegionLevel.PROVINCE).exists():
        raise PermissionDenied(f"“{preview.province.name}”不在您的管辖范围内，不能导入它的附件2。")
    regions = changed_regions = changed = 0
    with transaction.atomic():
        for entry in preview.regions:
            if not entry.values:
                continue
            _submission, count = checkmarks_set(
                user=user,
                region=entry.region,
                period=preview.period,
                values=entry.values,
                expected_version=entry.version,
                channel=channel,
                today=today,
            )
            regions += 1
            changed_regions += bool(count)
            changed += count
    return ImportResult(regions=regions, regions_changed=changed_regions, checkmarks_changed=changed)
