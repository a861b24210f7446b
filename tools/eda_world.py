# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Continuous remediation on the local AWS, for `make demo-events` (tools/demo_events.py) and `make bench` (world E2).

What a user deploys and runs, in miniature: an EventBridge rule with the templates' exact pattern (built from the event
source's EVENT_NAMES) delivering to an SQS queue, an accounts inventory directory with the policy in its group_vars,
and the shipped rulebook cloudops.apigw_tracing.remediate_stages under the real ansible-rulebook of `make eda-deps`
(.build/eda-venv; it needs a Java 17 runtime). CloudTrail records the API calls in AWS; here the caller puts the
CloudTrail-shaped record on the bus itself (put_events), as EventBridge would receive it.

The rulebook's AWS calls go to ``endpoint_url`` (the bench's and the demo's proxy, whose request log counts them),
except SQS, which goes straight to the local AWS (AWS_ENDPOINT_URL_SQS): the source's long polls are not API Gateway
calls and stay out of the counts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVENT_SOURCE = ROOT / "extensions" / "eda" / "plugins" / "event_source" / "stage_events.py"
RULEBOOK = "cloudops.apigw_tracing.remediate_stages"
EDA_VENV = Path(os.environ.get("APIGW_EDA_VENV") or ROOT / ".build" / "eda-venv")
RULE_NAME = "apigw-tracing-stage-events"
QUEUE_NAME = "apigw-tracing-stage-events"


def event_names():
    """EVENT_NAMES of the shipped event source (the file is self-contained: it loads without ansible-rulebook)."""
    spec = importlib.util.spec_from_file_location("apigw_tracing_stage_events", EVENT_SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.EVENT_NAMES)


def event_pattern():
    """The EventBridge pattern of the templates (extensions/eda/cloudformation/, docs/eda.md)."""
    return {
        "source": ["aws.apigateway"], "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["apigateway.amazonaws.com"], "eventName": event_names()},
    }


def java_problem():
    """Why ansible-rulebook cannot run here (no Java 17 or later), or None."""
    try:
        proc = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return "no Java runtime: ansible-rulebook needs Java 17 (Debian: apt-get install openjdk-17-jre-headless): %s" % error
    match = re.search(r'version "(\d+)', proc.stderr + proc.stdout)
    if proc.returncode != 0 or not match:
        return "java -version failed: %s" % (proc.stderr.strip() or proc.returncode)
    if int(match.group(1)) < 17:
        return "ansible-rulebook needs Java 17 or later, java -version says %s" % match.group(1)
    return None


def rulebook_problem(venv=EDA_VENV):
    """Why the shipped rulebook cannot be run here (no Java 17, no ansible-rulebook venv), or None."""
    problem = java_problem()
    if problem:
        return problem
    if not (Path(venv) / "bin" / "ansible-rulebook").exists():
        return "no ansible-rulebook at %s: run `make eda-deps`" % (Path(venv) / "bin" / "ansible-rulebook")
    return None


def cloudtrail(event_name, account, region, api, stage, session="deploy-pipeline", deployment_id="d1"):
    """The CloudTrail record of an API Gateway call that changed ``stage``, as EventBridge's detail."""
    request = {"restApiId": api, "stageName": stage}
    if event_name == "CreateStage":
        request = {"restApiId": api, "createStageInput": {"stageName": stage, "deploymentId": deployment_id}}
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:%s" % session,
                         "arn": "arn:aws:sts::%s:assumed-role/Deployer/%s" % (account, session), "accountId": account},
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "eventSource": "apigateway.amazonaws.com",
        "eventName": event_name, "awsRegion": region, "requestParameters": request, "responseElements": None,
        "eventID": "ct-%s-%s-%s-%s" % (event_name, api, stage, time.monotonic_ns()), "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": account,
    }


