"""Backups and the restore drill (issue 15 §3): a consistent database dump, every media object and a
manifest that proves the restored copy lost nothing.

The manifest holds, per table, the row count and a SHA-256 of its rows in primary-key order (each value
in a canonical text form), per media object its size and SHA-256, the migration state, the time and the
app version, and a seal (a SHA-256 of the manifest itself) so an edited manifest is refused before
anything is written. Rows are read through Django's cursor at backup and at restore alike, so the same
engine yields the same digests.

Consistency: on PostgreSQL the manifest is computed inside a REPEATABLE READ transaction whose snapshot
pg_dump reads too (``--snapshot``), so dump and manifest describe the same instant while the portal keeps
writing. On SQLite the online backup API copies the database in one step (a consistent snapshot) and the
manifest is computed from that copy. Media objects are copied after the database snapshot: an object
uploaded meanwhile is merely extra; objects are never rewritten in place (uploads get new names).

This module imports no app: it sees tables through the database connection and files through the
storage API (so an S3 store works as well as the local one).
"""

import datetime as dt
import decimal
import hashlib
import json
import os
import posixpath
import sqlite3
import subprocess
import uuid
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend
from django.utils import timezone

APP_DISTRIBUTION = "huode-dianli-taizhang"
FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
CHUNK = 1024 * 1024
SUCCESS = "恢复完成，核对一致"


class BackupError(Exception):
    """A refusal or a failed check, in Chinese; ``problems`` names each one."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

    def __str__(self):
        return "\n".join([self.message, *(f"  - {p}" for p in self.problems)])


# --- canonical rows and digests --------------------------------------------------------------------


def canonical(value):
    """One value as text that does not depend on how the driver happened to box it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes | bytearray | memoryview):
        return "x" + bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, decimal.Decimal | uuid.UUID | int | str):
        return str(value)
    return repr(value)


def _table_digest(connection, cursor, table):
    quote = connection.ops.quote_name
    pk = connection.introspection.get_primary_key_columns(cursor, table) or []
    if pk:
        order = ", ".join(quote(c) for c in pk)
    else:  # no primary key (rare: none of the portal's tables): every column, in order
        width = len(connection.introspection.get_table_description(cursor, table))
        order = ", ".join(str(i) for i in range(1, width + 1))
    digest, rows = hashlib.sha256(), 0
    # A server-side cursor on PostgreSQL: the rows stream instead of landing in memory at once.
    with connection.chunked_cursor() as rows_cursor:
        rows_cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")
        while batch := rows_cursor.fetchmany(2000):
            for row in batch:
                digest.update(json.dumps([canonical(v) for v in row], ensure_ascii=False).encode())
                digest.update(b"\n")
                rows += 1
    return {"rows": rows, "sha256": digest.hexdigest()}


