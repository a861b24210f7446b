# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/awx.md and the files it tells AWX users to import (docs/awx/).

The files are read as AWX reads them: survey specs against the role's argument spec, the custom
credential type's injector against what the project consumes. Then the project template
(docs/awx/project/) runs through ansible-runner, the engine AWX uses, with the credential's injector
rendered and applied by hand, as AWX applies it: the external ids must reach AssumeRole.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2.sandbox
import pytest
import yaml

from awx_runner import artifact_data
from awx_runner import clear_caller_environment
from awx_runner import job_environment
from awx_runner import project_config
from awx_runner import run_job
from sweep_world import ACCOUNTS
from sweep_world import POLICY
from sweep_world import PROD_EXTERNAL_ID
from sweep_world import ROLE_NAME
from sweep_world import accounts_inventory
from sweep_world import write_yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
AWX = DOCS / "awx"
GUIDE = DOCS / "awx.md"
PROJECT = AWX / "project"
CREDENTIAL_TYPE = AWX / "credential-type-external-ids.yml"
SURVEYS = {"audit": AWX / "survey-audit.json", "enforce": AWX / "survey-enforce.json"}
EXTERNAL_IDS_CONSUMER = PROJECT / "group_vars" / "all" / "tracing_sweep_external_ids.yml"

# What AWX accepts in a survey question, and the type each answer type gives. The role's argument spec declares str, or
# raw for a boolean, a number or a list (ansible-core's own check of those printed the whole spec on every host); the
# role's settings check reads the type then, and its default has it.
SURVEY_TYPES = {"text": "str", "textarea": "str", "password": "str", "integer": "int", "float": "float", "multiplechoice": "str", "multiselect": "list"}
PYTHON_TYPES = {"str": str, "int": int, "float": (int, float), "list": list}
QUESTION_KEYS = {"question_name", "question_description", "variable", "type", "required", "default", "choices", "min", "max"}
# Environment variables AWX refuses in a custom credential type's env injector, or that would change how the job runs.
RESERVED_ENV = re.compile(r"^(ANSIBLE_|AWX_|PYTHON|JOB_ID$|INVENTORY_|PROJECT_|PATH$|HOME$|VIRTUAL_ENV$|AWS_)")

CALLER_SECRET_KEY = "awx-doc-caller-secret-4Hq8"


