#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: how fast the tracing sweep runs at organisation scale, against its goals.

Every figure is a ratio of two things measured side by side in one run, on the same machine, against the same
local AWS (moto) behind tests/support/aws_proxy.py, which pages GetRestApis and throttles like AWS (10 requests/s,
burst 40, per account and region). The yardsticks: tests/bench/minimal_boto3.py, the least a hand-written boto3
audit does (the same calls, targets on 8 threads), and, where the bench can install it (its own venv under
.build/bench/, from PyPI), cloud-custodian's c7n-org with a policy equivalent to the audit (aws.rest-stage,
filtered on tracingEnabled), 8 processes. The whole set is measured --runs times (default 3); each goal is
reported as the range over the runs (min-max, never the best one), met only when every run meets it.

World W  wide: 10 accounts x 17 regions = 170 targets, 80% of them empty, quota on. The role's audit (forks 8)
         against both yardsticks, with one host per account x region and again with one host per account
         (tracing_sweep_regions, as the accounts inventory's host_per: account makes them: the same 170 targets, named
         alike, swept on threads inside 10 hosts); CPU seconds per empty target (a run of the empty targets alone); the Ansible
         tasks each target runs (from callback_plugins/task_times.py); a projection for 500 accounts x 17 regions
         on 2 cores (and 16, and on AWX execution nodes with job slicing) from the costs per target beyond the fixed
         cost of a run (a run of one empty target). Then one enforce, for its tasks per target.
World B  large: 1 target, 600 REST APIs x 2 stages, no quota: the role's audit against the minimal boto3 script.
World A  the same world behind the quota: audit wall time / floor, where floor = (calls - 40) / 10 s is the quota's
         physical limit; the calls must be exactly ceil(APIs/500) GetRestApis + one GetStages per API.
World E2 continuous remediation: the shipped rulebook cloudops.apigw_tracing.remediate_stages under the real
         ansible-rulebook (.build/eda-venv of `make eda-deps`, Java 17), started once for the whole bench, fed by an
         EventBridge rule with the templates' pattern and an SQS queue, one target behind the quota. Each run: one
         CreateStage event, seconds from put_events to its UpdateStage at the proxy; a burst of 50 CreateStage events
         of the target, seconds from the first put_events to the 50th UpdateStage; the calls per remediated stage.
         Without Java 17 or the venv, it says why and is not run.
