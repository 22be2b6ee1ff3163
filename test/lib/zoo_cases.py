"""End-to-end cases of the model zoo (models/*.mlp) for e2e_check.py.

Each case lists the parameters with their state_dict names, shapes and random
initialisation, the inputs and outputs, and the float64 reference from
zoo_reference.py. register() receives e2e_check's helpers, so that this file
does not import the script that runs it.
"""

import math

import numpy as np

import zoo_reference as zoo


def uniform(bound):
    """init(rng, shape): U(-bound, bound)."""
    return lambda rng, shape: rng.uniform(-bound, bound, shape)


def register(Case, linear_params, ln_params):
    """Returns {model name: function building its Case}."""

    def scaling_mlp():
        # B_6-Wi_1024: 74,469,342 parameters (74 M in the paper's README).
        params = {}
        params.update(linear_params("linear_in", 12288, 1024))
        for i in range(6):
            params.update(ln_params("layernorms.%d" % i, 1024))
            params.update(linear_params("blocks.%d.block.0" % i, 1024, 4096))
            params.update(linear_params("blocks.%d.block.2" % i, 4096, 1024))
        params.update(linear_params("linear_out", 1024, 11230))
        return Case("scaling_mlp_b6_wi1024", params, [("image", (3, 64, 64))],
                    [("logits", (11230,))],
                    lambda p, x: [zoo.scaling_mlp(p, x["image"])])

    def transcoder():
        # GPT-2 small, d_in = d_out = 768, d_sae = 24576: (in, out) weights.
        # b_enc in [-1, -0.6] makes about 11% of the features fire (trained
        # transcoders are sparser still). With half of them firing (zero
        # biases), the decoder's fp32 sum over ~12 K random terms alone
        # drifts by about sqrt(K) * eps, up to 9e-6 of the output: too close
        # to the 1e-5 tolerance; here the errors stay below 4e-6.
        d, s = 768, 24576
        params = {
            "W_enc": ((d, s), "linear:%d" % d),
            "b_enc": ((s,), lambda rng, shape: rng.uniform(-1.0, -0.6, shape)),
            "W_dec": ((s, d), "linear:%d" % s),
            "b_dec": ((d,), "normal"),
            "b_dec_out": ((d,), "normal"),
        }
        return Case("transcoder_gpt2", params, [("x", (d,))],
                    [("sae_out", (d,)), ("feature_acts", (s,))],
                    lambda p, x: zoo.transcoder(p, x["x"]))

    def siren():
        # SIREN's own initialization (explore_siren.ipynb): first layer
        # U(-1/in, 1/in), later ones U(+-sqrt(6/in)/30); PyTorch's default
        # bias init. With it omega_0 (W x + b) stays of order 1.
        params = {}
        for i, fan_in in enumerate([2, 256, 256, 256]):
            bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / 30.0
            params["net.%d.linear.weight" % i] = ((256, fan_in), uniform(bound))
            params["net.%d.linear.bias" % i] = ((256,), "linear:%d" % fan_in)
        params["net.4.weight"] = ((1, 256), uniform(math.sqrt(6.0 / 256) / 30.0))
        params["net.4.bias"] = ((1,), "offset")
        # Inputs N(0, 0.5^2): mostly inside the [-1, 1] of image coordinates.
        return Case("siren", params, [("coords", (2,))], [("y", (1,))],
                    lambda p, x: [zoo.siren(p, x["coords"])], input_scale=0.5)

    def nerf():
        params = {}
        fan_ins = [63, 256, 256, 256, 256, 256 + 63, 256, 256]
        for i, fan_in in enumerate(fan_ins):
            params.update(linear_params("pts_linears.%d" % i, fan_in, 256))
        params.update(linear_params("alpha_linear", 256, 1))
        params.update(linear_params("feature_linear", 256, 256))
        params.update(linear_params("views_linears.0", 256 + 27, 128))
        params.update(linear_params("rgb_linear", 128, 3))
        return Case("nerf", params, [("pts", (3,)), ("viewdirs", (3,))], [("raw", (4,))],
                    lambda p, x: [zoo.nerf(p, x["pts"], x["viewdirs"])])

    def mixer_s16():
        c, tokens, ds, dc, depth = 512, 196, 256, 2048, 8
        params = {
            "stem.proj.weight": ((c, 3, 16, 16), "linear:%d" % (3 * 16 * 16)),
            "stem.proj.bias": ((c,), "linear:%d" % (3 * 16 * 16)),
        }
        for i in range(depth):
            b = "blocks.%d." % i
            params.update(ln_params(b + "norm1", c))
            params.update(linear_params(b + "mlp_tokens.fc1", tokens, ds))
            params.update(linear_params(b + "mlp_tokens.fc2", ds, tokens))
            params.update(ln_params(b + "norm2", c))
            params.update(linear_params(b + "mlp_channels.fc1", c, dc))
            params.update(linear_params(b + "mlp_channels.fc2", dc, c))
        params.update(ln_params("norm", c))
        params.update(linear_params("head", c, 1000))
        return Case("mixer_s16_224", params, [("image", (3, 224, 224))],
                    [("logits", (1000,))],
                    lambda p, x: [zoo.mixer_s16(p, x["image"], depth=depth)])

    def patch_embed():
        # Two patch sizes on a non-square image, with and without bias; run
        # with external weights too (4-D weights re-laid by the runtime).
        mlp = """# patch_embed: 16x16 and 8x8 patches of a 32 x 48 image
model patch_embed {
  input image: f32[N, 3, 32, 48]
  output tokens = patch_embed(image, size=16, dim=24) @stem.proj
  output pooled = patch_embed(image, size=8, dim=5, bias=false) @stem2 |> mean(axis=1)
}
"""
        params = {
            "stem.proj.weight": ((24, 3, 16, 16), "linear:768"),
            "stem.proj.bias": ((24,), "linear:768"),
            "stem2.weight": ((5, 3, 8, 8), "linear:192"),
        }

        def reference(p, x):
            img = x["image"]
            tokens = zoo.conv2d_patches(img, p["stem.proj.weight"], p["stem.proj.bias"])
            pooled = zoo.conv2d_patches(img, p["stem2.weight"], None).mean(axis=1)
            return [tokens, pooled]
        return Case("patch_embed", params, [("image", (3, 32, 48))],
                    [("tokens", (6, 24)), ("pooled", (5,))], reference, mlp=mlp)

    def resmlp():
        c, tokens, dc, depth = 384, 196, 1536, 12
        params = {
            "stem.proj.weight": ((c, 3, 16, 16), "linear:%d" % (3 * 16 * 16)),
            "stem.proj.bias": ((c,), "linear:%d" % (3 * 16 * 16)),
        }

        def affine_params(name):
            # alpha near 1 and beta near 0, like LayerNorm's affine part.
            return {name + ".alpha": ((1, 1, c), "ln_weight"),
                    name + ".beta": ((1, 1, c), "ln_bias")}
        for i in range(depth):
            b = "blocks.%d." % i
            params.update(affine_params(b + "norm1"))
            params.update(linear_params(b + "linear_tokens", tokens, tokens))
            params.update(affine_params(b + "norm2"))
            params.update(linear_params(b + "mlp_channels.fc1", c, dc))
            params.update(linear_params(b + "mlp_channels.fc2", dc, c))
            # LayerScale of order 1 (checkpoints start at 1e-4), so that every
            # block matters to the output.
            params[b + "ls1"] = ((c,), "ln_weight")
            params[b + "ls2"] = ((c,), "ln_weight")
        params.update(affine_params("norm"))
        params.update(linear_params("head", c, 1000))
        return Case("resmlp_12_224", params, [("image", (3, 224, 224))],
                    [("logits", (1000,))],
                    lambda p, x: [zoo.resmlp(p, x["image"], depth=depth)])

    def gmlp(depth):
        c, tokens, d = 256, 196, 1536
        params = {
            "stem.proj.weight": ((c, 3, 16, 16), "linear:%d" % (3 * 16 * 16)),
            "stem.proj.bias": ((c,), "linear:%d" % (3 * 16 * 16)),
        }
        for i in range(depth):
            b = "blocks.%d." % i
            params.update(ln_params(b + "norm", c))
            params.update(linear_params(b + "mlp_channels.fc1", c, d))
            params.update(ln_params(b + "mlp_channels.gate.norm", d // 2))
            params.update(linear_params(b + "mlp_channels.gate.proj", tokens, tokens))
            params.update(linear_params(b + "mlp_channels.fc2", d // 2, c))
        params.update(ln_params("norm", c))
        params.update(linear_params("head", c, 1000))
        return Case("gmlp_s16_224", params, [("image", (3, 224, 224))],
                    [("logits", (1000,))],
                    lambda p, x: [zoo.gmlp(p, x["image"], depth=depth)])

    def efficient_kan():
        # KAN([784, 64, 10]), G = 5, K = 3. Knot grids as after update_grid:
        # efficient-kan's uniform grid on [-1, 1] (step 0.4, extended by K
        # steps each side), moved per feature by up to 0.1 and kept sorted.
        def knots(rng, shape):
            uniform = (np.arange(-3, 5 + 3 + 1) * 0.4 - 1.0)[None, :]
            return uniform + rng.uniform(-0.1, 0.1, shape)
        params = {}
        for l, (fin, fout) in enumerate([(784, 64), (64, 10)]):
            b = "layers.%d." % l
            params[b + "grid"] = ((fin, 12), knots)
            params[b + "base_weight"] = ((fout, fin), "linear:%d" % fin)
            params[b + "spline_weight"] = ((fout, fin, 8), uniform(0.5))
            params[b + "spline_scaler"] = ((fout, fin), "linear:%d" % fin)
        # Inputs N(0, 0.7^2): most inside the grid, some outside it.
        return Case("efficient_kan_mnist", params, [("x", (784,))], [("y", (10,))],
                    lambda p, x: [zoo.efficient_kan(p, x["x"])], input_scale=0.7)

    def fast_kan():
        # FastKAN([784, 64, 10]); the RBF grid as stored: linspace(-2, 2, 8),
        # moved by up to 0.05 so that a grid read as its defaults would fail.
        def rbf_grid(rng, shape):
            return np.linspace(-2.0, 2.0, 8) + rng.uniform(-0.05, 0.05, shape)
        params = {}
        for l, (fin, fout) in enumerate([(784, 64), (64, 10)]):
            b = "layers.%d." % l
            params.update(ln_params(b + "layernorm", fin))
            params[b + "rbf.grid"] = ((8,), rbf_grid)
            params[b + "spline_linear.weight"] = ((fout, fin * 8), uniform(0.1))
            params.update(linear_params(b + "base_linear", fin, fout))
        return Case("fast_kan_mnist", params, [("x", (784,))], [("y", (10,))],
                    lambda p, x: [zoo.fast_kan(p, x["x"])])

    def tabm():
        # TabM.make defaults: W ~ U(+-1/sqrt(in)); r, s of order 1 (random
        # signs / ones at init; trained values vary), biases per member.
        def signs(rng, shape):
            return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
        params = {}
        for i, fin in enumerate([8, 512, 512]):
            b = "backbone.blocks.%d.0." % i
            params[b + "weight"] = ((512, fin), "linear:%d" % fin)
            params[b + "r"] = ((32, fin), signs)
            params[b + "s"] = ((32, 512), signs)
            params[b + "bias"] = ((32, 512), "linear:%d" % fin)
        params["output.weight"] = ((32, 512, 1), "linear:512")
        # A trained head's bias sits near the target's mean (California house
        # values: about 2). With U(+-1/sqrt(512)) biases the ensemble mean 'y'
        # cancels to ~1e-4 of its members, and the fp32 rounding of the 32
        # members alone reached 1.05e-5 of it (a flaky CI failure).
        params["output.bias"] = ((32, 1), "offset")
        return Case("tabm_california", params, [("x_num", (8,))],
                    [("y_members", (32, 1)), ("y", (1,))],
                    lambda p, x: zoo.tabm(p, x["x_num"]))

    def tsmixer():
        length, channels, ff, horizon = 336, 7, 64, 96

        def bn_params(name, n):
            # Running statistics of a trained model: means around 0,
            # variances around 1 (positive).
            return {name + ".weight": ((n,), "ln_weight"), name + ".bias": ((n,), "ln_bias"),
                    name + ".running_mean": ((n,), "ln_bias"),
                    name + ".running_var": ((n,), lambda rng, shape: rng.uniform(0.5, 2.0, shape))}
        params = {}
        for l in range(2):
            b = "mixer_layers.%d." % l
            params.update(bn_params(b + "time_mixing.norm", length * channels))
            params.update(linear_params(b + "time_mixing.fc1", length, length))
            params.update(bn_params(b + "feature_mixing.norm_before", length * channels))
            params.update(linear_params(b + "feature_mixing.fc1", channels, ff))
            params.update(linear_params(b + "feature_mixing.fc2", ff, channels))
        params.update(linear_params("temporal_projection", length, horizon))
        return Case("tsmixer_etth1", params, [("x_hist", (length, channels))],
                    [("y", (horizon, channels))],
                    lambda p, x: [zoo.tsmixer(p, x["x_hist"])])

    def softs():
        length, series, d, dc, ff, horizon = 96, 21, 512, 512, 2048, 96
        params = {}
        params.update(linear_params("enc_embedding.value_embedding", length, d))
        for l in range(2):
            b = "encoder.attn_layers.%d." % l
            params.update(linear_params(b + "attention.gen1", d, d))
            params.update(linear_params(b + "attention.gen2", d, dc))
            params.update(linear_params(b + "attention.gen3", d + dc, d))
            params.update(linear_params(b + "attention.gen4", d, d))
            params[b + "conv1.weight"] = ((ff, d, 1), "linear:%d" % d)
            params[b + "conv1.bias"] = ((ff,), "linear:%d" % d)
            params[b + "conv2.weight"] = ((d, ff, 1), "linear:%d" % ff)
            params[b + "conv2.bias"] = ((d,), "linear:%d" % ff)
            params.update(ln_params(b + "norm1", d))
            params.update(ln_params(b + "norm2", d))
        params.update(linear_params("projection", d, horizon))
        return Case("softs_weather", params, [("x_enc", (length, series))],
                    [("y", (horizon, series))],
                    lambda p, x: [zoo.softs(p, x["x_enc"])])

    def ids(vocabulary):
        """gen(rng, shape): int64 ids, mostly valid, some 0 (padding) and a
        few out of the vocabulary (zero embeddings)."""
        def gen(rng, shape):
            return rng.integers(-2, vocabulary + 2, shape).astype(np.int64)
        return gen

    def finalmlp():
        d, fields = 16, zoo.FRAPPE_FIELDS
        emb = "embedding_layer.embedding_layer.embedding_layers."
        params = {}
        for f, vocabulary in fields:
            params[emb + f + ".weight"] = ((vocabulary, d), "normal")
        width = d * len(fields)
        for k in (1, 2):
            params["fs_module.fs%d_ctx_bias" % k] = ((1, d), "normal")
            g = "fs_module.fs%d_gate.mlp." % k
            params.update(linear_params(g + "0", d, 1024))
            params.update(linear_params(g + "2", 1024, 512))
            params.update(linear_params(g + "4", 512, width))
        params.update(linear_params("mlp1.mlp.0", width, 1024))
        params.update(linear_params("mlp1.mlp.2", 1024, 512))
        params.update(linear_params("mlp2.mlp.0", width, 1024))
        params.update(linear_params("mlp2.mlp.2", 1024, 512))
        params.update(linear_params("mlp2.mlp.4", 512, 256))
        params.update(linear_params("fusion_module.w_x", 512, 1))
        params.update(linear_params("fusion_module.w_y", 256, 1))
        params["fusion_module.w_xy"] = ((2 * 256 * 128, 1), uniform(0.02))
        inputs = [(f, (), ids(vocabulary)) for f, vocabulary in fields]
        return Case("finalmlp_frappe", params, inputs, [("y_pred", (1,))],
                    lambda p, x: [zoo.finalmlp(p, x)])

    def din():
        d = 10
        vocab = {"user_id": 192405, "item_id": 63003, "cate_id": 803}
        emb = "embedding_layer.embedding_layers."
        params = {emb + f + ".weight": ((n, d), "normal") for f, n in vocab.items()}
        att = "attention_layers.0.attention_layer.mlp."
        params.update(linear_params(att + "0", 8 * d, 64))
        params[att + "1.alpha"] = ((64,), "normal")
        params[att + "1.bn.running_mean"] = ((64,), "ln_bias")
        params[att + "1.bn.running_var"] = ((64,), lambda rng, shape: rng.uniform(0.5, 2.0, shape))
        params.update(linear_params(att + "2", 64, 1))
        for i, (fin, fout) in enumerate([(5 * d, 512), (512, 128), (128, 64), (64, 1)]):
            params.update(linear_params("dnn.mlp.%d" % (2 * i), fin, fout))

        def history(vocabulary):
            # Histories padded with 0 at the end, of random lengths.
            def gen(rng, shape):
                h = rng.integers(1, vocabulary, shape).astype(np.int64)
                lengths = rng.integers(0, shape[1] + 1, shape[0])
                h[np.arange(shape[1])[None, :] >= lengths[:, None]] = 0
                return h
            return gen
        inputs = [("user_id", (), ids(vocab["user_id"])), ("item_id", (), ids(vocab["item_id"])),
                  ("cate_id", (), ids(vocab["cate_id"])),
                  ("click_history", (50,), history(vocab["item_id"])),
                  ("cate_history", (50,), history(vocab["cate_id"]))]
        return Case("din_amazon", params, inputs, [("y_pred", (1,))],
                    lambda p, x: [zoo.din(p, x)])

    def poolformer():
        dims, depths = [64, 128, 320, 512], [2, 2, 6, 2]
        params = {"stem.conv.weight": ((64, 3, 7, 7), "linear:%d" % (3 * 49)),
                  "stem.conv.bias": ((64,), "linear:%d" % (3 * 49))}
        for s, (c, depth) in enumerate(zip(dims, depths)):
            if s > 0:
                d = "stages.%d.downsample.conv." % s
                params[d + "weight"] = ((c, dims[s - 1], 3, 3), "linear:%d" % (dims[s - 1] * 9))
                params[d + "bias"] = ((c,), "linear:%d" % (dims[s - 1] * 9))
            for j in range(depth):
                b = "stages.%d.blocks.%d." % (s, j)
                params.update(ln_params(b + "norm1", c))
                params.update(ln_params(b + "norm2", c))
                params[b + "mlp.fc1.weight"] = ((4 * c, c, 1, 1), "linear:%d" % c)
                params[b + "mlp.fc1.bias"] = ((4 * c,), "linear:%d" % c)
                params[b + "mlp.fc2.weight"] = ((c, 4 * c, 1, 1), "linear:%d" % (4 * c))
                params[b + "mlp.fc2.bias"] = ((c,), "linear:%d" % (4 * c))
                # LayerScale of order 1 (checkpoints start at 1e-5).
                params[b + "layer_scale1.scale"] = ((c,), "ln_weight")
                params[b + "layer_scale2.scale"] = ((c,), "ln_weight")
        params.update(ln_params("head.norm", 512))
        params.update(linear_params("head.fc", 512, 1000))
        return Case("poolformer_s12", params, [("image", (3, 224, 224))],
                    [("logits", (1000,))], lambda p, x: [zoo.poolformer(p, x["image"])])

    def conv_pool():
        # conv2d (strided, padded, pointwise, no bias), avg_pool2d in both
        # modes and group_norm on a small non-square image, with external
        # weights too (4-D conv weights re-laid by the runtime).
        mlp = """# conv2d, avg_pool2d and group_norm, channels last
model conv_pool {
  input image: f32[N, 3, 13, 10]
  x = transpose(image, 1, 2) |> transpose(2, 3)
  a = conv2d(x, 8, 5, stride=3, padding=2) @c1
  output b = group_norm(a) @gn |> conv2d(6, 1, bias=false) @c2
  output c = avg_pool2d(a, 3, stride=1, padding=1, count_include_pad=false)
  output d = avg_pool2d(x, 2, stride=2)
}
"""
        params = {"c1.weight": ((8, 3, 5, 5), "linear:75"), "c1.bias": ((8,), "linear:75"),
                  "c2.weight": ((6, 8, 1, 1), "linear:8")}
        params.update(ln_params("gn", 8))

        def reference(p, x):
            a = zoo.conv2d_nchw(x["image"], p["c1.weight"], p["c1.bias"], 3, 2)
            g = zoo.group_norm1(a, p["gn.weight"], p["gn.bias"])
            b = np.einsum("oc,bchw->bhwo", p["c2.weight"][:, :, 0, 0], g)
            c = zoo.avg_pool3x3_exclude_pad(a).transpose(0, 2, 3, 1)
            img = x["image"]
            d = img[:, :, :12, :10].reshape(img.shape[0], 3, 6, 2, 5, 2).mean(axis=(3, 5))
            return [b, c, d.transpose(0, 2, 3, 1)]
        return Case("conv_pool", params, [("image", (3, 13, 10))],
                    [("b", (5, 4, 6)), ("c", (5, 4, 8)), ("d", (6, 5, 3))], reference, mlp=mlp)

    return {
        "conv_pool": conv_pool,
        "poolformer_s12": poolformer,
        "din_amazon": din,
        "finalmlp_frappe": finalmlp,
        "softs_weather": softs,
        "tsmixer_etth1": tsmixer,
        "tabm_california": tabm,
        "efficient_kan_mnist": efficient_kan,
        "fast_kan_mnist": fast_kan,
        "gmlp_s16_224": lambda: gmlp(30),
        # models/gmlp_s16_224.mlp with `repeat 2` for `repeat 30`: the full
        # depth takes about a minute to compile, too long for CI.
        "gmlp_s16_224_2_blocks": lambda: gmlp(2),
        "patch_embed": patch_embed,
        "resmlp_12_224": resmlp,
        "mixer_s16_224": mixer_s16,
        "nerf": nerf,
        "scaling_mlp_b6_wi1024": scaling_mlp,
        "siren": siren,
        "transcoder_gpt2": transcoder,
    }