def role_options():
    specs = yaml.safe_load((REPO / "roles" / "tracing_sweep" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"]["options"]


def load_survey(kind):
    return json.loads(SURVEYS[kind].read_text(encoding="utf-8"))


def survey_answers(kind):
    """The extra variables AWX sends when every question keeps its default (multiselect: a list)."""
    answers = {}
    for question in load_survey(kind)["spec"]:
        default = question["default"]
        answers[question["variable"]] = default.split("\n") if question["type"] == "multiselect" else default
    return answers


def credential_type():
    return yaml.safe_load(CREDENTIAL_TYPE.read_text(encoding="utf-8"))


def render_injector(inputs):
    """The env and extra_vars the credential injects for ``inputs``, rendered as AWX does (a sandboxed Jinja2)."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    injectors = credential_type()["injectors"]
    return (
        {key: env.from_string(value).render(**inputs) for key, value in injectors.get("env", {}).items()},
        {key: env.from_string(value).render(**inputs) for key, value in injectors.get("extra_vars", {}).items()},
    )


# ---- the files parse and hold what AWX takes --------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SURVEYS))
def test_survey_spec_is_what_awx_takes(kind):
    survey = load_survey(kind)
    assert set(survey) == {"name", "description", "spec"}
    assert survey["name"] and survey["description"]
    variables = [question["variable"] for question in survey["spec"]]
    assert len(variables) == len(set(variables)), "a variable is asked twice"
    for question in survey["spec"]:
        assert set(question) <= QUESTION_KEYS, question["variable"]
        assert {"question_name", "variable", "type", "required", "default"} <= set(question), question["variable"]
        assert question["type"] in SURVEY_TYPES, question["variable"]
        if question["type"] in ("integer", "float") or "min" in question:
            assert question["min"] <= question["max"], question["variable"]


@pytest.mark.parametrize("kind", sorted(SURVEYS))
def test_survey_variables_are_role_variables_of_the_right_type(kind):
    """Each answer lands in an extra variable of the role, of the type its argument spec declares, with a default it accepts."""
    options = role_options()
    for question in load_survey(kind)["spec"]:
        name = question["variable"]
        assert name in options, "%s is not a variable of the tracing_sweep role" % name
        option = options[name]
        wanted = SURVEY_TYPES[question["type"]]
        assert option["type"] == wanted or (option["type"] == "raw" and isinstance(option["default"], PYTHON_TYPES[wanted])), name
        default = question["default"]
        if question["type"] == "integer":
            assert isinstance(default, int) and question["min"] <= default <= question["max"], name
            assert default == option["default"], name
        elif question["type"] == "float":
            assert isinstance(default, (int, float)) and question["min"] <= default <= question["max"], name
            assert question["min"] > 0, "%s must be above 0" % name
            assert default == option["default"], name
        elif question["type"] == "multiselect":
            # Each format once, by its own name (the role also takes md and xml for markdown and junit).
            assert question["choices"] == option.get("choices", option["default"]), name
            assert default.split("\n") == option["default"], name
        elif question["type"] == "multiplechoice":
            assert default in question["choices"] and set(question["choices"]) <= set(option.get("choices", question["choices"])), name
        else:
            assert default == option["default"], name


def test_concurrency_question_has_the_role_limits(collections_path):
    # The limits the role checks tracing_sweep_concurrency against (plugin_utils/sweep_settings.py, which takes the
    # modules' from module_utils/validation.py). Both import the collection's _rules, so they are read from the
    # collection tree, in a Python of their own: nothing of it stays imported in the test process.
    code = (
        "import json\n"
        "from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import sweep_settings\n"
        "from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import validation\n"
        "print(json.dumps([sweep_settings.CONCURRENCY_MIN, sweep_settings.CONCURRENCY_MAX, validation.CONCURRENCY_MIN, validation.CONCURRENCY_MAX]))\n"
    )
    env = dict(os.environ, PYTHONPATH=collections_path)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    role_min, role_max, module_min, module_max = json.loads(proc.stdout)
    assert (role_min, role_max) == (module_min, module_max)
    for kind in SURVEYS:
        question = [q for q in load_survey(kind)["spec"] if q["variable"] == "tracing_sweep_concurrency"][0]
        assert (question["min"], question["max"]) == (role_min, role_max)


def test_every_survey_answer_passes_the_roles_settings_check(collections_path):
    """What AWX sends (each default, each limit, every choice of a multiselect) is what the role's settings check takes:
    it, not the argument spec, judges the role's variables."""
    answers = []
    for kind in SURVEYS:
        for question in load_survey(kind)["spec"]:
            key = question["variable"][len("tracing_sweep_"):]
            if question["type"] == "multiselect":
                answers.append({key: question["default"].split("\n")})
                answers.append({key: list(question["choices"])})
            else:
                answers.append({key: question["default"]})
            if question["type"] in ("integer", "float"):
                answers += [{key: question["min"]}, {key: question["max"]}]
    code = (
        "import json, sys\n"
        "from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import sweep_settings\n"
        "answers = json.loads(sys.stdin.read())\n"
        "print(json.dumps([[sweep_settings.settings_problems(answer) for answer in answers], list(sweep_settings.REPORT_FORMATS)]))\n"
    )
    env = dict(os.environ, PYTHONPATH=collections_path)
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(answers), capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    problems, formats = json.loads(proc.stdout)
    assert problems == [[]] * len(answers), [(answer, found) for answer, found in zip(answers, problems) if found]
    for kind in SURVEYS:
        for question in load_survey(kind)["spec"]:
            if question["variable"] == "tracing_sweep_report_formats":
                assert question["choices"] == formats


def test_enforce_survey_asks_for_the_change_limit():
    assert "tracing_sweep_max_changes" in [q["variable"] for q in load_survey("enforce")["spec"]]
    assert "tracing_sweep_max_changes" not in [q["variable"] for q in load_survey("audit")["spec"]]


def test_credential_type_is_what_awx_takes():
    credential = credential_type()
    assert set(credential) == {"name", "description", "kind", "inputs", "injectors"}
    assert credential["kind"] == "cloud"
    fields = credential["inputs"]["fields"]
    assert [field["id"] for field in fields] == ["external_ids"]
    assert set(credential["inputs"]["required"]) <= {field["id"] for field in fields}
    for field in fields:
        assert field["type"] == "string" and field["label"], field["id"]
    assert set(credential["injectors"]) <= {"env", "extra_vars", "file"}


def test_credential_type_marks_every_injected_input_secret():
    """Every input an injector uses is an external id, so a secret: AWX encrypts it and hides it in the job's environment."""
    credential = credential_type()
    fields = {field["id"]: field for field in credential["inputs"]["fields"]}
    used = set()
    for section in credential["injectors"].values():
        for template in section.values():
            used.update(re.findall(r"{{\s*(\w+)", template))
    assert used == set(fields)
    assert all(fields[name].get("secret") is True for name in used)


def test_credential_type_injects_only_what_the_project_consumes():
    """The env variables it injects are read by the project's group_vars, and it injects no extra variable.

    An extra variable would apply to every host, and AWX marks injected ones unsafe (never templated).
    """
    injectors = credential_type()["injectors"]
    assert set(injectors) == {"env"}
    consumer = EXTERNAL_IDS_CONSUMER.read_text(encoding="utf-8")
    for name in injectors["env"]:
        assert not RESERVED_ENV.match(name), name
        assert "'%s'" % name in consumer, "%s is injected but not read by %s" % (name, EXTERNAL_IDS_CONSUMER.name)
    consumed = yaml.safe_load(consumer)
    assert list(consumed) == ["tracing_sweep_external_id"]
    assert "tracing_sweep_external_id" in role_options()


def test_project_template_files_parse():
    for path in sorted(PROJECT.rglob("*.yml")):
        assert yaml.safe_load(path.read_text(encoding="utf-8")), path
    for name in ("audit", "enforce", "rollback", "merge_reports"):
        # A copy of the collection's play, not an import_playbook: ansible-core does not apply the project's
        # group_vars to an imported collection playbook, and the external ids come through group_vars.
        project_play = yaml.safe_load((PROJECT / ("%s.yml" % name)).read_text(encoding="utf-8"))
        collection_play = yaml.safe_load((REPO / "playbooks" / ("%s.yml" % name)).read_text(encoding="utf-8"))
        assert project_play == collection_play, name
    inventory = yaml.safe_load((PROJECT / "inventory" / "tracing.accounts.yml").read_text(encoding="utf-8"))
    assert inventory["plugin"] == "cloudops.apigw_tracing.accounts"
    assert all("external_id" not in account for account in inventory["accounts"])


# ---- the guide -----------------------------------------------------------------------------------


def test_every_path_the_guide_names_exists():
    text = GUIDE.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w/.-])((?:docs|playbooks|roles|plugins)/[\w./-]*[\w/])", text))
    links = {target for target in re.findall(r"\]\(([^)#]+)\)", text) if "://" not in target}
    assert len(named) >= 8
    missing = sorted(path for path in named if not (REPO / path).exists())
    missing += sorted(link for link in links if not (GUIDE.parent / link).exists())
    assert not missing


