import re

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.crypto import salted_hmac

from utilities.hashchain import AppendOnlyQuerySet, ChainedEntry, ChainHeadBase

from .scoping import RestrictedQuerySet

CODE_RE = re.compile(r"^\d{6}$")


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "地市"
    COUNTY = "county", "县"


PARENT_LEVEL = {
    RegionLevel.PROVINCE: None,
    RegionLevel.CITY: RegionLevel.PROVINCE,
    RegionLevel.COUNTY: RegionLevel.CITY,
}


class Region(models.Model):
    """An administrative division (GB/T 2260): province → city → county.

    ``path`` holds the codes from the province down ("510000/511100/511102/") so a subtree is one
    indexed prefix filter on SQLite and PostgreSQL alike.
    """

    code = models.CharField("行政区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=8, choices=RegionLevel.choices)
    parent = models.ForeignKey("self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField("路径", max_length=24, db_index=True, editable=False)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = ""
    visible_from_below = True

    class Meta:
        verbose_name = "行政区域"
        verbose_name_plural = "行政区域"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="province", parent__isnull=True) | Q(level__in=["city", "county"], parent__isnull=False),
                name="region_parent_matches_level",
            ),
            models.CheckConstraint(condition=Exact(Length("code"), 6), name="region_code_six_digits"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "") + f"{self.code}/"
        super().save(*args, **kwargs)

    def clean(self):
        if not CODE_RE.match(self.code or ""):
            raise ValidationError({"code": "行政区划代码必须是 6 位数字。"})
        expected = PARENT_LEVEL[RegionLevel(self.level)]
        actual = self.parent.level if self.parent_id else None
        if expected != actual:
            raise ValidationError(
                {"parent": f"{self.get_level_display()}级区域的上级必须是{dict(RegionLevel.choices).get(expected, '空')}。"}
            )

    def ancestor_codes(self):
        return self.path.strip("/").split("/")[:-1]

    @property
    def full_name(self):
        """Province, city and county together: a county's name alone is not unique. No query when
        the parents were read with the region (``select_related("parent__parent")``)."""
        chain, node = [self.name], self
        while node.parent_id and Region.parent.is_cached(node):
            node = node.parent
            chain.append(node.name)
        if node.parent_id is None:
            return " ".join(reversed(chain))
        names = {r.code: r.name for r in Region.objects.filter(code__in=self.ancestor_codes())}
        return " ".join([names[c] for c in self.ancestor_codes()] + [self.name])


