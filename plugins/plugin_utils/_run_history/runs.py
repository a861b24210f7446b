# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Run history (tracing_sweep_history): each run's report set kept, and what changed since the last runs.

Layout, the same in a local directory and under an S3 prefix::

    <history>/latest.json                    the last baseline stored: the run the next run compares with
    <history>/runs/<run id>/report.json      the run's report set (report.md, report.xml... as written)
    <history>/runs/<run id>/state.json       what the run knew of every target (written last: a run without it
                                             is incomplete and never a baseline)

The run id is the UTC time the run was compared (20261202T031500.123456Z), so ids sort by time.

What is compared with what:

- The baseline is the run ``latest.json`` names: the last run stored that may be a baseline. A run is stored
  but never becomes a baseline (the pointer is not moved) when it swept part of its inventory (--limit, a play
  on a group, a slice whose inventory holds the other slices' hosts) or when the comparison it should carry
  forward could not be made (the history could not be read, or no usable baseline was found).
- Each state carries every target the history knows, each with the stages it was last seen with and the run
  that last swept it; so each target of this run is compared with the last stored run that swept it. A target
  that failed, or that is in the inventory but not in this run, keeps its last known state; a target that left
  the inventory is removed (its stages are listed as removed, its state is dropped).
- A pointer naming a run later than now (a controller whose clock was ahead) is ignored, with a warning; the
  baseline is then the newest stored baseline not later than now, found by listing the runs. A missing pointer,
  or a pointed state that is missing or unusable, falls back to the listing too (older than the pointed run).
- Every field read from the history is checked, types exactly. A file that fails is unusable, and the reason
  names the file and the field; no exception of any kind escapes the read or the comparison (``problem``).

Per stage (of a target compared):
  new        not in the target's last known state (every stage of a target new to the history)
  removed    in the target's last known state, not found by this run (never those of a REST API whose stages
             could not be read this run), or a stage of a target that left the inventory
  regressed  the open regressions: a stage compliant or exempt in the last known state and non-compliant as
             found by this run (before its own changes: an enforcement that put it back still reports the drift,
             with corrected true), and every stage that regressed in an earlier run and is still non-compliant
             (with the run it first regressed in); with tracing_sweep_regression_includes_new, a new stage found
             non-compliant opens one too
  fixed      non-compliant in the last known state, compliant at the end of this run
  closed     open regressions this run closed: the stage is compliant, exempt or skipped by a rule now

A run judges the targets it compared: the open regressions of a target it did not sweep (failed, or left out by
--limit) are kept in its state for the next run that sweeps it, not listed.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import tempfile

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import ACCOUNT_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import S3_URI_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import finish_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category

STATE_FILE = "state.json"
LATEST_FILE = "latest.json"
RUNS = "runs"
STATE_VERSION = 1
TREND_LENGTH = 10
# The most states read when the baseline is looked for by listing the runs (each is one read).
CANDIDATES = 25
RUN_ID_PATTERN = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{6}Z", re.ASCII)
CHANGE_LISTS = ("new", "removed", "regressed", "fixed")
COUNTS = ("new", "new_noncompliant", "removed", "regressed", "fixed", "regressed_new", "closed")
STAGE_REF_FIELDS = ("account_id", "account_name", "region", "rest_api_id", "rest_api_name", "stage_name", "arn")
CATEGORIES = ("compliant", "noncompliant", "exempt", "skipped", "stage_errors")
REGRESSION_BEFORE = ("compliant", "exempt", "new")
MODES = ("audit", "enforce")
VERDICTS = ("compliant", "noncompliant", "error")
CHANGED_ACTIONS = ("enabled", "disabled")
NOTHING_SWEPT = "nothing was swept, so nothing was compared; the run is not kept in the history"
FIRST = "no earlier run of these targets in the history: this run is the first baseline"


class HistoryError(Exception):
    """The history could not be read or written; the message names the location and the cause."""


class Unusable(Exception):
    """A file of the history is not what this collection writes; the message names the file and the field."""


# ---- where the history is -----------------------------------------------------------------------


def location(value):
    """(kind, where) for a checked setting: ("s3", (bucket, prefix)) or ("local", directory); None when empty."""
    if value in (None, ""):
        return None
    found = S3_URI_PATTERN.fullmatch(value)
    if found is not None and value.startswith("s3://"):
        return "s3", (found.group(1), (found.group(2) or "").strip("/"))
    return "local", controller_path(value)


