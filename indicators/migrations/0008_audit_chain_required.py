# Every audit entry now has its place in the chain; PostgreSQL refuses UPDATE/DELETE on the table
# (the function comes from accounts 0004_security_events).

from django.db import migrations, models


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE TRIGGER indicators_auditentry_append_only BEFORE UPDATE OR DELETE ON indicators_auditentry "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
        )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS indicators_auditentry_append_only ON indicators_auditentry;")


class Migration(migrations.Migration):

    dependencies = [
        ("indicators", "0007_audit_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="序号"),
        ),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
