# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""A target's stages as findings in AWS Security Hub (tracing_sweep_security_hub), in the AWS Security Finding Format.

One finding per stage the target swept, imported into the target's own account and region with the target's
credentials. Findings are a report output, like the report files: an audit publishes them too, and the stages
are never touched here.

What each report row becomes (_report.model.row_category):
  compliant       Compliance PASSED, severity INFORMATIONAL
  noncompliant    Compliance FAILED, severity LOW (would_* in an audit, refused by the max-changes guard): Security
                  Hub's own control for the same check (APIGateway.3) is LOW
  exempt          Compliance NOT_AVAILABLE, severity INFORMATIONAL, the exemption reason in the description and in
                  ProductFields: the policy takes the stage out of the check, as the report keeps it out of its
                  compliance %; neither a pass nor a fail on a security team's dashboard, and never hidden
  skipped         by a rule: as exempt, with the rule's reason. A stage that no longer existed when its change was
                  to be made gets no finding (its earlier one is archived below)
  stage_errors    no finding, and the earlier finding of the stage, and of every stage of its REST API, is left
                  as it is: what could not be read is never reported as gone

The finding id is built from the account and the stage ARN (no time in it), so the next run updates the
finding instead of adding one. Findings of this collection that are ACTIVE in the account and region but whose
stage is no longer among the target's rows are imported again with RecordState ARCHIVED.

Pacing: BatchImportFindings is limited to 10 requests/s (burst 30) and GetFindings to 3 requests/s (burst 6) per
account and region, shared with every other caller: every HTTP attempt of each waits for a token bucket below those
(module_utils/_aws.py's PACES), and botocore's standard retries back off on what is throttled anyway. GetFindings
is paged by botocore's paginator.
"""

from __future__ import annotations

import time

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._engine import pipeline as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "cloudops.apigw_tracing/apigateway-stage-xray-tracing"
FINDING_TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
RESOURCE_TYPE = "AwsApiGatewayStage"
DOCS_URL = "https://github.com/cloudops/apigw_tracing/blob/main/README.md#findings-in-security-hub"
FIELD_PREFIX = "cloudops.apigw_tracing/"
BATCH_SIZE = 100
# GetFindings answers up to 100 findings a page.
PAGE_SIZE = 100
# How many failed findings a message names (FailedFindings may hold 100 per call).
FAILED_NAMED = 5
NOT_ENABLED_CODES = ("InvalidAccessException",)
REMEDIATION = (
    "Enable X-Ray active tracing on the stage (API Gateway console: the stage's Logs and tracing settings; or "
    "aws apigateway update-stage --patch-operations op=replace,path=/tracingEnabled,value=true), or run the "
    "cloudops.apigw_tracing enforce playbook; if the stage must stay untraced, give it an exemption with a reason."
)
# The keys of a finding this module writes: an archived finding is re-imported with these only (GetFindings
# answers with more, which BatchImportFindings does not take from a finding provider).
OWN_KEYS = (
    "SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity",
    "FindingProviderFields", "Title", "Description", "Remediation", "Compliance", "Resources", "ProductFields", "RecordState",
)


def product_arn(partition, region, account_id):
    """The ARN of the account's own product ('default'): findings a customer imports from their own tooling."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def finding_id(account_id, stage_arn):
    """Stable: the same stage of the same account has the same id on every run (so the next run updates it)."""
    return f"{GENERATOR_ID}/{account_id}/{stage_arn}"


def now_iso(clock=time.time):
    """UTC with milliseconds: Security Hub keeps the update whose UpdatedAt is the later one."""
    now = clock()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)


