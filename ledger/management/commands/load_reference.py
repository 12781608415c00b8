from django.conf import settings
from django.core.management.base import BaseCommand

from ledger.reference import reference_load
from utilities.commands import run_loader


class Command(BaseCommand):
    help = "导入文件原文中的任务台账与指标体系（fixtures/reference/documents.csv 所列）；全部成功或全部不改。"

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=str(settings.BASE_DIR / "fixtures" / "reference"))

    def handle(self, *args, directory, **options):
        loaded = run_loader(self, reference_load, directory=directory)
        for code, count in loaded.items():
            self.stdout.write(f"{code}: {count} 条")
