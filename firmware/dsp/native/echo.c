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
 * The ecc_* functions at the end run the whole canceller, one call a frame: echo.py's
 * control and NLP and comfort_noise.py's noise (its xorshift32 lanes, so the output is
 * the Python reference's sample for sample) around the filter; firmware/dsp/echo_native.py
 * drives them. In the daemon the Python around two filter calls cost twice the filter.
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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ECF_EXPORT __attribute__((visibility("default")))
/* Bumped whenever a signature below changes; Python refuses a library of another. */
#define ECF_ABI 3

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

/* A real FFT of 2 m points: twiddles e^(-2 pi i j / m) for the complex FFT of m points,
 * e^(-2 pi i k / 2m) for the split, and two scratch arrays of m points. */
typedef struct rtab {
    size_t m;
    cpx *tw_half, *tw_full, *scratch_in, *scratch_out;
} rtab;

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
    rtab fft; /* transforms of n = 2 * block points */
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
static void rfft_t(const rtab *s, const double *x, cpx *spectrum) {
    size_t m = s->m;
    cpx *z = s->scratch_in, *zf = s->scratch_out;
    for (size_t j = 0; j < m; j++) z[j] = (cpx){x[2 * j], x[2 * j + 1]};
    cfft(z, 1, zf, m, s->tw_half, 1);
    /* Even part E[k] = (Z[k] + conj Z[m-k]) / 2, odd part O[k] = (Z[k] - conj Z[m-k]) / 2i,
     * X[k] = E[k] + w^k O[k]. */
    for (size_t k = 0; k <= m; k++) {
        /* Z is periodic in m: Z[m] is Z[0] (indices without a division: this loop runs for
         * every bin of six transforms a block). */
        cpx a = zf[k < m ? k : 0], b = zf[k ? m - k : 0];
        cpx even = {0.5 * (a.re + b.re), 0.5 * (a.im - b.im)};
        cpx odd = {0.5 * (a.im + b.im), -0.5 * (a.re - b.re)};
        cpx t = c_mul(s->tw_full[k], odd);
        spectrum[k] = (cpx){even.re + t.re, even.im + t.im};
    }
}

/* n real samples of a spectrum of bins = n / 2 + 1 (imaginary parts of the first and the
 * last bin ignored), scaled by 1 / n. */
