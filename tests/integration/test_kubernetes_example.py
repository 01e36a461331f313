"""deploy/kubernetes/revokd.yaml: an example, UNTESTED on a cluster (the
suite has no Kubernetes). What can be checked without one:

- yamllint passes (and the Prometheus rules file too);
- the revokd.json of its ConfigMap is a valid configuration: `revokd check`
  reads it (paths pointed into a temp folder) and decides (exit 1, deny),
  never exit 2;
- the paths agree: the container's --config is where the ConfigMap is
  mounted; the secret files revokd.json names are keys of the Secret
  volume's mount; data_dir is the data volume; the probes hit /readyz and
  /healthz on the port revokd listens on; the Service exposes that port
  and not the admin listener (loopback in the pod);
- the pod runs as non-root, read-only root file system, no capabilities,
  no privilege escalation.
"""
import json
import os
import shutil
import subprocess

import yaml

from conftest import REVOKD, ROOT, checked_run, pem_public

MANIFEST = os.path.join(ROOT, "deploy", "kubernetes", "revokd.yaml")
# Long lines: the alert descriptions are one sentence each.
YAMLLINT = '{extends: default, rules: {line-length: {max: 220}, document-start: disable}}'


def docs():
    with open(MANIFEST) as f:
        return {d["kind"] + "/" + d["metadata"]["name"]: d for d in yaml.safe_load_all(f) if d}


def test_yamllint():
    exe = shutil.which("yamllint")
    assert exe, "yamllint missing: apt-get install yamllint"
    for path in (MANIFEST, os.path.join(ROOT, "deploy", "prometheus", "revokd-rules.yml")):
        r = subprocess.run([exe, "-s", "-d", YAMLLINT, path], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr


def test_embedded_configuration_is_valid(tmp_path, keys):
    from cryptography.hazmat.primitives.asymmetric import ec
    cfg = json.loads(docs()["ConfigMap/revokd-config"]["data"]["revokd.json"])
    assert cfg["webhook"]["secret_file"].startswith("/etc/revokd/secrets/")
    # Point the files into a temp folder; the issuer gets a static key (its
    # JWKS URL is not reachable from here and `check` does not fetch).
    (tmp_path / "wh").write_text("whsec_" + "d2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OWFi" + "\n")
    (tmp_path / "adm").write_text("admin-token\n")
    (tmp_path / "k.pem").write_bytes(pem_public(ec.generate_private_key(ec.SECP256R1())))
    cfg["webhook"]["secret_file"] = str(tmp_path / "wh")
    cfg["admin"]["token_file"] = str(tmp_path / "adm")
    cfg["data_dir"] = str(tmp_path / "data")
    cfg["issuers"][0]["keys"] = [{"kid": "k", "alg": "ES256", "pem_file": str(tmp_path / "k.pem")}]
    path = tmp_path / "revokd.json"
    path.write_text(json.dumps(cfg))
    p = checked_run([REVOKD, "check", "--config", str(path), "not-a-token"], timeout=60)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["decision"] == "deny"


def test_mounts_ports_probes_and_sandbox_agree():
    d = docs()
    cfg = json.loads(d["ConfigMap/revokd-config"]["data"]["revokd.json"])
    sts = d["StatefulSet/revokd"]
    pod = sts["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    args = c["args"]
    config_path = args[args.index("--config") + 1]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["config"]["mountPath"] == config_path
    assert volumes["config"]["configMap"]["name"] == "revokd-config"
    # Secret files: the whole Secret mounted as a folder (no subPath, so an
    # updated Secret reaches the files, and SIGHUP reads them).
    sec_dir = mounts["secrets"]["mountPath"]
    assert "subPath" not in mounts["secrets"]
    for f in (cfg["webhook"]["secret_file"], cfg["admin"]["token_file"]):
        assert os.path.dirname(f) == sec_dir, f
    assert {os.path.basename(cfg["webhook"]["secret_file"]),
            os.path.basename(cfg["admin"]["token_file"])} == {"webhook.secret", "admin.token"}
    assert volumes["secrets"]["secret"]["secretName"] == "revokd-secrets"
    assert mounts["data"]["mountPath"] == cfg["data_dir"]
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["data"]
    # Ports and probes: revokd's public listener.
    port = int(cfg["listen"].rsplit(":", 1)[1])
    (cp,) = c["ports"]
    assert cp["containerPort"] == port and cp["name"] == "http"
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert cfg["admin_listen"].startswith("127.0.0.1:")
    for svc in ("Service/revokd", "Service/revokd-headless"):
        (sp,) = d[svc]["spec"]["ports"]
        assert sp["targetPort"] == "http", sp
    # One revokd per data volume: a StatefulSet, never a shared volume.
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    # Sandbox.
    assert pod["securityContext"]["runAsNonRoot"] is True
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
