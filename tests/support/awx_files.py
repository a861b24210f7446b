# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files docs/awx.md tells AWX users to import (docs/awx/), read as AWX reads them.

tests/static/test_awx_files.py checks the files themselves; tests/integration/test_awx_docs.py runs the project
template with what they give a job (survey answers, the credential's injected environment).
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2.sandbox
import yaml

REPO = Path(__file__).resolve().parents[2]
AWX = REPO / "docs" / "awx"
PROJECT = AWX / "project"
CREDENTIAL_TYPE = AWX / "credential-type-external-ids.yml"
SURVEYS = {"audit": AWX / "survey-audit.json", "enforce": AWX / "survey-enforce.json"}


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
