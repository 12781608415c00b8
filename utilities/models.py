from django.db import models

from accounts.models import Region
from accounts.scoping import RestrictedQuerySet


class RegionalDocument(models.Model):
    """A document issued for a region and year: a ledger or an indicator set. No region: national."""

    code = models.SlugField("代码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=200)
    document = models.CharField("文件", max_length=200, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="所属区域", null=True, blank=True, on_delete=models.PROTECT,
        help_text="留空表示国家层面。",
    )
    year = models.PositiveSmallIntegerField("年度")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = True

    class Meta:
        abstract = True
        ordering = ["year", "code"]

    def __str__(self):
        return self.name


class EvidenceFile(models.Model):
    """A supporting file as uploaded: its original name, size and the kind its content was found to be.

    Subclasses add ``file`` (each with its own storage path) and what the file supports.
    """

    name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    kind = models.CharField("类型", max_length=8)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    @classmethod
    def from_upload(cls, upload, *, kind, **fields):
        """An unsaved instance holding ``upload`` (already checked: ``kind`` is what its content is)."""
        evidence = cls(name=upload.name, size=upload.size, kind=kind, **fields)
        evidence.file.save(upload.name, upload, save=False)
        return evidence
