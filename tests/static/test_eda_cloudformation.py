# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CloudFormation templates of extensions/eda/cloudformation against the event source they feed.

Every EventBridge rule of every template must carry exactly the event pattern of the contract (docs/eda.md), whose
event names are EVENT_NAMES of the event source (extensions/eda/plugins/event_source/stage_events.py, loaded by file
path: it is the single source of truth). The queue, its dead-letter queue and policy, the central bus and the member
accounts' forwarder are read as data here; `make cfn-lint` checks the templates against CloudFormation's schemas.
The templates are written in CloudFormation's long form (Ref:, Fn::GetAtt:), so plain YAML loads them.
"""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
import yaml
from moto.events.models import EventPattern

from conftest import REPO

TEMPLATE_DIR = REPO / "extensions" / "eda" / "cloudformation"
EVENT_SOURCE = REPO / "extensions" / "eda" / "plugins" / "event_source" / "stage_events.py"
TEMPLATES = ("central-bus.yaml", "member-forwarder.yaml", "stage-events-queue.yaml")
# The templates that hold an EventBridge rule; each rule must have the pattern below.
RULE_TEMPLATES = ("member-forwarder.yaml", "stage-events-queue.yaml")


def _event_names():
    spec = importlib.util.spec_from_file_location("apigw_tracing_stage_events", EVENT_SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EVENT_NAMES


EVENT_NAMES = _event_names()


def expected_pattern():
    """The contract's pattern (docs/eda.md), with the event source's names."""
    return {
        "source": ["aws.apigateway"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["apigateway.amazonaws.com"], "eventName": list(EVENT_NAMES)},
    }


def load(name):
    return yaml.safe_load((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def resources_of(template, resource_type):
    return {logical: resource for logical, resource in template["Resources"].items() if resource["Type"] == resource_type}


def envelope(event_name, event_source="apigateway.amazonaws.com", source="aws.apigateway"):
    """An EventBridge envelope of a CloudTrail record, as EventBridge matches it against a rule."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": "123456789012",
        "time": "2026-12-05T09:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventSource": event_source,
            "eventName": event_name,
            "awsRegion": "eu-west-1",
            "requestParameters": {"restApiId": "a1b2c3d4e5", "stageName": "prod"},
        },
    }


def test_the_event_source_names_the_handled_events():
    assert isinstance(EVENT_NAMES, tuple) and len(set(EVENT_NAMES)) == len(EVENT_NAMES)
    assert set(EVENT_NAMES) == {"CreateStage", "UpdateStage", "DeleteStage", "CreateDeployment", "TagResource", "UntagResource"}


def test_the_template_directory_holds_exactly_the_documented_templates():
    assert sorted(path.name for path in TEMPLATE_DIR.iterdir()) == sorted(TEMPLATES)
    for name in TEMPLATES:
        template = load(name)
        assert template["AWSTemplateFormatVersion"] == "2010-09-09"
        assert template["Description"] and len(template["Description"]) <= 1024


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_rule_has_the_event_pattern_the_source_accepts(name):
    rules = resources_of(load(name), "AWS::Events::Rule")
    assert bool(rules) == (name in RULE_TEMPLATES), name
    for logical, rule in rules.items():
        pattern = rule["Properties"]["EventPattern"]
        names = pattern["detail"]["eventName"]
        assert len(set(names)) == len(names), "%s %s: an event name twice" % (name, logical)
        assert pattern == expected_pattern(), "%s %s: the pattern must be exactly the event source's (EVENT_NAMES)" % (name, logical)
        assert rule["Properties"]["State"] == "ENABLED"


@pytest.mark.parametrize("event_name", EVENT_NAMES)
def test_the_pattern_matches_each_handled_event(event_name):
    assert EventPattern.load(json.dumps(expected_pattern())).matches_event(envelope(event_name))


@pytest.mark.parametrize(
    "event",
    [
        envelope("GetStage"),
        envelope("CreateRestApi"),
        envelope("UpdateStage", event_source="lambda.amazonaws.com"),
        envelope("UpdateStage", source="aws.lambda"),
        dict(envelope("UpdateStage"), **{"detail-type": "AWS Service Event via CloudTrail"}),
    ],
    ids=["read", "other-call", "other-event-source", "other-source", "other-detail-type"],
)
def test_the_pattern_lets_nothing_else_through(event):
    assert not EventPattern.load(json.dumps(expected_pattern())).matches_event(event)


# ---- stage-events-queue.yaml --------------------------------------------------------------------


