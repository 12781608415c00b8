"""One mechanism decides what a user may see and change: Model.objects.restrict(user, action)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Region, User
from accounts.scoping import ensure_in_scope
from indicators.models import IndicatorSet
from ledger.models import Ledger, LedgerItem

pytestmark = pytest.mark.django_db

SICHUAN, CHENGDU, JINJIANG, QINGYANG, LESHAN, CHONGQING = "510000", "510100", "510104", "510105", "511100", "500000"


@pytest.fixture
def users(make_user):
    return {
        "national": make_user("n", "national"),
        "regulator": make_user("r", "regulator", SICHUAN),
        "province": make_user("p", "province", SICHUAN),
        "supply": make_user("s", "supply_company", CHENGDU),
        "city": make_user("c", "city", CHENGDU),
        "county": make_user("k", "county", JINJIANG),
        "other_province": make_user("o", "province", CHONGQING),
    }


def codes(qs):
    return set(qs.values_list("code", flat=True))


# (user, region code) → may view, may change
REGION_MATRIX = [
    ("national", SICHUAN, True, False),
    ("national", JINJIANG, True, False),
    ("national", CHONGQING, True, False),
    ("regulator", SICHUAN, True, False),
    ("regulator", JINJIANG, True, False),
    ("regulator", CHONGQING, False, False),
    ("province", SICHUAN, True, True),
    ("province", LESHAN, True, True),
    ("province", JINJIANG, True, True),
    ("province", CHONGQING, False, False),
    ("supply", CHENGDU, True, True),
    ("supply", JINJIANG, True, True),
    ("supply", SICHUAN, True, False),
    ("supply", LESHAN, False, False),
    ("city", CHENGDU, True, True),
    ("city", JINJIANG, True, True),
    ("city", QINGYANG, True, True),
    ("city", SICHUAN, True, False),
    ("city", LESHAN, False, False),
    ("city", CHONGQING, False, False),
    ("county", JINJIANG, True, True),
    ("county", CHENGDU, True, False),
    ("county", SICHUAN, True, False),
    ("county", QINGYANG, False, False),
    ("county", LESHAN, False, False),
    ("other_province", SICHUAN, False, False),
    ("other_province", CHONGQING, True, True),
]


@pytest.mark.parametrize("who, code, can_view, can_change", REGION_MATRIX)
def test_region_matrix(users, who, code, can_view, can_change):
    user = users[who]
    assert Region.objects.restrict(user, "view").filter(code=code).exists() is can_view
    assert Region.objects.restrict(user, "change").filter(code=code).exists() is can_change


def test_a_county_sees_its_own_county_and_the_frame_above_only(users):
    assert codes(Region.objects.restrict(users["county"], "view")) == {SICHUAN, CHENGDU, JINJIANG}


def test_a_province_sees_exactly_its_subtree_and_nothing_of_others(users):
    seen = Region.objects.restrict(users["province"], "view")
    assert seen.count() == 1 + 21 + 183
    assert not seen.exclude(path__startswith="510000/").exists()


# (user, ledger) → may view, may change
LEDGER_MATRIX = [
    ("county", "national-2021", True, False),
    ("county", "sichuan-2022", True, False),
    ("county", "chongqing-2021", False, False),
    ("county", "guiyang-2021", False, False),
    ("city", "sichuan-2022", True, False),
    ("province", "sichuan-2022", True, True),
    ("province", "national-2021", True, False),
    ("province", "chongqing-2021", False, False),
    ("other_province", "chongqing-2021", True, True),
    ("other_province", "cqpower-2021", True, True),
    ("other_province", "sichuan-2022", False, False),
    ("regulator", "sichuan-2022", True, False),
    ("regulator", "chongqing-2021", False, False),
    ("national", "chongqing-2021", True, False),
    ("national", "national-2021", True, False),
]


@pytest.mark.parametrize("who, code, can_view, can_change", LEDGER_MATRIX)
def test_ledger_matrix(users, who, code, can_view, can_change):
    user = users[who]
    assert Ledger.objects.restrict(user, "view").filter(code=code).exists() is can_view
    assert Ledger.objects.restrict(user, "change").filter(code=code).exists() is can_change
    items = LedgerItem.objects.filter(ledger__code=code)
    assert items.restrict(user, "view").count() == (items.count() if can_view else 0)


def test_indicator_sets_follow_the_same_rule(users):
    assert codes(IndicatorSet.objects.restrict(users["county"], "view")) == {"national-2021"}
    assert codes(IndicatorSet.objects.restrict(users["other_province"], "view")) == {"national-2021", "chongqing-2021"}


def test_users_are_not_visible_from_below(users):
    assert set(User.objects.restrict(users["county"], "view").values_list("username", flat=True)) == {"k"}
    assert set(User.objects.restrict(users["city"], "view").values_list("username", flat=True)) == {"c", "s", "k"}
    assert set(User.objects.restrict(users["province"], "change").values_list("username", flat=True)) == {"r", "p", "s", "c", "k"}
    assert not User.objects.restrict(users["regulator"], "change").exists()


def test_anonymous_and_inactive_users_see_nothing(users):
    assert not Region.objects.restrict(AnonymousUser(), "view").exists()
    county = users["county"]
    county.is_active = False
    assert not Region.objects.restrict(county, "view").exists()


def test_superuser_sees_and_changes_everything(django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x", role="national")
    assert Region.objects.restrict(admin, "change").count() == Region.objects.count()


def test_unknown_action_is_refused(users):
    with pytest.raises(ValueError):
        Region.objects.restrict(users["county"], "delete-everything")


def test_ensure_in_scope_rejects_objects_outside(users):
    ensure_in_scope(users["province"], Region.objects.get(code=LESHAN))
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        ensure_in_scope(users["province"], Region.objects.get(code=CHONGQING))


@pytest.mark.parametrize(
    "role, code, message",
    [
        ("county", CHENGDU, "必须是县级"),
        ("city", JINJIANG, "必须是地市级"),
        ("province", CHENGDU, "必须是省级"),
        ("regulator", JINJIANG, "必须是省级"),
        ("county", None, "必须选择所属区域"),
        ("national", SICHUAN, "请留空"),
    ],
)
def test_role_and_region_must_agree(make_user, role, code, message):
    with pytest.raises(ValidationError, match=message):
        make_user("bad", role, code)
    assert not User.objects.filter(username="bad").exists()