def test_the_guide_names_every_file_to_import():
    text = GUIDE.read_text(encoding="utf-8")
    shipped = [path.relative_to(REPO).as_posix() for path in sorted(AWX.rglob("*")) if path.is_file()]
    assert [path for path in shipped if path not in text] == []


def test_the_guide_names_every_published_artifact():
    text = GUIDE.read_text(encoding="utf-8")
    for name in ("tracing_sweep_mode", "tracing_sweep_verdict", "tracing_sweep_summary", "tracing_sweep_failed_targets", "tracing_sweep_reports",
                 "tracing_sweep_rollback_summary"):
        assert name in text, name
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        assert name in text, name


# ---- an AWX-style job from the project template --------------------------------------------------


def awx_job(estate, tmp_path, monkeypatch, collections_path, playbook, cmdline, extravars, credential_env, inventory=None, name="runner"):
    """Run ``playbook`` of docs/awx/project with ansible-runner as AWX runs a job; returns (runner, artifacts dir).

    The project template is copied as the private data dir's project (``tmp_path/name``); the inventory is the
    estate as an accounts file without any external id, or ``inventory``. ``credential_env`` is what the custom
    credential injects.
    """
    clear_caller_environment(monkeypatch)
    private = tmp_path / name
    shutil.copytree(PROJECT, private / "project")
    (private / "inventory").mkdir()
    if inventory is None:
        inventory = accounts_inventory()
        for account in inventory["accounts"]:
            account.pop("external_id", None)
    inventory_file = write_yaml(private / "inventory" / "estate.accounts.yml", inventory)
    # The AWS credential type, with STS: both token variables.
    # AWX runs ansible-playbook in the project's directory: the project's ansible.cfg applies.
    envvars = job_environment(tmp_path, collections_path, estate.endpoint_url, CALLER_SECRET_KEY, "awx-doc-session-token",
                              config=project_config(private))
    envvars.update(credential_env)
    runner = run_job(private, playbook, inventory_file, envvars, extravars, cmdline)
    return runner, private / "artifacts" / "job"


