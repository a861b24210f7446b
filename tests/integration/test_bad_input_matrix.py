# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input matrix: the modules' options, the role's variables and the accounts inventory file.

Each case is one row of a table below (MODULE_CASES, ROLE_CASES, INVENTORY_CASES). Its tests assert
that the run fails, that the message names the field and the rule broken, and that the local AWS saw
no request the case could have caused, so nothing was changed. An ansible start-up costs more than a
second on a small machine, so the cases of each table share one run:

- modules: one task per case in ONE playbook (ignore_errors). Tasks of a play never overlap, so a
  request is attributed to a task by time; a valid control task at the end proves requests are seen.
- role: one inventory host per case, each host with its own variables and its own region, so any
  request a case caused carries that region. Bad settings stop every host of a run, once: the settings
  cases share ONE run of the enforce playbook, which makes no request at all and names each case's
  host. The target cases share another, where a valid control host enforces its own region, proving
  that writes are seen. A huge exemption list also goes the usual way (-e) to the enforce playbook,
  in a run of its own.
- once per run: a bad value given the usual way (-e) to each entry point of the role, with 4 hosts,
  is said in one line, once, in a small output, without any AWS call; one run per case.
- inventory: one accounts file per case, all given to ONE ansible-inventory run. A file that breaks a
  rule is skipped with a warning that names the file; valid control files (one listing an AWS
  Organization) prove the others would have been read.

A case whose ``gap`` is set shows a message or a rule that is still missing: its tests are expected
to fail (strict xfail) until the change named there is made.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
import yaml

from local_aws import seed
from plays import write_play

# The batches run once per pytest worker: `--dist loadgroup` keeps this file's tests on one worker.
pytestmark = pytest.mark.xdist_group("bad_input_matrix")

API = "a1b2c3d4e5"
INFO = "cloudops.apigw_tracing.apigw_stage_tracing_info"
TRACING = "cloudops.apigw_tracing.apigw_stage_tracing"
ENFORCE = "cloudops.apigw_tracing.enforce"
PLUGIN = "cloudops.apigw_tracing.accounts"
ARN = "arn:aws:apigateway:us-west-2::/restapis/a1b2c3d4e5/stages/prod"

# Words of a rule; a message must hold at least one of them.
# Every message reads '<path>: must be <rule>, got <value>' (module_utils/_rules.py): "must" alone names no rule.
FORMAT = ("lowercase", "letters", "characters")
PACE = ("must be a number greater than 0",)
REQUIRED = ("required", "requires", "missing", "together", "one of")
BOOL = ("boolean",)
UNKNOWN = ("unsupported", "unknown")


def case_id(case):
    return case.name.replace(" ", "-")


def named_in(message, case):
    """Fail unless ``message`` names every field of the case and at least one word of its rule."""
    for word in case.fields:
        assert word in message, "%r not named in: %s" % (word, message)
    assert any(word in message.lower() for word in case.rule), "no rule word %s in: %s" % (case.rule, message)


def expected_gap(case):
    """A strict xfail mark for a case with a known gap, else no mark."""
    return [pytest.mark.xfail(reason=case.gap, strict=True)] if case.gap else []


# ==== modules ======================================================================================


@dataclass(frozen=True)
class ModuleCase:
    """A module task that must fail before any AWS call.

    ``fields``: each must appear in the message; ``rule``: at least one must. ``gap``: why the message
    cannot name the field yet (only the message test is expected to fail; the no-request test is not).
    """

    name: str
    module: str
    args: dict
    fields: tuple
    rule: tuple
    gap: str = ""


def item(rest_api_id=API, stage_name="prod", **extra):
    return dict(rest_api_id=rest_api_id, stage_name=stage_name, **extra)


