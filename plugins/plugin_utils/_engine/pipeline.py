# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The tracing sweep's pipeline for one target (account x region), run in the controller's process.

The tracing_sweep role calls it through the private action cloudops.apigw_tracing._sweep, one step per task:

  plan      check the target's variables, reach its account (assume its role, or check that the controller's
            own credentials are in it), read every REST API stage, decide each stage's desired state
  guard     once for the run: find targets that repeat another's account and region, and apply
            tracing_sweep_max_changes to the planned changes of the whole run
  converge  make the planned changes (enforce) or say what they would be (audit), and record the target
  restore   the rollback: put a target's changed stages back to their state before an enforcement

Reading, pacing, retrying and converging are the modules' own code (module_utils), so the engine and the
modules behave the same; the clients, reaching an account and the causes of errors are module_utils/_aws.py's. No
step raises for what AWS answers: each returns what it did, and the error of a target names its real cause (the
connection error, the AWS error code and message).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import ACCOUNT_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import REGION_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import matches
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import partition_regions
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import apigateway_config
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import paced_client
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import compact_diff
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import converge
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.discovery import describe_named_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.discovery import describe_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import describe_read_error
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import request_path
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import api_arn
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import target_rows
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import with_hops
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_functions
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import selects_by_api_name
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.safe_text import safe_text
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_account_id
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_problems

NO_BOTOCORE = "the controller's Python has no botocore: install the collection's requirements (pip install -r requirements.txt)"
# What the sweep says when it cannot reach a target's account (module_utils/_aws.py's reach_account steps).
REACH_WORDS = {
    aws.MAKE_CLIENT: "Could not use the controller's AWS credentials in {region}: {cause}",
    aws.ASSUME_ROLE: "Could not assume role {role_arn} in {region} (sts:AssumeRole{external}): {cause}",
    aws.CALLER_IDENTITY: "Could not ask STS which account the controller's credentials belong to (sts:GetCallerIdentity in {region}): {cause}",
    aws.OTHER_ACCOUNT: (
        "tracing_sweep_account_id is {account_id}, but the controller's credentials belong to account {found}; "
        "set tracing_sweep_role_arn to reach {account_id}, or correct the inventory"
    ),
}

if aws.HAS_BOTOCORE:
    try:
        # Made when the _sweep action's code is imported, before ansible-core forks its workers (see shared_session).
        aws.shared_session()
        # The regions botocore knows (its endpoints data, 1 MB of JSON), read once here rather than in every worker.
        partition_regions()
    except Exception:  # pylint: disable=broad-exception-caught
        pass  # a damaged botocore install: the first step that needs AWS reports it


class TargetError(Exception):
    """The target cannot be swept; the message says why, with the cause AWS or the connection gave."""


@dataclass
class Connection:
    """How the controller reaches AWS for one target."""

    region: str
    endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    role_session_name: str = "cloudops-tracing-sweep"
    max_requests_per_second: float = 9.5
    concurrency: int = 4


def connection_of(settings, target):
    """The Connection of a target's steps, from the role's settings and the target's region."""
    return Connection(
        region=str((target or {}).get("region") or ""),
        endpoint_url=settings.get("endpoint_url") or None,
        # Empty: the endpoint of every other call (the role's default; a template there would cost every target's
        # worker a Jinja compilation).
        sts_endpoint_url=settings.get("sts_endpoint_url") or settings.get("endpoint_url") or None,
        role_session_name=settings.get("role_session_name") or "cloudops-tracing-sweep",
        max_requests_per_second=settings.get("max_requests_per_second") or 9.5,
        concurrency=settings.get("concurrency") or 4,
    )


def reach_account(target, connection):
    """Reach the target's account: assume its role, or check that the controller's own credentials are in it.

    target: validated host vars {region, account_id, role_arn, external_id}. Returns an aws.Reach; raises TargetError.
    """
    if not aws.HAS_BOTOCORE:
        raise TargetError(NO_BOTOCORE)
    region = connection.region
    role_arn = target.get("role_arn") or None
    named = target.get("account_id") or None

    def sts_client(service, where):
        return aws.client(service, where, connection.sts_endpoint_url, aws.client_config(service))

    try:
        return aws.reach_account(sts_client, region, role_arn, target.get("external_id"), connection.role_session_name, named)
    except aws.ReachError as error:
        raise TargetError(error.words(REACH_WORDS, region=region, role_arn=role_arn, account_id=named, external_id=target.get("external_id"))) from None