def role_sessions(estate):
    return {(session["role_arn"], session["external_id"] or "") for session in estate.assumed_sessions() if session["role_arn"].endswith(":role/" + ROLE_NAME)}


def test_audit_job_takes_external_ids_from_the_custom_credential(estate, tmp_path, monkeypatch, collections_path):
    """The Audit job template as docs/awx.md sets it up: check + diff, survey defaults, both credentials.

    The prod account's role is assumed with the external id the credential holds, which the inventory
    does not: it went credential input -> injector -> environment -> the project's group_vars ->
    tracing_sweep_external_id. The external id shows in no job event nor in stdout.
    """
    external_ids = {account["id"]: account["external_id"] for account in ACCOUNTS if account.get("external_id")}
    env, extra = render_injector({"external_ids": json.dumps(external_ids, indent=2)})
    assert extra == {}
    extravars = dict(POLICY, **survey_answers("audit"))
    extravars["tracing_sweep_report_dir"] = str(tmp_path / "reports")

    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check --diff", extravars, env)

    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    prod, staging = ("arn:aws:iam::%s:role/%s" % (account["id"], ROLE_NAME) for account in ACCOUNTS[:2])
    assert role_sessions(estate) == {(prod, PROD_EXTERNAL_ID), (staging, "")}

    stats = artifact_data(runner)
    assert (stats["tracing_sweep_mode"], stats["tracing_sweep_verdict"]) == ("audit", "noncompliant")
    assert stats["tracing_sweep_failed_targets"] == []
    assert stats["tracing_sweep_summary"]["errors"] == 0
    assert sorted(os.path.basename(path) for path in stats["tracing_sweep_reports"].values()) == [
        "report.csv", "report.html", "report.json", "report.md", "report.xml"]

    for path in sorted((artifacts / "job_events").glob("*.json")) + [artifacts / "stdout"]:
        assert PROD_EXTERNAL_ID not in path.read_text(encoding="utf-8"), path.name


def test_audit_job_without_the_custom_credential_assumes_roles_without_external_id(estate, tmp_path, monkeypatch, collections_path):
    """The control case: the external id of the test above came from the credential, nothing else."""
    extravars = dict(POLICY, tracing_sweep_report_dir=str(tmp_path / "reports"))
    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check", extravars, {})

    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    assert {external_id for _role, external_id in role_sessions(estate)} == {""}


def test_enforce_job_after_the_audit_in_a_workflow_accepts_the_audit_artifacts(estate, tmp_path, monkeypatch, collections_path):
    """In a workflow, AWX gives a node the artifacts of the nodes before it as extra variables.

    Audit -> approval -> Enforce hands the Enforce job tracing_sweep_mode, tracing_sweep_summary,
    tracing_sweep_failed_targets and tracing_sweep_reports; the enforcement must run regardless.
    """
    published = {
        "tracing_sweep_mode": "audit",
        "tracing_sweep_summary": {"targets": 6, "errors": 0},
        "tracing_sweep_failed_targets": [],
        "tracing_sweep_reports": [str(tmp_path / "audit" / "report.json")],
    }
    extravars = dict(POLICY, **survey_answers("enforce"))
    extravars.update(published)
    extravars["tracing_sweep_report_dir"] = str(tmp_path / "reports")

    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "enforce.yml", "--diff", extravars, {})

    assert (runner.rc, runner.status) == (0, "successful"), (artifacts / "stdout").read_text(encoding="utf-8")
    assert artifact_data(runner)["tracing_sweep_mode"] == "enforce"


