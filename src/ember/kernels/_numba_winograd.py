"""Numba CPU implementations of ``kernels/winograd.py``, one row of tiles at a time, every pass a long loop over
contiguous data (LLVM vectorises loops of a few hundred elements; a loop over 16 channels per tile stays scalar).

The input side works on a zero-padded copy of one image, channels last and split by column phase: ``P[y, k, j,
c]`` holds padded column ``4 j + k``, so the six columns of tile ``j`` are phases 0-3 at ``j`` and phases 0-1 at
``j + 1``, and a tile column transform is a loop over all ``(j, c)`` of a tile row at once.  The output side keeps
one row of output tiles as ``(p, q, j, o)`` (pixel ``(4 i + p, 4 j + q)``) for the same reason.  Moving data
between these and the NCHW arrays is one transposing copy per pass, per NCHW row and channel; three of them go
through a table of each column's place in the channels-last row (unsigned, so Numba adds no negative-index
wraparound): the place computed in the loop ran 1.4-2.3x slower there.

The frequency-domain side (36, T, C) is read or written one image at a time, six frequency rows advancing
together over all of the image's tiles: a tile row at a time touched 36 short runs far apart per step, which ran
at half the speed (the hardware prefetchers do not follow that many streams).

The hot loops index 1-D views with their bare loop variable: an index such as ``base + m`` keeps Numba's
negative-index wraparound in the loop, and the stores to several rows of one 2-D array then look dependent to
LLVM, which leaves the loop scalar."""
import numpy as np

from ._numba import inline, jit
from .winograd import wino_mats


# integer constants would promote float32 operands to float64 in Numba: products by 2 and 4 are sums (exact)
@inline
def _x2(v):
    return v + v


@inline
def _x4(v):
    return _x2(v + v)


@inline
def _x8(v):
    return _x2(_x4(v))


@inline
def _at(m0, m1, m2, m3, m4, m5):
    """``AT`` times the 6-vector ``m``."""
    return (m0 + m1 + m2 + m3 + m4, (m1 - m2) + _x2(m3 - m4), (m1 + m2) + _x4(m3 + m4),
            (m1 - m2) + _x8(m3 - m4) + m5)


@inline
def _a(v0, v1, v2, v3):
    """``AT^T`` times the 4-vector ``v``."""
    return (v0, v0 + v1 + v2 + v3, v0 - v1 + v2 - v3, v0 + _x2(v1) + _x4(v2) + _x8(v3),
            v0 - _x2(v1) + _x4(v2) - _x8(v3), v3)


@inline
def _bt(d0, d1, d2, d3, d4, d5):
    """``BT`` times the 6-vector ``d``."""
    return (_x4(d0 - d2) - d2 + d4, d3 + d4 - _x4(d1 + d2), _x4(d1 - d2) + d4 - d3, _x2(d3 - d1) + d4 - d2,
            _x2(d1 - d3) + d4 - d2, _x4(d1 - d3) - d3 + d5)


@inline
def _b(m0, m1, m2, m3, m4, m5):
    """``BT^T`` times the 6-vector ``m``."""
    return (_x4(m0), _x4(m2 - m1 + m5) + _x2(m4 - m3), -(_x4(m0 + m1 + m2) + m0 + m3 + m4),
            m1 - m2 + _x2(m3 - m4) - _x4(m5) - m5, m0 + m1 + m2 + m3 + m4, m5)


@jit
def _places(w, lo, phase, c):
    """Where NCHW column ``xx < w`` (padded column ``X = xx + lo``) lies in a channels-last row split by column
    phase: ``(X % 4) * phase + (X // 4) * c`` (then + the channel)."""
    place = np.empty(w, np.uint64)
    for xx in range(w):
        X = xx + lo
        place[xx] = (X & 3) * phase + (X >> 2) * c
    return place