def _status_of(row):
    """(compliance status, severity label, title words) of a row, or None for a row that gets no finding."""
    category = row_category(row)
    if category == "compliant":
        return "PASSED", "INFORMATIONAL", "has X-Ray tracing as the policy requires"
    if category == "noncompliant":
        return "FAILED", "LOW", "does not have X-Ray tracing as the policy requires"
    if category == "exempt":
        return "NOT_AVAILABLE", "INFORMATIONAL", "is exempt from the X-Ray tracing policy"
    if category == "skipped" and row["desired"] is None and row["tracing_enabled_before"] is not None:
        return "NOT_AVAILABLE", "INFORMATIONAL", "is left alone by a rule of the X-Ray tracing policy"
    # A stage error, a stage deleted before its change, or a named stage not found (skipped, its state unknown: it
    # does not exist, and its earlier finding is archived).
    return None


def _state(value):
    return "unknown" if value is None else ("on" if value else "off")


def row_finding(row, account_id, partition, updated_at, created_at=None):
    """The ASFF finding of one report row, or None (see the module docstring). Pure: no AWS call, no clock."""
    status = _status_of(row)
    if status is None:
        return None
    compliance, severity, words = status
    region = row["region"]
    stage = f"{row['rest_api_name'] or row['rest_api_id']}/{row['stage_name']}"
    desired = row["desired"]
    description = (
        f"REST API {row['rest_api_name'] or ''} ({row['rest_api_id']}) stage {row['stage_name']} in account {account_id} {region}: "
        f"X-Ray tracing is {_state(row['tracing_enabled_after'])}"
        + (f", the policy wants it {_state(desired)}" if desired is not None else "")
        + f" (sweep action: {row['action']}). {row['reason']}"
    )
    fields = {
        FIELD_PREFIX + "rest_api_id": str(row["rest_api_id"]),
        FIELD_PREFIX + "stage_name": str(row["stage_name"]),
        FIELD_PREFIX + "action": str(row["action"]),
        FIELD_PREFIX + "tracing_enabled": _state(row["tracing_enabled_after"]),
    }
    if row["action"] == "exempt" or (row["action"] == "skipped" and desired is None):
        fields[FIELD_PREFIX + ("exemption_reason" if row["action"] == "exempt" else "skip_reason")] = str(row["reason"])
    finding = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(account_id, row["arn"]),
        "ProductArn": product_arn(partition, region, account_id),
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account_id,
        "Types": list(FINDING_TYPES),
        "CreatedAt": created_at or updated_at,
        "UpdatedAt": updated_at,
        "Severity": {"Label": severity},
        # Security Hub takes later changes of severity and types from a provider here, not from the top-level fields.
        "FindingProviderFields": {"Severity": {"Label": severity}, "Types": list(FINDING_TYPES)},
        "Title": f"API Gateway stage {stage} {words}"[:256],
        "Description": description[:1024],
        "Remediation": {"Recommendation": {"Text": REMEDIATION, "Url": DOCS_URL}},
        "Compliance": {"Status": compliance},
        "Resources": [{"Type": RESOURCE_TYPE, "Id": row["arn"], "Partition": partition, "Region": region}],
        "ProductFields": fields,
        "RecordState": "ACTIVE",
    }
    return finding


def target_findings(rows, account_id, region, partition, updated_at, active=(), named=False):
    """(findings to import, ids of stages kept as they are) for one target's rows.

    active: this collection's ACTIVE findings already in the account and region (GetFindings). A finding of a
    stage that is not among the rows is archived, unless its REST API has an error row (its stages could not be
    read, or a change failed): those are kept as they are, never reported gone.
    named: the rows are the stages a run named (tracing_sweep_stages, a remediation), not every stage of the target:
    only their own findings may change (the finding of a named stage that no longer exists is archived); every other
    stage's finding is kept as it is.
    """
    created = {found.get("Id"): found.get("CreatedAt") for found in active}
    findings = []
    for row in rows:
        if row["account_id"] != account_id or row["region"] != region:
            continue
        finding = row_finding(row, account_id, partition, updated_at, created.get(finding_id(account_id, row["arn"])))
        if finding is not None:
            findings.append(finding)
    current = {finding["Id"] for finding in findings}
    unread = {str(row["rest_api_id"]) for row in rows if row["action"] == "error"}
    in_scope = {finding_id(account_id, row["arn"]) for row in rows} if named else None
    for found in active:
        if not _ours(found, account_id, region) or found["Id"] in current:
            continue
        if in_scope is not None and found["Id"] not in in_scope:
            continue
        if _rest_api_of(found) in unread:
            continue
        archived = {key: found[key] for key in OWN_KEYS if key in found}
        archived.update(UpdatedAt=updated_at, RecordState="ARCHIVED")
        findings.append(archived)
    return findings


