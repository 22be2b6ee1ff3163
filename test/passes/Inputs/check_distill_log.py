"""Asserts that logit distillation ran and cut the KL to the teacher.

Usage: check_distill_log.py LOG FACTOR. LOG is -mlp-distill's report with
epochs > 0; the KL after distillation must be below the KL after the
least-squares refit divided by FACTOR (a wrong gradient raises it or barely
lowers it).
"""
import re
import sys

log = open(sys.argv[1]).read()
factor = float(sys.argv[2])
kl = {when: float(value) for when, value in
      re.findall(r"after (least squares|distillation): relative L2 \S+, KL (\S+)", log)}
assert set(kl) == {"least squares", "distillation"}, "no logit distillation in:\n" + log
assert kl["distillation"] < kl["least squares"] / factor, kl
print("KL %.3g -> %.3g" % (kl["least squares"], kl["distillation"]))
