"""Report jobs keep what they compile; their state and progress move to one utilities.Job each
(issue 12 §3: one background-job model). Every existing job gets its Job, nothing is lost; the
reverse copies the fields back."""
import django.db.models.deletion
from django.db import migrations, models

LIFECYCLE = ("region_id", "created_by_id", "state", "message", "finished_at")


def jobs_for_report_jobs(apps, schema_editor):
    Job = apps.get_model("utilities", "Job")
    ReportJob = apps.get_model("reporting", "ReportJob")
    for report in ReportJob.objects.order_by("pk").iterator():
        job = Job.objects.create(
            kind="report", progress=min(report.progress, 100), **{name: getattr(report, name) for name in LIFECYCLE},
        )
        Job.objects.filter(pk=job.pk).update(created_at=report.created_at)  # auto_now_add set it to now
        ReportJob.objects.filter(pk=report.pk).update(job=job)


def report_jobs_from_jobs(apps, schema_editor):
    Job = apps.get_model("utilities", "Job")
    ReportJob = apps.get_model("reporting", "ReportJob")
    for report in ReportJob.objects.select_related("job").order_by("pk").iterator():
        job = report.job
        ReportJob.objects.filter(pk=report.pk).update(
            progress=job.progress, created_at=job.created_at, job=None,
            **{name: getattr(job, name) for name in LIFECYCLE},
        )
    Job.objects.filter(kind="report").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0001_initial'),
        ('utilities', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='reportjob',
            name='job',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='%(app_label)s_%(class)s', to='utilities.job', verbose_name='后台任务'),
        ),
        migrations.RunPython(jobs_for_report_jobs, report_jobs_from_jobs),
        migrations.AlterField(
            model_name='reportjob',
            name='job',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='%(app_label)s_%(class)s', to='utilities.job', verbose_name='后台任务'),
        ),
        migrations.RemoveField(model_name='reportjob', name='created_at'),
        migrations.RemoveField(model_name='reportjob', name='created_by'),
        migrations.RemoveField(model_name='reportjob', name='finished_at'),
        migrations.RemoveField(model_name='reportjob', name='message'),
        migrations.RemoveField(model_name='reportjob', name='progress'),
        migrations.RemoveField(model_name='reportjob', name='region'),
        migrations.RemoveField(model_name='reportjob', name='state'),
        migrations.AlterModelOptions(
            name='reportjob',
            options={'ordering': ['-pk'], 'verbose_name': '编制任务', 'verbose_name_plural': '编制任务'},
        ),
    ]
