#!/usr/bin/env python3
"""Record the libraries' public surface in their PublicAPI.Unshipped.txt after a deliberate API change.

Builds each library with the API rules as warnings, takes the exact lines the analyzer reports as missing (RS0016)
or stale (RS0017), and adds or removes them; review the diff before committing.
"""
import pathlib, re, subprocess, sys

root = pathlib.Path(__file__).resolve().parent.parent
projects = ["src/Ovis/Ovis.csproj", "src/Ovis.Experiments/Ovis.Experiments.csproj"]
pattern = re.compile(r"warning (RS0016|RS0017): Symbol '(.*?)' is (?:not )?part of the declared")

for project in projects:
    output = subprocess.run(["dotnet", "build", project, "-c", "Release", "--no-incremental", "-p:OvisApiUpdate=true"],
                            cwd=root, capture_output=True, text=True).stdout
    added, removed = set(), set()
    for line in output.splitlines():
        if f"[{root / project}]" not in line:
            continue
        match = pattern.search(line)
        if match:
            (added if match.group(1) == "RS0016" else removed).add(match.group(2))
    path = root / pathlib.Path(project).parent / "PublicAPI.Unshipped.txt"
    lines = [l for l in path.read_text().splitlines() if l.strip()]
    header = [l for l in lines if l.startswith("#")]
    body = sorted((set(l for l in lines if not l.startswith("#")) - removed) | added, key=lambda l: (l.lstrip("~"), l))
    path.write_text("\n".join(header + body) + "\n")
    print(f"{path.relative_to(root)}: +{len(added)} -{len(removed)}")
sys.exit(0)
