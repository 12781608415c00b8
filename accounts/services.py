"""Writes on regions and users. Each is atomic and validated; callers pass keyword arguments."""

import hashlib
import re
import secrets
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from utilities.csvdata import DataError, DataFileError, read_rows

from . import policy
from .models import CODE_RE, PARENT_LEVEL, ApiToken, Company, Region, RegionLevel, Role, User
from .scoping import Action, ensure_in_scope

REGION_COLUMNS = ("code", "name", "level", "parent_code")
NAME_RE = re.compile(r"^\S.{0,63}$")


def _parse_region_rows(path):
    _header, rows = read_rows(path, REGION_COLUMNS)
    name = Path(path).name
    errors, parsed, levels = [], [], {}
    for line, row in rows:
        code, level, parent = row["code"], row["level"], row["parent_code"]
        if not CODE_RE.match(code):
            errors.append(DataError(name, line, "code", f"“{code}”不是 6 位数字行政区划代码。"))
            continue
        if code in levels:
            errors.append(DataError(name, line, "code", f"代码 {code} 重复。"))
            continue
        if not NAME_RE.match(row["name"]):
            errors.append(DataError(name, line, "name", "名称为空或过长。"))
        if level not in RegionLevel.values:
            errors.append(DataError(name, line, "level", f"“{level}”不是 province/city/county 之一。"))
            continue
        expected = PARENT_LEVEL[RegionLevel(level)]
        if expected is None and parent:
            errors.append(DataError(name, line, "parent_code", "省级区域不应有上级。"))
        elif expected is not None:
            if not parent:
                errors.append(DataError(name, line, "parent_code", "缺少上级区域代码。"))
            elif levels.get(parent) != expected:
                reason = (
                    "上级区域不存在（上级须在前面的行中）" if parent not in levels else f"上级 {parent} 不是{RegionLevel(expected).label}级"
                )
                errors.append(DataError(name, line, "parent_code", f"{reason}。"))
        levels[code] = level
        parsed.append((code, row["name"], level, parent or None))
    if not parsed and not errors:
        errors.append(DataError(name, None, None, "文件中没有任何区域。"))
    if errors:
        raise DataFileError(errors)
    return parsed


def _paths_rebuild():
    """A region that moved takes its subtree with it: recompute every path, parents first."""
    paths = {}
    for level in RegionLevel.values:
        regions = list(Region.objects.filter(level=level).select_related("parent"))
        for region in regions:
            region.path = paths.get(region.parent_id, "") + f"{region.code}/"
            paths[region.pk] = region.path
        Region.objects.bulk_update(regions, ["path"], batch_size=500)


@transaction.atomic
def regions_load(*, path):
    """Create or update every region of ``path``; all or nothing.

    Regions in the database but not in the file are kept (users and data may hang on them) and
    reported back. Returns ``(created, updated, unchanged, not_in_file)``.
    """
    parsed = _parse_region_rows(path)
    by_code = {r.code: r for r in Region.objects.all()}
    existing = set(by_code)
    created = updated = 0
    for level in RegionLevel.values:  # parents are saved before their children
        new = []
        for code, name, row_level, parent_code in parsed:
            if row_level != level:
                continue
            parent = by_code[parent_code] if parent_code else None
            region = by_code.get(code)
            if region is None:
                region = Region(code=code, name=name, level=level, parent=parent)
                region.path = (parent.path if parent else "") + f"{code}/"
                region.full_clean(validate_unique=False, validate_constraints=False)
                new.append(region)
                by_code[code] = region
            elif (region.name, region.level, region.parent_id) != (name, level, parent.pk if parent else None):
                region.name, region.level, region.parent = name, level, parent
                region.full_clean(validate_unique=False, validate_constraints=False)
                region.save()
                updated += 1
        Region.objects.bulk_create(new, batch_size=500)
        created += len(new)
    if updated:
        _paths_rebuild()
    stale = sorted(existing - {p[0] for p in parsed})
    return created, updated, len(parsed) - created - updated, stale


@transaction.atomic
def user_save(
    *,
    username,
    password,
    role,
    region=None,
    first_name="",
    last_name="",
    organisation="",
    phone="",
    is_staff=False,
    groups=(),
    must_change_password=True,
    company=None,
    org_unit=None,
):
    """Create a user, or reset the one of that name; role and region must agree (User.clean), and a
    supply-company user names its company (and, optionally, its unit).

    The password must meet the policy (accounts.passwords); set by someone else, it is changed by
    its owner at the first login unless ``must_change_password=False``."""
    user = User.objects.filter(username=username).first() or User(username=username)
    user.first_name, user.last_name = first_name, last_name  # the similarity check compares them
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    return _user_write(
        user=user,
        password=password,
        role=role,
        region=region,
        names=(first_name, last_name, organisation, phone),
        is_staff=is_staff,
        groups=groups,
        must_change_password=must_change_password,
        company=company,
        org_unit=org_unit,
    )


def _user_write(*, user, password, role, region, names, is_staff, groups, must_change_password, company=None, org_unit=None):
    user.role, user.region, user.is_staff, user.is_active = role, region, is_staff, True
    user.company, user.org_unit = company, org_unit
    user.first_name, user.last_name, user.organisation, user.phone = names
    user.must_change_password = must_change_password
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set(groups)
    return user