static void irfft_t(const rtab *s, const cpx *spectrum, double *x) {
    size_t m = s->m;
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

static void rfft(ec_filter *s, const double *x, cpx *spectrum) { rfft_t(&s->fft, x, spectrum); }
static void irfft(ec_filter *s, const cpx *spectrum, double *x) { irfft_t(&s->fft, spectrum, x); }

static void rtab_free(rtab *t) {
    free(t->tw_half);
    free(t->tw_full);
    free(t->scratch_in);
    free(t->scratch_out);
}

/* Tables for real transforms of 2 m points; 0 when out of memory. */
static int rtab_init(rtab *t, size_t m) {
    t->m = m;
    t->tw_half = calloc(m, sizeof(cpx));
    t->tw_full = calloc(m + 1, sizeof(cpx));
    t->scratch_in = calloc(m, sizeof(cpx));
    t->scratch_out = calloc(m, sizeof(cpx));
    if (!t->tw_half || !t->tw_full || !t->scratch_in || !t->scratch_out) return 0;
    for (size_t j = 0; j < m; j++) {
        double a = -2.0 * ECF_PI * (double)j / (double)m;
        t->tw_half[j] = (cpx){cos(a), sin(a)};
    }
    for (size_t k = 0; k <= m; k++) {
        double a = -2.0 * ECF_PI * (double)k / (double)(2 * m);
        t->tw_full[k] = (cpx){cos(a), sin(a)};
    }
    return 1;
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
    rtab_free(&s->fft);
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
    int tables = rtab_init(&s->fft, m);
    if (!s->weights || !s->spectra || !s->powers || !s->uncertainty || !s->weighted ||
        !s->near_psd || !s->window || !s->taps_buf || !s->real_buf || !s->spectrum ||
        !s->echo_spectrum || !s->keep || !tables) {
        ecf_free(s);
        return NULL;
    }
    for (int p = 0; p < s->partitions; p++) {
        int left = taps - p * block;
        s->keep[p] = left < block ? left : block;
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

/* ---- the whole canceller: firmware/dsp/echo.py and comfort_noise.py ------------------- */

/* The canceller's numbers, given by Python at ecc_new in this order (firmware/dsp/
 * echo_native.py's PARAMS), so that echo.py and comfort_noise.py hold the only copy. */
enum {
    P_FAR_ACTIVE,       /* far-end mean square below which the filter does not adapt */
    P_NEAR_FLOOR,       /* the block filter's near_floor */
    P_WORSE,            /* WORSE_THAN_NOTHING_DB as a power ratio */
    P_COPY,             /* TWO_PATH_COPY_DB, as the ratio the background must be under */
    P_COPY_IN_DOUBT,    /* TWO_PATH_COPY_IN_DOUBT_DB, likewise */
    P_RESET,            /* TWO_PATH_RESET_DB as a ratio */
    P_CANCELLED,        /* CANCELLED_ERLE_DB as a ratio */
    P_CONVERGED,        /* CONVERGED_ERLE_DB as a ratio */
    P_SMOOTH,           /* 1 / TWO_PATH_WINDOW_BLOCKS */
    P_ERLE_SMOOTHING,
    P_GEIGEL,           /* GEIGEL_THRESHOLD */
    P_HANGOVER,         /* DOUBLE_TALK_HANGOVER_BLOCKS */
    P_PATH_CHANGE,      /* PATH_CHANGE_BLOCKS */
    P_RELEARN,          /* RELEARN_BLOCKS */
    P_NOISE_RISE,       /* comfort noise: per-block rise of the level (a ratio) */
    P_NOISE_MARGIN,     /* NOISE_BLOCK_MARGIN_DB as a ratio */
    P_NOISE_FALL,
    P_SPECTRUM_SMOOTHING,
    P_SPECTRUM_EVERY,
    P_BATCH,            /* BATCH_BLOCKS */
    P_COUNT
};

/* comfort_noise.py's generator: one xorshift32 lane per random number of a batch (each
 * advanced once a batch), seeded by a hash of (seed, lane), so numpy can run it as array
 * operations and this file as a loop, with the same numbers. */
static uint32_t lane_seed(uint32_t seed, uint32_t lane) {
    uint32_t x = seed + lane * 0x9E3779B9u;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x ? x : 1u;
}

typedef struct ec_canceller {
    ec_filter *f;
    int block, nlp, history; /* history: far-end blocks over the filter's span and one more */
    double p[P_COUNT];
    uint32_t seed;
    /* control (echo.py's EchoCanceller attributes of the same names) */
    double *far_energies, *far_peaks; /* [history], oldest first */
    double background_level, foreground_level;
    double far_level, echo_level, near_level, residual_level;
    int converged, learnt, relearn_wait, double_talk_hold, geigel_hold, lost_blocks, copied;
    double passing;
    double *rows;    /* [6][block]: far, near, residuals, estimates (as ecf_front) */
    double *fade_in; /* [block] */
    double *out;     /* [block] */
    /* comfort noise (comfort_noise.py's ComfortNoise) */
    int bins, batch, learned, quiet_blocks, next;
    double level;
    double *spectrum; /* [bins] */
    double *made;     /* [batch][block] */
    double *scale;    /* [bins] */
    uint32_t *lanes;  /* [2][batch][bins] */
    cpx *noise_bins;  /* [bins] */
    rtab nfft;        /* transforms of `block` points */
} ec_canceller;

ECF_EXPORT void ecc_free(ec_canceller *c) {
    if (!c) return;
    ecf_free(c->f);
    free(c->far_energies);
    free(c->far_peaks);
    free(c->rows);
    free(c->fade_in);
    free(c->out);
    free(c->spectrum);
    free(c->made);
    free(c->scale);
    free(c->lanes);
    free(c->noise_bins);
    rtab_free(&c->nfft);
    free(c);
}

static void noise_reset(ec_canceller *c) {
    size_t count = 2 * (size_t)c->batch * (size_t)c->bins;
    for (size_t i = 0; i < count; i++) c->lanes[i] = lane_seed(c->seed, (uint32_t)i);
    c->level = -1.0;
    memset(c->spectrum, 0, (size_t)c->bins * sizeof(double));
    c->learned = 0;
    c->quiet_blocks = 0;
    memset(c->made, 0, (size_t)c->batch * (size_t)c->block * sizeof(double));
    c->next = c->batch;
}

ECF_EXPORT void ecc_reset(ec_canceller *c) {
    ecf_reset(c->f);
    noise_reset(c);
    memset(c->far_energies, 0, (size_t)c->history * sizeof(double));
    memset(c->far_peaks, 0, (size_t)c->history * sizeof(double));
    c->background_level = c->foreground_level = 0.0;
    c->far_level = c->echo_level = c->near_level = c->residual_level = 0.0;
    c->converged = c->learnt = 0;
    c->relearn_wait = c->double_talk_hold = c->geigel_hold = c->lost_blocks = 0;
    c->copied = 0;
    c->passing = 1.0;
}

/* A canceller of `taps` taps in blocks of `block` (even) samples; params as the enum above
 * (count must be P_COUNT: a library of another layout is refused). NULL on bad arguments. */
ECF_EXPORT ec_canceller *ecc_new(int block, int taps, int nlp, uint32_t seed,
                                 const double *params, int count) {
    if (count != P_COUNT || block <= 0 || block % 2) return NULL;
    ec_canceller *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    memcpy(c->p, params, sizeof c->p);
    c->block = block;
    c->nlp = nlp;
    c->seed = seed;
    c->bins = block / 2 + 1;
    c->batch = (int)c->p[P_BATCH];
    c->f = ecf_new(block, taps, c->p[P_NEAR_FLOOR]);
    if (!c->f || c->batch <= 0) {
        ecc_free(c);
        return NULL;
    }
    c->history = c->f->partitions + 1;
    size_t b = (size_t)block, bins = (size_t)c->bins, batch = (size_t)c->batch;
    c->far_energies = calloc((size_t)c->history, sizeof(double));
    c->far_peaks = calloc((size_t)c->history, sizeof(double));
    c->rows = calloc(6 * b, sizeof(double));
    c->fade_in = calloc(b, sizeof(double));
    c->out = calloc(b, sizeof(double));
    c->spectrum = calloc(bins, sizeof(double));
    c->made = calloc(batch * b, sizeof(double));
    c->scale = calloc(bins, sizeof(double));
    c->lanes = calloc(2 * batch * bins, sizeof(uint32_t));
    c->noise_bins = calloc(bins, sizeof(cpx));
    int tables = rtab_init(&c->nfft, b / 2);
    if (!c->far_energies || !c->far_peaks || !c->rows || !c->fade_in || !c->out ||
        !c->spectrum || !c->made || !c->scale || !c->lanes || !c->noise_bins || !tables) {
        ecc_free(c);
        return NULL;
    }
    for (size_t j = 0; j < b; j++) c->fade_in[j] = ((double)j + 0.5) / (double)b;
    ecc_reset(c);
    return c;
}

/* ComfortNoise.observe: learn from one residual block whose sum of squares is energy. */
static void noise_observe(ec_canceller *c, const double *residual, double energy) {
    double power = energy / c->block;
    if (c->level < 0.0)
        c->level = power;
    else if (power < c->level)
        c->level += c->p[P_NOISE_FALL] * (power - c->level);
    else {
        double risen = c->level * c->p[P_NOISE_RISE];
        c->level = power < risen ? power : risen;
    }
    if (power > c->level * c->p[P_NOISE_MARGIN]) return;
    c->quiet_blocks++;
    if (c->quiet_blocks % (int)c->p[P_SPECTRUM_EVERY] != 1) return;
    rfft_t(&c->nfft, residual, c->noise_bins);
    double a = c->p[P_SPECTRUM_SMOOTHING];
    for (int k = 0; k < c->bins; k++) {
        cpx x = c->noise_bins[k];
        double magnitude = x.re * x.re + x.im * x.im;
        if (c->learned)
            c->spectrum[k] += a * (magnitude - c->spectrum[k]);
        else
            c->spectrum[k] = magnitude;
    }
    c->learned = 1;
}

/* ComfortNoise._make: a batch of unit-level noise under the learned spectrum. */
static void noise_make(ec_canceller *c) {
    c->next = 0;
    size_t b = (size_t)c->block, bins = (size_t)c->bins, batch = (size_t)c->batch;
    const double *s = c->spectrum;
    double middle = 0.0;
    for (size_t k = 1; k + 1 < bins; k++) middle += s[k];
    double held = (s[0] + s[bins - 1] + 2.0 * middle) / (double)(b * b);
    if (!c->learned || !(held > 0.0)) {
        memset(c->made, 0, batch * b * sizeof(double));
        return;
    }
    for (size_t k = 0; k < bins; k++) c->scale[k] = sqrt(s[k] * (3.0 / held / 2.0));
    size_t count = 2 * batch * bins;
    for (size_t i = 0; i < count; i++) {
        uint32_t x = c->lanes[i];
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c->lanes[i] = x;
    }
    const double unit = 1.0 / 2147483648.0;
    for (size_t r = 0; r < batch; r++) {
        const uint32_t *re = c->lanes + r * bins, *im = c->lanes + (batch + r) * bins;
        for (size_t k = 0; k < bins; k++)
            c->noise_bins[k] = (cpx){c->scale[k] * ((double)(int32_t)re[k] * unit),
                                     c->scale[k] * ((double)(int32_t)im[k] * unit)};
        irfft_t(&c->nfft, c->noise_bins, c->made + r * b);
    }
}

/* ComfortNoise.generate: the next block of noise, at the level of this moment. */
static const double *noise_generate(ec_canceller *c) {
    if (c->next >= c->batch) noise_make(c);
    double *block = c->made + (size_t)c->next * (size_t)c->block;
    double gain = sqrt(c->level > 0.0 ? c->level : 0.0);
    for (int j = 0; j < c->block; j++) c->out[j] = block[j] * gain;
    c->next++;
    return c->out;
}

static void two_path(ec_canceller *c, double background_power, double foreground_power) {
    double a = c->p[P_SMOOTH];
    c->background_level += a * (background_power - c->background_level);
    c->foreground_level += a * (foreground_power - c->foreground_level);
    int doubt = c->geigel_hold > 0 || c->double_talk_hold > 0;
    double margin = doubt ? c->p[P_COPY_IN_DOUBT] : c->p[P_COPY];
    c->copied = c->background_level < c->foreground_level * margin &&
                background_power < foreground_power * margin;
    if (c->copied) {
        ecf_copy(c->f, 1);
        c->foreground_level = c->background_level;
    } else if (c->background_level > c->foreground_level * c->p[P_RESET]) {
        ecf_copy(c->f, 0);
        c->background_level = c->foreground_level;
    }
}

static void track(ec_canceller *c, double far, double echo, double near, double residual) {
    double a = c->p[P_ERLE_SMOOTHING];
    c->far_level += a * (far - c->far_level);
    c->echo_level += a * (echo - c->echo_level);
    c->near_level += a * (near - c->near_level);
    c->residual_level += a * (residual - c->residual_level);
    c->converged = c->near_level > c->residual_level * c->p[P_CONVERGED];
    c->learnt = c->learnt || c->converged;
}

static int detect_near_speech(ec_canceller *c, int far_active, double near_power,
                              double residual_power, double echo_power) {
    if (!far_active) {
        c->lost_blocks = 0;
        return 1;
    }
    int geigel = c->geigel_hold > 0;
    double cancelled = c->p[P_CANCELLED];
    int audible = echo_power > cancelled * c->level * c->block;
    int lost = c->learnt && audible && residual_power * cancelled > near_power;
    c->relearn_wait = c->relearn_wait > 1 ? c->relearn_wait - 1 : 0;
    if (lost) {
        c->lost_blocks++;
        if (c->lost_blocks >= (int)c->p[P_PATH_CHANGE] && c->relearn_wait == 0) {
            ecf_open_uncertainty(c->f, 1);
            c->relearn_wait = (int)c->p[P_RELEARN];
            c->lost_blocks = 0;
        }
    } else {
        c->lost_blocks = 0;
    }
    if (geigel || lost)
        c->double_talk_hold = (int)c->p[P_HANGOVER];
    else if (c->double_talk_hold > 0)
        c->double_talk_hold--;
    return c->double_talk_hold > 0;
}

/* EchoCanceller._block on rows 0 and 1 (far, near); the result is in *result. */
static const double *block(ec_canceller *c) {
    size_t n = (size_t)c->block;
    double m[10];
    ecf_front(c->f, c->rows, m);
    double far_energy = m[0], near_power = m[1], background_power = m[2];
    double foreground_power = m[3], background_echo = m[4], echo_power = m[5];
    double far_peak = m[6], near_peak = m[7], residual_peak = m[9];
    int h = c->history;
    memmove(c->far_energies, c->far_energies + 1, (size_t)(h - 1) * sizeof(double));
    memmove(c->far_peaks, c->far_peaks + 1, (size_t)(h - 1) * sizeof(double));
    c->far_energies[h - 1] = far_energy;
    c->far_peaks[h - 1] = far_peak;
    double sum = 0.0, peak = 0.0;
    for (int i = 0; i < h; i++) {
        sum += c->far_energies[i];
        if (c->far_peaks[i] > peak) peak = c->far_peaks[i];
    }
    double far_level = sum / (double)((size_t)h * n);
    int far_active = far_level > c->p[P_FAR_ACTIVE];
    /* Geigel on the near end and the residual (echo.py's _geigel). */
    double bound = c->p[P_GEIGEL] * peak;
    if (near_peak > bound && residual_peak > bound)
        c->geigel_hold = (int)c->p[P_HANGOVER];
    else if (c->geigel_hold > 0)
        c->geigel_hold--;
    const double *near = c->rows + n, *background = c->rows + 2 * n;
    const double *foreground = c->rows + 3 * n;
    if (far_active) {
        two_path(c, background_power, foreground_power);
        if (c->copied) {
            foreground = background;
            foreground_power = background_power;
            echo_power = background_echo;
        }
        ecf_adapt(c->f, background);
        if (c->geigel_hold == 0)
            track(c, far_level * (double)n, echo_power, near_power, foreground_power);
    }
    if (foreground_power > near_power * c->p[P_WORSE]) {
        foreground = near;
        foreground_power = near_power;
    }
    noise_observe(c, foreground, foreground_power);
    int near_speech = detect_near_speech(c, far_active, near_power, foreground_power,
                                         echo_power);
    if (!c->nlp) return foreground;
    /* The NLP (echo.py's _nonlinear_processor). */
    double target = far_active && !near_speech ? 0.0 : 1.0;
    if (target == c->passing) return target != 0.0 ? foreground : noise_generate(c);
    c->passing = target;
    const double *noise = noise_generate(c);
    for (size_t j = 0; j < n; j++) {
        double ramp = target != 0.0 ? c->fade_in[j] : 1.0 - c->fade_in[j];
        c->out[j] = ramp * foreground[j] + (1.0 - ramp) * noise[j];
    }
    return c->out;
}

static int16_t to_int16(double x) {
    double r = rint(x);
    if (r > 32767.0) r = 32767.0;
    if (r < -32768.0) r = -32768.0;
    return (int16_t)r;
}

/* `blocks` whole blocks: far (may be NULL: silence) and near as int16, out the result. */
ECF_EXPORT void ecc_process(ec_canceller *c, const int16_t *far, const int16_t *near,
                            int16_t *out, int blocks) {
    size_t n = (size_t)c->block;
    for (int k = 0; k < blocks; k++) {
        size_t at = (size_t)k * n;
        for (size_t j = 0; j < n; j++) {
            c->rows[j] = far ? (double)far[at + j] : 0.0;
            c->rows[n + j] = (double)near[at + j];
        }
        const double *result = block(c);
        for (size_t j = 0; j < n; j++) out[at + j] = to_int16(result[j]);
    }
}

/* The same with far and near as doubles (the tests' material). */
ECF_EXPORT void ecc_process_f64(ec_canceller *c, const double *far, const double *near,
                                int16_t *out, int blocks) {
    size_t n = (size_t)c->block;
    for (int k = 0; k < blocks; k++) {
        size_t at = (size_t)k * n;
        memcpy(c->rows, far + at, n * sizeof(double));
        memcpy(c->rows + n, near + at, n * sizeof(double));
        const double *result = block(c);
        for (size_t j = 0; j < n; j++) out[at + j] = to_int16(result[j]);
    }
}

/* For the status: far, echo, near and residual levels, converged, double talk held,
 * passing (1 while the residual passes, 0 while comfort noise replaces it). */
ECF_EXPORT void ecc_status(const ec_canceller *c, double *out) {
    out[0] = c->far_level;
    out[1] = c->echo_level;
    out[2] = c->near_level;
    out[3] = c->residual_level;
    out[4] = c->converged;
    out[5] = c->double_talk_hold;
    out[6] = c->passing;
}

ECF_EXPORT void ecc_set_nlp(ec_canceller *c, int nlp) { c->nlp = nlp; }
