"""Checks charts/xtsync with Helm's own Go SDK (PyPI helm-python-sdk): lint, render, schema,
and a real install into the test kube-apiserver. Run by the e2e test `helm_chart_*`:

    python check_chart.py CHART_DIR KUBECONFIG NAMESPACE

Prints one line per check and exits non-zero on the first failure.
"""

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
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


def render_files(values=None, name="xtsync"):
    chart = helm_python.Chart.load(chart_dir)
    return chart.render(values or {}, name=name, namespace=namespace, is_install=True)


def render_all(values=None, name="xtsync"):
    docs = []
    for path, text in render_files(values, name).items():
        if path.endswith("NOTES.txt"):  # shown to whoever installs, not applied
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append(doc)
    return docs


def is_hook(doc):
    return "helm.sh/hook" in doc["metadata"].get("annotations", {})


def render(values=None, name="xtsync"):
    """The release's objects, without its `helm test` hooks."""
    return [d for d in render_all(values, name) if not is_hook(d)]


def hooks(values=None, name="xtsync"):
    return [d for d in render_all(values, name) if is_hook(d)]


def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    if len(found) != 1:
        check(f"exactly one {kind} {name or ''}", False, [d["metadata"]["name"] for d in found])
    return found[0]


def env_of(container):
    return {e["name"]: e.get("value") for e in container["env"]}


report = helm_python.lint(chart_dir, strict=True)
errors = [m for m in report["messages"] if m["severity"] >= 2] + report.get("errors", [])
check("helm lint --strict", not errors, errors)

notes = next((t for p, t in render_files().items() if p.endswith("NOTES.txt")), "")
check("NOTES.txt carries the credentials upgrade note", "kubectl annotate secret" in notes and "xtsync.io/credentials-for" in notes, notes)
check("NOTES.txt carries the CRD and Lease upgrade notes and says how to test the release",
      "kubectl apply --server-side --force-conflicts -f charts/xtsync/crds/" in notes and "leaseName=xtsync" in notes
      and f"helm test xtsync --namespace {namespace}" in notes, notes)

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

# --- A chart for real clusters -------------------------------------------------------------
# README "Install": every value below is rendered here and installed into the real apiserver
# further down.

# One Lease per release: the operator is told its name, and its Role reaches that Lease alone.
docs = render(name="sync-a")
container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
check("the Lease is named after the release", env_of(container).get("XTSYNC_LEASE_NAME") == "sync-a", env_of(container))
lease_role = one(docs, "Role", "sync-a-leader-election")
lease_rules = lease_role["rules"]
named = [r for r in lease_rules if r.get("resourceNames")]
check("the Lease Role: get, update, patch on that Lease only",
      len(named) == 1 and named[0]["resourceNames"] == ["sync-a"] and set(named[0]["verbs"]) == {"get", "update", "patch"}
      and named[0]["apiGroups"] == ["coordination.k8s.io"] and named[0]["resources"] == ["leases"], lease_rules)
unnamed = [r for r in lease_rules if not r.get("resourceNames")]
check("the Lease Role: create on Leases (RBAC cannot name what does not exist yet), nothing else",
      len(unnamed) == 1 and unnamed[0]["verbs"] == ["create"] and unnamed[0]["resources"] == ["leases"], lease_rules)
check("the Lease Role lives in the release namespace", lease_role["metadata"]["namespace"] == namespace, lease_role["metadata"])
check("every namespaced object names the release namespace",
      all(d["metadata"].get("namespace") == namespace for d in docs if d["kind"] not in ("ClusterRole", "ClusterRoleBinding")),
      [(d["kind"], d["metadata"].get("namespace")) for d in docs])
docs = render({"leaseName": "xtsync"}, name="sync-a")
check("leaseName keeps an earlier Lease", env_of(one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0])["XTSYNC_LEASE_NAME"] == "xtsync"
      and [r["resourceNames"] for r in one(docs, "Role")["rules"] if r.get("resourceNames")] == [["xtsync"]])

# Never two writers during a rollout: without leader election the old pod stops first.
strategy = one(render({"leaderElection": False}), "Deployment")["spec"].get("strategy")
check("strategy Recreate when leader election is off", strategy == {"type": "Recreate"}, strategy)
check("no Lease Role without leader election", not [d for d in render({"leaderElection": False}) if d["kind"] == "Role"])
check("rolling updates with leader election (the Lease keeps one writer)", "strategy" not in one(render(), "Deployment")["spec"])

