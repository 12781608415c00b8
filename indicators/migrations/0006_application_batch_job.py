"""Application batches keep the file and what reading it found; who uploaded it, for which county,
and how reading went move to one utilities.Job each (issue 12 §3: one background-job model). Every
existing batch gets its Job, nothing is lost; the reverse copies the fields back."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

LIFECYCLE = ("region_id", "state", "message", "finished_at")


def jobs_for_batches(apps, schema_editor):
    Job = apps.get_model("utilities", "Job")
    ApplicationBatch = apps.get_model("indicators", "ApplicationBatch")
    for batch in ApplicationBatch.objects.order_by("pk").iterator():
        job = Job.objects.create(
            kind="applications", created_by_id=batch.uploaded_by_id, progress=min(batch.progress, 100),
            **{name: getattr(batch, name) for name in LIFECYCLE},
        )
        Job.objects.filter(pk=job.pk).update(created_at=batch.uploaded_at)  # auto_now_add set it to now
        ApplicationBatch.objects.filter(pk=batch.pk).update(job=job)


def batches_from_jobs(apps, schema_editor):
    Job = apps.get_model("utilities", "Job")
    ApplicationBatch = apps.get_model("indicators", "ApplicationBatch")
    for batch in ApplicationBatch.objects.select_related("job").order_by("pk").iterator():
        job = batch.job
        ApplicationBatch.objects.filter(pk=batch.pk).update(
            uploaded_by_id=job.created_by_id, uploaded_at=job.created_at, progress=job.progress, job=None,
            **{name: getattr(job, name) for name in LIFECYCLE},
        )
    Job.objects.filter(kind="applications").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0005_checkmark_region_no_own_index'),
        ('utilities', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='applicationbatch',
            name='job',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(app_label)s_%(class)s', to='utilities.job', verbose_name='后台任务'),
        ),
        # Nullable before they go, so that the reverse can add them back to existing rows and fill them.
        migrations.AlterField(
            model_name='applicationbatch',
            name='region',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.region', verbose_name='县'),
        ),
        migrations.AlterField(
            model_name='applicationbatch',
            name='uploaded_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='上传人'),
        ),
        migrations.RunPython(jobs_for_batches, batches_from_jobs),
        migrations.AlterField(
            model_name='applicationbatch',
            name='job',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='%(app_label)s_%(class)s', to='utilities.job', verbose_name='后台任务'),
        ),
        migrations.RemoveField(model_name='applicationbatch', name='finished_at'),
        migrations.RemoveField(model_name='applicationbatch', name='message'),
        migrations.RemoveField(model_name='applicationbatch', name='progress'),
        migrations.RemoveField(model_name='applicationbatch', name='region'),
        migrations.RemoveField(model_name='applicationbatch', name='state'),
        migrations.RemoveField(model_name='applicationbatch', name='uploaded_at'),
        migrations.RemoveField(model_name='applicationbatch', name='uploaded_by'),
        migrations.AlterModelOptions(
            name='applicationbatch',
            options={'ordering': ['-pk'], 'verbose_name': '报装记录导入', 'verbose_name_plural': '报装记录导入'},
        ),
    ]
