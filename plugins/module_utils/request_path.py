# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""The whole request path of a stage: the hops behind the gateway and whether X-Ray follows a request through them.

It owns reading the path (opt-in: apigw_stage_tracing_info's whole_path, the role's tracing_sweep_whole_path) and
nothing else: no policy, no report. For the REST APIs that have stages in scope it reads, with the caller's paced
API Gateway client, each API's resources with their methods (GetResources, embed=methods, 500 a page, every page)
and its authorizers (GetAuthorizers, every page); then, with a Lambda client of its own paced under Lambda's quota
(module_utils/_aws.py, PACES["lambda"]), each distinct function once (GetFunctionConfiguration): its
TracingConfig.Mode and execution role.

A stage's hops, in order: the gateway itself, then one hop per method's integration, then one per Lambda
authorizer its methods use. A hop's ``tracing`` is one of:
  traced          the gateway traces (tracingEnabled), or the function's TracingConfig.Mode is Active
  not_traced      the gateway does not, or the function's mode is PassThrough
  not_applicable  a hop X-Ray cannot join (HTTP, mock, another AWS service, a VPC link: the note says what it sees)
  error           the function cannot be known: a stage variable the stage does not set, a function in another
                  account than the target, or a read that failed (the error code and message)
Integrations of other types are listed, never dropped. ``${stageVariables.NAME}`` in an integration's function is
resolved with each stage's own variables, so two stages of one API may reach different functions.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule, and by the sweep engine's own check

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import client_config
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import error_code
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import error_message
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._aws import pace_service
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import REST_APIS_PAGE_SIZE
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.parallel import ordered_map

# GetResources and GetAuthorizers return 25 items a page unless asked for more; 500 is the most they allow, as for
# GetRestApis.
PAGE_SIZE = REST_APIS_PAGE_SIZE
HOP_KINDS = ("gateway", "integration", "authorizer")
TRACING_STATES = ("traced", "not_traced", "not_applicable", "error")
# arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN or name>/invocations
LAMBDA_URI = re.compile(r"arn:(?P<partition>[^:]+):apigateway:(?P<region>[^:]+):lambda:path/2015-03-31/functions/(?P<function>.+)/invocations")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([^}]+)\}")
# A function's ARN, with or without a qualifier (an alias or a version).
FUNCTION_ARN = re.compile(r"arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]+):(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?")
# What X-Ray sees of a hop it cannot join, by integration type (VPC_LINK: an HTTP integration through a VPC link).
NOT_LAMBDA_NOTES = {
    "HTTP": "an HTTP backend: X-Ray sees the gateway's call to it (a subsegment with the URL and status), not the backend itself "
            "unless the backend is instrumented and reads the X-Amzn-Trace-Id header",
    "HTTP_PROXY": "an HTTP proxy backend: X-Ray sees the gateway's call to it (a subsegment with the URL and status), not the backend "
                  "itself unless the backend is instrumented and reads the X-Amzn-Trace-Id header",
    "MOCK": "a mock integration: API Gateway answers by itself, there is nothing behind the gateway to trace",
    "AWS": "an AWS service integration: X-Ray sees the gateway's call to the service, not what the service does with it",
    "VPC_LINK": "a private backend through a VPC link: X-Ray sees the gateway's call through the link, not the backend itself "
                "unless the backend is instrumented and reads the X-Amzn-Trace-Id header",
    None: "a method without an integration: requests end at the gateway",
}
GATEWAY_NOTES = {
    True: "the stage's X-Ray active tracing is on",
    False: "the stage's X-Ray active tracing is off: no trace starts here",
}
ACTIVE_NOTE = "TracingConfig.Mode is Active"
PASS_THROUGH_NOTE = (
    "TracingConfig.Mode is {mode}: the function joins a trace only with Active tracing "
    "(and an execution role allowed xray:PutTraceSegments)"
)


def lambda_client(client):
    """(client, stats): the Lambda client ``client(service, config)`` makes, paced under Lambda's own quota
    (module_utils/_aws.py PACES) and counted; the caller's API Gateway client keeps its own pace."""
    return pace_service(client("lambda", client_config("lambda")))