# `helm test`: a Pod running `xtsync probe` from the operator's own image against /readyz.
probes = hooks()
check("one helm test hook: a Pod", [(h["kind"], h["metadata"]["annotations"]["helm.sh/hook"]) for h in probes] == [("Pod", "test")], probes)
probe = probes[0]
probe_container = probe["spec"]["containers"][0]
operator_container = one(render(), "Deployment")["spec"]["template"]["spec"]["containers"][0]
check("the hook runs the operator's image, its entrypoint (no shell, no command)",
      probe_container["image"] == operator_container["image"] and "command" not in probe_container, probe_container)
check("the hook probes /readyz through the release's Service",
      probe_container["args"] == ["probe", "--url", f"http://xtsync-metrics.{namespace}.svc:8080/readyz", "--timeout", "10s"], probe_container["args"])
check("the hook runs once, non-root, read-only, without a token",
      probe["spec"]["restartPolicy"] == "Never" and probe["spec"]["automountServiceAccountToken"] is False
      and probe["spec"]["securityContext"]["runAsNonRoot"] is True and probe_container["securityContext"]["readOnlyRootFilesystem"] is True)
service_selector = one(render(), "Service")["spec"]["selector"]
check("the hook is no backend of the Service", not all(probe["metadata"]["labels"].get(k) == v for k, v in service_selector.items()), probe["metadata"]["labels"])

