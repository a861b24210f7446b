# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guides of the collection's documentation site (docs/docsite/rst/*.rst), read as the tests that run what they show need.

Only what those tests use: a guide's text, a section of it by its title, and the literal blocks of a given language
(``.. code-block:: sh``) as they are meant, without the indentation RST requires.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "docsite" / "rst"
UNDERLINE = re.compile(r"^([=\-~^\"'`#*+]){3,}$")


def guide(name):
    """The text of docs/docsite/rst/<name>.rst."""
    return (GUIDES / f"{name}.rst").read_text(encoding="utf-8")


def all_guides():
    """Every guide's text, one after the other."""
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(GUIDES.glob("*.rst")))


def section(text, title):
    """The section titled ``title``: from its title to the next title of the same or a higher level."""
    lines = text.splitlines(keepends=True)
    levels = []
    start = level = None
    for index in range(1, len(lines)):
        underline = UNDERLINE.match(lines[index].rstrip("\n"))
        heading = lines[index - 1].rstrip("\n")
        if not underline or not heading.strip() or len(lines[index].rstrip("\n")) < len(heading.rstrip()):
            continue
        char = underline.group(1)
        if char not in levels:
            levels.append(char)
        if start is None:
            if heading.strip() == title:
                start, level = index - 1, levels.index(char)
        elif levels.index(char) <= level:
            return "".join(lines[start:index - 1])
    assert start is not None, f"no section titled {title!r}"
    return "".join(lines[start:])


def code_blocks(text, language):
    """The contents of every ``.. code-block:: <language>`` of ``text``, dedented, each ending with a newline."""
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != f".. code-block:: {language}":
            index += 1
            continue
        index += 1
        while index < len(lines) and re.match(r"^\s+:\w[\w-]*:", lines[index]):  # the directive's options
            index += 1
        body = []
        while index < len(lines) and (not lines[index].strip() or lines[index][0] in " \t"):
            body.append(lines[index])
            index += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        blocks.append(textwrap.dedent("\n".join(body) + "\n"))
    return blocks
