# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Harness for the integration tests: a local AWS (moto over HTTP) and the real ansible-playbook.

Needs, from the environment: ANSIBLE_COLLECTIONS_PATH pointing at a tree that holds
ansible_collections/cloudops/apigw_tracing and ansible_collections/amazon/aws, and an
ansible-playbook on PATH whose Python has boto3 (`make integration` provides both).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PLAYBOOKS = HERE / "playbooks"
CALLBACKS = HERE / "callback_plugins"

sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests" / "support"))

from sweep_world import seed_estate  # noqa: E402  pylint: disable=wrong-import-position
# The local AWS, its proxy and the collections tree, as tests/static has them too.
from local_aws_fixtures import aws  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import aws_proxy  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import apigw  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import collections_path  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from local_aws_fixtures import local_aws_server  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# One ansible-playbook run should take a few seconds; this only stops a hung run.
PLAYBOOK_TIMEOUT = 300


@dataclass
class PlaybookRun:
    """What one ansible-playbook run produced.

    ``results`` maps a task name to its last logged entry: {"task", "host", "status", "result",
    "started", "finished"}, status being ok, failed, skipped or unreachable, the times being
    time.monotonic() values. ``entries`` keeps every entry in order.
    """

    rc: int
    stdout: str
    stderr: str
    duration: float
    entries: list = field(default_factory=list)
    # The directory ansible-playbook ran in (relative paths in a playbook land here).
    workdir: Path | None = None

    @property
    def results(self):
        return {entry["task"]: entry for entry in self.entries}

    def result(self, task):
        """The result dict of the task named ``task``; fails the test with the output if absent."""
        if task not in self.results:
            pytest.fail("task %r has no result; %s" % (task, self.describe()))
        return self.results[task]["result"]

    def status(self, task):
        self.result(task)
        return self.results[task]["status"]

    def requests(self, task, recorded):
        """The requests among ``recorded`` (LocalAws.requests) made while the task named ``task`` ran.

        Tasks of a play run one after another, and the task-start and result times bracket the
        module's whole run, so this attributes each request to the one task that made it.
        """
        entry = self.results[task]
        return [r for r in recorded if entry["started"] <= r.received_at <= entry["finished"]]

    def describe(self):
        """Text to attach to an assertion message."""
        return "rc=%s\nSTDOUT:\n%s\nSTDERR:\n%s" % (self.rc, self.stdout, self.stderr)


@pytest.fixture(scope="session")
def ansible_playbook_cmd():
    """The ansible-playbook found on PATH (the venv's, under make integration)."""
    path = shutil.which("ansible-playbook")
    if not path:
        pytest.fail("ansible-playbook is not on PATH")
    return path


@pytest.fixture
def estate(aws):
    """The local AWS holding the three-account estate of tools/sweep_world.py, with an empty request log."""
    seed_estate(aws)
    aws.clear()
    return aws


class PlaybookRunner:
    """Runs ansible-playbook against a LocalAws; see the ``run_playbook`` fixture."""

    def __init__(self, server, command, collections, workdir):
        self.server = server
        self.command = command
        self.collections = collections
        self.workdir = Path(workdir)
        self.count = 0
        self.config = self.workdir / "ansible.cfg"
        # An empty config of our own, so no ansible.cfg from the checkout or $HOME changes the run.
        self.config.write_text("[defaults]\n", encoding="utf-8")

    def environment(self, aws_env=True, env=None):
        # Nothing AWS- or Ansible-related leaks in from the caller's environment (a profile, real
        # keys, another stdout callback...).
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("ANSIBLE_")}
        run_env.update({
            "ANSIBLE_CONFIG": str(self.config),
            "ANSIBLE_COLLECTIONS_PATH": self.collections,
            # Only that tree: an `ansible` package in the venv must not supply amazon.aws instead.
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "result_log",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            # Never ask the EC2 metadata service for credentials, whatever a test forgets.
            "AWS_EC2_METADATA_DISABLED": "true",
            # A request that misses the local endpoint goes to a closed loopback port and fails
            # at once, instead of trying to reach real AWS.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        })
        if aws_env:
            run_env.update(self.server.env())
        run_env.update(env or {})
        return run_env

    def run(self, playbook, extra_vars=None, check=False, diff=False, aws_env=True, env=None, inventory=None, args=()):
        self.count += 1
        run_dir = self.workdir / ("run%d" % self.count)
        run_dir.mkdir()
        playbook_path = Path(playbook)
        if str(playbook).startswith("cloudops.apigw_tracing."):
            playbook_path = playbook
        elif not playbook_path.is_absolute():
            playbook_path = PLAYBOOKS / playbook_path
        log_path = run_dir / "results.jsonl"
        cmd = [self.command, str(playbook_path)]
        if inventory is not None:
            cmd += ["-i", str(inventory)]
        if extra_vars is not None:
            vars_path = run_dir / "extra_vars.json"
            vars_path.write_text(json.dumps(extra_vars), encoding="utf-8")
            cmd += ["-e", "@%s" % vars_path]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(args)
        run_env = self.environment(aws_env, env)
        run_env["APIGW_IT_RESULT_LOG"] = str(log_path)
        run_env["ANSIBLE_LOCAL_TEMP"] = str(run_dir / "tmp")

        start = time.monotonic()
        proc = subprocess.run(
            cmd, cwd=str(run_dir), env=run_env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False,
        )
        entries = []
        if log_path.exists():
            with open(log_path, encoding="utf-8") as handle:
                entries = [json.loads(line) for line in handle if line.strip()]
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start, entries, run_dir)


@pytest.fixture(scope="session")
def playbook_runner(local_aws_server, ansible_playbook_cmd, collections_path, tmp_path_factory):
    """Session-wide runner, for module-scoped fixtures; tests normally use ``run_playbook``."""
    return PlaybookRunner(local_aws_server, ansible_playbook_cmd, collections_path, tmp_path_factory.mktemp("ansible"))


@pytest.fixture
def run_playbook(aws, playbook_runner):
    """Run a playbook from tests/integration/playbooks (or an absolute path) with the real ansible-playbook.

    run_playbook(playbook, extra_vars=None, check=False, diff=False, aws_env=True, env=None, inventory=None, args=())
    -> PlaybookRun

    ``playbook`` may also be a collection playbook's FQCN (cloudops.apigw_tracing.audit).
    ``extra_vars`` go in as ``-e @file.json``; ``inventory`` as ``-i``; ``args`` are appended as they are. ``aws_env=False`` leaves every AWS_* credential,
    region and endpoint variable unset, for playbooks that must get them from module_defaults.
    """
    return playbook_runner.run