class RegionalDocument(models.Model):
    """A document issued for a region and year: a ledger or an indicator set. No region: national.

    Abstract, and here beside Region: the indicators and ledger apps both build on it.
    """

    code = models.SlugField("代码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=200)
    document = models.CharField("文件", max_length=200, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name="所属区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="留空表示国家层面。",
    )
    year = models.PositiveSmallIntegerField("年度")

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = True

    class Meta:
        abstract = True
        ordering = ["year", "code"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    COUNTY = "county", "县级填报人员"
    CITY = "city", "地市审核人员"
    PROVINCE = "province", "省级能源主管部门"
    SUPPLY_COMPANY = "supply_company", "供电企业"
    REGULATOR = "regulator", "国家能源局派出机构"
    NATIONAL = "national", "国家能源局"


# The region level each role works at; None means any level (supply companies serve a province,
# a city or a county) or none (national).
ROLE_LEVEL = {
    Role.COUNTY: RegionLevel.COUNTY,
    Role.CITY: RegionLevel.CITY,
    Role.PROVINCE: RegionLevel.PROVINCE,
    Role.REGULATOR: RegionLevel.PROVINCE,
    Role.SUPPLY_COMPANY: None,
    Role.NATIONAL: None,
}


class UserQuerySet(RestrictedQuerySet):
    def people(self):
        """Active people: not the service accounts of API clients, which get no notifications."""
        return self.filter(is_active=True, api_token__isnull=True)


class RestrictedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.COUNTY)
    region = models.ForeignKey(Region, verbose_name="所属区域", null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    organisation = models.CharField("单位", max_length=128, blank=True)
    phone = models.CharField("手机号码", max_length=20, blank=True)
    # 等保 8.1.4.1 b: passwords expire (PASSWORD_MAX_AGE_DAYS) and one set by an administrator is
    # changed by its owner at the next login.
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True, editable=False)
    must_change_password = models.BooleanField(
        "下次登录须修改密码", default=False, help_text="管理员新建或重置的密码，用户首次登录后必须修改。"
    )

    # A supply-company user's company and, for ledger assignments, its unit (Company and OrgUnit
    # below; referenced by name because they are defined after User).
    company = models.ForeignKey(
        "accounts.Company", verbose_name="所属供电企业", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name="所属单位（部门）", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    objects = RestrictedUserManager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(role="national") | Q(region__isnull=False) | Q(is_superuser=True),
                name="user_region_required_unless_national",
            ),
        ]

    def set_password(self, raw_password):
        """Every path that sets a password (admin, change form, services) records it for the reuse rule."""
        super().set_password(raw_password)
        if self.has_usable_password():
            self._password_changed_before = self.password_changed_at
            self.password_changed_at = timezone.now()
            self._password_history_pending = self.password

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "password_changed_at" not in update_fields and hasattr(self, "_password_changed_before"):
            # check_password() re-hashing the same password for a newer hasher: not a change.
            self.password_changed_at = self._password_changed_before
            self._password_history_pending = None
        super().save(*args, **kwargs)
        pending = getattr(self, "_password_history_pending", None)
        if pending:
            self._password_history_pending = None
            PasswordHistory.record(user=self, password_hash=pending)

    def clean(self):
        super().clean()
        self._clean_company()
        if self.is_superuser:
            return
        role = Role(self.role)
        if role == Role.NATIONAL:
            if self.region_id:
                raise ValidationError({"region": "国家能源局用户不属于任何省级以下区域，请留空。"})
            return
        if not self.region_id:
            raise ValidationError({"region": f"{role.label}必须选择所属区域。"})
        level = ROLE_LEVEL[role]
        if level and self.region.level != level:
            raise ValidationError(
                {
                    "region": f"{role.label}的所属区域必须是{RegionLevel(level).label}级，而“{self.region.name}”是{self.region.get_level_display()}级。"
                }
            )

    def _clean_company(self):
        """A supply-company user belongs to a company of its province (required for new people;
        accounts made before companies existed stay valid, as do API service accounts, which have
        no usable password and are not people)."""
        supply = self.role == Role.SUPPLY_COMPANY
        if self.company_id is None:
            if self.org_unit_id:
                raise ValidationError({"org_unit": "请先选择所属供电企业，再选择其单位。"})
            if supply and self._state.adding and not self.is_superuser and self.has_usable_password():
                raise ValidationError({"company": "供电企业用户必须选择所属供电企业。"})
            return
        if not supply:
            raise ValidationError({"company": f"只有供电企业用户可以选择所属供电企业，而该用户的角色是{Role(self.role).label}。"})
        company = self.company
        if self.region_id and not self.region.path.startswith(company.province.path):
            raise ValidationError({"region": f"“{self.region.name}”不在{company.name}所在的{company.province.name}。"})
        if self.org_unit_id and self.org_unit.company_id != self.company_id:
            raise ValidationError({"org_unit": f"单位“{self.org_unit.name}”不属于{company.name}。"})


def person_name(user, nobody="系统"):
    """A user as people call them: full name, else the login name; ``nobody`` when there is none."""
    if user is None:
        return nobody
    return user.get_full_name() or user.username


class NotificationLevel(models.TextChoices):
    INFO = "info", "提示"
    BLUE = "blue", "蓝色提醒"
    YELLOW = "yellow", "黄色提醒"
    RED = "red", "红色提醒"


class Notification(models.Model):
    """An in-portal message to one user: a reminder, an overdue item, a finished job."""

    user = models.ForeignKey(User, verbose_name="接收人", on_delete=models.CASCADE, related_name="notifications")
    level = models.CharField("级别", max_length=8, choices=NotificationLevel.choices, default=NotificationLevel.INFO)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    key = models.CharField(
        "去重键",
        max_length=120,
        blank=True,
        db_index=True,
        help_text="同一提醒只发一次：如“remind:2022S1:510104:7”。",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notification_once_per_key"),
        ]

    def __str__(self):
        return self.title


class TokenAccess(models.TextChoices):
    READ = "read", "只读"
    WRITE = "write", "读写"


