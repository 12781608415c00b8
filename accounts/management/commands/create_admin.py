"""The first administrator of a deployment, from the environment or typed in a terminal.

Idempotent: run on every start by the compose `migrate` service, it creates the superuser once
and afterwards leaves it alone (a password changed in the portal is never reset by a redeploy).
"""

import getpass
import os
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts.models import Role, User

ENV_USERNAME, ENV_PASSWORD, ENV_EMAIL = "PORTAL_ADMIN_USERNAME", "PORTAL_ADMIN_PASSWORD", "PORTAL_ADMIN_EMAIL"


@transaction.atomic
def superuser_ensure(*, username, password, email=""):
    """Create the national superuser ``username`` unless it exists; returns (user, created).

    An existing ordinary account of that name is refused rather than silently promoted."""
    existing = User.objects.select_for_update().filter(username=username).first()
    if existing is not None:
        if not existing.is_superuser:
            raise CommandError(f"用户名“{username}”已被一个普通账号使用，未作任何修改；请换一个管理员用户名。")
        return existing, False
    user = User(username=username, email=email, role=Role.NATIONAL, is_staff=True, is_superuser=True, is_active=True)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise CommandError(f"{ENV_PASSWORD}（管理员密码）不符合要求：{' '.join(error.messages)}") from error
    user.set_password(password)
    try:
        user.full_clean()
    except ValidationError as error:
        fields = "；".join(f"{field}：{' '.join(messages)}" for field, messages in error.message_dict.items())
        raise CommandError(f"管理员账号无效：{fields}") from error
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Two hosts ran the command at once and the other one created it first.
        return User.objects.get(username=username), False
    return user, True


class Command(BaseCommand):
    help = (
        f"创建首个超级管理员（国家能源局角色）：读取环境变量 {ENV_USERNAME}、{ENV_PASSWORD}、{ENV_EMAIL}；"
        "未设置且在终端中运行时逐项询问。该用户已存在时不作任何修改，可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-input", action="store_true", help="从不询问；缺少环境变量时报错。")

    def handle(self, *args, no_input=False, **options):
        username = os.environ.get(ENV_USERNAME, "").strip()
        password = os.environ.get(ENV_PASSWORD, "")
        email = os.environ.get(ENV_EMAIL, "").strip()
        interactive = not no_input and sys.stdin.isatty()
        if not username:
            if not interactive:
                raise CommandError(f"未设置 {ENV_USERNAME}（管理员用户名），也不在终端中运行，无法创建管理员。")
            username = input("管理员用户名：").strip()
            if not username:
                raise CommandError("管理员用户名不能为空。")
        if User.objects.filter(username=username, is_superuser=True).exists():
            self.stdout.write(f"管理员“{username}”已存在，未作修改。")
            return
        if not email and interactive and not os.environ.get(ENV_PASSWORD):
            email = input("电子邮箱（可留空）：").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError as error:
                raise CommandError(f"{ENV_EMAIL}（管理员邮箱）“{email}”不是有效的电子邮箱地址。") from error
        if not password:
            if not interactive:
                raise CommandError(f"未设置 {ENV_PASSWORD}（管理员密码），也不在终端中运行，无法创建管理员。")
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致，未创建管理员。")
        user, created = superuser_ensure(username=username, password=password, email=email)
        if created:
            self.stdout.write(self.style.SUCCESS(f"已创建管理员“{user.username}”。"))
        else:
            self.stdout.write(f"管理员“{user.username}”已存在，未作修改。")
