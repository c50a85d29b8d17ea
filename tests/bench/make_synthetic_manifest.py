#!/usr/bin/python3
"""Writes a large synthetic ONNX_HUB_MANIFEST.json for the listing benchmarks (P7, P8).

    make_synthetic_manifest.py OUT.json [--models 5000] [--seed 7]

Only the manifest is produced: `ls -lR` of a hubfs mount reads names and sizes from it and never
downloads a model, so no model bytes exist (every sha256 is random). Standard library only, so
the benchmark needs neither onnx nor numpy. The output is deterministic for a given seed.

What it looks like (shaped after the ONNX Model Zoo's manifest, HUB-PROTOCOLS.md §1.3):

- `--models` distinct model names, each with 1-4 entries (one per opset: 35% one, 30% two, 20%
  three, 15% four), so about 2.2 entries per model;
- about a quarter under the old collection layout `validated/<vision|text>/<task>/<folder>/model/
  <base>-<opset>.onnx`, the rest under the new zoo's top folders (`Computer_Vision/`,
  `Natural_Language_Processing/`, `Generative_AI/`, `Graph_Machine_Learning/`) as
  `<Top>/<folder>/<base>_Opset<opset>.onnx`;
- 85% of the entries have a `model_with_data_path` tarball next to the model;
- sizes from a log-normal distribution between 40 KB and 2.5 GB (median about 25 MB), tags,
  io_ports and onnx_version as the real manifest has them.
"""

import argparse
import json
import math
import os
import random
import sys

OLD_AREAS = [  # (weight, area below validated/, tags)
    (10, "vision/classification"), (5, "vision/object_detection_segmentation"),
    (2, "vision/body_analysis"), (1, "vision/style_transfer"), (1, "vision/super_resolution"),
    (4, "text/machine_comprehension"),
]
NEW_TOPS = [(45, "Computer_Vision"), (20, "Natural_Language_Processing"), (5, "Generative_AI"),
            (5, "Graph_Machine_Learning")]
FAMILIES = {
    "vision": ["ResNet", "MobileNet", "EfficientNet", "Inception", "DenseNet", "SqueezeNet",
               "VGG", "ShuffleNet", "RegNet", "ConvNeXt", "YOLOv", "SSD", "Mask R-CNN",
               "Faster R-CNN", "RetinaNet", "DETR", "Swin", "ViT", "DeiT", "BEiT", "GoogleNet",
               "AlexNet", "CaffeNet", "ZFNet", "EmotionFERPlus", "ArcFace", "UltraFace", "FCN",
               "DUC", "Super Resolution", "Fast Neural Style", "MNIST", "Xception", "NASNet"],
    "text": ["BERT", "RoBERTa", "GPT-2", "T5", "DistilBERT", "ALBERT", "BiDAF", "XLM", "ELECTRA",
             "DeBERTa", "MPNet", "BART", "Longformer", "FunnelTransformer", "CamemBERT"],
    "gen": ["Stable Diffusion UNet", "VAE Decoder", "CLIP Text", "Llama Block", "Whisper",
            "GPT-J Block", "MusicGen"],
    "graph": ["GCN", "GraphSAGE", "GAT", "GIN", "SchNet", "DimeNet"],
}
VARIANTS = ["", "18", "34", "50", "101", "152", "v1", "v2", "v3", "small", "base", "large",
            "tiny", "b0", "b3", "b7", "x0.5", "x1.0", "1.0", "1.1", "int8", "qdq", "fp16"]
OPSETS = list(range(7, 19))
ONNX_OF_OPSET = {7: "1.2", 8: "1.3", 9: "1.4", 10: "1.5", 11: "1.6", 12: "1.7", 13: "1.8",
                 14: "1.9", 15: "1.10", 16: "1.11", 17: "1.12", 18: "1.13"}
TYPES = ["tensor(float)", "tensor(float)", "tensor(float)", "tensor(int64)", "tensor(uint8)",
         "tensor(float16)", "tensor(int32)"]


def pick(rng, weighted):
    return rng.choices([v for _, v in weighted], [w for w, _ in weighted])[0]


def snake(text):
    out = "".join(c.lower() if c.isalnum() else "_" for c in text)
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def size_of(rng):
    """Log-normal bytes, median ~25 MB, clipped to [40 KB, 2.5 GB]."""
    return int(min(2.5e9, max(40e3, math.exp(rng.gauss(math.log(25e6), 1.6)))))


def ports(rng, names):
    return [{"name": f"{n}{i}" if i else n, "shape": [rng.choice(["N", "batch", 1]),
                                                     *rng.sample([3, 224, 224, 256, 512, 768, 1000],
                                                                 rng.randint(0, 3))],
             "type": rng.choice(TYPES)} for i, n in enumerate(names)]


def build(models, seed=7):
    """The manifest as a list of entries (dicts), in zoo-like order (grouped by area)."""
    rng = random.Random(seed)
    hexdigest = lambda: "%064x" % rng.getrandbits(256)
    entries = []
    for i in range(models):
        if rng.random() < 0.25:
            area = pick(rng, OLD_AREAS)
            kind = "text" if area.startswith("text") else "vision"
        else:
            top = pick(rng, NEW_TOPS)
            kind = {"Computer_Vision": "vision", "Natural_Language_Processing": "text",
                    "Generative_AI": "gen", "Graph_Machine_Learning": "graph"}[top]
            area = None
        family = rng.choice(FAMILIES[kind])
        variant = rng.choice(VARIANTS)
        name = f"{family}{'-' + variant if variant else ''} {i:04d}"
        folder = snake(f"{family}_{variant}_{i:04d}")
        count = pick(rng, [(35, 1), (30, 2), (20, 3), (15, 4)])
        for opset in sorted(rng.sample(OPSETS, count)):
            if area:
                base = f"validated/{area}/{folder}/model/{folder.replace('_', '-')}-{opset}"
                tags = area.split("/") + [family.lower()]
            else:
                base = f"{top}/{folder}/{folder}_Opset{opset}"
                tags = [top.replace("_", " "), family.lower()]
            size = size_of(rng)
            meta = {
                "model_sha": hexdigest(),
                "model_bytes": size,
                "tags": tags,
                "io_ports": {"inputs": ports(rng, ["input"] * rng.randint(1, 3)),
                             "outputs": ports(rng, ["output"] * rng.randint(1, 2))},
            }
            if rng.random() < 0.85:
                meta["model_with_data_path"] = base + ".tar.gz"
                meta["model_with_data_sha"] = hexdigest()
                meta["model_with_data_bytes"] = int(size * rng.uniform(0.9, 1.4)) + 20000
            entries.append({"model": name, "model_path": base + ".onnx",
                            "onnx_version": ONNX_OF_OPSET[opset], "opset_version": opset,
                            "metadata": meta})
    entries.sort(key=lambda e: e["model_path"].rsplit("/", 2)[0])  # stable: opsets stay in order
    return entries


def write(path, models, seed=7):
    """Writes the manifest (4-space indent, like onnx/models') and returns its entry count."""
    entries = build(models, seed)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(entries, f, indent=4)
    os.replace(tmp, path)
    return len(entries)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--models", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    n = write(args.out, args.models, args.seed)
    print(f"{args.models} models, {n} entries -> {args.out} ({os.path.getsize(args.out)} bytes)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
