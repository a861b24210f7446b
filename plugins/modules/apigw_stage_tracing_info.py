#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apigw_stage_tracing_info
short_description: Read the X-Ray tracing state of API Gateway REST API stages
version_added: 1.0.0
description:
  - Lists API Gateway REST API stages with their X-Ray active tracing flag (C(tracingEnabled)) and the rest of
    their configuration.
  - With neither O(rest_api_id) nor O(stage_name), reads every REST API of the region (GetRestApis, 500 APIs
    a page, every page) and then the stages of each API with one GetStages call per API.
  - With O(rest_api_id) only, reads that API's stages; with both, reads that one stage (GetStage).
  - A REST API or stage that does not exist gives an empty RV(stages) list, not a failure.
  - The stages of several APIs are read at once (O(concurrency)), paced to stay under API Gateway's request
    quota (O(max_requests_per_second)).
  - An API whose stages cannot be read, even after retries, fails the task, which still returns every stage it
    read in RV(stages) and each unreadable API with its cause in RV(failures). An API is never left out silently.
  - Only REST APIs (API Gateway v1) are covered. HTTP and WebSocket APIs (API Gateway v2) have no
    C(tracingEnabled) setting.
  - Throttling (C(TooManyRequestsException)), server errors (5xx) and dropped connections are retried with
    backoff.
  - With O(whole_path=true), each stage also gets its request path (RV(stages[].hops)) - the Lambda functions
    and authorizers behind its methods and whether each one joins the X-Ray trace.
author:
  - Cloudops Maintainers (@cloudops)