def apigateway(reach, connection):
    """(client, stats): the account's API Gateway client, paced and retried as the modules' are."""
    raw = aws.client("apigateway", connection.region, connection.endpoint_url, apigateway_config(connection.concurrency), reach.credentials)
    return paced_client(raw, connection.max_requests_per_second)


INVALID_TARGET = "Invalid target variables, nothing was done on this target: "


def identity_of(host, target):
    """What the report says about a target, whatever happens to it: only well-formed ids and regions are kept
    (the error of a target that failed on its variables names the bad value)."""
    account_id = target_account_id(target)
    region = target.get("region")
    name = target.get("account_name")
    return {
        "host": str(host),
        "account_id": account_id if matches(ACCOUNT_ID_PATTERN, account_id) else None,
        "account_name": name if isinstance(name, str) and name.strip() else None,
        "region": region if matches(REGION_PATTERN, region) else None,
        "caller_arn": None,
    }


def clean_target(target):
    """The target's variables without the unset ones (null or empty: the role's defaults are empty strings)."""
    return {key: value for key, value in (target or {}).items() if value not in (None, "")}


def _add_requests(total, stats):
    for key, value in stats.items():
        total[key] = total.get(key, 0) + value
    return total


def request_totals(records, key="requests"):
    """The API Gateway requests of several targets' records, added up by kind (what each record's ``requests`` says);
    with key="lambda_requests" or "iam_requests", their Lambda or IAM requests (tracing_sweep_whole_path)."""
    totals = dict.fromkeys(aws.RequestStats.FIELDS, 0)
    for record in records:
        for field in aws.RequestStats.FIELDS:
            value = ((record or {}).get(key) or {}).get(field, 0)
            totals[field] += value if isinstance(value, int) and not isinstance(value, bool) else 0
    return totals


PROGRESS_AFTER_SECONDS = 10.0


class ReadProgress:
    """Says how the read of a long target goes: once it has taken PROGRESS_AFTER_SECONDS, a line every
    PROGRESS_AFTER_SECONDS with the APIs read and the time left at the pace, e.g.
    'prod_eu-west-1: 400/1000 REST APIs read, about 63 s left at 9.5 requests/s'."""

    def __init__(self, host, rate, say, clock=time.monotonic):
        self.host = host
        self.rate = rate
        self.say = say
        self.clock = clock
        self.started = clock()
        self.next_line = self.started + PROGRESS_AFTER_SECONDS
        self._lock = threading.Lock()

    def __call__(self, done, total):
        now = self.clock()
        with self._lock:
            # APIs are read on several threads: one line per period, whichever thread comes first.
            if now < self.next_line or done >= total:
                return
            self.next_line = now + PROGRESS_AFTER_SECONDS
        left = (total - done) / self.rate if self.rate else 0
        self.say("%s: %d/%d REST APIs read, about %d s left at %s requests/s" % (self.host, done, total, round(left), self.rate))


def finished_line(record, seconds, check_mode):
    """The line a finished target prints: its stages, changes, errors and time."""
    rows = record.get("rows") or []
    actions = [row["action"] for row in rows]
    where = f"{record['host']}"
    if record["status"] != "ok":
        return f"{where}: failed after {seconds:.1f} s: {record['error']}"
    changes = actions.count("would_enable") + actions.count("would_disable") if check_mode else actions.count("enabled") + actions.count("disabled")
    return "%s: %d stage%s, %d %s, %d error%s, %.1f s" % (
        where, len(rows), "" if len(rows) == 1 else "s", changes, "would change" if check_mode else "changed",
        actions.count("error"), "" if actions.count("error") == 1 else "s", seconds,
    )