def database_state(using="default"):
    """Per table its row count and digest, and the applied migrations, of the database ``using``."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        state = {table: _table_digest(connection, cursor, table) for table in tables}
    migrations = []
    if MigrationRecorder.Migration._meta.db_table in tables:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT app, name FROM {connection.ops.quote_name(MigrationRecorder.Migration._meta.db_table)} ORDER BY app, name"
            )
            migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    return {"tables": state, "migrations": migrations}


# --- files ------------------------------------------------------------------------------------------


def _hash_stream(stream, copy_to=None):
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def _hash_file(path):
    with open(path, "rb") as stream:
        return _hash_stream(stream)


def storage_names(storage):
    """Every object of a storage, sorted, found through listdir (works on a local and an S3 store)."""

    def walk(path):
        try:
            dirs, files = storage.listdir(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in files:
            yield posixpath.join(path, name) if path else name
        for name in dirs:
            yield from walk(posixpath.join(path, name) if path else name)

    return sorted(walk(""))


def _seal(manifest):
    body = {k: v for k, v in manifest.items() if k != "seal"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _app_version():
    try:
        return metadata.version(APP_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def _engine(connection):
    if connection.vendor not in DUMPS:
        raise BackupError(f"不支持的数据库类型：{connection.vendor}（仅支持 PostgreSQL 和 SQLite）。")
    return connection.vendor


# --- PostgreSQL client programs -----------------------------------------------------------------------


def _pg_args(settings_dict):
    args = ["--no-password"]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    return args


def _pg_run(program, args, settings_dict):
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    binary = os.environ.get(program.upper(), program)  # PG_DUMP / PG_RESTORE may name another binary
    try:
        done = subprocess.run([binary, *args], env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"找不到 {program}：请安装与服务器版本一致的 PostgreSQL 客户端。") from exc
    if done.returncode != 0:
        raise BackupError(f"{program} 失败（退出码 {done.returncode}）", done.stderr.strip().splitlines()[-5:])


# --- backup -------------------------------------------------------------------------------------------


@contextmanager
def temporary_database(name, *, like="default", read_only=False):
    """A connection alias to another database on the same server (or another SQLite file), like ``like``.

    The connection is registered in this thread only, not in settings.DATABASES.
    """
    alias = f"backup_{uuid.uuid4().hex[:8]}"
    settings_dict = {**connections[like].settings_dict, "NAME": str(name)}
    if read_only:  # SQLite only: a backup copy is read, never changed (no WAL switch either)
        settings_dict.update(NAME=f"file:{name}?mode=ro", OPTIONS={"uri": True})
    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = connection
    try:
        yield alias
    finally:
        connection.close()
        del connections[alias]


def backup(*, output, using="default", storage=None):
    """Write the dump, the media objects and manifest.json into the new directory ``output``."""
    storage = storage or default_storage
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"备份目录 {output} 不是空目录：请换一个目录，以免覆盖已有备份。")
    connection = connections[using]
    engine = _engine(connection)
    if connection.in_atomic_block:
        raise BackupError("备份不能在未提交的事务中进行。")
    output.mkdir(parents=True, exist_ok=True)
    dump = output / DUMPS[engine]
    connection.ensure_connection()
    started = timezone.now()
    if engine == "postgresql":
        # One snapshot for both: the manifest's transaction exports it and pg_dump reads it.
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            settings_dict = connection.settings_dict
            _pg_run(
                "pg_dump",
                ["--format=custom", f"--snapshot={snapshot}", "--file", str(dump), *_pg_args(settings_dict), settings_dict["NAME"]],
                settings_dict,
            )
            state = database_state(using)
    else:
        # The online backup API copies in one step (a consistent snapshot); the manifest is read from the copy.
        target = sqlite3.connect(dump)
        try:
            connection.connection.backup(target)
            # A plain rollback-journal file: the copy stands alone, with no -wal/-shm beside it.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        with temporary_database(dump, like=using, read_only=True) as alias:
            state = database_state(alias)
    media = {}
    for name in storage_names(storage):
        path = output / MEDIA / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(name, "rb") as source, open(path, "wb") as copy:
            media[name] = _hash_stream(source, copy_to=copy)
    manifest = {
        "format": FORMAT,
        "created": started.isoformat(),
        "app_version": _app_version(),
        "engine": engine,
        "database": {"file": dump.name, **_hash_file(dump)},
        "migrations": state["migrations"],
        "tables": state["tables"],
        "media": media,
    }
    manifest["seal"] = _seal(manifest)
    (output / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


# --- restore ------------------------------------------------------------------------------------------


def read_manifest(directory):
    """The manifest of a backup, refused when it is missing, unreadable, edited or does not match its files."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} 中没有 {MANIFEST}：这不是一个备份目录。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("engine") not in DUMPS:
            raise ValueError
        tables, media, database = manifest["tables"], manifest["media"], manifest["database"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{MANIFEST} 无法读取或格式不对，拒绝恢复。") from exc
    if manifest.get("seal") != _seal(manifest):
        raise BackupError(f"{MANIFEST} 已被改动（校验值不符），拒绝恢复，未写入任何数据。")
    problems = []
    dump = directory / database.get("file", "")
    if database.get("file") != DUMPS[manifest["engine"]] or not dump.is_file():
        problems.append(f"数据库备份文件 {database.get('file')} 缺失")
    elif _hash_file(dump) != {"size": database.get("size"), "sha256": database.get("sha256")}:
        problems.append(f"数据库备份文件 {dump.name} 与清单不符（大小或 SHA-256 不同，文件已被改动）")
    for name, expected in sorted(media.items()):
        path = (directory / MEDIA / name).resolve()
        if not path.is_relative_to((directory / MEDIA).resolve()) or not path.is_file():
            problems.append(f"媒体文件 {name} 缺失")
        elif _hash_file(path) != expected:
            problems.append(f"媒体文件 {name} 与清单不符（大小或 SHA-256 不同）")
    if problems or not isinstance(tables, dict):
        raise BackupError("备份文件与清单不符，拒绝恢复，未写入任何数据：", problems)
    return manifest


def _refuse_non_empty(using, storage):
    connection = connections[using]
    problems = []
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        quote = connection.ops.quote_name
        for table in tables:
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")
            if cursor.fetchone() is not None:
                problems.append(f"数据表 {table} 中已有数据")
    if MigrationRecorder.Migration._meta.db_table in tables:
        problems.insert(0, "已执行过数据库迁移（django_migrations 不为空）" if problems else "已建有数据表 django_migrations")
    elif tables and not problems:
        problems.append(f"已建有 {len(tables)} 张数据表")
    if problems:
        raise BackupError("目标数据库不是空库，拒绝恢复，未作任何改动（请恢复到新建的空数据库）：", problems[:20])
    names = storage_names(storage)
    if names:
        raise BackupError("目标文件存储不是空的，拒绝恢复，未作任何改动（请恢复到空的文件存储）：", [f"已有文件 {n}" for n in names[:20]])


def compare(expected, actual):
    """Each difference between two manifests' database and media parts, in Chinese; empty when identical."""
    problems = []
    for table in sorted(set(expected["tables"]) | set(actual["tables"])):
        want, got = expected["tables"].get(table), actual["tables"].get(table)
        if got is None:
            problems.append(f"数据表 {table} 在恢复后的数据库中缺失")
        elif want is None:
            problems.append(f"数据表 {table} 不在备份清单中")
        elif want["rows"] != got["rows"]:
            problems.append(f"数据表 {table} 行数不符：备份 {want['rows']} 行，恢复后 {got['rows']} 行")
        elif want["sha256"] != got["sha256"]:
            problems.append(f"数据表 {table} 内容摘要不符（行数相同，内容不同）")
    if expected["migrations"] != actual["migrations"]:
        problems.append("数据库迁移状态不符")
    for name in sorted(set(expected["media"]) | set(actual["media"])):
        want, got = expected["media"].get(name), actual["media"].get(name)
        if got is None:
            problems.append(f"媒体文件 {name} 在恢复后的存储中缺失")
        elif want is None:
            problems.append(f"媒体文件 {name} 不在备份清单中")
        elif want != got:
            problems.append(f"媒体文件 {name} 不符：备份 {want['size']} 字节，恢复后 {got['size']} 字节或 SHA-256 不同")
    return problems


def current_state(*, using="default", storage=None):
    """The database and media parts of a manifest, read from a live database and store."""
    storage = storage or default_storage
    state = database_state(using)
    media = {}
    for name in storage_names(storage):
        with storage.open(name, "rb") as stream:
            media[name] = _hash_stream(stream)
    return {**state, "media": media}


def restore(*, directory, using="default", storage=None):
    """Restore a backup into the empty database ``using`` and the empty store, then verify it.

    Refusals (raised as BackupError) change nothing. Returns the list of mismatches found after the
    restore: empty means the copy matches the manifest.
    """
    storage = storage or default_storage
    directory = Path(directory)
    manifest = read_manifest(directory)
    connection = connections[using]
    engine = _engine(connection)
    if manifest["engine"] != engine:
        raise BackupError(f"备份来自 {manifest['engine']} 数据库，当前数据库是 {engine}：请恢复到同类数据库。")
    if connection.in_atomic_block:
        raise BackupError("恢复不能在未提交的事务中进行。")
    _refuse_non_empty(using, storage)
    dump = directory / manifest["database"]["file"]
    if engine == "postgresql":
        settings_dict = connection.settings_dict
        connection.close()
        # One transaction: a restore that fails half-way leaves the database empty.
        _pg_run(
            "pg_restore",
            [
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                *_pg_args(settings_dict),
                "--dbname",
                settings_dict["NAME"],
                str(dump),
            ],
            settings_dict,
        )
    else:
        source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    problems = []
    for name in sorted(manifest["media"]):
        with open(directory / MEDIA / name, "rb") as stream:
            saved = storage.save(name, File(stream, name=posixpath.basename(name)))
        if saved != name:
            problems.append(f"媒体文件 {name} 被存储改名为 {saved}")
    with transaction.atomic(using=using):  # server-side cursors on PostgreSQL need a transaction
        actual = current_state(using=using, storage=storage)
    return problems + compare(manifest, actual)
