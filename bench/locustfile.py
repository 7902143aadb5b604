"""Open-loop load for bench/bench_api.py: each simulated client asks for customers' recommendations at
random (Poisson) times averaging LOAD_RATE_PER_USER requests/s, so the clients offer users x that rate
together, independently of one another and of the latencies (as long as a client is not still waiting
for its previous answer when its next request is due).

Environment: LOAD_TOKEN (API token), LOAD_PATHS (file with one URL path per line), LOAD_RATE_PER_USER.
"""

import itertools
import os
import random
import time

from locust import FastHttpUser, task

PATHS = [line.strip() for line in open(os.environ["LOAD_PATHS"]) if line.strip()]  # noqa: SIM115
RATE_PER_USER = float(os.environ.get("LOAD_RATE_PER_USER", "6"))


class RecommendationClient(FastHttpUser):
    def on_start(self) -> None:
        start = random.randrange(len(PATHS))
        self.paths = itertools.cycle(PATHS[start:] + PATHS[:start])
        self.headers = {"Authorization": f"Token {os.environ['LOAD_TOKEN']}"}
        self.next_request_at = time.monotonic()

    def wait_time(self) -> float:
        # exponential gaps between due times: a Poisson process per client, whatever each request took
        self.next_request_at += random.expovariate(RATE_PER_USER)
        return max(0.0, self.next_request_at - time.monotonic())

    @task
    def recommendations(self) -> None:
        self.client.get(next(self.paths), headers=self.headers, name="/api/customers/{id}/recommendations/")
