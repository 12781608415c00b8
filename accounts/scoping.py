"""Region scoping, written once.

Every queryset that reaches a user — page, API, export, import, admin — goes through
``Model.objects.restrict(user, action)``. A model says how it reaches its Region with
``region_lookup`` (``""`` for Region itself) and whether the regions below may read it
(``visible_from_below``: reference data such as a province's ledger frame or indicator set).
A null region means national scope.
"""
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q


class Action(models.TextChoices):
    VIEW = "view", "查看"
    CHANGE = "change", "修改"


NOTHING = Q(pk__in=[])

# Roles that read across their scope but never write through it.
READ_ONLY_ROLES = frozenset({"national", "regulator"})


def scope_q(user, action, model):
    """The filter that limits ``model`` to what ``user`` may ``action``."""
    action = Action(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return Q()
    lookup = model.region_lookup
    prefix = f"{lookup}__" if lookup else ""
    if action == Action.VIEW and user.role == "national":
        return Q()
    if action == Action.CHANGE and user.role in READ_ONLY_ROLES:
        return NOTHING
    if user.region_id is None:
        return NOTHING
    region = user.region
    q = Q(**{f"{prefix}path__startswith": region.path})
    if action == Action.VIEW and model.visible_from_below:
        q |= Q(**{f"{prefix}code__in": region.ancestor_codes()})
        if lookup:
            q |= Q(**{f"{lookup}__isnull": True})
    return q


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action=Action.VIEW):
        return self.filter(scope_q(user, action, self.model))


def ensure_in_scope(user, obj, action=Action.CHANGE):
    """Re-check, inside the caller's transaction, that a saved object is still in scope.

    Raising rolls the transaction back, so an object moved out of scope is never stored.
    """
    manager = type(obj)._default_manager
    if not manager.restrict(user, action).filter(pk=obj.pk).exists():
        raise PermissionDenied("该记录不在您的管辖范围内，操作已撤销。")
