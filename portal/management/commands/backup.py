from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.audit import command_event_record
from accounts.models import SecurityEventKind
from utilities.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库、全部媒体文件（佐证材料、报表快照、申请附件）和核对清单 manifest.json；默认写入 var/backups/<时间>/。"

    def add_arguments(self, parser):
        parser.add_argument("--output", help="备份目录（须不存在或为空），默认 var/backups/<UTC 时间>/。")

    def handle(self, *args, **options):
        output = options["output"] or settings.VAR_DIR / "backups" / timezone.now().strftime("%Y%m%dT%H%M%SZ")
        try:
            manifest = backup(output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        summary = f"{output}（{len(manifest['tables'])} 张表共 {rows} 行，{len(manifest['media'])} 个媒体文件）"
        # After the backup's snapshot, so the backup itself does not hold this event.
        command_event_record(kind=SecurityEventKind.BACKUP, detail=summary)
        self.stdout.write(self.style.SUCCESS(f"备份完成：{summary}"))