class LambdaClients:
    """The Lambda clients of one account, one per region a function is in (an integration may invoke a function of
    another region than its API's): ``make(region, service, config)`` makes each the first time it is needed, paced
    under that region's own Lambda quota (lambda_client) and counted; ``requests()`` adds their counts up. Made from
    several threads at once."""

    def __init__(self, make, region):
        self._make = make
        self._region = region
        self._clients = {}
        self._lock = threading.Lock()

    def for_arn(self, arn):
        """The client of the function's region (the default region for an ARN it cannot read)."""
        found = FUNCTION_ARN.fullmatch(arn or "")
        region = found.group("region") if found else self._region
        with self._lock:
            if region not in self._clients:
                self._clients[region] = lambda_client(lambda service, config: self._make(region, service, config))
            return self._clients[region][0]

    def requests(self):
        """{kind: count} of every client's requests."""
        totals = {}
        for dummy, stats in self._clients.values():
            for kind, count in stats.as_dict().items():
                totals[kind] = totals.get(kind, 0) + count
        return totals


def _read_in_region(lambda_clients, arn):
    """read_function with the client of the function's region (LambdaClients), or the one client given. A client that
    cannot be made is an error of the function's hops, with the cause, never of the whole read."""
    try:
        client = lambda_clients.for_arn(arn) if isinstance(lambda_clients, LambdaClients) else lambda_clients
    except (BotoCoreError, ClientError) as e:
        return {"error": f"the Lambda client of the function's region could not be made: {error_code(e)}: {error_message(e)}"}
    return read_function(client, arn)


def lambda_function(uri):
    """The function part of a Lambda invocation URI (an ARN or a name, perhaps with stage variables), or None."""
    found = LAMBDA_URI.fullmatch(uri or "")
    return None if found is None else (found.group("function"), found.group("partition"), found.group("region"))


def resolve_stage_variables(text, variables):
    """(text with every ${stageVariables.NAME} replaced from ``variables``, names the stage does not set)."""
    missing = []

    def value(match):
        name = match.group(1)
        if name not in (variables or {}):
            missing.append(name)
            return match.group(0)
        return str(variables[name])

    return STAGE_VARIABLE.sub(value, text), missing


def function_arn(function, partition, region, account_id):
    """The function's ARN with its qualifier, from an ARN or a name (``name``, ``name:alias``), in the URI's
    partition and region and the target's account; None when it is neither."""
    if function.startswith("arn:"):
        return function if FUNCTION_ARN.fullmatch(function) else None
    # A partial ARN (account:function:name) or a name with or without its qualifier.
    parts = function.split(":")
    if len(parts) >= 3 and parts[1] == "function" and re.fullmatch(r"\d{12}", parts[0]):
        return f"arn:{partition}:lambda:{region}:{':'.join(parts)}"
    if 1 <= len(parts) <= 2 and all(parts):
        return f"arn:{partition}:lambda:{region}:{account_id}:function:{function}"
    return None


def function_account(arn):
    found = FUNCTION_ARN.fullmatch(arn or "")
    return found.group("account") if found else None


class ApiPath:
    """What one REST API's path is made of: its methods ([(http_method, resource_path, method)]) and its authorizers
    ({id: authorizer}); or the error that kept them from being read."""

    def __init__(self, methods=None, authorizers=None, error=None):
        self.methods = methods or []
        self.authorizers = authorizers or {}
        self.error = error


def read_api_path(apigw, rest_api_id):
    """The ApiPath of one REST API: GetResources (embed=methods) and GetAuthorizers, every page. Never raises for
    what AWS answers: the error is in ApiPath.error."""
    try:
        resources = apigw.get_paginator("get_resources").paginate(
            restApiId=rest_api_id, embed=["methods"], PaginationConfig={"PageSize": PAGE_SIZE}
        ).build_full_result().get("items", [])
        authorizers = apigw.get_paginator("get_authorizers").paginate(
            restApiId=rest_api_id, PaginationConfig={"PageSize": PAGE_SIZE}
        ).build_full_result().get("items", [])
    except (BotoCoreError, ClientError) as e:
        return ApiPath(error=f"Reading the resources and authorizers of REST API {rest_api_id} failed: {error_code(e)}: {error_message(e)}")
    methods = []
    for resource in sorted(resources, key=lambda item: item.get("path") or ""):
        for http_method, method in sorted((resource.get("resourceMethods") or {}).items()):
            methods.append((http_method, resource.get("path"), method or {}))
    return ApiPath(methods, {item["id"]: item for item in authorizers if item.get("id")})