def sweep_target(host, target, settings, connection, say=None):
    """Check, reach, read and decide one target. Returns {"target": record, "plan": plan or None, "claim": ...}.

    The record has status error and the cause when the target cannot be swept; the plan is then None.
    A target swept has "reach" too, the account reached (its credentials inside): for more calls in the same
    step only, never to be part of a task result.
    say: None, or a callable(line) for progress lines of a long read.
    """
    started = time.monotonic()
    target = clean_target(target)
    problems = target_problems(target)
    identity = identity_of(host, target)
    requests = dict.fromkeys(aws.RequestStats.FIELDS, 0)
    if problems:
        return _failed_plan(identity, INVALID_TARGET + "; ".join(problems), requests, started)
    try:
        reach = reach_account(target, connection)
    except TargetError as error:
        return _failed_plan(identity, str(error), requests, started)
    identity = dict(identity, account_id=reach.account_id, caller_arn=reach.caller_arn)
    stats = None
    # tracing_sweep_whole_path: the Lambda requests of the read, counted apart from API Gateway's (their own quota).
    lambda_requests = dict.fromkeys(aws.RequestStats.FIELDS, 0) if settings.get("whole_path") else None
    try:
        apigw, stats = apigateway(reach, connection)
        # tracing_sweep_whole_path: each stage's hops, read API by API as its stages are found; off, not one call more.
        with whole_path_reader(apigw, reach, connection, lambda_requests) as paths:
            if settings.get("stages"):
                # A run of named stages (a remediation): one GetStage each, never a region-wide read.
                found = describe_named_stages(apigw, settings["stages"], with_api_names=selects_by_api_name(settings), concurrency=connection.concurrency)
            else:
                progress = ReadProgress(host, connection.max_requests_per_second, say) if say is not None else None
                found = describe_stages(apigw, concurrency=connection.concurrency, progress=progress, each_api=paths.read if paths else None)
            hops = None
            if paths is not None:
                hops = {f"{rest_api_id}/{stage_name}": stage_hops for (rest_api_id, stage_name), stage_hops in paths.finish(found.stages).items()}
    except aws.AWS_ERRORS as error:
        if stats is not None:
            _add_requests(requests, stats.as_dict())
        partition = (parse_aws_arn(reach.caller_arn) or {}).get("partition") or "aws"
        dummy, message = describe_read_error(error, f"the REST APIs of {connection.region}", api_arn(partition, connection.region))
        if isinstance(error, aws.SDK_ERRORS):
            message = f"Reading the REST APIs of {connection.region} failed: {aws.describe_cause(error)}"
        return _failed_plan(identity, message, requests, started)
    _add_requests(requests, stats.as_dict())
    plan = plan_target(
        found.stages,
        {"account_id": reach.account_id, "region": connection.region},
        desired=settings["desired"],
        rules=settings.get("rules") or [],
        exemptions=settings.get("exemptions") or [],
        exempt_tag=settings.get("exempt_tag") or None,
        read_failures=found.failures,
        missing=found.missing,
    )
    planned_changes = len(plan["changes"])
    # tracing_sweep_whole_path: the IAM requests of the execution roles' check, counted apart (IAM's own quota).
    iam_requests = dict.fromkeys(aws.RequestStats.FIELDS, 0)
    if hops is not None:
        plan["hops"] = hops
        if settings.get("lambda_tracing") == "active":
            # tracing_sweep_lambda_tracing: each function to set to Active is one change for the guard.
            plan["functions"] = plan_functions(plan["stages"], hops, exemptions=settings.get("exemptions") or [], rules=settings.get("rules") or [])
            planned_changes += len(function_changes(plan))
        # Whether the execution roles of the functions that trace, or that this run sets to Active, may write to X-Ray.
        plan["hops"] = check_execution_roles(plan, reach, connection, iam_requests=iam_requests)
    record = dict(identity, status="ok", error=None, planned_changes=planned_changes, exemptions=plan["exemptions"], rows=None)
    if lambda_requests is not None:
        record["lambda_requests"] = lambda_requests
        record["iam_requests"] = iam_requests
    return {
        "target": record,
        "plan": plan,
        "apis": found.apis,
        "requests": requests,
        "seconds": round(time.monotonic() - started, 3),
        "claim": _claim(record),
        "reach": reach,
    }


@contextlib.contextmanager
def whole_path_reader(apigw, reach, connection, lambda_requests=None):
    """A request_path.PathReader of the target (None when ``lambda_requests`` is None: tracing_sweep_whole_path is
    off): API Gateway's reads on the target's paced client, Lambda's on a client of their own, paced under Lambda's
    quota and counted in ``lambda_requests`` (by kind, as the target's API Gateway requests are) when it closes."""
    if lambda_requests is None:
        yield None
        return
    lambda_clients = lambda_clients_of(reach, connection)
    try:
        with request_path.PathReader(apigw, lambda_clients, reach.account_id, concurrency=connection.concurrency) as reader:
            yield reader
    finally:
        _add_requests(lambda_requests, lambda_clients.requests())


