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


def resmlp(p, image, depth=12):
    """timm MlpMixer with ResBlock and Affine (resmlp_12_224):
        affine(x) = beta + alpha * x
        x = x + ls1 * linear_tokens(norm1(x).transpose(1, 2)).transpose(1, 2)
        x = x + ls2 * mlp_channels(norm2(x))          # fc1, GELU (erf), fc2
        logits = head(norm(x).mean(1))"""
    def affine(name, v):
        return f64(p[name + ".beta"]) + f64(p[name + ".alpha"]) * v

    x = conv2d_patches(image, p["stem.proj.weight"], p["stem.proj.bias"])
    for i in range(depth):
        b = "blocks.%d." % i
        t = _lin(p, b + "linear_tokens", affine(b + "norm1", x).transpose(0, 2, 1))
        x = x + f64(p[b + "ls1"]) * t.transpose(0, 2, 1)
        h = ref.gelu(_lin(p, b + "mlp_channels.fc1", affine(b + "norm2", x)))
        x = x + f64(p[b + "ls2"]) * _lin(p, b + "mlp_channels.fc2", h)
    return _lin(p, "head", affine("norm", x).mean(axis=1))


def gmlp(p, image, depth=30):
    """timm MlpMixer with SpatialGatingBlock (gmlp_s16_224):
        h = gelu(fc1(LN_1e-6(x)));  u, v = h.chunk(2, -1)
        v = proj(LN_1e-5(v).transpose(-1, -2)).transpose(-1, -2)
        x = x + fc2(u * v)
        logits = head(LN_1e-6(x).mean(1))"""
    x = conv2d_patches(image, p["stem.proj.weight"], p["stem.proj.bias"])
    for i in range(depth):
        b = "blocks.%d.mlp_channels." % i
        h = ref.gelu(_lin(p, b + "fc1", _ln(p, "blocks.%d.norm" % i, x, 1e-6)))
        u, v = np.split(h, 2, axis=-1)
        v = _ln(p, b + "gate.norm", v, 1e-5)
        v = _lin(p, b + "gate.proj", v.transpose(0, 2, 1)).transpose(0, 2, 1)
        x = x + _lin(p, b + "fc2", u * v)
    return _lin(p, "head", _ln(p, "norm", x, 1e-6).mean(axis=1))


# -- 9. Kolmogorov-Arnold networks ----------------------------------------------

def silu(x):
    return ref.silu(x)


def bspline_basis(x, grid, order):
    """B-splines of degree `order` by the Cox-de Boor recursion on each
    feature's knots: x (B, F), grid (F, T) -> (B, F, T - 1 - order), with
    half-open degree-0 intervals [g_j, g_{j+1})."""
    x = f64(x)[:, :, None]
    g = f64(grid)[None, :, :]
    bases = ((x >= g[:, :, :-1]) & (x < g[:, :, 1:])).astype(np.float64)
    for p in range(1, order + 1):
        n = bases.shape[-1] - 1
        left = (x - g[:, :, :n]) / (g[:, :, p:p + n] - g[:, :, :n])
        right = (g[:, :, p + 1:p + 1 + n] - x) / (g[:, :, p + 1:p + 1 + n] - g[:, :, 1:1 + n])
        bases = left * bases[:, :, :-1] + right * bases[:, :, 1:]
    return bases


def efficient_kan(p, x, layers=2, order=3):
    """Blealtan/efficient-kan KAN of KANLinear layers:
        y = silu(x) W_base^T + B(x).flatten(1) (W_spline * scaler[..., None]).flatten(1)^T"""
    h = f64(x)
    for l in range(layers):
        b = "layers.%d." % l
        base = silu(h) @ f64(p[b + "base_weight"]).T
        w = f64(p[b + "spline_weight"]) * f64(p[b + "spline_scaler"])[:, :, None]
        bases = bspline_basis(h, p[b + "grid"], order)
        h = base + bases.reshape(h.shape[0], -1) @ w.reshape(w.shape[0], -1).T
    return h