class ApiToken(models.Model):
    """A 政务平台 client's key to the REST API, scoped to one region.

    Only the SHA-256 of the secret is kept; the secret is shown once, when the token is created.
    The token acts as its own service ``user`` (role and region from the token), so scoping,
    the services' checks and the audit trail treat an API client like any other user.
    """

    name = models.CharField("名称", max_length=100, help_text="调用方，如“四川省政务服务平台”。")
    region = models.ForeignKey(Region, verbose_name="授权区域", on_delete=models.PROTECT, related_name="api_tokens")
    access = models.CharField("权限", max_length=8, choices=TokenAccess.choices, default=TokenAccess.READ)
    key_hash = models.CharField("密钥摘要", max_length=64, unique=True, editable=False)
    prefix = models.CharField("密钥前缀", max_length=8, unique=True, editable=False, help_text="密钥的前 8 位，用于识别。")
    user = models.OneToOneField(User, verbose_name="服务账号", on_delete=models.PROTECT, related_name="api_token", editable=False)
    created_by = models.ForeignKey(User, verbose_name="创建人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name}（{self.prefix}…）"


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords (current one included): none of them may be set again."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField("密码摘要", max_length=128)
    created_at = models.DateTimeField("设置时间", default=timezone.now)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, *, user, password_hash):
        from django.conf import settings

        cls.objects.create(user=user, password=password_hash)
        keep = getattr(settings, "PASSWORD_HISTORY_COUNT", 5)
        stale = cls.objects.filter(user=user).values_list("pk", flat=True)[keep:]
        cls.objects.filter(pk__in=list(stale)).delete()