def _hop(kind, tracing, note, http_method=None, resource_path=None, integration_type=None, function_arn_=None, name=None):
    return {
        "kind": kind,
        "http_method": http_method,
        "resource_path": resource_path,
        "integration_type": integration_type,
        "name": name,
        "function_arn": function_arn_,
        "role_arn": None,
        "tracing": tracing,
        "note": note,
    }


def _lambda_hop(kind, uri, stage, account_id, **where):
    """A hop whose target is a Lambda invocation URI: the function resolved for this stage, or an error hop."""
    function, partition, region = lambda_function(uri)
    resolved, missing = resolve_stage_variables(function, stage.get("variables"))
    if missing:
        note = "stage variable%s %s not set on stage %s, so the function of %s cannot be known" % (
            "" if len(missing) == 1 else "s", ", ".join(missing), stage["stage_name"], uri)
        return _hop(kind, "error", note, **where)
    arn = function_arn(resolved, partition, region, account_id)
    if arn is None:
        return _hop(kind, "error", f"{resolved!r} is not a Lambda function name or ARN (from {uri})", **where)
    return _hop(kind, "pending", None, function_arn_=arn, **where)


def _integration_hop(http_method, path, method, stage, account_id):
    integration = method.get("methodIntegration") or {}
    kind = integration.get("type")
    where = {"http_method": http_method, "resource_path": path, "integration_type": kind}
    if kind in ("AWS", "AWS_PROXY") and lambda_function(integration.get("uri")) is not None:
        return _lambda_hop("integration", integration["uri"], stage, account_id, **where)
    if integration.get("connectionType") == "VPC_LINK":
        note = NOT_LAMBDA_NOTES["VPC_LINK"]
    elif kind in ("AWS", "AWS_PROXY"):
        note = NOT_LAMBDA_NOTES["AWS"] + (f" ({integration['uri']})" if integration.get("uri") else "")
    else:
        note = NOT_LAMBDA_NOTES.get(kind) or f"a {kind} integration: X-Ray does not follow requests into it"
    return _hop("integration", "not_applicable", note, **where)


def _authorizer_hops(api_path, stage, account_id):
    used = []
    for dummy, dummy2, method in api_path.methods:
        authorizer_id = method.get("authorizerId")
        if authorizer_id and authorizer_id not in used:
            used.append(authorizer_id)
    hops = []
    for authorizer_id in used:
        authorizer = api_path.authorizers.get(authorizer_id)
        if authorizer is None:
            # Never dropped: a method names an authorizer GetAuthorizers did not list (deleted while it was read?).
            hops.append(_hop("authorizer", "error", f"authorizer {authorizer_id} of a method is not among the REST API's authorizers, so its "
                             "function cannot be known", name=authorizer_id))
            continue
        where = {"name": authorizer.get("name") or authorizer_id, "integration_type": authorizer.get("type")}
        if authorizer.get("type") in ("TOKEN", "REQUEST") and lambda_function(authorizer.get("authorizerUri")) is not None:
            hops.append(_lambda_hop("authorizer", authorizer["authorizerUri"], stage, account_id, **where))
        elif authorizer.get("type") == "COGNITO_USER_POOLS":
            hops.append(_hop("authorizer", "not_applicable", "a Cognito user pool authorizer: API Gateway checks the token itself, no hop to trace", **where))
        else:
            hops.append(_hop("authorizer", "error", "a %s authorizer whose URI is not a Lambda invocation URI (%s), so its function cannot be known" % (
                authorizer.get("type"), authorizer.get("authorizerUri")), **where))
    return hops


def stage_hops(api_path, stage, account_id):
    """The hops of one stage (normalized, with its ``variables`` and ``tracing_enabled``), Lambda hops still
    ``pending`` (PathReader.finish then fills them in)."""
    traced = bool(stage.get("tracing_enabled"))
    hops = [_hop("gateway", "traced" if traced else "not_traced", GATEWAY_NOTES[traced])]
    if api_path.error:
        return hops + [_hop("integration", "error", api_path.error)]
    hops.extend(_integration_hop(http_method, path, method, stage, account_id) for http_method, path, method in api_path.methods)
    hops.extend(_authorizer_hops(api_path, stage, account_id))
    return hops


