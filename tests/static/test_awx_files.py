# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/awx.md and the files it tells AWX users to import (docs/awx/), read as AWX reads them.

Survey specs against the role's argument spec and its settings check, the custom credential type's injector
against what the project consumes, the project template against the collection's playbooks, and the guide
against the files it names. tests/integration/test_awx_docs.py runs the project template through ansible-runner.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from awx_files import AWX
from awx_files import PROJECT
from awx_files import SURVEYS
from awx_files import credential_type
from awx_files import load_survey
from conftest import REPO
from conftest import guide

GUIDE = guide("awx")
EXTERNAL_IDS_CONSUMER = PROJECT / "group_vars" / "all" / "tracing_sweep_external_ids.yml"

# What AWX accepts in a survey question, and the type each answer type gives. The role's argument spec declares str, or
# raw for a boolean, a number or a list (ansible-core's own check of those printed the whole spec on every host); the
# role's settings check reads the type then, and its default has it.
SURVEY_TYPES = {"text": "str", "textarea": "str", "password": "str", "integer": "int", "float": "float", "multiplechoice": "str", "multiselect": "list"}
PYTHON_TYPES = {"str": str, "int": int, "float": (int, float), "list": list}
QUESTION_KEYS = {"question_name", "question_description", "variable", "type", "required", "default", "choices", "min", "max"}
# Environment variables AWX refuses in a custom credential type's env injector, or that would change how the job runs.
RESERVED_ENV = re.compile(r"^(ANSIBLE_|AWX_|PYTHON|JOB_ID$|INVENTORY_|PROJECT_|PATH$|HOME$|VIRTUAL_ENV$|AWS_)")


def role_options():
    specs = yaml.safe_load((REPO / "roles" / "tracing_sweep" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"]["options"]


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
    # The limits the role checks tracing_sweep_concurrency against (plugin_utils/_settings/checks.py, which takes the
    # modules' from module_utils/validation.py). Both import the collection's _rules, so they are read from the
    # collection tree, in a Python of their own: nothing of it stays imported in the test process.
    code = (
        "import json\n"
        "from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings import checks as sweep_settings\n"
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
        "from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings import checks as sweep_settings\n"
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