class UserSession(models.Model):
    """One signed-in browser of a user, so the user can see and end sessions (等保 8.1.4.1 d).

    Only the SHA-256 of the session key is kept; the row is looked up from the session by ``pk``.
    """

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="sessions")
    session_key_hash = models.CharField("会话标识摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("登录时间", default=timezone.now)
    last_seen_at = models.DateTimeField("最近活动时间", default=timezone.now)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    user_agent = models.CharField("浏览器", max_length=300, blank=True)

    class Meta:
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"
        ordering = ["-last_seen_at", "-pk"]

    def __str__(self):
        return f"{self.user} @ {self.ip_address or '-'}"


# --- the security-event log (等保 8.1.4.3 安全审计), a hash chain like indicators.AuditEntry -------


class ChainHead(ChainHeadBase):
    """The head of each hash chain ("audit": indicators.AuditEntry, "security": SecurityEvent)."""

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    LOCKED_OUT = "locked_out", "账户锁定"
    PASSWORD_CHANGED = "password_changed", "修改密码"
    OTP_FAILED = "otp_failed", "动态口令错误"
    OTP_ENROLLED = "otp_enrolled", "绑定动态口令"
    OTP_REMOVED = "otp_removed", "解除动态口令"
    OTP_RECOVERY_USED = "otp_recovery_code_used", "使用恢复码"
    OTP_CODES_RENEWED = "otp_recovery_codes_renewed", "更换恢复码"
    BACKUP = "backup", "备份"
    RESTORE_REFUSED = "restore_refused", "拒绝恢复"
    ADMIN_ADD = "admin_add", "后台新增"
    ADMIN_CHANGE = "admin_change", "后台修改"
    ADMIN_DELETE = "admin_delete", "后台删除"
    WEBHOOK_ADDED = "webhook_added", "登记回调地址"
    WEBHOOK_DISABLED = "webhook_disabled", "停用回调地址"


class SecurityEventQuerySet(AppendOnlyQuerySet, RestrictedQuerySet):
    pass


class SecurityEvent(ChainedEntry):
    """A login, logout, failed login, lockout, password change or administration step. Never a password."""

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    # No database constraint and nothing done on delete: the entry outlives the account and is never changed.
    user = models.ForeignKey(
        User,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField("用户名（输入）", max_length=150, blank=True)
    kind = models.CharField("事件", max_length=32, choices=SecurityEventKind.choices)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    detail = models.CharField("详情", max_length=1000, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    chain_name = "security"
    chain_fields = ("at", "user", "username", "kind", "ip", "detail")
    chain_head_model = "accounts.ChainHead"
    # A province administrator reads the events of its province's users.
    region_lookup = "user__region"
    visible_from_below = False

    class Meta:
        verbose_name = "安全事件"
        verbose_name_plural = "安全事件"
        ordering = ["-seq"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.get_kind_display()}"


# --- power-supply companies (供电企业) and their units ---------------------------------------------


class Company(models.Model):
    """A power-supply company: it reports 附件3 in ``province`` for the regions it serves.

    ``service_area`` holds regions of ONE level (its cities, or its counties; the province itself
    for a company whose figures are kept for the whole province): the level it enters figures at,
    so no figure of it is counted twice (reporting.services.benefits_set). Two companies may serve
    one region; both count.
    """

    name = models.CharField("名称", max_length=128, unique=True, help_text="如“国网四川省电力公司”。")
    code = models.SlugField("简称代码", max_length=32, unique=True, help_text="字母、数字或连字符，如“sgcc-sc”。")
    province = models.ForeignKey(
        Region,
        verbose_name="所在省份",
        on_delete=models.PROTECT,
        related_name="companies",
        limit_choices_to={"level": RegionLevel.PROVINCE},
        help_text="该企业填报附件3 所在的省（自治区、直辖市）。",
    )
    service_area = models.ManyToManyField(
        Region,
        verbose_name="供电服务区域",
        blank=True,
        related_name="serving_companies",
        help_text="所服务的地市或区县，须为同一层级且都在所在省份内。",
    )

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "province"
    visible_from_below = True  # the cities and counties of its province read who serves them

    class Meta:
        verbose_name = "供电企业"
        verbose_name_plural = "供电企业"
        ordering = ["province__code", "code"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.province_id and self.province.level != RegionLevel.PROVINCE:
            raise ValidationError(
                {"province": f"所在省份必须是省级区域，而“{self.province.name}”是{self.province.get_level_display()}级。"}
            )

    def service_area_errors(self, regions):
        """Why ``regions`` cannot be this company's service area (empty list: they can)."""
        errors = []
        outside = [r.name for r in regions if not self.province_id or not r.path.startswith(self.province.path)]
        if outside:
            errors.append(f"{'、'.join(outside)}不在{self.province.name if self.province_id else '所在省份'}内。")
        levels = {r.level for r in regions}
        if len(levels) > 1:
            by_level = "；".join(
                f"{RegionLevel(level).label}级：{'、'.join(r.name for r in regions if r.level == level)}"
                for level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
                if level in levels
            )
            errors.append(f"供电服务区域必须是同一层级（一个企业只在一个层级填报，以免重复统计），而这里有{by_level}。")
        return errors

    def service_area_check(self, regions):
        errors = self.service_area_errors(list(regions))
        if errors:
            raise ValidationError({"service_area": errors})

    @property
    def area_level(self):
        """The level of its service area, None while it has none."""
        return self.service_area.values_list("level", flat=True).first()

    def serves(self, region):
        return self.service_area.filter(pk=region.pk).exists()


def _service_area_guard(sender, instance, action, pk_set, reverse, **kwargs):
    """Every write of a service area (admin, services, data migrations aside) keeps it one level."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # region.serving_companies.add(company…): check each company with the region added
        for company in Company.objects.filter(pk__in=pk_set):
            company.service_area_check([*company.service_area.all(), instance])
        return
    instance.service_area_check([*instance.service_area.exclude(pk__in=pk_set), *Region.objects.filter(pk__in=pk_set)])


models.signals.m2m_changed.connect(_service_area_guard, sender=Company.service_area.through, dispatch_uid="company_service_area")


class OrgUnitKind(models.TextChoices):
    DEPARTMENT = "department", "部门"
    CITY_COMPANY = "city_company", "地市公司"
    DISTRICT_COMPANY = "district_company", "区县公司"
    OTHER = "other", "其他"


class OrgUnit(models.Model):
    """A unit of a supply company (营销部, 巡察办, a district company): ledger items are assigned to them."""

    company = models.ForeignKey(Company, verbose_name="供电企业", on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey("self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField("名称", max_length=128)
    kind = models.CharField("类型", max_length=20, choices=OrgUnitKind.choices, default=OrgUnitKind.DEPARTMENT)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "company__province"
    visible_from_below = True

    class Meta:
        verbose_name = "企业单位"
        verbose_name_plural = "企业单位"
        ordering = ["company", "name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="orgunit_unique_name")]

    def __str__(self):
        return f"{self.company}·{self.name}" if self.company_id else self.name

    def clean(self):
        if not self.parent_id:
            return
        if self.parent.company_id != self.company_id:
            raise ValidationError({"parent": f"上级单位“{self.parent.name}”不属于同一供电企业。"})
        seen, unit = {self.pk}, self.parent
        while unit is not None:  # a unit cannot sit below itself
            if unit.pk in seen:
                raise ValidationError({"parent": "上级单位不能是本单位或其下级单位。"})
            seen.add(unit.pk)
            unit = unit.parent


# --- the change feed and webhooks (政务平台 integration) ----------------------------------------


class ChangeEvent(models.Model):
    """One change a 政务平台 may learn of, written in the same transaction as the change.

    ``seq`` is given under the "changes" chain head's lock (utilities.hashchain.lock_head), so the
    numbers grow in commit order without gaps: a reader that has seen ``seq`` n has seen every change
    committed before it. ``data`` is the object's new state as the API shows it, so a client that
    applies every event in order holds the current state. Written with ``accounts.changes`` only.
    """

    seq = models.PositiveBigIntegerField("序号", unique=True, editable=False)
    at = models.DateTimeField("时间", default=timezone.now)
    type = models.CharField("类型", max_length=40, db_index=True, help_text="如 checkmark.changed。")
    object_url = models.CharField("对象地址", max_length=300, help_text="对象在接口中的路径，如 /api/v1/…。")
    region = models.ForeignKey(Region, verbose_name="区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField("渠道", max_length=8)
    version = models.CharField("版本", max_length=40, blank=True)
    user = models.ForeignKey(
        User, verbose_name="操作人", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    data = models.JSONField("新状态", default=dict, blank=True)
    org_unit = models.ForeignKey("OrgUnit", verbose_name="责任单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    # A region's changes are seen by it and the regions above it; a null region (national) by national
    # readers; a change of a company unit's assignment by its company's users as the assignment is.
    region_lookup = "region"
    visible_from_below = False
    unit_lookup = "org_unit"

    class Meta:
        verbose_name = "变更事件"
        verbose_name_plural = "变更事件"
        ordering = ["seq"]
        # A county polls its own region's events after its cursor: without it each poll scans the country's.
        indexes = [models.Index(fields=["region", "seq"], name="changeevent_region_seq")]

    def __str__(self):
        return f"#{self.seq} {self.type} {self.object_url}"

    @property
    def public_id(self):
        """The id clients see: a keyed digest of ``seq``, unique and stable, telling nothing of how many
        events other regions had in between (the numbers themselves would)."""
        return "evt_" + salted_hmac("accounts.changes.event_id", str(self.seq), algorithm="sha256").hexdigest()[:24]


class WebhookEndpoint(models.Model):
    """A receiver registered by a province (or the national) administrator for event types in its scope."""

    name = models.CharField("名称", max_length=100)
    url = models.URLField("地址", max_length=500)
    event_types = models.JSONField("事件类型", default=list, blank=True, help_text="为空表示全部类型。")
    secret = models.CharField("签名密钥", max_length=64, editable=False)
    region = models.ForeignKey(Region, verbose_name="授权区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(User, verbose_name="创建人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    disabled_at = models.DateTimeField("停用时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "region"
    visible_from_below = False

    class Meta:
        verbose_name = "回调地址"
        verbose_name_plural = "回调地址"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name}（{self.url}）"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待发送"
    DELIVERED = "delivered", "已送达"
    RETRYING = "retrying", "重试中"
    FAILED = "failed", "失败"


class WebhookDelivery(models.Model):
    """One event for one endpoint: created with the event, sent after commit, retried with backoff."""

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name="回调地址", on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(ChangeEvent, verbose_name="事件", on_delete=models.PROTECT, related_name="deliveries")
    state = models.CharField("状态", max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING, db_index=True)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField("最近尝试", null=True, blank=True)
    response_code = models.PositiveIntegerField("响应码", null=True, blank=True)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", null=True, blank=True)
    error = models.CharField("错误", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    region_lookup = "endpoint__region"
    visible_from_below = False

    class Meta:
        verbose_name = "回调投递"
        verbose_name_plural = "回调投递"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_event")]

    def __str__(self):
        return f"{self.endpoint} #{self.event_id} {self.get_state_display()}"
