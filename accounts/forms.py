"""The login forms of the pages (/login/ and the Django admin): the lockout's message when it applies."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts import lockout
from modelship.throttles import client_ip


class LockoutMessageMixin:
    """A failed login that left this address locked out says so, with the seconds left."""

    def clean(self):
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            email = self.cleaned_data.get("username") or ""  # type: ignore[attr-defined]
            remaining = lockout.login_lock_remaining(email=email, address=client_ip(self.request))  # type: ignore[attr-defined]
            if remaining:
                raise forms.ValidationError(lockout.LOCKED_OUT.format(seconds=remaining), code="locked") from None
            raise


class LoginForm(LockoutMessageMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass
