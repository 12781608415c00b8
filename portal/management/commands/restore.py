from django.core.management.base import BaseCommand, CommandError

from accounts.audit import command_event_record
from accounts.models import SecurityEventKind
from utilities.backup import SUCCESS, BackupError, restore


class Command(BaseCommand):
    help = "把备份恢复到空数据库和空文件存储，并按 manifest.json 逐表、逐文件核对；不一致时逐项列出并以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("directory", help="备份目录（含 manifest.json）。")

    def handle(self, *args, **options):
        try:
            problems = restore(directory=options["directory"])
        except BackupError as exc:
            # An attempt to restore over a live database is worth an auditor's attention.
            command_event_record(kind=SecurityEventKind.RESTORE_REFUSED, detail=f"{options['directory']}：{exc}")
            raise CommandError(str(exc)) from exc
        if problems:
            raise CommandError("恢复后核对不一致：\n" + "\n".join(f"  - {p}" for p in problems))
        self.stdout.write(self.style.SUCCESS(SUCCESS))
