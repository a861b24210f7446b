# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobs run the way AWX runs them: ansible-runner, a private data dir, credentials in the environment.

AWX's Amazon Web Services credential type injects AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and with an
STS token both AWS_SESSION_TOKEN and AWS_SECURITY_TOKEN. A job of type check adds --check, "Show changes"
adds --diff, and set_stats data arrives in the playbook_on_stats event as artifact_data.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import ansible_runner

from sweep_world import PROD_EXTERNAL_ID
from sweep_world import ROLE_NAME

# A hung job fails its test instead of blocking it.
RUNNER_TIMEOUT = 600


def clear_caller_environment(monkeypatch):
    """ansible-runner starts from os.environ: keep the developer's AWS, Ansible and sweep settings out of the job."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "ANSIBLE_", "TRACING_SWEEP_")):
            monkeypatch.delenv(key)


def job_environment(tmp_path, collections_path, endpoint_url, secret_key, session_token=None, config=None):
    """The job's environment: an ansible.cfg, this collection tree, and the AWS credential as AWX injects it.

    ``config``: the project's ansible.cfg, which AWX's ansible-playbook reads as it runs in the project's
    directory (see project_config); by default an empty one, so that no ansible.cfg of the caller's applies.
    """
    if config is None:
        config = tmp_path / "ansible.cfg"
        config.write_text("[defaults]\n", encoding="utf-8")
    assert Path(config).is_file(), config
    env = {
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_EC2_METADATA_DISABLED": "true",
        # As in conftest: a request that misses the local endpoint fails at once instead of reaching AWS.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if session_token:
        env["AWS_SESSION_TOKEN"] = session_token
        env["AWS_SECURITY_TOKEN"] = session_token
    return env


def project_config(private):
    """The ansible.cfg of the project copied into the private data dir ``private`` (docs/awx/project/ansible.cfg)."""
    return Path(private) / "project" / "ansible.cfg"


def run_job(private, playbook, inventory, envvars, extravars, cmdline, limit=None, ident="job"):
    """One job in the private data dir ``private``; suppress_env_files (the CLI's --omit-env-files) keeps
    ansible-runner from writing the environment and extra variables to env/."""
    return ansible_runner.run(
        private_data_dir=str(private), ident=ident, playbook=playbook, inventory=inventory, limit=limit,
        envvars=envvars, extravars=extravars, cmdline=cmdline, suppress_env_files=True, quiet=True, timeout=RUNNER_TIMEOUT,
    )


def job_stdout(private, ident="job"):
    return (private / "artifacts" / ident / "stdout").read_text(encoding="utf-8")


def artifact_data(runner):
    """What the job's set_stats published, as AWX stores it with the job."""
    stats = [event for event in runner.events if event.get("event") == "playbook_on_stats"]
    assert len(stats) == 1
    return stats[0]["event_data"].get("artifact_data", {})


# The sweep shows one diff per target (a compact diff, {"prepared": text}): a heading line, then a line per stage.
DIFF_HEADING = re.compile(r"(?P<heading>.+): X-Ray tracing of (?P<count>[0-9]+) stages? (?P<verb>would change|changed)")
DIFF_STAGE = re.compile(r"  (?P<stage>[a-z0-9]{10}/[A-Za-z0-9_-]{1,128}): tracing_enabled (?P<before>true|false) -> (?P<after>true|false)")


@dataclass(frozen=True)
class TargetDiff:
    """One target's diff: its heading ('<account id> (<name>) <region>'), 'would change' or 'changed', and
    (api id/stage, tracing before, tracing after) for each stage."""

    host: str
    task: str
    heading: str
    verb: str
    stages: tuple


def parse_diff(host, task, diff):
    """The TargetDiff of a compact diff; fails the test on any line that is not of its shape."""
    assert set(diff) == {"prepared"}, "not a compact diff: %r" % (diff,)
    lines = diff["prepared"].splitlines()
    assert diff["prepared"].endswith("\n") and lines, diff
    heading = DIFF_HEADING.fullmatch(lines[0])
    assert heading, "not a diff heading: %r" % lines[0]
    stages = []
    for line in lines[1:]:
        found = DIFF_STAGE.fullmatch(line)
        assert found, "not a stage line of a diff: %r" % line
        stages.append((found["stage"], found["before"] == "true", found["after"] == "true"))
    assert int(heading["count"]) == len(stages), diff
    return TargetDiff(host, task, heading["heading"], heading["verb"], tuple(stages))


def diff_events(runner):
    """[TargetDiff] of every diff in the job's events, as AWX shows "Show changes"."""
    found = []
    for event in runner.events:
        if event.get("event") != "runner_on_ok":
            continue
        data = event["event_data"]
        diffs = data.get("res", {}).get("diff") or []
        for diff in diffs if isinstance(diffs, list) else [diffs]:
            if diff:
                found.append(parse_diff(data["host"], data.get("task"), diff))
    return found


def events_text(runner):
    """Every job event as the JSON AWX stores and shows."""
    return "\n".join(json.dumps(event, sort_keys=True) for event in runner.events)


def secrets_the_sweep_handled(estate):
    """(role sessions, {label: value}) of every secret the collection handles: each session's keys, and the external id."""
    sessions = [s for s in estate.assumed_sessions() if s["role_arn"].endswith(":role/%s" % ROLE_NAME)]
    secrets = {"external id": PROD_EXTERNAL_ID}
    for number, session in enumerate(sessions):
        secrets["secret key of session %d (%s)" % (number, session["role_arn"])] = session["secret_access_key"]
        secrets["session token of session %d (%s)" % (number, session["role_arn"])] = session["session_token"]
    return sessions, secrets


def files_holding(roots, value):
    """Relative paths (root name prefixed) of the files under ``roots`` whose text holds ``value``."""
    found = set()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and value in path.read_text(encoding="utf-8", errors="replace"):
                found.add("%s/%s" % (root.name, path.relative_to(root).as_posix()))
    return found