HUGE_STAGES = 5000
HUGE_BAD_INDEX = 4321
# 500 REST APIs x 10 stages, all well formed but one.
HUGE = [item("a%09d" % (index // 10), "s%d" % (index % 10)) for index in range(HUGE_STAGES)]
HUGE[HUGE_BAD_INDEX] = item("A%09d" % (HUGE_BAD_INDEX // 10), "s1")

STAGES_NOT_DICT_GAP = (
    "Ansible's own check of list elements fails before the module runs, with 'dictionary requested, could not "
    "parse JSON or key=value', which names no option. Needs apigw_stage_tracing to check the items of stages itself."
)

MODULE_CASES = [
    # apigw_stage_tracing_info
    ModuleCase("info rest_api_id malformed", INFO, {"rest_api_id": "A1B2C3D4E5"}, ("rest_api_id", "A1B2C3D4E5"), FORMAT),
    ModuleCase("info rest_api_id a list", INFO, {"rest_api_id": [API]}, ("rest_api_id",), FORMAT),
    ModuleCase("info stage_name malformed", INFO, {"rest_api_id": API, "stage_name": "prod stage"}, ("stage_name", "prod stage"), FORMAT),
    ModuleCase("info stage_name without rest_api_id", INFO, {"stage_name": "prod"}, ("rest_api_id",), REQUIRED),
    ModuleCase("info unknown option", INFO, {"rest_api_id": API, "stage": "prod"}, ("stage",), UNKNOWN),
    ModuleCase("info max_requests_per_second not a number", INFO, {"max_requests_per_second": "fast"}, ("max_requests_per_second", "'fast'"),
               PACE),
    # A boolean is no number (true is not 1 request/s), whatever Python says.
    ModuleCase("info max_requests_per_second a boolean", INFO, {"max_requests_per_second": True}, ("max_requests_per_second", "true (boolean)"),
               PACE),
    ModuleCase("info max_requests_per_second zero", INFO, {"max_requests_per_second": 0}, ("max_requests_per_second",), ("greater than 0",)),
    ModuleCase("info concurrency 17", INFO, {"concurrency": 17}, ("concurrency", "17"), ("1 to 16",)),
    ModuleCase("info concurrency not a number", INFO, {"concurrency": "x"}, ("concurrency",), ("int",)),
    # apigw_stage_tracing, one stage
    ModuleCase("rest_api_id 11 characters", TRACING, item("a1b2c3d4e5f"), ("rest_api_id", "a1b2c3d4e5f"), FORMAT),
    ModuleCase("stage_name empty", TRACING, item(stage_name=""), ("stage_name",), FORMAT),
    ModuleCase("both forms", TRACING, dict(item(), stages=[item()]), ("rest_api_id", "stages"), ("exclusive",)),
    ModuleCase("neither form", TRACING, {}, ("rest_api_id", "stages"), REQUIRED),
    ModuleCase("rest_api_id without stage_name", TRACING, {"rest_api_id": API}, ("stage_name",), REQUIRED),
    ModuleCase("tracing_enabled not a bool", TRACING, item(tracing_enabled="maybe"), ("tracing_enabled", "maybe"), BOOL),
    ModuleCase("ignore_missing not a bool", TRACING, item(ignore_missing="maybe"), ("ignore_missing", "maybe"), BOOL),
    ModuleCase("unknown option", TRACING, item(tracing=True), ("tracing",), UNKNOWN),
    ModuleCase("max_requests_per_second negative", TRACING, item(max_requests_per_second=-1), ("max_requests_per_second", "-1"), ("greater than 0",)),
    ModuleCase("max_requests_per_second a boolean", TRACING, item(max_requests_per_second=False), ("max_requests_per_second", "false (boolean)"),
               PACE),
    ModuleCase("concurrency 0", TRACING, item(concurrency=0), ("concurrency", "0"), ("1 to 16",)),
    # apigw_stage_tracing, list form
    ModuleCase("stages a string", TRACING, {"stages": API + "/prod"}, ("stages",), ("dict", "mapping"), gap=STAGES_NOT_DICT_GAP),
    ModuleCase("stages a mapping", TRACING, {"stages": item()}, ("stages",), ("list",)),
    ModuleCase("stages empty", TRACING, {"stages": []}, ("stages",), ("empty",)),
    ModuleCase("stages item unknown key", TRACING, {"stages": [item(colour="red")]}, ("stages", "colour"), UNKNOWN),
    ModuleCase("stages item without stage_name", TRACING, {"stages": [{"rest_api_id": API}]}, ("stages", "stage_name"), REQUIRED),
    ModuleCase("stages item rest_api_id malformed", TRACING, {"stages": [item(), item("ABC")]}, ("stages[1].rest_api_id", "ABC"), FORMAT),
    ModuleCase("stages item stage_name malformed", TRACING, {"stages": [item(stage_name="prod!")]}, ("stages[0].stage_name", "prod!"), FORMAT),
    ModuleCase("stages item tracing_enabled not a bool", TRACING, {"stages": [item(tracing_enabled="maybe")]}, ("stages", "tracing_enabled"), BOOL),
    ModuleCase("stages duplicate", TRACING, {"stages": [item(), item(stage_name="staging"), item()]}, ("stages[2]", API + "/prod", "stages[0]"),
               ("once",)),
    ModuleCase("stages 5000 items one malformed", TRACING, {"stages": HUGE}, ("stages[%d].rest_api_id" % HUGE_BAD_INDEX,), FORMAT),
]
MODULE_CONTROL = "control: a valid read"
MODULE_SEEDED = {(API, "prod"): None, (API, "staging"): True}


def module_state(apigw):
    return {key: apigw.get_stage(restApiId=key[0], stageName=key[1]).get("tracingEnabled") for key in MODULE_SEEDED}


@dataclass
class Batch:
    """What one batched run left: the run, every request the local AWS saw, and the state read after it."""

    run: object
    requests: list
    state: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def module_batch(local_aws_server, playbook_runner, tmp_path_factory):
    """Every module case as a task of one playbook, then a valid control task."""
    local_aws_server.rest_apis_page_cap = None
    local_aws_server.reset()
    apigw = local_aws_server.client("apigateway")
    seed(apigw, [{"name": "orders", "id": API, "stages": {"prod": {}, "staging": {"tracing": True}}}])
    assert module_state(apigw) == MODULE_SEEDED
    local_aws_server.clear()

    tasks = [{"name": case.name, case.module: case.args, "ignore_errors": True} for case in MODULE_CASES]
    tasks.append({"name": MODULE_CONTROL, TRACING: item(), "check_mode": True})
    playbook = write_play(tmp_path_factory.mktemp("module_matrix") / "bad_module_input.yml", "Bad module input", tasks)

    # Pipelining spares each of the many module runs its temporary files on the (local) target.
    run = playbook_runner.run(playbook, env={"ANSIBLE_PIPELINING": "true"})
    requests = local_aws_server.requests
    return Batch(run, requests, module_state(apigw))


def test_module_control_task_requests_are_seen(module_batch):
    run = module_batch.run
    assert run.rc == 0, run.describe()
    assert run.status(MODULE_CONTROL) == "ok"
    control = run.requests(MODULE_CONTROL, module_batch.requests)
    assert control and all(r.operation.startswith("Get") for r in control)
    # Nothing was asked of AWS before the control task: no case made a request.
    assert [r for r in module_batch.requests if r.received_at < run.results[MODULE_CONTROL]["started"]] == []
    assert module_batch.state == MODULE_SEEDED


@pytest.mark.parametrize("case", MODULE_CASES, ids=case_id)
def test_module_bad_input_fails_before_any_request(module_batch, case):
    run = module_batch.run
    assert run.status(case.name) == "failed", run.results[case.name]
    assert run.requests(case.name, module_batch.requests) == []
    assert module_batch.state == MODULE_SEEDED


@pytest.mark.parametrize("case", [pytest.param(case, marks=expected_gap(case)) for case in MODULE_CASES], ids=case_id)
def test_module_bad_input_message_names_the_field_and_rule(module_batch, case):
    named_in(module_batch.run.result(case.name)["msg"], case)


def test_module_bad_input_alone_sends_nothing(aws, apigw, run_playbook):
    """One case in a playbook of its own: the time attribution above hides nothing."""
    seed(apigw, [{"name": "orders", "id": API, "stages": {"prod": {}, "staging": {"tracing": True}}}])
    aws.clear()
    run = run_playbook("tracing.yml", {"stages": [item(), item("ABC")]})
    assert run.rc != 0
    assert run.status("Tracing") == "failed"
    assert run.result("Tracing")["msg"] == (
        "stages[1].rest_api_id: must be a REST API id: exactly 10 lowercase letters or digits, the id API Gateway assigns (e.g. a1b2c3d4e5), got 'ABC'"
    )
    assert aws.requests == []
    assert module_state(apigw) == MODULE_SEEDED


# ==== role variables ===============================================================================


@dataclass(frozen=True)
class RoleCase:
    """Role variables of one inventory host (over the role defaults) that must stop it before any AWS call.

    ``kind`` "settings": the run stops before any target starts, naming the host. "target": the target fails
    and the report lists it with the error. A variable set to None is left out. ``gap``: why the case is not
    caught yet (all its tests are expected to fail).
    """

    name: str
    variables: dict
    fields: tuple
    rule: tuple
    kind: str = "settings"
    gap: str = ""


RULE = {"name": "internal APIs", "match": {"api_name": "internal-*"}, "skip": True}
EXEMPTION = {"arn": ARN, "reason": "SOAP bridge, CHG-1187", "expires": "2099-12-31"}
ROLE = "arn:aws:iam::111111111111:role/TracingAudit"


def exemption(**fields):
    return dict({"reason": "cost review"}, **fields)


ROLE_CASES = [
    # Types of the settings
    RoleCase("desired_not_a_boolean", {"tracing_sweep_desired": "maybe"}, ("tracing_sweep_desired", "maybe"), ("boolean",)),
    RoleCase("rules_a_string", {"tracing_sweep_rules": "skip internal-*"}, ("tracing_sweep_rules",), ("list",)),
    RoleCase("exemptions_a_mapping", {"tracing_sweep_exemptions": EXEMPTION}, ("tracing_sweep_exemptions",), ("list",)),
    RoleCase("max_changes_negative", {"tracing_sweep_max_changes": -1}, ("tracing_sweep_max_changes", "-1"), (">= 0",)),
    RoleCase("report_formats_unknown", {"tracing_sweep_report_formats": ["json", "pdf"]}, ("tracing_sweep_report_formats[1]", "pdf", "markdown"),
             ("one of",)),
    RoleCase("endpoint_url_not_http", {"tracing_sweep_endpoint_url": "ftp://127.0.0.1"}, ("tracing_sweep_endpoint_url",), ("http",)),
    RoleCase("max_requests_per_second_zero", {"tracing_sweep_max_requests_per_second": 0}, ("tracing_sweep_max_requests_per_second",),
             ("greater than 0",)),
    RoleCase("max_requests_per_second_not_a_number", {"tracing_sweep_max_requests_per_second": "fast"},
             ("tracing_sweep_max_requests_per_second", "'fast'"), PACE),
    RoleCase("concurrency_17", {"tracing_sweep_concurrency": 17}, ("tracing_sweep_concurrency", "17"), ("1 to 16",)),
    RoleCase("concurrency_not_a_number", {"tracing_sweep_concurrency": "x"}, ("tracing_sweep_concurrency", "'x'"), ("whole number",)),
    RoleCase("fail_on_error_not_a_boolean", {"tracing_sweep_fail_on_error": "flase"}, ("tracing_sweep_fail_on_error", "flase"), ("boolean",)),
    RoleCase("allow_unknown_regions_not_a_list", {"tracing_sweep_allow_unknown_regions": True}, ("tracing_sweep_allow_unknown_regions", "true"),
             ("list of the region names",)),
    RoleCase("misspelt_variable", {"tracing_sweep_exemption": [EXEMPTION]}, ("tracing_sweep_exemption", "tracing_sweep_exemptions"),
             ("unknown variable",)),
    # Rules
    RoleCase("rule_a_string", {"tracing_sweep_rules": [RULE, "skip internal-*"]}, ("tracing_sweep_rules[1]",), ("mapping",)),
    RoleCase("rule_unknown_key", {"tracing_sweep_rules": [RULE, dict(RULE, action="skip")]}, ("tracing_sweep_rules[1]", "action"), ("unknown key",)),
    RoleCase("rule_match_unknown_key", {"tracing_sweep_rules": [{"match": {"stage": "dev*"}, "skip": True}]},
             ("tracing_sweep_rules[0].match", "stage"), ("unknown key",)),
    RoleCase("rule_tracing_enabled_a_string", {"tracing_sweep_rules": [{"match": {"stage_name": "dev*"}, "tracing_enabled": "yes"}]},
             ("tracing_sweep_rules[0].tracing_enabled", "yes"), ("boolean",)),
    RoleCase("rule_tag_without_key", {"tracing_sweep_rules": [{"match": {"tag": {"value": "gold"}}, "tracing_enabled": True}]},
             ("tracing_sweep_rules[0].match.tag.key",), ("required",)),
    RoleCase("rule_account_id_malformed", {"tracing_sweep_rules": [{"match": {"account_id": "1234"}, "tracing_enabled": False}]},
             ("tracing_sweep_rules[0].match.account_id", "1234"), ("12-digit",)),
    RoleCase("rule_without_a_result", {"tracing_sweep_rules": [{"match": {"api_name": "legacy-*"}}]}, ("tracing_sweep_rules[0]",), ("exactly one",)),
    RoleCase("rule_region_unknown", {"tracing_sweep_rules": [{"match": {"region": "eu-wset-1"}, "skip": True}]},
             ("tracing_sweep_rules[0].match.region", "eu-wset-1", "eu-west-1", "tracing_sweep_allow_unknown_regions"), ("region name",)),
    # Exemptions
    RoleCase("exemption_unknown_key", {"tracing_sweep_exemptions": [EXEMPTION, {"stage_name": "dev", "reasn": "typo"}]},
             ("tracing_sweep_exemptions[1]", "reasn", "tracing_sweep_exemptions[1].reason"), ("unknown key",)),
    RoleCase("exemption_empty", {"tracing_sweep_exemptions": [{}]}, ("tracing_sweep_exemptions[0]", "tracing_sweep_exemptions[0].reason"),
             ("at least one of",)),
    RoleCase("exemption_account_id_short", {"tracing_sweep_exemptions": [exemption(account_id="22222222222")]},
             ("tracing_sweep_exemptions[0].account_id", "22222222222"), ("12-digit",)),
    RoleCase("exemption_account_id_a_number", {"tracing_sweep_exemptions": [exemption(account_id=222222222222)]},
             ("tracing_sweep_exemptions[0].account_id", "integer"), ("as a string",)),
    RoleCase("exemption_arn_malformed", {"tracing_sweep_exemptions": [exemption(arn=ARN.rsplit("/stages", 1)[0])]},
             ("tracing_sweep_exemptions[0].arn",), ("stage arn",)),
    RoleCase("exemption_region_malformed", {"tracing_sweep_exemptions": [exemption(region="EU-WEST-1")]},
             ("tracing_sweep_exemptions[0].region", "EU-WEST-1"), ("region name",)),
    RoleCase("exemption_expires_impossible", {"tracing_sweep_exemptions": [exemption(arn=ARN, expires="2026-02-30")]},
             ("tracing_sweep_exemptions[0].expires", "2026-02-30"), ("yyyy-mm-dd",)),
    RoleCase("exemption_expires_with_time", {"tracing_sweep_exemptions": [exemption(arn=ARN, expires="2026-12-31T23:59:59Z")]},
             ("tracing_sweep_exemptions[0].expires",), ("yyyy-mm-dd",)),
    # Target variables, normally from the inventory
    # A host without a region fails as a target (it was ansible-core's argument check, which printed the whole spec).
    RoleCase("region_missing", {"tracing_sweep_region": None}, ("tracing_sweep_region",), REQUIRED, kind="target"),
    RoleCase("region_malformed", {"tracing_sweep_region": "EU-WEST-1"}, ("tracing_sweep_region", "EU-WEST-1", "eu-west-1"), ("region name",),
             kind="target"),
    # A region that does not exist is refused before any call, instead of retried and failed with the endpoint's error page.
    RoleCase("region_unknown", {"tracing_sweep_region": "eu-wset-1"},
             ("tracing_sweep_region", "eu-wset-1", "eu-west-1", "tracing_sweep_allow_unknown_regions"), ("region name",), kind="target"),
    RoleCase("account_id_short", {"tracing_sweep_account_id": "12345"}, ("tracing_sweep_account_id", "12345"), ("12-digit",), kind="target"),
    RoleCase("account_id_a_number", {"tracing_sweep_account_id": 111111111111}, ("tracing_sweep_account_id",), ("12-digit",), kind="target"),
    RoleCase("role_arn_not_a_role", {"tracing_sweep_role_arn": "arn:aws:iam::111111111111:user/TracingAudit"}, ("tracing_sweep_role_arn",),
             ("iam role arn",), kind="target"),
    RoleCase("role_arn_other_account", {"tracing_sweep_account_id": "222222222222", "tracing_sweep_role_arn": ROLE},
             ("tracing_sweep_role_arn", "222222222222", "111111111111"), ("must be a role in the account it sweeps",), kind="target"),
    RoleCase("external_id_malformed", {"tracing_sweep_role_arn": ROLE, "tracing_sweep_external_id": "has space"}, ("tracing_sweep_external_id",),
             ("2 to 1224 characters",), kind="target"),
    RoleCase("external_id_without_role", {"tracing_sweep_external_id": "xid-1234"}, ("tracing_sweep_external_id", "tracing_sweep_role_arn"),
             ("only used when",), kind="target"),
]
ROLE_CONTROL = "control"
# Whatever a task asks without a region of its own goes here (AWS_REGION of the runs): no case uses it.
DEFAULT_REGION = "us-east-1"
CONTROL_REGION = "eu-central-1"
# One region per target case, so that a request a case caused is known by its region. The settings cases make no
# request at all (their run stops before any target starts): they share one region.
CASE_REGIONS = [
    "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2", "eu-central-2", "il-central-1", "me-south-1", "me-central-1", "af-south-1",
    "ap-south-1", "ap-south-2", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
]
SETTINGS_CASES = [case for case in ROLE_CASES if case.kind == "settings"]
TARGET_CASES = [case for case in ROLE_CASES if case.kind == "target"]
SETTINGS_REGION = "us-west-2"
SETTINGS_TASK = "Check the settings of every target and make sure the reports can be written, once, before any AWS call"


REGION_OF_CASE = dict(zip([case.name for case in TARGET_CASES if "tracing_sweep_region" not in case.variables], CASE_REGIONS))


def case_region(case):
    """The region a case's host sweeps (None when the case leaves it out)."""
    if "tracing_sweep_region" in case.variables:
        return case.variables["tracing_sweep_region"]
    return REGION_OF_CASE.get(case.name, SETTINGS_REGION)


def role_inventory(report_dir, cases):
    hosts = {}
    for case in cases:
        variables = {"tracing_sweep_region": case_region(case)}
        variables.update(case.variables)
        hosts[case.name] = {key: value for key, value in variables.items() if value is not None}
    hosts[ROLE_CONTROL] = {"tracing_sweep_region": CONTROL_REGION}
    return {"all": {
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "tracing_sweep_report_dir": str(report_dir),
        },
        "hosts": hosts,
    }}


def stage_tracing(aws, region):
    """tracingEnabled of every stage in a region of the caller's account (absent reads as False)."""
    client = aws.client("apigateway", region)
    return {
        (api["id"], stage["stageName"]): bool(stage.get("tracingEnabled", False))
        for api in client.get_rest_apis(limit=500)["items"]
        for stage in client.get_stages(restApiId=api["id"])["item"]
    }


def role_batch(local_aws_server, playbook_runner, workdir, cases):
    """The cases as hosts of one enforce run, with a valid control host; the report and the state of both seeded regions."""
    assert DEFAULT_REGION not in CASE_REGIONS and CONTROL_REGION not in CASE_REGIONS
    local_aws_server.reset()
    for region in (DEFAULT_REGION, CONTROL_REGION):
        seed(local_aws_server.client("apigateway", region), [{"name": "orders", "stages": {"prod": {}}}])
    local_aws_server.clear()

    inventory = workdir / "hosts.yml"
    inventory.write_text(yaml.safe_dump(role_inventory(workdir / "reports", cases), sort_keys=False), encoding="utf-8")
    run = playbook_runner.run(ENFORCE, inventory=inventory)
    report_path = workdir / "reports" / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    requests = local_aws_server.requests
    state = {region: stage_tracing(local_aws_server, region) for region in (DEFAULT_REGION, CONTROL_REGION)}
    return Batch(run, requests, state, report)


@pytest.fixture(scope="session")
def role_settings_batch(local_aws_server, playbook_runner, tmp_path_factory):
    """Every settings case as a host of one enforce run, with a valid control host: the run stops before any target starts."""
    return role_batch(local_aws_server, playbook_runner, tmp_path_factory.mktemp("role_settings_matrix"), SETTINGS_CASES)


@pytest.fixture(scope="session")
def role_target_batch(local_aws_server, playbook_runner, tmp_path_factory):
    """Every target case as a host of one enforce run, with a valid control host, which is swept and enforced."""
    assert len(REGION_OF_CASE) == len([case for case in TARGET_CASES if "tracing_sweep_region" not in case.variables]), "more cases than regions"
    return role_batch(local_aws_server, playbook_runner, tmp_path_factory.mktemp("role_target_matrix"), TARGET_CASES)


def first_failure(run, host):
    """The first failed task result of a host, or None."""
    failed = [entry for entry in run.entries if entry["host"] == host and entry["status"] == "failed"]
    return failed[0] if failed else None


def host_problems(run, host):
    """The problems the settings check found in a host's own settings (the run's check, once, says each host's)."""
    entries = [entry for entry in run.entries if entry["task"] == SETTINGS_TASK]
    assert len(entries) == 1, "host %s: %s" % (host, run.describe())
    return entries[0]["result"]["problems_by_host"][host]


def test_role_bad_settings_stop_every_host_once_before_any_request(role_settings_batch):
    run = role_settings_batch.run
    assert run.rc != 0
    # One failure for the run (on the first host, run_once), not one per host; the valid control host stops too.
    failures = [entry for entry in run.entries if entry["status"] == "failed"]
    assert len(failures) == 1, run.describe()
    assert run.stdout.count("FAILED!") == 1
    assert failures[0]["result"]["msg"].startswith("Invalid sweep settings, nothing was done: ")
    assert host_problems(run, ROLE_CONTROL) == []
    assert role_settings_batch.requests == []
    assert not role_settings_batch.report
    assert list(role_settings_batch.state[DEFAULT_REGION].values()) == [False]
    assert list(role_settings_batch.state[CONTROL_REGION].values()) == [False]


def test_role_control_host_is_enforced_and_only_it_calls_aws(role_target_batch):
    run = role_target_batch.run
    # The cases fail the run; the control host is swept and enforced all the same.
    assert run.rc != 0
    assert first_failure(run, ROLE_CONTROL) is None, run.describe()
    targets = {target["host"]: target for target in role_target_batch.report["targets"]}
    assert targets[ROLE_CONTROL]["status"] == "ok"
    assert list(role_target_batch.state[CONTROL_REGION].values()) == [True]
    writes = [r for r in role_target_batch.requests if r.service == "apigateway" and r.method not in ("GET", "HEAD")]
    assert [(r.operation, r.region) for r in writes] == [("UpdateStage", CONTROL_REGION)]
    # Every request came from the control host (or from a case whose gap is known).
    allowed = {CONTROL_REGION} | {case_region(case) for case in TARGET_CASES if case.gap}
    assert {r.region for r in role_target_batch.requests} <= allowed
    assert list(role_target_batch.state[DEFAULT_REGION].values()) == [False]


@pytest.mark.parametrize("case", [pytest.param(case, marks=expected_gap(case)) for case in ROLE_CASES], ids=case_id)
def test_role_bad_variable_stops_the_host_before_any_request(role_settings_batch, role_target_batch, case):
    if case.kind == "settings":
        assert host_problems(role_settings_batch.run, case.name), "host %s has no problem" % case.name
        assert role_settings_batch.requests == []
        return
    failure = first_failure(role_target_batch.run, case.name)
    assert failure is not None, "host %s did not fail" % case.name
    region = case_region(case)
    assert [r.operation for r in role_target_batch.requests if region is not None and r.region == region] == []
    assert list(role_target_batch.state[DEFAULT_REGION].values()) == [False]


@pytest.mark.parametrize("case", [pytest.param(case, marks=expected_gap(case)) for case in ROLE_CASES], ids=case_id)
def test_role_bad_variable_message_names_the_field_and_rule(role_settings_batch, role_target_batch, case):
    if case.kind == "settings":
        problems = host_problems(role_settings_batch.run, case.name)
        message = "; ".join(problems)
        # The run's one failure says each of the host's problems, naming the host (no other host has it).
        (failure,) = [entry for entry in role_settings_batch.run.entries if entry["status"] == "failed"]
        for problem in problems:
            assert "%s (host %s)" % (problem, case.name) in failure["result"]["msg"]
    else:
        failure = first_failure(role_target_batch.run, case.name)
        assert failure is not None, "host %s did not fail" % case.name
        message = failure["result"]["msg"]
    named_in(message, case)
    if "tracing_sweep_external_id" in case.variables:
        # A secret: its value is never shown.
        assert case.variables["tracing_sweep_external_id"] not in message


@pytest.mark.parametrize("case", TARGET_CASES, ids=case_id)
def test_role_bad_target_is_reported_with_its_error(role_target_batch, case):
    targets = {target["host"]: target for target in role_target_batch.report["targets"]}
    assert targets[case.name]["status"] == "error"
    named_in(targets[case.name]["error"], case)


HUGE_EXEMPTIONS = 3000
HUGE_EXEMPTION_BAD_INDEX = 2718


def test_role_huge_exemption_list_with_one_bad_entry_stops_before_any_request(aws, run_playbook, tmp_path):
    """The usual way: the policy given with -e to the enforce playbook, one entry of thousands misspelt."""
    region = "us-west-2"
    seed(aws.client("apigateway", region), [{"name": "orders", "stages": {"prod": {}}}])
    aws.clear()
    exemptions = [exemption(api_name="legacy-%d" % index, stage_name="v1") for index in range(HUGE_EXEMPTIONS)]
    exemptions[HUGE_EXEMPTION_BAD_INDEX] = {"api_name": "legacy-x", "reasn": "typo of reason"}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"tooling_us-west-2": {"tracing_sweep_region": region}},
    }}), encoding="utf-8")
    report_dir = tmp_path / "reports"

    run = run_playbook(ENFORCE, {"tracing_sweep_exemptions": exemptions, "tracing_sweep_report_dir": str(report_dir)}, inventory=inventory)

    assert run.rc != 0
    failure = first_failure(run, "tooling_us-west-2")
    assert failure is not None, run.describe()
    path = "tracing_sweep_exemptions[%d]" % HUGE_EXEMPTION_BAD_INDEX
    assert failure["result"]["msg"].endswith(
        "%s: unknown key 'reasn'; an exemption takes only arn, function_arn, account_id, region, api_id, api_name, stage_name, reason, expires; "
        "%s.reason: is required: a non-empty string saying why the stages are exempt" % (path, path)
    ), failure["result"]["msg"]
    # Only that entry is named.
    assert failure["result"]["msg"].count("tracing_sweep_exemptions[") == 2
    assert aws.requests == []
    assert list(stage_tracing(aws, region).values()) == [False]
    assert not report_dir.exists()


