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


# -- 10. Neural fields -----------------------------------------------------------

def siren(p, coords, hidden_layers=3, omega_0=30.0):
    """vsitzmann/siren explore_siren.ipynb Siren with outermost_linear=True:
    SineLayer(x) = sin(omega_0 * linear(x)) for net.0 .. net.{hidden_layers},
    then the plain nn.Linear net.{hidden_layers + 1}."""
    h = f64(coords)
    for i in range(hidden_layers + 1):
        h = np.sin(omega_0 * _lin(p, "net.%d.linear" % i, h))
    return _lin(p, "net.%d" % (hidden_layers + 1), h)


def nerf_embed(x, levels):
    """nerf-pytorch Embedder (include_input, log_sampling, periodic_fns
    [sin, cos]): [x, sin(f0 x), cos(f0 x), sin(f1 x), ...], f_k = 2^k."""
    x = f64(x)
    parts = [x]
    for k in range(levels):
        freq = 2.0 ** k
        parts += [np.sin(x * freq), np.cos(x * freq)]
    return np.concatenate(parts, axis=-1)


def nerf(p, pts, viewdirs, depth=8, skips=(4,), multires=10, multires_views=4):
    """nerf-pytorch NeRF.forward with use_viewdirs on the embedded inputs;
    returns raw = [rgb, alpha]."""
    x = nerf_embed(pts, multires)
    views = nerf_embed(viewdirs, multires_views)
    h = x
    for i in range(depth):
        h = ref.relu(_lin(p, "pts_linears.%d" % i, h))
        if i in skips:
            h = np.concatenate([x, h], axis=-1)
    alpha = _lin(p, "alpha_linear", h)
    feature = _lin(p, "feature_linear", h)
    h = ref.relu(_lin(p, "views_linears.0", np.concatenate([feature, views], axis=-1)))
    rgb = _lin(p, "rgb_linear", h)
    return np.concatenate([rgb, alpha], axis=-1)


# -- 1-3. Vision MLPs (timm mlp_mixer.py) ----------------------------------------

def conv2d_patches(x, weight, bias):
    """Conv2d(C, D, kernel_size=p, stride=p) by its definition,
    out[b, d, h, w] = sum_{c,i,j} x[b, c, h*p + i, w*p + j] W[d, c, i, j] + b[d],
    then timm PatchEmbed's flatten(2).transpose(1, 2): (B, tokens, D)."""
    x, weight = f64(x), f64(weight)
    p = weight.shape[2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (p, p), axis=(2, 3))
    windows = windows[:, :, ::p, ::p]                    # (B, C, H/p, W/p, p, p)
    out = np.einsum("bchwij,dcij->bdhw", windows, weight)
    if bias is not None:
        out = out + f64(bias)[None, :, None, None]
    b, d, h, w = out.shape
    return out.reshape(b, d, h * w).transpose(0, 2, 1)


def mixer_s16(p, image, depth=8):
    """timm MlpMixer (mixer_s16_224): stem conv, MixerBlocks, LayerNorm (eps
    1e-6), token mean, head; the blocks and head as reference.mixer."""
    x = conv2d_patches(image, p["stem.proj.weight"], p["stem.proj.bias"])
    return ref.mixer(p, x, depth=depth, eps=1e-6)
