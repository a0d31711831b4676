"""The structure between the files, checked on their source: one direction of imports, no hidden state, calls that
say what they mean. Each check names what broke it."""
import ast

import pytest

from conftest import ROOT

PRODUCT = ["data.py", "model.py", "train.py", "predict.py", "video.py", "evaluate.py", "export.py"]
SCRIPTS = PRODUCT + ["bench.py", *(f"experiments/{p.name}" for p in sorted((ROOT / "experiments").glob("*.py"))),
                     *(f"datasets/{p.name}" for p in sorted((ROOT / "datasets").glob("*.py")))]
# Imported inside functions, and only there: Keras and TensorFlow (model.py is where Keras is loaded) take seconds
# to load, and `--help` or a tool that never runs a network should not wait for them; CairoSVG is make_drawings.py's
# alone, for data built outside the repo.
LATE = {"tensorflow", "keras", "model", "cairosvg"}
MAX_POSITIONAL = 5


def module_name(path):
    return path.removesuffix(".py").replace("/", ".")


def imports(tree):
    """[(module imported, whether inside a function)] of a parsed file, for the repo's own modules and others."""
    found = []
    for function in [None, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        nodes = ast.iter_child_nodes(tree) if function is None else ast.walk(function)
        for node in nodes:
            if isinstance(node, ast.Import):
                found += [(alias.name, function is not None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((node.module, function is not None))
    return found


def parsed(path):
    return ast.parse((ROOT / path).read_text(), filename=path)


def local(name):
    """The repo module an import names, or None for another package."""
    candidates = {module_name(p) for p in SCRIPTS} | {module_name(p).split(".")[-1] for p in SCRIPTS
                                                      if p.startswith("datasets/")}
    return name if name in candidates else None


def test_imports_run_one_way():
    graph = {module_name(p).split(".")[-1] if p.startswith("datasets/") else module_name(p):
             {local(name) for name, _ in imports(parsed(p))} - {None} for p in SCRIPTS}
    graph = {name: {t.split(".")[-1] if t.startswith("datasets.") else t for t in targets}
             for name, targets in graph.items()}
    state = {}

    def visit(name, path):
        if state.get(name) == "open":
            pytest.fail(f"import circle: {' -> '.join(path + [name])}")
        if state.get(name) is None:
            state[name] = "open"
            for target in sorted(graph.get(name, ())):
                visit(target, path + [name])
            state[name] = "done"
    for name in sorted(graph):
        visit(name, [])


@pytest.mark.parametrize("path", SCRIPTS)
def test_only_heavy_packages_are_imported_late(path):
    late = {name for name, inside in imports(parsed(path)) if inside}
    assert {name.split(".")[0] for name in late} <= LATE, f"{path} imports {late - LATE} inside a function"


@pytest.mark.parametrize("path", PRODUCT)
def test_no_function_takes_many_positional_parameters(path):
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.FunctionDef):
            positional = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
            assert len(positional) <= MAX_POSITIONAL, f"{path}: {node.name}({', '.join(positional)})"


@pytest.mark.parametrize("path", SCRIPTS)
def test_no_module_value_is_reassigned_at_run_time(path):
    tree = parsed(path)
    modules = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    for node in ast.walk(tree):
        assert not isinstance(node, ast.Global), f"{path}:{node.lineno}: global {', '.join(node.names)}"
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                assert target.value.id not in modules, f"{path}:{node.lineno}: assigns {target.value.id}.{target.attr}"
