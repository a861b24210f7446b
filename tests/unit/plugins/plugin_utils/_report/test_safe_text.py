# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Text from AWS shown as it is stored: control, format and separator characters as their escapes."""

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.safe_text import safe_text


@pytest.mark.parametrize(
    "text, shown",
    [
        ("orders", "orders"),
        ("caf\u00e9 \u65e5\u672c \u0645\u0631\u062d\u0628\u0627", "caf\u00e9 \u65e5\u672c \u0645\u0631\u062d\u0628\u0627"),  # letters of any script
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # ESC: a terminal escape sequence
        ("ring\x07", "ring\\x07"),  # BEL
        ("nul\x00", "nul\\x00"),
        ("line\nbreak\r", "line\\x0abreak\\x0d"),
        ("tab\t", "tab\\x09"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9b", "c1\\x9b"),  # a C1 control: CSI on some terminals
        ("abc\u202edcba", "abc\\u202edcba"),  # RIGHT-TO-LEFT OVERRIDE reorders what a reader sees
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),  # Zl, Zp
        ("tag\U000e0041", "tag\\U000e0041"),  # a tag character (Cf) outside the BMP
        ("already \\x1b escaped", "already \\x1b escaped"),
        ("", ""),
    ],
)
def test_safe_text(text, shown):
    assert safe_text(text) == shown


def test_safe_text_of_a_non_string_is_its_text():
    assert safe_text(5) == "5"
    assert safe_text(None) == "None"
