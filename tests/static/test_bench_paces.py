# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The paces `make bench` states as the floor of a world are the collection's own (tests/bench/bench.py says how
long World L's function reads take at Lambda's pace; plugins/module_utils/_aws.py sets that pace)."""

from __future__ import annotations

import ast

from conftest import REPO


def assignments(path):
    """{name: the value's AST} of the module-level assignments of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {target.id: node.value for node in tree.body if isinstance(node, ast.Assign) for target in node.targets if isinstance(target, ast.Name)}


def test_world_ls_lambda_floor_uses_the_pace_of_the_whole_path_read():
    pace = assignments(REPO / "plugins" / "module_utils" / "_aws.py")["LAMBDA_READS"]
    assert isinstance(pace, ast.Call) and pace.func.id == "Pace"
    collection = {keyword.arg: ast.literal_eval(keyword.value) for keyword in pace.keywords}
    bench = assignments(REPO / "tests" / "bench" / "bench.py")
    assert ast.literal_eval(bench["LAMBDA_READ_RATE"]) == collection["rate"]
    assert ast.literal_eval(bench["LAMBDA_READ_BURST"]) == collection["burst"]
