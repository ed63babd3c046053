"""Renders charts/xtsync with default values into one plain manifest for `kubectl apply -f`
users (CRDs first), in namespace `xtsync`, without the `helm test` hook. `make deploy` writes deploy/xtsync.yaml with it;
check_chart.py fails when the checked-in file differs.
"""

import pathlib
import sys

import helm_python


def render(chart_dir: str) -> str:
    chart = helm_python.Chart.load(chart_dir)
    docs = []
    for crd in sorted(pathlib.Path(chart_dir, "crds").glob("*.yaml")):
        docs.append(crd.read_text().strip())
    docs.append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: xtsync")
    rendered = chart.render({}, name="xtsync", namespace="xtsync", is_install=True)
    for path in sorted(rendered):
        text = rendered[path].strip()
        # NOTES.txt is shown to whoever installs; tests/ holds `helm test` hooks, not the app.
        if text and not path.endswith("NOTES.txt") and "/templates/tests/" not in path:
            docs.append(f"# Source: {path}\n{text}" if not text.startswith("# Source") else text)
    return "# Generated from charts/xtsync by `make deploy`; do not edit.\n---\n" + "\n---\n".join(docs) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(sys.argv[1]))