# ==== once per run =================================================================================

AUDIT = "cloudops.apigw_tracing.audit"
ROLLBACK = "cloudops.apigw_tracing.rollback"
MERGE = "cloudops.apigw_tracing.merge_reports"
REGION_TRACING = "cloudops.apigw_tracing.region_tracing"
# ansible-core's own check of the role's variables printed its whole argument spec, about 10 KB, once per host.
OUTPUT_BOUND = 6 * 1024
ONCE_HOSTS = {"prod_us-east-1": "us-east-1", "prod_eu-west-1": "eu-west-1", "dev_us-east-1": "us-east-1", "dev_eu-west-1": "eu-west-1"}


@dataclass(frozen=True)
class OnceCase:
    """A bad value given as a user types it (``args``, -e) to an entry point of the role, on 4 hosts (or none).

    ``said``: the variable, the value as shown and what is allowed, each in the one line the run prints.
    """

    name: str
    playbook: str
    args: tuple
    said: tuple
    hosts: int = 4


ONCE_CASES = [
    # A wrong choice, of each kind the argument spec had: a boolean's, a list's elements'.
    OnceCase("desired_misspelt", ENFORCE, ("-e", "tracing_sweep_desired=flase"), ("tracing_sweep_desired", "'flase'", "true or false")),
    OnceCase("report_formats_pdf", ENFORCE, ("-e", "tracing_sweep_report_formats=pdf"),
             ("tracing_sweep_report_formats", "'pdf'", "json, markdown, junit, csv, html")),
    # A wrong type.
    OnceCase("max_changes_not_a_number", ENFORCE, ("-e", "tracing_sweep_max_changes=many"), ("tracing_sweep_max_changes", "'many'", "whole number")),
    OnceCase("rules_a_mapping", ENFORCE, ("-e", '{"tracing_sweep_rules": {"skip": true}}'), ("tracing_sweep_rules", "a mapping", "list of rules")),
    OnceCase("audit_concurrency_17", AUDIT, ("--check", "-e", "tracing_sweep_concurrency=17"), ("tracing_sweep_concurrency", "'17'", "1 to 16")),
    # The private entry point of a run without a target (localhost).
    OnceCase("no_target_desired_misspelt", ENFORCE, ("-e", "tracing_sweep_desired=flase"), ("tracing_sweep_desired", "'flase'", "true or false"),
             hosts=0),
    # A missing required value, and the other entry points.
    OnceCase("rollback_without_report", ROLLBACK, (), ("tracing_sweep_rollback_report", "null", "report.json the enforcement to undo wrote")),
    OnceCase("rollback_fail_on_error_misspelt", ROLLBACK, ("-e", "tracing_sweep_rollback_report=report.json", "-e", "tracing_sweep_fail_on_error=ture"),
             ("tracing_sweep_fail_on_error", "'ture'", "true or false")),
    OnceCase("merge_without_reports", MERGE, (), ("tracing_sweep_merge_reports", "null", "non-empty list")),
    OnceCase("merge_reports_a_mapping", MERGE, ("-e", '{"tracing_sweep_merge_reports": {"slice": 1}}'),
             ("tracing_sweep_merge_reports", "a mapping", "non-empty list")),
    OnceCase("merge_report_formats_pdf", MERGE, ("-e", '{"tracing_sweep_merge_reports": ["slice1"]}', "-e", "tracing_sweep_report_formats=pdf"),
             ("tracing_sweep_report_formats", "'pdf'", "json, markdown, junit, csv, html")),
    # A region that looks like one but does not exist.
    OnceCase("region_tracing_region_typo", REGION_TRACING, ("-e", "apigw_tracing_region=eu-wset-1"),
             ("apigw_tracing_region", "'eu-wset-1'", "eu-west-1", "tracing_sweep_allow_unknown_regions")),
]