World L  the whole request path (issue 20): 1 target, 200 REST APIs x 2 stages behind 40 Lambda functions (one
         proxy integration each, a Lambda authorizer on every 40th API), no quota and the role unpaced, as World B: the
         audit with tracing_sweep_whole_path / the same audit without it, run one after the other; and the calls of
         both, exact: without it, GetRestApis ceil(APIs/500) + one GetStages per API and no Lambda call; with it, one
         GetResources page and one GetAuthorizers per API more, and one GetFunctionConfiguration per distinct function
         (counted from the local AWS's request log). No quota, because behind API Gateway's 10 requests/s the ratio is
         the ratio of calls (the path reads about 3x as many), which the calls goal already pins; without it the ratio
         measures what the read costs beyond its calls (Lambda's own pace of 12 requests/s included).
Opt-in (--worlds): E, an enforce of the large target behind the quota (after the runs: it changes the world);
C, 12 account-regions x 50 APIs x 2 stages at forks 12 against the slowest single target (parallel efficiency).

Goals (issue 18): W audit / minimal boto3 <= 3.0 (in each layout) and <= 0.5 x c7n-org; CPU per empty target <= 0.15 s;
B audit / minimal boto3 <= 1.5; A audit / floor <= 1.10 with the exact calls; projection for 500 accounts x 17
regions on 2 cores <= 10 minutes; Ansible tasks per target: audit 1, enforce 2. Issue 19: event to UpdateStage
<= 10 s, a burst of 50 <= 20 s, and per remediated stage one GetStage and one UpdateStage, one AssumeRole per run. Issue 20:
whole-path audit / audit <= 2.2, with the exact calls. Nothing fails on a goal (the machine
is shared and noisy); the bench fails only when a run does not do its job (a wrong report, a failed playbook).
It ends with a Markdown table of the goals, also written to .build/bench/results.md (raw figures: results.json).

--quick: one run of smaller worlds (2 accounts x 17 regions, 120 APIs, 40 APIs behind 8 functions), to iterate; its
verdicts are indicative only.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests" / "support"))

from aws_proxy import AwsProxy  # noqa: E402  pylint: disable=wrong-import-position
from eda_world import EventBus  # noqa: E402  pylint: disable=wrong-import-position
from eda_world import Rulebook  # noqa: E402  pylint: disable=wrong-import-position
from eda_world import cloudtrail  # noqa: E402  pylint: disable=wrong-import-position
from eda_world import reports  # noqa: E402  pylint: disable=wrong-import-position
from eda_world import rulebook_problem  # noqa: E402  pylint: disable=wrong-import-position
from eda_world import write_inventory  # noqa: E402  pylint: disable=wrong-import-position
from aws_proxy import Quota  # noqa: E402  pylint: disable=wrong-import-position
from local_aws import LocalAws  # noqa: E402  pylint: disable=wrong-import-position
from local_aws import seed  # noqa: E402  pylint: disable=wrong-import-position

BENCH_DIR = REPO / ".build" / "bench"
CALLER_ACCOUNT = "123456789012"
QUOTA_RATE = 10.0
QUOTA_BURST = 40
ROLE_NAME = "TracingBench"
# The yardstick's threads, the role's forks and c7n-org's processes in the wide world.
PARALLEL = 8
WIDE_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
]
# Projection: an organisation of this many accounts x the wide world's regions, on a controller of this many cores.
ORG_ACCOUNTS = 500
ORG_CORES = 2
# The role's default pace (tracing_sweep_max_requests_per_second), below the quota on purpose.
DEFAULT_PACE = 9.5
# The pace of Lambda's reads in the whole-path read (plugins/module_utils/_aws.py, LAMBDA_READS), which no quota
# setting of the bench lifts: World L's audit with the whole path cannot read its functions faster.
LAMBDA_READ_RATE = 12.0
LAMBDA_READ_BURST = 12

C7N_ORG_VENV = BENCH_DIR / "c7n-org-venv"
C7N_ORG_PINS = ("c7n==0.9.53", "c7n-org==0.6.52")
C7N_POLICY = "rest-stage-tracing-off"

FULL = {"accounts": 10, "large_apis": 600, "path_apis": 200, "path_functions": 40}
QUICK = {"accounts": 2, "large_apis": 120, "path_apis": 40, "path_functions": 8}
# World L: a Lambda authorizer on every PATH_AUTHORIZER_EVERY-th API.
PATH_AUTHORIZER_EVERY = 40

# The goals of issue 18, in the order of the table: key, what is measured, the goal as said, the limit, the format of
# a value and its unit.
GOALS = [
    ("wide_boto3", "Wide world audit (%(wide)s, 80%% empty, quota on), one host per account x region / minimal boto3 (threads 8)",
     "<= 3.0", 3.0, "%.2f", ""),
    ("wide_accounts", "The same audit, one host per account (tracing_sweep_regions: the accounts inventory's host_per: account) / "
     "minimal boto3", "<= 3.0", 3.0, "%.2f", ""),
    ("wide_c7n", "Wide world audit / c7n-org (8 processes)", "<= 0.5", 0.5, "%.2f", ""),
    ("cpu_empty", "CPU per empty target", "<= 0.15 s", 0.15, "%.3f", " s"),
    ("large_boto3", "Single target of %(large)s REST APIs x 2 stages, no quota / minimal boto3", "<= 1.5", 1.5, "%.2f", ""),
    ("quota_floor", "Behind the quota: audit / floor", "<= 1.10", 1.10, "%.3f", ""),
    ("quota_calls", "Behind the quota: API Gateway calls", "exactly GetRestApis %(pages)d + GetStages %(large)s", None, None, None),
    ("projection", "Projection: %(org)s accounts x 17 regions on 2 cores", "<= 10 min", 10.0, "%.0f", " min"),
    ("tasks", "Ansible tasks per target:", "audit 1, enforce 2", None, None, None),
    # Issue 19, continuous remediation (World E2).
    ("eda_event", "Continuous remediation (quota on): one CreateStage event to its UpdateStage", "<= 10 s", 10.0, "%.1f", " s"),
    ("eda_burst", "Continuous remediation: a burst of 50 CreateStage events of one target, first event to the 50th UpdateStage",
     "<= 20 s", 20.0, "%.1f", " s"),
    ("eda_calls", "Continuous remediation: API calls per remediated stage", "GetStage 1, UpdateStage 1; AssumeRole 1 per run", None, None, None),
    # Issue 20, the whole request path (World L).
    ("path_ratio", "Whole path (%(path)s REST APIs x 2 stages behind %(path_functions)s functions, no quota): audit with "
     "tracing_sweep_whole_path / without", "<= 2.2", 2.2, "%.2f", ""),
    ("path_calls", "Whole path: calls", "off: GetRestApis %(path_pages)d + GetStages %(path)s, no Lambda call; on: + GetResources %(path)s, "
     "GetAuthorizers %(path)s, GetFunctionConfiguration %(path_functions)s, SimulatePrincipalPolicy 1 (the one execution role)", None, None, None),
]
# The worlds a plain `make bench` runs (E and C are opt-in).
DEFAULT_WORLDS = "W,B,A,L,E2"
# World E2: the target, and the size of the burst.
EDA_ACCOUNT = "500000000001"
EDA_REGION = "us-east-1"
EDA_API = "e2orders01"  # REST API ids are 10 lowercase letters and digits
EDA_BURST = 50  # as the goal eda_burst says
# Only stops a hung run; the bench reports the time, it does not fail on it.
EDA_GUARD_SECONDS = 300


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def api_specs(count, prefix):
    """`count` REST APIs with stages prod and dev; the first half traced, the second half not. Each stage has its own
    deployment id, as in AWS (c7n keeps one resource per id, so stages sharing one would be counted once)."""
    return [
        {"name": "%s-%03d" % (prefix, index), "stages": {
            stage: {"tracing": index < count // 2, "deployment_id": "%s%03d%s" % (prefix, index, stage)} for stage in ("prod", "dev")}}
        for index in range(count)
    ]


def untraced(count):
    """Stages with tracing off among api_specs(count)."""
    return 2 * (count - count // 2)


def role_arn(account):
    return "arn:aws:iam::%s:role/%s" % (account, ROLE_NAME)


def prepare_c7n_org(say):
    """c7n-org in its own venv under .build/bench/ (never the shared .venv): (path of c7n-org, None) or (None, reason)."""
    command = C7N_ORG_VENV / "bin" / "c7n-org"
    stamp = C7N_ORG_VENV / ".bench-pins"
    wanted = " ".join(C7N_ORG_PINS)
    if command.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == wanted:
        return command, None
    say("Installing %s into %s (once) ..." % (wanted, C7N_ORG_VENV))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(C7N_ORG_VENV)],
        [str(C7N_ORG_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + list(C7N_ORG_PINS),
    ]
    for step in steps:
        try:
            completed = subprocess.run(step, capture_output=True, text=True, check=False, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, "could not install it: %s" % exc
        if completed.returncode != 0:
            lines = [line for line in (completed.stderr or completed.stdout).splitlines() if line.strip() and "WARNING" not in line]
            return None, "could not install it: %s" % (lines[-1].strip() if lines else "rc %d" % completed.returncode)
    stamp.write_text(wanted + "\n", encoding="utf-8")
    return command, None


class Bench:
    def __init__(self, workdir, c7n_org):
        self.workdir = Path(workdir)
        self.c7n_org_command = c7n_org
        self.aws = LocalAws().start()
        self.proxy = AwsProxy(self.aws.endpoint_url, quota=None).start()
        self.runs = 0
        self.lines = []
        self.last_tasks = {"tasks": [], "per_host": {}, "run_once": 0}
        self.last_cpu = {}
        self.last_server_cpu = 0.0
        # The machine's load average (1 min) as each run starts: the figures are only as quiet as the machine was.
        self.loads = []

    def close(self):
        self.proxy.stop()
        self.aws.stop()

    # ---- running the role and the yardsticks ---------------------------------------------------
    def environment(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.proxy.env())
        env.update({
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "AWS_EC2_METADATA_DISABLED": "true",
            # Anything that misses the local endpoint fails at once instead of reaching out.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "task_times",
        })
        env.update(extra or {})
        return env

    def run_dir(self, what):
        self.runs += 1
        path = self.workdir / ("run%03d-%s" % (self.runs, what))
        path.mkdir(parents=True)
        return path

    def sweep(self, playbook, hosts, extra_vars=None, forks=None, limit=None):
        """Run cloudops.apigw_tracing.<playbook> over `hosts` ({name: host vars}); returns (seconds, report)."""
        run_dir = self.run_dir(playbook)
        self.loads.append(os.getloadavg()[0])
        common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        inventory = {"all": {"vars": common, "hosts": hosts}}
        (run_dir / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
        variables = {"tracing_sweep_report_dir": str(run_dir / "reports"), "tracing_sweep_max_changes": 100000}
        variables.update(extra_vars or {})
        (run_dir / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
        command = [sys.executable, str(HERE / "cpu_split.py"), "cloudops.apigw_tracing.%s" % playbook, "-i", "inventory.yml", "-e", "@vars.json"]
        if forks:
            command += ["--forks", str(forks)]
        if limit:
            command += ["--limit", limit]
        run_env = self.environment({"BENCH_TASK_TIMES": str(run_dir / "task_times.json"), "BENCH_CPU_SPLIT": str(run_dir / "cpu.json")})
        started = time.monotonic()
        server_started = _own_cpu()
        completed = subprocess.run(command, cwd=run_dir, env=run_env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        # The local AWS (moto) and the proxy are threads of this process: its CPU is theirs while the run lasts.
        self.last_server_cpu = _own_cpu() - server_started
        times = run_dir / "task_times.json"
        self.last_tasks = json.loads(times.read_text(encoding="utf-8")) if times.exists() else {"tasks": [], "per_host": {}, "run_once": 0}
        self.last_cpu = json.loads((run_dir / "cpu.json").read_text(encoding="utf-8")) if (run_dir / "cpu.json").exists() else {}
        (run_dir / "stdout.txt").write_text(completed.stdout + completed.stderr, encoding="utf-8")
        if completed.returncode != 0:
            raise RuntimeError("%s failed (rc=%d), see %s\n%s" % (playbook, completed.returncode, run_dir / "stdout.txt", completed.stdout[-3000:]))
        report = json.loads((run_dir / "reports" / "report.json").read_text(encoding="utf-8"))
        return seconds, report

    def yardstick(self, targets, expect_stages, expect_off, threads=PARALLEL):
        """Seconds and CPU seconds the minimal boto3 audit takes against the proxy; it must find what the role finds."""
        run_dir = self.run_dir("boto3")
        path = run_dir / "targets.json"
        path.write_text(json.dumps(targets), encoding="utf-8")
        command = [sys.executable, str(HERE / "minimal_boto3.py"), "--threads", str(threads), "--targets", str(path)]
        cpu = _children_cpu()
        started = time.monotonic()
        completed = subprocess.run(command, env=self.environment(), check=True, capture_output=True, text=True)
        seconds = time.monotonic() - started
        expected = "%d targets, %d stages, %d with tracing off" % (len(targets), expect_stages, expect_off)
        if completed.stdout.strip() != expected:
            raise RuntimeError("minimal boto3 found %r, not %r" % (completed.stdout.strip(), expected))
        return seconds, _children_cpu() - cpu

    def c7n_org(self, accounts, regions, expect_off):
        """c7n-org run over `accounts` x `regions` with the audit's policy: (seconds, CPU seconds, None) or (None, None, reason)."""
        run_dir = self.run_dir("c7n-org")
        config = {"accounts": [{"name": "a%s" % account, "account_id": account, "role": role_arn(account), "regions": list(regions)}
                               for account in accounts]}
        # The audit's question in c7n's words: REST API stages whose tracingEnabled is absent or false.
        policy = {"policies": [{"name": C7N_POLICY, "resource": "aws.rest-stage",
                                "filters": [{"or": [{"tracingEnabled": "absent"}, {"tracingEnabled": False}]}]}]}
        (run_dir / "accounts.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        (run_dir / "policy.yml").write_text(yaml.safe_dump(policy), encoding="utf-8")
        # A cache of its own per run: a first run of c7n-org, as a user would make it (not served from the last run's cache).
        (run_dir / "cache").mkdir()
        command = [str(self.c7n_org_command), "run", "-c", "accounts.yml", "-u", "policy.yml", "-s", "out", "--cache-path", str(run_dir / "cache")]
        cpu = _children_cpu()
        started = time.monotonic()
        try:
            completed = subprocess.run(command, cwd=run_dir, env=self.environment({"C7N_ORG_PARALLEL": str(PARALLEL)}),
                                       capture_output=True, text=True, check=False, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, None, "it did not run: %s" % exc
        seconds = time.monotonic() - started
        cpu = _children_cpu() - cpu
        (run_dir / "stdout.txt").write_text(completed.stdout + completed.stderr, encoding="utf-8")
        if completed.returncode != 0:
            lines = [line for line in completed.stderr.splitlines() if line.strip()]
            return None, None, "rc %d: %s (see %s)" % (completed.returncode, lines[-1][-200:] if lines else "no output", run_dir / "stdout.txt")
        found = sum(len(json.loads(path.read_text(encoding="utf-8"))) for path in (run_dir / "out").glob("*/*/%s/resources.json" % C7N_POLICY))
        if found != expect_off:
            return None, None, "it found %d stages with tracing off, not %d (see %s)" % (found, expect_off, run_dir / "stdout.txt")
        return seconds, cpu, None

    def fresh_quota(self):
        """A full bucket for every account-region, as after a quiet spell."""
        self.proxy.quota = Quota(rate=QUOTA_RATE, burst=QUOTA_BURST)

    def apigw_calls(self):
        return dict(self.proxy.counts("apigateway"))

    def tasks_per_target(self, hosts):
        """(min, max) over `hosts` of the task results each had in the last run (run_once tasks left out)."""
        counts = [self.last_tasks["per_host"].get(name, 0) for name in hosts]
        return min(counts), max(counts)

    # ---- output ---------------------------------------------------------------------------------
    def say(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def figure(self, label, value, goal=None):
        self.say("  %-62s %s%s" % (label, value, "  (goal %s)" % goal if goal else ""))


def check_report(report, stages, expect_noncompliant, what):
    summary = report["summary"]
    if summary["stages"] != stages or summary["errors"] or summary["targets_failed"] or summary["noncompliant"] != expect_noncompliant:
        raise RuntimeError("%s: unexpected report summary %s" % (what, json.dumps(summary)))


def spread(values):
    return ", ".join("%.1f" % value for value in values)


class Results:
    """Figures of every run: {key: [one value per run]}, and the facts the table needs."""

    def __init__(self, runs, quick, sizes):
        self.runs = runs
        self.quick = quick
        self.sizes = sizes
        self.values = {key: [] for key, *_rest in GOALS}
        self.c7n_org_reason = None
        # Why World E2 (continuous remediation) did not run, when it did not.
        self.eda_reason = None
        self.tasks = {}
        self.info = {}

    def add(self, key, value):
        self.values[key].append(value)


def world_w(bench, results, config):
    """The wide world: most targets of a real organisation are empty regions."""
    bench.aws.reset()
    bench.proxy.quota = None
    accounts = ["4000000000%02d" % index for index in range(config["accounts"])]
    hosts = {}
    targets = []
    busy = []
    stages = off = 0
    started = time.monotonic()
    for number, (account, region) in enumerate((account, region) for account in accounts for region in WIDE_REGIONS):
        name = "w%s_%s" % (account[-2:], region)
        hosts[name] = {"tracing_sweep_region": region, "tracing_sweep_account_id": account, "tracing_sweep_role_arn": role_arn(account)}
        targets.append({"region": region, "role_arn": role_arn(account)})
        # One target in five holds REST APIs: 2 APIs x 2 stages, or 3 for every other one (170 stages in the full world).
        if number % 5 == 0:
            count = 2 if len(busy) % 2 == 0 else 3
            seed(bench.aws.client("apigateway", region, account=account), api_specs(count, "w%d" % number))
            busy.append(name)
            stages += 2 * count
            off += untraced(count)
    empty = [name for name in hosts if name not in busy]
    # The same targets as hosts that stand for an account (the accounts inventory's host_per: account): each region of
    # w<NN> is the target w<NN>_<region>, the name of its host above.
    account_hosts = {"w%s" % account[-2:]: {"tracing_sweep_regions": list(WIDE_REGIONS), "tracing_sweep_account_id": account,
                                            "tracing_sweep_role_arn": role_arn(account)} for account in accounts}
    bench.say("World W: %d accounts x %d regions = %d targets, %d with REST APIs (%d stages, %d with tracing off), %d empty (seeded in %.0f s)" % (
        len(accounts), len(WIDE_REGIONS), len(hosts), len(busy), stages, off, len(empty), time.monotonic() - started))

    # Untimed: the first run of each tool reads its code from disk (and c7n-org compiles its own).
    first = {empty[0]: hosts[empty[0]]}
    bench.fresh_quota()
    bench.sweep("audit", first)
    bench.yardstick([targets[list(hosts).index(empty[0])]], 0, 0)
    if bench.c7n_org_command:
        _seconds, _cpu, reason = bench.c7n_org(accounts[:1], WIDE_REGIONS[1:2], 0)
        if reason:
            results.c7n_org_reason = reason
            bench.say("  c7n-org: not run (%s)" % reason)
    return {"accounts": accounts, "hosts": hosts, "account_hosts": account_hosts, "targets": targets, "busy": busy, "empty": empty,
            "stages": stages, "off": off}


def world_w_run(bench, results, world):
    hosts = world["hosts"]
    bench.fresh_quota()
    wall, report = bench.sweep("audit", hosts, forks=PARALLEL)
    check_report(report, world["stages"], world["off"], "World W audit")
    cpu = dict(bench.last_cpu)
    results.tasks.setdefault("audit", bench.tasks_per_target(hosts))
    total_cpu = cpu["main"] + cpu["workers"]

    bench.fresh_quota()
    yardstick, yardstick_cpu = bench.yardstick(world["targets"], world["stages"], world["off"])
    results.add("wide_boto3", wall / yardstick)
    bench.figure("role audit (forks %d) / minimal boto3 (threads %d)" % (PARALLEL, PARALLEL),
                 "%.1f s / %.1f s = %.2f" % (wall, yardstick, wall / yardstick), "<= 3.0")

    bench.fresh_quota()
    accounts_wall, accounts_report = bench.sweep("audit", world["account_hosts"], forks=PARALLEL)
    check_report(accounts_report, world["stages"], world["off"], "World W audit, one host per account")
    if sorted(target["host"] for target in accounts_report["targets"]) != sorted(hosts):
        raise RuntimeError("World W audit, one host per account: the report's targets are not the %d account x region targets" % len(hosts))
    results.add("wide_accounts", accounts_wall / yardstick)
    accounts_cpu = bench.last_cpu["main"] + bench.last_cpu["workers"]
    bench.figure("role audit, %d hosts of %d regions (forks %d) / minimal boto3" % (len(world["account_hosts"]), len(WIDE_REGIONS), PARALLEL),
                 "%.1f s / %.1f s = %.2f (CPU %.1f s)" % (accounts_wall, yardstick, accounts_wall / yardstick, accounts_cpu), "<= 3.0")

    c7n_cpu = None
    if bench.c7n_org_command and not results.c7n_org_reason:
        bench.fresh_quota()
        c7n_wall, c7n_cpu, reason = bench.c7n_org(world["accounts"], WIDE_REGIONS, world["off"])
        if reason:
            results.c7n_org_reason = reason
            bench.say("  c7n-org: not run (%s)" % reason)
        else:
            results.add("wide_c7n", wall / c7n_wall)
            bench.figure("role audit / c7n-org (%d processes)" % PARALLEL, "%.1f s / %.1f s = %.2f" % (wall, c7n_wall, wall / c7n_wall), "<= 0.5")
    bench.figure("CPU: role (main process + workers), minimal boto3, c7n-org", "%.1f s (%.1f + %.1f), %.1f s, %s" % (
        total_cpu, cpu["main"], cpu["workers"], yardstick_cpu, "%.1f s" % c7n_cpu if c7n_cpu is not None else "-"))
    bench.figure("CPU per target (all %d)" % len(hosts), "%.3f s" % (total_cpu / len(hosts)))

    empty = world["empty"]
    bench.fresh_quota()
    empty_wall, report = bench.sweep("audit", {name: hosts[name] for name in empty}, forks=PARALLEL)
    empty_cpu = bench.last_cpu["main"] + bench.last_cpu["workers"]
    results.add("cpu_empty", empty_cpu / len(empty))

    # The cost of a run whatever its size (start-up, settings, the report): one empty target alone.
    bench.fresh_quota()
    one_wall, report = bench.sweep("audit", {empty[0]: hosts[empty[0]]})
    one = {"wall": one_wall, "cpu": bench.last_cpu["main"] + bench.last_cpu["workers"], "main": bench.last_cpu["main"]}
    bench.figure("CPU per empty target (%d alone, forks %d)" % (len(empty), PARALLEL), "%.3f s (%.1f s in %.1f s)" % (
        empty_cpu / len(empty), empty_cpu, empty_wall), "<= 0.15 s")
    bench.figure("  without the run's fixed cost (%.1f CPU-s, %.1f s: one empty target alone)" % (one["cpu"], one["wall"]),
                 "%.3f s" % ((empty_cpu - one["cpu"]) / (len(empty) - 1)))
    bench.figure("  main process per target (what more cores cannot shorten)", "%.3f s" % (bench.last_cpu["main"] / len(empty)))
    bench.figure("peak RSS of a process of the run", "%.0f MiB" % (bench.last_cpu["peak_rss_kib"] / 1024))
    project(bench, results, len(hosts), {"wall": wall, "cpu": total_cpu, "main": cpu["main"]}, one)


def project(bench, results, targets, run, one):
    """500 accounts x 17 regions from the wide world's costs per target beyond the fixed cost of a run (`one`, a run of
    one target), on a controller of its own: CPU-bound on its cores (the wide world is: its forks keep the cores busy),
    never faster than ansible-playbook's main process, which works serially. The projection from this run's wall time
    is printed beside it: on this shared machine it counts the other users' load too."""
    org = ORG_ACCOUNTS * len(WIDE_REGIONS)
    per_target = max(0.0, run["cpu"] - one["cpu"]) / (targets - 1)
    main_per_target = max(0.0, run["main"] - one["main"]) / (targets - 1)
    wall_per_target = max(0.0, run["wall"] - one["wall"]) / (targets - 1)
    cores = os.cpu_count() or 1

    def minutes(share, n_cores):
        return (one["wall"] + share * max(per_target / n_cores, main_per_target)) / 60

    results.add("projection", minutes(org, ORG_CORES))
    bench.figure("projection, %d accounts x %d regions = %d targets, %d cores" % (ORG_ACCOUNTS, len(WIDE_REGIONS), org, ORG_CORES),
                 "about %.0f min (%.3f CPU-s per target beyond a run's %.1f s)" % (minutes(org, ORG_CORES), per_target, one["wall"]), "<= 10 min")
    bench.figure("  from this run's wall time instead (%d cores, shared)" % cores, "about %.0f min (the run kept %.0f%% of the cores busy)" % (
        (one["wall"] + org * wall_per_target) / 60, 100 * run["cpu"] / (run["wall"] * cores)))
    extra = ["16 cores %.0f min" % minutes(org, 16)]
    for nodes in (4, 16):
        extra.append("AWX %d nodes of 2 cores, slicing %d: %.0f min per slice" % (nodes, nodes, minutes(math.ceil(org / nodes), 2)))
    bench.figure("  elsewhere", "; ".join(extra))


def world_w_enforce(bench, results, world):
    """Once, after the runs (it changes the world): the enforce's wall time, CPU and tasks per target."""
    hosts = world["hosts"]
    bench.fresh_quota()
    bench.proxy.clear()
    wall, report = bench.sweep("enforce", hosts, forks=PARALLEL)
    check_report(report, world["stages"], 0, "World W enforce")
    if report["summary"]["changed"] != world["off"]:
        raise RuntimeError("World W enforce changed %s stages, not %d" % (report["summary"]["changed"], world["off"]))
    results.tasks["enforce"] = bench.tasks_per_target(hosts)
    cpu = bench.last_cpu["main"] + bench.last_cpu["workers"]
    bench.say("World W: enforce (once, forks %d)" % PARALLEL)
    bench.figure("enforce wall time, %d stages changed" % world["off"], "%.1f s" % wall)
    bench.figure("CPU per target", "%.3f s (%.1f s: main process %.1f s, workers %.1f s)" % (
        cpu / len(hosts), cpu, bench.last_cpu["main"], bench.last_cpu["workers"]))
    results.info["wide_enforce_seconds"] = wall


def world_large(bench, config):
    apis = config["large_apis"]
    bench.aws.reset()
    started = time.monotonic()
    seed(bench.aws.client("apigateway", "us-east-1"), api_specs(apis, "a"))
    bench.say("World B/A: 1 target, %d REST APIs x 2 stages (seeded in %.0f s)" % (apis, time.monotonic() - started))
    hosts = {"large_us-east-1": {"tracing_sweep_region": "us-east-1", "tracing_sweep_account_id": CALLER_ACCOUNT}}
    return {"apis": apis, "stages": apis * 2, "hosts": hosts, "off": untraced(apis)}


def world_b_run(bench, results, world):
    bench.proxy.quota = None
    unpaced = {"tracing_sweep_max_requests_per_second": 100000}
    role_seconds, report = bench.sweep("audit", world["hosts"], unpaced)
    check_report(report, world["stages"], world["off"], "World B audit")
    yardstick, _cpu = bench.yardstick([{"region": "us-east-1", "role_arn": None}], world["stages"], world["off"])
    results.add("large_boto3", role_seconds / yardstick)
    bench.figure("B: role audit / minimal boto3, no quota", "%.1f s / %.1f s = %.2f" % (role_seconds, yardstick, role_seconds / yardstick), "<= 1.5")


def world_a_run(bench, results, world):
    apis = world["apis"]
    bench.fresh_quota()
    bench.proxy.clear()
    seconds, report = bench.sweep("audit", world["hosts"])
    check_report(report, world["stages"], world["off"], "World A audit")
    calls = bench.apigw_calls()
    total = sum(calls.values())
    pages = math.ceil(apis / 500)
    others = total - calls.get("GetRestApis", 0) - calls.get("GetStages", 0)
    exact = calls.get("GetRestApis") == pages and calls.get("GetStages") == apis and others == 0
    results.add("quota_calls", {"GetRestApis": calls.get("GetRestApis", 0), "GetStages": calls.get("GetStages", 0), "other": others, "exact": exact})
    bench.figure("A: audit API Gateway calls", "GetRestApis %d, GetStages %d, other %d: %s" % (
        calls.get("GetRestApis", 0), calls.get("GetStages", 0), others, "exact" if exact else "NOT exact"),
        "exactly GetRestApis %d + GetStages %d" % (pages, apis))
    floor = (total - QUOTA_BURST) / QUOTA_RATE
    results.add("quota_floor", seconds / floor)
    bench.figure("A: audit wall time / floor", "%.1f s / %.1f s = %.3f" % (seconds, floor, seconds / floor), "<= 1.10")
    paced = (total - 4 * DEFAULT_PACE) / DEFAULT_PACE
    bench.figure("  the default pace's own floor / floor", "%.1f s / %.1f s = %.3f ((calls - 4 s of burst) / %.1f requests/s)" % (
        paced, floor, paced / floor, DEFAULT_PACE))
    timed = [entry for entry in bench.last_tasks["tasks"] if entry["seconds"] > 0]
    if timed:
        longest = max(timed, key=lambda entry: entry["seconds"])
        bench.figure("  the longest task / floor", "%.1f s / %.1f s = %.3f (%s)" % (
            longest["seconds"], floor, longest["seconds"] / floor, longest["task"].split(" : ", 1)[-1][:60]))
    bench.figure("A: audit answers 429 (retried)", str(bench.proxy.outcomes().get("throttled", 0)))


def world_l(bench, config):
    """World L: 1 target, REST APIs x 2 stages behind Lambda functions (AWS_PROXY integrations), half of the functions
    with active tracing, a Lambda authorizer on every PATH_AUTHORIZER_EVERY-th API."""
    from request_paths import function_arn  # pylint: disable=import-outside-toplevel
    from request_paths import invocation_uri  # pylint: disable=import-outside-toplevel
    from request_paths import seed_functions  # pylint: disable=import-outside-toplevel
    from request_paths import seed_methods  # pylint: disable=import-outside-toplevel

    apis, functions = config["path_apis"], config["path_functions"]
    bench.aws.reset()
    started = time.monotonic()
    apigw = bench.aws.client("apigateway", "us-east-1")
    seed(apigw, api_specs(apis, "p"))
    names = ["fn-%02d" % index for index in range(functions)]
    seed_functions(bench.aws, {name: {"mode": "Active" if index % 2 == 0 else "PassThrough"} for index, name in enumerate(names)}, xray_write=True)
    listed = apigw.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500}).build_full_result()["items"]
    for index, api in enumerate(sorted(listed, key=lambda item: item["name"])):
        function = names[index % functions]
        authorizer = "tokens" if index % PATH_AUTHORIZER_EVERY == 0 else None
        seed_methods(apigw, api["id"], [("/items", "GET", "AWS_PROXY", invocation_uri(function_arn(function)), authorizer)],
                     authorizers=[("tokens", function_arn(names[(index + 1) % functions]))] if authorizer else ())
    bench.say("World L: 1 target, %d REST APIs x 2 stages behind %d Lambda functions (seeded in %.0f s)" % (apis, functions, time.monotonic() - started))
    hosts = {"path_us-east-1": {"tracing_sweep_region": "us-east-1", "tracing_sweep_account_id": CALLER_ACCOUNT}}
    return {"apis": apis, "functions": functions, "stages": apis * 2, "hosts": hosts, "off": untraced(apis)}


PATH_OPERATIONS = ("GetRestApis", "GetStages", "GetResources", "GetAuthorizers", "GetFunctionConfiguration", "SimulatePrincipalPolicy")


def path_calls(apis, functions, off, on, roles=0):
    """The calls of World L's two audits (``off``, ``on``: {operation: requests} of the local AWS's log, STS left out)
    against the minimum: off, GetRestApis ceil(apis/500) + GetStages per API and nothing else; on, also one
    GetResources and one GetAuthorizers per API, one GetFunctionConfiguration per distinct function and one
    iam:SimulatePrincipalPolicy per distinct execution role of the functions that trace (``roles``)."""
    pages = math.ceil(apis / 500)
    want_off = {"GetRestApis": pages, "GetStages": apis}
    want_on = dict(want_off, GetResources=apis, GetAuthorizers=apis, GetFunctionConfiguration=functions)
    if roles:
        want_on["SimulatePrincipalPolicy"] = roles
    said = {}
    for name, calls, want in (("off", off, want_off), ("on", on, want_on)):
        said[name] = {operation: calls.get(operation, 0) for operation in PATH_OPERATIONS}
        said[name]["other"] = sum(count for operation, count in calls.items() if operation not in PATH_OPERATIONS)
    exact = all(said[name] == dict(dict.fromkeys(PATH_OPERATIONS, 0), other=0, **want) for name, want in (("off", want_off), ("on", want_on)))
    return {"off": said["off"], "on": said["on"], "exact": exact}


def world_l_run(bench, results, world):
    bench.proxy.quota = None
    unpaced = {"tracing_sweep_max_requests_per_second": 100000}
    logged = []
    reports = {}
    seconds = {}
    for name, extra in (("off", {}), ("on", {"tracing_sweep_whole_path": True})):
        bench.aws.clear()
        seconds[name], reports[name] = bench.sweep("audit", world["hosts"], dict(unpaced, **extra))
        logged.append({operation: count for operation, count in collections.Counter(r.operation for r in bench.aws.requests).items()
                       if operation not in ("GetCallerIdentity", "AssumeRole")})
    check_report(reports["off"], world["stages"], world["off"], "World L audit")
    summary = reports["on"]["summary"]
    if summary["stages"] != world["stages"] or summary["errors"] or summary.get("whole_path_coverage") is None:
        raise RuntimeError("World L whole-path audit: unexpected report summary %s" % json.dumps(summary))
    ratio = seconds["on"] / seconds["off"]
    results.add("path_ratio", ratio)
    bench.figure("L: audit with tracing_sweep_whole_path / without, no quota", "%.1f s / %.1f s = %.2f (whole-path coverage %s%%)" % (
        seconds["on"], seconds["off"], ratio, summary["whole_path_coverage"]), "<= 2.2")
    # What bounds the audit with the whole path: its function reads at Lambda's pace, after the first API's path.
    paced = max(0, world["functions"] - LAMBDA_READ_BURST) / LAMBDA_READ_RATE
    bench.figure("  of which Lambda's pace alone (%d reads at %.0f/s after a burst of %d)" % (world["functions"], LAMBDA_READ_RATE, LAMBDA_READ_BURST),
                 "%.1f s; with it the audit is %.1f s longer" % (paced, seconds["on"] - seconds["off"]))
    # Every function of World L runs as one execution role, and half of them trace: one role to check.
    counted = path_calls(world["apis"], world["functions"], *logged, roles=1)
    results.add("path_calls", counted)
    bench.figure("L: calls", "%s: %s" % (said_path_calls(counted), "exact" if counted["exact"] else "NOT exact"))


def said_path_calls(value):
    def one(calls):
        return ", ".join("%s %d" % (operation, calls[operation]) for operation in PATH_OPERATIONS + ("other",) if calls[operation])
    return "off: %s; on: %s" % (one(value["off"]), one(value["on"]))


def world_e(bench, world):
    """Enforce the large target behind the quota, once (it changes the world)."""
    bench.fresh_quota()
    bench.proxy.clear()
    seconds, report = bench.sweep("enforce", world["hosts"])
    check_report(report, world["stages"], 0, "World E enforce")
    if report["summary"]["changed"] != world["off"]:
        raise RuntimeError("World E enforce changed %s stages, not %d" % (report["summary"]["changed"], world["off"]))
    calls = bench.apigw_calls()
    total = sum(calls.values())
    floor = (total - QUOTA_BURST) / QUOTA_RATE
    bench.say("World E: enforce of the large target behind the quota (once)")
    bench.figure("enforce API Gateway calls", "%d (%s)" % (total, ", ".join("%s %d" % item for item in sorted(calls.items()))))
    bench.figure("enforce wall time / floor", "%.1f s / %.1f s = %.3f" % (seconds, floor, seconds / floor))
    bench.figure("enforce answers 429 (retried)", str(bench.proxy.outcomes().get("throttled", 0)))


def world_c_run(bench, singles):
    """12 account-regions of 50 APIs at forks 12 against the slowest of `singles` targets run alone."""
    accounts = ["3000000000%02d" % index for index in range(6)]
    regions = ["us-east-1", "eu-west-1"]
    apis = 50
    bench.aws.reset()
    bench.proxy.quota = None
    hosts = {}
    for account in accounts:
        for region in regions:
            seed(bench.aws.client("apigateway", region, account=account), api_specs(apis, "c"))
            hosts["c%s_%s" % (account[-2:], region)] = {
                "tracing_sweep_region": region, "tracing_sweep_account_id": account, "tracing_sweep_role_arn": role_arn(account)}
    stages = len(hosts) * apis * 2
    bench.say("World C: %d account-regions x %d REST APIs x 2 stages, forks %d" % (len(hosts), apis, len(hosts)))
    bench.fresh_quota()
    wall, report = bench.sweep("audit", hosts, forks=len(hosts))
    check_report(report, stages, len(hosts) * untraced(apis), "World C audit")
    cores = os.cpu_count() or 1
    used = bench.last_cpu["main"] + bench.last_cpu["workers"]
    bench.figure("CPU used / (wall time x %d cores)" % cores, "%.1f s / %.1f s = %.2f" % (used, wall * cores, used / (wall * cores)))
    bench.figure("  local AWS (moto and the proxy) CPU / wall time", "%.1f s / %.1f s = %.2f" % (
        bench.last_server_cpu, wall, bench.last_server_cpu / wall))
    seconds = []
    for host in list(hosts)[:singles]:
        bench.fresh_quota()
        single, report = bench.sweep("audit", hosts, limit=host)
        check_report(report, apis * 2, untraced(apis), "World C single %s" % host)
        seconds.append(single)
    bench.figure("wall time / slowest single target", "%.1f s / %.1f s = %.2f (singles %s)" % (
        wall, max(seconds), wall / max(seconds), spread(seconds)))


class EdaWorld:
    """World E2: one target behind the quota, the rule and queue, and the shipped rulebook, started once per bench."""

    def __init__(self, bench):
        self.bench = bench
        bench.aws.reset()
        seed(bench.aws.client("apigateway", EDA_REGION, account=EDA_ACCOUNT), [{"name": "orders", "id": EDA_API, "stages": {"prod": {"tracing": True}}}])
        self.apigw = bench.aws.client("apigateway", EDA_REGION, account=EDA_ACCOUNT)
        self.bus = EventBus(bench.aws, EDA_REGION)
        workdir = bench.run_dir("eda")
        inventory = write_inventory(workdir / "inventory", {
            "plugin": "cloudops.apigw_tracing.accounts", "regions": [EDA_REGION],
            "accounts": [{"id": EDA_ACCOUNT, "name": "eda", "role_arn": role_arn(EDA_ACCOUNT)}]}, {"tracing_sweep_desired": True})
        self.remediations = workdir / "remediations"
        started = time.monotonic()
        # API Gateway and STS through the proxy (its quota, its counts); the source's SQS polls straight to the local AWS.
        self.rulebook = Rulebook(workdir, self.bus, inventory, bench.proxy.endpoint_url, bench.aws.endpoint_url, self.remediations)
        self.rulebook.wait_for("the event source's first poll of the queue",
                               lambda: any(request.operation == "ReceiveMessage" for request in bench.aws.requests), EDA_GUARD_SECONDS)
        bench.say("World E2: the shipped rulebook under ansible-rulebook, one target (%s %s) behind the quota; polling the queue %.1f s after it started" % (
            EDA_ACCOUNT, EDA_REGION, time.monotonic() - started))

    def close(self):
        self.rulebook.stop()

    def remediate(self, stages, what):
        """Ship `stages` untraced, put their CreateStage events on the bus; wait until each has its UpdateStage and the
        runs' reports cover them. Returns (seconds from the first put_events to the last UpdateStage, calls, runs)."""
        for stage in stages:
            self.apigw.create_stage(restApiId=EDA_API, stageName=stage, deploymentId="dep-%s" % stage)
        done = len(reports(self.remediations))
        self.bench.loads.append(os.getloadavg()[0])
        self.bench.fresh_quota()
        self.bench.proxy.clear()
        sent = self.bus.put(*[cloudtrail("CreateStage", EDA_ACCOUNT, EDA_REGION, EDA_API, stage, deployment_id="dep-%s" % stage) for stage in stages])
        wanted = {"/restapis/%s/stages/%s" % (EDA_API, stage) for stage in stages}

        def updated():
            seen = [request for request in self.bench.proxy.requests
                    if request.operation == "UpdateStage" and request.outcome == "forwarded" and request.path.rstrip("/") in wanted]
            return seen if len({request.path for request in seen}) >= len(wanted) else None

        last = max(request.received_at for request in self.rulebook.wait_for("%s: an UpdateStage of each stage" % what, updated, EDA_GUARD_SECONDS))

        def covered():
            new = [report for _path, report in reports(self.remediations)[done:]]
            return new if sum(len(report["stages"]) for report in new) >= len(stages) else None

        runs = self.rulebook.wait_for("%s: the runs' reports" % what, covered, EDA_GUARD_SECONDS)
        rows = {(row["stage_name"], row["action"]) for report in runs for row in report["stages"]}
        if rows != {(stage, "enabled") for stage in stages}:
            raise RuntimeError("World E2 %s: the reports say %s" % (what, sorted(rows)))
        calls = {request.operation: 0 for request in self.bench.proxy.requests}
        throttled = 0
        for request in self.bench.proxy.requests:
            if request.outcome == "forwarded":
                calls[request.operation] += 1
            else:
                throttled += 1
        calls = {operation: count for operation, count in calls.items() if count}
        return last - sent, calls, len(runs), throttled


def eda_calls(stages, runs, calls, throttled=0):
    """The calls of remediating `stages` in `runs` playbook runs, against the minimum: one GetStage and one UpdateStage
    per stage, one AssumeRole per run (and GetRestApi, at most one per API and run); nothing else, never a region-wide read.
    `calls` are the requests the proxy forwarded; those it answered 429 (the quota's, retried by the client) are `throttled`."""
    allowed = {"GetStage", "UpdateStage", "AssumeRole", "GetRestApi"}
    others = sum(count for operation, count in calls.items() if operation not in allowed)
    exact = (calls.get("GetStage") == stages and calls.get("UpdateStage") == stages and calls.get("AssumeRole") == runs
             and calls.get("GetRestApi", 0) <= runs and not others)
    return {"stages": stages, "runs": runs, "GetStage": calls.get("GetStage", 0), "UpdateStage": calls.get("UpdateStage", 0),
            "AssumeRole": calls.get("AssumeRole", 0), "GetRestApi": calls.get("GetRestApi", 0), "other": others, "throttled": throttled,
            "exact": exact}


def world_e2_run(bench, results, world, run):
    """One CreateStage event, then a burst of EDA_BURST of the same target; the seconds to their UpdateStages, the calls."""
    single, calls, runs, throttled = world.remediate(["r%d-single" % run], "one event")
    results.add("eda_event", single)
    bench.figure("E2: one CreateStage event to its UpdateStage", "%.1f s (%d run%s; %s; 429: %d)" % (
        single, runs, "" if runs == 1 else "s", ", ".join("%s %d" % item for item in sorted(calls.items())), throttled), "<= 10 s")
    counted = eda_calls(1, runs, calls, throttled)
    burst, calls, burst_runs, throttled = world.remediate(["r%d-b%02d" % (run, index) for index in range(EDA_BURST)], "burst")
    results.add("eda_burst", burst)
    bench.figure("E2: burst of %d CreateStage events, first event to the last UpdateStage" % EDA_BURST, "%.1f s (%d run%s; %s; 429: %d)" % (
        burst, burst_runs, "" if burst_runs == 1 else "s", ", ".join("%s %d" % item for item in sorted(calls.items())), throttled), "<= 20 s")
    both = eda_calls(EDA_BURST, burst_runs, calls, throttled)
    results.add("eda_calls", {key: counted[key] + both[key] for key in counted if key != "exact"} | {"exact": counted["exact"] and both["exact"]})


# ---- the summary --------------------------------------------------------------------------------
def judge(results, key, limit, value_format, unit=""):
    """(measured range, verdict) of a goal over the runs: met only when every run meets it."""
    values = results.values[key]
    if key == "wide_c7n" and not values and results.values["wide_boto3"]:
        return "c7n-org: not run (%s)" % (results.c7n_org_reason or "--no-c7n-org"), "not run"
    if key.startswith("eda_") and not values and results.eda_reason:
        return "not run (%s)" % results.eda_reason, "not run"
    if not values:
        return "not measured", "not measured"
    if key == "eda_calls":
        return judge_eda_calls(values)
    if key == "path_calls":
        texts = sorted({said_path_calls(value) for value in values})
        exact = sum(1 for value in values if value["exact"])
        return "%s: exact in %d of %d runs" % ("; ".join(texts), exact, len(values)), "met" if exact == len(values) else "NOT met"
    if key == "quota_calls":
        first = values[0]
        exact = sum(1 for value in values if value["exact"])
        measured = "GetRestApis %d, GetStages %d, other %d" % (first["GetRestApis"], first["GetStages"], first["other"])
        if any((value["GetRestApis"], value["GetStages"], value["other"]) != (first["GetRestApis"], first["GetStages"], first["other"]) for value in values):
            measured = "; ".join("GetRestApis %d, GetStages %d, other %d" % (v["GetRestApis"], v["GetStages"], v["other"]) for v in values)
        return "%s: exact in %d of %d runs" % (measured, exact, len(values)), "met" if exact == len(values) else "NOT met"
    low, high = value_format % min(values), value_format % max(values)
    measured = (low if low == high else "%s-%s" % (low, high)) + unit
    within = sum(1 for value in values if value <= limit)
    if within == len(values):
        return measured, "met"
    if within:
        return measured, "NOT met (%d of %d runs within)" % (within, len(values))
    return measured, "NOT met"


def judge_eda_calls(values):
    """Calls per remediated stage over the runs: met only when every run made exactly the minimum."""
    def said(value):
        text = "GetStage %s, UpdateStage %s per stage; AssumeRole %s per run" % tuple(
            "%g" % round(value[name] / value[per], 2) for name, per in (("GetStage", "stages"), ("UpdateStage", "stages"), ("AssumeRole", "runs")))
        if value["GetRestApi"]:
            text += " (GetRestApi %g per run)" % round(value["GetRestApi"] / value["runs"], 2)
        if value["other"]:
            text += ", %d other calls" % value["other"]
        if value.get("throttled"):
            text += " (%d answered 429 and retried)" % value["throttled"]
        return text

    texts = sorted({said(value) for value in values})
    exact = sum(1 for value in values if value["exact"])
    return "%s: exact in %d of %d runs" % ("; ".join(texts), exact, len(values)), "met" if exact == len(values) else "NOT met"


def judge_tasks(results):
    if "audit" not in results.tasks and "enforce" not in results.tasks:
        return "not measured", "not measured"

    def said(kind):
        if kind not in results.tasks:
            return "%s not measured" % kind
        low, high = results.tasks[kind]
        return "%s %d" % (kind, low) if low == high else "%s %d-%d" % (kind, low, high)

    met = results.tasks.get("audit", (99, 99))[1] <= 1 and results.tasks.get("enforce", (99, 99))[1] <= 2
    return "%s, %s" % (said("audit"), said("enforce")), "met" if met else "NOT met"


def table(results):
    """The goals as a Markdown table: goal, measured range, verdict."""
    rows = ["| Goal | Measured (%s) | Met |" % ("1 run" if results.runs == 1 else "range of %d runs" % results.runs), "|---|---|---|"]
    for key, label, goal, limit, value_format, unit in GOALS:
        if key == "tasks":
            measured, verdict = judge_tasks(results)
        else:
            measured, verdict = judge(results, key, limit, value_format, unit)
        if measured == "not measured":
            continue
        rows.append("| %s %s | %s | %s |" % (label % results.sizes, goal % results.sizes, measured, verdict))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, help="how many times to measure every goal (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smaller worlds (2 accounts x 17 regions, 120 APIs), one run: to iterate")
    parser.add_argument("--worlds", default=DEFAULT_WORLDS,
                        help="which worlds to run: W (wide), B (large, no quota), A (large, quota), L (the whole request path), "
                             "E2 (continuous remediation, ansible-rulebook); opt-in: E (enforce large), C (parallel)")
    parser.add_argument("--no-c7n-org", action="store_true", help="do not install or run c7n-org")
    parser.add_argument("--world-c-singles", type=int, default=4, help="how many World C targets to time alone (all are the same size)")
    parser.add_argument("--keep", action="store_true", help="keep the run directories (inventories, output, reports) under .build/bench/")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    config = QUICK if args.quick else FULL
    worlds = {name.strip().upper() for name in args.worlds.split(",") if name.strip()}
    started = time.monotonic()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="run-", dir=str(BENCH_DIR))
    print("cloudops.apigw_tracing benchmark: %d run%s%s on %d cores (runs in %s)" % (
        runs, "" if runs == 1 else "s", ", quick (smaller worlds)" if args.quick else "", os.cpu_count() or 1, workdir), flush=True)
    sizes = {"wide": "%d accounts x %d regions" % (config["accounts"], len(WIDE_REGIONS)), "large": config["large_apis"],
             "pages": math.ceil(config["large_apis"] / 500), "org": ORG_ACCOUNTS,
             "path": config["path_apis"], "path_functions": config["path_functions"], "path_pages": math.ceil(config["path_apis"] / 500)}
    results = Results(runs, args.quick, sizes)
    c7n_org = None
    if args.no_c7n_org:
        results.c7n_org_reason = "--no-c7n-org"
    elif "W" in worlds:
        c7n_org, results.c7n_org_reason = prepare_c7n_org(lambda text: print(text, flush=True))
        if results.c7n_org_reason:
            print("c7n-org: not run (%s)" % results.c7n_org_reason, flush=True)
    bench = Bench(workdir, c7n_org)
    try:
        if "W" in worlds:
            wide = world_w(bench, results, config)
            for run in range(runs):
                bench.say("World W, run %d of %d" % (run + 1, runs))
                world_w_run(bench, results, wide)
            world_w_enforce(bench, results, wide)
        if worlds & {"A", "B", "E"}:
            large = world_large(bench, config)
            for run in range(runs if worlds & {"A", "B"} else 0):
                bench.say("World B/A, run %d of %d" % (run + 1, runs))
                if "B" in worlds:
                    world_b_run(bench, results, large)
                if "A" in worlds:
                    world_a_run(bench, results, large)
            if "E" in worlds:
                world_e(bench, large)
        if "L" in worlds:
            path = world_l(bench, config)
            for run in range(runs):
                bench.say("World L, run %d of %d" % (run + 1, runs))
                world_l_run(bench, results, path)
        if "C" in worlds:
            for run in range(runs):
                bench.say("World C, run %d of %d" % (run + 1, runs))
                world_c_run(bench, args.world_c_singles)
        if "E2" in worlds:
            results.eda_reason = rulebook_problem()
            if results.eda_reason:
                bench.say("World E2 (continuous remediation): not run (%s)" % results.eda_reason)
            else:
                eda = EdaWorld(bench)
                try:
                    for run in range(runs):
                        bench.say("World E2, run %d of %d" % (run + 1, runs))
                        world_e2_run(bench, results, eda, run + 1)
                finally:
                    eda.close()
    finally:
        bench.close()

    bench.say()
    if results.tasks:
        audit = results.tasks.get("audit")
        enforce = results.tasks.get("enforce")
        bench.say("Ansible tasks per target: audit %s, enforce %s (goal: audit 1, enforce 2)" % (
            "-".join(str(n) for n in sorted(set(audit))) if audit else "not measured",
            "-".join(str(n) for n in sorted(set(enforce))) if enforce else "not measured"))
    if "wide_c7n" in results.values and not results.values["wide_c7n"] and "W" in worlds:
        bench.say("c7n-org: not run (%s)" % results.c7n_org_reason)
    bench.say("Goals (%s; met only when every run meets it):" % ("1 run" if runs == 1 else "range of %d runs, never the best one" % runs))
    if args.quick:
        bench.say("(quick: smaller worlds and one run, the verdicts are indicative only)")
    rows = table(results)
    caption = "_`make bench`%s, %s on %d cores (load average %s while it ran), %s; c7n-org: %s._" % (
        " --quick" if args.quick else "", "1 run" if runs == 1 else "%d runs" % runs, os.cpu_count() or 1,
        "%.1f-%.1f" % (min(bench.loads), max(bench.loads)) if bench.loads else "unknown",
        datetime.date.today().isoformat(), " ".join(C7N_ORG_PINS) if results.values["wide_c7n"] else "not run")
    for row in rows:
        bench.say(row)
    bench.say()
    bench.say(caption)
    total = time.monotonic() - started
    (BENCH_DIR / "results.md").write_text("\n".join(rows + ["", caption]) + "\n", encoding="utf-8")
    (BENCH_DIR / "results.json").write_text(json.dumps({
        "runs": runs, "quick": args.quick, "sizes": sizes, "values": results.values, "tasks_per_target": results.tasks,
        "c7n_org": None if results.values["wide_c7n"] else results.c7n_org_reason, "info": results.info, "seconds": total,
        "load_averages": bench.loads,
    }, indent=2, sort_keys=True), encoding="utf-8")
    bench.say("Table written to %s (raw figures: %s)" % (BENCH_DIR / "results.md", BENCH_DIR / "results.json"))
    bench.say("Benchmark done in %.0f s" % total)
    if not args.keep:
        subprocess.run(["rm", "-rf", workdir], check=False)


if __name__ == "__main__":
    main()