@jit
def _input(x, lo_h, lo_w, th, tw, vt):
    n, C, H, W = x.shape
    ph, S = 4 * th + 2, (tw + 1) * C        # S: one column phase of a padded row
    L, TC = 4 * S, tw * C
    P = np.zeros((ph, 4, tw + 1, C), x.dtype)   # padding stays zero: every image writes the same places
    P2 = P.reshape(ph, L)
    r = np.empty((6, th, L), x.dtype)       # BT along the rows, one image: (a, i, phase-split row)
    place = _places(min(W, 4 * tw + 4 - lo_w), lo_w, S, C)
    for img in range(n):
        for yy in range(min(H, ph - lo_h)):
            row = P2[yy + lo_h]
            for c in range(C):
                src, dst = x[img, c, yy], row[c:]
                for xx in range(place.size):
                    dst[place[xx]] = src[xx]
        for i in range(th):
            d0, d1, d2, d3, d4, d5 = P2[4 * i], P2[4 * i + 1], P2[4 * i + 2], P2[4 * i + 3], P2[4 * i + 4], \
                P2[4 * i + 5]
            r0, r1, r2, r3, r4, r5 = r[0, i], r[1, i], r[2, i], r[3, i], r[4, i], r[5, i]
            for m in range(L):
                r0[m], r1[m], r2[m], r3[m], r4[m], r5[m] = _bt(d0[m], d1[m], d2[m], d3[m], d4[m], d5[m])
        for a in range(6):
            for i in range(th):
                ra = r[a, i]
                c0, c1, c2, c3, c4, c5 = ra[:TC], ra[S:S + TC], ra[2 * S:2 * S + TC], ra[3 * S:3 * S + TC], \
                    ra[C:C + TC], ra[S + C:S + C + TC]
                base = (img * th + i) * TC
                v0, v1, v2, v3, v4, v5 = vt[6 * a, base:base + TC], vt[6 * a + 1, base:base + TC], \
                    vt[6 * a + 2, base:base + TC], vt[6 * a + 3, base:base + TC], vt[6 * a + 4, base:base + TC], \
                    vt[6 * a + 5, base:base + TC]
                for m in range(TC):
                    v0[m], v1[m], v2[m], v3[m], v4[m], v5[m] = _bt(c0[m], c1[m], c2[m], c3[m], c4[m], c5[m])


@jit
def _input_adjoint(g2, lo_h, lo_w, th, tw, out):
    n, C, H, W = out.shape
    S, TC = (tw + 1) * C, tw * C
    L = 4 * S
    s = np.zeros((6, th, L), g2.dtype)      # BT^T along the tile columns, one image, phase-split, overlap-added
    t4, t5 = np.empty(TC, g2.dtype), np.empty(TC, g2.dtype)  # to columns 4 j + 4, 4 j + 5: phases 0, 1 at j + 1
    # padded rows 4 i .. 4 i + 5 of the gradient, phase-split: rows 4 i, 4 i + 1 add the previous tile row's last
    # two (``prev``); two buffers take turns, so the loop only loads from one and stores to the other
    cur, prev = np.empty((6, L), g2.dtype), np.zeros((6, L), g2.dtype)
    place = _places(W, lo_w, S, C)
    for img in range(n):
        for a in range(6):
            for i in range(th):
                base = (img * th + i) * TC
                m0, m1, m2, m3, m4, m5 = g2[6 * a, base:base + TC], g2[6 * a + 1, base:base + TC], \
                    g2[6 * a + 2, base:base + TC], g2[6 * a + 3, base:base + TC], g2[6 * a + 4, base:base + TC], \
                    g2[6 * a + 5, base:base + TC]
                sa = s[a, i]
                k0, k1, k2, k3 = sa[:TC], sa[S:S + TC], sa[2 * S:2 * S + TC], sa[3 * S:3 * S + TC]
                for m in range(TC):
                    k0[m], k1[m], k2[m], k3[m], t4[m], t5[m] = _b(m0[m], m1[m], m2[m], m3[m], m4[m], m5[m])
                sa[TC:S] = 0
                sa[S + TC:2 * S] = 0
                k0, k1 = sa[C:C + TC], sa[S + C:S + C + TC]
                for m in range(TC):
                    k0[m] += t4[m]
                    k1[m] += t5[m]
        prev[4:] = 0
        for i in range(th):
            s0, s1, s2, s3, s4, s5 = s[0, i], s[1, i], s[2, i], s[3, i], s[4, i], s[5, i]
            c0, c1, c2, c3, c4, c5 = cur[0], cur[1], cur[2], cur[3], cur[4], cur[5]
            p4, p5 = prev[4], prev[5]
            for m in range(L):
                e0, e1, e2, e3, e4, e5 = _b(s0[m], s1[m], s2[m], s3[m], s4[m], s5[m])
                c0[m] = p4[m] + e0
                c1[m] = p5[m] + e1
                c2[m] = e2
                c3[m] = e3
                c4[m] = e4
                c5[m] = e5
            # rows 4 i .. 4 i + 3 are complete (the next tile row starts at 4 i + 4), all six after the last row
            for u in range(4 if i < th - 1 else 6):
                y = 4 * i + u - lo_h
                if 0 <= y < H:
                    cu = cur[u]
                    for c in range(C):
                        src, dst = cu[c:], out[img, c, y]
                        for xx in range(W):
                            dst[xx] = src[place[xx]]
            cur, prev = prev, cur


