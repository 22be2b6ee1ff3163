#!/usr/bin/env python3
"""Names the mlpc_stepN kernels of a CUPTI profile (profile.json, written by
gpu_bench.py with MLPC_PROFILE=1) after the comments that --emit=cuda puts
above each kernel, and sums the GPU time by kind of step.

  profile_steps.py profile.json MODEL file.mlp [mlpc flags...]

MODEL is the profile's key (e.g. gmlp_s16_224); the flags must be those the
profiled library was built with (e.g. --precision=f16)."""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import mlpc  # noqa: E402


def step_comments(mlp, flags):
    """{kernel name: its comment lines joined} from the generated CUDA."""
    with tempfile.TemporaryDirectory() as tmp:
        cu = os.path.join(tmp, "model.cu")
        subprocess.run([mlpc.find_compiler(), mlp, "--target=cuda", "--emit=cuda", "-o", cu]
                       + flags, check=True)
        lines = open(cu).read().splitlines()
    names, comment = {}, []
    for i, line in enumerate(lines):
        if line.startswith("//"):
            comment.append(line[2:].strip())
        elif line.startswith("extern \"C\" __global__"):
            m = re.match(r"(mlpc_step\w+)\(", lines[i + 1])
            if m:
                names[m.group(1)] = "; ".join(comment)
        elif line.strip():
            comment = []
    return names


def kind(comment):
    """The step's kind: its comment without sizes."""
    return re.sub(r"\d+", "N", comment.split(";")[0])[:70]


def main():
    profile, model, mlp, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    names = step_comments(mlp, flags)
    for label, rows in json.load(open(profile))[model].items():
        total = sum(r[1] for r in rows)
        by_kind = collections.Counter()
        for name, us, _ in rows:
            by_kind[kind(names[name]) if name in names else name[:70]] += us
        print("%s, %s: %.0f us" % (model, label, total))
        for k, us in by_kind.most_common(14):
            print("  %8.0f us %5.1f%%  %s" % (us, 100 * us / total, k))


if __name__ == "__main__":
    main()
