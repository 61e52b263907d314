"""examples/kubernetes/ checked offline: the plain manifests against the
Kubernetes API schemas that kubernetes-validate ships (strict: unknown
fields fail), at its newest bundled release and an older one.

The operator's LocustTest is a custom resource, and kubernetes-validate has
no schema for it: its required fields are checked by hand and the core
types inside it (env vars, security context, resources) against the
Kubernetes schemas by placing them in a Pod. The same for the chart's
values. Cross-references (names, ports, labels, paths, the image's user)
must agree between the files, the Dockerfile and the entrypoint.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "examples" / "kubernetes"
PLAIN = ["secret.yaml", "master.yaml", "worker.yaml", "configmap-locustfile.yaml"]
VERSIONS = [kubernetes_validate.latest_version(), "1.29.0"]


def docs(name: str) -> list[dict]:
    with open(K8S_DIR / name) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def by_kind() -> dict[str, dict]:
    return {f"{d['kind']}/{d['metadata']['name']}": d for name in PLAIN for d in docs(name)}


def validate(doc: dict, version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def in_pod(container: dict | None = None, pod: dict | None = None) -> dict:
    """A Pod holding the given container fields and pod-level fields."""
    spec = {"containers": [{"name": "c", "image": "locust-c-worker:latest", **(container or {})}], **(pod or {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def image_user() -> int:
    m = re.search(r"^USER (\d+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert m, "Dockerfile has no numeric USER"
    return int(m.group(1))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", PLAIN)
def test_plain_manifest_matches_kubernetes_schema(name, version):
    found = docs(name)
    assert found
    for doc in found:
        validate(doc, version)


@pytest.mark.parametrize("break_it", ["replicas as text", "unknown field", "no selector"])
def test_validation_rejects_a_broken_manifest(break_it):
    """The check above can fail: a broken copy of the worker Deployment."""
    doc = copy.deepcopy(docs("worker.yaml")[0])
    if break_it == "replicas as text":
        doc["spec"]["replicas"] = "two"
    elif break_it == "unknown field":
        doc["spec"]["template"]["spec"]["containers"][0]["argz"] = ["--worker"]
    else:
        del doc["spec"]["selector"]
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(doc, VERSIONS[0])


def test_configmap_holds_the_opscore_locustfile():
    cm = by_kind()["ConfigMap/opscore-locustfile"]
    assert cm["data"]["locustfile.py"] == (ROOT / "examples" / "opscore" / "locustfile.py").read_text()


def test_plain_manifests_agree():
    res = by_kind()
    master, worker = res["Deployment/locust-master"], res["Deployment/locust-worker"]
    service = res["Service/locust-master"]
    pod_labels = master["spec"]["template"]["metadata"]["labels"]
    assert all(pod_labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert {p["port"] for p in service["spec"]["ports"]} == {5557, 8089}
    args = worker["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "--worker"
    assert args[args.index("--master-host") + 1] == service["metadata"]["name"]
    env_from = worker["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert env_from[0]["secretRef"]["name"] in {k.split("/")[1] for k in res if k.startswith("Secret/")}
    assert "OPSCORE_API_KEY" in res["Secret/opscore-api-key"]["stringData"]
    volume = master["spec"]["template"]["spec"]["volumes"][0]
    assert f"ConfigMap/{volume['configMap']['name']}" in res
    for dep in (master, worker):
        assert dep["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == image_user()


def test_locusttest_resource():
    """No schema exists offline for the operator's CRD: check its required
    fields, then the core types inside it against the Kubernetes schemas."""
    lt, = docs("locusttest.yaml")
    assert (lt["apiVersion"], lt["kind"]) == ("locust.io/v2", "LocustTest")
    spec = lt["spec"]
    assert spec["image"] and spec["master"]["command"] and spec["worker"]["command"]
    assert 1 <= spec["worker"]["replicas"] <= 500
    assert "--worker" not in spec["worker"]["command"]   # the operator adds it
    assert f"ConfigMap/{spec['testFiles']['configMapRef']}" in by_kind()
    assert [f"Secret/{s['name']}" in by_kind() for s in spec["env"]["secretRefs"]] == [True]
    assert spec["security"]["podSecurityContext"]["runAsUser"] == image_user()
    pod = in_pod(container={"env": spec["env"]["variables"], "resources": spec["worker"]["resources"]},
                 pod={"securityContext": spec["security"]["podSecurityContext"]})
    validate(pod, VERSIONS[0])


def test_chart_values():
    """The chart's pods run `sh /config/docker-entrypoint.sh`, which execs
    loadtest.locustCmd: that must be the image's entrypoint."""
    values = yaml.safe_load((K8S_DIR / "values-deliveryhero.yaml").read_text())
    assert "COPY docker/entrypoint.sh " + values["loadtest"]["locustCmd"] in (ROOT / "Dockerfile").read_text()
    assert f"ConfigMap/{values['loadtest']['locust_locustfile_configmap']}" in by_kind()
    assert values["loadtest"]["locust_locustfile"] in by_kind()["ConfigMap/opscore-locustfile"]["data"]
    assert list(values["loadtest"]["environment_external_secret"]) == ["opscore-api-key"]
    assert values["securityContext"]["runAsUser"] == image_user()
    pod = in_pod(container={"securityContext": values["securityContext"],
                            "resources": values["worker"]["resources"],
                            "env": [{"name": k, "value": v} for k, v in values["loadtest"]["environment"].items()]})
    validate(pod, VERSIONS[0])
