# The security-event log and the chain heads (issue 15 §4, 等保 8.1.4.3 安全审计).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

GENESIS = "0" * 64

# PostgreSQL refuses UPDATE and DELETE on the audit tables whoever asks (the application never
# does either; a restore loads rows with INSERT/COPY). indicators' migration reuses the function.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计记录只能追加，不能修改或删除（表 %）', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
)


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_FUNCTION, params=None)  # its % is PL/pgSQL's, not a parameter
        schema_editor.execute(TRIGGER.format(table="accounts_securityevent"))


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS accounts_securityevent_append_only ON accounts_securityevent;")


def create_head(apps, schema_editor):
    apps.get_model("accounts", "ChainHead").objects.get_or_create(name="security")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_passwords_sessions"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False, verbose_name="链")),
                ("seq", models.PositiveBigIntegerField(default=0, verbose_name="最后序号")),
                ("hash", models.CharField(default=GENESIS, max_length=64, verbose_name="最后哈希")),
            ],
            options={
                "verbose_name": "审计链头",
                "verbose_name_plural": "审计链头",
            },
        ),
        migrations.CreateModel(
            name="SecurityEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="序号")),
                ("prev_hash", models.CharField(editable=False, max_length=64, verbose_name="前一条哈希")),
                ("hash", models.CharField(editable=False, max_length=64, verbose_name="哈希（SM3）")),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间")),
                ("username", models.CharField(blank=True, max_length=150, verbose_name="用户名（输入）")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("login", "登录"),
                            ("login_failed", "登录失败"),
                            ("logout", "退出"),
                            ("locked_out", "账户锁定"),
                            ("password_changed", "修改密码"),
                            ("otp_failed", "动态口令错误"),
                            ("otp_enrolled", "绑定动态口令"),
                            ("otp_removed", "解除动态口令"),
                            ("otp_recovery_code_used", "使用恢复码"),
                            ("otp_recovery_codes_renewed", "更换恢复码"),
                            ("backup", "备份"),
                            ("restore_refused", "拒绝恢复"),
                            ("admin_add", "后台新增"),
                            ("admin_change", "后台修改"),
                            ("admin_delete", "后台删除"),
                        ],
                        max_length=32,
                        verbose_name="事件",
                    ),
                ),
                ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="IP 地址")),
                ("detail", models.CharField(blank=True, max_length=1000, verbose_name="详情")),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={
                "verbose_name": "安全事件",
                "verbose_name_plural": "安全事件",
                "ordering": ["-seq"],
            },
        ),
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
