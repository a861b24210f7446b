# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""The API Gateway (REST API, apigateway v1) calls this collection makes, and how they are retried.

One retry layer: botocore's own, in "legacy" mode, at most MAX_ATTEMPTS attempts per request in all. It retries
throttling (429, TooManyRequestsException, LimitExceededException), server errors (500, 502, 503, 504) and
dropped or refused connections, with exponential backoff and jitter (a random delay up to 2**(n-1) s before
attempt n+1), and has no retry budget that a burst of transient faults could exhaust (the "standard" mode's
retry quota stops retrying exactly then). API Gateway's ConflictException (a concurrent change of the same API)
is retried the same way by a handler of ours on botocore's needs-retry event. Every attempt goes through the
request pacer and is counted, so the quota sees every retry.
"""

from __future__ import annotations

import random

try:
    from botocore.config import Config
except ImportError:
    pass  # Handled by AnsibleAWSModule, and by the sweep engine's own check

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import RequestStats
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import event_id
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import pace_client

# At most this many attempts per request, the first included.
MAX_ATTEMPTS = 8
BOTOCORE_RETRIES = {"mode": "legacy", "total_max_attempts": MAX_ATTEMPTS}
# Retried besides what botocore's legacy mode retries: API Gateway's answer to a concurrent change of the same API.
EXTRA_RETRYABLE_CODES = ("ConflictException",)

# GetRestApis returns 25 APIs a page unless asked for more; 500 is the most it allows.
REST_APIS_PAGE_SIZE = 500

NOT_FOUND = "NotFoundException"


def apigateway_config(concurrency=1):
    """The botocore Config of an API Gateway client: the retry layer, one pooled connection per thread."""
    return Config(retries=BOTOCORE_RETRIES, max_pool_connections=max(10, concurrency))


def retry_conflicts(client, max_attempts=MAX_ATTEMPTS, rand=random.random):
    """Retry EXTRA_RETRYABLE_CODES like botocore's legacy mode retries throttling: same attempts, same backoff."""

    def needs_retry(response=None, attempts=0, caught_exception=None, **kwargs):  # pylint: disable=unused-argument
        if caught_exception is not None or not response or attempts >= max_attempts:
            return None
        code = ((response[1] or {}).get("Error") or {}).get("Code")
        if code not in EXTRA_RETRYABLE_CODES:
            return None
        return rand() * (2 ** (attempts - 1))

    client.meta.events.register(f"needs-retry.{event_id(client)}", needs_retry, unique_id="cloudops-apigw-tracing-retry-conflicts")
    return client


def paced_client(raw_client, max_requests_per_second=None):
    """(client, stats) from a botocore API Gateway client made with apigateway_config(): every HTTP attempt paced
    below the quota and counted, ConflictException retried too. max_requests_per_second None: no pacing."""
    pacer = RequestPacer(max_requests_per_second) if max_requests_per_second else None
    stats = RequestStats()
    pace_client(raw_client, pacer, stats)
    # The same attempt count as the client's own retries (a module's aws_config may set another).
    retries = getattr(raw_client.meta.config, "retries", None) or {}
    retry_conflicts(raw_client, max_attempts=retries.get("total_max_attempts") or MAX_ATTEMPTS)
    return raw_client, stats


def apigateway_client(module, max_requests_per_second=None, concurrency=1):
    """(client, stats): an API Gateway client paced below the quota, and the count of its HTTP attempts.

    max_requests_per_second None: no pacing. The connection pool holds one connection per thread, so threads
    never wait for a connection. The module's own aws_config, when given, overrides these settings.
    """
    raw = module.client("apigateway", config=apigateway_config(concurrency))
    return paced_client(raw, max_requests_per_second)


def partition_and_region(client):
    """The partition (aws, aws-cn, aws-us-gov, ...) and region the client talks to, for building ARNs."""
    return client.meta.partition, client.meta.region_name


def list_rest_apis(client):
    """Every REST API of the region, all pages followed."""
    pages = client.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": REST_APIS_PAGE_SIZE})
    return pages.build_full_result().get("items", [])


def get_rest_api(client, rest_api_id):
    """The REST API, or None when it does not exist."""
    try:
        return client.get_rest_api(restApiId=rest_api_id)
    except is_boto3_error_code(NOT_FOUND):
        return None


def get_stages(client, rest_api_id):
    """All stages of the REST API, or None when the API does not exist."""
    try:
        return client.get_stages(restApiId=rest_api_id).get("item", [])
    except is_boto3_error_code(NOT_FOUND):
        return None


def get_stage(client, rest_api_id, stage_name):
    """The stage, or None when it (or its API) does not exist."""
    try:
        return client.get_stage(restApiId=rest_api_id, stageName=stage_name)
    except is_boto3_error_code(NOT_FOUND):
        return None


def set_tracing(client, rest_api_id, stage_name, enabled):
    """Turn the stage's active tracing on or off; returns the stage as UpdateStage answers it."""
    # AWS accepts only the strings "true" and "false" here.
    value = "true" if enabled else "false"
    return client.update_stage(
        restApiId=rest_api_id,
        stageName=stage_name,
        patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": value}],
    )
