# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IAM policy documents under docs/iam/ against the AWS calls the code makes.

The operations are read from the code with ast (client method calls and the operation names given to
paginators), not listed by hand, so a new call that a policy does not allow fails here. Every Python file
under plugins/ is read: the modules and the inventory, and the controller-side sweep engine the role runs
through the private action cloudops.apigw_tracing._sweep (plugins/plugin_utils); and the Event-Driven Ansible
event source under extensions/eda/plugins/ (its SQS calls, made by whoever runs ansible-rulebook). The policies are evaluated
by a small matcher of IAM wildcards; conditions are checked separately where they matter. No AWS and no
local AWS is needed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import PurePosixPath
from urllib.parse import quote

import botocore.session
import pytest
import yaml
from botocore import xform_name

from conftest import REPO
from conftest import guide

POLICY_DIR = REPO / "docs" / "iam"
IAM_DOC = guide("iam")
ROLE_TASKS = REPO / "roles" / "tracing_sweep" / "tasks"
PLAYBOOK_DIRS = (REPO / "playbooks", REPO / "docs" / "awx" / "project")
# Every plugin type's code: modules, module_utils, inventory, action, filter, plugin_utils (the sweep engine,
# in subpackages by concern: docs/architecture.md); and the event source of continuous remediation (docs/eda.md).
CODE_GLOBS = ("plugins/**/*.py", "extensions/eda/plugins/**/*.py")
# Keys (paths without .py) of the files of extensions/eda/plugins/event_source/ start with this.
EVENT_SOURCE_KEY = ("extensions", "eda", "plugins", "event_source")
PLUGINS_PREFIX = "ansible_collections.cloudops.apigw_tracing.plugins."
# The folders whose files other files import (and so inherit the AWS clients of).
SHARED_CODE = ("module_utils", "plugin_utils")
ENGINE = "plugins/plugin_utils/_engine/pipeline.py"
# The one way to reach AWS: the client factory and reaching an account (sts:AssumeRole, sts:GetCallerIdentity).
AWS_ACCESS = "plugins/module_utils/_aws.py"
# The accounts inventory's regions: enabled (the plugin imports it).
REGION_DISCOVERY = "plugins/plugin_utils/_inventory/region_discovery.py"
INVENTORY = ("inventory", "accounts")

POLICY_FILES = ("audit-policy.json", "enforce-policy.json", "hub-policy.json", "trust-policy.json", "eda-source-policy.json")

# Functions that take the operation as a string rather than calling it: name -> index of that argument.
OPERATION_NAME_ARGUMENTS = {"get_paginator": 0, "paginated_query_with_retries": 1}
# Calls that make an AWS client of the service named by their first argument: boto3 (``boto3.client("sqs")``,
# ``session.client(...)``) and aiobotocore (``session.create_client("sqs")``).
CLIENT_FACTORIES = ("client", "create_client")

REGION = "us-east-1"
ACCOUNT = "111122223333"
# Request path placeholders -> sample values; REST API ids are exactly 10 characters.
SAMPLE_VALUES = {"restapi_id": "a1b2c3d4e5", "stage_name": "prod"}

# The stage wildcard must end in `*` (stage names vary in length) and IAM's `*` crosses `/`, so
# these reads under a stage's path are allowed too; there is no tighter pattern (docs/iam.md says so).
STAGE_WILDCARD_SPILLOVER = {"GetExport", "GetSdk"}

SERVICE_LINKED_ROLE = "arn:aws:iam::%s:role/aws-service-role/ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway" % ACCOUNT
API_GATEWAY_SERVICE = "ops.apigateway.amazonaws.com"

