"""The restore drill (issue 15 §3): back up real data, restore it into a new empty database and an
empty media store, and find nothing lost or changed; refuse what must be refused, changing nothing.

Runs on the engine of the current test database: a new SQLite file, or a new PostgreSQL database
created with the test role (which has CREATEDB).
"""

import io
import json
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connections
from openpyxl import load_workbook

from accounts.models import Region, SecurityEvent, User
from indicators import services as indicator_services
from indicators.models import AuditEntry, Checkmark, Evidence
from reporting import services as report_services
from reporting.models import ReportSnapshot
from tests.helpers import JINJIANG, PDF, SICHUAN, fill, pdf
from utilities import backup as backups

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    """Point the default storage at a directory of its own; ``media(name)`` switches to another."""

    def use(name):
        settings.MEDIA_ROOT = tmp_path / name
        return settings.MEDIA_ROOT

    use("media")
    return use


@pytest.fixture
def new_database(tmp_path):
    """``new_database()``: the alias of a new, empty database on the current engine, dropped afterwards."""
    default = connections["default"]
    with ExitStack() as stack:

        def make():
            if default.vendor == "postgresql":
                name = f"{default.settings_dict['NAME']}_drill_{uuid.uuid4().hex[:8]}"
                with default.cursor() as cursor:
                    cursor.execute(f'CREATE DATABASE "{name}"')

                def drop():
                    with default.cursor() as cursor:
                        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

                stack.callback(drop)
            else:
                name = tmp_path / f"drill-{uuid.uuid4().hex[:8]}.sqlite3"
            return stack.enter_context(backups.temporary_database(name))

        yield make


@pytest.fixture
def filled(reference_data, people, period, media):
    """Check-marks, an evidence file, audit entries and users of 锦江区."""
    fill(people["county"], JINJIANG, period, blank=(5,))
    evidence = indicator_services.evidence_add(
        user=people["county"], region=Region.objects.get(code=JINJIANG), period=period, number=1, upload=pdf()
    )
    return {"evidence": evidence, "period": period, "people": people}


@pytest.fixture
def portal_data(filled):
    """The above and 四川's compiled 附件2 and 附件3 snapshots with their .xlsx files."""
    province = Region.objects.get(code=SICHUAN)
    return {
        **filled,
        "snapshots": report_services.report_compile(user=filled["people"]["province"], province=province, period=filled["period"]),
    }


def _backup(tmp_path):
    return tmp_path / "backup", backups.backup(output=tmp_path / "backup")


def _tables(using):
    with connections[using].cursor() as cursor:
        return connections[using].introspection.table_names(cursor)


def test_drill_loses_nothing(portal_data, new_database, media, tmp_path):
    directory, manifest = _backup(tmp_path)
    for model in (User, Checkmark, Evidence, ReportSnapshot, AuditEntry):
        assert manifest["tables"][model._meta.db_table]["rows"] == model.objects.count() > 0
    assert set(manifest["media"]) == {portal_data["evidence"].file.name, *(s.xlsx.name for s in portal_data["snapshots"])}
    assert manifest["migrations"] and manifest["app_version"] and manifest["engine"] == connections["default"].vendor
    xlsx = {s.pk: s.xlsx.open("rb").read() for s in portal_data["snapshots"]}

    drill = new_database()
    media("restored")
    assert backups.restore(directory=directory, using=drill) == []

    # Nothing lost or changed: the restored copy's own manifest equals the backup's ...
    assert backups.compare(manifest, backups.current_state(using=drill)) == []
    # ... and the rows and files read back as they were written.
    checkmarks = Checkmark.objects.filter(region__code=JINJIANG).order_by("indicator__number")
    restored = Checkmark.objects.using(drill).filter(region__code=JINJIANG).order_by("indicator__number")
    assert [(c.indicator.number, c.status, c.done_month) for c in checkmarks] == [
        (c.indicator.number, c.status, c.done_month) for c in restored
    ]
    evidence = Evidence.objects.using(drill).get(pk=portal_data["evidence"].pk)
    assert evidence.file.open("rb").read() == PDF
    assert Path(evidence.file.path).is_relative_to(tmp_path / "restored")
    for pk, content in xlsx.items():
        snapshot = ReportSnapshot.objects.using(drill).get(pk=pk)
        assert snapshot.xlsx.open("rb").read() == content
        assert load_workbook(io.BytesIO(content)).sheetnames
    assert list(AuditEntry.objects.using(drill).order_by("pk").values_list("pk", "action", "after")) == list(
        AuditEntry.objects.order_by("pk").values_list("pk", "action", "after")
    )
    assert User.objects.using(drill).get(username="jj").check_password("pw-for-tests-1")
    # The restored database takes new rows after the old ones (its sequences came along).
    newest = ContentType.objects.order_by("pk").last().pk
    assert ContentType.objects.db_manager(drill).create(app_label="drill", model="drill").pk > newest