def fast_kan(p, x, layers=2, grid_min=-2.0, grid_max=2.0, num_grids=8):
    """ZiyaoLi/fast-kan FastKAN of FastKANLayer:
        phi = exp(-((LN(x)[..., None] - grid) / h) ** 2),  h = (max - min) / (G - 1)
        y = spline_linear(phi.flatten(1)) + base_linear(silu(x))"""
    h = (grid_max - grid_min) / (num_grids - 1)
    v = f64(x)
    for l in range(layers):
        b = "layers.%d." % l
        z = _ln(p, b + "layernorm", v, 1e-5)
        phi = np.exp(-((z[..., None] - f64(p[b + "rbf.grid"])) / h) ** 2)
        v = _lin(p, b + "spline_linear", phi.reshape(v.shape[0], -1)) \
            + _lin(p, b + "base_linear", silu(v))
    return v


# -- 5. TabM -----------------------------------------------------------------------

def tabm(p, x_num, k=32, blocks=3):
    """yandex-research/tabm TabM (arch_type 'tabm', numeric features only):
        x = x_num[:, None, :] broadcast to k members
        x = relu(((x * r_i) @ W_i^T) * s_i + bias_i)          LinearBatchEnsemble
        y[b, m] = x[b, m] @ output.weight[m] + output.bias[m]   LinearEnsemble (k, in, out)
    Returns [members (B, k, out), their mean (B, out)]."""
    x = np.broadcast_to(f64(x_num)[:, None, :], (x_num.shape[0], k, x_num.shape[1]))
    for i in range(blocks):
        b = "backbone.blocks.%d.0." % i
        x = ref.relu(((x * f64(p[b + "r"])) @ f64(p[b + "weight"]).T) * f64(p[b + "s"])
                     + f64(p[b + "bias"]))
    y = np.einsum("bki,kio->bko", x, f64(p["output.weight"])) + f64(p["output.bias"])
    return [y, y.mean(axis=1)]


# -- 6. TSMixer --------------------------------------------------------------------

def batch_norm(p, name, x, eps=1e-5):
    """torch.nn.BatchNorm1d in eval mode over the last axis."""
    return ((f64(x) - f64(p[name + ".running_mean"])) / np.sqrt(f64(p[name + ".running_var"]) + eps)
            * f64(p[name + ".weight"]) + f64(p[name + ".bias"]))


def tsmixer(p, x_hist, layers=2):
    """ditschuk/pytorch-tsmixer TSMixer (normalize_before, TimeBatchNorm2d):
        TimeMixing:    x = TBN(x + relu(fc1(x^T))^T)
        FeatureMixing: x = x + fc2(relu(fc1(TBN(x))))
        y = temporal_projection(x^T)^T
    TBN = BatchNorm1d(L * C) on x.reshape(N, L * C)."""
    x = f64(x_hist)
    n, length, channels = x.shape

    def tbn(name, v):
        return batch_norm(p, name, v.reshape(n, length * channels)).reshape(n, length, channels)

    for l in range(layers):
        b = "mixer_layers.%d." % l
        t = ref.relu(_lin(p, b + "time_mixing.fc1", x.transpose(0, 2, 1))).transpose(0, 2, 1)
        x = tbn(b + "time_mixing.norm", x + t)
        h = ref.relu(_lin(p, b + "feature_mixing.fc1", tbn(b + "feature_mixing.norm_before", x)))
        x = x + _lin(p, b + "feature_mixing.fc2", h)
    return _lin(p, "temporal_projection", x.transpose(0, 2, 1)).transpose(0, 2, 1)


# -- 7. SOFTS ----------------------------------------------------------------------

