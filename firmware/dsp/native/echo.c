/* The line echo canceller's block filter (firmware/dsp/fdaf.py) in C, for speed.
 *
 * firmware/dsp/fdaf.py is the reference: this file does the same arithmetic, in the same
 * order where it matters, on the same state (two sets of partitioned frequency-domain
 * weights with a Kalman step; see that file's rules). In numpy each 20 ms block costs
 * about forty small array operations whose per-call cost is most of the canceller's CPU;
 * here a block is two calls (ecf_front, which also takes firmware/dsp/echo.py's residuals,
 * energies and peaks, and ecf_adapt). firmware/dsp/fdaf_native.py loads this library with
 * ctypes and falls back to the numpy filter when it is missing.
 *
 * The transforms: a real FFT of N = 2 * block points is done as a complex FFT of block
 * points over the even and odd samples packed as real and imaginary parts, then split
 * (the textbook "two real halves" identity). The complex FFT is recursive radix 2
 * (decimation in time) down to the odd factor left, which is done as a direct DFT, or
 * by its symmetries for 5 (160 = 2^5 * 5: five radix-2 levels over 32 DFTs of 5 points).
 * Twiddles are tabled once.
 * The inverse transform treats the imaginary parts of bins 0 and block as zero and scales
 * by 1 / N, as numpy's irfft does.
 *
 * Complex numbers are pairs of doubles (re, im), the layout of numpy's complex128, so the
 * test suite can compare spectra directly. Nothing here allocates after ecf_new.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ECF_EXPORT __attribute__((visibility("default")))
/* Bumped whenever a signature below changes; Python refuses a library of another. */
#define ECF_ABI 2

/* Constants of firmware/dsp/fdaf.py (checked against it by Python at load). */
#define PROCESS_NOISE 2e-3
#define DRIFT_EVERY 4
#define INITIAL_UNCERTAINTY 64.0
#define NEAR_PSD_SMOOTHING 0.8
#define WINDOW_RATIO 2.0
#define ECF_PI 3.14159265358979323846

typedef struct cpx {
    double re, im;
} cpx;