def _ours(found, account_id, region):
    """A finding of this collection, of this account and region, active (GetFindings' filters, checked again)."""
    resources = found.get("Resources") or [{}]
    return (
        found.get("GeneratorId") == GENERATOR_ID
        and found.get("AwsAccountId") == account_id
        and found.get("RecordState", "ACTIVE") == "ACTIVE"
        and (resources[0] or {}).get("Region", region) == region
        and isinstance(found.get("Id"), str)
    )


def _rest_api_of(found):
    """The REST API id of a finding: its ProductFields, else its stage ARN (.../restapis/<id>/stages/<name>)."""
    fields = found.get("ProductFields") or {}
    if fields.get(FIELD_PREFIX + "rest_api_id"):
        return fields[FIELD_PREFIX + "rest_api_id"]
    arn = ((found.get("Resources") or [{}])[0] or {}).get("Id") or ""
    parts = arn.split("/restapis/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 else None


def batches(items, size=BATCH_SIZE):
    """The items in lists of at most ``size`` (BatchImportFindings takes 100 findings a call)."""
    return [items[start:start + size] for start in range(0, len(items), size)]


def active_filters(partition, region, account_id):
    return {
        "ProductArn": [{"Value": product_arn(partition, region, account_id), "Comparison": "EQUALS"}],
        "GeneratorId": [{"Value": GENERATOR_ID, "Comparison": "EQUALS"}],
        "AwsAccountId": [{"Value": account_id, "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }


def active_findings(client, partition, region, account_id):
    """This collection's ACTIVE findings in the account and region, every page. Raises what botocore raises."""
    pages = client.get_paginator("get_findings").paginate(Filters=active_filters(partition, region, account_id), PaginationConfig={"PageSize": PAGE_SIZE})
    found = []
    for page in pages:
        found.extend(page.get("Findings") or [])
    return found


class Imported:
    """What the BatchImportFindings calls of a target did so far: counts, and the findings refused with their cause."""

    def __init__(self):
        self.active = 0
        self.archived = 0
        self.failed = []  # (id or None, error code, message)


def import_findings(client, findings, done=None):
    """Import the findings in batches of 100 into ``done`` (an Imported, returned). Raises what botocore raises;
    ``done`` then says how far it got (what was imported before stays imported)."""
    done = done if done is not None else Imported()
    for batch in batches(findings):
        answer = client.batch_import_findings(Findings=batch)
        refused = {item.get("Id"): item for item in answer.get("FailedFindings") or []}
        for finding in batch:
            if finding["Id"] in refused:
                item = refused[finding["Id"]]
                done.failed.append((finding["Id"], item.get("ErrorCode") or "", item.get("ErrorMessage") or ""))
            elif finding["RecordState"] == "ARCHIVED":
                done.archived += 1
            else:
                done.active += 1
        unnamed = (answer.get("FailedCount") or 0) - len(refused)
        if unnamed > 0:
            # FailedCount counts findings FailedFindings does not name: never count them imported.
            done.failed.extend((None, "", "counted in FailedCount, not named in FailedFindings") for dummy in range(unnamed))
            taken = min(unnamed, done.active)
            done.active -= taken
            done.archived -= min(unnamed - taken, done.archived)
    return done


def section(status, imported=0, archived=0, failed=0, message=None):
    """The security_hub section of a target record."""
    return {"status": status, "imported": imported, "archived": archived, "failed": failed, "message": message}


def failed_message(failed):
    named = "; ".join(f"{fid or '(no id)'}: {code + ': ' if code else ''}{message}" for fid, code, message in failed[:FAILED_NAMED])
    more = f" (and {len(failed) - FAILED_NAMED} more)" if len(failed) > FAILED_NAMED else ""
    return f"Security Hub refused {len(failed)} finding{'' if len(failed) == 1 else 's'}: {named}{more}"


def publish(client, rows, account_id, region, partition, updated_at=None, named=False):
    """Publish one target's findings with ``client`` (paced: client_for); never raises for what AWS answers. Returns
    the section (see ``section``).

    The first call (GetFindings) tells whether Security Hub is enabled: InvalidAccessException 'not subscribed' is
    status not_enabled.
    """
    updated_at = updated_at or now_iso()
    where = f"account {account_id} {region}"
    try:
        active = active_findings(client, partition, region, account_id)
    except aws.AWS_ERRORS as error:
        code = aws.error_code(error)
        if code in NOT_ENABLED_CODES:
            return section("not_enabled", message=f"Security Hub is not enabled in {where}, no finding was published there: {aws.describe_cause(error)}")
        return section("failed", message=f"the findings of {where} were not published: GetFindings failed: {aws.describe_cause(error)}")
    findings = target_findings(rows, account_id, region, partition, updated_at, active, named=named)
    done = Imported()
    try:
        import_findings(client, findings, done)
    except aws.AWS_ERRORS as error:
        if aws.error_code(error) in NOT_ENABLED_CODES and not done.active + done.archived:
            return section("not_enabled", message=f"Security Hub is not enabled in {where}, no finding was published there: {aws.describe_cause(error)}")
        unsent = len(findings) - done.active - done.archived - len(done.failed)
        message = f"{where}: {unsent} of {len(findings)} findings were not published: BatchImportFindings failed: {aws.describe_cause(error)}"
        if done.failed:
            message += "; " + failed_message(done.failed)
        return section("failed", done.active, done.archived, unsent + len(done.failed), message)
    if done.failed:
        return section("failed", done.active, done.archived, len(done.failed), f"{where}: {failed_message(done.failed)}")
    return section("published", done.active, done.archived, 0, None)


# ---- one target, with its own credentials -----------------------------------------------------------------


def client_for(reach, connection):
    """The account's Security Hub client: botocore's standard retries (Security Hub is outside API Gateway's quota),
    every HTTP attempt paced below the operation's quota. Raises what botocore raises when it cannot be made."""
    made = aws.client("securityhub", connection.region, connection.endpoint_url, aws.client_config("securityhub"), reach.credentials)
    return aws.pace_service(made)[0]


def publish_target(record, target, connection, updated_at=None, reach=None, named=False):
    """The security_hub section of a swept target (None for a target that failed: nothing is known to publish).

    named: the target's rows are the stages its run named (see target_findings): no other stage's finding changes.

    reach: the account as the same step reached it (the audit's plan step), else it is reached again as the
    converge step reaches it (one more sts:AssumeRole with a role). The Security Hub client goes to
    tracing_sweep_endpoint_url when it is set, else where the SDK's configuration says (AWS_ENDPOINT_URL_SECURITYHUB,
    AWS_ENDPOINT_URL, the profile), else to AWS.
    """
    if record.get("status") != "ok" or record.get("rows") is None:
        return None
    where = f"account {record.get('account_id')} {connection.region}"
    if reach is None:
        try:
            reach = engine.reach_account(engine.clean_target(target), connection)
        except engine.TargetError as error:
            return section("failed", message=f"the findings of {where} were not published: {error}")
    partition = (parse_aws_arn(reach.caller_arn) or {}).get("partition") or "aws"
    try:
        client = client_for(reach, connection)
    except aws.SDK_ERRORS as error:
        return section("failed", message=f"the findings of {where} were not published: {aws.describe_cause(error)}")
    return publish(client, record["rows"], reach.account_id, connection.region, partition, updated_at, named=named)


def warning(record):
    """The per-target warning for a section that is not 'published' (None when there is nothing to say)."""
    hub = record.get("security_hub")
    if not hub or hub["status"] == "published":
        return None
    return f"{record['host']}: Security Hub: {hub['message']}"
