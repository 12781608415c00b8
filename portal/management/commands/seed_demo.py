import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region, User
from accounts.services import DEMO_PROVINCE, demo_users_create
from indicators.applications.demo import DEMO_CITY, demo_applications_create, demo_counties, demo_record_periods
from indicators.demo import demo_national_progress_create, demo_period_codes, demo_progress_create
from ledger.demo import demo_company_ledger_create, demo_ledgers_create
from portal.changes import changes_backfill
from reporting.demo import demo_benefits_create, demo_reliability_create, demo_reports_create


class Command(BaseCommand):
    help = (
        "创建演示数据（仅供演示，切勿用于生产）：默认为四川省各角色的演示用户和近四个报告期的填报进度；"
        "--scale national 则为全国每个县生成多个报告期的填报、各地市的服务效益和各省分解后的任务台账。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", choices=["province", "national"], default="province", help="province：四川省（默认）；national：全国所有省份。"
        )
        parser.add_argument(
            "--periods", type=int, default=8, help="national：报告期个数，截至今年全年（默认 8，即前三年上半年至今年全年）。"
        )
        parser.add_argument("--provinces", default="", help="national：只生成这些省份（逗号分隔的行政区划代码），默认全国。")

    def handle(self, *args, **options):
        # Demo accounts share a published password: never on a production deployment.
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "生产配置（config.settings.production）下禁止创建演示数据：演示账号的密码是公开的。"
                "首个管理员请用 python manage.py create_admin 创建。"
            )
        if not Region.objects.filter(code=DEMO_PROVINCE).exists():
            raise CommandError("尚未导入行政区域，请先运行 python manage.py load_regions。")
        started = time.perf_counter()
        credentials = demo_users_create()
        # 国网重庆市电力公司's ledger given to its departments, with their users.
        credentials += demo_company_ledger_create(user=User.objects.get(username="admin"))
        self.stdout.write(self.style.WARNING("演示账号（仅供演示）："))
        for username, password, role, region in credentials:
            self.stdout.write(f"  {username:<16} {password:<10} {role}（{region}）")
        if options["scale"] == "national":
            self._national(options)
        else:
            self._records()
            written = demo_progress_create(province_code=DEMO_PROVINCE)
            self.stdout.write(f"演示填报数据：写入 {written} 条指标填报（已有数据时不重复生成）。")
            snapshots = demo_reports_create(province_code=DEMO_PROVINCE)
            self.stdout.write(f"演示服务效益与统计表：编制 {len(snapshots)} 份报表快照。")
        # The demo's rows are bulk-inserted, not written through the services: give them their events.
        self.stdout.write(f"变更订阅：为演示数据补录 {changes_backfill()} 条事件。")
        self.stdout.write(f"用时 {time.perf_counter() - started:.1f} 秒。")

    def _records(self):
        """Application records and reliability figures, entered through the services as their users
        would; the records before ``demo_progress_create`` confirms (locks) the past periods."""
        counties, periods = demo_counties(), demo_record_periods()
        written, locked = demo_applications_create(user=User.objects.get(username="demo_supply"), counties=counties, periods=periods)
        self.stdout.write(
            f"演示报装记录：{written} 条（{len(counties)} 个县×{len(periods)} 个报告期，已有记录的不重复上传）。"
            + (f"另有 {locked} 份（县×报告期）因报告期已由省级确认锁定而未上传，请在新数据库上重建演示数据。" if locked else "")
        )
        regions = [*counties, Region.objects.get(code=DEMO_CITY)]
        figures = demo_reliability_create(user=User.objects.get(username="demo_province"), regions=regions, periods=periods)
        self.stdout.write(f"演示供电可靠性：{figures} 条（已有数据的不重复填报）。")

    def _national(self, options):
        if options["periods"] < 1:
            raise CommandError("--periods 至少为 1。")
        codes = [c.strip() for c in options["provinces"].split(",") if c.strip()]
        if codes:
            unknown = set(codes) - set(Region.objects.filter(level="province", code__in=codes).values_list("code", flat=True))
            if unknown:
                raise CommandError(f"不是省级行政区划代码：{'、'.join(sorted(unknown))}。")
        provinces = list(Region.objects.filter(level="province", code__in=codes)) if codes else None
        written, provinces_written = demo_national_progress_create(period_count=options["periods"], province_codes=codes or None)
        self.stdout.write(f"演示填报数据：{provinces_written} 个省份写入 {written} 条指标填报（已有数据的省份不重复生成）。")
        from django.utils import timezone

        years = {int(code[:4]) for code in demo_period_codes(timezone.localdate(), options["periods"])}
        benefits = demo_benefits_create(provinces=provinces, years=years)
        self.stdout.write(f"演示服务效益：写入 {benefits} 条。")
        admin = User.objects.get(username="admin")
        ledgers, assignments = demo_ledgers_create(user=admin, province_codes=codes or None)
        self.stdout.write(f"演示任务台账：{ledgers} 个省份改编全国台账，分解 {assignments} 项任务。")
