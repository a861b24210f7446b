# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter.sweep_report import sweep_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import EXEMPTIONS
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import GENERATED_AT
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_enforce_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import enforce_records
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import schema_errors


def test_report_equals_the_plugin_utils_report():
    report = sweep_report(enforce_records(), "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0)
    assert report == build_enforce_report()
    assert schema_errors(report) == []


def test_positional_arguments():
    report = sweep_report(enforce_records(), "enforce", GENERATED_AT, EXEMPTIONS, 0)
    assert report["summary"]["max_changes"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (([], "dry-run", GENERATED_AT), "^sweep_report: mode: must be audit or enforce, got 'dry-run'$"),
        (([{"host": "h"}], "audit", GENERATED_AT), r"^sweep_report: targets\[0\]\.region: is required$"),
    ],
)
def test_bad_input_is_a_filter_error(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        sweep_report(*args)


def test_hosts_keyword():
    records = enforce_records() + [{}]
    report = sweep_report(records, "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0, hosts=["west", "east", "broken", "late"])
    assert [(target["host"], target["status"]) for target in report["targets"]] == [("broken", "error"), ("east", "ok"), ("late", "error"), ("west", "ok")]
    assert schema_errors(report) == []
