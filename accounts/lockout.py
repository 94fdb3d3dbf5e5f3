"""The login lockout: password guesses against one account are stopped, without letting a stranger
lock its owner out.

Two locks, both kept in the cache (the one the throttles use):

- **account + address**: ``LOGIN_LOCKOUT_FAILURES`` failed logins for one email from one client
  address (IPv6: its /64), each within ``LOGIN_LOCKOUT_WINDOW_SECONDS`` of the one before, lock that
  address out of that account for ``LOGIN_LOCKOUT_SECONDS``. Other addresses, the owner's among them,
  are not affected. The address is ``client_ip``'s: ``X-Forwarded-For`` counts only from a trusted
  proxy, so a forged header neither resets nor spreads the count.
- **account**: ``LOGIN_LOCKOUT_ACCOUNT_FAILURES`` failed logins for one email from any addresses lock
  the account for ``LOGIN_LOCKOUT_SECONDS`` against every address that has not logged into it in the
  last ``LOGIN_KNOWN_ADDRESS_DAYS`` days. This stops guessing spread over many addresses; the owner
  keeps logging in from where they did before. The cost, accepted: during such an attack the owner
  is locked out from a new address too, until the cool-down ends; causing that takes failures from at
  least ``ACCOUNT_FAILURES / FAILURES`` distinct addresses.

A locked attempt does not check the password (a guess while locked learns nothing) and does not extend
the lock. Emails with no account are counted and answered the same way, so the lockout tells no one
which emails have accounts. A successful login clears its address's count and marks the address known.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache

from accounts.models import AuditEvent, User
from accounts.services import audit_record

LOCKED_OUT = "Too many failed logins for this account; try again in {seconds} seconds."
SCOPE_ADDRESS = "address"
SCOPE_ACCOUNT = "account"


def _address_key(address: str) -> str:
    """The address as the lockout counts it: an IPv6 address by its /64 (one host's usual share)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keys(email: str, address: str) -> dict[str, str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    where = hashlib.sha256(_address_key(address).encode()).hexdigest()[:32]
    return {
        "address_failures": f"login:failures:{account}:{where}",
        "account_failures": f"login:failures:{account}",
        "address_lock": f"login:lock:{account}:{where}",
        "account_lock": f"login:lock:{account}",
        "known": f"login:known:{account}:{where}",
    }


def _remaining(key: str) -> int:
    until = cache.get(key)
    return max(0, math.ceil(until - time.time())) if until else 0


def login_lock_remaining(*, email: str, address: str) -> int:
    """Seconds until ``address`` may try a password for ``email`` again; 0 when it may now."""
    keys = _keys(email, address)
    remaining = _remaining(keys["address_lock"])
    if not cache.get(keys["known"]):
        remaining = max(remaining, _remaining(keys["account_lock"]))
    return remaining


def _count(key: str) -> int:
    """One more failure; the count lives ``LOGIN_LOCKOUT_WINDOW_SECONDS`` past the latest failure."""
    window = settings.LOGIN_LOCKOUT_WINDOW_SECONDS
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1
    cache.touch(key, timeout=window)
    return count


def _lock(*, key: str, email: str, address: str, scope: str, failures: int) -> None:
    seconds = settings.LOGIN_LOCKOUT_SECONDS
    cache.set(key, time.time() + seconds, timeout=seconds)
    user = User.objects.filter(email__iexact=email.strip()).first()
    audit_record(actor=None, organization=None, action=AuditEvent.Action.USER_LOGIN_LOCKED,
                 target=user, target_type="accounts.user",
                 metadata={"email": email.strip().lower(), "address": address, "scope": scope,
                           "failures": failures, "seconds": seconds})


def login_failure_record(*, email: str, address: str) -> None:
    """Count a failed password login; lock the address (or the account) when its count is reached,
    with an audit event for the lock."""
    keys = _keys(email, address)
    failures = _count(keys["address_failures"])
    if failures >= settings.LOGIN_LOCKOUT_FAILURES:
        cache.delete(keys["address_failures"])
        _lock(key=keys["address_lock"], email=email, address=address, scope=SCOPE_ADDRESS, failures=failures)
    failures = _count(keys["account_failures"])
    if failures >= settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES:
        cache.delete(keys["account_failures"])
        _lock(key=keys["account_lock"], email=email, address=address, scope=SCOPE_ACCOUNT, failures=failures)


def login_success_record(*, email: str, address: str) -> None:
    """A successful login: its address's failures are forgotten and the address is known to the account."""
    keys = _keys(email, address)
    cache.delete(keys["address_failures"])
    cache.set(keys["known"], 1, timeout=settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400)
