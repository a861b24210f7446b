# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures shared by the unit tests: real botocore API Gateway clients made as the collection makes them.

Two ways to answer their requests, and no request ever leaves the process:

- ``stubbed``: a botocore Stubber. It answers at the ``before-call`` stage, before any HTTP attempt, so botocore's
  retries, our ConflictException handler and the pacer never run. For tests that are not about retries.
- ``aws_http``: answers at the HTTP layer (``before-send``), with AWSResponse objects taken from a queue, so the
  request goes through everything it goes through against AWS: signing, pacing and counting, parsing the
  answer, botocore's legacy retries and ours. For tests of the retry layer.

``no_sleep`` records botocore's retry waits instead of waiting.
"""

from __future__ import annotations

import botocore.endpoint
import pytest
from botocore.stub import Stubber

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import paced_client
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import FakeHttp
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import HttpConnection
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import RecordingTime
from ansible_collections.cloudops.apigw_tracing.tests.unit.aws_fakes import make_client


@pytest.fixture(name="no_sleep")
def no_sleep_fixture(monkeypatch):
    """botocore waits between attempts with ``time.sleep(delay)`` in botocore.endpoint (Endpoint._needs_retry),
    whichever retry handler asked for the retry: the delays are recorded here, in order, instead."""
    waits = []
    # raising=True (the default): should botocore stop sleeping there, this fixture fails instead of sleeping.
    monkeypatch.setattr(botocore.endpoint, "time", RecordingTime(waits))
    return waits


@pytest.fixture(name="stubbed")
def stubbed_fixture(no_sleep):  # pylint: disable=unused-argument
    """(client, stubber): the client paced_client() makes of a client with the collection's config; the stubber
    answers its calls (before botocore's retries: a stubbed error is raised at once)."""
    client, dummy = paced_client(make_client())
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture(name="aws_http")
def aws_http_fixture(no_sleep):
    """connect(rate=None) -> HttpConnection. Unused answers fail the test."""
    made = []

    def connect(rate=None, config=None):
        http = FakeHttp()
        client, stats = paced_client(make_client(config=config), rate)
        http.attach(client)
        made.append(http)
        return HttpConnection(client, stats, http, no_sleep)

    yield connect
    for http in made:
        assert http.pending == 0, f"{http.pending} HTTP answers were not used"