# Image by digest.
digest = "sha256:" + "0123456789abcdef" * 4
image = one(render({"image": {"repository": "registry.example/xtsync", "tag": "ignored", "digest": digest}}), "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
check("image.digest pins the image (the tag is ignored)", image == f"registry.example/xtsync@{digest}", image)
try:
    render({"image": {"repository": "r", "digest": "latest"}})
    check("a digest that is not sha256:<hex> is refused", False, "rendered")
except helm_python.HelmError as e:
    check("a digest that is not sha256:<hex> is refused", "digest" in str(e), e)

# The ServiceAccount: created or brought, named, annotated (e.g. for workload identity), labelled.
docs = render({"serviceAccount": {"name": "sync-bot", "annotations": {"azure.workload.identity/client-id": "11111111-2222-4333-8444-555555555555"}, "labels": {"azure.workload.identity/use": "true"}}})
account = one(docs, "ServiceAccount")
check("serviceAccount.name, annotations and labels",
      account["metadata"]["name"] == "sync-bot" and account["metadata"]["annotations"] == {"azure.workload.identity/client-id": "11111111-2222-4333-8444-555555555555"}
      and account["metadata"]["labels"]["azure.workload.identity/use"] == "true", account)
bound = [s["name"] for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding") for s in d["subjects"]]
check("every binding and the pods use that account",
      bound and set(bound) == {"sync-bot"} and one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "sync-bot", bound)
docs = render({"serviceAccount": {"create": False, "name": "made-elsewhere"}})
check("serviceAccount.create: false uses the account it names",
      not [d for d in docs if d["kind"] == "ServiceAccount"] and one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "made-elsewhere")

# The pod: labels, annotations, extra flags and environment, priority, spread.
docs = render({
    "podLabels": {"team": "identity"},
    "podAnnotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"},
    "extraArgs": ["--stall-after=5m", "--max-concurrent-cycles=8"],
    "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy.example:3128"}, {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    "priorityClassName": "xtsync-critical",
    "topologySpreadConstraints": [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"},
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchExpressions": [{"key": "x", "operator": "Exists"}]}},
    ],
})
deployment = one(docs, "Deployment")
pod = deployment["spec"]["template"]
container = pod["spec"]["containers"][0]
check("podLabels label the pods, not the selector (it cannot change on upgrade)",
      pod["metadata"]["labels"]["team"] == "identity" and "team" not in deployment["spec"]["selector"]["matchLabels"], pod["metadata"])
check("podAnnotations", pod["metadata"]["annotations"] == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"})
check("extraArgs follow `run`", container["args"] == ["run", "--stall-after=5m", "--max-concurrent-cycles=8"], container["args"])
check("extraEnv follows the chart's own", [e["name"] for e in container["env"]][-2:] == ["HTTPS_PROXY", "FROM_SECRET"] and container["env"][-1]["valueFrom"]["secretKeyRef"]["name"] == "s", container["env"])
check("priorityClassName", pod["spec"]["priorityClassName"] == "xtsync-critical")
spread = pod["spec"]["topologySpreadConstraints"]
check("a spread constraint without a labelSelector selects this release's pods; one with keeps its own",
      spread[0]["labelSelector"] == {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}
      and spread[1]["labelSelector"] == {"matchExpressions": [{"key": "x", "operator": "Exists"}]}, spread)

# PodDisruptionBudget: only with more than one replica; policy/v1 or v1beta1 by the cluster.
try:
    render({"podDisruptionBudget": {"enabled": True}})
    check("a budget for one replica is refused (it would block every drain)", False, "rendered")
except helm_python.HelmError as e:
    check("a budget for one replica is refused (it would block every drain)", "replicas > 1" in str(e), e)
budget = one(render({"replicas": 2, "podDisruptionBudget": {"enabled": True}}), "PodDisruptionBudget")
check("the budget lets one replica go at a time, as policy/v1 where the cluster serves it (helm template assumes so)",
      budget["apiVersion"] == "policy/v1" and budget["spec"]["maxUnavailable"] == 1
      and budget["spec"]["selector"]["matchLabels"] == one(render(), "Deployment")["spec"]["selector"]["matchLabels"], budget)
check("no budget unless asked", not [d for d in render({"replicas": 2}) if d["kind"] == "PodDisruptionBudget"])

# NetworkPolicy: egress to the API server, the directories and DNS; ingress to the HTTP port
# only from what the values name (and the helm test Pod).
api_server = [{"ipBlock": {"cidr": "127.0.0.1/32"}}]
monitoring = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
try:
    render({"networkPolicy": {"enabled": True}})
    check("a NetworkPolicy needs the API server's addresses", False, "rendered")
except helm_python.HelmError as e:
    check("a NetworkPolicy needs the API server's addresses", "networkPolicy.apiServer.to" in str(e), e)
policy = one(render({"networkPolicy": {"enabled": True, "metricsFrom": monitoring, "apiServer": {"to": api_server, "ports": [6443]}}}), "NetworkPolicy")["spec"]
check("the NetworkPolicy selects the operator's pods, both directions",
      policy["podSelector"]["matchLabels"] == service_selector and policy["policyTypes"] == ["Ingress", "Egress"], policy)
ingress = policy["ingress"]
check("ingress: the HTTP port only, from the helm test Pod and metricsFrom only",
      len(ingress) == 1 and ingress[0]["ports"] == [{"port": "http", "protocol": "TCP"}]
      and ingress[0]["from"][1:] == monitoring
      and ingress[0]["from"][0]["podSelector"]["matchLabels"].items() <= probe["metadata"]["labels"].items(), ingress)
egress = policy["egress"]
check("egress: the API server at its addresses and port",
      egress[0] == {"to": api_server, "ports": [{"port": 6443, "protocol": "TCP"}]}, egress[0])
check("egress: the directories on 443",
      egress[1] == {"ports": [{"port": 443, "protocol": "TCP"}]}, egress[1])
check("egress: cluster DNS",
      egress[2]["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
      and egress[2]["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}, egress[2])
check("egress: nothing else", len(egress) == 3, egress)

import render_plain

plain = pathlib.Path(chart_dir).parent.parent / "deploy" / "xtsync.yaml"
check("deploy/xtsync.yaml matches the chart (make deploy)", plain.read_text() == render_plain.render(chart_dir), "stale")
check("deploy/xtsync.yaml leaves the helm test hook out", "helm.sh/hook" not in plain.read_text())

config = helm_python.Config(kubeconfig_path=kubeconfig, namespace=namespace)
started = time.monotonic()
release = config.install(chart_dir, "xtsync", {}, namespace=namespace, timeout=120)
took = time.monotonic() - started
status = config.status("xtsync")
state = getattr(getattr(status, "info", None), "status", None) or (status.get("info", {}).get("status") if isinstance(status, dict) else None) or str(status)
check(f"helm install into the real apiserver ({took:.2f} s)", "deployed" in str(state).lower(), state)


def kubectl(*args):
    done = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, *args], capture_output=True, text=True)
    if done.returncode != 0:
        check(f"kubectl {' '.join(args)}", False, done.stdout + done.stderr)
    return done.stdout


# CRD upgrades (README "Install"): Helm applies crds/ on `helm install` only, never on
# `helm upgrade`; the documented server-side apply upgrades them. An earlier release's CRD is stood for by another
# description (a change that leaves every object and every other test as it is).
crd = "tenants.xtsync.io"
schema_description = "jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}"
with open(f"{chart_dir}/crds/{crd}.yaml") as f:
    shipped = yaml.safe_load(f)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"]
earlier = "A Tenant, as an earlier release described it."
upgrade_step = "kubectl apply --server-side --force-conflicts -f charts/xtsync/crds/"
readme = (pathlib.Path(chart_dir).parent.parent / "README.md").read_text()
check("README documents the CRD upgrade step", upgrade_step in readme)
kubectl("patch", "crd", crd, "--type=json", "-p", json.dumps([{"op": "replace", "path": "/spec/versions/0/schema/openAPIV3Schema/description", "value": earlier}]))
try:
    config.upgrade(chart_dir, "xtsync", {}, namespace=namespace, timeout=120)
    check("helm upgrade leaves the CRDs as they were (Helm never upgrades crds/)", kubectl("get", "crd", crd, "-o", schema_description) == earlier)
finally:
    # The documented step, also when a check above failed: the CRDs are every test's.
    kubectl(*upgrade_step.split()[1:-1], f"{chart_dir}/crds/")
check("the documented step upgrades the CRDs", kubectl("get", "crd", crd, "-o", schema_description) == shipped)
config.uninstall("xtsync", timeout=60)
check("helm uninstall", True)

# Every value of a chart for real clusters, installed. Nothing enforces a NetworkPolicy or a
# budget here (no network plugin, no eviction without a kubelet), but the API server takes them.
api_port = int(next(l for l in open(kubeconfig) if "server: https://" in l).rsplit(":", 1)[1])
everything = {
    "replicas": 2,
    "leaseName": "everything-lease",
    "watchNamespace": namespace,
    "image": {"repository": "registry.example/xtsync", "digest": digest},
    "serviceAccount": {"name": "everything-bot", "annotations": {"azure.workload.identity/client-id": "11111111-2222-4333-8444-555555555555"}, "labels": {"azure.workload.identity/use": "true"}},
    "podLabels": {"team": "identity"},
    "podAnnotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"},
    "extraArgs": ["--stall-after=5m"],
    "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy.example:3128"}],
    "priorityClassName": "xtsync-critical",
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}],
    "podDisruptionBudget": {"enabled": True},
    "networkPolicy": {"enabled": True, "metricsFrom": monitoring, "apiServer": {"to": api_server, "ports": [api_port]}},
}
installed = config.install(chart_dir, "everything", everything, namespace=namespace, timeout=120)
check("every new value installs", "deployed" in str(config.status("everything")).lower())
check("the API server without policy/v1 (1.20) gets the budget as policy/v1beta1", "apiVersion: policy/v1beta1" in installed["manifest"], installed["manifest"])
live = json.loads(kubectl("get", "-n", namespace, "deployment/everything", "serviceaccount/everything-bot", "networkpolicy/everything", "poddisruptionbudget/everything", "role/everything-leader-election", "-o", "json"))["items"]
check("the installed Deployment pins the image, runs as the account, spreads and carries the pod's values",
      live[0]["spec"]["template"]["spec"]["containers"][0]["image"] == f"registry.example/xtsync@{digest}"
      and live[0]["spec"]["template"]["spec"]["serviceAccountName"] == "everything-bot"
      and live[0]["spec"]["template"]["spec"]["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "everything"
      and live[0]["spec"]["template"]["spec"]["priorityClassName"] == "xtsync-critical"
      and live[0]["spec"]["template"]["metadata"]["labels"]["team"] == "identity", live[0]["spec"])
check("the installed ServiceAccount carries its annotations", live[1]["metadata"]["annotations"]["azure.workload.identity/client-id"].startswith("1111"))
check("the installed NetworkPolicy reaches the API server at its port", live[2]["spec"]["egress"][0]["ports"][0]["port"] == api_port, live[2]["spec"])
check("the installed budget selects the release's pods", live[3]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "everything")
check("the installed Lease Role names its Lease", any(r.get("resourceNames") == ["everything-lease"] for r in live[4]["rules"]), live[4]["rules"])
config.uninstall("everything", timeout=60)
solo = config.install(chart_dir, "solo", {"leaderElection": False, "watchNamespace": namespace}, namespace=namespace, timeout=120)
strategy = json.loads(kubectl("get", "-n", namespace, "deployment/solo", "-o", "json"))["spec"]["strategy"]
check("installed without leader election, the Deployment is replaced, never rolled", strategy == {"type": "Recreate"}, strategy)
config.uninstall("solo", timeout=60)
check("helm uninstall of every release", True)

print(f"chart: {passed} passed, 0 failed")