@jit
def _output(m2, th, tw, bias, out):
    n, O, ho, wo = out.shape
    TO = tw * O
    s = np.empty((th, 4, 6, TO), m2.dtype)  # AT along the tile rows, one image: (i, p, b, j, o)
    r = np.empty((4, 4, TO), m2.dtype)      # one row of output tiles: (p, q, j, o)
    for img in range(n):
        for b in range(6):
            for i in range(th):
                base = (img * th + i) * TO
                f0, f1, f2, f3, f4, f5 = m2[b, base:base + TO], m2[6 + b, base:base + TO], \
                    m2[12 + b, base:base + TO], m2[18 + b, base:base + TO], m2[24 + b, base:base + TO], \
                    m2[30 + b, base:base + TO]
                p0, p1, p2, p3 = s[i, 0, b], s[i, 1, b], s[i, 2, b], s[i, 3, b]
                for m in range(TO):
                    p0[m], p1[m], p2[m], p3[m] = _at(f0[m], f1[m], f2[m], f3[m], f4[m], f5[m])
        for i in range(th):
            for p in range(4):
                sp = s[i, p]
                b0, b1, b2, b3, b4, b5 = sp[0], sp[1], sp[2], sp[3], sp[4], sp[5]
                q0, q1, q2, q3 = r[p, 0], r[p, 1], r[p, 2], r[p, 3]
                for m in range(TO):
                    q0[m], q1[m], q2[m], q3[m] = _at(b0[m], b1[m], b2[m], b3[m], b4[m], b5[m])
            for p in range(min(4, ho - 4 * i)):   # (LLVM vectorises this gather as it is; a table was slower)
                rp = r[p]
                for o in range(O):
                    bo = bias[o]
                    dst = out[img, o, 4 * i + p]
                    for x in range(wo):
                        dst[x] = rp[x & 3, (x >> 2) * O + o] + bo


@jit
def _output_adjoint(y, th, tw, g2):
    n, O, ho, wo = y.shape
    TO = tw * O
    R = th * TO                             # one image's tiles and channels
    r = np.zeros((4, 4, TO), y.dtype)       # one row of tiles of y: (p, q, j, o), zero past the edges
    s = np.empty((6, 4, th, TO), y.dtype)   # AT^T along the tile rows, one image: (a, q, i, j, o)
    place = _places(wo, 0, TO, O)
    for img in range(n):
        for i in range(th):
            rows = min(4, ho - 4 * i)
            for p in range(rows):
                rp = r[p].reshape(4 * TO)
                for o in range(O):
                    src, dst = y[img, o, 4 * i + p], rp[o:]
                    for x in range(wo):
                        dst[place[x]] = src[x]
            for p in range(rows, 4):
                r[p] = 0
            for q in range(4):
                r0, r1, r2, r3 = r[0, q], r[1, q], r[2, q], r[3, q]
                s0, s1, s2, s3, s4, s5 = s[0, q, i], s[1, q, i], s[2, q, i], s[3, q, i], s[4, q, i], s[5, q, i]
                for m in range(TO):
                    s0[m], s1[m], s2[m], s3[m], s4[m], s5[m] = _a(r0[m], r1[m], r2[m], r3[m])
        base = img * R
        for a in range(6):
            sa = s[a].reshape(4, R)
            q0, q1, q2, q3 = sa[0], sa[1], sa[2], sa[3]
            f0, f1, f2, f3, f4, f5 = g2[6 * a, base:base + R], g2[6 * a + 1, base:base + R], \
                g2[6 * a + 2, base:base + R], g2[6 * a + 3, base:base + R], g2[6 * a + 4, base:base + R], \
                g2[6 * a + 5, base:base + R]
            for m in range(R):
                f0[m], f1[m], f2[m], f3[m], f4[m], f5[m] = _a(q0[m], q1[m], q2[m], q3[m])


_RUN = 256   # kernels per pass of the kernel transforms: their buffers stay in L1


