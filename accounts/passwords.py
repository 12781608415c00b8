"""Password policy (GB/T 22239-2019 8.1.4.1 a/b): length, character classes, no reuse, expiry and a
first-login change of passwords set by an administrator.

The validators go in AUTH_PASSWORD_VALIDATORS, so Django's forms (admin add and reset, the change
page) and ``validate_password`` in the services all apply them.
"""

import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): memory-hard, so far
    costlier to a GPU than PBKDF2, yet about 50 ms of one core per login instead of PBKDF2's 0.3–0.4 s
    at Django's 1,000,000 iterations — the sign-in rush at a deadline is CPU-bound on those. Hashes
    made with other parameters (or PBKDF2) still verify and are rehashed at the next login."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


CLASSES = (
    ("大写字母", lambda c: c in string.ascii_uppercase),
    ("小写字母", lambda c: c in string.ascii_lowercase),
    ("数字", lambda c: c in string.digits),
    ("符号", lambda c: not c.isalnum()),
)


def min_length():
    return getattr(settings, "PASSWORD_MIN_LENGTH", 10)


def history_count():
    return getattr(settings, "PASSWORD_HISTORY_COUNT", 5)


class LengthValidator:
    """At least PASSWORD_MIN_LENGTH characters (read at call time, so tests may change it)."""

    def validate(self, password, user=None):
        if len(password) < min_length():
            raise ValidationError(f"密码太短：至少需要 {min_length()} 个字符。", code="password_too_short")

    def get_help_text(self):
        return f"密码至少 {min_length()} 个字符。"


class CharacterClassesValidator:
    """At least ``min_classes`` of upper case, lower case, digits and symbols."""

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        present = [name for name, test in CLASSES if any(test(c) for c in password)]
        if len(present) < self.min_classes:
            missing = "、".join(name for name, _test in CLASSES if name not in present)
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类，目前只有 {len(present)} 类（缺少{missing}）。",
                code="password_too_simple",
            )

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"


class HistoryValidator:
    """Not one of the user's last PASSWORD_HISTORY_COUNT passwords (the current one included)."""

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        from .models import PasswordHistory

        hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: history_count()])
        if user.password:
            hashes.append(user.password)  # a password set before the history was kept
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(f"新密码不能与最近 {history_count()} 次使用过的密码相同。", code="password_reused")

    def get_help_text(self):
        return f"不能使用最近 {history_count()} 次用过的密码。"


def max_age():
    days = getattr(settings, "PASSWORD_MAX_AGE_DAYS", 90)
    return timedelta(days=days) if days else None


def change_reason(user):
    """Why ``user`` must change the password before anything else, or None.

    Service accounts of API tokens have no usable password and are never asked. A password with no
    change date (copied in by a script) is not counted as expired.
    """
    if not user.is_authenticated or not user.has_usable_password():
        return None
    if user.must_change_password:
        return "您的密码由管理员设置，首次登录请先修改密码。"
    age = max_age()
    if age and user.password_changed_at and timezone.now() - user.password_changed_at >= age:
        return f"您的密码已超过 {age.days} 天未修改，请修改密码后继续使用。"
    return None


@transaction.atomic
def password_change(*, user, new_password):
    """The user sets a new password of their own: the policy applies and the first-login flag clears."""
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.full_clean()
    user.save()
    return user
