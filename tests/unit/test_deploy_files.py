"""deploy/compose.yaml and deploy/k8s/ checked offline by tools made for those formats: the
Compose specification's schema (vendored in check-jsonschema) and the Kubernetes API schemas
(shipped in kubernetes-validate, strict: an unknown field fails). Then what no schema knows:
every CAMPAIGNS_* name is a setting, selectors select, and the probes ask the right paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

from services.settings import ServiceSettings
from streams.settings import StreamSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
KUBERNETES_VERSION = "1.33.0"
SETTINGS = {
    f"CAMPAIGNS_{name.upper()}" for name in StreamSettings.model_fields | ServiceSettings.model_fields
}


def compose_errors(path: Path) -> str:
    """'' when the file is a valid Compose file, else the validator's report."""
    run = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if run.returncode == 0 else run.stdout + run.stderr


def manifest_errors(path: Path) -> list[str]:
    errors = []
    for resource in yaml.safe_load_all(path.read_text()):
        if not resource:
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, SchemaNotFoundError) as exc:
            # A kind with no schema is an error here, not the CLI's mere warning.
            errors.append(
                f"{path.name}: {resource.get('kind')}/{resource.get('metadata', {}).get('name')}: {exc}"
            )
    return errors


def resources() -> list[dict[str, Any]]:
    return [r for path in MANIFESTS for r in yaml.safe_load_all(path.read_text()) if r]


def test_the_compose_file_is_valid_compose() -> None:
    assert compose_errors(COMPOSE) == ""


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_is_valid_for_kubernetes(path: Path) -> None:
    assert manifest_errors(path) == []


def test_a_broken_compose_file_fails(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period:", "stop_grace_perod:", 1))
    assert "stop_grace_perod" in compose_errors(broken)
    wrong_type = tmp_path / "ports.yaml"
    wrong_type.write_text("services:\n  api:\n    image: x\n    ports: 8000\n")
    assert compose_errors(wrong_type) != ""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("containerPort: 8001", "containerPrt: 8001"),  # an unknown field
        ("replicas: 2", "replicas: two"),  # a wrong type
        ("kind: StatefulSet", "kind: StatefulSets"),  # a kind no schema knows
    ],
)
def test_a_broken_manifest_fails(tmp_path: Path, old: str, new: str) -> None:
    source = DEPLOY / "k8s" / "worker.yaml"
    assert old in source.read_text()
    broken = tmp_path / "worker.yaml"
    broken.write_text(source.read_text().replace(old, new, 1))
    assert manifest_errors(broken) != []


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _env_names() -> set[str]:
    names: set[str] = set()
    for service in _compose()["services"].values():
        names |= {n for n in service.get("environment", {}) if n.startswith("CAMPAIGNS_")}
    for resource in resources():
        if resource["kind"] in {"ConfigMap", "Secret"}:
            names |= set(resource.get("data", {}) | resource.get("stringData", {}))
        for container in _containers(resource):
            names |= {e["name"] for e in container.get("env", [])}
    for line in (DEPLOY / "compose.env.example").read_text().splitlines():
        if line.startswith("CAMPAIGNS_"):
            names.add(line.split("=", 1)[0])
    return {n for n in names if n.startswith("CAMPAIGNS_")} - {"CAMPAIGNS_DB_PASSWORD", "CAMPAIGNS_IMAGE"}


def _containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    if resource["kind"] not in {"Deployment", "StatefulSet"}:
        return []
    containers: list[dict[str, Any]] = resource["spec"]["template"]["spec"]["containers"]
    return containers


def test_every_setting_named_in_deploy_is_one_the_processes_read() -> None:
    names = _env_names()
    assert "CAMPAIGNS_REPLICATION_FACTOR" in names
    assert names - SETTINGS == set()


def test_selectors_select_and_probes_ask_healthz_and_readyz() -> None:
    workloads = [r for r in resources() if r["kind"] in {"Deployment", "StatefulSet"}]
    assert {w["metadata"]["name"] for w in workloads} == {
        "campaigns-worker",
        "campaigns-sink",
        "campaigns-api",
    }
    labels = []
    for w in workloads:
        pod_labels = w["spec"]["template"]["metadata"]["labels"]
        assert w["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), w["metadata"]["name"]
        labels.append(pod_labels)
        (container,) = _containers(w)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        assert {"configMapRef", "secretRef"} <= {k for ref in container["envFrom"] for k in ref}
    for service in (r for r in resources() if r["kind"] == "Service"):
        selector = service["spec"]["selector"].items()
        assert any(selector <= pod.items() for pod in labels), service["metadata"]["name"]


def test_compose_runs_three_brokers_two_workers_a_sink_and_two_apis() -> None:
    services = _compose()["services"]
    brokers = [s for s in services.values() if str(s.get("image", "")).startswith("apache/kafka")]
    assert len(brokers) == 3
    assert len({b["environment"]["KAFKA_NODE_ID"] for b in brokers}) == 3
    commands = [" ".join(s.get("command", [])) for s in services.values()]
    assert commands.count("python -m streams worker -l info") == 2
    assert commands.count("python -m services.sink") == 1
    assert commands.count("python -m services.api") == 2
    workers = [s for s in services.values() if "streams" in s.get("command", [])]
    assert len({w["environment"]["CAMPAIGNS_WORKER_ID"] for w in workers}) == 2
    assert all(w["environment"]["CAMPAIGNS_REPLICATION_FACTOR"] == "3" for w in workers)
