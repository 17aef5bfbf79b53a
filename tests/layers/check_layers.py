#!/usr/bin/env python3
"""Checks that includes run one way: a framework file includes only from its
own folder or the folders below it (README, "Layout"), and plugins include no
other plugin. Prints every include that breaks the rule; exits 1 if any does."""
import pathlib
import re
import sys

# Bottom to top. A folder may include from itself and from every folder listed before it,
# except its siblings on the same floor (io, data, distributed and report sit side by side above
# base, data and report also using io).
MAY_USE = {
    "base": set(),
    "io": {"base"},
    "data": {"base", "io"},
    "distributed": {"base"},
    "report": {"base", "io"},
    "models": {"base", "io", "data"},
    "core": {"base", "io", "data", "distributed", "report", "models"},
    "plugin_host": {"base", "io", "data", "distributed", "report", "models", "core"},
    "job": {"base", "io", "data", "distributed", "report", "models", "core", "plugin_host"},
    "cli": {"base", "io", "data", "distributed", "report", "models", "core", "plugin_host", "job"},
}
INCLUDE = re.compile(r'^#include "minitrain/([a-z_]+)/[a-z_]+\.hpp"', re.M)
LOCAL = re.compile(r'^#include "([a-z_]+)\.hpp"', re.M)


def main(root: pathlib.Path) -> int:
    problems = []
    framework = root / "framework"
    for layer in MAY_USE:
        if not (framework / layer).is_dir():
            problems.append(f"framework/{layer}: the folder is missing")
    for path in sorted(framework.glob("*/*.[ch]pp")):
        layer = path.parent.name
        if layer not in MAY_USE:
            problems.append(f"{path.relative_to(root)}: in a folder that is not a layer ({', '.join(MAY_USE)})")
            continue
        for used in INCLUDE.findall(path.read_text()):
            if used != layer and used not in MAY_USE[layer]:
                problems.append(f"{path.relative_to(root)}: {layer} includes from {used}, a layer above or beside it")
    plugins = root / "plugins"
    for path in sorted(plugins.glob("*/*.[ch]pp")):
        for name in LOCAL.findall(path.read_text()):
            if not (path.parent / f"{name}.hpp").exists():
                problems.append(f"{path.relative_to(root)}: includes {name}.hpp, which is not in its own folder")
        if re.search(r'#include "(?:\.\./|plugins/)', path.read_text()):
            problems.append(f"{path.relative_to(root)}: includes from another plugin")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} include(s) against the layer order")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