def lambda_clients_of(reach, connection):
    """The account's Lambda clients (request_path.LambdaClients): each function's region, the account's credentials."""
    return request_path.LambdaClients(
        lambda region, service, config: aws.client(service, region, connection.endpoint_url, config, reach.credentials), connection.region)


def check_execution_roles(plan, reach, connection, make_client=None, iam_requests=None):
    """The plan's hops with each checked role's answer (module_utils/request_path.py with_role_checks): one
    iam:SimulatePrincipalPolicy per distinct execution role of the functions that trace (Active) or that
    tracing_sweep_lambda_tracing sets to Active, counted in ``iam_requests`` (by kind). A planned function's reason
    says it too when its role cannot write. Never raises: a refused or failed check is said on the hop as such."""
    functions = request_path.functions_to_check(plan["hops"], plan.get("functions") or [])
    roles = sorted(set(functions.values()))
    if not roles:
        return plan["hops"]
    stats = None
    try:
        if make_client is None:
            iam, stats = request_path.iam_client(
                lambda service, config: aws.client(service, connection.region, connection.endpoint_url, config, reach.credentials))
        else:
            iam = make_client()
        checked = request_path.check_roles(iam, roles)
    except aws.SDK_ERRORS as error:
        cause = request_path.ROLE_UNKNOWN_NOTE.format(cause=f"the IAM client could not be made: {aws.describe_cause(error)}")
        checked = {role: {"state": request_path.ROLE_UNKNOWN, "note": cause} for role in roles}
    if stats is not None and iam_requests is not None:
        _add_requests(iam_requests, stats.as_dict())
    hops = request_path.with_role_checks(plan["hops"], checked, functions)
    for entry in plan.get("functions") or []:
        found = checked.get(functions.get(entry["function_arn"])) if entry["decision"] == "change" else None
        if found is not None and found["note"]:
            entry["reason"] = f"{entry['reason']}; {found['note']}"
    return hops


def function_changes(plan):
    """The functions of a plan whose tracing an enforcement sets to Active (tracing_sweep_lambda_tracing)."""
    return [entry for entry in (plan or {}).get("functions") or [] if entry["decision"] == "change"]


# What becomes of a function in the path (report.json's functions[].action), by its plan decision.
FUNCTION_ACTIONS = {"exempt": "exempt", "skip": "skipped", "cannot_fix": "cannot_fix"}


def _function_record(entry, action, mode_after=None, error=None):
    return {
        "function_arn": entry["function_arn"],
        "update_arn": entry["update_arn"],
        "stages": list(entry["stages"]),
        "action": action,
        "reason": error or entry["reason"],
        "mode_before": entry["mode_before"],
        "mode_after": mode_after if mode_after is not None else entry["mode_before"],
    }


def converge_functions(plan, reach, connection, check_mode, refused=None, failed=None, sleep=None):
    """(records, diffs) of the plan's functions: an enforcement sets each one to change to Active (the answer
    checked), an audit says it would; exempt, skipped and unfixable functions are recorded as such. Never raises."""
    records = []
    diffs = []
    lambda_clients = None
    for entry in plan.get("functions") or []:
        if entry["decision"] != "change":
            records.append(_function_record(entry, FUNCTION_ACTIONS[entry["decision"]]))
            continue
        if refused is not None or failed is not None:
            records.append(_function_record(entry, "refused" if failed is None else "error", error=refused or failed))
            continue
        diff = f"  {entry['update_arn']}: TracingConfig.Mode {entry['mode_before']} -> Active"
        if check_mode:
            records.append(_function_record(entry, "would_activate", mode_after="Active"))
            diffs.append(diff)
            continue
        try:
            if lambda_clients is None:
                lambda_clients = lambda_clients_of(reach, connection)
            kwargs = {} if sleep is None else {"sleep": sleep}
            outcome = request_path.set_tracing_mode(lambda_clients.for_arn(entry["update_arn"]), entry["update_arn"], "Active", **kwargs)
        except aws.SDK_ERRORS as error:
            outcome = {"changed": False, "mode_after": None, "error": f"the Lambda client could not be made: {aws.describe_cause(error)}"}
        if outcome["changed"]:
            records.append(_function_record(entry, "activated", mode_after="Active"))
            diffs.append(diff)
        else:
            records.append(_function_record(entry, "error", mode_after=outcome["mode_after"], error=outcome["error"]))
    return records, diffs