options:
  rest_api_id:
    description:
      - Id of the REST API to read, the 10 lowercase letters or digits API Gateway assigns (for example
        V(a1b2c3d4e5)).
      - When omitted, every REST API of the region is read.
    type: str
  stage_name:
    description:
      - Name of one stage of O(rest_api_id) to read; 1 to 128 letters, digits, V(-) or V(_).
      - Requires O(rest_api_id).
    type: str
  whole_path:
    description:
      - Also read the whole request path of each stage found, and return it in RV(stages[].hops).
      - Per REST API with stages, GetResources (with its methods embedded) and GetAuthorizers, every page, paced
        with the stages' reads under API Gateway's quota; then each distinct Lambda function behind them once
        (GetFunctionConfiguration, paced under Lambda's own quota), for its C(TracingConfig.Mode) and execution
        role; and C(sts:GetCallerIdentity) once, to know the account the functions should be in.
      - For each distinct execution role of the functions that trace (C(Active)), one C(iam:SimulatePrincipalPolicy)
        says whether it may write to X-Ray (C(xray:PutTraceSegments) and C(xray:PutTelemetryRecords)); a function whose
        role cannot sends nothing, so its stages' RV(stages[].whole_path_traced) is V(false). A refused check is said
        on the hop, never a failure of the task.
      - C(${stageVariables.NAME}) in an integration's function is resolved with each stage's own variables.
      - Integrations that are not Lambda functions (HTTP, HTTP proxy, mock, other AWS services, VPC links) are
        listed with what X-Ray sees of them. A function in another account, or one that cannot be read, is a hop
        whose C(tracing) is V(error), with the cause in its C(note); the task does not fail for it.
      - When V(false) (the default), none of these calls is made.
    type: bool
    default: false
    version_added: 1.2.0
notes:
  - Needs C(apigateway:GET) on C(arn:<partition>:apigateway:<region>::/restapis) and
    C(arn:<partition>:apigateway:<region>::/restapis/*).
  - With O(whole_path=true), also needs C(lambda:GetFunctionConfiguration) on the functions behind the stages.
  - Supports check mode; it never changes anything.
seealso:
  - module: cloudops.apigw_tracing.apigw_stage_tracing
extends_documentation_fragment:
  - cloudops.apigw_tracing.request_pacing
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details; see the amazon.aws guide, or set them once
# for this collection's and amazon.aws's modules with module_defaults group/cloudops.apigw_tracing.aws.

- name: Read every REST API stage of the region
  cloudops.apigw_tracing.apigw_stage_tracing_info:
    region: us-east-1
  register: all_stages

- name: List the ARNs of stages with tracing off
  ansible.builtin.debug:
    msg: "{{ all_stages.stages | rejectattr('tracing_enabled') | map(attribute='arn') | list }}"

- name: Read the stages of one REST API
  cloudops.apigw_tracing.apigw_stage_tracing_info:
    region: us-east-1
    rest_api_id: a1b2c3d4e5

- name: Read one stage
  cloudops.apigw_tracing.apigw_stage_tracing_info:
    region: us-east-1
    rest_api_id: a1b2c3d4e5
    stage_name: prod
  register: prod_stage

- name: Show whether it is traced
  ansible.builtin.debug:
    msg: "{{ prod_stage.stages[0].tracing_enabled | default('no such stage') }}"

- name: Read the stages of one REST API with the Lambda functions behind them
  cloudops.apigw_tracing.apigw_stage_tracing_info:
    region: us-east-1
    rest_api_id: a1b2c3d4e5
    whole_path: true
  register: paths

- name: List the functions behind these stages that do not trace
  ansible.builtin.debug:
    msg: "{{ paths.stages | map(attribute='hops') | flatten | selectattr('tracing', 'equalto', 'not_traced')
             | map(attribute='function_arn') | select | unique | list }}"
"""

RETURN = r"""
failures:
  description:
    - The REST APIs whose stages could not be read after retries, with the cause. The task fails when this is
      not empty.
  returned: always
  type: list
  elements: dict
  contains:
    rest_api_id:
      description: Id of the REST API.
      type: str
      sample: a1b2c3d4e5
    rest_api_name:
      description: Name of the REST API.
      type: str
      sample: orders
    arn:
      description: ARN of its stages (C(.../stages/*)), or of the one stage asked for.
      type: str
      sample: arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/*
    error_code:
      description: The AWS error code, or the botocore exception's name when there was no answer.
      type: str
      sample: ServiceUnavailableException
    message:
      description: What failed and why, and which permission is missing when access was denied.
      type: str
      sample: "Reading the stages of REST API a1b2c3d4e5 failed: ServiceUnavailableException: Service Unavailable"
requests:
  description:
    - How the task's HTTP requests to API Gateway were answered, every retry counted.
    - Answers counted in C(throttled), C(server_errors) and C(connection_errors) were retried; a read that still
      failed after its retries is in RV(failures).
  returned: always
  type: dict
  contains:
    sent:
      description: HTTP requests sent, retries included.
      type: int
      sample: 602
    throttled:
      description: Answers HTTP 429 (TooManyRequestsException).
      type: int
      sample: 0
    server_errors:
      description: Answers HTTP 5xx.
      type: int
      sample: 1
    connection_errors:
      description: Requests that got no answer (connection refused, dropped or timed out).
      type: int
      sample: 0
stages:
  description:
    - One entry per stage found, in the order the APIs and stages were read.
    - Besides the keys below, every other field of the stage (for example C(cache_cluster_status),
      C(canary_settings), C(web_acl_arn)) is returned in snake_case, as amazon.aws modules return them.
  returned: always
  type: list
  elements: dict
  contains:
    rest_api_id:
      description: Id of the REST API the stage belongs to.
      type: str
      returned: always
      sample: a1b2c3d4e5
    rest_api_name:
      description: Name of the REST API.
      type: str
      returned: always
      sample: orders
    stage_name:
      description: Name of the stage.
      type: str
      returned: always
      sample: prod
    arn:
      description: ARN of the stage, in the partition of the region (aws, aws-cn, aws-us-gov, ...).
      type: str
      returned: always
      sample: arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod
    tracing_enabled:
      description:
        - Whether X-Ray active tracing is on. Always a boolean; API Gateway omits the field on stages where
          tracing was never turned on, and that is returned as V(false).
      type: bool
      returned: always
      sample: false
    deployment_id:
      description: Id of the deployment the stage serves.
      type: str
      returned: always
      sample: x1y2z3
    tags:
      description: Tags of the stage, keys exactly as set (not snake_cased).
      type: dict
      returned: always
      sample: {"Env": "prod", "Team": "orders"}
    variables:
      description: Stage variables, names exactly as set (not snake_cased).
      type: dict
      returned: always
      sample: {"backendHost": "orders.internal"}
    created_date:
      description: When the stage was created (ISO 8601); null when the endpoint does not say.
      type: str
      returned: always
      sample: "2026-01-31T09:30:00+00:00"
    last_updated_date:
      description: When the stage was last changed (ISO 8601); null when the endpoint does not say.
      type: str
      returned: always
      sample: "2026-02-01T10:00:00+00:00"
    access_logging_enabled:
      description: Whether access logs are sent to a destination (C(access_log_settings.destination_arn) is set).
      type: bool
      returned: always
      sample: true
    access_log_settings:
      description: Where and how access logs are written.
      type: dict
      returned: when access logging is configured
      sample: {"destination_arn": "arn:aws:logs:us-east-1:111111111111:log-group:api-access", "format": "$context.requestId"}
    description:
      description: Description of the stage.
      type: str
      returned: when set
      sample: Production
    cache_cluster_enabled:
      description: Whether a cache cluster is enabled for the stage.
      type: bool
      returned: when the endpoint reports it
      sample: false
    method_settings:
      description: Method settings keyed by C(<resource path>/<method>) (keys as API Gateway gives them), values snake_cased.
      type: dict
      returned: always
      sample: {"*/*": {"metrics_enabled": true, "logging_level": "ERROR"}}
    whole_path_traced:
      description:
        - Whether the gateway and every Lambda hop of the stage trace (a hop in error does not).
      type: bool
      returned: when O(whole_path=true)
      sample: false
      version_added: 1.2.0
    hops:
      description:
        - The stage's request path, in order - the gateway, one hop per method's integration (by resource path and
          method), one per Lambda or Cognito authorizer its methods use.
      type: list
      elements: dict
      returned: when O(whole_path=true)
      version_added: 1.2.0
      contains:
        kind:
          description: V(gateway), V(integration) or V(authorizer).
          type: str
          sample: integration
        http_method:
          description: The method of an integration hop; null for the others.
          type: str
          sample: GET
        resource_path:
          description: The resource path of an integration hop; null for the others.
          type: str
          sample: /orders
        integration_type:
          description: The integration type (C(AWS_PROXY), C(AWS), C(HTTP), C(HTTP_PROXY), C(MOCK)), or an authorizer's type.
          type: str
          sample: AWS_PROXY
        name:
          description: The authorizer's name; null for the other hops.
          type: str
          sample: tokens
        function_arn:
          description: The Lambda function, with its alias or version when the URI names one, stage variables resolved.
          type: str
          sample: arn:aws:lambda:us-east-1:111122223333:function:orders:live
        role_arn:
          description: The function's execution role, when its configuration was read.
          type: str
          sample: arn:aws:iam::111122223333:role/orders
        role_xray:
          description:
            - Only for a function that traces - whether its execution role may write to X-Ray - V(can_write),
              V(cannot_write) (the note says the fix, the AWSXRayDaemonWriteAccess managed policy) or V(unknown) (the
              check was refused or failed; the note says why).
          type: str
          sample: can_write
        aliases:
          description:
            - Only for a function named with a published version (a number) whose aliases could be listed
              (C(lambda:ListAliases)) - the names of the aliases that serve that version; empty when none does.
            - A published version's configuration cannot change - its tracing changes with a new version the alias
              then points at.
          type: list
          elements: str
          sample: [live]
        tracing:
          description:
            - V(traced), V(not_traced), V(not_applicable) (X-Ray cannot join this hop) or V(error) (the function
              cannot be known or read).
          type: str
          sample: not_traced
        note:
          description: Why the hop has that state, or what X-Ray sees of a hop it cannot join.
          type: str
          sample: "TracingConfig.Mode is PassThrough: the function joins a trace only with Active tracing"
"""

import contextlib

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import DEFAULT_MAX_REQUESTS_PER_SECOND
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import describe_cause
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import error_code
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.discovery import describe_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import failures_summary
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import read_error_hint
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import ROLE_UNKNOWN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import ROLE_UNKNOWN_NOTE
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import LambdaClients
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import PathReader
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import check_roles
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import functions_to_check
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import iam_client as paced_iam_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import whole_path_traced
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import with_role_checks
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import api_arn
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import request_pacing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_reference_problems


def failure_message(failures, apis):
    return f"The stages of {len(failures)} of {apis} REST APIs could not be read: {failures_summary(failures)}"


def path_reader(module, client, concurrency, stats):
    """The PathReader (module_utils/request_path.py) of the caller's account: it reads each API's path as its stages
    are found."""
    try:
        account_id = module.client("sts").get_caller_identity()["Account"]
        region = module.region
        # Each function is read in its own region (an integration may invoke a function of another region).
        lambda_clients = LambdaClients(lambda where, service, config: module.client(service, config=config, region=where), region)
    except (BotoCoreError, ClientError) as e:
        module.fail_json(msg=f"Reading the request paths failed: {describe_cause(e)}", requests=stats.as_dict())
    return PathReader(client, lambda_clients, account_id, concurrency)


def add_whole_paths(module, reader, stages):
    """Each stage's hops and whole_path_traced, in place: the functions that trace have their execution role checked
    (one iam:SimulatePrincipalPolicy per distinct role: may it write to X-Ray?), as the role's sweep does."""
    paths = reader.finish(stages)
    hops = {f"{rest_api_id}/{stage_name}": stage_hops for (rest_api_id, stage_name), stage_hops in paths.items()}
    functions = functions_to_check(hops)
    roles = sorted(set(functions.values()))
    if roles:
        try:
            iam, dummy = paced_iam_client(lambda service, config: module.client(service, config=config))
            checked = check_roles(iam, roles)
        except (BotoCoreError, ClientError) as e:
            cause = ROLE_UNKNOWN_NOTE.format(cause=f"the IAM client could not be made: {describe_cause(e)}")
            checked = {role: {"state": ROLE_UNKNOWN, "note": cause} for role in roles}
        hops = with_role_checks(hops, checked, functions)
    for stage in stages:
        stage["hops"] = hops[f"{stage['rest_api_id']}/{stage['stage_name']}"]
        stage["whole_path_traced"] = whole_path_traced(stage["hops"])


def main():
    argument_spec = dict(
        rest_api_id=dict(type="str"),
        stage_name=dict(type="str"),
        # raw: a float type would read `true` as 1.0; validation.request_pacing reads numbers and decimal strings.
        max_requests_per_second=dict(type="raw", default=DEFAULT_MAX_REQUESTS_PER_SECOND),
        concurrency=dict(type="int", default=4),
        whole_path=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_by={"stage_name": "rest_api_id"},
        supports_check_mode=True,
    )
    rest_api_id = module.params["rest_api_id"]
    stage_name = module.params["stage_name"]

    rate, concurrency, pacing_problems = request_pacing(module.params["max_requests_per_second"], module.params["concurrency"])
    problems = stage_reference_problems(rest_api_id, stage_name) + pacing_problems
    if problems:
        module.fail_json(msg="; ".join(problems))

    client, stats = apigateway_client(module, rate, concurrency)
    # whole_path: each API's resources and authorizers are read as soon as its stages are, its functions alongside.
    reader = path_reader(module, client, concurrency, stats) if module.params["whole_path"] else None
    with reader or contextlib.nullcontext():
        try:
            found = describe_stages(client, rest_api_id=rest_api_id, stage_name=stage_name, concurrency=concurrency,
                                    each_api=reader.read if reader else None)
        except (BotoCoreError, ClientError) as e:
            # Only listing the APIs (or reading the one asked for) raises; per-API failures are in found.failures.
            partition, region = partition_and_region(client)
            hint = read_error_hint(error_code(e), api_arn(partition, region, rest_api_id))
            what = f"Reading REST API {rest_api_id} in {region}" if rest_api_id else f"Listing the REST APIs of {region}"
            module.fail_json_aws(e, msg=f"{what} failed{hint}", requests=stats.as_dict())
        if reader is not None:
            add_whole_paths(module, reader, found.stages)

    result = dict(changed=False, stages=found.stages, failures=found.failures, requests=stats.as_dict())
    if found.failures:
        module.fail_json(msg=failure_message(found.failures, found.apis), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
