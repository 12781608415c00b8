"""Region scoping, written once.

Every queryset that reaches a user — page, API, export, import, admin — goes through
``Model.objects.restrict(user, action)``. A model says how it reaches its Region with
``region_lookup`` (``""`` for Region itself) and whether the regions below may read it
(``visible_from_below``: reference data such as a province's ledger frame or indicator set).
A null region means national scope.

A model whose rows may be given to a company's unit (a ledger assignment) names that unit with
``unit_lookup``. Officials read such a row by its region like any other; a company's users reach
it through their company instead, wherever their own region lies: the head office (no unit of its
own) all of its company's, a unit its own and those below it, another company's users none.
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
    from .policy import is_supply_company, read_only, reads_everywhere

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
    unit = getattr(model, "unit_lookup", None)
    if unit and is_supply_company(user):
        q = (q & Q(**{f"{unit}__isnull": True})) | _units_q(user, unit)
    return q


def _units_q(user, lookup):
    """The rows given to units that a company's user reaches (see the module's docstring)."""
    if user.company_id is None:
        return NOTHING
    if user.org_unit_id is None:
        return Q(**{f"{lookup}__company_id": user.company_id})
    from .models import OrgUnit  # imported here: the models import this module

    ids, frontier = set(), {user.org_unit_id}
    while frontier:  # a unit's tree is a few levels deep: one query per level
        ids |= frontier
        frontier = set(OrgUnit.objects.filter(parent__in=frontier).values_list("pk", flat=True)) - ids
    return Q(**{f"{lookup}__in": sorted(ids)})


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action=Action.VIEW):
        return self.filter(scope_q(user, action, self.model))


def _asked(user, obj, action):
    return type(obj)._default_manager.restrict(user, action).filter(pk=obj.pk).exists()


def in_scope(user, obj, action=Action.VIEW):
    """Whether a stored object is within ``user``'s scope: ``restrict``'s filter, for one row. A
    write's own re-check of the same object (``ensure_in_scope``, moments before in its transaction)
    is the answer, not asked twice."""
    known = obj.__dict__.get("_scope_checked", {}).get((user.pk, action))
    return known if known is not None else _asked(user, obj, action)


def ensure_in_scope(user, obj, action=Action.CHANGE, *, message="该记录不在您的管辖范围内，操作已撤销。"):
    """Re-check, inside the caller's transaction, that a saved object is still in scope: always
    asked of the database, whatever was known before.

    Raising rolls the transaction back, so an object moved out of scope is never stored.
    """
    found = _asked(user, obj, action)
    obj.__dict__.setdefault("_scope_checked", {})[(user.pk, action)] = found
    if not found:
        raise PermissionDenied(message)
