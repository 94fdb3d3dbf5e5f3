"""The password backend every login goes through (the API, the /login/ page, the Django admin)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import lockout
from modelship.throttles import client_ip


class LockoutModelBackend(ModelBackend):
    """Django's model backend behind the login lockout (``accounts.lockout``): a locked address gets
    no password check at all; every failed check is counted, every success clears its address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get("email")
        if request is None or email is None:  # no client to count (a management command, a test helper)
            return super().authenticate(request, username=username, password=password, **kwargs)
        address = client_ip(request)
        if lockout.login_lock_remaining(email=email, address=address):
            raise PermissionDenied  # stops authenticate() here: the answer is "no user"
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout.login_failure_record(email=email, address=address)
        else:
            lockout.login_success_record(email=email, address=address)
        return user
