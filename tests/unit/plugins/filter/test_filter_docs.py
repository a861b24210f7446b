# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Each filter file holds one filter named like the file, documented with the arguments it really takes."""

from __future__ import annotations

import importlib
import inspect

import pytest
import yaml

FILTERS = ["sweep_problems", "sweep_plan", "sweep_outcome", "sweep_report", "render_report", "rollback_changes", "request_totals", "merge_reports"]


def load(name):
    return importlib.import_module(f"ansible_collections.cloudops.apigw_tracing.plugins.filter.{name}")


@pytest.mark.parametrize("name", FILTERS)
def test_one_filter_named_like_its_file(name):
    module = load(name)
    filters = module.FilterModule().filters()
    assert list(filters) == [name]
    assert filters[name] is getattr(module, name)


@pytest.mark.parametrize("name", FILTERS)
def test_documentation_matches_the_signature(name):
    module = load(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["name"] == name
    assert doc["version_added"] == "1.0.0"
    assert doc["author"] == ["Cloudops Maintainers (@cloudops)"]
    parameters = list(inspect.signature(getattr(module, name)).parameters.values())
    options = doc["options"]
    assert list(options)[0] == "_input"
    assert options["_input"]["required"] is True
    assert list(options)[1:] == [parameter.name for parameter in parameters[1:]]
    # A filter without arguments besides its input has no positional list.
    positional = [item.strip() for item in doc.get("positional", "").split(",") if item.strip()]
    assert positional == [parameter.name for parameter in parameters[1:]]
    for parameter in parameters[1:]:
        option = options[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            assert option.get("required") is True, parameter.name
        elif parameter.default is None:
            # null means "not given"; a list option documents that as an empty list
            assert option.get("default") in (None, []), parameter.name
        else:
            assert option.get("default") == parameter.default, parameter.name


@pytest.mark.parametrize("name", FILTERS)
def test_examples_and_return_are_yaml(name):
    module = load(name)
    examples = yaml.safe_load(module.EXAMPLES)
    assert any(f"cloudops.apigw_tracing.{name}" in str(task) for task in examples)
    assert "_value" in yaml.safe_load(module.RETURN)
