"""Session limits (GB/T 22239-2019 8.1.4.1 c): an idle timeout, an absolute lifetime, and the list
of a user's signed-in sessions, each of which the user can end.

The times live in the session itself (seconds since the epoch, from ``now()`` so tests can move the
clock); they are rewritten at most every TOUCH_INTERVAL seconds so an ordinary request costs no
extra write. Ending a session deletes its Django session (database backend), so its next request
is anonymous and lands on the login page.
"""

import hashlib
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from utilities.client_ip import client_ip

from .models import UserSession

LOGIN_AT = "_portal_login_at"
SEEN_AT = "_portal_seen_at"
TOUCH_INTERVAL = 60  # seconds: how stale "last activity" may get, in exchange for no write per request


def now():
    """The clock of the session limits, in seconds (monkeypatched in tests)."""
    return timezone.now().timestamp()


def key_hash(session_key):
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def _seconds(value):
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def idle_timeout():
    return _seconds(settings.SESSION_IDLE_TIMEOUT)


def absolute_lifetime():
    return _seconds(settings.SESSION_ABSOLUTE_LIFETIME)


def _aware(seconds):
    return datetime.fromtimestamp(seconds, tz=UTC)


def started(*, request, user):
    """At login (user_logged_in): stamp the session and list it."""
    at = now()
    request.session[LOGIN_AT] = at
    request.session[SEEN_AT] = at
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key_hash=key_hash(request.session.session_key),
        defaults={
            "user": user,
            "created_at": _aware(at),
            "last_seen_at": _aware(at),
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


def ended(*, request):
    """At logout (user_logged_out): the session leaves the list."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key_hash=key_hash(session.session_key)).delete()


def expiry_reason(request):
    """Why this signed-in session is over ("idle" or "absolute"), or None."""
    at = now()
    login_at = request.session.get(LOGIN_AT)
    seen_at = request.session.get(SEEN_AT, login_at)
    if login_at is None:
        return None  # signed in before the limits were deployed: the cookie's own age bounds it
    if at - login_at >= absolute_lifetime():
        return "absolute"
    if seen_at is not None and at - seen_at >= idle_timeout():
        return "idle"
    return None


def touch(request):
    """Slide the idle timeout; at most once a TOUCH_INTERVAL, so most requests write nothing."""
    at = now()
    if at - request.session.get(SEEN_AT, 0) < TOUCH_INTERVAL:
        return
    request.session[SEEN_AT] = at
    UserSession.objects.filter(session_key_hash=key_hash(request.session.session_key)).update(
        last_seen_at=_aware(at), ip_address=client_ip(request)
    )


def rekeyed(*, request, old_key):
    """The session got a new key (a password change cycles it): keep its row."""
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key_hash=key_hash(old_key)).update(session_key_hash=key_hash(new_key))


def _prune(user):
    """Rows of sessions that ran out without a further request: the limits ended them already."""
    at = now()
    dead = Q(last_seen_at__lte=_aware(at - idle_timeout())) | Q(created_at__lte=_aware(at - absolute_lifetime()))
    UserSession.objects.filter(user=user).filter(dead).delete()


def user_sessions(*, user):
    _prune(user)
    return list(UserSession.objects.filter(user=user).order_by("-last_seen_at", "-pk"))


def _delete_django_sessions(hashes):
    """Delete the Django sessions whose key hashes to one of ``hashes``.

    Only the hash is stored, so the live sessions are scanned; ending a session is rare and the
    live sessions of a portal are a few thousand at most.
    """
    hashes = set(hashes)
    if not hashes:
        return
    live = Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", flat=True)
    doomed = [key for key in live.iterator() if key_hash(key) in hashes]
    Session.objects.filter(session_key__in=doomed).delete()


@transaction.atomic
def session_revoke(*, user, pk):
    """The user ends one of their own sessions. Returns False when there is no such session."""
    row = UserSession.objects.select_for_update().filter(user=user, pk=pk).first()
    if row is None:
        return False
    _delete_django_sessions([row.session_key_hash])
    row.delete()
    return True


@transaction.atomic
def sessions_revoke_others(*, user, current_key):
    """The user ends every session but this one; returns how many."""
    rows = UserSession.objects.select_for_update().filter(user=user).exclude(session_key_hash=key_hash(current_key))
    hashes = list(rows.values_list("session_key_hash", flat=True))
    _delete_django_sessions(hashes)
    UserSession.objects.filter(session_key_hash__in=hashes).delete()
    return len(hashes)


def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        started(request=request, user=user)


def _on_logout(sender, request, user, **kwargs):
    if request is not None:
        ended(request=request)


def connect_signals():
    from django.contrib.auth.signals import user_logged_in, user_logged_out

    user_logged_in.connect(_on_login, dispatch_uid="accounts.sessions.login")
    user_logged_out.connect(_on_logout, dispatch_uid="accounts.sessions.logout")
