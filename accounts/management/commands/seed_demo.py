from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from accounts.services import DEMO_PROVINCE, demo_users_create
from indicators.demo import demo_progress_create
from reporting.demo import demo_reports_create


class Command(BaseCommand):
    help = "创建演示数据：四川省各角色的演示用户和近四个报告期的填报进度（仅供演示，切勿用于生产）。"

    def handle(self, *args, **options):
        if not Region.objects.filter(code=DEMO_PROVINCE).exists():
            raise CommandError("尚未导入行政区域，请先运行 python manage.py load_regions。")
        credentials = demo_users_create()
        self.stdout.write(self.style.WARNING("演示账号（仅供演示）："))
        for username, password, role, region in credentials:
            self.stdout.write(f"  {username:<16} {password:<10} {role}（{region}）")
        written = demo_progress_create(province_code=DEMO_PROVINCE)
        self.stdout.write(f"演示填报数据：写入 {written} 条指标填报（已有数据时不重复生成）。")
        snapshots = demo_reports_create(province_code=DEMO_PROVINCE)
        self.stdout.write(f"演示服务效益与统计表：编制 {len(snapshots)} 份报表快照。")
