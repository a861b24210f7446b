# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pacing API Gateway requests below the account's quota, and counting how they were answered.

API Gateway management calls of one account and region share a token bucket of 10 requests per second
with a burst of 40; past it they are answered 429 TooManyRequestsException. Retrying those answers works
but wastes time on backoff, so a module paces itself with a bucket of its own, a little slower than
AWS's. The bucket is consulted for every HTTP attempt botocore makes, retries included, because AWS
counts those too. When AWS says 429 anyway (another caller shares the quota, or an earlier module run
spent it), the bucket is emptied, so the module slows to its steady rate instead of bursting again.
"""

from __future__ import annotations

import threading
import time

# AWS's burst for API Gateway management calls: a module may start with this many requests at once.
AWS_BURST = 40
DEFAULT_MAX_REQUESTS_PER_SECOND = 9.5

# botocore's event names use the hyphenated service id of API Gateway (v1).
SERVICE_EVENT_ID = "api-gateway"


class RequestPacer:
    """A thread-safe token bucket: wait() returns once a request may be sent."""

    def __init__(self, rate, burst=AWS_BURST, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError(f"rate must be above 0, got {rate!r}")
        self.rate = float(rate)
        # A slow pace gets a proportionally small burst (AWS's is 4 seconds' worth): a user who lowered
        # the rate to leave room for other callers does not want 40 requests at once either.
        self.burst = max(1.0, min(float(burst), self.rate * AWS_BURST / 10.0))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()

    def _refill(self, now):
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def wait(self):
        """Take a token, sleeping until there is one. Tokens are handed out in turn, never twice."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            # A negative balance is this caller's place in the queue: it sleeps until its token is due.
            delay = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if delay > 0:
            self._sleep(delay)

    def throttled(self):
        """AWS answered 429: whatever burst we thought was left is not there."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0)


class RequestStats:
    """How the HTTP attempts of one module run were answered; retried answers are counted too."""

    FIELDS = ("sent", "throttled", "server_errors", "connection_errors")

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)

    def add(self, field):
        with self._lock:
            self._counts[field] += 1

    def as_dict(self):
        with self._lock:
            return dict(self._counts)


def _answer_kind(response_dict, exception):
    if exception is not None:
        return "connection_errors"
    status = (response_dict or {}).get("status_code") or 0
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server_errors"
    return None


def pace_client(client, pacer, stats):
    """Make every HTTP attempt of the (botocore) client wait for the pacer, and count the answers."""

    def before_send(**kwargs):  # pylint: disable=unused-argument
        if pacer is not None:
            pacer.wait()
        stats.add("sent")
        # None lets botocore send the request itself (a value here would replace the HTTP call).

    def response_received(response_dict=None, exception=None, **kwargs):  # pylint: disable=unused-argument
        kind = _answer_kind(response_dict, exception)
        if kind is None:
            return
        stats.add(kind)
        if kind == "throttled" and pacer is not None:
            pacer.throttled()

    client.meta.events.register(f"before-send.{SERVICE_EVENT_ID}", before_send, unique_id="cloudops-apigw-tracing-pace")
    client.meta.events.register(f"response-received.{SERVICE_EVENT_ID}", response_received, unique_id="cloudops-apigw-tracing-count")
    return client
