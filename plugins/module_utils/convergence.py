# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""Bringing many stages to their desired tracing state in one module run.

Reads come first and cost at most one call per API: GetStage when one stage of the API is asked for,
GetStages when several are. UpdateStage is called only for stages whose flag differs, and its answer is
checked. A failure on one API or stage is recorded and the others still converge, so the caller can
report every failure with its cause together with everything that did change.

APIs are converged on a few threads at once; within an API, the read comes before its updates.
In check mode, a stage whose state the caller observed moments ago (observed_tracing_enabled, from
apigw_stage_tracing_info in the same play) is not read again: nothing will be written, so there is no
write to guard, and an audit then costs no calls beyond the read that found the stages. Outside check
mode the read happens, because it guards the write and makes `changed` honest, unless the caller made that read
itself moments before in the same step (trust_observed: the sweep's remediation of named stages).
"""

from __future__ import annotations

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import error_code
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import NOT_FOUND
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import set_tracing
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import describe_read_error
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import describe_update_error
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.parallel import ordered_map
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import api_arn
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import stage_arn
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import tracing_enabled


def _group_by_api(requests):
    groups = {}
    for request in requests:
        groups.setdefault(request["rest_api_id"], []).append(request)
    return groups


def _read_api_stages(client, rest_api_id, stage_names):
    """Current stages of one API by name; a name is absent when that stage (or the API) does not exist."""
    if len(stage_names) == 1:
        stage = get_stage(client, rest_api_id, stage_names[0])
        return {stage_names[0]: stage} if stage else {}
    return {stage["stageName"]: stage for stage in get_stages(client, rest_api_id) or []}


def _diff(label, before, after):
    return {
        "before_header": label,
        "after_header": label,
        "before": {"tracing_enabled": before},
        "after": {"tracing_enabled": after},
    }


def _yaml_bool(value):
    return "true" if value else "false"


def compact_diff(heading, diffs, check_mode):
    """One diff for many stages, one line each: '<api id>/<stage>: false -> true' under a heading line.

    ``diffs`` are the per-stage entries of Convergence.diff (or dicts with the same keys). A diff of
    thousands of stages stays readable: a person scans lines, not a before/after document per stage.
    Returns {} when nothing changed, so that callbacks show nothing.
    """
    if not diffs:
        return {}
    count = len(diffs)
    verb = "would change" if check_mode else "changed"
    lines = ["%s: X-Ray tracing of %d stage%s %s" % (heading, count, "" if count == 1 else "s", verb)]
    for entry in diffs:
        lines.append(
            "  %s: tracing_enabled %s -> %s"
            % (entry["before_header"], _yaml_bool(entry["before"]["tracing_enabled"]), _yaml_bool(entry["after"]["tracing_enabled"]))
        )
    return {"prepared": "\n".join(lines) + "\n"}


def _identity(request, partition, region):
    return {
        "rest_api_id": request["rest_api_id"],
        "stage_name": request["stage_name"],
        "arn": stage_arn(partition, region, request["rest_api_id"], request["stage_name"]),
    }


class Convergence:
    """Outcome of converging a list of {rest_api_id, stage_name, tracing_enabled} requests."""

    def __init__(self):
        self.stages = []  # one entry per stage found and converged (or that would be, in check mode)
        self.missing = []  # stages that do not exist
        self.failures = []  # stages whose read, update or verification failed, with the cause
        self.diff = []  # before/after of every stage that changed (or would change)
        self.stages_after = {}  # (rest_api_id, stage_name) -> raw stage after convergence

    @property
    def changed(self):
        return any(stage["changed"] for stage in self.stages)


def _observed_stages(api_requests):
    """Stand-ins for the stages of an API as the caller observed them; None when any was not observed."""
    if any(request.get("observed_tracing_enabled") is None for request in api_requests):
        return None
    return {request["stage_name"]: {"stageName": request["stage_name"], "tracingEnabled": request["observed_tracing_enabled"]} for request in api_requests}


def _converge_api(client, rest_api_id, api_requests, check_mode, partition, region, trust_observed=False):
    outcome = Convergence()
    current = _observed_stages(api_requests) if check_mode or trust_observed else None
    if current is None:
        try:
            current = _read_api_stages(client, rest_api_id, [request["stage_name"] for request in api_requests])
        except (BotoCoreError, ClientError) as e:
            # One stage is read with GetStage (authorised on its ARN), several with GetStages (on .../stages).
            resource = (
                stage_arn(partition, region, rest_api_id, api_requests[0]["stage_name"])
                if len(api_requests) == 1
                else api_arn(partition, region, rest_api_id, "/stages")
            )
            code, message = describe_read_error(e, f"the stages of REST API {rest_api_id}", resource)
            for request in api_requests:
                outcome.failures.append(dict(_identity(request, partition, region), error_code=code, message=message))
            return outcome

    for request in api_requests:
        _converge_stage(client, request, current.get(request["stage_name"]), check_mode, outcome, partition, region)
    return outcome


def converge(client, requests, check_mode, concurrency=1, trust_observed=False):
    """Converge every requested stage; never raises for AWS errors, records them in the outcome.

    A request is {rest_api_id, stage_name, tracing_enabled} and may carry observed_tracing_enabled.
    trust_observed: the caller read the stages moments ago, in the same step (a remediation of named stages): that
    read guards the write, which is not preceded by another (UpdateStage's answer is still checked).
    """
    partition, region = partition_and_region(client)
    groups = list(_group_by_api(requests).items())
    outcome = Convergence()

    def one_api(group):
        return _converge_api(client, group[0], group[1], check_mode, partition, region, trust_observed=trust_observed)

    for part in ordered_map(one_api, groups, concurrency):
        outcome.stages.extend(part.stages)
        outcome.missing.extend(part.missing)
        outcome.failures.extend(part.failures)
        outcome.diff.extend(part.diff)
        outcome.stages_after.update(part.stages_after)
    return outcome


def _converge_stage(client, request, stage, check_mode, outcome, partition, region):
    identity = _identity(request, partition, region)
    if stage is None:
        outcome.missing.append(identity)
        return

    label = f"{request['rest_api_id']}/{request['stage_name']}"
    desired = request["tracing_enabled"]
    before = tracing_enabled(stage)
    after_stage = stage

    if before != desired:
        if check_mode:
            after_stage = dict(stage, tracingEnabled=desired)
        else:
            try:
                after_stage = set_tracing(client, request["rest_api_id"], request["stage_name"], desired)
            except (BotoCoreError, ClientError) as e:
                if error_code(e) == NOT_FOUND:
                    # Deleted between the read and the write: the stage no longer exists, which is no error.
                    outcome.missing.append(identity)
                    return
                code, message = describe_update_error(e, label, identity["arn"], desired)
                outcome.failures.append(dict(identity, error_code=code, message=message))
                return
            if tracing_enabled(after_stage) != desired:
                outcome.failures.append(
                    dict(
                        identity,
                        error_code="VerificationFailed",
                        message=f"UpdateStage for {label} answered tracingEnabled={tracing_enabled(after_stage)}, not the requested {desired}",
                    )
                )
                return
        outcome.diff.append(_diff(label, before, desired))

    outcome.stages.append(dict(identity, tracing_enabled_before=before, tracing_enabled=desired, changed=before != desired))
    outcome.stages_after[(request["rest_api_id"], request["stage_name"])] = after_stage
