"""Independent NumPy float64 reference implementations of mlpc's layers and
models, written from the math (and PyTorch's documented semantics), not from
the compiler's IR. Every function takes and returns float64 arrays; parameter
dicts use PyTorch state_dict names and layouts (linear weights are (out, in)).
"""

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def f64(a):
    return np.asarray(a, dtype=np.float64)


# -- layers ----------------------------------------------------------------------

def linear(x, weight, bias=None):
    """y = x W^T + b over the last axis (torch.nn.Linear)."""
    y = f64(x) @ f64(weight).T
    if bias is not None:
        y = y + f64(bias)
    return y


def relu(x):
    return np.maximum(f64(x), 0.0)


def erf(x):
    """math.erf elementwise (exact to double precision)."""
    x = f64(x)
    return _erf(x).astype(np.float64) if x.size else x.copy()


def gelu(x, approximate="none"):
    """torch.nn.functional.gelu: x * Phi(x), or its tanh approximation."""
    x = f64(x)
    if approximate == "none":
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    raise ValueError("approximate must be 'none' or 'tanh', got %r" % (approximate,))


def sigmoid(x):
    # exp(-log(1 + exp(-x))) never overflows.
    return np.exp(-np.logaddexp(0.0, -f64(x)))


def silu(x):
    x = f64(x)
    return x * sigmoid(x)


def tanh(x):
    return np.tanh(f64(x))


def layer_norm(x, weight=None, bias=None, eps=1e-5):
    """torch.nn.LayerNorm over the last axis (biased variance)."""
    x = f64(x)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * f64(weight)
    if bias is not None:
        y = y + f64(bias)
    return y


def transpose(x, d0, d1):
    return np.swapaxes(f64(x), d0, d1)


def mean(x, axis):
    return f64(x).mean(axis=axis)


ACTIVATIONS = {
    "relu": relu,
    "gelu": lambda x: gelu(x, "none"),
    "gelu_tanh": lambda x: gelu(x, "tanh"),
    "silu": silu,
    "sigmoid": sigmoid,
    "tanh": tanh,
}


def _lin(params, name, x):
    return linear(x, params[name + ".weight"], params.get(name + ".bias"))


# -- models ----------------------------------------------------------------------

def tabular_mlp(params, x):
    """models/tabular_mlp.mlp: 128 -> 512 -> 512 -> 512 -> 1, ReLU between."""
    h = relu(_lin(params, "fc1", x))
    h = relu(_lin(params, "fc2", h))
    h = relu(_lin(params, "fc3", h))
    return _lin(params, "head", h)


def mixer(params, x, depth=2, eps=1e-6):
    """timm's MlpMixer after the stem (models/mixer_tiny.mlp): x is (N, tokens,
    channels) of already-embedded patches; returns (N, classes) logits.

        for each MixerBlock:
            x = x + mlp_tokens(norm1(x).transpose(1, 2)).transpose(1, 2)
            x = x + mlp_channels(norm2(x))
        logits = head(norm(x).mean(dim=1))
    with Mlp = fc1 -> GELU (erf) -> fc2.
    """
    x = f64(x)

    def ln(name, v):
        return layer_norm(v, params[name + ".weight"], params[name + ".bias"], eps)

    def mlp(name, v):
        return _lin(params, name + ".fc2", gelu(_lin(params, name + ".fc1", v)))

    for i in range(depth):
        b = "blocks.%d." % i
        t = transpose(ln(b + "norm1", x), 1, 2)
        x = x + transpose(mlp(b + "mlp_tokens", t), 1, 2)
        x = x + mlp(b + "mlp_channels", ln(b + "norm2", x))
    return _lin(params, "head", mean(ln("norm", x), axis=1))
