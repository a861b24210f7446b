# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The API Gateway (REST API, apigateway v1) calls this collection makes, with retries.

Every call goes through amazon.aws's AWSRetry: API Gateway management calls share a per-account quota
and answer TooManyRequestsException past it, so a throttled or transiently failing call is retried
with jittered backoff instead of failing the task on the first try.
"""

from __future__ import annotations

try:
    from botocore.config import Config
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import RequestPacer
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import RequestStats
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_pacing import pace_client

# Retried on top of amazon.aws's throttling codes (TooManyRequestsException among them).
# ConflictException is API Gateway's answer to a concurrent change of the same API;
# ServiceUnavailableException its 503; the bare status codes are what botocore reports for an
# unparseable 5xx body (from a load balancer, for instance).
EXTRA_RETRYABLE_CODES = ["ServiceUnavailableException", "ConflictException", "LimitExceededException", "500", "502", "503", "504"]

# GetRestApis returns 25 APIs a page unless asked for more; 500 is the most it allows.
REST_APIS_PAGE_SIZE = 500

NOT_FOUND = "NotFoundException"

# botocore's own retries come first: every attempt goes through the pacer, and "legacy" mode retries
# 429, 5xx and dropped connections with exponential backoff and no retry budget that a burst of
# transient faults could exhaust (the "standard" mode's quota stops retrying exactly then).
# AWSRetry above it catches what is still throttled or failing after these attempts.
BOTOCORE_RETRIES = {"mode": "legacy", "total_max_attempts": 6}


def retry_decorator():
    return AWSRetry.jittered_backoff(catch_extra_error_codes=EXTRA_RETRYABLE_CODES)


def apigateway_config(concurrency=1):
    """The botocore Config of an API Gateway client: botocore's retries, one pooled connection per thread."""
    return Config(retries=BOTOCORE_RETRIES, max_pool_connections=max(10, concurrency))


def paced_client(raw_client, max_requests_per_second=None):
    """(client, stats) from a botocore API Gateway client: every HTTP attempt paced below the quota and counted,
    and calls made with aws_retry=True retried (amazon.aws's wrapper, as AnsibleAWSModule.client gives it).
    max_requests_per_second None: no pacing."""
    pacer = RequestPacer(max_requests_per_second) if max_requests_per_second else None
    stats = RequestStats()
    pace_client(raw_client, pacer, stats)
    return RetryingBotoClientWrapper(raw_client, retry_decorator()), stats


def apigateway_client(module, max_requests_per_second=None, concurrency=1):
    """(client, stats): an API Gateway client paced below the quota, and the count of its HTTP attempts.

    Calls made with aws_retry=True are retried. max_requests_per_second None: no pacing.
    The connection pool holds one connection per thread, so threads never wait for a connection.
    The module's own aws_config, when given, overrides these settings.
    """
    raw = module.client("apigateway", config=apigateway_config(concurrency))
    return paced_client(raw, max_requests_per_second)


def partition_and_region(client):
    """The partition (aws, aws-cn, aws-us-gov, ...) and region the client talks to, for building ARNs."""
    return client.meta.partition, client.meta.region_name


def list_rest_apis(client):
    """Every REST API of the region, all pages followed."""
    result = paginated_query_with_retries(
        client,
        "get_rest_apis",
        retry_decorator=retry_decorator(),
        PaginationConfig={"PageSize": REST_APIS_PAGE_SIZE},
    )
    return result.get("items", [])


def get_rest_api(client, rest_api_id):
    """The REST API, or None when it does not exist."""
    try:
        return client.get_rest_api(restApiId=rest_api_id, aws_retry=True)
    except is_boto3_error_code(NOT_FOUND):
        return None


def get_stages(client, rest_api_id):
    """All stages of the REST API, or None when the API does not exist."""
    try:
        return client.get_stages(restApiId=rest_api_id, aws_retry=True).get("item", [])
    except is_boto3_error_code(NOT_FOUND):
        return None


def get_stage(client, rest_api_id, stage_name):
    """The stage, or None when it (or its API) does not exist."""
    try:
        return client.get_stage(restApiId=rest_api_id, stageName=stage_name, aws_retry=True)
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
        aws_retry=True,
    )
