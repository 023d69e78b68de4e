"""The layers network plugins build that the layer-wise analysis takes (nn.Linear and
nn.Conv2d), known while planning without importing torch.

analysable_layers(nets, cache, sources_hash) answers from a JSON cache keyed by each plugin
(its entry point and the package's net sources) and its options; the misses are built together
in one `python -m crossclass.layer_names REQUESTS_JSON`, on torch's meta device (no memory, no
weights, any size), which prints their module names and kinds. So a plan pays the torch import
only after the nets or their options change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from crossclass.errors import UserError

PROBE_SHAPE = (3, 32, 32)  # module names do not depend on the input size or class count
PROBE_CLASSES = 10


def _probe(requests: list[tuple[str, dict]]) -> list[dict[str, str]]:
    """{module name: kind} of each (plugin, options), in module order, built on the meta
    device (imports torch)."""
    import torch

    from crossclass import plugins

    names = []
    for net, options in requests:
        with torch.device("meta"):
            model = plugins.load(plugins.NETWORKS, net)(PROBE_SHAPE, PROBE_CLASSES, **options)
        names.append({n: "conv" if isinstance(m, torch.nn.Conv2d) else "linear"
                      for n, m in model.named_modules()
                      if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))})
    return names


def analysable_layers(nets: dict[str, dict], cache: Path,
                      sources_hash: str) -> dict[str, dict[str, str]]:
    """{net: {layer name: "linear" or "conv"}} for {net: options} (cached in the JSON file
    `cache`; `sources_hash` identifies the package's net sources)."""
    targets = {ep.name: ep.value for ep in entry_points(group="crossclass.networks")}
    keys = {net: json.dumps([net, targets.get(net), options, sources_hash], sort_keys=True)
            for net, options in nets.items()}
    cache = Path(cache)
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [net for net in nets if keys[net] not in known]
    if missing:
        requests = json.dumps([[net, nets[net]] for net in missing])
        done = subprocess.run([sys.executable, "-m", "crossclass.layer_names", requests],
                              capture_output=True, text=True)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise UserError(f"networks {', '.join(missing)} do not build: {last}")
        known.update(zip((keys[n] for n in missing), json.loads(done.stdout), strict=True))
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".partial")
        partial.write_text(json.dumps(known, indent=1))
        partial.replace(cache)
    return {net: known[keys[net]] for net in nets}


if __name__ == "__main__":
    print(json.dumps(_probe(json.loads(sys.argv[1]))))