@jit
def _weight(w, g, u):
    # a run of kernels is gathered into rows of its 9 taps, then G k G^T goes as two separable passes (6x3 sums, then
    # 6x6), each a long loop over the run
    A, B = w.shape[0], w.shape[1]
    M = A * B
    taps = np.empty((9, _RUN), w.dtype)
    t = np.empty((6, 3, _RUN), w.dtype)     # G k: (a, j, run)
    for s in range(0, M, _RUN):
        n = min(M, s + _RUN) - s
        for m in range(n):
            a, b = divmod(s + m, B)
            for k in range(9):
                taps[k, m] = w[a, b, k // 3, k % 3]
        for j in range(3):
            k0, k1, k2 = taps[j, :n], taps[3 + j, :n], taps[6 + j, :n]
            for a in range(6):
                c0, c1, c2 = g[a, 0], g[a, 1], g[a, 2]
                ta = t[a, j, :n]
                for m in range(n):
                    ta[m] = c0 * k0[m] + c1 * k1[m] + c2 * k2[m]
        for a in range(6):
            t0, t1, t2 = t[a, 0, :n], t[a, 1, :n], t[a, 2, :n]
            for b in range(6):
                c0, c1, c2 = g[b, 0], g[b, 1], g[b, 2]
                uf = u[6 * a + b, s:s + n]
                for m in range(n):
                    uf[m] = c0 * t0[m] + c1 * t1[m] + c2 * t2[m]


@jit
def _weight_adjoint(gu, g, out):
    # per run of kernels: G^T m G as two separable passes over the run (the 6 frequencies b of each row a, then the
    # 6 rows a), the 9 taps then scattered into each kernel's place
    M = gu.shape[1]
    t = np.empty((6, 3, _RUN), gu.dtype)    # m G: (a, j, run)
    taps = np.empty((9, _RUN), gu.dtype)
    for s in range(0, M, _RUN):
        n = min(M, s + _RUN) - s
        for a in range(6):
            f0, f1, f2, f3, f4, f5 = gu[6 * a, s:s + n], gu[6 * a + 1, s:s + n], gu[6 * a + 2, s:s + n], \
                gu[6 * a + 3, s:s + n], gu[6 * a + 4, s:s + n], gu[6 * a + 5, s:s + n]
            for j in range(3):
                c0, c1, c2, c3, c4, c5 = g[0, j], g[1, j], g[2, j], g[3, j], g[4, j], g[5, j]
                tj = t[a, j, :n]
                for m in range(n):
                    tj[m] = c0 * f0[m] + c1 * f1[m] + c2 * f2[m] + c3 * f3[m] + c4 * f4[m] + c5 * f5[m]
        for i in range(3):
            c0, c1, c2, c3, c4, c5 = g[0, i], g[1, i], g[2, i], g[3, i], g[4, i], g[5, i]
            for j in range(3):
                t0, t1, t2, t3, t4, t5 = t[0, j, :n], t[1, j, :n], t[2, j, :n], t[3, j, :n], t[4, j, :n], t[5, j, :n]
                tk = taps[3 * i + j, :n]
                for m in range(n):
                    tk[m] = c0 * t0[m] + c1 * t1[m] + c2 * t2[m] + c3 * t3[m] + c4 * t4[m] + c5 * t5[m]
        for k in range(9):
            src, dst = taps[k, :n], out[s:s + n, k]
            for m in range(n):
                dst[m] = src[m]


def wino_weight(w):
    """See ``winograd.wino_weight_reference``."""
    u = np.empty((36,) + w.shape[:2], w.dtype)
    _weight(w, wino_mats(np, w.dtype)[1], u.reshape(36, -1))
    return u


def wino_weight_adjoint(gu):
    """See ``winograd.wino_weight_adjoint_reference``."""
    out = np.empty(gu.shape[1:] + (3, 3), gu.dtype)
    _weight_adjoint(np.ascontiguousarray(gu).reshape(36, -1), wino_mats(np, gu.dtype)[1], out.reshape(-1, 9))
    return out


def wino_output(mt, th, tw, bias, out):
    """See ``winograd.wino_output_reference``."""
    b = np.zeros(out.shape[1], mt.dtype) if bias is None else np.ascontiguousarray(bias, dtype=mt.dtype)
    _output(np.ascontiguousarray(mt).reshape(36, -1), th, tw, b, out)


def wino_output_adjoint(y, th, tw):
    """See ``winograd.wino_output_adjoint_reference``."""
    gt = np.empty((36, y.shape[0] * th * tw, y.shape[1]), y.dtype)
    _output_adjoint(y, th, tw, gt.reshape(36, -1))
    return gt


def wino_input(x, lo, th, tw):
    """See ``winograd.wino_input_reference``."""
    vt = np.empty((36, x.shape[0] * th * tw, x.shape[1]), x.dtype)
    _input(x, lo[0], lo[1], th, tw, vt.reshape(36, -1))
    return vt


def wino_input_adjoint(gVt, lo, th, tw, out):
    """See ``winograd.wino_input_adjoint_reference``."""
    _input_adjoint(np.ascontiguousarray(gVt).reshape(36, -1), lo[0], lo[1], th, tw, out)