class EventBus:
    """The EventBridge rule (the templates' pattern) and the SQS queue it fills, on the local AWS, in one region."""

    def __init__(self, aws, region):
        self.aws = aws
        self.region = region
        self.sqs = aws.client("sqs", region=region)
        self.queue_url = self.sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events = aws.client("events", region=region)
        self.pattern = event_pattern()
        self.events.put_rule(Name=RULE_NAME, EventPattern=json.dumps(self.pattern))
        self.events.put_targets(Rule=RULE_NAME, Targets=[{"Id": "queue", "Arn": arn}])

    def put(self, *details):
        """Put CloudTrail records on the bus (10 a call, as PutEvents takes); returns time.monotonic() before the first."""
        started = time.monotonic()
        for start in range(0, len(details), 10):
            entries = [{"Source": "aws.apigateway", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(detail)}
                       for detail in details[start:start + 10]]
            failed = self.events.put_events(Entries=entries)["FailedEntryCount"]
            if failed:
                raise RuntimeError("EventBridge refused %d of %d events" % (failed, len(entries)))
        return started


def write_inventory(directory, accounts, policy):
    """An inventory directory as the scheduled sweep's: the accounts file, and the policy in group_vars/all.yml."""
    directory = Path(directory)
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    (directory / "estate.accounts.yml").write_text(yaml.safe_dump(accounts, sort_keys=False), encoding="utf-8")
    (directory / "group_vars" / "all.yml").write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return directory


def reports(directory):
    """(report directory, report.json) of each remediation run under ``directory`` so far, oldest first."""
    found = []
    directory = Path(directory)
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            report = path / "report.json"
            if report.is_file():
                try:
                    found.append((path, json.loads(report.read_text(encoding="utf-8"))))
                except ValueError:
                    continue  # being written
    return found


class Rulebook:
    """The shipped rulebook under ansible-rulebook, in a process group of its own; its output in ``log_path``."""

    def __init__(self, workdir, bus, inventory, endpoint_url, sqs_endpoint_url, remediation_dir, mode="enforce",
                 venv=EDA_VENV, collections_path=None):
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "ansible-rulebook.log"
        variables = {"queue_url": bus.queue_url, "remediate_mode": mode, "remediation_dir": str(remediation_dir)}
        vars_path = self.workdir / "vars.yml"
        vars_path.write_text(yaml.safe_dump(variables), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_"))}
        env.update({
            # ansible-rulebook wants ansible-galaxy on PATH; the playbook it runs is the venv's ansible-playbook.
            "PATH": "%s%s%s" % (Path(venv) / "bin", os.pathsep, env.get("PATH", "")),
            "VIRTUAL_ENV": str(venv),
            "ANSIBLE_COLLECTIONS_PATH": collections_path or os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(ROOT / ".build" / "collections"),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": bus.region,
            "AWS_DEFAULT_REGION": bus.region,
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ENDPOINT_URL_SQS": sqs_endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Anything that misses the local endpoint fails at once instead of reaching out.
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
        })
        self.command = [str(Path(venv) / "bin" / "ansible-rulebook"), "--rulebook", RULEBOOK, "--vars", str(vars_path),
                        "-i", str(inventory)]
        self._log = open(self.log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            self.command, cwd=str(self.workdir), env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def output(self, lines=40):
        """The last ``lines`` lines of ansible-rulebook's output."""
        self._log.flush()
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def wait_for(self, what, predicate, timeout=180, interval=0.05):
        """Wait until predicate() is true; RuntimeError (with the output) when the process ends first or after ``timeout``."""
        end = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if not self.alive():
                raise RuntimeError("ansible-rulebook ended (rc=%s) before %s:\n%s" % (self.proc.returncode, what, self.output()))
            if time.monotonic() > end:
                raise RuntimeError("no %s after %d s:\n%s" % (what, timeout, self.output()))
            time.sleep(interval)

    def stop(self):
        """Stop ansible-rulebook and what it started (its process group): SIGTERM, then SIGKILL after 15 s."""
        if self.alive():
            for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 30)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()
        return self.proc.returncode
