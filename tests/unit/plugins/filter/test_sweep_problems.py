# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudops.apigw_tracing.plugins.filter.sweep_problems import sweep_problems


def test_settings_is_the_default_kind():
    assert sweep_problems({"desired": True, "rules": []}) == []
    # -e gives strings: the words of a boolean are read as one, a misspelling is refused.
    assert sweep_problems({"desired": "no"}) == []
    assert sweep_problems({"desired": "ture"}) == ["tracing_sweep_desired: must be a boolean: true or false (also yes/no, 1/0), got 'ture'"]


def test_target_kind():
    assert sweep_problems({"region": "us-east-1"}, "target") == []
    assert sweep_problems({"region": "us-east-1", "account_id": "1"}, kind="target") == [
        "tracing_sweep_account_id: must be a 12-digit AWS account id, as a string (in quotes), got '1'"
    ]


def test_unknown_kind():
    with pytest.raises(AnsibleFilterError, match="^sweep_problems: kind must be settings or target, got 'host'$"):
        sweep_problems({}, "host")
