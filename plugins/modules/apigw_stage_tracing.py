#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apigw_stage_tracing
short_description: Turn X-Ray active tracing on or off for API Gateway REST API stages
version_added: 1.0.0
description:
  - Sets the X-Ray active tracing flag (C(tracingEnabled)) of one API Gateway REST API stage, or of many
    stages in one run.
  - Reads first and changes only what differs. A stage already in the desired state is not touched, so a
    second run reports RV(changed=false).
  - A change is one UpdateStage call with the patch C(op=replace, path=/tracingEnabled, value=true|false).
    Its answer is checked, and the task fails if the stage does not show the requested state.
  - Reads cost at most one call per REST API whatever the number of its stages (GetStage for one stage,
    GetStages for several), so the list form O(stages) converges thousands of stages in one task.
  - In the list form, a failure on one stage does not stop the others. The task finishes them, then fails
    with every failed stage and its cause in RV(failures), and still returns what it changed.
  - REST APIs are converged several at once (O(concurrency)), paced to stay under API Gateway's request quota
    (O(max_requests_per_second)).
  - Throttling (C(TooManyRequestsException)), server errors (5xx) and dropped connections are retried with
    backoff. UpdateStage sets a value, so repeating it after a dropped answer is harmless.
  - Supports check mode (no UpdateStage call is made; RV(changed) says what would change) and diff mode.
  - >-
    In diff mode the one-stage form shows a before/after of C(tracing_enabled) headed C(<rest_api_id>/<stage_name>);
    the list form O(stages) shows one line per stage that changes, C(<rest_api_id>/<stage_name>: tracing_enabled false -> true),
    under a heading with the account and region, so that the diff of thousands of stages stays readable. The account
    comes from STS C(GetCallerIdentity), which needs no permission and is asked only for that heading.
author:
  - Cloudops Maintainers (@cloudops)
options:
  rest_api_id:
    description:
      - Id of the REST API of the one stage to converge (10 lowercase letters or digits, for example
        V(a1b2c3d4e5)).
      - Requires O(stage_name). Mutually exclusive with O(stages).
    type: str
  stage_name:
    description:
      - Name of the one stage to converge; 1 to 128 letters, digits, V(-) or V(_).
      - Requires O(rest_api_id).
    type: str
  stages:
    description:
      - The stages to converge in this one task. Mutually exclusive with O(rest_api_id) and O(stage_name).
      - Must not be empty, and must not list a stage twice.
    type: list
    elements: dict
    suboptions:
      rest_api_id:
        description: Id of the stage's REST API.
        type: str
        required: true
      stage_name:
        description: Name of the stage.
        type: str
        required: true
      tracing_enabled:
        description: Desired tracing state of this stage; when omitted, O(tracing_enabled) applies.
        type: bool
      observed_tracing_enabled:
        description:
          - The stage's tracing state as read moments ago, for example by
            M(cloudops.apigw_tracing.apigw_stage_tracing_info) earlier in the same play.
          - In check mode, a REST API whose listed stages all give it is not read again, so an audit costs no
            calls beyond the read that found the stages. Outside check mode it is ignored, and the stage is always
            read before it is changed, so that RV(changed) tells the truth.
        type: bool
  tracing_enabled:
    description:
      - Desired X-Ray active tracing state. V(false) turns tracing off, for example to stop X-Ray costs on
        stages that do not need it.
      - In the list form, the state of every item that does not set its own.
    type: bool
    default: true
  ignore_missing:
    description:
      - When V(true), a stage (or REST API) that does not exist is listed in RV(missing) and is not an error. That
        includes a stage deleted between this task's read and its UpdateStage call.
      - When V(false), a missing stage fails the task; in the list form the other stages are still converged.
    type: bool
    default: false