# Role the hub assumes in a target account, as docs/iam.md names it.
EXAMPLE_TARGET_ROLES = ("arn:aws:iam::%s:role/TracingAudit" % ACCOUNT, "arn:aws:iam::%s:role/TracingEnforce" % ACCOUNT)
# Operations of other services than API Gateway that the code may make -> (policy, resources it is made on).
# Each is made with the controller's own credentials: the hub's.
HUB_OPERATIONS = {
    # The sweep engine enters each target's role (plan, converge, restore steps), and the accounts inventory
    # each account's role for regions: enabled.
    ("sts", "AssumeRole"): ("hub-policy.json", EXAMPLE_TARGET_ROLES),
    # The accounts inventory's organization option.
    ("organizations", "ListAccounts"): ("hub-policy.json", ("*",)),
    # The run history in S3 (tracing_sweep_history), read and written with the controller's credentials.
    ("s3", "ListObjectsV2"): ("hub-policy.json", ("arn:aws:s3:::tracing-sweep-history",)),
    ("s3", "GetObject"): ("hub-policy.json", ("arn:aws:s3:::tracing-sweep-history/nightly/latest.json",)),
    ("s3", "PutObject"): ("hub-policy.json", ("arn:aws:s3:::tracing-sweep-history/nightly/scope-0/20261202T030000.000000Z/report.json",)),
}
# Operations of other services than API Gateway made with a target account's role (or, for a target without one,
# the controller's credentials in its own account, which then carry the audit or enforce policy too) ->
# (policies, resources it is made on). The accounts inventory's regions: enabled lists the account's regions;
# tracing_sweep_security_hub publishes findings in audits too, so the audit policy grants them as the enforce one does.
TARGET_OPERATIONS = {
    ("ec2", "DescribeRegions"): (("audit-policy.json", "enforce-policy.json"), ("*",)),
    ("securityhub", "BatchImportFindings"): (
        ("audit-policy.json", "enforce-policy.json"), ("arn:aws:securityhub:%s:%s:product/%s/default" % (REGION, ACCOUNT, ACCOUNT),)
    ),
    ("securityhub", "GetFindings"): (("audit-policy.json", "enforce-policy.json"), ("arn:aws:securityhub:%s:%s:hub/default" % (REGION, ACCOUNT),)),
    # tracing_sweep_whole_path (and apigw_stage_tracing_info's whole_path): each function behind a stage, by its ARN
    # with the alias or version the integration names.
    ("lambda", "GetFunctionConfiguration"): (
        ("audit-policy.json", "enforce-policy.json"),
        ("arn:aws:lambda:%s:%s:function:orders" % (REGION, ACCOUNT), "arn:aws:lambda:%s:%s:function:orders:live" % (REGION, ACCOUNT)),
    ),
    # The same, for a function named with a published version: the aliases that serve it (on the unqualified ARN).
    ("lambda", "ListAliases"): (("audit-policy.json", "enforce-policy.json"), ("arn:aws:lambda:%s:%s:function:orders" % (REGION, ACCOUNT),)),
    # tracing_sweep_lambda_tracing: Active tracing set on a function ($LATEST, its unqualified ARN) in an enforcement,
    # and put back by the rollback; never in an audit.
    ("lambda", "UpdateFunctionConfiguration"): (("enforce-policy.json",), ("arn:aws:lambda:%s:%s:function:orders" % (REGION, ACCOUNT),)),
    # tracing_sweep_whole_path: whether the execution role of a function that traces (or that
    # tracing_sweep_lambda_tracing sets to Active) may write to X-Ray, once per role; audit and enforce alike.
    ("iam", "SimulatePrincipalPolicy"): (("audit-policy.json", "enforce-policy.json"), ("arn:aws:iam::%s:role/service-role/orders-role" % ACCOUNT,)),
}
SECURITY_HUB = "plugins/plugin_utils/_findings/security_hub.py"
# The queue the event source reads, as stage-events-queue.yaml creates it (a stack named apigw-tracing-stage-events;
# CloudFormation appends the logical id and a random suffix), and its dead-letter queue, which it never reads.
EDA_QUEUE = "arn:aws:sqs:%s:%s:apigw-tracing-stage-events-StageEventsQueue-1A2B3C4D5E6F" % (REGION, ACCOUNT)
EDA_DEAD_LETTER_QUEUE = "arn:aws:sqs:%s:%s:apigw-tracing-stage-events-StageEventsDeadLetterQueue-1A2B3C4D5E6F" % (REGION, ACCOUNT)
# Operations the event source of continuous remediation makes, with the credentials of whoever runs ansible-rulebook
# (not the sweep's: docs/iam.md) -> (policy, resources it is made on).
EDA_SOURCE_OPERATIONS = {
    ("sqs", "ReceiveMessage"): ("eda-source-policy.json", (EDA_QUEUE,)),
    ("sqs", "DeleteMessage"): ("eda-source-policy.json", (EDA_QUEUE,)),
}
# Operations whose IAM action is not named after them.
IAM_ACTIONS = {("s3", "ListObjectsV2"): "s3:ListBucket"}


def iam_action(operation):
    return IAM_ACTIONS.get(operation, "%s:%s" % operation)


# Operations IAM does not authorise: sts:GetCallerIdentity works whatever the policies say (an explicit Deny
# included), so no policy grants it. The engine calls it for a target without a role (whose account is the
# controller's own), apigw_stage_tracing only to head its diff with the account id.
NO_PERMISSION_NEEDED = {("sts", "GetCallerIdentity")}
# The role's tasks run only these: no amazon.aws module, no module process making AWS calls of its own; the
# collection's plugins they run are in the code the operations are derived from.
ROLE_COLLECTIONS = ("ansible.builtin.", "cloudops.apigw_tracing.")

BOTOCORE = botocore.session.get_session()


def load_policy(name):
    return json.loads((POLICY_DIR / name).read_text(encoding="utf-8"))


# ---- deriving the operations from the code --------------------------------------------------------