@pytest.mark.parametrize("case", ONCE_CASES, ids=case_id)
def test_bad_value_is_one_line_said_once_per_run(aws, run_playbook, tmp_path, case):
    hosts = dict(list(ONCE_HOSTS.items())[:case.hosts])
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {name: {"tracing_sweep_region": region} for name, region in hosts.items()},
    }}), encoding="utf-8")

    run = run_playbook(case.playbook, inventory=inventory, args=case.args)

    assert run.rc != 0, run.describe()
    output = run.stdout + run.stderr
    # One failure for the run, not one per host, and no argument spec printed.
    failures = [entry for entry in run.entries if entry["status"] == "failed"]
    assert len(failures) == 1, run.describe()
    assert output.count("FAILED!") == 1, run.describe()
    assert "argument_spec" not in output
    message = failures[0]["result"]["msg"]
    assert "\n" not in message
    for words in case.said:
        assert words in message, "%r not in: %s" % (words, message)
    assert len(output.encode("utf-8")) < OUTPUT_BOUND, run.describe()
    # Nothing was swept: no AWS call, no report.
    assert aws.requests == []
    assert not (run.workdir / "tracing-sweep-reports").exists()


# ==== inventory file ===============================================================================


@dataclass(frozen=True)
class InventoryCase:
    """An accounts inventory file that must be refused, naming the field and the rule, without any AWS call."""

    name: str
    config: dict
    fields: tuple
    rule: tuple

    @property
    def file_name(self):
        return "%s.accounts.yml" % self.name


