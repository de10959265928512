#!/usr/bin/env python3
"""Derives the polynomial coefficients in floatmath.h (run: python3 kernels/floatmath_fit.py).

Needs numpy and mpmath (Debian: python3-numpy python3-mpmath). Each polynomial is a minimax fit of the
relative error of the final result (Lawson's iteratively reweighted least squares on Chebyshev nodes),
with targets evaluated by mpmath at 120 digits. The fits are done in double and printed rounded to
float32, the precision the shared math runs in; tests/test_floatmath.c measures the resulting error.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 120


def chebyshev_nodes(a, b, n):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def lawson(x, target, weight, degree, shift, iterations=80):
    """Monomials in (x - shift) minimising max |weight * (p(x) - target)|."""
    basis = np.vander(x - shift, degree + 1, increasing=True)
    w = np.full(len(x), 1.0 / len(x))
    for _ in range(iterations):
        s = np.sqrt(w) * weight
        c = np.linalg.lstsq(basis * s[:, None], s * target, rcond=None)[0]
        e = np.abs(weight * (basis @ c - target))
        w = w * e / np.sum(w * e)
    return c, np.max(np.abs(weight * (basis @ c - target)))


def emit(name, c, err, comment):
    print(f"/* {comment}; max relative error of the fit {err:.1e} */")
    print(f"OI_CONST float {name}[{len(c)}] = {{" + ", ".join(f"{np.float32(v):.9e}f" for v in c) + "};")


def mpf_table(f, x):
    return np.array([float(f(mp.mpf(float(v)))) for v in x])


# ln(1 + t) = t - t^2/2 + t^3 P(t), t in [sqrt(1/2) - 1, sqrt(2) - 1]
t = chebyshev_nodes(np.sqrt(0.5) - 1, np.sqrt(2) - 1, 3000)
P = mpf_table(lambda v: (mp.log1p(v) - v + v * v / 2) / v**3, t)
c, err = lawson(t, P, mpf_table(lambda v: v**3 / mp.log1p(v), t), 7, 0.0)
emit("oi_log1p_poly", c, err, "ln(1+t) = t - t^2/2 + t^3 P(t) on [sqrt(1/2)-1, sqrt(2)-1]")

# sin(pi/2 r) = r S(r^2) and cos(pi/2 r) = 1 + r^2 C(r^2), r in [-1/2, 1/2]: a quarter turn per unit of r
s = chebyshev_nodes(1e-12, 0.25, 2000)
S = mpf_table(lambda v: mp.sin(mp.pi * mp.sqrt(v) / 2) / mp.sqrt(v), s)
c, err = lawson(s, S, 1 / S, 3, 0.0)
emit("oi_sin_quarter_poly", c, err, "sin(pi/2 r) = r S(r^2) on r in [-1/2, 1/2]")
C = mpf_table(lambda v: (mp.cos(mp.pi * mp.sqrt(v) / 2) - 1) / v, s)
c, err = lawson(s, C, mpf_table(lambda v: v / mp.cos(mp.pi * mp.sqrt(v) / 2), s), 3, 0.0)
emit("oi_cos_quarter_poly", c, err, "cos(pi/2 r) = 1 + r^2 C(r^2) on r in [-1/2, 1/2]")


# Normal quantile tail: for q in (0, 1/2], -Phi^-1(q) = x * R(v) with x = 1 - 2q and w = -ln(4q(1-q)),
# v = w below 5 and v = sqrt(w) above (Giles, "Approximating the erfinv function", GPU Computing Gems,
# 2011); three segments of equal degree so a kernel picks coefficients instead of branching.
def quantile_over_x(w):
    x = mp.sqrt(-mp.expm1(-w))
    return mp.sqrt(2) * mp.erfinv(x) / x


segments = [("w", 0.0, 5.0), ("sqrt(w)", np.sqrt(5.0), 4.0), ("sqrt(w)", 4.0, 9.3)]
for i, (variable, a, b) in enumerate(segments):
    v = chebyshev_nodes(a if a > 0 else 1e-9, b, 1500)
    R = mpf_table(lambda u: quantile_over_x(u if variable == "w" else u * u), v)
    c, err = lawson(v, R, 1 / R, 9, (a + b) / 2)
    emit(f"oi_quantile_poly{i}", c, err, f"{variable} in [{a:.9g}, {b:.9g}], polynomial in {variable} - {(a + b) / 2:.9g}")