def describe_location(where):
    kind, place = where
    if kind == "s3":
        bucket, prefix = place
        return f"s3://{bucket}/{prefix}".rstrip("/")
    return place


# ---- stores ------------------------------------------------------------------------------------------


class LocalStore:
    """A history in a directory of the controller."""

    def __init__(self, directory):
        self.directory = directory
        self.name = directory

    def prepare(self):
        try:
            os.makedirs(self.directory, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=self.directory, prefix=".history-probe-")
            os.close(handle)
            os.unlink(probe)
        except OSError as error:
            raise HistoryError(f"cannot write in {self.directory}: {error.strerror or error}") from error

    def runs(self):
        """The complete run ids (those with a state), oldest first."""
        folder = os.path.join(self.directory, RUNS)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise HistoryError(f"cannot list {folder}: {error.strerror or error}") from error
        return sorted(name for name in names if RUN_ID_PATTERN.fullmatch(name) and os.path.isfile(os.path.join(folder, name, STATE_FILE)))

    def read(self, key):
        """The bytes of ``key``, None when it does not exist."""
        path = os.path.join(self.directory, *key.split("/"))
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise HistoryError(f"cannot read {path}: {error.strerror or error}") from error

    def write(self, key, text):
        path = os.path.join(self.directory, *key.split("/"))
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".history-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except OSError as error:
            raise HistoryError(f"cannot write {path}: {error.strerror or error}") from error


class S3Store:
    """A history under an S3 prefix, read and written with the controller's credentials."""

    def __init__(self, bucket, prefix, make_client, describe_cause):
        self.bucket = bucket
        self.prefix = prefix
        self.name = describe_location(("s3", (bucket, prefix)))
        self._make_client = make_client
        self._describe_cause = describe_cause
        self._client = None

    def _key(self, key):
        return f"{self.prefix}/{key}" if self.prefix else key

    def _s3(self):
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _failed(self, what, error):
        return HistoryError(f"{what} s3://{self.bucket}/{self._key('')}: {self._describe_cause(error)}")

    def prepare(self):
        """Nothing is proven before the sweep: S3 is reached only when the report is written."""

    def runs(self):
        prefix = self._key(RUNS + "/")
        complete = set()
        try:
            paginator = self._s3().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents") or []:
                    rest = str(item.get("Key") or "")[len(prefix):].split("/")
                    if len(rest) == 2 and rest[1] == STATE_FILE and RUN_ID_PATTERN.fullmatch(rest[0]):
                        complete.add(rest[0])
        except aws.AWS_ERRORS as error:
            raise self._failed("cannot list the runs in", error) from None
        return sorted(complete)

    def read(self, key):
        try:
            answer = self._s3().get_object(Bucket=self.bucket, Key=self._key(key))
            return answer["Body"].read()
        except aws.AWS_ERRORS as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            raise self._failed(f"cannot read {key} in", error) from None

    def write(self, key, text):
        try:
            self._s3().put_object(Bucket=self.bucket, Key=self._key(key), Body=text.encode("utf-8"), ContentType=_content_type(key))
        except aws.AWS_ERRORS as error:
            raise self._failed(f"cannot write {key} in", error) from None


def _content_type(key):
    for suffix, kind in ((".json", "application/json"), (".md", "text/markdown"), (".xml", "application/xml"), (".csv", "text/csv"), (".html", "text/html")):
        if key.endswith(suffix):
            return kind + "; charset=utf-8"
    return "text/plain; charset=utf-8"


def open_store(settings):
    """The store of the checked settings' tracing_sweep_history; None when it is not set.

    An S3 history is read and written with the controller's credentials, in the region of AWS_REGION (else
    AWS_DEFAULT_REGION, else us-east-1), through tracing_sweep_endpoint_url when it is set (else the SDK's own
    endpoint, which honours AWS_ENDPOINT_URL_S3).
    """
    where = location(settings.get("history"))
    if where is None:
        return None
    kind, place = where
    if kind == "local":
        return LocalStore(place)

    def make_client():
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return aws.client("s3", region, settings.get("endpoint_url") or None, aws.client_config("s3"))

    return S3Store(place[0], place[1], make_client, aws.describe_cause)


# ---- checking what is read -----------------------------------------------------------------------------


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(where, field, rule, value):
    return Unusable(f"{where}: {field} must be {rule}, got {_shown(value)}")


def _mapping(where, field, value):
    if not isinstance(value, dict):
        raise _bad(where, field, "an object", value)
    return value


def _list(where, field, value):
    if not isinstance(value, list):
        raise _bad(where, field, "a list", value)
    return value