def static(**options):
    """A valid static file, changed by ``options``."""
    return dict({"plugin": PLUGIN, "regions": ["us-west-2"], "accounts": [{"id": "111111111111", "name": "prod"}]}, **options)


def organization(**options):
    """A valid organization file, changed by ``options`` (of organization)."""
    return {"plugin": PLUGIN, "regions": ["us-west-2"], "organization": dict({"role_name": "TracingAudit"}, **options)}


def account(**fields):
    return dict({"id": "111111111111", "name": "prod"}, **fields)


HUGE_ACCOUNTS = 3000
HUGE_ACCOUNT_BAD_INDEX = 2345
HUGE_ACCOUNT_LIST = [{"id": "%012d" % (100000000000 + index), "name": "acct-%d" % index} for index in range(HUGE_ACCOUNTS)]
HUGE_ACCOUNT_LIST[HUGE_ACCOUNT_BAD_INDEX] = {"id": "12345678901", "name": "short-id"}
SECRET_EXTERNAL_ID = "has space-7f3a"

INVENTORY_CASES = [
    # Types
    InventoryCase("accounts_a_mapping", static(accounts=account()), ("accounts",), ("list",)),
    InventoryCase("regions_a_number", static(regions=5), ("regions",), ("list",)),
    InventoryCase("organization_a_string", {"plugin": PLUGIN, "regions": ["us-west-2"], "organization": "TracingAudit"}, ("organization",), ("dict",)),
    InventoryCase("account_a_number", static(accounts=[111111111111]), ("accounts[0]",), ("mapping",)),
    InventoryCase("account_id_unquoted", static(accounts=[account(id=111111111111)]), ("accounts[0].id", "111111111111"), ("in quotes",)),
    InventoryCase("account_name_a_number", static(accounts=[account(name=7)]), ("accounts[0].name",), ("non-empty string",)),
    # Unknown keys
    InventoryCase("unknown_option", dict(static(), regoins=["eu-west-1"]), ("regoins", "regions"), ("unknown option",)),
    InventoryCase("account_unknown_key", static(accounts=[account(role="TracingAudit")]), ("accounts[0]", "role"), ("unknown key",)),
    InventoryCase("organization_unknown_key", organization(role="TracingAudit"), ("organization", "role"), ("unknown key",)),
    # Malformed ids, ARNs, regions
    InventoryCase("account_id_short", static(accounts=[account(id="11111111111")]), ("accounts[0].id", "11111111111"), ("12-digit",)),
    InventoryCase("role_arn_not_a_role", static(accounts=[account(role_arn="arn:aws:iam::111111111111:user/TracingAudit")]),
                  ("accounts[0].role_arn",), ("iam role arn",)),
    InventoryCase("role_arn_other_account", static(accounts=[account(role_arn="arn:aws:iam::222222222222:role/TracingAudit")]),
                  ("accounts[0].role_arn", "222222222222", "111111111111"), ("must be a role in the account it sweeps",)),
    InventoryCase("region_malformed", static(regions=["eu-west"]), ("regions[0]", "eu-west"), ("region name",)),
    InventoryCase("account_region_malformed", static(accounts=[account(regions=["EU-WEST-1"])]), ("accounts[0].regions[0]", "EU-WEST-1"),
                  ("region name",)),
    # Regions that look like one but that no partition of the installed botocore has, wherever the file names them.
    InventoryCase("region_unknown", static(regions=["eu-wset-1"]), ("regions[0]", "eu-wset-1", "eu-west-1", "allow_unknown_regions"),
                  ("region name",)),
    InventoryCase("account_region_unknown", static(accounts=[account(regions=["us-west-2", "us-wset-2"])]),
                  ("accounts[0].regions[1]", "us-wset-2", "us-west-2", "allow_unknown_regions"), ("region name",)),
    InventoryCase("organization_region_unknown", organization(regions=["eu-wset-1"]),
                  ("organization.regions[0]", "eu-wset-1", "eu-west-1", "allow_unknown_regions"), ("region name",)),
    InventoryCase("exclude_region_unknown", static(regions="enabled", exclude_regions=["eu-wset-1"], accounts=[account(role_arn=ROLE)]),
                  ("exclude_regions[0]", "eu-wset-1", "eu-west-1", "allow_unknown_regions"), ("region name",)),
    InventoryCase("allow_unknown_regions_malformed", static(allow_unknown_regions=["XX-NEWREGION-1"]),
                  ("allow_unknown_regions[0]", "XX-NEWREGION-1"), ("region name",)),
    InventoryCase("external_id_malformed", static(accounts=[account(role_arn=ROLE, external_id=SECRET_EXTERNAL_ID)]),
                  ("accounts[0].external_id",), ("2 to 1224 characters",)),
    InventoryCase("external_id_without_role", static(accounts=[account(external_id="xid-1234")]), ("accounts[0].external_id", "role_arn"),
                  ("only applies",)),
    InventoryCase("organization_role_name_an_arn", organization(role_name=ROLE), ("organization.role_name",), ("iam role name",)),
    InventoryCase("organization_partition_unknown", organization(partition="aws-mars"), ("organization.partition", "aws-mars"), ("one of",)),
    # Empty lists
    InventoryCase("accounts_empty", static(accounts=[]), ("accounts",), ("no accounts",)),
    InventoryCase("account_regions_empty", static(accounts=[account(regions=[])]), ("accounts[0].regions",), ("empty",)),
    InventoryCase("organization_regions_empty", organization(regions=[]), ("organization.regions",), ("empty",)),
    # Repeats
    InventoryCase("account_listed_twice", static(accounts=[account(), account(name="prod-again")]), ("accounts[1].id", "accounts[0]"),
                  ("once",)),
    InventoryCase("region_listed_twice", static(regions=["us-west-2", "eu-west-1", "us-west-2"]), ("regions[2]", "regions[0]"), ("once",)),
    InventoryCase("account_names_clash", static(accounts=[account(), account(id="222222222222")]), ("accounts[0]", "accounts[1]", "'prod'"),
                  ("another name",)),
    # Huge
    InventoryCase("accounts_3000_one_malformed", static(accounts=HUGE_ACCOUNT_LIST), ("accounts[%d].id" % HUGE_ACCOUNT_BAD_INDEX, "12345678901"),
                  ("12-digit",)),
]
STATIC_CONTROL = {"plugin": PLUGIN, "regions": ["us-west-2"], "accounts": [{"id": "999999999999", "name": "control"}]}
ORGANIZATION_CONTROL = {"plugin": PLUGIN, "regions": ["us-west-2"], "organization": {"role_name": "OrgControl"}}
INVENTORY_TIMEOUT = 120


