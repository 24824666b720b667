"""NumPy's floating-point RuntimeWarnings never reach users (issue 10 §4): ops whose results are inf or nan
(overflow, 0/0, log(0), sqrt(-1), float16 overflow, softmax of an all -inf row...) give PyTorch's IEEE values
quietly, also when a warning filter turns warnings into errors (``python -W error``,
``warnings.simplefilter("error")``)."""
import math
import subprocess
import sys
import warnings

import pytest
import torch

import ember

from parity import assert_same

inf, nan = math.inf, math.nan

CASES = {  # name: fn(lib)
    "exp_overflow": lambda m: m.tensor([100.0, 1.0]).exp(),
    "expm1_overflow": lambda m: m.tensor([100.0]).expm1(),
    "zero_div_zero": lambda m: m.zeros(2) / m.zeros(2),
    "one_div_zero": lambda m: m.ones(2) / 0,
    "int_true_div_zero": lambda m: m.tensor([0, 1]) / m.tensor([0, 0]),
    "log_zero": lambda m: m.tensor([0.0, -1.0]).log(),
    "log2_zero": lambda m: m.zeros(1).log2(),
    "log10_zero": lambda m: m.zeros(1).log10(),
    "log1p_m1": lambda m: m.tensor([-1.0, -2.0]).log1p(),
    "sqrt_neg": lambda m: m.tensor([-1.0]).sqrt(),
    "rsqrt_zero": lambda m: m.tensor([0.0, -1.0]).rsqrt(),
    "reciprocal_zero": lambda m: m.zeros(2).reciprocal(),
    "pow_zero_neg": lambda m: m.zeros(2) ** -1.0,
    "pow_neg_frac": lambda m: m.tensor([-2.0]) ** 0.5,
    "fp16_mul_overflow": lambda m: m.tensor([60000.0], dtype=m.float16) * 2,
    "fp16_add_overflow": lambda m: m.tensor([60000.0], dtype=m.float16) + m.tensor([60000.0], dtype=m.float16),
    "fp16_cast_overflow": lambda m: m.tensor([1e6]).half(),
    "f32_mul_overflow": lambda m: m.tensor([3e38]) * 10,
    "inf_minus_inf": lambda m: m.tensor([inf]) - m.tensor([inf]),
    "inf_times_zero": lambda m: m.tensor([inf]) * 0,
    "remainder_zero": lambda m: m.tensor([1.0]) % 0,
    "fmod_zero": lambda m: m.tensor([1.0]).fmod(0),
    "floor_divide_zero": lambda m: m.tensor([1.0, 0.0]) // 0,
    "sigmoid_big": lambda m: m.tensor([-1000.0, 1000.0]).sigmoid(),
    "tanh_nan": lambda m: m.tensor([nan]).tanh(),
    "atanh_one": lambda m: m.tensor([1.0, 2.0]).atanh(),
    "acos_two": lambda m: m.tensor([2.0]).acos(),
    "lgamma_zero": lambda m: m.tensor([0.0, -1.0]).lgamma(),
    "digamma_zero": lambda m: m.tensor([0.0]).digamma(),
    "erfinv_one": lambda m: m.tensor([1.0, 2.0]).erfinv(),
    "logit_one": lambda m: m.tensor([0.0, 1.0]).logit(),
    "xlogy_zero": lambda m: m.xlogy(m.tensor([1.0]), m.tensor([0.0])),
    "softmax_all_neginf": lambda m: m.tensor([[-inf, -inf], [0.0, 1.0]]).softmax(-1),
    "log_softmax_all_neginf": lambda m: m.tensor([[-inf, -inf]]).log_softmax(-1),
    "logsumexp_all_neginf": lambda m: m.tensor([[-inf, -inf]]).logsumexp(-1),
    "logcumsumexp_neginf": lambda m: m.tensor([-inf, -inf, 0.0]).logcumsumexp(0),
    "mean_empty": lambda m: m.ones(0).mean(),
    "mean_empty_dim": lambda m: m.ones(0, 2).mean(0),
    "var_one": lambda m: m.ones(1).var(),
    "std_one": lambda m: m.ones(1, 3).std(0),
    "prod_overflow": lambda m: m.full((40,), 1e10).prod(),
    "cumprod_overflow": lambda m: m.full((40,), 1e10).cumprod(0),
    "sum_fp16_overflow": lambda m: m.full((4,), 60000.0, dtype=m.float16).sum(),
    "cumsum_fp16_overflow": lambda m: m.full((4,), 60000.0, dtype=m.float16).cumsum(0),
    "norm_overflow": lambda m: m.full((4,), 1e38).norm(),
    "normalize_zero": lambda m: m.nn.functional.normalize(m.zeros(1, 3)),
    "cosine_zero": lambda m: m.nn.functional.cosine_similarity(m.zeros(1, 3), m.ones(1, 3)),
    "long_of_nan": lambda m: m.tensor([nan, inf]).long(),
    "int_of_inf_to": lambda m: m.tensor([inf]).to(m.int32),
    "exp_grad_overflow": lambda m: m.tensor([100.0], requires_grad=True).exp().sum().backward(),
    "sqrt_grad_zero": lambda m: (lambda x: (x.sqrt().sum().backward(), x.grad)[1])(m.zeros(1, requires_grad=True)),
    "log_grad_zero": lambda m: (lambda x: (x.log().sum().backward(), x.grad)[1])(m.zeros(1, requires_grad=True)),
    "div_grad_zero": lambda m: (lambda x: ((m.ones(1) / x).sum().backward(), x.grad)[1])(
        m.zeros(1, requires_grad=True)),
    "cross_entropy_neginf": lambda m: m.nn.functional.cross_entropy(m.tensor([[-inf, 0.0]]), m.tensor([0])),
    "bce_zero": lambda m: m.nn.functional.binary_cross_entropy(m.tensor([0.0, 1.0]), m.tensor([1.0, 0.0])),
    "nll_logsoftmax_inf": lambda m: m.nn.functional.log_softmax(m.tensor([[inf, 0.0]]), -1),
    "silu_neg_big": lambda m: m.nn.functional.silu(m.tensor([-1000.0])),
    "softplus_big": lambda m: m.nn.functional.softplus(m.tensor([1000.0, -1000.0])),
    "layer_norm_inf": lambda m: m.nn.functional.layer_norm(m.tensor([[inf, 1.0]]), (2,)),
    "sinh_big": lambda m: m.tensor([1000.0]).sinh(),
    "cosh_big": lambda m: m.tensor([1000.0]).cosh(),
    "exp2_big": lambda m: m.tensor([1000.0]).exp2(),
    "hypot_big": lambda m: m.hypot(m.tensor([3e38]), m.tensor([3e38])),
    "addcdiv_zero": lambda m: m.addcdiv(m.zeros(1), m.ones(1), m.zeros(1)),
    "clamp_nan": lambda m: m.tensor([nan]).clamp(0, 1),
    "sign_nan": lambda m: m.tensor([nan]).sign(),
    "round_inf": lambda m: m.tensor([inf, nan]).round(),
    "frac_inf": lambda m: m.tensor([inf]).frac(),
    "nan_to_num": lambda m: m.tensor([nan, inf]).nan_to_num(),
    "matmul_overflow": lambda m: m.full((2, 2), 1e38) @ m.full((2, 2), 1e38),
    "dist_inf": lambda m: m.dist(m.tensor([inf]), m.tensor([inf])),
    "cdist_big": lambda m: m.cdist(m.full((1, 2), 1e38), m.full((1, 2), -1e38)),
    "sinc_zero": lambda m: m.tensor([0.0, inf]).sinc(),
    "polygamma_zero": lambda m: m.polygamma(1, m.tensor([0.0])),
    "i0_big": lambda m: m.tensor([1000.0]).i0(),
    "batch_norm_var0": lambda m: m.nn.functional.batch_norm(m.tensor([[inf], [1.0]]), None, None, training=True),
    "linspace_inf": lambda m: m.linspace(0, inf, 3),
    "std_mean_one": lambda m: m.std_mean(m.ones(1)),
    "nanmean_allnan": lambda m: m.tensor([nan]).nanmean(),
    "det_overflow": lambda m: m.linalg.det(m.eye(2) * 1e30),
}

@pytest.mark.parametrize("fn", list(CASES.values()), ids=list(CASES))
def test_ieee_results_without_warnings(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fn(ember)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = fn(torch)
    assert_same(got, want)


def _run_W_error(code):
    out = subprocess.run([sys.executable, "-W", "error", "-c", "import ember, math\n" + code], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_python_W_error_process():
    """A whole program under ``python -W error`` (filters installed before ember is imported)."""
    code = ("x = ember.tensor([100.0, 0.0, -1.0])\n"
            "r = [(x / 0)[1].item(), (x * 1e38)[0].item(), (ember.tensor([6e4], dtype=ember.float16) * 2).item(),\n"
            "     ember.tensor([[-math.inf, -math.inf]]).softmax(-1)[0, 0].item(), (x ** -1.0)[1].item(),\n"
            "     x.rsqrt()[2].item(), ember.full((4,), 6e4, dtype=ember.float16).sum().item()]\n"
            "print(r)\n")
    assert _run_W_error(code) == "[nan, inf, inf, nan, inf, nan, inf]"
