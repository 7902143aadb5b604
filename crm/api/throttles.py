from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

# Bulk ingest is heavier than a read: each request may write a thousand orders.
INGEST_DEFAULT_RATE = "120/min"


class IngestRateThrottle(UserRateThrottle):
    """Per-user limit on ingest requests; the rate is ``DEFAULT_THROTTLE_RATES["ingest"]``."""

    scope = "ingest"

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or INGEST_DEFAULT_RATE
