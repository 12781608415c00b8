from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone


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


class JobKind(models.TextChoices):
    REPORT = "report", "报表编制"
    APPLICATIONS = "applications", "报装记录导入"


class JobState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


FINISHED_STATES = frozenset({JobState.DONE, JobState.FAILED})

# What each kind's pages have always called its states: a compile is 编制中, an import 已导入 or 未导入.
STATE_LABELS = {
    JobKind.REPORT: {JobState.RUNNING: "编制中"},
    JobKind.APPLICATIONS: {JobState.RUNNING: "导入中", JobState.DONE: "已导入", JobState.FAILED: "未导入"},
}


class Job(models.Model):
    """A piece of work a Celery worker does for a user — a report compile, an application-records
    import — and how far it has got. The page polls it (``/jobs/<id>/status/``); what the work is
    about and produced is kept by the kind's own model (a ``JobDetail``), one-to-one with it.

    Only ``utilities.jobs`` changes the state, so every kind moves queued → running → done / failed
    the same way. Who may see a job is the policy's ``utilities.view_job``.
    """

    kind = models.CharField("类型", max_length=16, choices=JobKind.choices)
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name="区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="留空表示国家层面。",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="定时任务等无人发起的为空。",
    )
    state = models.CharField("状态", max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0, validators=[MaxValueValidator(100)])
    message = models.CharField("说明", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_at_most_100"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}：{self.label}"

    @property
    def label(self):
        """The state as this kind's pages name it."""
        return STATE_LABELS.get(self.kind, {}).get(self.state) or JobState(self.state).label

    @property
    def finished(self):
        return self.state in FINISHED_STATES

    @property
    def detail(self):
        """The kind's own record of this job (a ReportJob, an ApplicationBatch), found through the
        one-to-one relation whose model declares ``job_kind`` — utilities names no app."""
        for relation in self._meta.related_objects:
            if relation.one_to_one and getattr(relation.related_model, "job_kind", None) == self.kind:
                try:
                    return getattr(self, relation.get_accessor_name())
                except relation.related_model.DoesNotExist:
                    return None
        return None


class JobDetail(models.Model):
    """What one kind of job keeps of its own, one-to-one with its Job.

    Subclasses set ``job_kind`` and answer the job page: ``job_heading``, ``job_note``,
    ``job_results()`` (label, url) and ``job_errors()``, ``job_back()`` (label, url). The
    lifecycle fields are read through from the Job; they are written only by ``utilities.jobs``.
    """

    job_kind = None

    job = models.OneToOneField(
        Job,
        verbose_name="后台任务",
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s",
    )

    class Meta:
        abstract = True

    region = property(lambda self: self.job.region)
    created_by = property(lambda self: self.job.created_by)
    created_at = property(lambda self: self.job.created_at)
    state = property(lambda self: self.job.state)
    progress = property(lambda self: self.job.progress)
    message = property(lambda self: self.job.message)
    started_at = property(lambda self: self.job.started_at)
    finished_at = property(lambda self: self.job.finished_at)

    def get_state_display(self):
        return self.job.label

    job_note = ""

    def job_results(self):
        return []

    def job_errors(self):
        return []

    def job_back(self):
        return None


class IdempotencyRecord(models.Model):
    """An API write sent with an ``Idempotency-Key`` header, and the response it got, kept 24 hours.

    ``owner`` is who sent it (a token or a signed-in user), so two clients never share a key.
    ``status`` is empty while the first request is still running.
    """

    owner = models.CharField("发送者", max_length=64)
    key = models.CharField("Idempotency-Key", max_length=255)
    fingerprint = models.CharField("请求摘要", max_length=64, help_text="方法、路径、查询串和请求体的 SHA-256。")
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    status = models.PositiveSmallIntegerField("响应状态码", null=True, blank=True)
    content_type = models.CharField("响应类型", max_length=100, blank=True)
    headers = models.JSONField("响应头", default=dict, blank=True)
    body = models.BinaryField("响应体", default=b"", blank=True)

    class Meta:
        verbose_name = "幂等请求"
        verbose_name_plural = "幂等请求"
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique_per_owner")]

    def __str__(self):
        return f"{self.owner} {self.key}"
