"""`make mutate`: mutmut over the security core, group by group, then the rule mutants; writes
docs/mutation.md.

Each group runs in its own copy of the tree (the work tree is never touched), with mutmut configured
for that group only: the functions to mutate (tests/mutation/scope.py) and the tests to run. The
mutants are generated from the code as it is now; survivors are matched against the equivalent
mutants (tests/mutation/equivalents.py) by the code they change, never by line or mutant number.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.mutation import equivalents, rules, scope

ROOT = rules.ROOT
REPORT = ROOT / "docs" / "mutation.md"

# mutmut's exit codes per mutant (mutmut/stats.py), folded into the outcomes this report uses.
KILLED_CODES = {1, 3}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}
TIMEOUT_CODES = {24, -24, 36, 152, 255}


def outcome_of(code: int | None) -> str:
    if code in KILLED_CODES:
        return "killed"
    if code in SURVIVED_CODES:
        return "survived"
    if code in NO_TESTS_CODES:
        return "no tests"
    if code in TIMEOUT_CODES:
        return "timeout"  # a mutant that makes the tests hang is detected: counted as killed
    return "suspicious" if code is not None else "not checked"


@dataclass
class Mutant:
    name: str  # mutmut's, for `mutmut show` in the kept copy: not stable across code changes
    function: str  # module.Class.function
    outcome: str
    diff: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    equivalent: equivalents.Equivalent | None = None


@dataclass
class GroupResult:
    group: scope.Group
    mutants: list[Mutant] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds of mutmut and its test runs: what the run costs, whatever the load
    cpu_measured: bool = True  # False for a copy adopted from a stopped runner (see adopt)
    log: str = ""
    directory: Path | None = None
    patterns: list[str] = field(default_factory=list)


# Every mutant's run: no cache between runs; no gc.collect() five times over at each run's end
# (pytest's unraisable-exception plugin: a second of each mutant's run in a process holding moto, and
# it only reports an exception raised in a __del__); the mutation plugin (tests/mutation/plugin.py).
PYTEST_ARGS = ("-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "tests.mutation.plugin")


def mutmut_config(group: scope.Group, tests: list[str]) -> str:
    def toml_list(values: list[str] | tuple[str, ...]) -> str:
        return "[" + ", ".join(json.dumps(value) for value in values) + "]"

    return textwrap.dedent(
        f"""

        [tool.mutmut]
        source_paths = ["shared"]
        only_mutate = {toml_list(list(group.functions))}
        also_copy = ["functions", "local", "operations", "infra", "docs"]
        pytest_add_cli_args_test_selection = {toml_list(tests)}
        pytest_add_cli_args = {toml_list(PYTEST_ARGS)}
        do_not_mutate_patterns = {toml_list(scope.DO_NOT_MUTATE_PATTERNS)}
        use_git_change_detection = false
        track_dependencies = false
        """
    )


def defined_functions(source: str) -> set[str]:
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return names


def _functions_in(path: Path) -> dict[str, str]:
    """Source of every function and method in a mutated file, by name (methods by their own name)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()  # sliced by line numbers: get_source_segment splits the file per call
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            found[node.name] = textwrap.dedent("\n".join(lines[node.lineno - 1 : node.end_lineno]))
    return found


