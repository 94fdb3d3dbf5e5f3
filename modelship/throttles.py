from rest_framework.throttling import SimpleRateThrottle


class IPRateThrottle(SimpleRateThrottle):
    """Per client IP, whoever is (or is not) logged in; the rate comes from ``throttle_scope``."""

    def __init__(self):
        pass

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None) or "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