def softmax(x, axis):
    x = f64(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softs(p, x_enc, layers=2):
    """Secilia-Cxy/SOFTS Model.forecast in eval mode (use_norm, no time marks):
    instance normalization over time, inverted embedding (one token per
    series), EncoderLayers of STAR + Conv1d(k=1) FFN with post-norms,
    projection to the horizon, de-normalization."""
    x = f64(x_enc)
    means = x.mean(axis=1, keepdims=True)
    x = x - means
    stdev = np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)        # biased
    x = x / stdev
    h = _lin(p, "enc_embedding.value_embedding", x.transpose(0, 2, 1))
    for l in range(layers):
        b = "encoder.attn_layers.%d." % l
        core = _lin(p, b + "attention.gen2", ref.gelu(_lin(p, b + "attention.gen1", h)))
        weight = softmax(core, axis=1)
        pooled = (core * weight).sum(axis=1, keepdims=True)
        pooled = np.repeat(pooled, h.shape[1], axis=1)
        o = _lin(p, b + "attention.gen4",
                 ref.gelu(_lin(p, b + "attention.gen3", np.concatenate([h, pooled], -1))))
        h = _ln(p, b + "norm1", h + o, 1e-5)
        # Conv1d(k=1) on h.transpose(-1, 1): out[b, o, n] = sum_i W[o, i, 0] h[b, n, i] + bias[o]
        w1, w2 = f64(p[b + "conv1.weight"]), f64(p[b + "conv2.weight"])
        y = ref.gelu(np.einsum("oi,bni->bno", w1[:, :, 0], h) + f64(p[b + "conv1.bias"]))
        y = np.einsum("oi,bni->bno", w2[:, :, 0], y) + f64(p[b + "conv2.bias"])
        h = _ln(p, b + "norm2", h + y, 1e-5)
    out = _lin(p, "projection", h).transpose(0, 2, 1)
    return out * stdev + means


# -- 8. CTR models (FuxiCTR) ----------------------------------------------------------

def embedding(table, ids):
    """nn.Embedding lookup; ids outside the table give zero rows (the
    compiled models' convention; PyTorch raises an error)."""
    table = f64(table)
    ids = np.asarray(ids)
    inside = (ids >= 0) & (ids < table.shape[0])
    return np.where(inside[..., None], table[np.where(inside, ids, 0)], 0.0)


FRAPPE_FIELDS = [("user", 959), ("item", 4084), ("daytime", 9), ("weekday", 9),
                 ("isweekend", 4), ("homework", 5), ("cost", 4), ("weather", 11),
                 ("country", 82), ("city", 235)]


def finalmlp(p, x, heads=2):
    """reczoo/FuxiCTR FinalMLP.forward without context features, written after
    the reference's own operations (FeatureSelection, InteractionAggregation
    with its two matmuls)."""
    emb = "embedding_layer.embedding_layer.embedding_layers."
    flat = np.stack([embedding(p[emb + f + ".weight"], x[f]) for f, _ in FRAPPE_FIELDS],
                    axis=1)
    flat = flat.reshape(flat.shape[0], -1)
    b = flat.shape[0]

    def mlp(prefix, v, n, out_act=None):
        for i in range(n):
            v = _lin(p, "%s.mlp.%d" % (prefix, 2 * i), v)
            if i + 1 < n or out_act is None:
                v = ref.relu(v) if out_act is None or i + 1 < n else v
        return out_act(v) if out_act else v

    def gate(k):
        ctx = np.repeat(f64(p["fs_module.fs%d_ctx_bias" % k]), b, axis=0)
        return mlp("fs_module.fs%d_gate" % k, ctx, 3, ref.sigmoid) * 2
    feat1, feat2 = flat * gate(1), flat * gate(2)
    h1, h2 = mlp("mlp1", feat1, 2), mlp("mlp2", feat2, 3)
    out = _lin(p, "fusion_module.w_x", h1) + _lin(p, "fusion_module.w_y", h2)
    hx = h1.reshape(b, heads, -1)
    hy = h2.reshape(b, heads, -1)
    w_xy = f64(p["fusion_module.w_xy"])
    xy = np.matmul(np.matmul(hx[:, :, None, :], w_xy.reshape(heads, hx.shape[2], -1))
                   .reshape(b, heads, 1, hy.shape[2]), hy[:, :, :, None])[..., 0]
    out = out + xy.sum(axis=1)
    return ref.sigmoid(out)


