#!/usr/bin/env python3
"""End-to-end numerics check of one model: .mlp + random weights -> mlpc ->
libmodel.so -> mlpc.load -> compare with the float64 NumPy reference.

    e2e_check.py --model tabular_mlp --mlp models/tabular_mlp.mlp \\
                 --workdir /tmp/t --batches 1,7,64,1000

The weights come from a fixed seed (--weight-seed, default 0); the inputs are
FRESH on every run (seed from os.urandom unless --seed is given) and the seed
is printed, so a failure can be reproduced with --seed. For every batch size
it prints the max relative error

    max|y - ref| / max(max|ref|, 1e-6)

and fails if it exceeds --rtol (1e-5, the fp32 tolerance). It also compiles
the model with --no-embed-weights and runs it with the weights given at load
time. Models without --mlp use the .mlp text built in here (written into the
workdir), e.g. the small per-activation models of test/e2e/activations.test.
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

try:
    import mlpc
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "python"))
    import mlpc


# -- model cases ------------------------------------------------------------------

class Case:
    """name: the model name in the .mlp; params: {name: (shape, init)} where
    init is "linear:<fan_in>", "ln_weight", "ln_bias" or "normal";
    inputs: [(name, shape without batch)] for float32 inputs N(0,
    input_scale^2), or [(name, shape, gen)] with gen(rng, shape) -> array of
    the input's dtype (integer ids, say); outputs: [(name, shape without
    batch)]; reference(params, inputs) -> [outputs]; mlp: built-in source or
    None; input_scale: std of the random inputs."""

    def __init__(self, name, params, inputs, outputs, reference, mlp=None, input_scale=1.0):
        self.name, self.params, self.inputs, self.outputs = name, params, inputs, outputs
        self.reference, self.mlp, self.input_scale = reference, mlp, input_scale


def linear_params(prefix, fan_in, fan_out, bias=True):
    p = {prefix + ".weight": ((fan_out, fan_in), "linear:%d" % fan_in)}
    if bias:
        p[prefix + ".bias"] = ((fan_out,), "linear:%d" % fan_in)
    return p


def ln_params(prefix, dim):
    return {prefix + ".weight": ((dim,), "ln_weight"), prefix + ".bias": ((dim,), "ln_bias")}


def tabular_case():
    params = {}
    for name, i, o in [("fc1", 128, 512), ("fc2", 512, 512), ("fc3", 512, 512),
                       ("head", 512, 1)]:
        params.update(linear_params(name, i, o))
    # The single output of a batch of 1 is the whole denominator of the
    # relative error; an offset keeps it away from 0 (see init_params).
    params["head.bias"] = ((1,), "offset")
    return Case("tabular_mlp", params, [("x", (128,))], [("y", (1,))],
                lambda p, x: [ref.tabular_mlp(p, x["x"])])


def mixer_case(depth=2, tokens=16, channels=32, token_hidden=24, channel_hidden=64,
               classes=10):
    params = {}
    for i in range(depth):
        b = "blocks.%d." % i
        params.update(ln_params(b + "norm1", channels))
        params.update(linear_params(b + "mlp_tokens.fc1", tokens, token_hidden))
        params.update(linear_params(b + "mlp_tokens.fc2", token_hidden, tokens))
        params.update(ln_params(b + "norm2", channels))
        params.update(linear_params(b + "mlp_channels.fc1", channels, channel_hidden))
        params.update(linear_params(b + "mlp_channels.fc2", channel_hidden, channels))
    params.update(ln_params("norm", channels))
    params.update(linear_params("head", channels, classes))
    return Case("mixer_tiny", params, [("x", (tokens, channels))], [("logits", (classes,))],
                lambda p, x: [ref.mixer(p, x["x"], depth=depth, eps=1e-6)])


# Per-activation models: the activation once on its own (an elementwise op on
# an input) and once after a linear (where it is usually fused).
_ACTIVATION_CALLS = {
    "relu": "relu",
    "gelu": "gelu",
    "gelu_tanh": 'gelu(approximate="tanh")',
    "silu": "silu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
}


def activation_case(act):
    name = "act_" + act
    call = _ACTIVATION_CALLS[act]
    mlp = """# {act}: standalone and fused after a linear; reference: test/lib/reference.py
model {name} {{
  input x: f32[N, 48]
  h = x |> {call}
  output y = linear(h, 40) @fc |> {call}
}}
""".format(act=act, name=name, call=call)
    fn = ref.ACTIVATIONS[act]
    return Case(name, linear_params("fc", 48, 40), [("x", (48,))], [("y", (40,))],
                lambda p, x: [fn(ref.linear(fn(x["x"]), p["fc.weight"], p["fc.bias"]))],
                mlp=mlp, input_scale=3.0)


def broadcast_case():
    mlp = """# + - * with broadcasting against parameters of lower rank