def test_a_rejected_inventory_fails_the_job_at_once(estate, tmp_path, monkeypatch, collections_path):
    """The project's ansible.cfg (any_unparsed_is_failed): an unquoted account id fails the job with the plugin's
    message, before any play, AWS call or report."""
    inventory = {"plugin": "cloudops.apigw_tracing.accounts", "regions": ["us-east-1"], "accounts": [{"id": 111111111111, "name": "prod"}]}
    extravars = dict(POLICY, tracing_sweep_report_dir=str(tmp_path / "reports"))
    runner, artifacts = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check", extravars, {}, inventory=inventory)

    stdout = (artifacts / "stdout").read_text(encoding="utf-8")
    assert (runner.rc, runner.status) != (0, "successful"), stdout
    assert "accounts[0].id: must be a 12-digit AWS account id, as a string (in quotes), got 111111111111 (integer)" in stdout
    assert "PLAY [" not in stdout
    assert estate.requests == []
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    "artifacts, passes, message",
    [
        ({"tracing_sweep_verdict": "compliant", "tracing_sweep_summary": {"stages": 9}}, True, "Verdict compliant: 9 stages, nothing to do"),
        (
            {"tracing_sweep_verdict": "noncompliant", "tracing_sweep_summary": {"noncompliant": 3, "errors": 0}, "tracing_sweep_failed_targets": [],
             "tracing_sweep_reports": {"markdown": "/reports/report.md"}},
            False,
            "Verdict noncompliant: 3 stages non-compliant, 0 errors (failed targets: none); reports: /reports/report.md",
        ),
        (
            {"tracing_sweep_verdict": "error", "tracing_sweep_summary": {"noncompliant": 0, "errors": 1},
             "tracing_sweep_failed_targets": ["prod_us-east-1"]},
            False,
            "Verdict error: 0 stages non-compliant, 1 errors (failed targets: prod_us-east-1); reports: not written",
        ),
        ({}, False, "Verdict error: ? stages non-compliant, ? errors (failed targets: none); reports: not written"),
    ],
    ids=["compliant", "noncompliant", "error", "no-verdict"],
)
def test_the_verdict_gate_passes_only_on_a_compliant_verdict(aws, tmp_path, monkeypatch, collections_path, artifacts, passes, message):
    """verdict_gate.yml as the workflow node after the Audit: AWX hands it the audit's artifacts as extra variables.
    A missing verdict (the audit stopped before its report) counts as error. No AWS call."""
    runner, job = awx_job(aws, tmp_path, monkeypatch, collections_path, "verdict_gate.yml", "", dict(artifacts), {})

    stdout = (job / "stdout").read_text(encoding="utf-8")
    assert (runner.rc == 0, runner.status) == (passes, "successful" if passes else "failed"), stdout
    assert message in " ".join(stdout.split()), stdout
    assert aws.requests == []


def test_the_audit_jobs_artifacts_take_the_verdict_gate_to_its_verdict(estate, tmp_path, monkeypatch, collections_path):
    """Audit node, then the Verdict gate node with the audit's set_stats data: the estate's non-compliant stages fail the gate."""
    extravars = dict(POLICY, tracing_sweep_report_dir=str(tmp_path / "reports"))
    runner, dummy = awx_job(estate, tmp_path, monkeypatch, collections_path, "audit.yml", "--check", extravars, {}, name="audit")
    assert (runner.rc, runner.status) == (0, "successful")
    published = artifact_data(runner)
    assert published["tracing_sweep_verdict"] == "noncompliant"

    gate, job = awx_job(estate, tmp_path, monkeypatch, collections_path, "verdict_gate.yml", "", published, {}, name="gate")
    stdout = " ".join((job / "stdout").read_text(encoding="utf-8").split())
    assert (gate.rc != 0, gate.status) == (True, "failed"), stdout
    assert "Verdict noncompliant: %d stages non-compliant" % published["tracing_sweep_summary"]["noncompliant"] in stdout
    assert published["tracing_sweep_reports"]["markdown"] in stdout
