# Chain the audit log (issue 15 §4): add seq/prev_hash/hash and chain the rows already stored, in
# (at, pk) order. 0008 then makes the fields required and adds PostgreSQL's append-only trigger
# (a separate migration, so the data update and the ALTER run in different transactions).

import django.utils.timezone
from django.db import migrations, models

from utilities.hashchain import link

# The fields the hash covers, as at this migration (the model's chain_fields).
CHAIN_FIELDS = ("at", "user", "channel", "action", "region", "period", "indicator", "before", "after", "reason")
BATCH = 2000


def chain_existing(apps, schema_editor):
    AuditEntry = apps.get_model("indicators", "AuditEntry")
    ChainHead = apps.get_model("accounts", "ChainHead")
    head, _ = ChainHead.objects.get_or_create(name="audit")
    if head.seq:
        return  # already chained (a database restored with its chain)
    batch = []
    for entry in AuditEntry.objects.order_by("at", "pk").iterator(chunk_size=BATCH):
        batch.append(entry)
        if len(batch) == BATCH:
            AuditEntry.objects.bulk_update(link(batch, fields=CHAIN_FIELDS, head=head), ["seq", "prev_hash", "hash"])
            batch = []
    AuditEntry.objects.bulk_update(link(batch, fields=CHAIN_FIELDS, head=head), ["seq", "prev_hash", "hash"])
    head.save()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_security_events"),
        ("indicators", "0006_application_batch_job"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True, unique=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="前一条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="哈希（SM3）"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
