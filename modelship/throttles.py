"""Rate limits, keyed on the client's address as this deployment can know it.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when the
request comes from a proxy named in ``TRUSTED_PROXIES``; by default none is, and the throttles
key on the socket's address (``REMOTE_ADDR``), which a client cannot choose.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted if entry.strip())


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or, when that is a trusted proxy, the nearest address in
    ``X-Forwarded-For`` that is not itself a trusted proxy (read from the right: the left is the client's)."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else remote


class IPRateThrottle(SimpleRateThrottle):
    """Per client IP, whoever is (or is not) logged in; the rate comes from ``throttle_scope``."""

    def __init__(self):
        pass

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None) or "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(UserRateThrottle):
    """DRF's per-user rate; anonymous callers are keyed on ``client_ip`` like every other throttle."""

    def get_ident(self, request):
        return client_ip(request)
