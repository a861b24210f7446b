# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Text from AWS (API names, tag values, error messages) made safe to print in a report or on a terminal.

API names and tag values are chosen by whoever can create APIs in an account, who may not be the report's
reader. A control character (ESC starts a terminal escape sequence, BEL rings), a bidirectional override
(which reorders what a reader sees) or a line separator is shown as its escape, \\x1b or \\u202e, so that
the text reads as it is stored.
"""

from __future__ import annotations

import unicodedata

# Cc: C0 and C1 controls and DEL; Cf: format characters (bidi overrides, zero-width); Zl, Zp: separators.
UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def _escape(char):
    code = ord(char)
    if code <= 0xFF:
        return "\\x%02x" % code
    return "\\u%04x" % code if code <= 0xFFFF else "\\U%08x" % code


def safe_text(text):
    """``text`` with every unsafe character replaced by its escape; other characters unchanged."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_escape(char) if unicodedata.category(char) in UNSAFE_CATEGORIES else char for char in text)