def read_function(lambda_client, arn):
    """{"mode", "role_arn"} or {"error"} of one function: one GetFunctionConfiguration. For a published version
    (``arn`` qualified by a number), also "aliases": the names of the aliases that serve it (aliases_serving), or
    None when they could not be listed."""
    try:
        answer = lambda_client.get_function_configuration(FunctionName=arn)
    except (BotoCoreError, ClientError) as e:
        return {"error": f"GetFunctionConfiguration failed: {error_code(e)}: {error_message(e)}"}
    found = {"mode": (answer.get("TracingConfig") or {}).get("Mode") or "PassThrough", "role_arn": answer.get("Role")}
    unqualified, dummy, qualifier = arn.rpartition(":")
    if FUNCTION_ARN.fullmatch(arn) and qualifier.isdigit():
        found["aliases"] = aliases_serving(lambda_client, unqualified, qualifier)
    return found


def aliases_serving(lambda_client, unqualified_arn, version):
    """The names of the function's aliases that send requests to published ``version`` (as their version, or with a
    weight in their routing), sorted: ListAliases with FunctionVersion, every page, paced as the function reads are.
    None when they cannot be listed (the hop's note then says so); the read of the function itself stands."""
    try:
        pages = lambda_client.get_paginator("list_aliases").paginate(FunctionName=unqualified_arn, FunctionVersion=version)
        aliases = [alias for page in pages for alias in page.get("Aliases") or []]
    except (BotoCoreError, ClientError):
        return None

    def serves(alias):
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return alias.get("FunctionVersion") == version or version in weights

    return sorted(alias["Name"] for alias in aliases if alias.get("Name") and serves(alias))


def _finished(hop, functions, account_id):
    if hop["tracing"] != "pending":
        return hop
    arn = hop["function_arn"]
    owner = function_account(arn)
    if owner != account_id:
        return dict(hop, tracing="error", note=(
            f"the function is in account {owner}, not in the target's account {account_id}: its tracing cannot be read with the "
            "target's credentials; audit that account too"))
    found = functions[arn]
    if "error" in found:
        return dict(hop, tracing="error", note=found["error"])
    served = {"aliases": found["aliases"]} if found.get("aliases") is not None else {}
    if found["mode"] == "Active":
        return dict(hop, tracing="traced", note=ACTIVE_NOTE, role_arn=found["role_arn"], **served)
    note = PASS_THROUGH_NOTE.format(mode=found["mode"])
    if "aliases" in found:
        # A published version: its configuration is frozen; say which aliases serve it, or that they are not known.
        note += "; " + version_note(hop["function_arn"], found["aliases"])
    return dict(hop, tracing="not_traced", note=note, role_arn=found["role_arn"], **served)


def version_note(arn, aliases):
    """What a hop on published version ``arn`` says of it: frozen, and which aliases serve it (None: not known)."""
    version = arn.rpartition(":")[2]
    frozen = f"version {version} is a published version, whose configuration cannot change"
    if aliases is None:
        return f"{frozen} (its aliases could not be listed)"
    if not aliases:
        return f"{frozen}, and no alias serves it: the integration names the version itself"
    return f"{frozen}, served by alias{'es' if len(aliases) > 1 else ''} {', '.join(aliases)}"


