"""Shapes of the analytics responses that clients rely on field by field (the project summary, costs)."""

from rest_framework import serializers


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    remaining = serializers.IntegerField()
    percent_done = serializers.FloatField()
    deadline = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    needed_per_day = serializers.IntegerField()
    decided_per_day_last_7_days = serializers.FloatField()
    on_track = serializers.BooleanField(allow_null=True)


class AutoAcceptSerializer(serializers.Serializer):
    auto_accepted = serializers.IntegerField()
    labelled_by_model = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    formula = serializers.CharField()


class EtaSerializer(serializers.Serializer):
    remaining = serializers.IntegerField()
    pace_per_day = serializers.FloatField()
    eta_days = serializers.IntegerField(allow_null=True)
    eta_date = serializers.DateField(allow_null=True)
    deadline = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    needed_per_day = serializers.IntegerField()
    finishes_in_time = serializers.BooleanField(allow_null=True)
    formula = serializers.CharField()


class DecidedSerializer(serializers.Serializer):
    auto = serializers.IntegerField()
    human = serializers.IntegerField()


class AnalyticsSerializer(serializers.Serializer):
    """``GET /api/projects/{id}/analytics``: the project dashboard's summary."""

    total_items = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField())
    by_label = serializers.DictField(child=serializers.IntegerField())
    schema_version = serializers.IntegerField(allow_null=True)
    progress = ProgressSerializer()
    by_source = serializers.DictField(child=serializers.IntegerField(),
                                      help_text="Items per final source: '' (none yet), import, auto, review.")
    today_decided = DecidedSerializer(help_text="Items decided today, by the model and by people.")
    auto_accept = AutoAcceptSerializer()
    eta = EtaSerializer()


class FigureSerializer(serializers.Serializer):
    value = serializers.FloatField()
    formula = serializers.CharField()


class ReviewCostSerializer(FigureSerializer):
    hours = serializers.FloatField()


class RatesSerializer(serializers.Serializer):
    seconds_per_item = serializers.FloatField()
    hourly_rate = serializers.FloatField()
    compute_cost_per_item = serializers.FloatField()


class CostBillingSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Billing on: the compute cost is the credits the ledger charged.")
    credits_charged = serializers.IntegerField(allow_null=True, help_text="Credits settled for the project's jobs.")
    credit_price = serializers.FloatField(allow_null=True, help_text="What one credit costs (BILLING_CREDIT_PRICE).")


class CostSavingsSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    rates = RatesSerializer()
    billing = CostBillingSerializer()
    items_labelled_without_a_person = serializers.IntegerField()
    items_scored_by_the_model = serializers.IntegerField()
    hours_saved = FigureSerializer()
    labour_saved = FigureSerializer()
    compute_cost = FigureSerializer()
    savings = FigureSerializer()
    review_cost = ReviewCostSerializer()


class CalibrationReportSerializer(serializers.Serializer):
    """``GET /api/projects/{id}/calibration``: what the project's calibration says about its model."""

    model = serializers.CharField()
    head_version = serializers.IntegerField(allow_null=True)
    temperature = serializers.FloatField()
    fitted_on = serializers.IntegerField()
    ece_before = serializers.FloatField(allow_null=True)
    ece_after = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    threshold_source = serializers.CharField()
    audit_slice = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The random audit slice: size, labelled (by people), needed (labelled audit items, all correct, "
                  "before anything is auto-accepted: the guarantee's minimum) and remaining (needed - labelled).")
    precision = serializers.DictField()
