"""Helm actions for the end-to-end tests, with Helm's own Go SDK (PyPI helm-python-sdk), against
the test kube-apiserver:

    python release.py install CHART_DIR KUBECONFIG NAMESPACE RELEASE VALUES_JSON
    python release.py test KUBECONFIG NAMESPACE RELEASE TIMEOUT_SECONDS

`install` prints the release's rendered manifest; `test` runs `helm test` and exits 0 when Helm
says the release's test hooks passed, 1 with Helm's message when they did not.
"""

import json
import sys

import helm_python


def main(action, *args):
    if action == "install":
        chart_dir, kubeconfig, namespace, release, values = args
        config = helm_python.Config(kubeconfig_path=kubeconfig, namespace=namespace)
        installed = config.install(chart_dir, release, json.loads(values), namespace=namespace, timeout=120)
        print(installed["manifest"])
        return 0
    if action == "test":
        kubeconfig, namespace, release, timeout = args
        config = helm_python.Config(kubeconfig_path=kubeconfig, namespace=namespace)
        try:
            config.test(release, timeout=int(timeout))
        except helm_python.HelmError as error:
            print(f"helm test {release}: {error}")
            return 1
        print(f"helm test {release}: passed")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
