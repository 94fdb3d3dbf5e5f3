"""Billing fixtures: a fake Stripe API on a real loopback HTTP server, and webhooks signed the way
Stripe signs them (``t=<time>,v1=<HMAC-SHA256 of "<time>.<payload>">``)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

WEBHOOK_SECRET = "whsec_test_modelship"
PACKS = {1000: "price_pack_1000", 10000: "price_pack_10000"}
PLAN_PRICES = {"pro": "price_pro_monthly", "team": "price_team_monthly", "enterprise": ""}


class FakeStripe:
    """Answers the Stripe API calls ModelShip makes: customers, the account, Checkout sessions."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict]] = []
        self.objects: dict[str, dict] = {}
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.requests.append(("GET", self.path, {}))
                path = self.path.split("?")[0]
                if path == "/v1/account":
                    return self._answer(200, {"id": "acct_fake", "object": "account", "livemode": False,
                                              "settings": {"dashboard": {"display_name": "ModelShip test"}},
                                              "business_profile": {"name": "ModelShip test"}, "metadata": {}})
                obj = fake.objects.get(path.rsplit("/", 1)[-1])
                if path.startswith("/pay/") and obj is not None:  # the hosted Checkout page
                    page = (f'<!doctype html><title>Fake Checkout</title><h1>Pay {obj["id"]}</h1>'
                            f'<a id="pay" href="{obj["success_url"]}">Pay</a>').encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return None
                if obj is None:
                    return self._answer(404, {"error": {"type": "invalid_request_error", "message": "No such object"}})
                return self._answer(200, obj)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(("POST", self.path, params))
                if self.headers.get("Authorization") != "Bearer sk_test_ModelShipFakeKey0123456789abcd":
                    return self._answer(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
                if self.path == "/v1/customers":
                    return self._answer(200, fake.store(fake.customer(params)))
                if self.path == "/v1/checkout/sessions":
                    return self._answer(200, fake.store(fake.session(params)))
                return self._answer(404, {"error": {"type": "invalid_request_error", "message": "Unknown path"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids)}"

    def store(self, obj: dict) -> dict:
        self.objects[obj["id"]] = obj
        return obj

    @staticmethod
    def _metadata(params: dict, prefix: str = "metadata") -> dict:
        return {k[len(prefix) + 1:-1]: v for k, v in params.items() if k.startswith(f"{prefix}[")}

    def customer(self, params: dict) -> dict:
        return {"id": self.next_id("cus"), "object": "customer", "name": params.get("name"), "email": None,
                "metadata": self._metadata(params), "livemode": False, "created": int(time.time()),
                "balance": 0, "currency": None, "delinquent": False, "description": None, "discount": None,
                "invoice_prefix": "FAKE", "invoice_settings": {"default_payment_method": None},
                "default_source": None, "sources": None, "address": None, "phone": None, "shipping": None,
                "tax_exempt": "none", "preferred_locales": []}

    def session(self, params: dict) -> dict:
        session_id = self.next_id("cs")
        return {"id": session_id, "object": "checkout.session", "url": f"{self.url}/pay/{session_id}",
                "mode": params["mode"], "customer": params.get("customer"), "metadata": self._metadata(params),
                "client_reference_id": params.get("client_reference_id"), "payment_status": "unpaid",
                "status": "open", "line_items": {"price": params.get("line_items[0][price]")},
                "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
                "livemode": False, "subscription": None}

    def calls(self, method: str, path: str) -> list[dict]:
        return [params for m, p, params in self.requests if m == method and p == path]


@pytest.fixture(scope="session")
def fake_stripe_server():
    fake = FakeStripe()
    fake.thread.start()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def fake_stripe(fake_stripe_server):
    fake_stripe_server.requests.clear()
    fake_stripe_server.objects.clear()
    return fake_stripe_server


@pytest.fixture
def billing_on(settings, fake_stripe):
    """Billing on, with Stripe's API base pointed at the fake on loopback."""
    import stripe

    previous = stripe.api_base
    settings.BILLING_ENABLED = True
    settings.STRIPE_SECRET_KEY = "sk_test_ModelShipFakeKey0123456789abcd"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_PLAN_PRICES = dict(PLAN_PRICES)
    settings.STRIPE_CREDIT_PACKS = dict(PACKS)
    stripe.api_base = fake_stripe.url
    yield fake_stripe
    stripe.api_base = previous


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event(kind: str, obj: dict, event_id: str) -> str:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "api_version": "2026-05-27.dahlia",
                       "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
                       "request": {"id": None, "idempotency_key": None}, "data": {"object": obj}})


@pytest.fixture
def post_webhook(api):
    """POST a signed (or deliberately mis-signed) event to the webhook."""

    def post(kind: str, obj: dict, event_id: str, *, secret: str = WEBHOOK_SECRET):
        payload = event(kind, obj, event_id)
        return api.post("/api/billing/webhook", data=payload, content_type="application/json",
                        HTTP_STRIPE_SIGNATURE=sign(payload, secret))

    return post
