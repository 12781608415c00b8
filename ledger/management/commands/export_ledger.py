from pathlib import Path

from django.core.management.base import BaseCommand

from ledger.resources import export_workbook

from .import_ledger import command_ledger, command_user


class Command(BaseCommand):
    help = "按文件原表格式导出台账（或加 --progress 导出任务分解及进展）为可打印的 .xlsx。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="台账代码，如 national-2021")
        parser.add_argument("-o", "--output", required=True, help="输出的 .xlsx 文件")
        parser.add_argument("--progress", action="store_true", help="导出任务分解及进展，而不是台账事项")
        parser.add_argument("--user", help="按哪个用户的可见范围导出（默认：第一个有效的超级用户，即全部）")

    def handle(self, *args, code, output, progress, user, **options):
        user = command_user(user)
        Path(output).write_bytes(export_workbook(ledger=command_ledger(code, user), user=user, progress=progress))
        self.stdout.write(f"已写入 {output}")
