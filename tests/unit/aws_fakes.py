# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Real botocore clients for the unit tests, and a fake HTTP layer that answers them (see conftest.py)."""

from __future__ import annotations

import collections
import json
import time
import urllib.parse

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import event_id
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_config

REGION = "us-east-1"
TESTING_CREDENTIALS = {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": "testing"}

_SESSION = []


def botocore_session():
    """One botocore session for the tests (the service models are loaded once)."""
    if not _SESSION:
        _SESSION.append(botocore.session.get_session())
    return _SESSION[0]


def make_client(service="apigateway", region=REGION, config=None):
    """A real botocore client with test credentials; an API Gateway client gets the collection's config by default."""
    if service == "apigateway" and config is None:
        config = apigateway_config()
    return botocore_session().create_client(service, region_name=region, config=config, aws_access_key_id="testing", aws_secret_access_key="testing")


class RecordingTime:
    """botocore.endpoint's ``time`` module, whose sleep records the wait instead of waiting."""

    def __init__(self, waits):
        self._waits = waits

    def sleep(self, seconds):
        self._waits.append(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


class FakeTime:
    """A request pacer's clock, moved only by the pacer's own sleeps (or by the test)."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class _Body:
    """The ``raw`` of an AWSResponse: what botocore reads the body from."""

    def __init__(self, body):
        self._body = body

    def stream(self, **kwargs):  # pylint: disable=unused-argument
        yield self._body


class FakeHttp:
    """Answers the HTTP attempts of real botocore clients (API Gateway's, Security Hub's), in order, from one queue.

    Every attempt is recorded in ``requests`` as (method, path, query) whether it is answered or fails.
    An attempt with no answer queued fails the test (pytest.fail is no Exception: botocore cannot catch and
    retry it, and the request is never sent).
    """

    def __init__(self):
        self.answers = collections.deque()
        self.requests = []

    def attach(self, client):
        # Last, so the pacer's before-send handler has waited for and counted the attempt first: emit() stops at
        # a handler that raises, as this one does to simulate a dropped connection.
        client.meta.events.register_last(f"before-send.{event_id(client)}", self._send, unique_id="tests-unit-fake-http")
        return client

    def add(self, body=None, status=200, headers=None):
        """A successful answer; body: the JSON document (a dict), or bytes as they are."""
        payload = body if isinstance(body, bytes) else json.dumps(body or {}).encode("utf-8")
        self.answers.append((status, dict({"Content-Type": "application/json", "x-amzn-RequestId": "req-1"}, **(headers or {})), payload))
        return self

    def add_error(self, code, status, message="error", header_code=None):
        """API Gateway's error answer (REST-JSON): the code in the x-amzn-ErrorType header, the message in the body."""
        return self.add({"message": message}, status, {"x-amzn-ErrorType": header_code or code})

    def add_exception(self, exception):
        """The attempt fails without an answer: a dropped connection (ConnectionClosedError), a refused one
        (EndpointConnectionError)..."""
        self.answers.append(exception)
        return self

    def repeat(self, count, adder, *args, **kwargs):
        for dummy in range(count):
            adder(*args, **kwargs)
        return self

    @property
    def pending(self):
        return len(self.answers)

    def paths(self):
        return [path for dummy, path, dummy_query in self.requests]

    def _send(self, request, **kwargs):  # pylint: disable=unused-argument
        url = urllib.parse.urlsplit(request.url)
        self.requests.append((request.method, url.path, dict(urllib.parse.parse_qsl(url.query))))
        if not self.answers:
            pytest.fail(f"no HTTP answer queued for {request.method} {request.url}")
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        status, headers, payload = answer
        return AWSResponse(request.url, status, headers, _Body(payload))


class HttpConnection:
    """A paced client (paced_client() of a client with the collection's config), its request counts, its fake
    HTTP answers and botocore's retry waits."""

    def __init__(self, client, stats, http, waits):
        self.client = client
        self.stats = stats
        self.http = http
        self.waits = waits
