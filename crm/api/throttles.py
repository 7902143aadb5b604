"""API rate limits counted per fixed window.

DRF's stock throttles keep every request time of the last period per client and rewrite that list on each
request: with a rate of 100,000 an hour an integration's entry grows to 100,000 timestamps, pickled on
every call. These keep one counter per client and window (one atomic cache increment per request). A
fixed window lets a client send up to twice its rate across a window edge; the rate still holds over
any two windows.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# Bulk ingest is heavier than a read: each request may write a thousand orders.
INGEST_DEFAULT_RATE = "120/min"


class FixedWindowThrottleMixin:
    def get_rate(self) -> str | None:
        # Read at request time, so that a changed REST_FRAMEWORK setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        # The entry outlives its window by a little, so that a late increment never finds it gone.
        self.cache.add(key, 0, self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # evicted between add and incr
            self.cache.set(key, 1, self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        return max(1.0, self.window_end - self.now)


class AnonWindowRateThrottle(FixedWindowThrottleMixin, AnonRateThrottle):
    """Anonymous clients by address, ``DEFAULT_THROTTLE_RATES["anon"]``."""


class UserWindowRateThrottle(FixedWindowThrottleMixin, UserRateThrottle):
    """Logged-in clients by user, ``DEFAULT_THROTTLE_RATES["user"]``."""


class IngestRateThrottle(FixedWindowThrottleMixin, UserRateThrottle):
    """Per-user limit on ingest requests; the rate is ``DEFAULT_THROTTLE_RATES["ingest"]``."""

    scope = "ingest"

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or INGEST_DEFAULT_RATE
