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


def scope_q(user, action, model):
    """The filter that limits ``model`` to what ``user`` may ``action``."""
    action = Action(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return Q()
    # Imported here: the policy imports the models, which import this module.
    from .policy import read_only, reads_everywhere

    lookup = model.region_lookup
    prefix = f"{lookup}__" if lookup else ""
    if action == Action.VIEW and reads_everywhere(user):
        return Q()
    if action == Action.CHANGE and read_only(user):
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


def in_scope(user, obj, action=Action.VIEW):
    """Whether a stored object is within ``user``'s scope: ``restrict``'s filter, for one row."""
    return type(obj)._default_manager.restrict(user, action).filter(pk=obj.pk).exists()


def ensure_in_scope(user, obj, action=Action.CHANGE):
    """Re-check, inside the caller's transaction, that a saved object is still in scope.

    Raising rolls the transaction back, so an object moved out of scope is never stored.
    """
    if not in_scope(user, obj, action):
        raise PermissionDenied("该记录不在您的管辖范围内，操作已撤销。")