def _queue_template():
    template = load("stage-events-queue.yaml")
    queues = resources_of(template, "AWS::SQS::Queue")
    assert sorted(queues) == ["StageEventsDeadLetterQueue", "StageEventsQueue"]
    return template, queues["StageEventsQueue"]["Properties"], queues["StageEventsDeadLetterQueue"]["Properties"]


def test_the_queue_long_polls_is_encrypted_and_has_a_dead_letter_queue():
    template, queue, dead_letter = _queue_template()
    parameters = template["Parameters"]
    assert queue["SqsManagedSseEnabled"] is True and dead_letter["SqsManagedSseEnabled"] is True
    assert queue["ReceiveMessageWaitTimeSeconds"] == 20
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["StageEventsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    # The visibility timeout and the retention are parameters, with defaults within SQS's bounds.
    assert queue["VisibilityTimeout"] == {"Ref": "VisibilityTimeoutSeconds"}
    assert queue["MessageRetentionPeriod"] == {"Ref": "MessageRetentionSeconds"}
    for parameter, low, high in (
        ("VisibilityTimeoutSeconds", 0, 43200),
        ("MessageRetentionSeconds", 60, 1209600),
        ("MaxReceiveCount", 1, 1000),
        ("DeadLetterRetentionSeconds", 60, 1209600),
    ):
        spec = parameters[parameter]
        assert spec["Type"] == "Number"
        assert low <= spec["MinValue"] <= spec["Default"] <= spec["MaxValue"] <= high, parameter
    # A message is deleted within the coalescing window; the default timeout leaves ample room past it.
    assert parameters["VisibilityTimeoutSeconds"]["Default"] >= 60


def test_the_rule_is_on_the_bus_given_and_sends_to_the_queue():
    template, _queue, _dead_letter = _queue_template()
    assert template["Parameters"]["EventBusName"]["Default"] == "default"
    (rule,) = resources_of(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventBusName"] == {"Ref": "EventBusName"}
    assert [target["Arn"] for target in rule["Properties"]["Targets"]] == [{"Fn::GetAtt": ["StageEventsQueue", "Arn"]}]


def test_only_the_rule_may_send_to_the_queue():
    template, _queue, _dead_letter = _queue_template()
    (policy,) = resources_of(template, "AWS::SQS::QueuePolicy").values()
    assert policy["Properties"]["Queues"] == [{"Ref": "StageEventsQueue"}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["StageEventsQueue", "Arn"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["StageEventsRule", "Arn"]}}}


def test_the_queue_template_outputs_what_the_source_and_operators_need():
    outputs = load("stage-events-queue.yaml")["Outputs"]
    assert outputs["QueueUrl"]["Value"] == {"Ref": "StageEventsQueue"}
    assert outputs["QueueArn"]["Value"] == {"Fn::GetAtt": ["StageEventsQueue", "Arn"]}
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": "StageEventsDeadLetterQueue"}


# ---- the multi-account variant ------------------------------------------------------------------


def test_the_central_bus_takes_events_from_the_organisation_only():
    template = load("central-bus.yaml")
    assert template["Parameters"]["OrganizationId"]["AllowedPattern"] == "^o-[a-z0-9]{10,32}$"
    (bus,) = resources_of(template, "AWS::Events::EventBus").values()
    (statement,) = bus["Properties"]["Policy"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "events:PutEvents"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    assert set(template["Outputs"]) == {"EventBusName", "EventBusArn"}


def test_the_forwarder_sends_to_the_central_bus_with_a_role_only_eventbridge_assumes():
    template = load("member-forwarder.yaml")
    (rule,) = resources_of(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventBusName"] == "default"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "CentralEventBusArn"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ForwarderRole", "Arn"]}
    role = template["Resources"]["ForwarderRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]
    assert statements == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Ref": "CentralEventBusArn"}}]


def test_the_forwarder_is_deployable_as_a_stackset():
    """No account id, region or fixed name in its resources (a StackSet deploys one template to many accounts and
    regions; a named IAM role would collide between regions of one account), and its Description says how."""
    template = load("member-forwarder.yaml")
    resources = json.dumps(template["Resources"])
    assert not re.search(r"\d{12}", resources)
    assert not re.search(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", resources)
    for logical, resource in template["Resources"].items():
        named = [key for key in resource["Properties"] if key in ("Name", "RoleName", "PolicyName") or key.endswith("Name") and key != "EventBusName"]
        assert not named, "%s names itself (%s): not deployable twice in one account" % (logical, named)
    assert "StackSet" in template["Description"] and "CAPABILITY_IAM" in template["Description"]
    assert set(template["Parameters"]) == {"CentralEventBusArn"}
    assert "Default" not in template["Parameters"]["CentralEventBusArn"]
