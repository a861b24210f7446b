# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import boto3
import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import RequestStats
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import pace_client


class FakeTime:
    """A clock that only moves when the pacer sleeps (or the test says so)."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_burst_then_steady_rate():
    fake = FakeTime()
    pacer = RequestPacer(10, burst=40, clock=fake.clock, sleep=fake.sleep)

    for _request in range(40):
        pacer.wait()
    assert fake.sleeps == []  # the burst goes out at once

    for _request in range(20):
        pacer.wait()
    # 20 more at 10/s: two seconds, never faster than the rate.
    assert fake.now == pytest.approx(102.0)
    assert all(s == pytest.approx(0.1) for s in fake.sleeps)


def test_a_slow_pace_gets_a_small_burst():
    pacer = RequestPacer(2, burst=40, clock=FakeTime().clock)
    assert pacer.burst == pytest.approx(8.0)


def test_a_429_empties_the_bucket():
    fake = FakeTime()
    pacer = RequestPacer(10, burst=40, clock=fake.clock, sleep=fake.sleep)
    pacer.wait()
    pacer.throttled()

    pacer.wait()

    assert fake.sleeps == [pytest.approx(0.1)]


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="above 0"):
        RequestPacer(0)


def test_every_attempt_waits_for_the_pacer_and_answers_are_counted():
    client = boto3.client("apigateway", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    waits = []

    class CountingPacer:
        def wait(self):
            waits.append(1)

        def throttled(self):
            waits.append("throttled")

    stats = RequestStats()
    pace_client(client, CountingPacer(), stats)
    events = client.meta.events

    for status in (200, 429, 503, 404):
        events.emit("before-send.api-gateway.GetStages", request=None)
        events.emit("response-received.api-gateway.GetStages", response_dict={"status_code": status}, exception=None, parsed_response={}, context={})
    events.emit("before-send.api-gateway.GetStages", request=None)
    events.emit("response-received.api-gateway.GetStages", response_dict=None, exception=ConnectionError("dropped"), parsed_response=None, context={})
    # Another service's events are not ours to pace.
    events.emit("before-send.sts.GetCallerIdentity", request=None)

    assert stats.as_dict() == {"sent": 5, "throttled": 1, "server_errors": 1, "connection_errors": 1}
    assert waits == [1, 1, "throttled", 1, 1, 1]
