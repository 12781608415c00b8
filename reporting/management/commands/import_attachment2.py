from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from reporting.imports import ImportFileError, apply_attachment2, can_import, preview_lines, read_attachment2
from reporting.management.periods import add_program_argument, command_period
from utilities.errors import ConflictError


class Command(BaseCommand):
    help = "导入离线填写的附件2（官方格式 .xlsx）：先打印预览；不带 --dry-run 时全部导入或全部不导入，操作记录的渠道为“导入”。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="附件2 文件（.xlsx）")
        parser.add_argument("--period", required=True, help="报告期：上半年写作 2022S1，全年写作 2022")
        parser.add_argument("--province", help="省份的行政区划代码（省级用户可省略，默认其所属省份）")
        add_program_argument(parser)
        parser.add_argument("--user", help="以哪个用户的身份导入（默认：第一个有效的超级用户）")
        parser.add_argument("--dry-run", action="store_true", help="只打印预览，不写入任何内容")

    def handle(self, *args, file, period, province, program, user, dry_run, **options):
        user = self._user(user)
        if not can_import(user):
            raise CommandError(f"用户 {user.username}（{user.get_role_display()}）不能导入附件2：只有省级能源主管部门或超级用户可以。")
        period_obj = command_period(code=period, program=program)
        province_obj = self._province(user, province)
        try:
            preview = read_attachment2(file, province=province_obj, period=period_obj)
        except ImportFileError as exc:
            raise CommandError("附件2 未通过检查，未导入任何内容：\n" + "\n".join(exc.errors)) from exc
        for line in preview_lines(preview):
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("试运行（--dry-run）：未写入任何内容。")
            return
        try:
            result = apply_attachment2(user=user, preview=preview)
        except PermissionDenied as exc:
            raise CommandError(f"{exc} 未导入任何内容。") from exc
        except ConflictError as exc:
            raise CommandError(f"{exc.message} 未导入任何内容。") from exc
        except ValidationError as exc:
            raise CommandError("未导入任何内容：\n" + "\n".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入：{result.regions} 个区域，其中 {result.regions_changed} 个有变更，共更新 {result.checkmarks_changed} 项指标"
                f"（操作人 {user.username}，渠道“导入”）。"
            )
        )

    def _user(self, username):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            found = users.filter(username=username).first()
            if found is None:
                raise CommandError(f"没有名为 {username} 的有效用户。")
            return found
        found = users.filter(is_superuser=True).order_by("pk").first()
        if found is None:
            raise CommandError("没有有效的超级用户：请用 --user 指定导入人。")
        return found

    def _province(self, user, code):
        provinces = Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.PROVINCE)
        if not code:
            # Past can_import, anyone but a superuser is a province official: its own province.
            if user.region_id and not user.is_superuser:
                code = user.region.code
            else:
                raise CommandError("请用 --province 指定省份的行政区划代码（如 640000）。")
        found = provinces.filter(code=code).first()
        if found is None:
            raise CommandError(f"省份 {code} 不存在或不在用户 {user.username} 的管辖范围内。")
        return found
