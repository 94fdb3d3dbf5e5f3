"""Staff see every credit account and the ledger (read-only), and grant credits from an account's page
(an audited ``credits_grant``)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from billing.models import CreditAccount, CreditTransaction, Invoice, StripeEvent
from billing.services import credits_grant
from modelship.exceptions import DomainError


class GrantForm(forms.Form):
    amount = forms.IntegerField(min_value=1, help_text="Credits to add.")
    reason = forms.CharField(max_length=300, help_text="Kept in the ledger and the audit log.")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["organization", "balance", "held", "stripe_customer_id", "updated_at"]
    search_fields = ["organization__name", "stripe_customer_id"]
    list_select_related = ["organization"]
    readonly_fields = ["organization", "balance", "held", "stripe_customer_id", "stripe_subscription_id", "updated_at"]
    change_form_template = "billing/admin_account_change_form.html"

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def get_urls(self):
        return [path("<int:account_id>/grant/", self.admin_site.admin_view(self.grant_view),
                     name="billing_creditaccount_grant"), *super().get_urls()]

    def grant_view(self, request, account_id: int):
        account = get_object_or_404(CreditAccount.objects.select_related("organization"), pk=account_id)
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                credits_grant(organization=account.organization, amount=form.cleaned_data["amount"],
                              reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Granted {form.cleaned_data['amount']} credits to {account.organization}.")
                return redirect(reverse("admin:billing_creditaccount_change", args=[account.pk]))
        return render(request, "billing/admin_grant.html", {
            **self.admin_site.each_context(request), "title": f"Grant credits to {account.organization}",
            "account": account, "form": form, "opts": self.model._meta,
        })


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "kind", "amount", "held_change", "balance_after", "reason", "actor"]
    list_filter = ["kind", "created_at"]
    search_fields = ["organization__name", "reason", "stripe_event_id", "actor__email"]
    list_select_related = ["organization", "actor"]
    readonly_fields = [f.name for f in CreditTransaction._meta.fields]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_id", "type", "organization", "outcome", "note"]
    list_filter = ["type", "outcome"]
    search_fields = ["event_id", "organization__name"]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["created", "organization", "number", "status", "amount_due", "currency", "payment_failed"]
    list_filter = ["status", "payment_failed"]
    search_fields = ["organization__name", "number", "stripe_id"]
    list_select_related = ["organization"]
    readonly_fields = [f.name for f in Invoice._meta.fields]