def invalid_target(host, target, problems):
    """The failed plan of a target whose variables break their rules (``problems``), before any AWS call."""
    identity = identity_of(host, clean_target(target))
    return _failed_plan(identity, INVALID_TARGET + "; ".join(problems), dict.fromkeys(aws.RequestStats.FIELDS, 0), time.monotonic())


def _failed_plan(identity, message, requests, started):
    # The record carries the requests the target sent before it failed (the retries of a read that never succeeded
    # among them): the run's totals count every request of every target, the failed ones' too.
    record = dict(identity, status="error", error=message, planned_changes=0, exemptions=[], rows=[], requests=dict(requests))
    return {"target": record, "plan": None, "apis": 0, "requests": requests, "seconds": round(time.monotonic() - started, 3), "claim": _claim(record)}


def _claim(record):
    """What the guard needs of a target: which account and region it swept, and how many changes it plans."""
    return {
        "host": record["host"],
        "status": record["status"],
        "account_id": record["account_id"],
        "region": record["region"],
        "planned_changes": record["planned_changes"],
    }


def guard_claims(claims, max_changes, check_mode):
    """The run-wide decisions, once: duplicate targets and the max-changes guard.

    A target whose account and region another target of the run (the first by host name) already sweeps is a
    duplicate: it is not converged and is reported as failed, so that each stage is counted once. The guard
    refuses every change of an enforcement whose planned changes, over the targets that are not duplicates,
    exceed max_changes (None: no limit). An audit is never refused; its report says whether an enforcement
    would be.
    """
    owners = {}
    duplicates = {}
    for claim in sorted((claim for claim in claims if claim and claim.get("status") == "ok"), key=lambda claim: claim["host"]):
        place = (claim.get("account_id"), claim.get("region"))
        if None in place:
            continue
        if place in owners:
            duplicates[claim["host"]] = owners[place]
        else:
            owners[place] = claim["host"]
    total = sum(int(claim.get("planned_changes") or 0) for claim in claims if claim and claim.get("status") == "ok" and claim["host"] not in duplicates)
    over = max_changes is not None and total > max_changes
    return {"planned_changes": total, "max_changes": max_changes, "over_limit": over, "refused": over and not check_mode, "duplicates": duplicates}


def duplicate_record(record, owner):
    """The record of a target whose account and region ``owner`` (another host of the run) sweeps: a failed target
    without rows, so that each stage is counted once."""
    return dict(
        record,
        status="error",
        error=(
            f"duplicate target: account {record['account_id']} in {record['region']} is also swept by host {owner} in this run; "
            "it was swept once, there, so that its stages are counted once: remove one of them from the inventory"
        ),
        rows=[],
        planned_changes=0,
        exemptions=[],
    )


def without_duplicates(records):
    """The records with every target that repeats an earlier one's account and region (by host name) marked as a
    duplicate; for an audit, whose targets are not converged after a guard."""
    owners = guard_claims([_claim(record) for record in records if record and "host" in record and "status" in record], None, True)["duplicates"]
    return [duplicate_record(record, owners[record["host"]]) if record and record.get("host") in owners else record for record in records]


def heading(record):
    account = record["account_id"] or "unknown account"
    if record.get("account_name"):
        account = f"{account} ({safe_text(record['account_name'])})"
    return f"{account} {record['region']}"


