# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter.request_totals import request_totals


def test_results_and_counts_add_up_and_skipped_tasks_add_nothing():
    read = {"changed": False, "stages": [], "requests": {"sent": 602, "throttled": 2, "server_errors": 3, "connection_errors": 1}}
    skipped = {"skipped": True, "changed": False}
    counts = {"sent": 10, "server_errors": 1}

    assert request_totals([read, skipped, counts, {}, None]) == {"sent": 612, "throttled": 2, "server_errors": 4, "connection_errors": 1}


def test_nothing_gives_zeros():
    assert request_totals([]) == {"sent": 0, "throttled": 0, "server_errors": 0, "connection_errors": 0}


@pytest.mark.parametrize(
    "value, message",
    [
        ({"sent": 1}, "must be a list"),
        (["x"], "item 0 must be a module result"),
        ([{"requests": []}], r"item 0.requests must be a mapping"),
        ([{"sent": "1"}], "item 0 sent must be an integer"),
        ([{"sent": True}], "item 0 sent must be an integer"),
    ],
)
def test_bad_input_names_the_item(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        request_totals(value)
