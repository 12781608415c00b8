from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.scoping import Action
from ledger.models import Ledger
from ledger.resources import import_workbook, preview_lines
from utilities.excel import ImportFileError


def command_user(username):
    """The user a command acts as: ``username``, else the first active superuser."""
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=username).first() if username else users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise CommandError(f"没有名为 {username} 的有效用户。" if username else "没有有效的超级用户：请用 --user 指定用户。")
    return user


def command_ledger(code, user):
    ledger = Ledger.objects.restrict(user, Action.VIEW).filter(code=code).first()
    if ledger is None:
        raise CommandError(f"台账 {code} 不存在或不在用户 {user.username} 的管辖范围内。")
    return ledger


class Command(BaseCommand):
    help = (
        "导入台账事项（或加 --progress 导入任务分解进展）的 Excel：先打印预览；不带 --dry-run 时经业务规则逐行写入，"
        "全部成功或全部不写入，操作记录的渠道为“导入”。"
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="台账代码，如 510000-2024")
        parser.add_argument("file", help="从门户导出并修改后的 .xlsx 文件")
        parser.add_argument("--user", required=True, help="以哪个用户的身份导入（其权限与网页上相同）")
        parser.add_argument("--dry-run", action="store_true", help="只打印预览，不写入任何内容")
        parser.add_argument("--progress", action="store_true", help="导入任务分解进展表，而不是台账事项")

    def handle(self, *args, code, file, user, dry_run, progress, **options):
        user = command_user(user)
        ledger = command_ledger(code, user)
        try:
            preview = import_workbook(file, ledger=ledger, user=user, progress=progress, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError("文件未通过检查，未导入任何内容：\n" + "\n".join(exc.errors)) from exc
        for line in preview_lines(preview):
            self.stdout.write(line)
        if preview.errors:
            raise CommandError(f"有 {len(preview.errors)} 处错误，未导入任何内容。")
        if dry_run:
            self.stdout.write("试运行（--dry-run）：未写入任何内容。")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入：新增 {len(preview.new)} 行，修改 {len(preview.changed)} 行（操作人 {user.username}，渠道“导入”）。"
            )
        )