def converge_target(planned, guard, target, connection, check_mode, reach=None):
    """Converge one planned target (or say what would change), and record it.

    reach: the account as the plan step reached it, when this runs in that same step (a run of named stages on one
    target): no second AssumeRole, and the stages read moments ago are not read again before their change.
    Returns {"target": record with rows, "changed": bool, "diff": compact diff or {}, "requests": counts}.
    """
    record = dict(planned["target"])
    requests = dict(planned.get("requests") or dict.fromkeys(aws.RequestStats.FIELDS, 0))
    plan = planned.get("plan")
    if record["status"] != "ok" or plan is None:
        return {"target": dict(record, requests=requests), "changed": False, "diff": {}, "requests": requests}
    owner = (guard.get("duplicates") or {}).get(record["host"])
    if owner is not None:
        record = duplicate_record(record, owner)
        return {"target": dict(record, requests=requests), "changed": False, "diff": {}, "requests": requests}

    refused = None
    if guard.get("refused"):
        refused = (
            f"refused: {guard['planned_changes']} changes planned in this run, more than tracing_sweep_max_changes={guard['max_changes']}; "
            "nothing was changed"
        )
    converged = None
    diffs = []
    functions = function_changes(plan) and not check_mode and refused is None
    fresh = reach is not None
    if functions and reach is None:
        # The functions are changed with the account's credentials too: reached once for the stages and them.
        try:
            reach = reach_account(clean_target(target), connection)
        except TargetError as error:
            converged = {"failed": True, "msg": f"the changes were not made: {error}"}
    if converged is None and plan["changes"] and not check_mode and refused is None:
        converged, diffs = _converge(clean_target(target), plan["changes"], connection, requests, reach=reach, fresh=fresh)
    elif plan["changes"] and check_mode:
        diffs = [
            {"before_header": f"{change['rest_api_id']}/{change['stage_name']}", "before": {"tracing_enabled": change["observed_tracing_enabled"]},
             "after": {"tracing_enabled": change["tracing_enabled"]}}
            for change in plan["changes"]
        ]
    rows = target_rows(plan, converge=converged, check_mode=check_mode, refused=refused)
    if plan.get("hops") is not None:
        rows = with_hops(rows, plan["hops"])
    if converged is not None and "stages" not in converged:
        # The account could not be reached again to make the changes: the target failed. A stage whose change
        # failed is a stage error (its row says why), not a failed target, so that it is counted once.
        record.update(status="error", error=converged["msg"])
    record["rows"] = rows
    changed = any(row["action"] in ("enabled", "disabled", "would_enable", "would_disable") for row in rows)
    function_diffs = []
    if plan.get("functions") is not None:
        if converged is not None and "stages" not in converged:
            function_records, function_diffs = converge_functions(plan, None, connection, check_mode, failed=converged["msg"])
        else:
            function_records, function_diffs = converge_functions(plan, reach, connection, check_mode, refused=refused)
        record["functions"] = function_records
        changed = changed or any(item["action"] in ("activated", "would_activate") for item in function_records)
    return {
        "target": dict(record, requests=requests),
        "changed": changed,
        "diff": _with_function_diff(compact_diff(heading(record), diffs, check_mode), heading(record), function_diffs, check_mode),
        "requests": requests,
    }


def _with_function_diff(diff, where, lines, check_mode):
    """The stages' compact diff with a line per function whose tracing changed (or would)."""
    if not lines:
        return diff
    head = "%s: X-Ray tracing of %d Lambda function%s %s" % (where, len(lines), "" if len(lines) == 1 else "s", "would change" if check_mode else "changed")
    return {"prepared": (diff.get("prepared") or "") + "\n".join([head] + lines) + "\n"}


def _converge(target, changes, connection, requests, reach=None, fresh=None):
    """(converge result shaped like apigw_stage_tracing's, its diffs) for the planned changes; never raises.

    Without ``reach`` the account is reached again (the plan step's credentials are not kept between tasks): with a
    role, one more AssumeRole, which API Gateway's quota does not count, and each API's stages are read again to
    guard the write. With it (the same step as the read) neither happens.
    """
    fresh = reach is not None if fresh is None else fresh
    try:
        reach = reach or reach_account(target, connection)
    except TargetError as error:
        return {"failed": True, "msg": f"the changes were not made: {error}"}, []
    try:
        apigw, stats = apigateway(reach, connection)
    except aws.SDK_ERRORS as error:
        return {"failed": True, "msg": f"the changes were not made: {aws.describe_cause(error)}"}, []
    outcome = converge(apigw, changes, check_mode=False, concurrency=connection.concurrency, trust_observed=fresh)
    _add_requests(requests, stats.as_dict())
    result = {"stages": outcome.stages, "missing": outcome.missing, "failures": outcome.failures, "changed": outcome.changed}
    if outcome.failures:
        result.update(failed=True, msg=f"{len(outcome.failures)} of {len(changes)} stages could not be converged")
    return result, outcome.diff


def restore(reach, stages, connection, check_mode):
    """(Convergence, request counts) of putting ``stages`` (apigw_stage_tracing items) back, read first in check
    mode too, so that a stage someone changed back since the enforcement is reported as such."""
    apigw, stats = apigateway(reach, connection)
    outcome = converge(apigw, stages, check_mode=check_mode, concurrency=connection.concurrency)
    return outcome, stats.as_dict()