def din(p, x, seq_len=50, d=10):
    """reczoo/FuxiCTR DIN.forward with DIN_Attention (Dice, no softmax) on one
    target (item_id, cate_id) / sequence (click_history, cate_history) pair;
    the sequences share the item and category tables."""
    emb = "embedding_layer.embedding_layers."
    e = {f: embedding(p[emb + f + ".weight"], x[f]) for f in ("user_id", "item_id", "cate_id")}
    e["click_history"] = embedding(p[emb + "item_id.weight"], x["click_history"])
    e["cate_history"] = embedding(p[emb + "cate_id.weight"], x["cate_history"])
    target = np.concatenate([e["item_id"], e["cate_id"]], -1)
    sequence = np.concatenate([e["click_history"], e["cate_history"]], -1)
    mask = x["click_history"] != 0
    b = target.shape[0]
    target = np.broadcast_to(target[:, None, :], sequence.shape)
    a = np.concatenate([target, sequence, target - sequence, target * sequence], -1)
    a = a.reshape(-1, a.shape[-1])
    att = "attention_layers.0.attention_layer.mlp."
    h = _lin(p, att + "0", a)
    bn = (h - f64(p[att + "1.bn.running_mean"])) / np.sqrt(f64(p[att + "1.bn.running_var"]) + 1e-9)
    prob = ref.sigmoid(bn)
    h = prob * h + f64(p[att + "1.alpha"]) * (1 - prob) * h
    w = _lin(p, att + "2", h).reshape(b, seq_len) * mask
    pooled = (w[:, :, None] * sequence).sum(axis=1)
    e["click_history"], e["cate_history"] = pooled[:, :d], pooled[:, d:]
    z = np.concatenate([e[f] for f in ("user_id", "item_id", "cate_id", "click_history",
                                        "cate_history")], -1)
    for i in (0, 2, 4):
        z = ref.relu(_lin(p, "dnn.mlp.%d" % i, z))
    return ref.sigmoid(_lin(p, "dnn.mlp.6", z))


# -- 4. PoolFormer -------------------------------------------------------------------

def conv2d_nchw(x, weight, bias, stride, padding):
    """torch.nn.functional.conv2d on NCHW by its definition (zero padding)."""
    x = np.pad(f64(x), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    weight = f64(weight)
    k = weight.shape[2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]              # (B, C, OH, OW, k, k)
    out = np.einsum("bchwij,ocij->bohw", windows, weight)
    return out if bias is None else out + f64(bias)[None, :, None, None]


def group_norm1(x, weight, bias, eps=1e-5):
    """nn.GroupNorm(1, C) on NCHW: statistics over (C, H, W) per sample."""
    x = f64(x)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = x.var(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * f64(weight)[None, :, None, None] \
        + f64(bias)[None, :, None, None]


def avg_pool3x3_exclude_pad(x):
    """nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False) on NCHW."""
    x = f64(x)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ones = np.pad(np.ones(x.shape[2:]), 1)
    total = sum(padded[:, :, i:i + x.shape[2], j:j + x.shape[3]]
                for i in range(3) for j in range(3))
    count = sum(ones[i:i + x.shape[2], j:j + x.shape[3]] for i in range(3) for j in range(3))
    return total / count


def poolformer(p, image, depths=(2, 2, 6, 2)):
    """timm MetaFormer poolformer_s12 (v1: GroupNorm1, Pooling, 1x1-conv Mlp,
    LayerScale; stem and downsampling without norm; head: global average
    pool, LayerNorm2d eps 1e-6, fc), in NCHW as the reference."""
    x = conv2d_nchw(image, p["stem.conv.weight"], p["stem.conv.bias"], 4, 2)
    for s, depth in enumerate(depths):
        if s > 0:
            d = "stages.%d.downsample.conv." % s
            x = conv2d_nchw(x, p[d + "weight"], p[d + "bias"], 2, 1)
        for j in range(depth):
            b = "stages.%d.blocks.%d." % (s, j)

            def scale(name, v):
                return f64(p[b + name + ".scale"])[None, :, None, None] * v
            y = group_norm1(x, p[b + "norm1.weight"], p[b + "norm1.bias"])
            x = x + scale("layer_scale1", avg_pool3x3_exclude_pad(y) - y)
            y = group_norm1(x, p[b + "norm2.weight"], p[b + "norm2.bias"])
            w1, w2 = f64(p[b + "mlp.fc1.weight"])[:, :, 0, 0], f64(p[b + "mlp.fc2.weight"])[:, :, 0, 0]
            h = ref.gelu(np.einsum("oc,bchw->bohw", w1, y) + f64(p[b + "mlp.fc1.bias"])[None, :, None, None])
            h = np.einsum("oc,bchw->bohw", w2, h) + f64(p[b + "mlp.fc2.bias"])[None, :, None, None]
            x = x + scale("layer_scale2", h)
    pooled = x.mean(axis=(2, 3))
    return _lin(p, "head.fc", _ln(p, "head.norm", pooled, 1e-6))
