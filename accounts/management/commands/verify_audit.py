from django.core.management.base import BaseCommand, CommandError

from utilities.hashchain import chained_models, verify

LABELS = {"audit": "操作记录（填报与审核）", "security": "安全事件（登录与管理）"}


class Command(BaseCommand):
    help = "校验审计日志的哈希链（SM3）：逐条重算，报告第一条被改动、删除或插入的记录；完整时退出码 0，否则 1。"

    def add_arguments(self, parser):
        parser.add_argument("--chain", choices=sorted(LABELS), help="只校验一条链（默认全部）")

    def handle(self, *args, chain=None, **options):
        chains = chained_models()
        names = [chain] if chain else sorted(chains)
        broken = []
        for name in names:
            count, problem = verify(chains[name])  # one streaming pass, constant memory
            label = LABELS.get(name, name)
            if problem is None:
                self.stdout.write(self.style.SUCCESS(f"{label}：完整，共 {count} 条。"))
            else:
                self.stdout.write(self.style.ERROR(f"{label}：前 {count} 条完整，第一处断开在{problem}"))
                broken.append(label)
        if broken:
            raise CommandError(f"哈希链已损坏：{'、'.join(broken)}。")
