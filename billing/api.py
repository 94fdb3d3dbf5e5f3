"""The billing API: the caller's organization's plan and balance, its ledger and usage, cost estimates,
Stripe Checkout sessions and Stripe's webhook."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import ADMIN, OrganizationRole, active_membership, active_organization
from billing import selectors, services
from billing.checkout import checkout_session_create
from billing.serializers import (
    BillingSummarySerializer,
    CheckoutRequestSerializer,
    CheckoutSessionSerializer,
    CreditTransactionSerializer,
    EstimateQuerySerializer,
    EstimateSerializer,
    InvoiceSerializer,
    UsageQuerySerializer,
    UsageSerializer,
    WebhookResultSerializer,
)
from billing.views import billing_page_url
from billing.webhooks import stripe_event_apply
from modelship.openapi import error_responses
from projects.scoping import ProjectScopedView

USAGE_OF_OTHERS = "Only organization admins can see another member's usage."

UNAVAILABLE = OpenApiResponse(description="Stripe cannot be reached or is not configured; the body says which.")


class BillingView(APIView):
    """The active organization's plan, its limits and its credits."""

    permission_classes = [IsAuthenticated, OrganizationRole]

    @extend_schema(responses={200: BillingSummarySerializer, **error_responses(401, 403)})
    def get(self, request):
        return Response(BillingSummarySerializer(selectors.billing_summary(organization=active_organization(request))).data)


class TransactionListView(ListAPIView):
    """The active organization's credit ledger, newest first."""

    permission_classes = [IsAuthenticated, OrganizationRole]
    required_roles = ADMIN
    serializer_class = CreditTransactionSerializer

    def get_queryset(self):
        return selectors.transactions_for(organization=active_organization(self.request))


class InvoiceListView(ListAPIView):
    """The active organization's Stripe invoices (number, date, amount, status, Stripe's page), newest first."""

    permission_classes = [IsAuthenticated, OrganizationRole]
    required_roles = ADMIN
    serializer_class = InvoiceSerializer

    def get_queryset(self):
        return selectors.invoices_for(organization=active_organization(self.request))


class CheckoutSessionView(APIView):
    """Start a Stripe Checkout: a plan's subscription (`plan`) or a credit pack (`credits`). Org admins only."""

    permission_classes = [IsAuthenticated, OrganizationRole]
    required_roles = ADMIN

    @extend_schema(request=CheckoutRequestSerializer,
                   responses={201: CheckoutSessionSerializer, **error_responses(400, 401, 403, 409), 503: UNAVAILABLE})
    def post(self, request):
        data = CheckoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        page = billing_page_url(request)
        session = checkout_session_create(
            organization=active_organization(request), actor=request.user, plan=v.get("plan"),
            credits=v.get("credits"), success_url=v.get("success_url") or f"{page}?checkout=success",
            cancel_url=v.get("cancel_url") or f"{page}?checkout=cancelled")
        return Response(CheckoutSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class WebhookView(APIView):
    """Stripe's webhook: the `Stripe-Signature` header must verify; each event is applied once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(request={"application/json": {"type": "object"}},
                   responses={200: WebhookResultSerializer, 400: OpenApiResponse(description="The signature does not verify."),
                              503: UNAVAILABLE}, auth=[])
    def post(self, request):
        result = stripe_event_apply(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
        return Response(WebhookResultSerializer(result).data)


class UsageView(APIView):
    """Credits a member used in the active organization (jobs they started), by day, model and project."""

    permission_classes = [IsAuthenticated, OrganizationRole]

    @extend_schema(parameters=[UsageQuerySerializer], responses={200: UsageSerializer, **error_responses(400, 401, 403, 404)})
    def get(self, request, user_id: int):
        membership = active_membership(request)
        if user_id != request.user.pk and membership.role != Role.ADMIN:
            raise PermissionDenied(USAGE_OF_OTHERS)
        selectors.member_check(organization=membership.organization, user_id=user_id)
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        usage = selectors.usage_for(organization=membership.organization, user_id=user_id, **query.validated_data)
        return Response(UsageSerializer(usage).data)


class EstimateView(ProjectScopedView):
    """What auto-labelling `items` items of a project with a model would cost, and the credits missing."""

    @extend_schema(parameters=[EstimateQuerySerializer], responses={200: EstimateSerializer, **error_responses(400, 401, 404)})
    def get(self, request):
        query = EstimateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        project = self.get_project(v["project"])
        model = v.get("model") or project.default_model
        return Response(EstimateSerializer(services.estimate(project=project, model_name=model, items=v["items"])).data)