model broadcast {
  input x: f32[N, 4, 24]
  scale = param @scale: f32[24]
  shift = param @shift: f32[4, 1]
  h = (x - shift) * scale
  output y = h * x + scale - h
}
"""
    params = {"scale": ((24,), "normal"), "shift": ((4, 1), "normal")}

    def reference(p, x):
        x = x["x"]
        h = (x - p["shift"]) * p["scale"]
        return [h * x + p["scale"] - h]
    return Case("broadcast", params, [("x", (4, 24))], [("y", (4, 24))], reference, mlp=mlp)


def broadcast_inputs_case():
    mlp = """# two inputs, one broadcast along a size-1 axis
model broadcast_inputs {
  input x: f32[N, 4, 24]
  input m: f32[N, 1, 24]
  output y = (x - m) * m + x
}
"""

    def reference(p, x):
        return [(x["x"] - x["m"]) * x["m"] + x["x"]]
    return Case("broadcast_inputs", {}, [("x", (4, 24)), ("m", (1, 24))], [("y", (4, 24))],
                reference, mlp=mlp)


def reshape_ln_case():
    mlp = """# reshape and a layer_norm without affine parameters
model reshape_ln {
  input x: f32[N, 6, 16]
  h = reshape(x, N, 96) |> layer_norm(affine=false)
  output y = linear(h, 8) @fc |> reshape(N, 2, 4)
}
"""

    def reference(p, x):
        h = ref.layer_norm(x["x"].reshape(x["x"].shape[0], 96), eps=1e-5)
        y = ref.linear(h, p["fc.weight"], p["fc.bias"])
        return [y.reshape(y.shape[0], 2, 4)]
    return Case("reshape_ln", linear_params("fc", 96, 8), [("x", (6, 16))], [("y", (2, 4))],
                reference, mlp=mlp, input_scale=2.0)


def def_repeat_case():
    mlp = """# a def called in a repeat, parameters scoped by the repeat's path
def block(x, hidden) {
  h = layer_norm(x) @norm |> linear(hidden) @fc1 |> silu |> linear(32) @fc2
  return x + h
}

model def_repeat {
  input x: f32[N, 32]
  repeat 3 as i @layers.{i} {
    x = block(x, 48)
  }
  output y = linear(x, 5, bias=false) @head
}
"""
    params = {}
    for i in range(3):
        b = "layers.%d." % i
        params.update(ln_params(b + "norm", 32))
        params.update(linear_params(b + "fc1", 32, 48))
        params.update(linear_params(b + "fc2", 48, 32))
    params.update(linear_params("head", 32, 5, bias=False))

    def reference(p, x):
        x = x["x"]
        for i in range(3):
            b = "layers.%d." % i
            h = ref.layer_norm(x, p[b + "norm.weight"], p[b + "norm.bias"], 1e-5)
            h = ref.silu(ref.linear(h, p[b + "fc1.weight"], p[b + "fc1.bias"]))
            x = x + ref.linear(h, p[b + "fc2.weight"], p[b + "fc2.bias"])
        return [ref.linear(x, p["head.weight"])]
    return Case("def_repeat", params, [("x", (32,))], [("y", (5,))], reference, mlp=mlp)


def batch_free_gate_case():
    mlp = """# gates computed from parameters only (a [1, k] tensor, no batch axis),
