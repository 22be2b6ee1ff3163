"""Independent NumPy float64 reference implementations of the model zoo
(models/*.mlp), written from the papers and from the reference code's
semantics as recorded in shared/reference/models.md, never from the
compiler's IR. Parameter dicts use the reference implementations' state_dict
names and layouts; every function takes and returns float64 arrays whose
leading dimension is the batch.
"""

import numpy as np

import reference as ref
from reference import f64


def _lin(p, name, x):
    return ref.linear(x, p[name + ".weight"], p.get(name + ".bias"))


def _ln(p, name, x, eps):
    return ref.layer_norm(x, p[name + ".weight"], p[name + ".bias"], eps)


# -- 12. Scaling MLPs ------------------------------------------------------------

def scaling_mlp(p, image, blocks=6):
    """gregorbachmann/scaling_mlps BottleneckMLP (models/networks.py):

        x = linear_in(flatten(image))
        for i: x = x + blocks[i](layernorms[i](x))       # block = Linear, GELU, Linear
        return linear_out(x)
    nn.LayerNorm default eps 1e-5, nn.GELU exact; dropout is the identity.
    """
    x = f64(image).reshape(image.shape[0], -1)
    x = _lin(p, "linear_in", x)
    for i in range(blocks):
        h = _ln(p, "layernorms.%d" % i, x, 1e-5)
        h = ref.gelu(_lin(p, "blocks.%d.block.0" % i, h))
        x = x + _lin(p, "blocks.%d.block.2" % i, h)
    return _lin(p, "linear_out", x)


# -- 11. Transcoder --------------------------------------------------------------

def transcoder(p, x):
    """jacobdunefsky/transcoder_circuits SparseAutoencoder.forward with
    is_transcoder: weights are (in, out) matrices used as x @ W.

        feature_acts = relu((x - b_dec) @ W_enc + b_enc)
        sae_out = feature_acts @ W_dec + b_dec_out
    Returns [sae_out, feature_acts].
    """
    sae_in = f64(x) - f64(p["b_dec"])
    acts = ref.relu(np.einsum("bi,io->bo", sae_in, f64(p["W_enc"])) + f64(p["b_enc"]))
    out = np.einsum("bs,so->bo", acts, f64(p["W_dec"])) + f64(p["b_dec_out"])
    return [out, acts]
