#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Links to files of this repository, checked without a network (`make docs`).

Sphinx checks the references inside the documentation site; this checks what it cannot see: the relative links of
the Markdown files (README.md, CONTRIBUTING.md, docs/, the role's README) and every link to this repository on
GitHub (https://github.com/cloudops/apigw_tracing/blob/main/<path>, in the guides, the Markdown files and the
plugins, such as the finding's remediation link). The file must exist in the checkout and, for a Markdown file, the
#anchor must be the GitHub anchor of one of its headings. Prints one line per broken link; exit code 1 if any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GITHUB = re.compile(r"https://github\.com/cloudops/apigw_tracing/(?:blob|tree)/main/([^\s)>`'\"#]*)(#[\w-]+)?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def markdown_files():
    """The Markdown files people read in the repository."""
    found = [REPO / "README.md", REPO / "CONTRIBUTING.md"]
    found += sorted((REPO / "docs").rglob("*.md")) + sorted((REPO / "roles").glob("*/README.md"))
    return [path for path in found if path.is_file()]


def linking_files():
    """Every file that may link to this repository on GitHub."""
    found = markdown_files() + sorted((REPO / "docs" / "docsite").rglob("*.rst")) + sorted((REPO / "plugins").rglob("*.py"))
    return found + [REPO / "galaxy.yml"]


def anchors(path):
    """The anchors GitHub gives the headings of a Markdown file (lower case, punctuation dropped, spaces as '-')."""
    found = set()
    seen = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line)
        if heading:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1))
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def problem(source, target, anchor):
    """Why the link from ``source`` to ``target`` (a Path) and ``anchor`` (without '#', or None) is broken; None if it is not."""
    if not target.exists():
        return "no such file"
    if anchor and target.suffix == ".md" and anchor not in anchors(target):
        return f"no heading of {target.relative_to(REPO)} has the anchor #{anchor}"
    if REPO not in target.resolve().parents and target.resolve() != REPO:
        return "outside the repository"
    return None


def main():
    broken = []
    for path in markdown_files():
        fenced = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FENCE.match(line):
                fenced = not fenced
            if fenced:
                continue
            for link in MARKDOWN_LINK.findall(line):
                if re.match(r"^[a-z]+:", link):
                    continue
                name, _hash, anchor = link.partition("#")
                target = (path.parent / name) if name else path
                why = problem(path, target, anchor or None)
                if why:
                    broken.append(f"{path.relative_to(REPO)}:{number}: {link}: {why}")
    for path in linking_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name, anchor in GITHUB.findall(line):
                why = problem(path, REPO / name, anchor[1:] or None)
                if why:
                    broken.append(f"{path.relative_to(REPO)}:{number}: https://github.com/cloudops/apigw_tracing/.../{name}{anchor}: {why}")
    for line in broken:
        print(line)
    if broken:
        print(f"{len(broken)} broken link(s) to files of this repository")
        return 1
    print(f"ok   links to files of this repository ({len(markdown_files())} Markdown files, {len(linking_files())} files in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