class PathReader:
    """Reads the whole paths of REST APIs one API at a time, as its stages are found: ``read(stages)`` with one API's
    stages (normalized: rest_api_id, stage_name, variables), from any thread (module_utils/discovery.py
    describe_stages calls it on its reading threads, right after the API's GetStages), then ``finish(stages)`` once,
    with every stage, for {(rest_api_id, stage_name): hops}. Use it as a context manager: leaving it stops the reads
    still queued.

    With concurrency above 1, a function is read (on threads of its own, paced under Lambda's quota) as soon as the
    first API behind it has been read, so that Lambda's slower pace overlaps the API Gateway reads instead of
    following them. With 1, the functions are read in finish(), in ARN order, after the APIs."""

    def __init__(self, apigw, lambda_clients, account_id, concurrency=1):
        self._apigw = apigw
        # A Lambda client, or the LambdaClients of the account (each function read in its own region).
        self._lambda = lambda_clients
        self._account_id = account_id
        self._pool = ThreadPoolExecutor(max_workers=concurrency) if concurrency > 1 else None
        self._lock = threading.Lock()
        self._hops = {}
        self._functions = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._pool is not None:
            for future in self._functions.values():
                future.cancel()
            self._pool.shutdown(wait=True)

    def read(self, stages):
        """Read the path of the one REST API of ``stages`` (nothing without stages) and start reading its functions."""
        if not stages:
            return
        api_path = read_api_path(self._apigw, stages[0]["rest_api_id"])
        found = {(stage["rest_api_id"], stage["stage_name"]): stage_hops(api_path, stage, self._account_id) for stage in stages}
        arns = [
            hop["function_arn"] for stage_path in found.values() for hop in stage_path
            if hop["tracing"] == "pending" and function_account(hop["function_arn"]) == self._account_id
        ]
        with self._lock:
            self._hops.update(found)
            for arn in arns:
                if arn not in self._functions:
                    self._functions[arn] = self._pool.submit(_read_in_region, self._lambda, arn) if self._pool is not None else None

    def finish(self, stages):
        """{(rest_api_id, stage_name): hops} of ``stages``, each API's path read (by read() or now) and every function
        known."""
        by_api = {}
        for stage in stages:
            if (stage["rest_api_id"], stage["stage_name"]) not in self._hops:
                by_api.setdefault(stage["rest_api_id"], []).append(stage)
        for api_stages in by_api.values():
            self.read(api_stages)
        if self._pool is None:
            read = {arn: _read_in_region(self._lambda, arn) for arn in sorted(self._functions)}
        else:
            read = {arn: future.result() for arn, future in self._functions.items()}
        return {
            (stage["rest_api_id"], stage["stage_name"]): [
                _finished(hop, read, self._account_id) for hop in self._hops[(stage["rest_api_id"], stage["stage_name"])]
            ]
            for stage in stages
        }


def whole_paths(apigw, lambda_client, stages, account_id, concurrency=1):
    """{(rest_api_id, stage_name): hops} for the stages (normalized: rest_api_id, stage_name, variables,
    tracing_enabled), read after them. Each API with stages is read once, each distinct function of the target's
    account once (PathReader)."""
    by_api = {}
    for stage in stages:
        by_api.setdefault(stage["rest_api_id"], []).append(stage)
    with PathReader(apigw, lambda_client, account_id, concurrency) as reader:
        ordered_map(reader.read, list(by_api.values()), concurrency)
        return reader.finish(stages)


def whole_path_traced(hops):
    """Whether a request is traced from end to end: the gateway and every Lambda hop (any hop with a function, or
    an error hop) trace, and no traced function's execution role is known to be unable to write to X-Ray."""
    return all(hop["tracing"] in ("traced", "not_applicable") and hop.get("role_xray") != ROLE_CANNOT_WRITE for hop in hops or [])


# A function being updated (or just created) answers ResourceConflictException to another update until it is done:
# retried this many times, waiting CONFLICT_WAIT_SECONDS, doubled each time.
CONFLICT_RETRIES = 5
CONFLICT_WAIT_SECONDS = 0.5


def set_tracing_mode(lambda_client, function_arn_, mode="Active", sleep=time.sleep):
    """Set a function's TracingConfig.Mode ($LATEST: ``function_arn_`` without a qualifier) and check the answer:
    Active for tracing_sweep_lambda_tracing, the mode before for the rollback. A function being updated
    (ResourceConflictException) is tried again, CONFLICT_RETRIES times, with a doubling wait. Returns
    {"mode_after": the mode the answer says or None, "changed": whether it is ``mode`` now, "error": None or the cause};
    never raises for what AWS answers."""
    wait = CONFLICT_WAIT_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            answer = lambda_client.update_function_configuration(FunctionName=function_arn_, TracingConfig={"Mode": mode})
            break
        except (BotoCoreError, ClientError) as e:
            conflict = error_code(e) == "ResourceConflictException"
            if conflict and attempt <= CONFLICT_RETRIES:
                sleep(wait)
                wait *= 2
                continue
            tries = f" after {attempt} attempts (the function was still being updated)" if conflict else ""
            return {"mode_after": None, "changed": False, "error": f"UpdateFunctionConfiguration failed{tries}: {error_code(e)}: {error_message(e)}"}
    after = (answer.get("TracingConfig") or {}).get("Mode") or "PassThrough"
    if after != mode:
        return {"mode_after": after, "changed": False, "error": f"UpdateFunctionConfiguration answered TracingConfig.Mode {after}, not {mode}"}
    return {"mode_after": after, "changed": True, "error": None}


