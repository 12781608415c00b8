from django.core.management.base import BaseCommand

from portal.changes import changes_backfill


class Command(BaseCommand):
    help = (
        "为变更订阅补录事件：已有的指标填报、审核状态、签收例外、台账条目、任务分解、服务效益和报表快照若还没有事件"
        "（早于变更订阅的版本写入的数据），各补录一条当前状态的事件。从旧版本升级后运行一次；重复运行不会重复补录。"
    )

    def handle(self, *args, **options):
        recorded = changes_backfill()
        self.stdout.write(self.style.SUCCESS(f"变更订阅：补录 {recorded} 条事件。"))