DEMO_PASSWORD = "Demo#2026"
# Per role: username, the region's code relative to the demo province, name, organisation.
DEMO_PROVINCE = "510000"
DEMO_USERS = [
    ("demo_national", "national", None, "国家能源局", "国家能源局市场监管司"),
    ("demo_regulator", "regulator", "510000", "四川能源监管办", "国家能源局四川监管办公室"),
    ("demo_province", "province", "510000", "四川省能源局", "四川省能源局电力处"),
    ("demo_supply", "supply_company", "510000", "国网四川省电力公司", "国网四川省电力公司营销部"),
    ("demo_city", "city", "510100", "成都市", "成都市经济和信息化局"),
    ("demo_county", "county", "510104", "锦江区", "成都市锦江区经济科技和信息化局"),
    ("demo_county2", "county", "510105", "青羊区", "成都市青羊区经济科技和信息化局"),
]
# Who may open the admin (what they may do there: accounts.policy).
DEMO_STAFF = {"demo_province"}


def demo_user_write(*, username, role, region, name, organisation, is_staff=False, company=None, org_unit=None):
    """Create (or reset) one demo account. Demo accounts have a published password, reset on every
    run, so the password policy is not asked (never on a production deployment: seed_demo refuses)."""
    return _user_write(
        user=User.objects.filter(username=username).first() or User(username=username),
        password=DEMO_PASSWORD,
        role=role,
        region=region,
        names=("", name, organisation, ""),
        is_staff=is_staff,
        groups=(),
        must_change_password=False,
        company=company,
        org_unit=org_unit,
    )


@transaction.atomic
def demo_users_create():
    """Create (or reset) the demo users of every role in Sichuan; returns their credentials.

    The province official is staff: what it may do in the admin comes from accounts.policy alone."""
    regions = Region.objects.in_bulk([code for _u, _r, code, _n, _o in DEMO_USERS if code], field_name="code")
    company = demo_company_get(province=regions[DEMO_PROVINCE])
    credentials = []
    for username, role, code, name, organisation in DEMO_USERS:
        demo_user_write(
            username=username,
            role=role,
            region=regions.get(code),
            name=name,
            organisation=organisation,
            is_staff=username in DEMO_STAFF,
            company=company if policy.role_has_company(role) else None,
        )
        credentials.append((username, DEMO_PASSWORD, Role(role).label, regions[code].name if code else "全国"))
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", password=DEMO_PASSWORD, role="national")
    credentials.append(("admin", DEMO_PASSWORD, "超级管理员", "全国"))
    return credentials


def demo_company_get(*, province):
    """The demo's power-supply company of a province (“国网××电力公司”), serving its cities."""
    company, created = Company.objects.get_or_create(
        code=f"sgcc-{province.code}", defaults={"name": f"国网{province.name}电力公司", "province": province}
    )
    if created:
        company.service_area.set(Region.objects.filter(parent=province, level=RegionLevel.CITY))
    return company


def api_token_digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_token_admin(user, obj):
    if not user.has_perm("accounts.manage_tokens"):
        raise PermissionDenied("只有省级能源主管部门可以管理接口令牌。")
    if not user.has_perm("accounts.manage_tokens", obj):
        raise PermissionDenied(f"“{obj}”不在您的管辖范围内。" if isinstance(obj, Region) else "该令牌不在您的管辖范围内。")


@transaction.atomic
def api_token_create(*, user, name, region, access, role=None, company=None):
    """A client token for ``region``, acting as a new service user; returns ``(token, secret)``.

    The secret is returned here and nowhere else: only its SHA-256 is stored. ``role`` is the
    region level's role unless ``supply_company`` is asked for; a supply company's token names its
    ``company`` (of the region's province), whose 附件3 figures it enters.
    """
    _require_token_admin(user, region)
    allowed = policy.token_roles(region)
    role = role or allowed[0]
    if role not in allowed:
        raise ValidationError({"role": f"{region.name}的令牌只能以{'或'.join(r.label for r in allowed)}的身份使用。"})
    if role == policy.TOKEN_OTHER_ROLE:
        province_code = region.path.split("/")[0]
        if company is None:
            raise ValidationError({"company": "供电企业身份的令牌须选择所属供电企业。"})
        if company.province.code != province_code or not Company.objects.restrict(user, Action.VIEW).filter(pk=company.pk).exists():
            raise ValidationError({"company": f"“{company.name}”不是{region.name}所在省份的供电企业。"})
    elif company is not None:
        raise ValidationError({"company": "只有供电企业身份的令牌才选择供电企业。"})
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    secret = prefix + secrets.token_urlsafe(32)
    service_user = User(
        username=f"api-{prefix}",
        role=role,
        region=region,
        company=company,
        last_name=f"接口：{name}"[:150],
        organisation=name[:128],
    )
    service_user.set_unusable_password()
    service_user.full_clean()
    service_user.save()
    token = ApiToken(
        name=name,
        region=region,
        access=access,
        key_hash=api_token_digest(secret),
        prefix=prefix,
        user=service_user,
        created_by=user,
    )
    token.full_clean()
    token.save()
    ensure_in_scope(user, token)
    return token, secret


@transaction.atomic
def api_token_revoke(*, user, token):
    """Revoke a token at once: it no longer authenticates and its service user is deactivated."""
    _require_token_admin(user, token)
    token = ApiToken.objects.restrict(user, Action.CHANGE).select_for_update().filter(pk=token.pk).first()
    if token is None:
        raise PermissionDenied("该令牌不在您的管辖范围内。")
    if token.revoked_at is not None:
        raise ValidationError("该令牌已经吊销。")
    token.revoked_at = timezone.now()
    token.full_clean()
    token.save(update_fields=["revoked_at"])
    User.objects.filter(pk=token.user_id).update(is_active=False)
    return token
