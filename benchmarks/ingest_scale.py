"""The 54-paper ingest (../shared/corpus/pdfs + ../shared/corpus/neighbourhood) into an empty home, as a user runs it.

    .venv/bin/python benchmarks/ingest_scale.py [--quantize int8|none] [--device auto|cpu|cuda] [--keep HOME]
    .venv/bin/python benchmarks/ingest_scale.py --device cuda --quantize none     # on a machine with a CUDA GPU

Runs `mmqa ingest --json` in a new process and reports wall and CPU seconds, peak RSS of the ingest process
and of it plus its parse-ahead worker (sampled from /proc every 0.2 s), the breakdown (parse, chunk, embed,
store) summed over papers, pages/s, and then the embedding throughput of the same texts through mmqa's
int8 and fp32 ONNX encoders and a plain ``SentenceTransformer.encode`` call, each in a new process (the
``--throughput-worker`` of ingest_speed.py), so the ratios come from one run on one machine. On a GPU
machine install onnxruntime-gpu; ``--device cuda`` fails early when onnxruntime offers no CUDA provider.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = [REPO.parent / "shared" / "corpus" / "pdfs", REPO.parent / "shared" / "corpus" / "neighbourhood"]


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    kids = [int(p) for p in found]
    return kids + [g for k in kids for g in _children(k)]


class RssSampler(threading.Thread):
    """Peak RSS (kB) of a process alone and of it plus its descendants, sampled until it exits."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_main = self.peak_tree = self.peak_child = 0

    def run(self) -> None:
        while Path(f"/proc/{self.pid}").exists():
            main = _rss_kb(self.pid)
            kids = [_rss_kb(k) for k in _children(self.pid)]
            self.peak_main = max(self.peak_main, main)
            self.peak_child = max([self.peak_child, *kids])
            self.peak_tree = max(self.peak_tree, main + sum(kids))
            time.sleep(self.every)


def ingest(home: Path, env: dict[str, str]) -> dict:
    """Run the ingest; return its figures."""
    mmqa = str(Path(sys.executable).with_name("mmqa"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen([mmqa, "ingest", "--json", *map(str, FOLDERS)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    sampler = RssSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    sampler.join(1)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"mmqa ingest failed ({proc.returncode})")
    files = json.loads(out)["files"]
    phases: dict[str, float] = {}
    for f in files:
        for phase, seconds in f["timings"].items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall, "cpu": cpu, "papers": sum(f["status"] == "added" for f in files),
        "pages": sum(f["pages"] for f in files), "chunks": sum(f["chunks"] for f in files),
        "sentences": sum(f["sentences"] for f in files), "phases": phases,
        "peak_rss_main_mb": sampler.peak_main / 1024, "peak_rss_tree_mb": sampler.peak_tree / 1024,
        "peak_rss_worker_mb": sampler.peak_child / 1024, "maxrss_rusage_mb": after.ru_maxrss / 1024,
        "disk_mb": sum(p.stat().st_size for p in home.rglob("*") if p.is_file()) / 2**20,
    }  # fmt: skip


def throughput(home: Path, encoders: list[str]) -> dict[str, float]:
    """Word pieces/s per encoder over the 6-paper corpus's embedding texts (ingest_speed.py's worker)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from ingest_speed import write_embedding_texts

    write_embedding_texts(home)
    rates = {}
    for encoder in encoders:
        done = subprocess.run([sys.executable, str(Path(__file__).with_name("ingest_speed.py")), "--throughput-worker",
                               encoder, str(home)], check=True, capture_output=True, text=True)  # fmt: skip
        rates[encoder] = float(done.stdout.split()[-3])
    return rates


def main() -> None:
    """Run and print markdown (and the JSON figures)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantize", choices=["int8", "none"], default="int8")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--keep", type=Path, help="ingest into this (new) home and keep it")
    parser.add_argument("--models", type=Path, help="a models folder to copy in, so the ONNX export is not timed")
    parser.add_argument("--no-throughput", action="store_true")
    args = parser.parse_args()
    if args.device == "cuda":
        import onnxruntime as ort

        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise SystemExit("--device cuda: onnxruntime offers no CUDAExecutionProvider (pip install onnxruntime-gpu)")
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "home"
        home.mkdir(parents=True, exist_ok=False)
        if args.models:
            shutil.copytree(args.models, home / "models")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MMQA_")}
        env.update(MMQA_HOME=str(home), MMQA_EMBEDDING__QUANTIZE=args.quantize, MMQA_EMBEDDING__DEVICE=args.device)
        figures = ingest(home, env)
        if not args.no_throughput:
            figures["throughput"] = throughput(Path(tmp), ["onnx", "onnx-fp32", "st-default"])
    cpu_name = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name")), platform.processor())  # fmt: skip
    print(f"machine: {cpu_name}, {os.cpu_count()} cores; quantize={args.quantize}, device={args.device}\n")
    f = figures
    print(f"{f['papers']} papers, {f['pages']} pages -> {f['chunks']} chunks + {f['sentences']} sentence vectors\n")
    print("| measure | value |\n|---|---|")
    print(f"| wall (s) | {f['wall']:.0f} |\n| CPU (s) | {f['cpu']:.0f} ({f['cpu'] / f['wall']:.0%}) |")
    for phase in ("parse", "parse_work", "chunk", "embed", "store"):
        print(f"| — {phase} (s, summed over papers) | {f['phases'].get(phase, 0):.0f} |")
    print(f"| pages/s | {f['pages'] / f['wall']:.2f} |")
    print(f"| peak RSS: ingest process / + worker / worker alone (MB) | {f['peak_rss_main_mb']:.0f} / "
          f"{f['peak_rss_tree_mb']:.0f} / {f['peak_rss_worker_mb']:.0f} |")  # fmt: skip
    print(f"| home on disk (MB) | {f['disk_mb']:.0f} |")
    if "throughput" in f:
        base = f["throughput"]["st-default"]
        print("\n| encoder | word pieces/s | × plain sentence-transformers |\n|---|---|---|")
        for name, rate in f["throughput"].items():
            print(f"| {name} | {rate:.0f} | {rate / base:.2f}× |")
    print("\n" + json.dumps(figures))


if __name__ == "__main__":
    main()