def mutant_diff(functions: dict[str, str], name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The lines a mutant removes and adds, stripped: what it changes, wherever the function is."""
    local = name.rsplit(".", 1)[-1]
    original = functions.get(re.sub(r"__mutmut_\d+$", "__mutmut_orig", local), "")
    mutated = functions.get(local, "")
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.unified_diff(original.splitlines()[1:], mutated.splitlines()[1:], lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:].strip())
    return tuple(removed), tuple(added)


def function_of(name: str) -> str:
    """`shared.http.proxy.xǁRequestǁcookie__mutmut_3` -> `shared.http.proxy.Request.cookie`."""
    module, local = name.rsplit(".", 1)
    local = re.sub(r"__mutmut_\d+$", "", local)
    local = (
        local.removeprefix("x_")
        if local.startswith("x_")
        else local[1:].strip("\u01c1").replace("\u01c1", ".")
    )
    return f"{module}.{local}"


def children_cpu() -> float:
    """CPU seconds used so far by the subprocesses waited for (and theirs, waited for in turn)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_group(group: scope.Group, max_children: int, keep: bool) -> GroupResult:
    result = GroupResult(group)
    started, cpu = time.monotonic(), children_cpu()
    patterns, result.missing = group_patterns(group)
    tests = [test for test in group.tests if test.startswith("-") or (ROOT / test.split("::")[0]).exists()]
    result.missing += [f"test file {test}" for test in group.tests if test not in tests]
    directory = Path(tempfile.mkdtemp(prefix=f"mutate-{group.name}-"))
    rules.copy_tree(directory)
    with (directory / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(mutmut_config(group, tests))
    mutmut = Path(sys.executable).with_name("mutmut")
    log_path = directory / "mutmut.log"
    with log_path.open("w", encoding="utf-8") as log:
        subprocess.run(
            [str(mutmut), "run", "--max-children", str(max_children), *patterns],
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )
    result.log = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    result.mutants = collect(directory, patterns)
    result.directory, result.patterns = directory, patterns
    result.seconds, result.cpu = time.monotonic() - started, children_cpu() - cpu
    if keep:
        print(f"kept {directory} (mutmut show <name> there)", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", str(directory)], check=False)
    return result


def group_patterns(group: scope.Group) -> tuple[list[str], list[str]]:
    """mutmut's name patterns for a group's functions, and the functions no longer in the code."""
    patterns: list[str] = []
    missing: list[str] = []
    for module, functions in group.functions.items():
        present = defined_functions((ROOT / module).read_text(encoding="utf-8"))
        for function in functions:
            if function in present:
                patterns.append(f"{scope.mangled(module, function)}__mutmut_*")
            else:
                missing.append(f"{module}: {function}")
    return patterns, missing


def adopt(name: str, directory: Path) -> Path:
    """A summary (for --rerun) of a group's kept copy whose run finished but whose runner was
    stopped before it wrote one (it was running another group). The copy must hold the code as it
    is now; its minutes are the copy's own (from its configuration's writing to mutmut's last log
    line); its CPU time was not measured."""
    group = next(g for g in scope.GROUPS if g.name == name)
    changed = [m for m in group.functions if (directory / m).read_bytes() != (ROOT / m).read_bytes()]
    if changed:
        raise SystemExit(f"{directory} holds other code than the work tree: {', '.join(changed)}")
    patterns, missing = group_patterns(group)
    started = (directory / "pyproject.toml").stat().st_mtime
    result = GroupResult(group, missing=missing, directory=directory, patterns=patterns, cpu_measured=False)
    result.seconds = (directory / "mutmut.log").stat().st_mtime - started
    result.mutants = collect(directory, patterns)
    return write_summary([result], [], result.seconds, 0.0, commit_measured())


def collect(directory: Path, patterns: list[str]) -> list[Mutant]:
    """The selected mutants' outcomes, from mutmut's files in a group's copy."""
    selected = [re.compile(re.escape(p[: -len("*")]) + r"\d+$") for p in patterns]
    mutants = []
    for meta in sorted((directory / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        functions = _functions_in(meta.with_suffix(""))
        for name, code in codes.items():
            if not any(pattern.fullmatch(name) for pattern in selected):
                continue
            mutant = Mutant(name, function_of(name), outcome_of(code))
            if mutant.outcome != "killed":
                mutant.diff = mutant_diff(functions, name)
                mutant.equivalent = equivalents.find(mutant.function, *mutant.diff)
            mutants.append(mutant)
    return mutants


def merge_summaries(paths: list[Path]) -> dict[str, Any]:
    """Kept runs' summaries as one: a later one's groups replace the same groups of an earlier one
    (a group run again after a fix), its rule outcomes replace the earlier ones when it has any."""
    merged: dict[str, Any] = {"seconds": 0.0, "cpu": 0.0, "groups": [], "rules": [], "commits": []}
    for path in paths:
        summary = json.loads(path.read_text(encoding="utf-8"))
        names = {entry["name"] for entry in summary["groups"]}
        replaced = [entry for entry in merged["groups"] if entry["name"] in names]
        merged["seconds"] += summary["seconds"] - sum(entry["seconds"] for entry in replaced)
        merged["cpu"] += summary.get("cpu", 0.0) - sum(entry.get("cpu", 0.0) for entry in replaced)
        merged["groups"] = [e for e in merged["groups"] if e["name"] not in names] + summary["groups"]
        merged["rules"] = summary["rules"] or merged["rules"]
        groups = ", ".join(entry["name"] for entry in summary["groups"]) or "rule mutants"
        merged["commits"].append(f"{summary.get('commit', 'unknown')} ({groups})")
    order = [group.name for group in scope.GROUPS]
    merged["groups"].sort(key=lambda entry: order.index(entry["name"]))
    return merged


def rerun(
    summary_paths: list[Path], max_children: int, survivors_only: bool = False
) -> tuple[list[GroupResult], list[rules.Outcome], float, float, str]:
    """Run the open survivors of kept runs again, with the tests as they are now (tests added since
    are new to mutmut, which records what they call first), and collect every group again."""
    summary = merge_summaries(summary_paths)
    by_name = {group.name: group for group in scope.GROUPS}
    results = []
    for entry in summary["groups"]:
        directory = Path(entry["directory"])
        result = GroupResult(
            by_name[entry["name"]],
            seconds=entry["seconds"],
            cpu=entry.get("cpu", 0.0),
            cpu_measured="cpu" in entry and entry.get("cpu_measured", True),
            missing=entry["missing"],
        )
        # functions taken out of the scope since the run are left out of the report
        in_scope = {
            f"{scope.mangled(module, function)}__mutmut_*"
            for module, functions in result.group.functions.items()
            for function in functions
        }
        entry["patterns"] = [pattern for pattern in entry["patterns"] if pattern in in_scope]
        open_names = [
            m.name
            for m in collect(directory, entry["patterns"])
            if not m.equivalent
            and m.outcome != "killed"
            and not (survivors_only and m.outcome == "not checked")
        ]
        if open_names:
            shutil.rmtree(directory / "tests")
            shutil.copytree(ROOT / "tests", directory / "tests", ignore=shutil.ignore_patterns("__pycache__"))
            # and the group's test list as it is now (tests added to the group since the run)
            tests = [t for t in result.group.tests if t.startswith("-") or (ROOT / t.split("::")[0]).exists()]
            pyproject = directory / "pyproject.toml"
            kept = pyproject.read_text(encoding="utf-8").split("\n[tool.mutmut]\n", 1)[0]
            pyproject.write_text(kept + mutmut_config(result.group, tests), encoding="utf-8")
            started, cpu = time.monotonic(), children_cpu()
            subprocess.run(
                [
                    str(Path(sys.executable).with_name("mutmut")),
                    "run",
                    "--max-children",
                    str(max_children),
                    *open_names,
                ],
                cwd=directory,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                check=False,
            )
            result.seconds += time.monotonic() - started
            result.cpu += children_cpu() - cpu
        result.mutants = collect(directory, entry["patterns"])
        results.append(result)
    by_rule = {rule.name: rule for rule in rules.RULES}
    outcomes = [
        rules.Outcome(by_rule[o["name"]], o["status"], o["seconds"])
        for o in summary["rules"]
        if o["name"] in by_rule
    ]
    commit = (
        f"the code at {' and '.join(summary['commits'])}, the open survivors run again with the tests "
        f"at {commit_measured()}"
    )
    pairs = list(zip(results, summary["groups"], strict=True))
    return (
        results,
        outcomes,
        summary["seconds"] + sum(r.seconds - e["seconds"] for r, e in pairs),
        summary["cpu"] + sum(r.cpu - e.get("cpu", 0.0) for r, e in pairs),
        commit,
    )


def commit_measured() -> str:
    """HEAD, short, and whether the work tree differed from it: what a run measures."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain").strip() else "")


def write_summary(
    results: list[GroupResult], outcomes: list[rules.Outcome], seconds: float, cpu: float, commit: str
) -> Path:
    summary = {
        "seconds": seconds,
        "cpu": cpu,
        "commit": commit,
        "groups": [
            {
                "name": r.group.name,
                "directory": str(r.directory),
                "seconds": r.seconds,
                "cpu": r.cpu,
                "cpu_measured": r.cpu_measured,
                "missing": r.missing,
                "patterns": r.patterns,
            }
            for r in results
        ],
        "rules": [{"name": o.rule.name, "status": o.status, "seconds": o.seconds} for o in outcomes],
    }
    path = Path(tempfile.gettempdir()) / f"mutate-summary-{os.getpid()}.json"
    path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return path


def run_rules() -> tuple[list[rules.Outcome], float]:
    started = time.monotonic()
    outcomes: list[rules.Outcome] = []
    with rules.tree_copy() as tree:
        for rule in rules.RULES:
            try:
                outcomes.append(rules.run_rule(rule, tree))
            except rules.RuleNotFound as error:
                outcomes.append(rules.Outcome(rule, "error", 0.0, str(error)))
    return outcomes, time.monotonic() - started


def _tests(tests: tuple[str, ...]) -> str:
    listed = "<br>".join(test for test in tests if not test.startswith("-"))
    deselected = [test.split("::")[-1] for test in tests if test.startswith("--deselect")]
    return listed + "".join(f"<br>(not {case})" for case in deselected)


def _code(lines: tuple[str, ...]) -> str:
    return "<br>".join(f"`{line.replace('|', '&#124;')}`" for line in lines) or "(nothing)"


def group_of(rule: rules.RuleMutant) -> scope.Group | None:
    """The group that mutates the rule's module (those naming its function first; of several, one
    whose own tests kill it)."""
    groups = [group for group in scope.GROUPS if rule.path in group.functions]
    named = [group for group in groups if rule.function in group.functions[rule.path]]
    candidates = named or groups
    return next((g for g in candidates if killed_by_its_group(rule, g)), (candidates or [None])[0])


def killed_by_its_group(rule: rules.RuleMutant, group: scope.Group | None) -> bool:
    """Whether every test that kills the rule mutant is among its group's own tests (a rule killed
    only by a broad suite, or by another group's tests, is a gap: issue 30)."""
    if group is None:
        return False
    deselected = {test.split("=", 1)[1] for test in group.tests if test.startswith("--deselect=")}
    selected = [test for test in group.tests if not test.startswith("-")]
    return all(
        test not in deselected and any(test == entry or test.startswith(f"{entry}::") for entry in selected)
        for test in rule.tests
    )


def write_report(
    results: list[GroupResult],
    outcomes: list[rules.Outcome],
    seconds: float,
    cpu: float,
    path: Path,
    commit: str,
) -> None:
    counts: Counter[str] = Counter()
    for result in results:
        for mutant in result.mutants:
            kind = "equivalent" if mutant.equivalent else mutant.outcome
            counts[kind] += 1
    killed = counts["killed"] + counts["timeout"]
    # a mutant no test reaches counts as not killed; one the run never reached (stopped early) is
    # left out of the rate and said loudly
    tested = sum(counts.values()) - counts["equivalent"] - counts["not checked"]
    rate = 100.0 * killed / tested if tested else 0.0
    rules_killed = sum(1 for o in outcomes if o.status == "killed")
    gaps = [o for o in outcomes if o.status == "killed" and not killed_by_its_group(o.rule, group_of(o.rule))]
    rules_counted = sum(1 for o in outcomes if o.status in ("killed", "survived", "error"))
    lines = [
        "# Mutation testing of the security core",
        "",
        "<!-- written by `make mutate` (tests/mutation/run.py): edit tests/mutation/, not this file -->",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d}: {seconds / 60:.0f} minutes on {os.cpu_count()} cores, mutmut "
        f"{_mutmut_version()} (the machine's 15-minute load average at the end: "
        f"{os.getloadavg()[2]:.1f}; other test runs share it). "
        + (
            f"It used {cpu / 60:.0f} CPU minutes: about {cpu / 60 / (os.cpu_count() or 1):.0f} minutes on "
            f"{os.cpu_count()} cores with nothing else running. "
            if all(result.cpu_measured for result in results)
            else f"CPU minutes measured: {cpu / 60:.0f}, short of the whole (the table says which groups' "
            "first run was not measured). "
        )
        + f"Measured: {commit}.",
        "",
        *(
            [
                f"> **Incomplete:** {counts['not checked']} of the "
                f"{sum(counts.values()) - counts['equivalent']} non-equivalent mutants were not run (the "
                "run was stopped before it reached them); the figures below are of the mutants run, "
                "and each group's open column counts the ones not run. Run `make mutate` again.",
                "",
            ]
            if counts["not checked"]
            else []
        ),
        f"**Kill rate: {rate:.1f} %** of the {tested} non-equivalent mutants run ({killed} killed"
        + (f", of them {counts['timeout']} by a timeout" if counts["timeout"] else "")
        + f"); {counts['equivalent']} equivalent mutants listed below with the reason"
        + (f"; {counts['survived']} survivors still open" if counts["survived"] else "; no open survivor")
        + (f"; {counts['no tests']} in code no selected test reaches" if counts["no tests"] else "")
        + (f"; {counts['suspicious']} suspicious" if counts["suspicious"] else "")
        + ".",
        "",
        (
            f"**Rule mutants: {rules_killed} of {rules_counted} killed**"
            + (
                f", {sum(1 for o in outcomes if o.status == 'pending')} pending"
                if any(o.status == "pending" for o in outcomes)
                else ""
            )
            + (
                f"; {len(gaps)} of them killed only by tests outside their group's own (gaps, below)"
                if gaps
                else "; each by its own group's tests"
            )
            + " (each deletes or weakens one rule; the critical ones run under `make test`)."
            if outcomes
            else "**Rule mutants: not run in this measurement** (the critical ones run under `make test`)."
        ),
        "",
        "## How it works",
        "",
        "`make mutate` runs [mutmut](https://mutmut.readthedocs.io/) once per group below, each in its own "
        "copy of the tree: mutmut generates the mutants of the listed functions from the code as it is, "
        "runs the group's tests once to learn which test calls which function, then runs each mutant "
        "against only those tests, fastest first, stopping at the first failure. Lines that only build log "
        "text are not mutated: " + ", ".join(f"`{p}`" for p in scope.DO_NOT_MUTATE_PATTERNS) + ". "
        "A surviving mutant is either killed by a new test or listed in tests/mutation/equivalents.py "
        "with the reason it cannot be killed, matched by the code it changes (never by line or number). "
        "mutmut leaves module-level constants and decorated functions (properties, cached functions) "
        "alone and never deletes a whole check: the rule mutants of tests/mutation/rules.py cover that, "
        "and the critical ones (the authorizer's decision and the rotation conditions) run in CI "
        "(tests/mutation/test_critical_mutants.py).",
        "",
        "## Groups",
        "",
        "| group | functions | tests | mutants | killed | equivalent | open | minutes | CPU minutes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        group = result.group
        functions = "<br>".join(f"{module}: {', '.join(names)}" for module, names in group.functions.items())
        group_counts = Counter("equivalent" if m.equivalent else m.outcome for m in result.mutants)
        lines.append(
            f"| {group.title} | {functions} | {_tests(group.tests)} | {len(result.mutants)} | "
            f"{group_counts['killed'] + group_counts['timeout']} | {group_counts['equivalent']} | "
            f"{sum(group_counts[k] for k in ('survived', 'suspicious', 'no tests', 'not checked'))} | "
            f"{result.seconds / 60:.1f} | "
            + (
                f"{result.cpu / 60:.1f}"
                if result.cpu_measured
                else f"not measured ({result.cpu / 60:.1f} since)"
            )
            + " |"
        )
    missing = [f"{r.group.name}: {item}" for r in results for item in r.missing]
    if missing:
        lines += ["", "Not found in the code (update tests/mutation/scope.py): " + "; ".join(missing) + "."]
    open_mutants = [
        m for r in results for m in r.mutants if not m.equivalent and m.outcome in ("survived", "suspicious")
    ]
    lines += ["", "## Open survivors", ""]
    if open_mutants:
        lines += ["| function | removed | added | outcome |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {m.function} | {_code(m.diff[0])} | {_code(m.diff[1])} | {m.outcome} |" for m in open_mutants
        ]
    else:
        lines.append("None: every surviving mutant is equivalent (below).")
    untested = [m for r in results for m in r.mutants if m.outcome == "no tests" and not m.equivalent]
    if untested:
        lines += ["", "## Mutants no selected test reaches", ""]
        lines += ["| function | removed | added |", "| --- | --- | --- |"]
        lines += [f"| {m.function} | {_code(m.diff[0])} | {_code(m.diff[1])} |" for m in untested]
    lines += ["", "## Equivalent mutants", "", "| function | removed | added | why it cannot be killed |"]
    lines.append("| --- | --- | --- | --- |")
    for result in results:
        for m in result.mutants:
            if m.equivalent:
                lines.append(
                    f"| {m.function} | {_code(m.diff[0])} | {_code(m.diff[1])} | {m.equivalent.reason} |"
                )
    lines += ["", "## Rule mutants", ""]
    if outcomes:
        lines += ["| rule deleted or weakened | where | killed by | outcome |", "| --- | --- | --- | --- |"]
    else:
        lines.append(
            f"Not run in this measurement: the {len(rules.RULES)} rule mutants of tests/mutation/rules.py "
            f"run with a full `make mutate`; the {len(rules.critical())} critical ones run under `make test`."
        )
    for o in outcomes:
        rule = o.rule
        where = f"{rule.path}: {rule.function or 'module level'}"
        group = group_of(rule)
        status = o.status + (" (critical: runs under `make test`)" if rule.critical else "")
        if o.status == "killed" and not killed_by_its_group(rule, group):
            status += (
                f"; **gap**: not by the {group.name} group's own tests" if group else "; **gap**: in no group"
            )
        if rule.owner:
            status += f"; covered by {rule.owner}"
        lines.append(f"| {rule.name} | {where} | {'<br>'.join(rule.tests)} | {status} |")
    lines += ["", "## Notes", ""] + [f"- {note}" for note in scope.NOTES]
    unused = equivalents.unused()
    if unused:
        lines += [
            "",
            "Equivalent mutants listed but matched by no surviving mutant of this run (the code changed, "
            "a test kills them now, or an incomplete run did not reach them): check, and prune them:",
            "",
        ]
        lines += [f"- {e.function}: {e.removed} -> {e.added}" for e in unused]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--group", action="append", choices=[g.name for g in scope.GROUPS], help="only these groups"
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-rules", action="store_true", help="skip the rule mutants")
    parser.add_argument("--rules-only", action="store_true", help="only the rule mutants (no group)")
    parser.add_argument("--keep", action="store_true", help="keep each group's copy (to inspect mutants)")
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument(
        "--rerun",
        type=Path,
        action="append",
        metavar="SUMMARY",
        help="a kept run's summary: run its open survivors again with today's tests, rewrite the report; "
        "repeat it to add a later run of some groups, which replaces them",
    )
    parser.add_argument(
        "--adopt",
        metavar="GROUP=DIRECTORY",
        help="write a summary (for --rerun) of a finished group's kept copy whose runner was stopped",
    )
    parser.add_argument(
        "--survivors-only",
        action="store_true",
        help="with --rerun: run again only the mutants that ran and survived, not those never reached",
    )
    args = parser.parse_args(argv)
    if args.adopt:
        name, _, directory = args.adopt.partition("=")
        print(f"summary {adopt(name, Path(directory))} (for --rerun)")
        return 0
    if args.rerun:
        results, outcomes, seconds, cpu, commit = rerun(args.rerun, args.max_children, args.survivors_only)
        write_report(results, outcomes, seconds, cpu, args.report, commit)
        print(f"wrote {args.report}")
        return 0
    started, cpu = time.monotonic(), children_cpu()
    commit = commit_measured()
    groups = [g for g in scope.GROUPS if not args.rules_only and (not args.group or g.name in args.group)]
    results = []
    for group in groups:
        print(f"mutating {group.name}: {group.title}", flush=True)
        result = run_group(group, args.max_children, args.keep)
        counts = Counter("equivalent" if m.equivalent else m.outcome for m in result.mutants)
        print(
            f"  {dict(counts)} in {result.seconds / 60:.1f} min ({result.cpu / 60:.1f} CPU min)", flush=True
        )
        if not result.mutants or all(m.outcome == "not checked" for m in result.mutants):
            # mutmut never ran a mutant: its first run of the tests failed (a test that fails without
            # any mutant, or a test id that is not there): its log says which
            print(result.log, file=sys.stderr)
        results.append(result)
    outcomes: list[rules.Outcome] = []
    if not args.no_rules:
        print("rule mutants", flush=True)
        outcomes, rule_seconds = run_rules()
        print(f"  {dict(Counter(o.status for o in outcomes))} in {rule_seconds / 60:.1f} min", flush=True)
    seconds, cpu = time.monotonic() - started, children_cpu() - cpu
    write_report(results, outcomes, seconds, cpu, args.report, commit)
    print(f"wrote {args.report}")
    if args.keep:
        print(f"summary {write_summary(results, outcomes, seconds, cpu, commit)} (for --rerun)")
    failed = any(not r.mutants for r in results) or any(o.status in ("survived", "error") for o in outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
