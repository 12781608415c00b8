from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import regions_load
from utilities.commands import run_loader


class Command(BaseCommand):
    help = "导入全国行政区域（省、地市、县），默认读取 fixtures/regions.csv；出错时数据库不作任何改动。"

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(settings.BASE_DIR / "fixtures" / "regions.csv"))

    def handle(self, *args, path, **options):
        created, updated, unchanged, stale = run_loader(self, regions_load, path=path)
        self.stdout.write(f"行政区域：新增 {created}，更新 {updated}，未变 {unchanged}。")
        if stale:
            self.stdout.write(self.style.WARNING(f"数据库中有 {len(stale)} 个区域不在文件中，已保留：{', '.join(stale[:20])}"))
