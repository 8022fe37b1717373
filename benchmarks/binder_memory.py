"""Binder's memory budget: JupyterLab + a kernel + the proxied MLflow UI + the proxied BentoML service.

    .venv/bin/python benchmarks/binder_memory.py          # ~3 minutes on a fresh workspace

mybinder.org kills a session above 2 GB. This starts JupyterLab the way binder/start does, under a
Binder-like base URL, opens both launcher entries through jupyter-server-proxy (the BentoML entry
builds the champion on the fresh workspace first), starts a kernel through the lab's REST API and
runs a module-05-sized workload in it (load the champion, predict on a traffic batch, an Evidently
drift report). Memory is PSS (proportional set size: shared pages split between the processes that
share them, so the sum is what the session costs), sampled every 0.5 s over the lab's whole process
tree and grouped by component. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
from jupyter_client import BlockingKernelClient

from mlops_clinic.servers import BackgroundServer
from mlops_clinic.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "binder"
BASE_URL = "/user/clinic-participant/"
TOKEN = "clinic-binder-benchmark"
BINDER_LIMIT_MB = 2048
WORKLOAD = """
import mlflow.sklearn
from evidently import Report
from evidently.presets import DataDriftPreset
from mlops_clinic.data import FEATURES, load

champion = mlflow.sklearn.load_model("models:/house-price@champion")
reference, current = load("houses_reference"), load("traffic/covariate_drift")
predictions = champion.predict(current[list(FEATURES)])
snapshot = Report([DataDriftPreset()]).run(reference[list(FEATURES)], current[list(FEATURES)])
print(len(predictions), "predictions;", type(snapshot).__name__)
"""


def component(process: psutil.Process) -> str:
    line = " ".join(process.cmdline())
    if "ipykernel" in line:
        return "kernel"
    if "mlflow" in line:
        return "MLflow UI"
    if "bentoml" in line or "mlops_clinic.proxy" in line or "_bentoml_impl" in line:
        return "BentoML service"
    return "JupyterLab"


class PssSampler(threading.Thread):
    """Samples the PSS of a process tree; keeps the sample with the highest total."""

    def __init__(self, root_pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.root, self.interval = psutil.Process(root_pid), interval
        self.peak: dict[str, float] = {}
        self.running = True

    def sample(self) -> dict[str, float]:
        by_component: dict[str, float] = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                mb = process.memory_full_info().pss / 2**20
                by_component[component(process)] = by_component.get(component(process), 0) + mb
            except psutil.Error:
                continue
        return by_component

    def run(self) -> None:
        while self.running:
            current = self.sample()
            if sum(current.values()) > sum(self.peak.values()):
                self.peak = current
            time.sleep(self.interval)


def get(url: str, timeout: float) -> int:
    """GET until 200 (the proxy starts the server on the first request)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def run_in_kernel(lab_url: str, workspace: Workspace, code: str) -> str:
    request = urllib.request.Request(f"{lab_url}api/kernels?token={TOKEN}", data=b"{}", method="POST")
    with urllib.request.urlopen(request) as response:
        kernel_id = json.load(response)["id"]
    connection = Path(workspace.env()["JUPYTER_RUNTIME_DIR"]) / f"kernel-{kernel_id}.json"
    client = BlockingKernelClient(connection_file=str(connection))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        out: list[str] = []
        reply = client.execute_interactive(code, timeout=600, output_hook=lambda msg: out.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"workload failed: {reply['content'].get('evalue')}")
        return "".join(out).strip()
    finally:
        client.stop_channels()


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    # Activated: binder/start then finds the kit's Python and tools first on PATH, as in the image.
    workspace = Workspace(WORK / "workspace").activate()
    (WORK / "home").mkdir()
    command = ["bash", "binder/start", sys.executable, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.port={port}", f"--ServerApp.base_url={BASE_URL}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {"HOME": str(WORK / "home"), "JUPYTER_TOKEN": TOKEN, "MLOPS_CLINIC_WORKSPACE": str(workspace.root)}
    with BackgroundServer("binder-lab", command, env=env, cwd=ROOT, workspace=workspace,
                          ready_path=f"{BASE_URL}api/status?token={TOKEN}", ready_timeout=120) as lab:
        root = f"{lab.url}{BASE_URL}"
        sampler = PssSampler(lab.pid)
        figures = {"lab alone": sampler.sample()}
        sampler.start()
        started = time.monotonic()
        get(f"{root}bentoml/readyz?token={TOKEN}", timeout=600)
        print(f"BentoML entry ready after {time.monotonic() - started:.0f} s (champion built first)")
        started = time.monotonic()
        get(f"{root}mlflow/health?token={TOKEN}", timeout=300)
        print(f"MLflow UI entry ready after {time.monotonic() - started:.0f} s")
        time.sleep(3)
        figures["both UIs idle"] = sampler.sample()
        print("kernel workload:", run_in_kernel(root, workspace, WORKLOAD))
        figures["after the workload"] = sampler.sample()
        sampler.running = False
        sampler.join()
        figures["peak (0.5 s samples)"] = sampler.peak

    names = ["JupyterLab", "kernel", "MLflow UI", "BentoML service"]
    print(f"\nPSS in MB (mybinder.org limit {BINDER_LIMIT_MB} MB)")
    print(f"{'':24}" + "".join(f"{name:>17}" for name in names) + f"{'total':>9}{'of limit':>10}")
    for label, values in figures.items():
        total = sum(values.values())
        print(f"{label:24}" + "".join(f"{values.get(name, 0):17.0f}" for name in names)
              + f"{total:9.0f}{total / BINDER_LIMIT_MB:10.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
