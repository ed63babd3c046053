"""Checks charts/xtsync with Helm's own Go SDK (PyPI helm-python-sdk): lint, render, schema,
and a real install into the test kube-apiserver. Run by the e2e test `helm_chart_*`:

    python check_chart.py CHART_DIR KUBECONFIG NAMESPACE

Prints one line per check and exits non-zero on the first failure.
"""

import sys
import time
import tomllib

import helm_python
import yaml

chart_dir, kubeconfig, namespace = sys.argv[1:4]
passed = 0


def check(name, ok, detail=""):
    global passed
    if not ok:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


def render_files(values=None):
    chart = helm_python.Chart.load(chart_dir)
    return chart.render(values or {}, name="xtsync", namespace=namespace, is_install=True)


def render(values=None):
    docs = []
    for path, text in render_files(values).items():
        if path.endswith("NOTES.txt"):  # shown to whoever installs, not applied
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append(doc)
    return docs


report = helm_python.lint(chart_dir, strict=True)
errors = [m for m in report["messages"] if m["severity"] >= 2] + report.get("errors", [])
check("helm lint --strict", not errors, errors)

notes = next((t for p, t in render_files().items() if p.endswith("NOTES.txt")), "")
check("NOTES.txt carries the credentials upgrade note", "kubectl annotate secret" in notes and "xtsync.io/credentials-for" in notes, notes)