def _text(where, field, value, nullable=False, pattern=None, rule=None):
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
        rule = rule or "a non-empty string"
        raise _bad(where, field, rule + (" or null" if nullable else ""), value)
    return value


def _run_id(where, field, value):
    return _text(where, field, value, pattern=RUN_ID_PATTERN, rule="a run id (YYYYMMDDTHHMMSS.ffffffZ)")


def _choice(where, field, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise _bad(where, field, "one of " + ", ".join(choices), value)
    return value


def _percent(where, field, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 100:
        raise _bad(where, field, "a number from 0 to 100 or null", value)
    return value


def _count(where, field, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(where, field, "a whole number >= 0", value)
    return value


def _flag(where, field, value):
    if not isinstance(value, bool):
        raise _bad(where, field, "true or false", value)
    return value


def _version(where, data):
    version = data.get("version")
    if isinstance(version, bool) or version != STATE_VERSION:
        raise _bad(where, "version", f"{STATE_VERSION} (a history of this collection's release)", version)


def check_latest(data, where):
    """latest.json, checked: {version, run_id, generated_at}."""
    _mapping(where, "the file", data)
    _version(where, data)
    return {"run_id": _run_id(where, "run_id", data.get("run_id")), "generated_at": _text(where, "generated_at", data.get("generated_at"))}


def _check_regression(where, field, value):
    if value is None:
        return None
    _mapping(where, field, value)
    return {
        "since": _run_id(where, field + ".since", value.get("since")),
        "since_generated_at": _text(where, field + ".since_generated_at", value.get("since_generated_at")),
        "before": _choice(where, field + ".before", value.get("before"), REGRESSION_BEFORE),
        "cause": _text(where, field + ".cause", value.get("cause")),
    }


def _check_stage(where, field, value):
    _mapping(where, field, value)
    stage = {
        "account_id": _text(where, field + ".account_id", value.get("account_id"), nullable=True, pattern=ACCOUNT_ID_PATTERN,
                            rule="a 12-digit account id"),
        "arn": _text(where, field + ".arn", value.get("arn")),
        "category": _choice(where, field + ".category", value.get("category"), CATEGORIES),
    }
    for name in ("account_name", "region", "rest_api_id", "rest_api_name", "stage_name"):
        stage[name] = _text(where, f"{field}.{name}", value.get(name), nullable=True)
    stage["regression"] = _check_regression(where, field + ".regression", value.get("regression"))
    return stage


def _check_target(where, field, value):
    _mapping(where, field, value)
    target = {
        "host": _text(where, field + ".host", value.get("host")),
        "run_id": _run_id(where, field + ".run_id", value.get("run_id")),
        "generated_at": _text(where, field + ".generated_at", value.get("generated_at")),
    }
    stages = _list(where, field + ".stages", value.get("stages"))
    target["stages"] = [_check_stage(where, f"{field}.stages[{index}]", item) for index, item in enumerate(stages)]
    return target


def _check_trend_entry(where, field, value):
    _mapping(where, field, value)
    return {
        "id": _run_id(where, field + ".id", value.get("id")),
        "generated_at": _text(where, field + ".generated_at", value.get("generated_at")),
        "mode": _choice(where, field + ".mode", value.get("mode"), MODES),
        "compliance_percent": _percent(where, field + ".compliance_percent", value.get("compliance_percent")),
        "noncompliant": _count(where, field + ".noncompliant", value.get("noncompliant")),
        "verdict": _choice(where, field + ".verdict", value.get("verdict"), VERDICTS),
    }


def check_state(data, where):
    """A state.json, checked field by field (types exactly); Unusable names the file and the first bad field."""
    _mapping(where, "the file", data)
    _version(where, data)
    state = {
        "run_id": _run_id(where, "run_id", data.get("run_id")),
        "generated_at": _text(where, "generated_at", data.get("generated_at")),
        "mode": _choice(where, "mode", data.get("mode"), MODES),
        "verdict": _choice(where, "verdict", data.get("verdict"), VERDICTS),
        "compliance_percent": _percent(where, "compliance_percent", data.get("compliance_percent")),
        "baseline": _flag(where, "baseline", data.get("baseline")),
    }
    targets = _list(where, "targets", data.get("targets"))
    state["targets"] = [_check_target(where, f"targets[{index}]", item) for index, item in enumerate(targets)]
    hosts = [target["host"] for target in state["targets"]]
    for index, host in enumerate(hosts):
        if host in hosts[:index]:
            raise Unusable(f"{where}: targets[{index}].host repeats {_shown(host)}")
    trend = _list(where, "trend", data.get("trend"))
    state["trend"] = [_check_trend_entry(where, f"trend[{index}]", item) for index, item in enumerate(trend)]
    return state


# ---- ids, stages and what a run leaves ----------------------------------------------------------------


def run_id(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def stage_key(item):
    return f"{item.get('account_id') or ''} {item['arn']}"


def found_category(row):
    """The category a stage was found in by this run: before an enforcement's own change."""
    if row["action"] in CHANGED_ACTIONS:
        return "noncompliant"
    return row_category(row)


def _ref(item, category, baseline):
    ref = {field: item.get(field) for field in STAGE_REF_FIELDS}
    ref["category"] = category
    ref["baseline"] = baseline
    return ref


def _trend_entry(identifier, report):
    return {
        "id": identifier,
        "generated_at": report["generated_at"],
        "mode": report["mode"],
        "compliance_percent": report["summary"]["compliance_percent"],
        "noncompliant": report["summary"]["noncompliant"],
        "verdict": report["verdict"],
    }


def _listed(hosts, most=5):
    hosts = sorted(hosts)
    return ", ".join(hosts[:most]) + (", ..." if len(hosts) > most else "")


def _targets(number):
    return f"{number} target{'s' if number != 1 else ''}"


def _expired_exemptions(report):
    """ARN -> the sentence naming the expired exemption that matched it."""
    causes = {}
    for entry in report.get("exemptions") or []:
        if entry.get("status") == "expired":
            for arn in entry.get("stages") or []:
                number = entry["index"] + 1 if isinstance(entry.get("index"), int) and not isinstance(entry.get("index"), bool) else entry.get("index")
                causes.setdefault(arn, f"exemption {number} expired on {entry.get('expires')} ({entry.get('reason')})")
    return causes


def _regression_cause(row, before, expired):
    if before == "exempt":
        return expired.get(row["arn"]) or "no longer exempt: " + str(row["reason"])
    state = row["tracing_enabled_before"]
    if row["desired"] is not None and state is not None and state != row["desired"]:
        cause = f"tracing_enabled is {str(state).lower()}, desired {str(row['desired']).lower()}"
    else:
        cause = str(row["reason"])
    return ("a new stage: " + cause) if before == "new" else cause


class _Sweep:
    """This run's report, by target: rows by host, REST APIs whose stages could not be read, ok and failed hosts."""

    def __init__(self, report):
        self.hosts = sorted({str(target["host"]) for target in report["targets"]})
        self.ok = {target["host"] for target in report["targets"] if target["status"] == "ok"}
        self.failed = sorted(target["host"] for target in report["targets"] if target["status"] != "ok")
        places = {}
        for target in report["targets"]:
            if target["status"] == "ok":
                places.setdefault((target["account_id"], target["region"]), target["host"])
        self.rows = {host: [] for host in self.ok}
        self.unread = {host: set() for host in self.ok}
        self.stage_errors = 0
        for row in report["stages"]:
            host = places.get((row["account_id"], row["region"]))
            if host is None:
                continue
            if row["action"] == "error":
                self.stage_errors += 1
                self.unread[host].add((row["account_id"], row["rest_api_id"]))
            else:
                self.rows[host].append(row)


def _empty(where, identifier, status, reason, trend):
    return {
        "status": status,
        "reason": reason,
        "problem": None,
        "warnings": [],
        "history": where,
        "run_id": identifier,
        "baseline": None,
        "baselines": [],
        "out_of_scope": [],
        "next_baseline": False,
        "counts": dict.fromkeys(COUNTS, 0),
        "new": [],
        "removed": [],
        "regressed": [],
        "fixed": [],
        "closed": [],
        "trend": trend,
    }


class Comparison:
    """What one run learns from its history and what it leaves there (``since_baseline``, ``problem``, ``store_run``).

    ``problem`` is None, or the sentence saying why the comparison could not be made as it should (the history
    could not be read, a baseline is unusable): an alert on regressions cannot vouch for this run then.
    ``warnings`` are what the run should say on its console. Nothing raises here.
    """

    def __init__(self, store, report, identifier=None, inventory_hosts=None, includes_new=False):
        self.store = store
        self.identifier = identifier or run_id()
        self.includes_new = bool(includes_new)
        self.problem = None
        self.notices = []
        self._warnings = []
        self._ahead_said = False
        self.baseline_state = None
        self.state = None
        self.kept = False
        self.partial = False
        self.inventory = None
        this = None
        try:
            this = [_trend_entry(self.identifier, report)]
            sweep = _Sweep(report)
            self.kept = bool(sweep.hosts)
            if isinstance(inventory_hosts, (list, tuple)) and all(isinstance(host, str) for host in inventory_hosts):
                self.inventory = set(inventory_hosts)
                self.partial = bool(self.inventory - set(sweep.hosts))
            if not self.kept:
                # A run that swept nothing has nothing to compare, and is not kept: it would only hide the last real run.
                self.since_baseline = _empty(store.name, self.identifier, "no_baseline", NOTHING_SWEPT, this)
            else:
                self.since_baseline = self._compare(report, sweep, this)
        except Exception as error:  # pylint: disable=broad-exception-caught
            # Whatever went wrong, the run keeps its report: the cause is said, and this run is no baseline.
            self.problem = f"the comparison with the history failed, so nothing was compared: {type(error).__name__}: {error}"
            self.baseline_state = None
            self.state = None
            self.since_baseline = _empty(store.name, self.identifier, "no_baseline", self.problem, this or [])
            self.since_baseline["problem"] = self.problem
            self.since_baseline["warnings"] = self.warnings
        # A run is the next baseline when it swept its whole inventory and made the comparison it carries forward
        # (through a fallback to an older baseline, if need be); else the pointer stays on the last good baseline.
        self.eligible = bool(
            self.kept and self.state is not None and not self.partial and (self.problem is None or self.baseline_state is not None)
        )
        if self.kept:
            self.since_baseline["next_baseline"] = self.eligible
            if self.state is not None:
                self.state["baseline"] = self.eligible

    # ---- finding the baseline ----

    def _where(self, key):
        return f"{self.store.name.rstrip('/')}/{key}"

    def _load(self, key, check):
        """The checked content of ``key``, None when it does not exist; HistoryError (unreadable), Unusable."""
        data = self.store.read(key)
        if data is None:
            return None
        where = self._where(key)
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise Unusable(f"{where}: is not JSON text ({error})") from None
        return check(parsed, where)

    def _warn(self, text):
        self.notices.append(text)
        self._warnings.append(text)

    def _unusable(self, error):
        if self.problem is None:
            self.problem = f"a baseline in the history is unusable: {error}"
        else:
            self.notices.append(f"also unusable: {error}")

    def _by_listing(self, before):
        """The newest stored run that may be a baseline, earlier than ``before`` (this run's id, else the pointed run)."""
        ids = self.store.runs()
        ahead = [identifier for identifier in ids if identifier > self.identifier]
        if ahead and not self._ahead_said:
            self._warn(f"{_runs(len(ahead))} of the history {'are' if len(ahead) != 1 else 'is'} later than this run ({self.identifier}), "
                       f"stored by a controller whose clock was ahead ({_listed(ahead, 3)}): ignored")
        candidates = [identifier for identifier in ids if identifier < before][::-1]
        for identifier in candidates[:CANDIDATES]:
            key = f"{RUNS}/{identifier}/{STATE_FILE}"
            try:
                state = self._load(key, check_state)
            except Unusable as error:
                self._unusable(error)
                continue
            if state is not None and state["run_id"] != identifier:
                self._unusable(f"{self._where(key)}: run_id is {state['run_id']!r}, but it is stored as run {identifier}")
                continue
            if state is not None and state["baseline"]:
                if self.problem is not None:
                    self.problem += f"; compared with the newest usable baseline before it, {identifier}"
                return state
        if len(candidates) > CANDIDATES:
            self.notices.append(f"no baseline among the {CANDIDATES} newest stored runs before {before}; older ones were not read")
        elif candidates:
            self.notices.append(f"none of the {_runs(len(candidates))} stored before {before} is a baseline (each swept part of its inventory, "
                                "or could not be compared)")
        if self.problem is not None:
            self.problem += ("; no usable baseline before it, so nothing was compared (repair or delete the unusable file: the next run then "
                             "compares with the newest usable run before it)")
        return None

    def _find_baseline(self):
        """The state to compare with, or None; sets ``problem`` and the notices on the way. HistoryError: unreadable."""
        try:
            pointer = self._load(LATEST_FILE, check_latest)
        except Unusable as error:
            self._unusable(error)
            return self._by_listing(self.identifier)
        if pointer is None:
            return self._by_listing(self.identifier)
        pointed = pointer["run_id"]
        if pointed > self.identifier:
            self._warn(
                f"{self._where(LATEST_FILE)} names the run {pointed}, later than this run ({self.identifier}): it was stored by a controller "
                "whose clock was ahead, so it is ignored and the baseline is the newest stored run before now"
            )
            self._ahead_said = True
            return self._by_listing(self.identifier)
        key = f"{RUNS}/{pointed}/{STATE_FILE}"
        try:
            state = self._load(key, check_state)
        except Unusable as error:
            self._unusable(error)
            return self._by_listing(pointed)
        if state is None:
            self._warn(f"the last baseline, {pointed}, has no {self._where(key)} (deleted, or expired by a lifecycle rule): "
                       "the baseline is the newest stored run before it")
            return self._by_listing(pointed)
        if state["run_id"] != pointed:
            self._unusable(f"{self._where(key)}: run_id is {state['run_id']!r}, but it is stored as run {pointed}")
            return self._by_listing(pointed)
        return state

    # ---- the comparison ----

    def _compare(self, report, sweep, this):
        where = self.store.name
        try:
            baseline = self._find_baseline()
        except HistoryError as error:
            unreadable = f"the history could not be read, so nothing was compared: {error}"
            self.problem = unreadable if self.problem is None else f"{self.problem}; then {unreadable}"
            baseline = None
        self.baseline_state = baseline
        expired = _expired_exemptions(report)
        lists = {name: [] for name in CHANGE_LISTS + ("closed",)}
        targets = {}
        known = {target["host"]: target for target in (baseline or {}).get("targets") or []}
        used = {}
        for host in sorted(sweep.ok):
            earlier = known.get(host) if baseline is not None else None
            stages = self._compare_target(report, host, sweep, earlier, expired, lists)
            targets[host] = {"host": host, "run_id": self.identifier, "generated_at": report["generated_at"], "stages": stages}
            if earlier is not None:
                used.setdefault(earlier["run_id"], {"id": earlier["run_id"], "generated_at": earlier["generated_at"], "targets": []})["targets"].append(host)
        out_of_scope, gone = [], []
        for host, earlier in known.items():
            if host in sweep.ok:
                continue
            if host in sweep.failed or (self.inventory is not None and host in self.inventory):
                targets[host] = earlier
                if host not in sweep.failed:
                    out_of_scope.append(host)
                continue
            gone.append(host)
            for item in earlier["stages"]:
                lists["removed"].append(_ref(item, item["category"], earlier["run_id"]))
        self.state = {
            "version": STATE_VERSION,
            "run_id": self.identifier,
            "generated_at": report["generated_at"],
            "mode": report["mode"],
            "verdict": report["verdict"],
            "compliance_percent": report["summary"]["compliance_percent"],
            "baseline": True,
            "targets": [targets[host] for host in sorted(targets)],
            "trend": ((baseline or {}).get("trend", []) + this)[-(TREND_LENGTH + 1):],
        }
        if baseline is None:
            result = _empty(where, self.identifier, "no_baseline", self._with_notices([self.problem or self._first_reason()]), this)
            result["problem"] = self.problem
            result["warnings"] = self.warnings
            return result
        notes = self._notes(sweep, known, out_of_scope, gone, used)
        result = _empty(where, self.identifier, "compared", self._with_notices([self.problem] + notes), self.state["trend"])
        result["baseline"] = {
            "id": baseline["run_id"],
            "generated_at": baseline["generated_at"],
            "mode": baseline["mode"],
            "compliance_percent": baseline["compliance_percent"],
            "verdict": baseline["verdict"],
        }
        result["baselines"] = sorted(used.values(), key=lambda item: item["id"], reverse=True)
        for entry in result["baselines"]:
            entry["targets"].sort()
        result["out_of_scope"] = sorted(out_of_scope)
        result["problem"] = self.problem
        result["warnings"] = self.warnings
        for name in CHANGE_LISTS + ("closed",):
            lists[name].sort(key=lambda item: (item.get("account_id") or "", item.get("region") or "", item["arn"]))
            result[name] = lists[name]
        counts = {name: len(lists[name]) for name in CHANGE_LISTS + ("closed",)}
        counts["new_noncompliant"] = sum(1 for item in lists["new"] if item["category"] == "noncompliant")
        counts["regressed_new"] = sum(1 for item in lists["regressed"] if item["new_this_run"])
        result["counts"] = {name: counts[name] for name in COUNTS}
        return result

    def _compare_target(self, report, host, sweep, earlier, expired, lists):
        """This target's stages as the state keeps them; the changes since ``earlier`` (its last known state) go in ``lists``."""
        generated_at = report["generated_at"]
        baseline_id = earlier["run_id"] if earlier is not None else None
        before = {stage_key(item): item for item in (earlier or {}).get("stages") or []}
        compared = self.baseline_state is not None
        stages = []
        seen = set()
        for row in sweep.rows[host]:
            key = stage_key(row)
            seen.add(key)
            found = found_category(row)
            after = row_category(row)
            corrected = row["action"] in CHANGED_ACTIONS
            was = before.get(key)
            regression = None
            if was is None:
                if compared:
                    lists["new"].append(_ref(row, found, baseline_id))
                    if self.includes_new and found == "noncompliant":
                        regression = self._opened(row, "new", generated_at, expired, baseline_id, corrected, lists)
            elif was["category"] == "noncompliant" and was["regression"] is not None:
                opened = was["regression"]
                if after == "noncompliant":
                    cause = _regression_cause(row, opened["before"], expired)
                    regression = dict(opened, cause=cause)
                    lists["regressed"].append(self._change(row, after, opened["before"], found, cause, corrected, baseline_id, opened, False))
                else:
                    self._closed(row, after, corrected, baseline_id, opened, lists)
            elif was["category"] in ("compliant", "exempt") and found == "noncompliant":
                regression = self._opened(row, was["category"], generated_at, expired, baseline_id, corrected, lists)
            elif was["category"] == "noncompliant" and after == "compliant":
                lists["fixed"].append(self._change(row, after, "noncompliant", after, "this run changed it" if corrected else "found compliant",
                                                   corrected, baseline_id))
            stages.append(dict(_ref(row, after, None), regression=regression if after == "noncompliant" else None))
        for key, item in before.items():
            if key in seen:
                continue
            if (item.get("account_id"), item.get("rest_api_id")) in sweep.unread[host]:
                stages.append(item)  # its REST API could not be read this run: its last known state is kept
            else:
                lists["removed"].append(_ref(item, item["category"], baseline_id))
        for item in stages:
            item.pop("baseline", None)
        stages.sort(key=lambda item: (item.get("account_id") or "", item.get("region") or "", item["arn"]))
        return stages

    def _change(self, row, category, before, after, cause, corrected, baseline_id, regression=None, new=None):
        change = dict(_ref(row, category, baseline_id), before=before, after=after, cause=cause, corrected=corrected)
        if regression is not None:
            change.update(since=regression["since"], since_generated_at=regression["since_generated_at"], new_this_run=new)
        return change

    def _opened(self, row, before, generated_at, expired, baseline_id, corrected, lists):
        cause = _regression_cause(row, before, expired)
        regression = {"since": self.identifier, "since_generated_at": generated_at, "before": before, "cause": cause}
        lists["regressed"].append(self._change(row, row_category(row), before, "noncompliant", cause, corrected, baseline_id, regression, True))
        return regression

    def _closed(self, row, after, corrected, baseline_id, opened, lists):
        if after == "compliant":
            cause = "this run changed it" if corrected else "found compliant"
            lists["fixed"].append(self._change(row, after, "noncompliant", after, cause, corrected, baseline_id))
        else:
            # Exempt or skipped by a rule: an exemption closes an open regression on purpose.
            cause = f"{after}: {row['reason']}"
        lists["closed"].append(self._change(row, after, "noncompliant", after, cause, corrected, baseline_id, opened, False))

    def _first_reason(self):
        if self.partial:
            return FIRST.replace("the first baseline", "the first of the history, but it sweeps part of its inventory, so it is not a baseline either")
        return FIRST

    def _notes(self, sweep, known, out_of_scope, gone, used):
        notes = []
        if sweep.failed:
            notes.append(
                f"{_targets(len(sweep.failed))} failed this run and {'were' if len(sweep.failed) != 1 else 'was'} not compared "
                f"({_listed(sweep.failed)}); {'their' if len(sweep.failed) != 1 else 'its'} last known state is kept for the next run"
            )
        if out_of_scope:
            notes.append(
                f"{_targets(len(out_of_scope))} of the inventory {'are' if len(out_of_scope) != 1 else 'is'} not in this run (--limit or a slice) "
                f"and {'were' if len(out_of_scope) != 1 else 'was'} not compared ({_listed(out_of_scope)}); their last known state is kept"
            )
        fresh = sorted(host for host in sweep.ok if host not in known)
        if fresh:
            notes.append(f"{_targets(len(fresh))} new to the history: every stage of {'theirs' if len(fresh) != 1 else 'its'} is new ({_listed(fresh)})")
        if gone:
            notes.append(f"{_targets(len(gone))} left the inventory: {'their' if len(gone) != 1 else 'its'} stages are removed ({_listed(gone)})")
        if sweep.stage_errors:
            notes.append(f"{sweep.stage_errors} stage error{'s' if sweep.stage_errors != 1 else ''} this run: those stages were not compared")
        if len(used) > 1:
            runs = sorted(used.values(), key=lambda item: item["id"], reverse=True)
            notes.append("each target is compared with the last run that swept it: " + ", ".join(
                f"{item['id']} ({_targets(len(item['targets']))})" for item in runs))
        if self.partial:
            notes.append("this run sweeps part of its inventory: it is kept, but it is not the baseline of later runs")
        return notes

    def _with_notices(self, parts):
        return "; ".join(part for part in parts + self.notices if part) or None

    @property
    def warnings(self):
        """What the run says on its console besides the problem: a clock ahead, a baseline gone."""
        return [f"tracing_sweep_history: {text}" for text in self._warnings]

    def judge(self, report, fail_on_regression):
        """The problem's weight: with tracing_sweep_fail_on_regression a run error (the verdict is recomputed:
        error), else a warning. Returns the warnings the run prints."""
        warnings = self.warnings
        if self.problem:
            if fail_on_regression:
                report["run"]["errors"].append(
                    f"tracing_sweep_history: {self.problem}; tracing_sweep_fail_on_regression cannot vouch for this run. It is kept in the history "
                    "but is not the baseline of the next run, which compares with the last good baseline"
                )
                finish_report(report)
            else:
                warnings = [f"tracing_sweep_history: {self.problem}"] + warnings
        return warnings

    def store_run(self, report, rendered, file_names):
        """Keep the run's report set and its state (written last), then move latest.json when this run is a
        baseline. Returns where it is kept (None when not kept); raises HistoryError naming the cause."""
        if not self.kept or self.state is None:
            return None
        folder = f"{RUNS}/{self.identifier}"
        try:
            for name, text in rendered.items():
                self.store.write(f"{folder}/{file_names[name]}", text)
            self.store.write(f"{folder}/{STATE_FILE}", json.dumps(self.state, indent=1, sort_keys=True) + "\n")
            if self.eligible and not self._newer_baseline_stored():
                latest = {"version": STATE_VERSION, "run_id": self.identifier, "generated_at": report["generated_at"]}
                self.store.write(LATEST_FILE, json.dumps(latest, indent=1, sort_keys=True) + "\n")
        except HistoryError:
            raise
        except Exception as error:  # pylint: disable=broad-exception-caught
            raise HistoryError(f"cannot keep this run in {self.store.name}: {type(error).__name__}: {error}") from None
        where = f"{self.store.name.rstrip('/')}/{folder}"
        if not self.eligible:
            why = "it sweeps part of its inventory" if self.partial else "its comparison could not be made"
            where += f" (kept, but not the baseline of the next run: {why})"
        return where

    def _newer_baseline_stored(self):
        """Whether another run stored a later baseline meanwhile (a concurrent run): the pointer never goes back."""
        try:
            pointer = self._load(LATEST_FILE, check_latest)
        except (HistoryError, Unusable):
            return False
        return pointer is not None and self.identifier < pointer["run_id"] <= run_id()


def _runs(number):
    return f"{number} run{'s' if number != 1 else ''}"


def regression_message(since, dest):
    """The failure message of tracing_sweep_fail_on_regression (None when no regression is open): each open
    regression, its cause and the run it first regressed in."""
    if not since or not since["counts"]["regressed"]:
        return None
    count = since["counts"]["regressed"]
    baseline = since.get("baseline") or {}

    def described(item):
        when = "first found by this run" if item.get("new_this_run", True) else f"open since {item.get('since')} ({item.get('since_generated_at')})"
        put_back = ", put back by this run" if item["corrected"] else ""
        return f"{item['arn']} in {item.get('account_id') or '-'} ({item['cause']}; {when}{put_back})"

    fresh = sum(1 for item in since["regressed"] if item.get("new_this_run", True))
    return (
        f"{count} stage{' has' if count == 1 else 's have'} regressed since the last run ({baseline.get('id')}, {baseline.get('generated_at')}) "
        f"and {'is' if count == 1 else 'are'} not fixed ({fresh} first found by this run, {count - fresh} open since an earlier run): "
        f"{'; '.join(described(item) for item in since['regressed'][:10])}{' ...' if count > 10 else ''}; see {dest}"
    )
