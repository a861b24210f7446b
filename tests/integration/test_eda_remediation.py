# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Continuous remediation end to end: the shipped rulebook cloudops.apigw_tracing.remediate_stages under the real
ansible-rulebook, fed by an EventBridge rule with the templates' pattern delivering to an SQS queue of the local AWS,
running the playbook cloudops.apigw_tracing.remediate on the accounts inventory of tools/sweep_world.py.

Each test starts one ansible-rulebook (the venv of `make eda-deps`; skipped, saying why, without it or Java 17), puts
CloudTrail-shaped events on the bus as CloudTrail would after a deployment, waits for what the run must leave (the
stage's state, the run's report directory), then stops the process. No test measures time.
"""

from __future__ import annotations

import collections
import json
import os
import time

import pytest
import yaml

from eda_run import EDA_VENV
from eda_run import GUARD_SECONDS
from eda_run import REPO
from eda_run import Queue
from eda_run import RulebookRun
from eda_run import rulebook_command as find_rulebook_command
from eda_world import event_pattern
from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

pytestmark = pytest.mark.xdist_group("eda_remediation")

RULEBOOK = "cloudops.apigw_tracing.remediate_stages"
SHIPPED = REPO / "extensions" / "eda" / "rulebooks" / "remediate_stages.yml"
PROD = "111111111111"
REGION = "us-east-1"


def cloudtrail(event_name, api, stage, session="deploy-pipeline", account=PROD, region=REGION):
    """The CloudTrail record of an API Gateway call that changed ``stage``, as EventBridge's detail."""
    request = {"restApiId": api, "stageName": stage}
    if event_name == "CreateStage":
        request = {"restApiId": api, "createStageInput": {"stageName": stage, "deploymentId": "d1"}}
    elif event_name == "CreateDeployment":
        request = {"restApiId": api, "createDeploymentInput": {"stageName": stage}}
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:%s" % session,
                         "arn": "arn:aws:sts::%s:assumed-role/Deployer/%s" % (account, session), "accountId": account},
        "eventTime": "2026-12-05T09:00:00Z", "eventSource": "apigateway.amazonaws.com", "eventName": event_name,
        "awsRegion": region, "requestParameters": request, "responseElements": None, "eventID": "ct-%s-%s-%s" % (event_name, api, stage),
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": account,
    }


class World:
    """The estate, an EventBridge rule with the shipped pattern delivering to a queue, and the rulebook's variables."""

    def __init__(self, aws, tmp_path):
        self.aws = aws
        self.queue = Queue(aws)
        self.events = aws.client("events", region=REGION)
        self.events.put_rule(Name="apigw-tracing-stage-events", EventPattern=json.dumps(event_pattern()))
        self.events.put_targets(Rule="apigw-tracing-stage-events", Targets=[{"Id": "queue", "Arn": self.queue.arn}])
        self.reports = tmp_path / "remediations"
        # An inventory directory, as the scheduled sweep's: the accounts file, and the policy in its group variables
        # (ansible-rulebook copies the directory for each playbook run).
        self.inventory = tmp_path / "inventory"
        (self.inventory / "group_vars").mkdir(parents=True)
        write_yaml(self.inventory / "estate.accounts.yml", accounts_inventory())

    def policy(self, policy):
        write_yaml(self.inventory / "group_vars" / "all.yml", policy)

    def put(self, *details):
        for start in range(0, len(details), 10):
            entries = [{"Source": "aws.apigateway", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(detail)}
                       for detail in details[start:start + 10]]
            assert self.events.put_events(Entries=entries)["FailedEntryCount"] == 0

    def runs(self):
        """The report.json of each remediation run so far, in order."""
        if not self.reports.is_dir():
            return []
        found = []
        for path in sorted(self.reports.iterdir()):
            report = path / "report.json"
            if report.exists():
                found.append(json.loads(report.read_text(encoding="utf-8")))
        return found


@pytest.fixture
def world(aws, estate, tmp_path):
    return World(estate, tmp_path)


@pytest.fixture
def rulebook(aws, collections_path, tmp_path):
    """rulebook(world, mode="enforce", extra_vars=None) -> RulebookRun of the shipped rulebook; killed at teardown."""
    command = find_rulebook_command()
    runs = []

    def start(world, mode="enforce", policy=None):
        rulebook_vars = {"queue_url": world.queue.url, "remediate_mode": mode, "remediation_dir": str(world.reports)}
        vars_path = tmp_path / "vars.yml"
        vars_path.write_text(yaml.safe_dump(rulebook_vars), encoding="utf-8")
        world.policy(POLICY if policy is None else policy)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_"))}
        env.update({
            "PATH": "%s%s%s" % (EDA_VENV / "bin", os.pathsep, env.get("PATH", "")),
            "VIRTUAL_ENV": str(EDA_VENV),
            "ANSIBLE_COLLECTIONS_PATH": collections_path,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": aws.endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
        })
        run = RulebookRun(command, vars_path, collections_path, tmp_path, env, rulebook=RULEBOOK,
                          args=["-i", str(world.inventory)])
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill()


def wait(run, what, predicate):
    """Wait until predicate() holds, reading the output as it comes; fails with the output if the process ends."""
    end = time.monotonic() + GUARD_SECONDS
    while not predicate():
        if run.proc.poll() is not None:
            pytest.fail("ansible-rulebook ended (rc=%s) before %s\n%s" % (run.proc.returncode, what, run.describe()))
        if time.monotonic() > end:
            pytest.fail("no %s after %d s\n%s" % (what, GUARD_SECONDS, run.describe()))
        time.sleep(0.5)