# ---- whether a function's execution role may write to X-Ray ----------------------------------------------------

# What a function needs of its execution role to send its trace segments (the AWSXRayDaemonWriteAccess managed policy
# allows both, and a little more of X-Ray's sampling calls).
XRAY_WRITE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
ROLE_CAN_WRITE = "can_write"
ROLE_CANNOT_WRITE = "cannot_write"
ROLE_UNKNOWN = "unknown"
ROLE_CANNOT_WRITE_NOTE = (
    "its execution role {role} may not write to X-Ray ({actions} not allowed), so the function sends no trace even with Active "
    "tracing: attach the AWS managed policy AWSXRayDaemonWriteAccess to that role (this collection never attaches policies)"
)
ROLE_UNKNOWN_NOTE = "could not check the role's X-Ray permission: {cause}"


def iam_client(client):
    """(client, stats): the IAM client ``client(service, config)`` makes, paced (module_utils/_aws.py PACES["iam"]) and
    counted."""
    return pace_service(client("iam", client_config("iam")))


def check_role(iam, role_arn):
    """{"state": can_write | cannot_write | unknown, "note": None or what to say}: one SimulatePrincipalPolicy of the
    role for XRAY_WRITE_ACTIONS. Never raises for what AWS answers: a refused or failed simulation is ``unknown``
    with its cause."""
    try:
        answer = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=list(XRAY_WRITE_ACTIONS))
    except (BotoCoreError, ClientError) as e:
        cause = f"iam:SimulatePrincipalPolicy of {role_arn} failed: {error_code(e)}: {error_message(e)}"
        return {"state": ROLE_UNKNOWN, "note": ROLE_UNKNOWN_NOTE.format(cause=cause)}
    decisions = {item.get("EvalActionName"): item.get("EvalDecision") for item in answer.get("EvaluationResults") or []}
    missing = [action for action in XRAY_WRITE_ACTIONS if decisions.get(action) != "allowed"]
    if not missing:
        return {"state": ROLE_CAN_WRITE, "note": None}
    return {"state": ROLE_CANNOT_WRITE, "note": ROLE_CANNOT_WRITE_NOTE.format(role=role_arn, actions=" and ".join(missing))}


def check_roles(iam, role_arns):
    """{role ARN: check_role's answer}: one SimulatePrincipalPolicy per distinct role, in ARN order."""
    return {role_arn: check_role(iam, role_arn) for role_arn in sorted(set(role_arns))}


def functions_to_check(hops, planned_functions=()):
    """{function ARN: its execution role} of the functions whose role is worth checking: those that trace (Active) or
    that the run sets (or would set) to Active (``planned_functions``: plan_functions' entries with decision change).
    A PassThrough function left as it is sends nothing whatever its role may do. ``hops``: {stage key: hops}."""
    planned = {entry["function_arn"] for entry in planned_functions if entry.get("decision") == "change"}
    return {
        hop["function_arn"]: hop["role_arn"] for stage_path in hops.values() for hop in stage_path or []
        if hop.get("role_arn") and hop.get("function_arn") and (hop["tracing"] == "traced" or hop["function_arn"] in planned)
    }


def with_role_checks(hops, roles, functions):
    """``hops`` ({stage key: hops}) with each hop of ``functions`` (functions_to_check) given ``role_xray``, its role's
    state (``roles``: check_roles' answer) and, when the role cannot write or could not be checked, the note saying
    so and the fix."""
    out = {}
    for key, stage_path in hops.items():
        marked = []
        for hop in stage_path or []:
            found = roles.get(functions.get(hop.get("function_arn")))
            if found is None:
                marked.append(hop)
                continue
            note = hop.get("note")
            if found["note"]:
                note = f"{note}; {found['note']}" if note else found["note"]
            marked.append(dict(hop, role_xray=found["state"], note=note))
        out[key] = marked
    return out


def hop_breaks_trace(hop):
    """Whether a hop behind the gateway breaks the trace: a Lambda hop that does not trace or cannot be known, or one
    that traces but whose execution role may not write to X-Ray (it sends nothing)."""
    return hop["kind"] != "gateway" and (hop["tracing"] in ("not_traced", "error") or hop.get("role_xray") == ROLE_CANNOT_WRITE)