static inline cpx c_mul(cpx a, cpx b) {
    return (cpx){a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}

typedef struct ec_filter {
    int block, taps, partitions, bins, n; /* n: FFT size, 2 * block */
    double near_floor;                    /* per bin: the caller's mean square * block */
    int next_constraint, drift_count;
    cpx *weights;       /* [2][partitions][bins]: background, then foreground */
    cpx *spectra;       /* [partitions][bins], newest first */
    double *powers;     /* [partitions][bins], |spectra|^2 */
    double *uncertainty; /* [partitions][bins] */
    double *weighted;   /* [partitions][bins], powers * uncertainty (adapt's working row) */
    double *near_psd;   /* [bins] */
    double *window;     /* [n]: the previous and the current far-end block */
    double *taps_buf;   /* [n] */
    double *real_buf;   /* [n] */
    cpx *spectrum;      /* [bins] */
    cpx *echo_spectrum; /* [bins] */
    int *keep;          /* [partitions]: taps kept at the start of each partition */
    /* FFT tables: twiddles e^(-2 pi i j / block) for the complex FFT of `block` points,
     * e^(-2 pi i k / n) for the split, and two scratch arrays of `block` points. */
    cpx *tw_half, *tw_full, *scratch_in, *scratch_out;
} ec_filter;

/* ---- transforms ------------------------------------------------------------------------- */

/* The 5-point DFT by its symmetries: bins k and 5 - k share their sums and differ in the
 * sign of one imaginary term (4 real multiplications per pair instead of 4 complex). */
static void dft5(const cpx *in, size_t stride, cpx *out) {
    const double c1 = 0.30901699437494745, c2 = -0.8090169943749473; /* cos 2pi/5, 4pi/5 */
    const double s1 = 0.9510565162951535, s2 = 0.5877852522924732;  /* sin 2pi/5, 4pi/5 */
    cpx x0 = in[0], x1 = in[stride], x2 = in[2 * stride], x3 = in[3 * stride],
        x4 = in[4 * stride];
    cpx t1 = {x1.re + x4.re, x1.im + x4.im}, t2 = {x2.re + x3.re, x2.im + x3.im};
    cpx t3 = {x1.re - x4.re, x1.im - x4.im}, t4 = {x2.re - x3.re, x2.im - x3.im};
    out[0] = (cpx){x0.re + t1.re + t2.re, x0.im + t1.im + t2.im};
    cpx a1 = {x0.re + c1 * t1.re + c2 * t2.re, x0.im + c1 * t1.im + c2 * t2.im};
    cpx a2 = {x0.re + c2 * t1.re + c1 * t2.re, x0.im + c2 * t1.im + c1 * t2.im};
    cpx b1 = {s1 * t3.re + s2 * t4.re, s1 * t3.im + s2 * t4.im};
    cpx b2 = {s2 * t3.re - s1 * t4.re, s2 * t3.im - s1 * t4.im};
    /* X1 = a1 - i b1, X4 = a1 + i b1, X2 = a2 - i b2, X3 = a2 + i b2 */
    out[1] = (cpx){a1.re + b1.im, a1.im - b1.re};
    out[4] = (cpx){a1.re - b1.im, a1.im + b1.re};
    out[2] = (cpx){a2.re + b2.im, a2.im - b2.re};
    out[3] = (cpx){a2.re - b2.im, a2.im + b2.re};
}

/* out[0..m) = DFT of in[0], in[stride], ... (m points); tw holds e^(-2 pi i j / M) for the
 * top-level size M, and step = M / m picks this size's roots from it. */
static void cfft(const cpx *in, size_t stride, cpx *out, size_t m, const cpx *tw, size_t step) {
    if (m % 2 == 0) {
        size_t h = m / 2;
        cfft(in, 2 * stride, out, h, tw, 2 * step);
        cfft(in + stride, 2 * stride, out + h, h, tw, 2 * step);
        for (size_t k = 0; k < h; k++) {
            cpx t = c_mul(tw[k * step], out[h + k]);
            cpx a = out[k];
            out[k] = (cpx){a.re + t.re, a.im + t.im};
            out[h + k] = (cpx){a.re - t.re, a.im - t.im};
        }
        return;
    }
    if (m == 1) {
        out[0] = in[0];
        return;
    }
    if (m == 5) {
        dft5(in, stride, out);
        return;
    }
    /* The odd factor left (5 for a 160-point transform): a direct DFT. The root of sample j
     * for bin k is w^(j k mod m), its exponent kept by addition (a division per term would
     * cost more than the sums). */
    for (size_t k = 0; k < m; k++) {
        cpx acc = in[0];
        size_t e = k;
        for (size_t j = 1; j < m; j++) {
            cpx t = c_mul(in[j * stride], tw[e * step]);
            acc.re += t.re;
            acc.im += t.im;
            e += k;
            if (e >= m) e -= m;
        }
        out[k] = acc;
    }
}

/* Spectrum (bins = n / 2 + 1) of n real samples. */
static void rfft(ec_filter *s, const double *x, cpx *spectrum) {
    size_t m = (size_t)s->block;
    cpx *z = s->scratch_in, *zf = s->scratch_out;
    for (size_t j = 0; j < m; j++) z[j] = (cpx){x[2 * j], x[2 * j + 1]};
    cfft(z, 1, zf, m, s->tw_half, 1);
    /* Even part E[k] = (Z[k] + conj Z[m-k]) / 2, odd part O[k] = (Z[k] - conj Z[m-k]) / 2i,
     * X[k] = E[k] + w^k O[k]. */
    for (size_t k = 0; k <= m; k++) {
        cpx a = zf[k % m], b = zf[(m - k) % m];
        cpx even = {0.5 * (a.re + b.re), 0.5 * (a.im - b.im)};
        cpx odd = {0.5 * (a.im + b.im), -0.5 * (a.re - b.re)};
        cpx t = c_mul(s->tw_full[k], odd);
        spectrum[k] = (cpx){even.re + t.re, even.im + t.im};
    }
}

/* n real samples of a spectrum of bins = n / 2 + 1 (imaginary parts of the first and the
 * last bin ignored), scaled by 1 / n. */
static void irfft(ec_filter *s, const cpx *spectrum, double *x) {
    size_t m = (size_t)s->block;
    cpx *z = s->scratch_in, *zf = s->scratch_out;
    for (size_t k = 0; k < m; k++) {
        cpx a = spectrum[k], b = spectrum[m - k];
        if (k == 0) {
            a.im = 0.0;
            b.im = 0.0;
        }
        /* E = X[k] + conj X[m-k], O = (X[k] - conj X[m-k]) conj(w^k); Z = E + iO, all
         * doubled (the 1 / 2 is in the final scale). The inverse DFT is the conjugate of the
         * forward DFT of the conjugate. */
        cpx even = {a.re + b.re, a.im - b.im};
        cpx diff = {a.re - b.re, a.im + b.im};
        cpx w = {s->tw_full[k].re, -s->tw_full[k].im};
        cpx odd = c_mul(diff, w);
        z[k] = (cpx){even.re - odd.im, -(even.im + odd.re)};
    }
    cfft(z, 1, zf, m, s->tw_half, 1);
    double scale = 0.5 / (double)m; /* 1 / m for the DFT, 1 / 2 for the doubling */
    for (size_t j = 0; j < m; j++) {
        x[2 * j] = zf[j].re * scale;
        x[2 * j + 1] = -zf[j].im * scale;
    }
}

/* ---- the filter ------------------------------------------------------------------------- */

ECF_EXPORT int ecf_abi(void) { return ECF_ABI; }

ECF_EXPORT void ecf_free(ec_filter *s) {
    if (!s) return;
    free(s->weights);
    free(s->spectra);
    free(s->powers);
    free(s->uncertainty);
    free(s->weighted);
    free(s->near_psd);
    free(s->window);
    free(s->taps_buf);
    free(s->real_buf);
    free(s->spectrum);
    free(s->echo_spectrum);
    free(s->keep);
    free(s->tw_half);
    free(s->tw_full);
    free(s->scratch_in);
    free(s->scratch_out);
    free(s);
}

ECF_EXPORT void ecf_open_uncertainty(ec_filter *s, int forget) {
    size_t cells = (size_t)s->partitions * (size_t)s->bins;
    double floor = INITIAL_UNCERTAINTY / s->partitions;
    for (size_t i = 0; i < cells; i++)
        if (!(s->uncertainty[i] >= floor)) s->uncertainty[i] = floor;
    if (forget) memset(s->weights, 0, cells * sizeof(cpx));
}

ECF_EXPORT void ecf_reset(ec_filter *s) {
    size_t cells = (size_t)s->partitions * (size_t)s->bins;
    memset(s->weights, 0, 2 * cells * sizeof(cpx));
    memset(s->spectra, 0, cells * sizeof(cpx));
    memset(s->powers, 0, cells * sizeof(double));
    memset(s->uncertainty, 0, cells * sizeof(double));
    memset(s->near_psd, 0, (size_t)s->bins * sizeof(double));
    memset(s->window, 0, (size_t)s->n * sizeof(double));
    s->next_constraint = 0;
    s->drift_count = 0;
    ecf_open_uncertainty(s, 0);
}

/* A filter of `taps` taps in blocks of `block` samples; near_floor is the lowest near-end
 * mean square assumed (16-bit units squared). NULL for bad arguments or no memory. */
ECF_EXPORT ec_filter *ecf_new(int block, int taps, double near_floor) {
    if (block <= 0 || taps <= 0 || block > (1 << 16) || taps > (1 << 20)) return NULL;
    ec_filter *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->block = block;
    s->taps = taps;
    s->partitions = (taps + block - 1) / block;
    s->bins = block + 1;
    s->n = 2 * block;
    s->near_floor = near_floor * block;
    size_t cells = (size_t)s->partitions * (size_t)s->bins, m = (size_t)block;
    s->weights = calloc(2 * cells, sizeof(cpx));
    s->spectra = calloc(cells, sizeof(cpx));
    s->powers = calloc(cells, sizeof(double));
    s->uncertainty = calloc(cells, sizeof(double));
    s->weighted = calloc(cells, sizeof(double));
    s->near_psd = calloc((size_t)s->bins, sizeof(double));
    s->window = calloc((size_t)s->n, sizeof(double));
    s->taps_buf = calloc((size_t)s->n, sizeof(double));
    s->real_buf = calloc((size_t)s->n, sizeof(double));
    s->spectrum = calloc((size_t)s->bins, sizeof(cpx));
    s->echo_spectrum = calloc((size_t)s->bins, sizeof(cpx));
    s->keep = calloc((size_t)s->partitions, sizeof(int));
    s->tw_half = calloc(m, sizeof(cpx));
    s->tw_full = calloc(m + 1, sizeof(cpx));
    s->scratch_in = calloc(m, sizeof(cpx));
    s->scratch_out = calloc(m, sizeof(cpx));
    if (!s->weights || !s->spectra || !s->powers || !s->uncertainty || !s->weighted ||
        !s->near_psd || !s->window || !s->taps_buf || !s->real_buf || !s->spectrum ||
        !s->echo_spectrum || !s->keep || !s->tw_half || !s->tw_full || !s->scratch_in ||
        !s->scratch_out) {
        ecf_free(s);
        return NULL;
    }
    for (int p = 0; p < s->partitions; p++) {
        int left = taps - p * block;
        s->keep[p] = left < block ? left : block;
    }
    for (size_t j = 0; j < m; j++) {
        double a = -2.0 * ECF_PI * (double)j / (double)m;
        s->tw_half[j] = (cpx){cos(a), sin(a)};
    }
    for (size_t k = 0; k <= m; k++) {
        double a = -2.0 * ECF_PI * (double)k / (double)s->n;
        s->tw_full[k] = (cpx){cos(a), sin(a)};
    }
    ecf_reset(s);
    return s;
}

ECF_EXPORT int ecf_partitions(const ec_filter *s) { return s->partitions; }

/* Take the next block of far-end samples into the history. */
ECF_EXPORT void ecf_push_far(ec_filter *s, const double *far) {
    size_t b = (size_t)s->block, bins = (size_t)s->bins;
    memmove(s->window, s->window + b, b * sizeof(double));
    memcpy(s->window + b, far, b * sizeof(double));
    size_t older = (size_t)(s->partitions - 1) * bins;
    memmove(s->spectra + bins, s->spectra, older * sizeof(cpx));
    memmove(s->powers + bins, s->powers, older * sizeof(double));
    rfft(s, s->window, s->spectra);
    for (size_t k = 0; k < bins; k++) {
        cpx x = s->spectra[k];
        s->powers[k] = x.re * x.re + x.im * x.im;
    }
}

/* The echo estimates of this block: out[0..block) by the background weights,
 * out[block..2 block) by the foreground's. */
ECF_EXPORT void ecf_estimates(ec_filter *s, double *out) {
    size_t b = (size_t)s->block, bins = (size_t)s->bins, cells = (size_t)s->partitions * bins;
    for (int w = 0; w < 2; w++) {
        const cpx *weights = s->weights + (size_t)w * cells;
        cpx *acc = s->echo_spectrum;
        for (size_t k = 0; k < bins; k++) acc[k] = c_mul(weights[k], s->spectra[k]);
        for (int p = 1; p < s->partitions; p++) {
            const cpx *wp = weights + (size_t)p * bins, *xp = s->spectra + (size_t)p * bins;
            for (size_t k = 0; k < bins; k++) {
                cpx t = c_mul(wp[k], xp[k]);
                acc[k].re += t.re;
                acc[k].im += t.im;
            }
        }
        irfft(s, acc, s->real_buf);
        memcpy(out + (size_t)w * b, s->real_buf + b, b * sizeof(double));
    }
}

/* One Kalman update of the background weights from its error of this block. */
ECF_EXPORT void ecf_adapt(ec_filter *s, const double *error) {
    size_t b = (size_t)s->block, bins = (size_t)s->bins;
    int parts = s->partitions;
    double *win = s->real_buf;
    memset(win, 0, b * sizeof(double));
    memcpy(win + b, error, b * sizeof(double));
    cpx *spectrum = s->spectrum;
    rfft(s, win, spectrum);
    /* Per bin: residual echo the uncertainty predicts, the near end's power beyond it
     * (smoothed), and the Kalman gain's common factor `inverse`. */
    for (size_t k = 0; k < bins; k++) {
        double predicted = 0.0;
        for (int p = 0; p < parts; p++) {
            size_t i = (size_t)p * bins + k;
            double wtd = s->powers[i] * s->uncertainty[i];
            s->weighted[i] = wtd;
            predicted += wtd;
        }
        cpx e = spectrum[k];
        double near = e.re * e.re + e.im * e.im - predicted / WINDOW_RATIO;
        if (near < 0.0) near = 0.0;
        s->near_psd[k] += (1.0 - NEAR_PSD_SMOOTHING) * (near - s->near_psd[k]);
        double floor = s->near_psd[k] > s->near_floor ? s->near_psd[k] : s->near_floor;
        double inverse = 1.0 / (floor * WINDOW_RATIO + predicted);
        cpx gain = {e.re * inverse, e.im * inverse};
        for (int p = 0; p < parts; p++) {
            size_t i = (size_t)p * bins + k;
            double u = s->uncertainty[i];
            cpx x = s->spectra[i];
            cpx g = {u * gain.re, u * gain.im};
            /* step = u * gain * conj(x) */
            s->weights[i].re += g.re * x.re + g.im * x.im;
            s->weights[i].im += g.im * x.re - g.re * x.im;
            /* P <- P - P |X|^2 P / (ratio * denominator) */
            s->uncertainty[i] = u - s->weighted[i] * u * (inverse / WINDOW_RATIO);
        }
    }
    /* The gradient constraint on one partition per block: its taps past `block` (and past
     * the tail) are circular-convolution garbage. */
    int p = s->next_constraint;
    s->next_constraint = (p + 1) % parts;
    cpx *wp = s->weights + (size_t)p * bins;
    irfft(s, wp, s->taps_buf);
    memset(s->taps_buf + s->keep[p], 0, ((size_t)s->n - (size_t)s->keep[p]) * sizeof(double));
    rfft(s, s->taps_buf, wp);
    if (++s->drift_count == DRIFT_EVERY) {
        s->drift_count = 0;
        double q = DRIFT_EVERY * PROCESS_NOISE;
        size_t cells = (size_t)parts * bins;
        for (size_t i = 0; i < cells; i++) {
            cpx w = s->weights[i];
            s->uncertainty[i] = s->uncertainty[i] * (1.0 - q) + q * (w.re * w.re + w.im * w.im);
        }
    }
}

/* firmware/dsp/echo.py's first steps of a block in one call. rows holds six rows of
 * `block` samples: far end and near end (given), then written here: the background's and
 * the foreground's residuals (near end less each echo estimate) and the two estimates.
 * measures gets the six rows' energies (sums of squares) and the peaks (largest
 * magnitude) of the first four. */
ECF_EXPORT void ecf_front(ec_filter *s, double *rows, double *measures) {
    size_t b = (size_t)s->block;
    ecf_push_far(s, rows);
    ecf_estimates(s, rows + 4 * b);
    const double *near = rows + b, *est = rows + 4 * b;
    for (size_t j = 0; j < b; j++) {
        rows[2 * b + j] = near[j] - est[j];
        rows[3 * b + j] = near[j] - est[b + j];
    }
    for (size_t r = 0; r < 6; r++) {
        const double *row = rows + r * b;
        double energy = 0.0, peak = 0.0;
        for (size_t j = 0; j < b; j++) {
            energy += row[j] * row[j];
            double a = fabs(row[j]);
            if (a > peak) peak = a;
        }
        measures[r] = energy;
        if (r < 4) measures[6 + r] = peak;
    }
}

/* Copy one set of weights over the other: to_foreground 1 copies the background. */
ECF_EXPORT void ecf_copy(ec_filter *s, int to_foreground) {
    size_t cells = (size_t)s->partitions * (size_t)s->bins;
    cpx *bg = s->weights, *fg = s->weights + cells;
    if (to_foreground)
        memcpy(fg, bg, cells * sizeof(cpx));
    else
        memcpy(bg, fg, cells * sizeof(cpx));
}

/* The transforms alone, for the tests: spectrum (bins complex) of n real samples, and back. */
ECF_EXPORT void ecf_rfft(ec_filter *s, const double *x, double *spectrum) {
    rfft(s, x, (cpx *)spectrum);
}

ECF_EXPORT void ecf_irfft(ec_filter *s, const double *spectrum, double *x) {
    irfft(s, (const cpx *)spectrum, x);
}

/* The background weights (partitions * bins complex), for the tests. */
ECF_EXPORT void ecf_weights(const ec_filter *s, int foreground, double *out) {
    size_t cells = (size_t)s->partitions * (size_t)s->bins;
    memcpy(out, s->weights + (foreground ? cells : 0), cells * sizeof(cpx));
}