def calls(aws):
    return collections.Counter(r.operation for r in aws.requests)


def test_the_rulebook_is_shipped_in_the_collection():
    assert SHIPPED.is_file()


def test_a_stage_shipped_untraced_is_traced_and_the_collections_own_change_is_ignored(world, rulebook):
    world.aws.clear()
    run = rulebook(world)
    world.put(cloudtrail("CreateStage", "ord1111use", "staging"))

    wait(run, "the remediation's report", world.runs)
    # The collection's own UpdateStage reaches the queue too (CloudTrail records it): it is ignored, never a second run.
    world.put(cloudtrail("UpdateStage", "ord1111use", "staging", session="cloudops-tracing-sweep"))
    wait(run, "the own change ignored", lambda: any("made by this collection's own session" in line for line in run.stdout + run.stderr))
    run.kill()
    # What the rulebook's run asked of AWS (the test's own reads below come after).
    made = calls(world.aws)

    assert tracing_state(world.aws)[(PROD, REGION, "ord1111use", "staging")]
    [report] = world.runs()
    assert [(row["rest_api_id"], row["stage_name"], row["action"]) for row in report["stages"]] == [("ord1111use", "staging", "enabled")]
    assert report["run"]["named_stages"] == [{"rest_api_id": "ord1111use", "stage_name": "staging"}]
    # One STS call, one GetStage (and one GetRestApi: the policy selects by API name), one UpdateStage; never a region-wide read.
    assert made["UpdateStage"] == 1 and made["GetStage"] == 1 and made["AssumeRole"] == 1
    assert "GetRestApis" not in made and "GetStages" not in made


def test_exempt_tagged_and_rule_skipped_stages_are_left_alone(world, rulebook):
    run = rulebook(world)
    # The exempt tag (canary), a rule that skips by API name (internal-reports), an exemption by ARN (the legacy SOAP
    # stage, in the account the controller's own credentials reach: no role).
    world.put(cloudtrail("UpdateStage", "ord1111euw", "canary", region="eu-west-1"), cloudtrail("CreateStage", "irp2222use", "dev", account="222222222222"),
              cloudtrail("CreateDeployment", "leg0000use", "v1", account="123456789012"))

    wait(run, "three runs", lambda: len(world.runs()) >= 3)
    run.kill()

    rows = {(row["rest_api_id"], row["stage_name"]): row["action"] for report in world.runs() for row in report["stages"]}
    assert rows == {("ord1111euw", "canary"): "exempt", ("irp2222use", "dev"): "skipped", ("leg0000use", "v1"): "exempt"}
    state = tracing_state(world.aws)
    assert not state[(PROD, "eu-west-1", "ord1111euw", "canary")] and not state[("222222222222", REGION, "irp2222use", "dev")]


def test_audit_mode_changes_nothing(world, rulebook):
    run = rulebook(world, mode="audit")
    world.put(cloudtrail("CreateStage", "pay1111use", "prod"))

    wait(run, "the audit's report", world.runs)
    run.kill()

    [report] = world.runs()
    assert report["mode"] == "audit" and [row["action"] for row in report["stages"]] == ["would_enable"]
    assert not tracing_state(world.aws)[(PROD, REGION, "pay1111use", "prod")]


def test_a_burst_of_50_new_stages_is_fixed_by_a_few_runs_with_the_fewest_calls(world, rulebook):
    client = world.aws.client("apigateway", REGION, account=PROD)
    names = ["burst%02d" % n for n in range(50)]
    for name in names:
        client.create_stage(restApiId="ord1111use", stageName=name, deploymentId="d-burst")
    world.aws.clear()
    run = rulebook(world)
    world.put(*[cloudtrail("CreateStage", "ord1111use", name) for name in names])

    wait(run, "the 50 stages traced", lambda: sum(len(report["stages"]) for report in world.runs()) >= 50)
    run.kill()

    made = calls(world.aws)
    reports = world.runs()
    # Coalesced: a few batches of one target (the source's window), never 50 runs.
    assert 1 <= len(reports) <= 5, [len(report["stages"]) for report in reports]
    state = tracing_state(world.aws)
    assert all(state[(PROD, REGION, "ord1111use", name)] for name in names)
    assert made["UpdateStage"] == 50 and made["GetStage"] == 50 and made["AssumeRole"] == len(reports)
    assert "GetStages" not in made and "GetRestApis" not in made


def test_the_guard_refuses_a_burst_above_max_changes(world, rulebook):
    client = world.aws.client("apigateway", REGION, account=PROD)
    names = ["many%02d" % n for n in range(12)]
    for name in names:
        client.create_stage(restApiId="ord1111use", stageName=name, deploymentId="d-many")
    policy = dict(POLICY, tracing_sweep_max_changes=5)
    run = rulebook(world, policy=policy)
    world.put(*[cloudtrail("CreateStage", "ord1111use", name) for name in names])

    wait(run, "the refused run's report", lambda: sum(len(report["stages"]) for report in world.runs()) >= 12)
    run.kill()

    actions = {row["action"] for report in world.runs() for row in report["stages"]}
    assert "enabled" not in actions and "refused" in actions
    assert not any(tracing_state(world.aws)[(PROD, REGION, "ord1111use", name)] for name in names)
