"""The runtime's layers, read from the import statements of every module (lazy and type-checking
imports included: an import inside a function still makes an edge).

    model_*  ->  transport  ->  surface_*  ->  plugin  ->  __init__

Each module imports only from the layers before it. A surface may span several files sharing its
prefix (``surface_mcp``, ``surface_mcp_wire``, ``surface_mcp_catalog``): files of one surface may
import each other, surfaces never import another surface. Nothing in the runtime imports the
development tools, nothing anywhere forms a cycle, and no runtime file is much over 500 lines.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest
from bake_support import bake

PROJECT = Path(__file__).resolve().parent.parent / "{{cookiecutter.__plugin_slug}}"
PACKAGES = ("plugin_runtime", "plugin_tools")
LAYERS = ("model", "transport", "surface", "plugin", "package")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """The project modules a module imports, anywhere in its body, resolved to full names."""
    found: set[str] = set()
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                target = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` and `from pkg import module` name modules, not attributes
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the project modules it imports (only names that are real modules)."""
    sources = {}
    for package in PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            sources[module_name(path, root)] = (path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return {name: {m for m in imports_of(src, name, pkg) if m in sources and m != name}
            for name, (src, pkg) in sources.items()}


def layer(module: str) -> int:
    leaf = module.split(".")[-1]
    if module == "plugin_runtime":
        return LAYERS.index("package")
    for i, prefix in enumerate(LAYERS):
        if leaf == prefix or leaf.startswith(prefix + "_"):
            return i
    raise AssertionError(f"{module}: its file name names no layer ({', '.join(LAYERS[:4])})")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


GRAPH = import_graph(PROJECT)
RUNTIME = sorted(m for m in GRAPH if m.split(".")[0] == "plugin_runtime")
TOOLS = sorted(m for m in GRAPH if m.split(".")[0] == "plugin_tools")


def test_the_graph_is_read():
    assert {"plugin_runtime.plugin", "plugin_runtime.surface_mcp", "plugin_tools.build"} <= set(GRAPH)
    assert "plugin_runtime.transport" in GRAPH["plugin_runtime.surface_rest"]
    assert "plugin_runtime.surface_mcp" in GRAPH["plugin_runtime.plugin"]  # a lazy import is an edge too


def test_no_cycles_anywhere():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH) or [])


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", RUNTIME)
def test_each_runtime_module_imports_only_from_below(module):
    for target in GRAPH[module]:
        assert target.startswith("plugin_runtime"), f"{module} imports {target}: the runtime never imports the tools"
        mine, theirs = layer(module), layer(target)
        same_surface = theirs == mine == LAYERS.index("surface") and surface_of(target) == surface_of(module)
        assert theirs < mine or (theirs == mine == 0) or same_surface, \
            f"{module} (layer {LAYERS[mine]}) imports {target} (layer {LAYERS[theirs]})"


def surface_of(module: str) -> str:
    """The surface a file belongs to: ``surface_mcp_wire`` -> ``mcp``."""
    return module.split(".")[-1].split("_")[1]


def test_surfaces_never_import_each_other():
    for module in RUNTIME:
        if layer(module) == LAYERS.index("surface"):
            others = [t for t in GRAPH[module] if layer(t) == LAYERS.index("surface")
                      and surface_of(t) != surface_of(module)]
            assert not others, f"{module} imports {others}"


def test_a_surface_may_span_files_sharing_its_prefix():
    assert surface_of("plugin_runtime.surface_mcp_wire") == surface_of("plugin_runtime.surface_mcp") == "mcp"
    assert "plugin_runtime.surface_mcp_wire" in GRAPH["plugin_runtime.surface_mcp"]


MAX_RUNTIME_LINES = 520  # "no runtime file over ~500 lines": a file past this is split along its parts
NOT_YET_SPLIT: set[str] = set()  # every runtime file is split along its parts


@pytest.mark.parametrize("module", RUNTIME)
def test_runtime_files_stay_small(module):
    path = PROJECT / (module.replace(".", "/") + (".py" if module != "plugin_runtime" else "/__init__.py"))
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if module in NOT_YET_SPLIT:
        pytest.skip(f"{path.name} ({lines} lines) is still to be split")
    assert lines <= MAX_RUNTIME_LINES, f"{path.name} has {lines} lines; split it into files sharing its prefix"


def test_tools_import_the_runtime_not_the_reverse():
    assert any(t.startswith("plugin_runtime") for m in TOOLS for t in GRAPH[m])
    assert not [t for m in RUNTIME for t in GRAPH[m] if t.startswith("plugin_tools")]


def test_nothing_in_the_zip_imports_the_tools(tmp_path):
    project = bake(tmp_path)
    with zipfile.ZipFile(project / "lambda.zip") as zf:
        sources = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".py")}
    assert "plugin_runtime/plugin.py" in sources and "handler.py" in sources
    assert not [n for n in sources if n.startswith("plugin_tools/")]
    for name, source in sources.items():
        module = name[:-3].replace("/", ".").removesuffix(".__init__")
        imported = imports_of(source, module, name.endswith("__init__.py"))
        assert not [m for m in imported if m.split(".")[0] == "plugin_tools"], f"{name} imports the dev tools"


def module_map() -> str:
    """The map for a reader (and the closing note): module -> what it imports."""
    def shown(module: str, target: str) -> str:
        same = target.split(".")[0] == module.split(".")[0]
        return target.split(".", 1)[-1] if same and "." in target else target

    order = sorted(GRAPH, key=lambda m: (m.split(".")[0], layer(m) if m in RUNTIME else 0, m))
    return "\n".join(f"{m} -> {', '.join(shown(m, t) for t in sorted(GRAPH[m])) or '-'}" for m in order)


if __name__ == "__main__":
    print(module_map())
