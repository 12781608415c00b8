"""Password policy (等保 8.1.4.1): length, character classes, no reuse of the last five, expiry and
the first-login change of a password an administrator set."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import PasswordHistory, SecurityEvent
from accounts.passwords import change_reason, password_change
from accounts.services import api_token_create, user_save

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # conftest.make_user's
CHANGE = "/account/password/"
NEW = ["Huode#Dianli-1", "Huode#Dianli-2", "Huode#Dianli-3", "Huode#Dianli-4", "Huode#Dianli-5"]


def messages_of(error):
    return " ".join(error.value.messages)


def test_too_short_is_refused_with_the_minimum(settings):
    settings.PASSWORD_MIN_LENGTH = 10
    with pytest.raises(ValidationError) as error:
        validate_password("Abcdef1!x")  # 9
    assert "至少需要 10 个字符" in messages_of(error)
    validate_password("Abcdef1!xy")


def test_three_of_four_character_classes():
    for weak, missing in (("abcdefghij1", "大写字母、符号"), ("ABCDEFGHIJK!", "小写字母、数字"), ("lowercase-only", "大写字母、数字")):
        with pytest.raises(ValidationError) as error:
            validate_password(weak)
        assert "至少 3 类" in messages_of(error) and missing in messages_of(error), weak
    for strong in ("abcdefgh1!", "ABCDEFGH1a", "Abcdefghi!", PASSWORD, "Demo#2026"):
        validate_password(strong)


def test_each_of_the_last_five_passwords_is_refused_and_the_sixth_is_accepted(make_user):
    user = make_user("jinjiang", "county", "510104")
    for password in NEW:
        password_change(user=user, new_password=password)
    assert PasswordHistory.objects.filter(user=user).count() == 5
    for password in NEW:
        with pytest.raises(ValidationError) as error:
            password_change(user=user, new_password=password)
        assert "最近 5 次" in messages_of(error), password
    # The first password (PASSWORD) is the sixth back: allowed again.
    password_change(user=user, new_password=PASSWORD)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_every_path_records_the_password(make_user, django_user_model, region):
    user = make_user("jinjiang", "county", "510104")
    assert PasswordHistory.objects.filter(user=user).count() == 1  # user_save
    # The administrator's reset (user_save again) may not bring back a recent password.
    with pytest.raises(ValidationError) as error:
        user_save(username="jinjiang", password=PASSWORD, role="county", region=region("510104"))
    assert "password" in error.value.message_dict
    # The admin's reset form.
    root = django_user_model.objects.create_superuser("root", password=PASSWORD, role="national")
    admin = Client()
    admin.force_login(root)
    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/", {"usable_password": "true", "password1": NEW[0], "password2": NEW[0]}
    )
    assert response.status_code == 302, response.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW[0]) and user.must_change_password
    assert PasswordHistory.objects.filter(user=user).count() == 2
    # The admin's form refuses a recent one with the policy's message.
    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/", {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200 and "最近 5 次" in response.content.decode()


def test_an_expired_password_leads_to_the_change_page_and_nowhere_else(make_user, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = make_user("jinjiang", "county", "510104")
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200
    type(user).objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    # Signing in with it is recorded with the reason.
    assert Client().post("/login/", {"username": "jinjiang", "password": PASSWORD}).status_code == 302
    assert "已超过 90 天未修改" in SecurityEvent.objects.filter(kind="login").latest("seq").detail
    for path in ("/", "/notifications/", "/ledgers/", "/account/sessions/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == CHANGE, path
    page = client.get(CHANGE)
    assert page.status_code == 200 and "已超过 90 天未修改" in page.content.decode()
    # A policy-breaking new password is refused in Chinese, naming the rule.
    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "密码太短" in response.content.decode()
    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password1": NEW[0], "new_password2": NEW[0]})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200  # still signed in, free again
    user.refresh_from_db()
    assert timezone.now() - user.password_changed_at < timedelta(minutes=1)


def test_expiry_can_be_switched_off(make_user, settings):
    user = make_user("jinjiang", "county", "510104")
    user.password_changed_at = timezone.now() - timedelta(days=400)
    settings.PASSWORD_MAX_AGE_DAYS = 0
    assert change_reason(user) is None
    settings.PASSWORD_MAX_AGE_DAYS = 90
    assert "90 天" in change_reason(user)


def test_logout_stays_open_to_a_user_who_must_change(make_user):
    user = make_user("jinjiang", "county", "510104", must_change_password=True)
    client = Client()
    client.force_login(user)
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_a_user_the_admin_created_changes_the_password_at_first_login(django_user_model, region):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD, role="national")
    admin = Client()
    admin.force_login(root)
    response = admin.post(
        "/admin/accounts/user/add/",
        {
            "username": "newcounty",
            "usable_password": "true",
            "password1": NEW[0],
            "password2": NEW[0],
            "role": "county",
            "region": region("510104").pk,
            "organisation": "",
            "phone": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    created = django_user_model.objects.get(username="newcounty")
    assert created.must_change_password

    client = Client()
    response = client.post("/login/", {"username": "newcounty", "password": NEW[0]})
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == CHANGE
    assert "首次登录请先修改密码" in client.get(CHANGE).content.decode()
    # The same password again is not a change.
    response = client.post(CHANGE, {"old_password": NEW[0], "new_password1": NEW[0], "new_password2": NEW[0]})
    assert response.status_code == 200 and "最近 5 次" in response.content.decode()
    response = client.post(CHANGE, {"old_password": NEW[0], "new_password1": NEW[1], "new_password2": NEW[1]})
    assert response.status_code == 302
    created.refresh_from_db()
    assert not created.must_change_password and created.check_password(NEW[1])
    assert client.get("/").status_code == 200


def test_user_save_asks_for_a_change_unless_told_otherwise(region):
    assert user_save(username="a1", password=NEW[0], role="county", region=region("510104")).must_change_password
    assert not user_save(
        username="a2", password=NEW[0], role="county", region=region("510104"), must_change_password=False
    ).must_change_password


def test_api_token_service_users_are_exempt(make_user, settings):
    province = make_user("sc", "province", "510000")
    token, _secret = api_token_create(user=province, name="四川省政务服务平台", region=province.region, access="read")
    service = token.user
    service.must_change_password = True
    service.password_changed_at = timezone.now() - timedelta(days=365)
    assert not service.has_usable_password() and change_reason(service) is None


def test_a_rehash_for_a_newer_hasher_is_not_a_change(make_user, settings):
    user = make_user("jinjiang", "county", "510104")
    changed_at = user.password_changed_at
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]
    assert user.check_password(PASSWORD)  # upgrades the MD5 hash, saving only the password
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    assert user.password_changed_at == changed_at
    assert PasswordHistory.objects.filter(user=user).count() == 1


def test_deployed_hashes_are_argon2id_and_old_pbkdf2_hashes_move_over_at_login(make_user, settings):
    from config.settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = make_user("jinjiang", "county", "510104")
    user.set_password("Old-Pbkdf2#2026")
    user.password = make_password("Old-Pbkdf2#2026", hasher="pbkdf2_sha256")  # as stored before the switch
    user.save(update_fields=["password"])
    changed_at = type(user).objects.get(pk=user.pk).password_changed_at
    assert Client().post("/login/", {"username": "jinjiang", "password": "Old-Pbkdf2#2026"}).status_code == 302
    user.refresh_from_db()
    # OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane — and still not a password change.
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.password_changed_at == changed_at
    assert user.check_password("Old-Pbkdf2#2026")