def _called_name(call):
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _string(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _operations_by_method(service):
    """boto3 client method name -> operation name, for one service."""
    return {xform_name(name): name for name in BOTOCORE.get_service_model(service).operation_names}


def _imported_code(tree):
    """The key (path under plugins/) of each module_utils or plugin_utils file of the collection that ``tree``
    imports: ``from ...plugin_utils._steps.sweep import x`` and ``from ...plugin_utils._steps import sweep`` alike."""
    imported = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(PLUGINS_PREFIX):
            continue
        parts = tuple(node.module[len(PLUGINS_PREFIX):].split("."))
        if parts[0] not in SHARED_CODE:
            continue
        # The module named, and each name imported from it that is a module of a package (other names are no
        # key of FILES, so they add nothing).
        imported.add(parts)
        imported |= {parts + (alias.name,) for alias in node.names}
    return imported


def _key(relative):
    """A file's key: its path under plugins/ without .py, ("action", "_sweep"), ("plugin_utils", "_engine",
    "pipeline"), as the collection's imports name it; elsewhere its path in the repository without .py:
    ("extensions", "eda", "plugins", "event_source", "stage_events")."""
    parts = relative.with_suffix("").parts
    return parts[1:] if parts[0] == "plugins" else parts


class CodeFile:
    """One Python file of the collection: the services it creates clients of, what it imports, its calls."""

    def __init__(self, label, source):
        self.label = label
        self.key = _key(PurePosixPath(label))
        self.tree = ast.parse(source, filename=label)
        self.calls = [node for node in ast.walk(self.tree) if isinstance(node, ast.Call)]
        self.own_services = {
            _string(call.args[0]) for call in self.calls if _called_name(call) in CLIENT_FACTORIES and call.args and _string(call.args[0])
        }
        self.services = set(self.own_services)
        self.imported = _imported_code(self.tree)


def code_files():
    paths = sorted({path for pattern in CODE_GLOBS for path in REPO.glob(pattern)})
    return {code.key: code for code in (CodeFile(path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")) for path in paths)}


def _resolve_services(files):
    """A file works with the services it makes clients of and those of the module_utils and plugin_utils it
    imports, however indirectly (the _sweep action -> _steps.sweep -> _engine.pipeline -> module_utils)."""
    changed = True
    while changed:
        changed = False
        for code in files.values():
            for key in code.imported:
                inherited = files[key].services if key in files else set()
                if not inherited <= code.services:
                    code.services |= inherited
                    changed = True


def derive_operations(files):
    """({service: {operation: [where called]}}, [problems]) for every AWS call in ``files`` (the collection's code)."""
    _resolve_services(files)
    all_services = set().union(*(code.services for code in files.values()))
    methods = {service: _operations_by_method(service) for service in all_services}
    found = {}
    problems = []

    def record(code, call, method):
        hits = [(service, methods[service][method]) for service in sorted(code.services) if method in methods[service]]
        if not hits and method in set().union(*methods.values()):
            problems.append("%s:%d: %s() is an AWS operation, but no client of its service is traced to this file" % (code.label, call.lineno, method))
        for service, operation in hits:
            found.setdefault(service, {}).setdefault(operation, []).append("%s:%d" % (code.label, call.lineno))

    for code in files.values():
        for call in code.calls:
            name = _called_name(call)
            if name in OPERATION_NAME_ARGUMENTS:
                index = OPERATION_NAME_ARGUMENTS[name]
                argument = _string(call.args[index]) if len(call.args) > index else None
                if argument is None:
                    problems.append("%s:%d: %s() without a literal operation name; cannot derive it" % (code.label, call.lineno, name))
                else:
                    record(code, call, argument)
            elif isinstance(call.func, ast.Attribute):
                record(code, call, name)
            # A client method handed to another function to call, as asyncio code does with blocking botocore
            # calls: ``asyncio.to_thread(client.receive_message, ...)``, ``run_in_executor(None, partial(...))``.
            for argument in list(call.args) + [keyword.value for keyword in call.keywords]:
                if isinstance(argument, ast.Attribute):
                    record(code, call, argument.attr)
    return found, problems


FILES = code_files()
DERIVED, DERIVATION_PROBLEMS = derive_operations(FILES)
# The event source is written when a file of extensions/eda/plugins/event_source/ makes an AWS client; until then
# (a stub holding EVENT_NAMES only) there is no SQS call to derive, and the checks of the derived SQS calls wait.
EVENT_SOURCE_FILES = [code for key, code in FILES.items() if key[: len(EVENT_SOURCE_KEY)] == EVENT_SOURCE_KEY]
EVENT_SOURCE_WRITTEN = any(code.services for code in EVENT_SOURCE_FILES)
APIGATEWAY = BOTOCORE.get_service_model("apigateway")
DERIVED_APIGATEWAY = sorted(DERIVED.get("apigateway", {}))
DERIVED_READS = [name for name in DERIVED_APIGATEWAY if APIGATEWAY.operation_model(name).http["method"] == "GET"]
DERIVED_WRITES = [name for name in DERIVED_APIGATEWAY if name not in DERIVED_READS]
ALL_APIGATEWAY = sorted(APIGATEWAY.operation_names)


# ---- evaluating policies ------------------------------------------------------------------------


def _wildcard(pattern, ignore_case=False):
    """IAM's `*` (any run, `/` included) and `?` (exactly one character)."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _as_list(value):
    return value if isinstance(value, list) else [value]


def matching_statements(policy, action, resource):
    """The statements whose Action and Resource cover the request (conditions not evaluated)."""
    return [
        statement
        for statement in policy["Statement"]
        if any(_wildcard(pattern, ignore_case=True).fullmatch(action) for pattern in _as_list(statement["Action"]))
        and any(_wildcard(pattern).fullmatch(resource) for pattern in _as_list(statement["Resource"]))
    ]


def allows(policy, action, resource):
    """An Allow covers the request and no Deny does."""
    effects = {statement["Effect"] for statement in matching_statements(policy, action, resource)}
    return "Allow" in effects and "Deny" not in effects


def request_of(operation):
    """(action, resource ARN) IAM checks for an API Gateway operation, with sample path values."""
    http = APIGATEWAY.operation_model(operation).http
    path = http["requestUri"].split("?")[0]
    path = re.sub(r"\{([^}+]+)\+?\}", lambda match: SAMPLE_VALUES.get(match.group(1), "sample-" + match.group(1).lower()), path)
    return "apigateway:" + http["method"], "arn:aws:apigateway:%s::%s" % (REGION, path)


def allowed_apigateway_operations(policy):
    return {operation for operation in ALL_APIGATEWAY if allows(policy, *request_of(operation))}


# ---- the documents themselves -------------------------------------------------------------------


def test_policy_directory_holds_exactly_the_documented_files():
    assert sorted(path.name for path in POLICY_DIR.iterdir()) == sorted(POLICY_FILES)


@pytest.mark.parametrize("name", POLICY_FILES)
def test_policy_is_valid(name):
    policy = load_policy(name)
    assert policy["Version"] == "2012-10-17"
    assert isinstance(policy["Statement"], list) and policy["Statement"]
    sids = [statement.get("Sid") for statement in policy["Statement"] if statement.get("Sid")]
    assert len(sids) == len(set(sids)), "duplicate Sid in %s" % name
    for statement in policy["Statement"]:
        assert statement["Effect"] in ("Allow", "Deny")
        assert statement["Action"]
        if name == "trust-policy.json":
            assert statement["Principal"] and "Resource" not in statement
        else:
            assert statement["Resource"] and "Principal" not in statement
        # No action wildcards: every action granted is one the code needs.
        assert not [action for action in _as_list(statement["Action"]) if "*" in action or "?" in action]


def test_matcher_follows_iam_wildcards():
    policy = {"Statement": [{"Effect": "Allow", "Action": "ApiGateway:get", "Resource": "arn:aws:apigateway:*::/restapis/???/stages/*"}]}
    assert allows(policy, "apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod/sdks/java")
    assert not allows(policy, "apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis/abcd/stages/prod")
    assert not allows(policy, "apigateway:PATCH", "arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod")
    assert not allows(policy, "apigateway:GET", "arn:aws:apigateway:us-east-1::/RESTAPIS/abc/stages/prod")
    policy["Statement"].append({"Effect": "Deny", "Action": "apigateway:GET", "Resource": "*/sdks/*"})
    assert not allows(policy, "apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod/sdks/java")


# ---- what the code calls ------------------------------------------------------------------------


def _callers(service, operation):
    """The files (paths) that make ``operation`` themselves."""
    return {where.rsplit(":", 1)[0] for where in DERIVED.get(service, {}).get(operation, [])}


def test_operations_are_derived_from_the_code():
    print("AWS operations the code calls (derived): %s" % json.dumps(DERIVED, indent=2, sort_keys=True))
    assert not DERIVATION_PROBLEMS
    assert {"GetRestApis", "GetRestApi", "GetStages", "GetStage", "UpdateStage"} <= set(DERIVED_APIGATEWAY)
    assert "ListAccounts" in DERIVED.get("organizations", {})
    services = {"apigateway", "ec2", "iam", "lambda", "organizations", "s3", "securityhub", "sts"} | ({"sqs"} if EVENT_SOURCE_WRITTEN else set())
    assert set(DERIVED) == services, "a new AWS service needs its policy here and in docs/iam.md"
    # The run history: listed, read and written in plugins/plugin_utils/_run_history/runs.py alone.
    assert set(DERIVED["s3"]) == {"ListObjectsV2", "GetObject", "PutObject"}
    assert {where.rsplit(":", 1)[0] for wheres in DERIVED["s3"].values() for where in wheres} == {"plugins/plugin_utils/_run_history/runs.py"}
    # Findings in Security Hub (tracing_sweep_security_hub): what the code calls, where it calls it.
    assert set(DERIVED["securityhub"]) == {"BatchImportFindings", "GetFindings"}
    assert _callers("securityhub", "BatchImportFindings") == _callers("securityhub", "GetFindings") == {SECURITY_HUB}
    # The sweep engine reaches each account itself (no amazon.aws module does it any more), and so does the
    # accounts inventory for regions: enabled, both through module_utils/_aws.py.
    assert set(DERIVED["sts"]) == {"AssumeRole", "GetCallerIdentity"}
    assert _callers("sts", "AssumeRole") == {AWS_ACCESS}
    # apigw_stage_tracing_info with whole_path: the account its functions should be in.
    assert _callers("sts", "GetCallerIdentity") == {AWS_ACCESS, "plugins/modules/apigw_stage_tracing.py", "plugins/modules/apigw_stage_tracing_info.py"}
    # The whole request path (tracing_sweep_whole_path, whole_path): Lambda's read, and its one write
    # (tracing_sweep_lambda_tracing and its rollback), in one place.
    assert set(DERIVED["lambda"]) == {"GetFunctionConfiguration", "ListAliases", "UpdateFunctionConfiguration"}
    assert {"plugins/module_utils/request_path.py"} == _callers("lambda", "GetFunctionConfiguration") == _callers("lambda", "ListAliases") == _callers(
        "lambda", "UpdateFunctionConfiguration")
    assert set(DERIVED["ec2"]) == {"DescribeRegions"}
    assert _callers("ec2", "DescribeRegions") == {REGION_DISCOVERY}


@pytest.mark.skipif(not EVENT_SOURCE_WRITTEN, reason="extensions/eda/plugins/event_source/ makes no AWS client yet (the stub of EVENT_NAMES)")
def test_the_event_source_makes_exactly_the_sqs_calls_of_the_contract():
    """ReceiveMessage and DeleteMessage, nothing else, and only in the event source: the principal that runs
    ansible-rulebook needs eda-source-policy.json for them and no more."""
    assert set(DERIVED["sqs"]) == {"ReceiveMessage", "DeleteMessage"}
    assert {where.rsplit(":", 1)[0] for wheres in DERIVED["sqs"].values() for where in wheres} <= {code.label for code in EVENT_SOURCE_FILES}
    assert set().union(*(code.services for code in EVENT_SOURCE_FILES)) == {"sqs"}


# The ways an event source may call SQS: boto3, aiobotocore, and a blocking call handed to a thread.
SQS_SOURCE_SAMPLE = """
import asyncio
import functools
import boto3
from aiobotocore.session import get_session


def blocking(queue_url):
    client = boto3.client("sqs", region_name="eu-west-1")
    client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)


async def threaded(queue_url):
    client = boto3.session.Session().client("sqs")
    await asyncio.to_thread(client.receive_message, QueueUrl=queue_url)
    await asyncio.get_running_loop().run_in_executor(None, functools.partial(client.delete_message, QueueUrl=queue_url, ReceiptHandle="x"))


async def native(queue_url):
    async with get_session().create_client("sqs") as client:
        await client.delete_message(QueueUrl=queue_url, ReceiptHandle="x")
"""


def test_the_derivation_finds_the_sqs_calls_of_an_event_source_however_it_makes_them():
    sample = CodeFile("extensions/eda/plugins/event_source/sample.py", SQS_SOURCE_SAMPLE)
    assert sample.key == EVENT_SOURCE_KEY + ("sample",)
    found, problems = derive_operations({sample.key: sample})
    assert not problems
    label = sample.label
    assert found == {
        "sqs": {
            "ReceiveMessage": ["%s:10" % label, "%s:15" % label],
            "DeleteMessage": ["%s:16" % label, "%s:21" % label],
        }
    }


def _reached(key):
    """The files ``key`` imports from module_utils and plugin_utils, however indirectly, itself included."""
    seen, todo = set(), [key]
    while todo:
        current = todo.pop()
        if current in seen or current not in FILES:
            continue
        seen.add(current)
        todo.extend(FILES[current].imported)
    return {FILES[found].label for found in seen}


def test_the_derivation_follows_the_engine_to_its_api_gateway_calls():
    """The role's AWS calls are the _sweep action's: through _steps.sweep and the engine, every file that makes one
    is reached, so that what the engine calls is derived (its API Gateway calls are module_utils', shared with
    the modules)."""
    engine, action = FILES[("plugin_utils", "_engine", "pipeline")], FILES[("action", "_sweep")]
    assert engine.own_services == {"apigateway"}
    assert FILES[("module_utils", "_aws")].own_services == {"sts"}
    assert FILES[("plugin_utils", "_findings", "security_hub")].own_services == {"securityhub"}
    assert action.services == {"sts", "apigateway", "iam", "lambda", "s3", "securityhub"}
    reached = _reached(("action", "_sweep"))
    assert ENGINE in reached and AWS_ACCESS in reached
    assert AWS_ACCESS in _reached(INVENTORY)
    callers = {
        where.rsplit(":", 1)[0]
        for operations in (DERIVED["apigateway"], DERIVED["sts"], DERIVED["securityhub"])
        for wheres in operations.values()
        for where in wheres
    }
    # The modules make their own calls, the accounts inventory its own (in the inventory, not the role).
    modules = {"plugins/modules/apigw_stage_tracing.py", "plugins/modules/apigw_stage_tracing_info.py"}
    assert callers - modules - _reached(INVENTORY) <= reached, sorted(callers - reached)
    # What the engine reads and writes: every stage read and the tracing change.
    apigateway_reached = {
        operation for operation, wheres in DERIVED["apigateway"].items() if any(where.rsplit(":", 1)[0] in reached for where in wheres)
    }
    assert {"GetRestApis", "GetStages", "GetStage", "UpdateStage"} <= apigateway_reached


def test_every_derived_operation_is_accounted_for():
    """API Gateway's operations are checked against the audit and enforce policies below; every other one is a
    hub operation checked against the hub policy, or one that needs no permission."""
    others = {(service, operation) for service, operations in DERIVED.items() if service != "apigateway" for operation in operations}
    unknown = sorted(others - set(HUB_OPERATIONS) - set(TARGET_OPERATIONS) - set(EDA_SOURCE_OPERATIONS) - NO_PERMISSION_NEEDED)
    assert not unknown, "add these operations' permissions to HUB_OPERATIONS, TARGET_OPERATIONS or EDA_SOURCE_OPERATIONS and the policies: %s" % unknown
    # Until the event source is written (a stub of EVENT_NAMES), its SQS calls are the contract's, not derived yet.
    listed = set(HUB_OPERATIONS) | set(TARGET_OPERATIONS) | NO_PERMISSION_NEEDED | (set(EDA_SOURCE_OPERATIONS) if EVENT_SOURCE_WRITTEN else set())
    stale = sorted(listed - others)
    assert not stale, "HUB_OPERATIONS, TARGET_OPERATIONS, EDA_SOURCE_OPERATIONS or NO_PERMISSION_NEEDED lists operations the code no longer makes: %s" % stale


def test_docs_name_every_derived_operation():
    text = IAM_DOC.read_text(encoding="utf-8")
    operations = set(operation for operations in DERIVED.values() for operation in operations) | {operation for _service, operation in EDA_SOURCE_OPERATIONS}
    missing = sorted(operation for operation in operations if "`%s`" % operation not in text)
    assert not missing, "%s does not list %s" % (IAM_DOC.relative_to(REPO), missing)
    assert not [name for name in POLICY_FILES if "iam/%s" % name not in text]


# ---- API Gateway --------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", DERIVED_READS)
def test_audit_policy_allows_every_read(operation):
    assert allows(load_policy("audit-policy.json"), *request_of(operation)), request_of(operation)


@pytest.mark.parametrize("operation", [name for name in ALL_APIGATEWAY if APIGATEWAY.operation_model(name).http["method"] != "GET"])
def test_audit_policy_allows_no_write(operation):
    assert not allows(load_policy("audit-policy.json"), *request_of(operation)), request_of(operation)


def test_audit_policy_refuses_the_tracing_change():
    assert DERIVED_WRITES == ["UpdateStage"]
    action, resource = request_of("UpdateStage")
    assert (action, resource) == ("apigateway:PATCH", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod")
    assert not allows(load_policy("audit-policy.json"), action, resource)


@pytest.mark.parametrize("operation", DERIVED_APIGATEWAY)
def test_enforce_policy_allows_every_call(operation):
    assert allows(load_policy("enforce-policy.json"), *request_of(operation)), request_of(operation)


def test_enforce_policy_holds_the_audit_policy():
    audit, enforce = load_policy("audit-policy.json"), load_policy("enforce-policy.json")
    assert [statement for statement in audit["Statement"] if statement not in enforce["Statement"]] == []
    assert allowed_apigateway_operations(audit) <= allowed_apigateway_operations(enforce)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("audit-policy.json", set(DERIVED_READS) | STAGE_WILDCARD_SPILLOVER),
        ("enforce-policy.json", set(DERIVED_APIGATEWAY) | STAGE_WILDCARD_SPILLOVER),
        ("hub-policy.json", set()),
        ("eda-source-policy.json", set()),
    ],
)
def test_policy_allows_no_other_api_gateway_operation(name, expected):
    # Every operation of API Gateway's model, with sample path values: what the policy lets through.
    assert allowed_apigateway_operations(load_policy(name)) == expected


@pytest.mark.parametrize("name", ["audit-policy.json", "enforce-policy.json"])
@pytest.mark.parametrize(
    "path",
    [
        "/restapis/a1b2c3d4e5/resources/abc123/methods/GET/integration",
        "/restapis/a1b2c3d4e5/deployments",
        "/restapis/a1b2c3d4e",
        "/restapis/a1b2c3d4e5f",
        "/apikeys",
        "/domainnames",
        "/usageplans",
        "/account",
        # GetTags: the tagged resource's ARN travels URL-encoded in the path.
        "/tags/" + quote("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod", safe=""),
    ],
)
def test_policy_refuses_reads_of_unrelated_paths(name, path):
    assert not allows(load_policy(name), "apigateway:GET", "arn:aws:apigateway:%s::%s" % (REGION, path))


def _load_rules():
    """plugins/module_utils/_rules.py, the one definition of the identifier rules (it imports nothing of Ansible)."""
    spec = importlib.util.spec_from_file_location("apigw_tracing_rules", REPO / "plugins" / "module_utils" / "_rules.py")
    rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rules)
    return rules


def test_rest_api_id_wildcard_has_the_length_the_modules_accept():
    # The ?????????? pattern for GetRestApi relies on ids being 10 characters, which the modules enforce:
    # their validation (module_utils/validation.py) checks ids with _rules.rest_api_id_problem.
    validation = ast.parse((REPO / "plugins/module_utils/validation.py").read_text(encoding="utf-8"))
    assert any(
        isinstance(node, ast.ImportFrom) and node.module == "ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules"
        and "rest_api_id_problem" in [alias.name for alias in node.names]
        for node in ast.walk(validation)
    )
    rules = _load_rules()
    audit = load_policy("audit-policy.json")
    for api_id in ("a1b2c3d4e", "a1b2c3d4e5", "a1b2c3d4e5f", "a1b2c3d4e5\n"):
        accepted = rules.rest_api_id_problem(api_id) is None
        assert accepted == (api_id == "a1b2c3d4e5"), api_id
        assert accepted == allows(audit, "apigateway:GET", "arn:aws:apigateway:%s::/restapis/%s" % (REGION, api_id)), api_id


# ---- the service-linked role --------------------------------------------------------------------


def test_enforce_policy_lets_api_gateway_create_its_service_linked_role_only():
    enforce = load_policy("enforce-policy.json")
    statements = matching_statements(enforce, "iam:CreateServiceLinkedRole", SERVICE_LINKED_ROLE)
    assert statements and allows(enforce, "iam:CreateServiceLinkedRole", SERVICE_LINKED_ROLE)
    for statement in statements:
        assert statement["Condition"] == {"StringLike": {"iam:AWSServiceName": API_GATEWAY_SERVICE}}
    for other in (
        "arn:aws:iam::%s:role/Admin" % ACCOUNT,
        "arn:aws:iam::%s:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing" % ACCOUNT,
    ):
        assert not allows(enforce, "iam:CreateServiceLinkedRole", other)
    assert not allows(load_policy("audit-policy.json"), "iam:CreateServiceLinkedRole", SERVICE_LINKED_ROLE)


# ---- the sweep: controller (hub) and target roles ----------------------------------------------


def _task_modules(tasks):
    """Module (or action) names of a list of tasks, blocks followed; plays' tasks too."""
    modules = set()
    for task in tasks or []:
        for key in ("block", "rescue", "always", "pre_tasks", "tasks", "post_tasks", "handlers"):
            modules |= _task_modules(task.get(key))
        modules |= {key for key in task if key.count(".") >= 2}
    return modules


def yaml_modules(paths):
    modules = set()
    for path in paths:
        modules |= _task_modules(yaml.safe_load(path.read_text(encoding="utf-8")))
    return modules


def role_modules():
    return yaml_modules(sorted(ROLE_TASKS.glob("*.yml")))


def test_the_role_runs_no_amazon_aws_module():
    """The sweep's AWS calls are all the engine's, so all derived above: the role runs no amazon.aws module (no
    sts_assume_role, no aws_caller_info) and nothing else that could call AWS on its own."""
    modules = role_modules()
    assert "cloudops.apigw_tracing._sweep" in modules
    assert not [module for module in modules if module.startswith("amazon.aws.")]
    outside = sorted(module for module in modules if not module.startswith(ROLE_COLLECTIONS))
    assert not outside, "the role runs modules whose AWS calls are not derived here: %s" % outside


def test_the_collections_plugins_the_role_runs_are_in_the_derived_code():
    """Each cloudops.apigw_tracing plugin the role runs is an action or a module read above; the _sweep action
    works with the clients of the engine, so its calls are among the derived operations."""
    for module in sorted(module for module in role_modules() if module.startswith("cloudops.apigw_tracing.")):
        name = module.rsplit(".", 1)[1]
        code = [FILES[key] for key in (("action", name), ("modules", name)) if key in FILES]
        assert code, "%s: no plugins/action/%s.py nor plugins/modules/%s.py" % (module, name, name)
    assert FILES[("action", "_sweep")].services == {"sts", "apigateway", "iam", "lambda", "s3", "securityhub"}


def test_the_shipped_playbooks_run_no_amazon_aws_module():
    playbooks = [path for directory in PLAYBOOK_DIRS for path in sorted(directory.glob("*.yml"))]
    assert playbooks
    modules = yaml_modules(playbooks)
    assert not sorted(module for module in modules if module.startswith("amazon.aws.")), modules


@pytest.mark.parametrize("operation", sorted(HUB_OPERATIONS), ids=lambda operation: "%s:%s" % operation)
def test_hub_policy_allows_what_the_code_calls_with_the_controllers_credentials(operation):
    name, resources = HUB_OPERATIONS[operation]
    policy = load_policy(name)
    for resource in resources:
        assert allows(policy, iam_action(operation), resource), (operation, resource)


def test_the_inventory_reaches_its_region_discovery():
    """regions: enabled's calls are derived because the inventory plugin imports the file that makes them."""
    assert REGION_DISCOVERY in _reached(INVENTORY)
    assert {"ec2", "sts"} <= FILES[INVENTORY].services


@pytest.mark.parametrize("operation", sorted(TARGET_OPERATIONS), ids=lambda operation: "%s:%s" % operation)
def test_target_policies_allow_what_the_code_calls_with_the_accounts_role(operation):
    names, resources = TARGET_OPERATIONS[operation]
    for name in names:
        for resource in resources:
            assert allows(load_policy(name), "%s:%s" % operation, resource), (name, operation, resource)
    # The hub does not call it with its own credentials (it assumes the account's role first).
    assert not allows(load_policy("hub-policy.json"), "%s:%s" % operation, "*")


@pytest.mark.parametrize(
    "name, own",
    [("audit-policy.json", {"apigateway:GET"}), ("enforce-policy.json", {"apigateway:GET", "apigateway:PATCH", "iam:CreateServiceLinkedRole"})],
)
def test_target_policies_grant_only_api_gateway_and_the_target_operations(name, own):
    """Besides API Gateway (checked operation by operation above) and the service-linked role, exactly the derived
    operations made with the account's role: a grant the code no longer needs fails here."""
    granted = {action for statement in load_policy(name)["Statement"] for action in _as_list(statement["Action"])}
    assert granted == own | {"%s:%s" % operation for operation, (names, dummy) in TARGET_OPERATIONS.items() if name in names}


@pytest.mark.parametrize("operation", sorted(op for op in TARGET_OPERATIONS if op[0] == "securityhub"), ids=lambda operation: "%s:%s" % operation)
@pytest.mark.parametrize("name", ["audit-policy.json", "enforce-policy.json"])
def test_target_policies_allow_the_security_hub_calls(name, operation):
    """Audits publish findings too (they are a report output), so both target policies grant exactly these."""
    names, resources = TARGET_OPERATIONS[operation]
    assert name in names
    for resource in resources:
        assert allows(load_policy(name), "%s:%s" % operation, resource)


def test_security_hub_grants_are_exactly_the_calls_and_only_in_target_policies():
    for name in ("audit-policy.json", "enforce-policy.json", "hub-policy.json"):
        granted = {action for statement in load_policy(name)["Statement"] for action in _as_list(statement["Action"]) if action.startswith("securityhub:")}
        wanted = {"%s:%s" % operation for operation in TARGET_OPERATIONS if operation[0] == "securityhub"}
        assert granted == (set() if name == "hub-policy.json" else wanted), name
    # Imports only into an account's own product ('default'), never a partner's.
    audit = load_policy("audit-policy.json")
    assert not allows(audit, "securityhub:BatchImportFindings", "arn:aws:securityhub:%s:%s:product/aws/guardduty" % (REGION, ACCOUNT))


def test_no_policy_grants_what_needs_no_permission():
    """A grant of GetCallerIdentity would be a permission nothing needs; docs/iam.md says none is needed."""
    free = {("%s:%s" % operation).lower() for operation in NO_PERMISSION_NEEDED}
    for name in POLICY_FILES:
        granted = {action.lower() for statement in load_policy(name)["Statement"] for action in _as_list(statement["Action"])}
        assert not granted & free, name
    text = IAM_DOC.read_text(encoding="utf-8")
    (row,) = [line for line in text.splitlines() if line.startswith("| `GetCallerIdentity`")]
    assert "none needed" in row


def test_hub_policy_grants_only_what_the_code_calls():
    granted = {action for statement in load_policy("hub-policy.json")["Statement"] for action in _as_list(statement["Action"])}
    assert granted == {iam_action(operation) for operation in HUB_OPERATIONS}


def test_docs_name_no_amazon_aws_module_the_role_no_longer_runs():
    text = IAM_DOC.read_text(encoding="utf-8")
    assert not re.findall(r"amazon\.aws\.\w+", text)


def test_hub_policy_allows_the_inventory_calls():
    hub = load_policy("hub-policy.json")
    for operation in DERIVED["organizations"]:
        assert allows(hub, "organizations:" + operation, "*"), operation


def test_hub_policy_assumes_only_the_named_roles():
    hub = load_policy("hub-policy.json")
    assert not allows(hub, "sts:AssumeRole", "arn:aws:iam::%s:role/OrganizationAccountAccessRole" % ACCOUNT)
    assert not allows(hub, "sts:AssumeRole", "arn:aws:iam::%s:role/TracingAuditAdmin" % ACCOUNT)


def test_trust_policy_needs_the_external_id():
    trust = load_policy("trust-policy.json")
    assert trust["Statement"]
    for statement in trust["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
        principals = _as_list(statement["Principal"]["AWS"])
        assert principals and "*" not in principals
        assert all(principal.startswith("arn:aws:iam::%s:" % ACCOUNT) for principal in principals)
        external_id = statement["Condition"]["StringEquals"]["sts:ExternalId"]
        assert isinstance(external_id, str) and len(external_id) >= 2


# ---- the event source of continuous remediation (ansible-rulebook's principal) ------------------


@pytest.mark.parametrize("operation", sorted(EDA_SOURCE_OPERATIONS), ids=lambda operation: "%s:%s" % operation)
def test_eda_source_policy_allows_what_the_event_source_calls(operation):
    name, resources = EDA_SOURCE_OPERATIONS[operation]
    for resource in resources:
        assert allows(load_policy(name), iam_action(operation), resource), (operation, resource)
    # Its dead-letter queue holds what it could not take: for a person to look at, not for the source to read again.
    assert not allows(load_policy(name), iam_action(operation), EDA_DEAD_LETTER_QUEUE)
    # The sweep's principals do not read the queue.
    for other in POLICY_FILES:
        if other not in (name, "trust-policy.json"):
            assert not allows(load_policy(other), iam_action(operation), EDA_QUEUE), other


def test_eda_source_policy_grants_only_the_event_sources_calls():
    granted = {action for statement in load_policy("eda-source-policy.json")["Statement"] for action in _as_list(statement["Action"])}
    assert granted == {iam_action(operation) for operation in EDA_SOURCE_OPERATIONS} == {"sqs:ReceiveMessage", "sqs:DeleteMessage"}
    for name in POLICY_FILES:
        if name != "eda-source-policy.json":
            assert not [action for statement in load_policy(name)["Statement"] for action in _as_list(statement["Action"]) if action.startswith("sqs:")], name