docs = render()
kinds = sorted(d["kind"] for d in docs)
check("default render", kinds == ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"], kinds)

deployment = next(d for d in docs if d["kind"] == "Deployment")
pod = deployment["spec"]["template"]["spec"]
container = pod["containers"][0]
security = container["securityContext"]
check("non-root with seccomp", pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault")
check("read-only root, no escalation, no capabilities", security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"])
check("probes on /healthz and /readyz", container["livenessProbe"]["httpGet"]["path"] == "/healthz" and container["readinessProbe"]["httpGet"]["path"] == "/readyz")
check("resources set", "requests" in container["resources"] and "limits" in container["resources"])
# The default image is the one `make image` (image/build.sh) tags: the crate's version.
with open(f"{chart_dir}/../../Cargo.toml", "rb") as f:
    crate_version = tomllib.load(f)["package"]["version"]
check("the default image is make image's tag", container["image"] == f"localhost/xtsync:{crate_version}", container["image"])
env = {e["name"]: e.get("value") for e in container["env"]}
check("json logs and leader election by default", env.get("XTSYNC_LOG_FORMAT") == "json" and env.get("XTSYNC_LEADER_ELECTION") == "true", env)

rules = next(d for d in docs if d["kind"] == "ClusterRole")["rules"]
verbs = {(g, r): set(rule["verbs"]) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
check("no wildcard in RBAC", all("*" not in v for v in verbs.values()) and all(r != "*" for (_, r) in verbs), verbs)
check("secrets are read-only", verbs.get(("", "secrets")) == {"get", "list", "watch"}, verbs)
check("configmaps (CA bundles) are read-only", verbs.get(("", "configmaps")) == {"get", "list", "watch"}, verbs)
check("status is written only by patch", all(v == {"patch"} for (g, r), v in verbs.items() if r.endswith("/status")), verbs)

docs = render({"replicas": 3, "watchNamespace": "team-a", "serviceMonitor": {"enabled": True}})
deployment = next(d for d in docs if d["kind"] == "Deployment")
env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
check("replicas, watched namespace, ServiceMonitor", deployment["spec"]["replicas"] == 3 and env.get("XTSYNC_NAMESPACE") == "team-a" and any(d["kind"] == "ServiceMonitor" for d in docs))
# README "Safety": with a watched namespace, nothing is granted cluster-wide — Secrets above all.
cluster_wide = [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
check("a watched namespace grants nothing cluster-wide", not cluster_wide, [d["metadata"]["name"] for d in cluster_wide])
watched = [d for d in docs if d["kind"] == "Role" and d["metadata"].get("namespace") == "team-a"]
watched_verbs = {(g, r): set(rule["verbs"]) for d in watched for rule in d["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
check("the watched namespace's Role reads Secrets and the resources there", watched_verbs.get(("", "secrets")) == {"get", "list", "watch"} and ("xtsync.io", "syncconfigurations/status") in watched_verbs, watched_verbs)
bound = [d for d in docs if d["kind"] == "RoleBinding" and d["metadata"].get("namespace") == "team-a"]
check("the watched namespace's Role is bound to the operator", len(bound) == 1 and bound[0]["subjects"][0]["namespace"] == namespace, bound)

import json
import shutil
import subprocess
import tempfile

docs = render({"prometheusRule": {"enabled": True}, "dashboard": {"enabled": True}})
rule = next(d for d in docs if d["kind"] == "PrometheusRule")
alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
check("alerts for quarantine, pending deletions, stale cycles, Tenants not Ready, expiring certificates, failing operations",
      set(alerts) == {"XtsyncConfigurationQuarantined", "XtsyncDeletionsAwaitingApproval", "XtsyncNoSuccessfulCycle", "XtsyncTenantNotReady", "XtsyncCredentialExpiringSoon", "XtsyncUserOperationsFailing"}, sorted(alerts))
check("a client certificate is alerted on 14 days before it expires",
      alerts["XtsyncCredentialExpiringSoon"]["expr"] == "xtsync_credential_expiry_timestamp_seconds - time() < 14 * 86400", alerts["XtsyncCredentialExpiringSoon"])
promtool = shutil.which("promtool")
check("promtool is installed (tests/env/setup.sh)", promtool is not None)
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    yaml.safe_dump({"groups": rule["spec"]["groups"]}, f)
checked = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
check("promtool check rules: every alert expression parses", checked.returncode == 0, checked.stdout + checked.stderr)
# The certificate alert fires within 14 days of expiry and not before (promtool's clock starts at 0).
# (Its annotations are left out: promtool would compare them too.)
bare = {k: v for k, v in alerts["XtsyncCredentialExpiringSoon"].items() if k != "annotations"}
expiring = {"groups": [{"name": "xtsync", "rules": [bare]}]}
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as rules_file:
    yaml.safe_dump(expiring, rules_file)
day = 86400
test = {
    "rule_files": [rules_file.name],
    "evaluation_interval": "1m",
    "tests": [{
        "interval": "1m",
        "input_series": [
            {"series": 'xtsync_credential_expiry_timestamp_seconds{namespace="a",name="soon"}', "values": f"{14 * day - 3600}x5"},
            {"series": 'xtsync_credential_expiry_timestamp_seconds{namespace="a",name="later"}', "values": f"{15 * day}x5"},
        ],
        "alert_rule_test": [{
            "eval_time": "2m",
            "alertname": "XtsyncCredentialExpiringSoon",
            "exp_alerts": [{"exp_labels": {"severity": "warning", "namespace": "a", "name": "soon"}}],
        }],
    }],
}
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    yaml.safe_dump(test, f)
tested = subprocess.run([promtool, "test", "rules", f.name], capture_output=True, text=True)
check("promtool test rules: the certificate alert fires 14 days before expiry", tested.returncode == 0, tested.stdout + tested.stderr)
board = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["labels"].get("grafana_dashboard") == "1")
panels = json.loads(board["data"]["xtsync.json"])["panels"]
exprs = [t["expr"] for p in panels for t in p["targets"]]
metric_names = {"xtsync_cycles_total", "xtsync_cycle_duration_seconds_bucket", "xtsync_users_total", "xtsync_quarantined_configurations", "xtsync_pending_deletions", "xtsync_last_successful_sync_timestamp_seconds", "xtsync_tenant_ready"}
check("the dashboard charts the operator's metrics", all(any(m in e for m in metric_names) for e in exprs) and len(panels) >= 6, exprs)
for i, expr in enumerate(exprs):
    # promtool parses an expression as the expr of a rule.
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [{"record": f"panel_{i}", "expr": expr}]}]}, f)
    parsed = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    check(f"dashboard query {i} parses", parsed.returncode == 0, parsed.stdout + parsed.stderr)

try:
    render({"replicas": 2, "leaderElection": False})
    check("two replicas without leader election are refused", False, "rendered")
except helm_python.HelmError as e:
    check("two replicas without leader election are refused", "leaderElection" in str(e), e)

try:
    render({"replicas": "two"})
    check("values.schema.json rejects bad values", False, "rendered")
except helm_python.HelmError as e:
    check("values.schema.json rejects bad values", "replicas" in str(e), e)

import pathlib
import render_plain

plain = pathlib.Path(chart_dir).parent.parent / "deploy" / "xtsync.yaml"
check("deploy/xtsync.yaml matches the chart (make deploy)", plain.read_text() == render_plain.render(chart_dir), "stale")

config = helm_python.Config(kubeconfig_path=kubeconfig, namespace=namespace)
started = time.monotonic()
release = config.install(chart_dir, "xtsync", {}, namespace=namespace, timeout=120)
took = time.monotonic() - started
status = config.status("xtsync")
state = getattr(getattr(status, "info", None), "status", None) or (status.get("info", {}).get("status") if isinstance(status, dict) else None) or str(status)
check(f"helm install into the real apiserver ({took:.2f} s)", "deployed" in str(state).lower(), state)
config.uninstall("xtsync", timeout=60)
check("helm uninstall", True)

print(f"chart: {passed} passed, 0 failed")
