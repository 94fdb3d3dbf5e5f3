from django.urls import path

from billing import api, views

urlpatterns = [
    path("billing", api.BillingView.as_view(), name="billing"),
    path("billing/transactions", api.TransactionListView.as_view(), name="billing-transactions"),
    path("billing/invoices", api.InvoiceListView.as_view(), name="billing-invoices"),
    path("billing/create-session", api.CheckoutSessionView.as_view(), name="billing-create-session"),
    path("billing/webhook", api.WebhookView.as_view(), name="billing-webhook"),
    path("billing/usage/<int:user_id>", api.UsageView.as_view(), name="billing-usage"),
    path("billing/estimate", api.EstimateView.as_view(), name="billing-estimate"),
]

page_urlpatterns = [
    path("billing/", views.billing_page, name="billing-page"),
    path("billing/checkout", views.billing_checkout, name="billing-checkout"),
]
