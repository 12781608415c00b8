"""The real client address behind our reverse proxies, for login lockout, sessions and audit.

X-Forwarded-For is believed only when the connecting peer (REMOTE_ADDR) is one of TRUSTED_PROXIES;
from anyone else it is a forgery and the peer's own address is used. Behind trusted proxies,
django-ipware picks the address TRUSTED_PROXY_COUNT hops before the peer in
"X-Forwarded-For, peer" — the hop our outermost proxy saw, whatever the client wrote before it.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from ipware import get_client_ip


@lru_cache(maxsize=8)
def _networks(proxies):
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _parse(address):
    try:
        return ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None


def peer_is_trusted(peer):
    address = _parse(peer)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def ignored_forwarded_for(request):
    """The X-Forwarded-For header a peer outside TRUSTED_PROXIES sent (ignored, worth recording), or ""."""
    meta = getattr(request, "META", {}) or {}
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").strip()
    return forwarded if forwarded and not peer_is_trusted(meta.get("REMOTE_ADDR")) else ""


def client_ip(request):
    """The client's IP address as a string, or None when the request carries none (a test request)."""
    meta = getattr(request, "META", {}) or {}
    peer = meta.get("REMOTE_ADDR") or None
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").strip()
    if not forwarded or not peer_is_trusted(peer):
        return str(_parse(peer)) if _parse(peer) else None
    # The peer is the last hop of the chain; strict=False tolerates clients that prepend their own entries.
    chain = {"HTTP_X_FORWARDED_FOR": f"{forwarded}, {peer}"}
    fake = type("ForwardedRequest", (), {"META": chain})()
    ip, _routable = get_client_ip(
        fake,
        proxy_order="left-most",
        proxy_count=settings.TRUSTED_PROXY_COUNT,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    return ip or peer
