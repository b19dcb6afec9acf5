#!/usr/bin/env python3
"""Every target declares exactly the modules its files import (docs/architecture.md, "Rules").

Reads the package as SwiftPM resolves it (`swift package dump-package`, JSON on stdin or in the
file named as the argument) and the `import` lines of each target's Swift files (in its `path`, else
in Sources/<name> or Tests/<name>). Fails, naming target and module, when a file imports
a module the target does not declare (it may build today through another target's dependency and
break when that one changes) or when a target declares a module none of its files import.
Modules of the toolchain (Foundation, Glibc, Testing, ...) need no declaration. The pure modules
import no C library module (a system-library target), declared or not.

Then the layering: docs/architecture.md's "Dependency rules" table says, for every target that
is not a test, which modules it may import at all. A target missing from the table, or importing
a module its row does not allow, fails the check, so the rules in the document are the ones the
build keeps.
"""
import json
import pathlib
import re
import sys

PURE = {"GatewayCore", "IoTDA", "PCP", "DeviceCodec", "Config", "LwM2MContent", "Bootstrap", "SerialFraming"}
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Dispatch", "Testing",
    "XCTest", "Synchronization", "_Concurrency", "Darwin", "os",
}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|protocol|typealias|func|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def module_name(name: str) -> str:
    return name.replace("-", "_")


def imports_of(folder: pathlib.Path) -> dict[str, str]:
    """Imported module -> the first file:line importing it."""
    found: dict[str, str] = {}
    for source in sorted(folder.rglob("*.swift")):
        for number, line in enumerate(source.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            match = IMPORT.match(line)
            if match:
                found.setdefault(match.group(1), f"{source}:{number}")
    return found


RULES_HEADING = "## Dependency rules"
EVERY_MODULE = "every module but a C library"
ANYTHING = "anything declared"


def read_rules(document: pathlib.Path) -> dict[str, str | set[str]] | None:
    """Target -> the modules it may import (a set), or one of the two phrases above."""
    if not document.exists():
        return None
    rules: dict[str, str | set[str]] = {}
    in_section = False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_section = line.strip() == RULES_HEADING
            continue
        if not in_section or not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        targets = re.findall(r"`([^`]+)`", cells[0])
        if not targets:
            continue  # the header row
        if EVERY_MODULE in cells[1]:
            allowed: str | set[str] = EVERY_MODULE
        elif ANYTHING in cells[1]:
            allowed = ANYTHING
        else:
            allowed = set(re.findall(r"`([^`]+)`", cells[1]))
        for target in targets:
            rules[module_name(target)] = allowed
    return rules


def layering_problems(package: dict, imports: dict[str, dict[str, str]], rules: dict, c_modules: set[str]) -> list[str]:
    problems = []
    for target in package["targets"]:
        if target["type"] in ("system", "binary", "plugin", "test"):
            continue
        name = module_name(target["name"])
        if name not in rules:
            problems.append(f"docs/architecture.md: {target['name']} has no row in the \"Dependency rules\" table")
            continue
        allowed = rules[name]
        if allowed == ANYTHING:
            continue
        for module, where in sorted(imports[name].items()):
            if module in TOOLCHAIN or module == name:
                continue
            if allowed == EVERY_MODULE:
                if module in c_modules:
                    problems.append(f"{where}: {target['name']} imports the C library module {module}; "
                                    f"C libraries stay behind their adapter (docs/architecture.md, Dependency rules)")
            elif module not in allowed:
                problems.append(f"{where}: {target['name']} may not import {module} (docs/architecture.md, Dependency rules)")
    return problems


def main() -> int:
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as file:
            package = json.load(file)
    else:
        package = json.load(sys.stdin)
    problems = []
    c_modules = {module_name(t["name"]) for t in package["targets"] if t["type"] == "system"}
    all_imports: dict[str, dict[str, str]] = {}
    for target in package["targets"]:
        if target["type"] in ("system", "binary", "plugin"):
            continue
        default = "Tests" if target["type"] == "test" else "Sources"
        # A target outside Sources/ or Tests/ (the tools under Tools/) names its folder with `path:`.
        folder = pathlib.Path(target.get("path") or f"{default}/{target['name']}")
        if not any(folder.rglob("*.swift")):
            problems.append(f"Package.swift: {target['name']} has no Swift files in {folder} (a moved target needs path: in Package.swift)")
            continue
        declared = set()
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            declared.add(module_name(value[0]))
        imported = imports_of(folder)
        all_imports[module_name(target["name"])] = imported
        own = module_name(target["name"])
        for module, where in sorted(imported.items()):
            if module not in declared and module not in TOOLCHAIN and module != own:
                problems.append(f"{where}: {target['name']} imports {module}, which it does not declare in Package.swift")
        if target["name"] in PURE:
            for module in sorted(c_modules & set(imported)):
                problems.append(f"{imported[module]}: {target['name']} is a pure module and imports the C library module {module}")
        for module in sorted(declared - set(imported)):
            problems.append(f"Package.swift: {target['name']} declares {module}, which none of its files import")
    rules = read_rules(pathlib.Path("docs/architecture.md"))
    if rules is not None:
        problems += layering_problems(package, all_imports, rules, c_modules)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} dependency problem(s): declare what a target imports, and only what its rule allows")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
