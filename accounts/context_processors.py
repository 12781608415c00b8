"""Template context shared by every page."""

import operator

from django.utils.functional import SimpleLazyObject, new_method_proxy

from .notifications import unread_count


class LazyCount(SimpleLazyObject):
    """A number computed on first use, then kept: truthiness, text, comparisons and int() all work."""

    __int__ = new_method_proxy(int)
    __index__ = new_method_proxy(operator.index)
    __le__ = new_method_proxy(operator.le)
    __ge__ = new_method_proxy(operator.ge)


def notifications(request):
    """``unread_notifications``: the user's unread count for the nav badge.

    Lazy: the one COUNT query runs only when a template reads the value, and at most once per request
    (pages that do not show the badge, and anonymous visitors, cost nothing).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": LazyCount(lambda: unread_count(user))}
