#!/usr/bin/env python3
"""Every target declares exactly the modules its files import (docs/architecture.md, "Rules").

Reads the package as SwiftPM resolves it (`swift package dump-package`, JSON on stdin or in the
file named as the argument) and the `import` lines of each target's Swift files (in its `path`, else
in Sources/<name> or Tests/<name>). Fails, naming target and module, when a file imports
a module the target does not declare (it may build today through another target's dependency and
break when that one changes) or when a target declares a module none of its files import.
Modules of the toolchain (Foundation, Glibc, Testing, ...) need no declaration. The pure modules
import no C library module (a system-library target), declared or not.
"""
import json
import pathlib
import re
import sys

PURE = {"GatewayCore", "IoTDA", "PCP", "DeviceCodec", "Config"}
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


def main() -> int:
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as file:
            package = json.load(file)
    else:
        package = json.load(sys.stdin)
    problems = []
    c_modules = {module_name(t["name"]) for t in package["targets"] if t["type"] == "system"}
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
        own = module_name(target["name"])
        for module, where in sorted(imported.items()):
            if module not in declared and module not in TOOLCHAIN and module != own:
                problems.append(f"{where}: {target['name']} imports {module}, which it does not declare in Package.swift")
        if target["name"] in PURE:
            for module in sorted(c_modules & set(imported)):
                problems.append(f"{imported[module]}: {target['name']} is a pure module and imports the C library module {module}")
        for module in sorted(declared - set(imported)):
            problems.append(f"Package.swift: {target['name']} declares {module}, which none of its files import")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} dependency mismatch(es): declare what a target imports, and only that")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
