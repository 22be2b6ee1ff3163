"""End-to-end cases of the model zoo (models/*.mlp) for e2e_check.py.

Each case lists the parameters with their state_dict names, shapes and random
initialisation, the inputs and outputs, and the float64 reference from
zoo_reference.py. register() receives e2e_check's helpers, so that this file
does not import the script that runs it.
"""

import zoo_reference as zoo


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
        d, s = 768, 24576
        params = {
            "W_enc": ((d, s), "linear:%d" % d),
            "b_enc": ((s,), "linear:%d" % d),
            "W_dec": ((s, d), "linear:%d" % s),
            "b_dec": ((d,), "normal"),
            "b_dec_out": ((d,), "normal"),
        }
        return Case("transcoder_gpt2", params, [("x", (d,))],
                    [("sae_out", (d,)), ("feature_acts", (s,))],
                    lambda p, x: zoo.transcoder(p, x["x"]))

    return {
        "scaling_mlp_b6_wi1024": scaling_mlp,
        "transcoder_gpt2": transcoder,
    }