# broadcast over the batch: the linear's in-place activation must run once
model batch_free_gate {
  input x: f32[N, 12]
  c = param @c: f32[1, 5]
  gate = linear(c, 24) @gate |> sigmoid
  output g = gate * concat(x, x)
  output f = linear(gate * concat(x, x), 8, bias=false) @fc
  ctx = param @ctx: f32[1, 16]
  fs = linear(ctx, 32) @fs.0 |> relu |> linear(12) @fs.2 |> tanh
  output s = x * fs + x
}
"""
    params = {"c": ((1, 5), "normal"), "ctx": ((1, 16), "normal")}
    params.update(linear_params("gate", 5, 24))
    params.update(linear_params("fc", 24, 8, bias=False))
    params.update(linear_params("fs.0", 16, 32))
    params.update(linear_params("fs.2", 32, 12))

    def reference(p, x):
        x = x["x"]
        gate = ref.sigmoid(ref.linear(p["c"], p["gate.weight"], p["gate.bias"]))
        g = gate * np.concatenate([x, x], axis=1)
        fs = ref.relu(ref.linear(p["ctx"], p["fs.0.weight"], p["fs.0.bias"]))
        fs = ref.tanh(ref.linear(fs, p["fs.2.weight"], p["fs.2.bias"]))
        return [g, ref.linear(g, p["fc.weight"]), x * fs + x]
    return Case("batch_free_gate", params, [("x", (12,))],
                [("g", (24,)), ("f", (8,)), ("s", (12,))], reference, mlp=mlp)


CASES = {
    "tabular_mlp": tabular_case,
    "mixer_tiny": mixer_case,
    "broadcast": broadcast_case,
    "broadcast_inputs": broadcast_inputs_case,
    "reshape_ln": reshape_ln_case,
    "def_repeat": def_repeat_case,
    "batch_free_gate": batch_free_gate_case,
}
for _act in _ACTIVATION_CALLS:
    CASES["act_" + _act] = (lambda a: lambda: activation_case(a))(_act)

# The model zoo (models/*.mlp): test/lib/zoo_cases.py.
import zoo_cases  # noqa: E402

CASES.update(zoo_cases.register(Case, linear_params, ln_params))


# -- checking ---------------------------------------------------------------------

def init_params(case, rng):
    """float32 parameters: PyTorch's default Linear init U(-1/sqrt(fan_in),
    1/sqrt(fan_in)); LayerNorm weight 1 + 0.1 N(0,1) and bias 0.1 N(0,1) (so
    the affine part matters); "offset": 1 + U(0, 0.5); a callable init is
    called as init(rng, shape); others N(0, 0.5^2)."""
    params = {}
    for name in sorted(case.params):
        shape, init = case.params[name]
        if callable(init):  # init(rng, shape), e.g. a sorted knot grid
            v = np.asarray(init(rng, shape))
        elif init.startswith("linear:"):
            bound = 1.0 / math.sqrt(int(init.split(":")[1]))
            v = rng.uniform(-bound, bound, shape)
        elif init == "ln_weight":
            v = 1.0 + 0.1 * rng.standard_normal(shape)
        elif init == "ln_bias":
            v = 0.1 * rng.standard_normal(shape)
        elif init == "offset":
            v = 1.0 + rng.uniform(0.0, 0.5, shape)
        else:
            v = 0.5 * rng.standard_normal(shape)
        params[name] = v.astype(np.float32)
    return params


def rel_error(y, want, scale=0.0):
    """Largest error over the larger of the largest reference value and `scale`,
    the output's magnitude over a separate batch: a batch of one row with one
    output column would otherwise divide by whatever that one value is."""
    denom = max(float(np.max(np.abs(want))) if want.size else 0.0, scale, 1e-6)
    if y.size == 0:
        return 0.0, denom
    return float(np.max(np.abs(y.astype(np.float64) - want))) / denom, denom


def check_embedded(so, check, case, batches, failures, args):
    """The library with embedded weights: its signature, then every batch."""
    with mlpc.load(so, device=args.device) as m:
        want_in = [(i[0], (None,) + i[1]) for i in case.inputs]
        want_out = [(n, (None,) + s) for n, s in case.outputs]
        got_in = [(s.name, s.shape) for s in m.inputs]
        got_out = [(s.name, s.shape) for s in m.outputs]
        print("loaded %s: name %r, inputs %s, outputs %s" % (os.path.basename(so), m.name,
                                                           got_in, got_out))
        if m.name != case.name or got_in != want_in or got_out != want_out:
            failures.append("signature: expected %r %s -> %s" % (case.name, want_in, want_out))
        sample = np.random.default_rng(0)
        want_dtypes = [np.dtype(i[2](sample, (1,) + i[1]).dtype) if len(i) > 2
                       else np.dtype(np.float32) for i in case.inputs]
        if [s.dtype for s in m.inputs] != want_dtypes or any(
                s.dtype != np.float32 for s in m.outputs):
            failures.append("signature: expected input dtypes %s and float32 outputs, got %s"
                            % (want_dtypes, m.inputs + m.outputs))
        for batch in batches:
            check(m, batch, "embedded")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=sorted(CASES))
    ap.add_argument("--mlp", help="the .mlp file (default: the built-in source of --model)")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--batches", default="1,7,64", help="comma-separated batch sizes")
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, help="input seed (default: fresh from os.urandom)")
    ap.add_argument("--weight-seed", type=int, default=0)
    ap.add_argument("--mlpc-arg", action="append", default=[],
                    help="extra mlpc flag (repeatable)")
    ap.add_argument("--prebuilt", action="store_true",
                    help="use the libraries a --build-only run left in --workdir (for "
                         "machines without mlpc, such as the GPU machine)")
    ap.add_argument("--build-only", action="store_true",
                    help="compile into --workdir and stop")
    ap.add_argument("--device", help="mlpc.load device ('cuda', ...; default: the library's)")
    ap.add_argument("--external-only", action="store_true",
                    help="build and check only the --no-embed-weights library (weights "
                         "read at load time), every batch size")
    ap.add_argument("--no-external-weights", action="store_true",
                    help="skip the --no-embed-weights check")
    args = ap.parse_args(argv)

    case = CASES[args.model]()
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print("model %s: weight seed %d, input seed %d (rerun with --seed %d)"
          % (case.name, args.weight_seed, seed, seed))
    sys.stdout.flush()

    os.makedirs(args.workdir, exist_ok=True)
    params = init_params(case, np.random.default_rng(args.weight_seed))
    weights = os.path.join(args.workdir, "%s.safetensors" % case.name)
    mlpc.save_safetensors(params, weights, metadata={"model": case.name})
    back = mlpc.load_safetensors(weights)
    assert sorted(back) == sorted(params) and all(
        np.array_equal(back[k], params[k]) for k in params), "safetensors round trip"

    mlp = args.mlp
    if mlp is None:
        if case.mlp is None:
            ap.error("--model %s has no built-in source; pass --mlp" % case.name)
        mlp = os.path.join(args.workdir, "%s.mlp" % case.name)
        with open(mlp, "w") as f:
            f.write(case.mlp)

    # Distinct paths: dlopen would hand back an already loaded library of the
    # same path even if the file changed.
    so = os.path.join(args.workdir, "lib%s.so" % case.name)
    so_ext = os.path.join(args.workdir, "lib%s_external.so" % case.name)
    extra = list(args.mlpc_arg)
    if not args.prebuilt:
        if not args.external_only:
            mlpc.compile(mlp, weights=weights, output=so, extra_args=extra)
        if not args.no_external_weights:
            mlpc.compile(mlp, output=so_ext, extra_args=extra + ["--no-embed-weights"])
    if args.build_only:
        print("built %s" % so)
        return 0

    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    failures = []

    def inputs(batch, gen_rng):
        xs = {}
        for name, shape, *gen in case.inputs:
            if gen:
                xs[name] = np.asarray(gen[0](gen_rng, (batch,) + shape))
            else:
                xs[name] = (case.input_scale
                            * gen_rng.standard_normal((batch,) + shape)).astype(np.float32)
        return xs

    def reference(xs):
        return case.reference(p64, {k: v.astype(np.float64) if v.dtype.kind == "f" else v
                                    for k, v in xs.items()})

    # Each output's magnitude over 8 rows of their own, the floor of every denominator.
    scales = [float(np.max(np.abs(w))) if w.size else 0.0
              for w in reference(inputs(8, np.random.default_rng(seed + 1)))]

    def check(model, batch, label):
        xs = inputs(batch, rng)
        out = model.run(xs)
        want = reference(xs)
        results = []
        for (name, shape), w, scale in zip(case.outputs, want, scales):
            y = out[name]
            if y.shape != (batch,) + shape or y.dtype != np.float32:
                failures.append("%s batch %d: output '%s' has %s %s, expected float32 %s"
                                % (label, batch, name, y.dtype, y.shape, (batch,) + shape))
                continue
            err, denom = rel_error(y, w, scale)
            ok = err <= args.rtol  # False for NaN
            print("%s batch %d: output '%s' max relative error %.3e (over %.3e) %s"
                  % (label, batch, name, err, denom, "OK" if ok else "FAIL (rtol %g)" % args.rtol))
            if not ok:
                failures.append("%s batch %d: output '%s' max relative error %.3e > %g"
                                % (label, batch, name, err, args.rtol))
            results.append(y)
        return xs, results

    if args.external_only:
        with mlpc.load(so_ext, weights=weights, device=args.device) as m:
            for batch in batches:
                check(m, batch, "external")
        args.no_external_weights = True
    else:
        check_embedded(so, check, case, batches, failures, args)

    if not args.no_external_weights:
        try:
            mlpc.load(so_ext).close()
            failures.append("external: loading a --no-embed-weights library without "
                            "weights succeeded")
        except mlpc.MlpcError as e:
            print("external: without weights: %s" % e.status)
        with mlpc.load(so_ext, weights=weights, device=args.device) as m:
            batch = min([b for b in batches if b > 1] or [3])
            check(m, batch, "external")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print("reproduce with: --seed %d --weight-seed %d" % (seed, args.weight_seed))
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
