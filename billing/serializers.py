from rest_framework import serializers

from billing.models import CreditTransaction, Invoice


class PlanLimitsSerializer(serializers.Serializer):
    monthly_credits = serializers.IntegerField()
    projects = serializers.IntegerField(allow_null=True)
    members = serializers.IntegerField(allow_null=True)
    items_per_month = serializers.IntegerField(allow_null=True)


class BillingSummarySerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="False: billing is off on this server and credits are unlimited.")
    organization = serializers.IntegerField()
    plan = serializers.CharField()
    plan_label = serializers.CharField()
    limits = PlanLimitsSerializer()
    balance = serializers.IntegerField(help_text="Credits available.")
    held = serializers.IntegerField(help_text="Credits reserved for running jobs.")
    plans_for_sale = serializers.ListField(child=serializers.CharField())
    credit_packs = serializers.ListField(child=serializers.IntegerField())


class CheckoutRequestSerializer(serializers.Serializer):
    plan = serializers.CharField(required=False, help_text="A plan to subscribe to (pro, team, enterprise).")
    credits = serializers.IntegerField(required=False, min_value=1, help_text="A credit pack to buy.")
    success_url = serializers.URLField(required=False, help_text="Where Checkout returns after paying "
                                                                 "(default: the billing page).")
    cancel_url = serializers.URLField(required=False)


class CheckoutSessionSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.URLField(help_text="Send the buyer here (Stripe Checkout).")


class WebhookResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    type = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["applied", "ignored", "duplicate"])
    note = serializers.CharField()


class UsageQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    credits = serializers.IntegerField()
    items = serializers.IntegerField()


class UsageModelSerializer(serializers.Serializer):
    model = serializers.CharField()
    credits = serializers.IntegerField()
    items = serializers.IntegerField()


class UsageProjectSerializer(serializers.Serializer):
    project = serializers.IntegerField(allow_null=True)
    project_name = serializers.CharField()
    credits = serializers.IntegerField()
    items = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    user = serializers.IntegerField(allow_null=True)
    credits = serializers.IntegerField()
    items = serializers.IntegerField()
    by_day = UsageDaySerializer(many=True)
    by_model = UsageModelSerializer(many=True)
    by_project = UsageProjectSerializer(many=True)


class EstimateQuerySerializer(serializers.Serializer):
    project = serializers.IntegerField()
    model = serializers.CharField(required=False, help_text="Default: the project's model.")
    items = serializers.IntegerField(min_value=0)


class EstimateSerializer(serializers.Serializer):
    billing_enabled = serializers.BooleanField()
    model = serializers.CharField()
    items = serializers.IntegerField()
    price_per_item = serializers.IntegerField()
    cost = serializers.IntegerField(help_text="Credits the work would take (0 while billing is off).")
    balance = serializers.IntegerField(allow_null=True)
    missing = serializers.IntegerField(help_text="Credits to buy before it can start.")


class CreditTransactionSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", default=None, allow_null=True)

    class Meta:
        model = CreditTransaction
        fields = ["id", "kind", "amount", "held_change", "balance_after", "reason", "actor", "project", "job_id",
                  "export_id", "model_name", "items", "stripe_event_id", "created_at"]


class InvoiceSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="stripe_id", help_text="Stripe's invoice id.")

    class Meta:
        model = Invoice
        fields = ["id", "number", "created", "status", "payment_failed", "currency", "amount_due", "amount_paid",
                  "hosted_invoice_url"]
        extra_kwargs = {"amount_due": {"help_text": "In the currency's smallest unit (cents)."},
                        "hosted_invoice_url": {"help_text": "Stripe's page for the invoice (view, pay, download)."}}