def warning_blocks(stderr):
    """The warnings of an ansible-inventory run, one string each."""
    return [block for block in stderr.split("[WARNING]: ") if block.strip()]


@dataclass
class InventoryBatch:
    rc: int
    stdout: str
    stderr: str
    workdir: Path
    requests: list

    def describe(self):
        return "rc=%s\nSTDOUT:\n%s\nSTDERR:\n%s" % (self.rc, self.stdout[:2000], self.stderr)

    def message(self, file_name):
        """Our plugin's error for a file (the warning that says the file failed to parse)."""
        path = str(self.workdir / file_name)
        blocks = [block for block in warning_blocks(self.stderr) if path in block and "Failed to parse inventory" in block]
        assert blocks, "no parse failure for %s; %s" % (file_name, self.describe())
        return blocks[0]

    @property
    def hostvars(self):
        data = json.loads(self.stdout, object_hook=_plain)
        return data["_meta"]["hostvars"]


def _plain(mapping):
    # ansible-core 2.19 shows strings it must not template as {"__ansible_unsafe": "..."}.
    if set(mapping) == {"__ansible_unsafe"}:
        return mapping["__ansible_unsafe"]
    return mapping


@pytest.fixture(scope="session")
def inventory_batch(local_aws_server, playbook_runner, ansible_playbook_cmd, tmp_path_factory):
    """Every inventory case as a file of one ansible-inventory --list run, with a static and an organization control."""
    command = Path(ansible_playbook_cmd).with_name("ansible-inventory")
    local_aws_server.reset()
    local_aws_server.client("organizations").create_organization(FeatureSet="ALL")
    local_aws_server.clear()

    workdir = tmp_path_factory.mktemp("inventory_matrix")
    sources = {"control.accounts.yml": STATIC_CONTROL, "organization-control.accounts.yml": ORGANIZATION_CONTROL}
    sources.update({case.file_name: case.config for case in INVENTORY_CASES})
    cmd = [str(command)]
    for name, config in sources.items():
        (workdir / name).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        cmd += ["-i", str(workdir / name)]
    cmd.append("--list")
    # A source that fails to parse is a warning here, so that every file gets its say in one run; only the
    # auto plugin (which hands each file to ours) is enabled, so each failure is one warning.
    run_env = playbook_runner.environment(env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "false", "ANSIBLE_INVENTORY_ENABLED": "auto"})
    proc = subprocess.run(cmd, cwd=str(workdir), env=run_env, capture_output=True, text=True, timeout=INVENTORY_TIMEOUT, check=False)
    return InventoryBatch(proc.returncode, proc.stdout, proc.stderr, workdir, local_aws_server.requests)


def test_inventory_control_files_are_read_and_only_the_organization_is_asked(inventory_batch):
    batch = inventory_batch
    assert batch.rc == 0, batch.describe()
    hostvars = batch.hostvars
    assert hostvars.pop("control_us-west-2")["tracing_sweep_account_id"] == "999999999999"
    # What is left came from the organization control file; no case file added a host.
    assert hostvars and all(host["tracing_sweep_role_arn"].endswith(":role/OrgControl") for host in hostvars.values())
    assert [r.operation for r in batch.requests] == ["ListAccounts"]


@pytest.mark.parametrize("case", INVENTORY_CASES, ids=case_id)
def test_inventory_bad_file_is_refused_naming_the_field_and_rule(inventory_batch, case):
    message = inventory_batch.message(case.file_name)
    named_in(message, case)
    assert SECRET_EXTERNAL_ID not in message


def test_inventory_huge_file_names_only_the_bad_entry(inventory_batch):
    message = inventory_batch.message("accounts_3000_one_malformed.accounts.yml")
    assert "1 problem in the accounts inventory" in message