def test_refuses_a_database_that_is_not_empty(filled, media, tmp_path):
    directory = tmp_path / "backup"
    out = io.StringIO()
    call_command("backup", "--output", str(directory), stdout=out)
    assert "备份完成" in out.getvalue() and (directory / backups.MANIFEST).is_file()
    media("restored")
    before = Checkmark.objects.count()
    with pytest.raises(CommandError, match="目标数据库不是空库") as raised:
        call_command("restore", str(directory))
    assert "django_migrations" in str(raised.value)
    assert Checkmark.objects.count() == before
    # Both recorded in the security-event log, the refusal with its reason.
    backup_event, refused = SecurityEvent.objects.filter(kind__in=["backup", "restore_refused"]).order_by("seq")
    assert backup_event.kind == "backup" and str(directory) in backup_event.detail
    assert refused.kind == "restore_refused" and "目标数据库不是空库" in refused.detail
    assert refused.username.startswith("命令行:")
    assert backups.storage_names(backups.default_storage) == []


def test_refuses_a_media_store_that_is_not_empty(filled, new_database, tmp_path):
    directory, _ = _backup(tmp_path)
    drill = new_database()  # the media store is still the one holding the portal's files
    with pytest.raises(backups.BackupError, match="目标文件存储不是空的"):
        backups.restore(directory=directory, using=drill)
    assert _tables(drill) == []


def test_refuses_an_edited_manifest_before_writing(filled, new_database, media, tmp_path):
    directory, manifest = _backup(tmp_path)
    table = Checkmark._meta.db_table
    edited = {**manifest, "tables": {**manifest["tables"], table: {**manifest["tables"][table], "sha256": "0" * 64}}}
    (directory / backups.MANIFEST).write_text(json.dumps(edited), encoding="utf-8")
    drill = new_database()
    media("restored")
    with pytest.raises(backups.BackupError, match="已被改动"):
        backups.restore(directory=directory, using=drill)
    assert _tables(drill) == [] and backups.storage_names(backups.default_storage) == []

    # Edited with its seal recomputed: the restore runs, and the check names the table that differs.
    edited["seal"] = backups._seal(edited)
    (directory / backups.MANIFEST).write_text(json.dumps(edited), encoding="utf-8")
    problems = backups.restore(directory=directory, using=drill)
    assert problems == [f"数据表 {table} 内容摘要不符（行数相同，内容不同）"]


def test_a_mismatch_is_named(filled, tmp_path):
    directory, manifest = _backup(tmp_path)
    table = User._meta.db_table
    edited = {**manifest, "tables": {**manifest["tables"], table: {"rows": 1, "sha256": manifest["tables"][table]["sha256"]}}}
    edited["seal"] = backups._seal(edited)
    actual = {**backups.current_state(), "media": manifest["media"]}
    assert backups.compare(edited, actual) == [f"数据表 {table} 行数不符：备份 1 行，恢复后 {User.objects.count()} 行"]


def test_refuses_a_missing_media_file_and_a_changed_dump(filled, new_database, media, tmp_path):
    directory, manifest = _backup(tmp_path)
    name = filled["evidence"].file.name
    (directory / backups.MEDIA / name).unlink()
    dump = directory / manifest["database"]["file"]
    dump.write_bytes(dump.read_bytes() + b"\0")
    drill = new_database()
    media("restored")
    with pytest.raises(backups.BackupError) as raised:
        backups.restore(directory=directory, using=drill)
    assert f"媒体文件 {name} 缺失" in raised.value.problems
    assert any("数据库备份文件" in p and "已被改动" in p for p in raised.value.problems)
    assert _tables(drill) == [] and backups.storage_names(backups.default_storage) == []


def test_backup_refuses_a_directory_in_use(transactional_db, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("x")
    with pytest.raises(CommandError, match="不是空目录"):
        call_command("backup", "--output", str(tmp_path / "used"))
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["keep.txt"]
