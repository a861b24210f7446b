# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures shared by the unit tests: real botocore clients whose HTTP layer is a botocore Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import retry_decorator


def make_client(region="us-east-1"):
    return boto3.client("apigateway", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(name="no_sleep")
def no_sleep_fixture(monkeypatch):
    """Retries back off with time.sleep; record the waits instead of waiting."""
    waits = []
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", waits.append)
    return waits


@pytest.fixture(name="stubbed")
def stubbed_fixture(no_sleep):
    """(client, stubber): the client retries like the modules' client does; the stubber answers its calls."""
    raw = make_client()
    with Stubber(raw) as stubber:
        yield RetryingBotoClientWrapper(raw, retry_decorator()), stubber
        stubber.assert_no_pending_responses()