notes:
  - Needs C(apigateway:GET) and C(apigateway:PATCH) on C(arn:<partition>:apigateway:<region>::/restapis/*).
  - The first time tracing is turned on in an account, API Gateway creates the service-linked role
    C(AWSServiceRoleForAPIGateway), which also needs C(iam:CreateServiceLinkedRole).
  - X-Ray bills for recorded traces; sampling rules (in X-Ray, not here) control how many are recorded.
seealso:
  - module: cloudops.apigw_tracing.apigw_stage_tracing_info
extends_documentation_fragment:
  - cloudops.apigw_tracing.request_pacing
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details; see the amazon.aws guide, or set them once
# for this collection's and amazon.aws's modules with module_defaults group/cloudops.apigw_tracing.aws.

- name: Turn on X-Ray tracing for one stage
  cloudops.apigw_tracing.apigw_stage_tracing:
    region: us-east-1
    rest_api_id: a1b2c3d4e5
    stage_name: prod

- name: Turn it off for a stage that does not need it
  cloudops.apigw_tracing.apigw_stage_tracing:
    region: us-east-1
    rest_api_id: a1b2c3d4e5
    stage_name: staging
    tracing_enabled: false

- name: Converge several stages in one task, one of them off
  cloudops.apigw_tracing.apigw_stage_tracing:
    region: us-east-1
    stages:
      - rest_api_id: a1b2c3d4e5
        stage_name: prod
      - rest_api_id: f6g7h8i9j0
        stage_name: prod
      - rest_api_id: f6g7h8i9j0
        stage_name: v1
        tracing_enabled: false
  register: converged

- name: Turn tracing on everywhere in the region, skipping stages deleted meanwhile
  block:
    - name: Read every stage
      cloudops.apigw_tracing.apigw_stage_tracing_info:
        region: us-east-1
      register: found

    - name: Enable tracing where it is off
      cloudops.apigw_tracing.apigw_stage_tracing:
        region: us-east-1
        # Items carry rest_api_id, stage_name and optionally tracing_enabled / observed_tracing_enabled:
        # keep the two keys that name the stage.
        stages: >-
          {{ found.stages | rejectattr('tracing_enabled') | map('dict2items')
             | map('selectattr', 'key', 'in', ['rest_api_id', 'stage_name']) | map('items2dict') }}
        ignore_missing: true
      when: found.stages | rejectattr('tracing_enabled') | length > 0
"""

RETURN = r"""
requests:
  description:
    - How the task's HTTP requests to API Gateway were answered, every retry counted.
    - Answers counted in C(throttled), C(server_errors) and C(connection_errors) were retried; a stage whose
      read or update still failed after its retries is in RV(failures).
  returned: always
  type: dict
  contains:
    sent:
      description: HTTP requests sent, retries included.
      type: int
      sample: 12
    throttled:
      description: Answers HTTP 429 (TooManyRequestsException).
      type: int
      sample: 0
    server_errors:
      description: Answers HTTP 5xx.
      type: int
      sample: 0
    connection_errors:
      description: Requests that got no answer (connection refused, dropped or timed out).
      type: int
      sample: 0
changed:
  description: Whether any stage changed (in check mode, would change).
  returned: always
  type: bool
  sample: true
stages:
  description: One entry per stage that was found, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    rest_api_id:
      description: Id of the REST API.
      type: str
      returned: always
      sample: a1b2c3d4e5
    stage_name:
      description: Name of the stage.
      type: str
      returned: always
      sample: prod
    arn:
      description: ARN of the stage, in the partition of the region.
      type: str
      returned: always
      sample: arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod
    tracing_enabled_before:
      description: Tracing state read before any change.
      type: bool
      returned: always
      sample: false
    tracing_enabled:
      description: Tracing state now (in check mode, the state it would have).
      type: bool
      returned: always
      sample: true
    changed:
      description: Whether this stage changed (in check mode, would change).
      type: bool
      returned: always
      sample: true
missing:
  description: Stages that do not exist (their REST API or the stage itself), whether or not O(ignore_missing) is set.
  returned: always
  type: list
  elements: dict
  sample: [{"rest_api_id": "a1b2c3d4e5", "stage_name": "old", "arn": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/old"}]
  contains:
    rest_api_id:
      description: Id of the REST API.
      type: str
      returned: always
    stage_name:
      description: Name of the stage.
      type: str
      returned: always
    arn:
      description: ARN the stage would have.
      type: str
      returned: always
failures:
  description:
    - Stages that could not be read, changed or verified, each with its cause; also the missing stages when
      O(ignore_missing=false). The task fails when this is not empty.
  returned: when the task fails on one or more stages
  type: list
  elements: dict
  sample:
    - rest_api_id: a1b2c3d4e5
      stage_name: prod
      arn: arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod
      error_code: AccessDeniedException
      message: "Turning tracing on for stage a1b2c3d4e5/prod failed: AccessDeniedException: ... The caller needs apigateway:PATCH on ..."
  contains:
    rest_api_id:
      description: Id of the REST API.
      type: str
      returned: always
    stage_name:
      description: Name of the stage.
      type: str
      returned: always
    arn:
      description: ARN of the stage.
      type: str
      returned: always
    error_code:
      description: The AWS error code, C(NotFoundException) for a missing stage, or C(VerificationFailed) when
        UpdateStage did not answer with the requested state.
      type: str
      returned: always
    message:
      description: What failed and, for access errors, which permission is needed.
      type: str
      returned: always
stage:
  description:
    - The stage after the change (in check mode, as it would be), with the keys
      M(cloudops.apigw_tracing.apigw_stage_tracing_info) returns, except C(rest_api_name).
    - Only in the single-stage form, when the stage exists.
  returned: when O(rest_api_id) and O(stage_name) are given and the stage exists
  type: dict
  sample:
    rest_api_id: a1b2c3d4e5
    stage_name: prod
    arn: arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod
    tracing_enabled: true
    deployment_id: x1y2z3
    tags: {"Env": "prod"}
    access_logging_enabled: false
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import DEFAULT_MAX_REQUESTS_PER_SECOND
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import compact_diff
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import converge
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import failures_summary
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import normalize_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import request_pacing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_list_problems
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.validation import stage_reference_problems


def requested_stages(params):
    """The stages to converge, each with its desired state, whichever form the task used."""
    if params["stages"] is None:
        return [{"rest_api_id": params["rest_api_id"], "stage_name": params["stage_name"], "tracing_enabled": params["tracing_enabled"]}]
    return [
        {
            "rest_api_id": item["rest_api_id"],
            "stage_name": item["stage_name"],
            "tracing_enabled": params["tracing_enabled"] if item["tracing_enabled"] is None else item["tracing_enabled"],
            "observed_tracing_enabled": item["observed_tracing_enabled"],
        }
        for item in params["stages"]
    ]


def input_problems(params, pacing):
    if params["stages"] is None:
        if params["rest_api_id"] is None:
            # required_one_of counts an option given as null: say what is missing instead of reading "None".
            return ["rest_api_id, stages: give rest_api_id and stage_name for one stage, or stages, a non-empty list, got null"] + pacing
        return stage_reference_problems(params["rest_api_id"], params["stage_name"]) + pacing
    return stage_list_problems(params["stages"]) + pacing


def failure_message(failures, total):
    return f"{len(failures)} of {total} stages could not be converged: {failures_summary(failures)}"


def diff_heading(module, region):
    """'account 111111111111, eu-west-1': the account of the task's credentials (STS GetCallerIdentity, which
    needs no permission), asked only to head a diff; the region alone when STS does not answer."""
    try:
        account = module.client("sts").get_caller_identity()["Account"]
    except Exception:  # pylint: disable=broad-exception-caught
        return region
    return f"account {account}, {region}"


def missing_failure(missing, region):
    label = f"{missing['rest_api_id']}/{missing['stage_name']}"
    message = f"Stage {label} does not exist in {region} (no such REST API or stage; ignore_missing=true lists it in missing instead)"
    return dict(missing, error_code="NotFoundException", message=message)


def main():
    argument_spec = dict(
        rest_api_id=dict(type="str"),
        stage_name=dict(type="str"),
        stages=dict(
            type="list",
            elements="dict",
            options=dict(
                rest_api_id=dict(type="str", required=True),
                stage_name=dict(type="str", required=True),
                tracing_enabled=dict(type="bool"),
                observed_tracing_enabled=dict(type="bool"),
            ),
        ),
        # raw: a float type would read `true` as 1.0; validation.request_pacing reads numbers and decimal strings.
        max_requests_per_second=dict(type="raw", default=DEFAULT_MAX_REQUESTS_PER_SECOND),
        concurrency=dict(type="int", default=4),
        tracing_enabled=dict(type="bool", default=True),
        ignore_missing=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("rest_api_id", "stages"), ("stage_name", "stages")],
        required_one_of=[("rest_api_id", "stages")],
        required_together=[("rest_api_id", "stage_name")],
        supports_check_mode=True,
    )
    params = module.params

    rate, concurrency, pacing_problems = request_pacing(params["max_requests_per_second"], params["concurrency"])
    problems = input_problems(params, pacing_problems)
    if problems:
        module.fail_json(msg="; ".join(problems))

    requests = requested_stages(params)
    client, stats = apigateway_client(module, rate, concurrency)
    outcome = converge(client, requests, module.check_mode, concurrency=params["concurrency"])

    partition, region = partition_and_region(client)
    failures = list(outcome.failures)
    if not params["ignore_missing"]:
        failures.extend(missing_failure(missing, region) for missing in outcome.missing)

    result = dict(changed=outcome.changed, stages=outcome.stages, missing=outcome.missing, requests=stats.as_dict())
    single = params["stages"] is None
    if module._diff:
        # One stage: its before/after. Many: one line per stage under the account and region, so that the diff
        # of thousands of stages stays readable.
        if single:
            result["diff"] = outcome.diff[0] if outcome.diff else {}
        else:
            result["diff"] = compact_diff(diff_heading(module, region) if outcome.diff else region, outcome.diff, module.check_mode)
    if single:
        after = outcome.stages_after.get((params["rest_api_id"], params["stage_name"]))
        if after is not None:
            stage = normalize_stage(after, params["rest_api_id"], None, partition, region)
            del stage["rest_api_name"]
            result["stage"] = stage

    if failures:
        module.fail_json(msg=failure_message(failures, len(requests)), failures=failures, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
