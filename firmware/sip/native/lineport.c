/* A line port for pjmedia's conference bridge that never enters Python.
 *
 * The bridge's clock thread calls get_frame (what the line says, for whoever listens) and
 * put_frame (what the bridge sends the line) 50 times a second. Here both only move 20 ms
 * frames (160 samples of 16-bit PCM, 8 kHz) through three single-producer/single-consumer
 * rings, with no lock and no call into Python or into pjlib:
 *
 *   say   Python (the line pump) -> clock thread   what the line says
 *   hear  clock thread -> Python (the line pump)   what the line hears: bridged audio mixed
 *                                                  with the playback ring
 *   play  Python (loop or pump) -> clock thread    tones, caller ID, prompts, queued ahead
 *
 * Ring policy, the same for all three: the producer never waits. A frame written into a full
 * ring is dropped (the NEWEST frame is lost, and counted), since only the consumer may move
 * the read index. The consumer of the say ring also trims it to a few frames at each read
 * (the OLDEST frames go), so a line that was not listened to for a while does not talk with a
 * delay afterwards. A read from an empty ring gives silence (get_frame) or nothing.
 * A flush of the playback ring is a request the clock thread carries out at its next tick:
 * everything written before the request is dropped, anything written after it plays.
 *
 * The port is compiled against pjproject's headers (the pjmedia_port layout of the version
 * named by PJ_VERSION_NUM_*); Python checks that version against the running library and
 * then sends a frame through the bridge between two of these ports before using them.
 * Nothing here is linked against pjproject: the library's functions are called by Python.
 */

#include <pjmedia/port.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LP_SAMPLES 160
#define LP_FRAME_BYTES (LP_SAMPLES * 2)
#define LP_CLOCK_RATE 8000
#define LP_SIGNATURE PJMEDIA_SIG_CLASS_APP('M', 'L', 'P')

#define LP_STR2(x) #x
#define LP_STR(x) LP_STR2(x)
#define LP_BUILT_VERSION                                                                     \
    LP_STR(PJ_VERSION_NUM_MAJOR) "." LP_STR(PJ_VERSION_NUM_MINOR) "." LP_STR(PJ_VERSION_NUM_REV) \
        PJ_VERSION_NUM_EXTRA

/* ---- ring ------------------------------------------------------------------------------ */

typedef struct lp_ring {
    int16_t *buf;             /* cap frames of LP_SAMPLES */
    uint32_t cap;             /* frames, a power of two */
    _Atomic uint32_t head;    /* frames written so far (producer) */
    _Atomic uint32_t tail;    /* frames read or dropped so far (consumer) */
    _Atomic uint32_t flush_to; /* consumer: drop everything before this head (play ring) */
    _Atomic uint32_t flushes;  /* flush requests made (producer) */
    _Atomic uint32_t flushes_done;
    _Atomic uint64_t overflows; /* frames refused because the ring was full */
    _Atomic uint64_t trimmed;   /* frames the consumer dropped to bound the delay */
    _Atomic uint64_t underruns; /* reads that found nothing */
} lp_ring;

static int ring_init(lp_ring *r, uint32_t cap) {
    uint32_t c = 1;
    while (c < cap) c <<= 1;
    memset(r, 0, sizeof(*r));
    r->buf = calloc((size_t)c * LP_SAMPLES, sizeof(int16_t));
    if (!r->buf) return -1;
    r->cap = c;
    return 0;
}

static uint32_t ring_count(lp_ring *r) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    return h - t;
}

/* Frames that will still be read: a pending flush's frames do not count. */
static uint32_t ring_pending(lp_ring *r) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (atomic_load_explicit(&r->flushes, memory_order_acquire) !=
        atomic_load_explicit(&r->flushes_done, memory_order_acquire)) {
        uint32_t to = atomic_load_explicit(&r->flush_to, memory_order_acquire);
        if ((int32_t)(to - t) > 0) t = to;
    }
    return h - t;
}

/* Producer: copy up to n frames in; returns how many fit (the rest are counted as lost). */
static uint32_t ring_write(lp_ring *r, const int16_t *pcm, uint32_t n) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t room = r->cap - (h - t);
    uint32_t k = n < room ? n : room;
    for (uint32_t i = 0; i < k; i++) {
        memcpy(r->buf + (size_t)((h + i) & (r->cap - 1)) * LP_SAMPLES, pcm + (size_t)i * LP_SAMPLES,
               LP_FRAME_BYTES);
    }
    atomic_store_explicit(&r->head, h + k, memory_order_release);
    if (k < n) atomic_fetch_add_explicit(&r->overflows, n - k, memory_order_relaxed);
    return k;
}

/* Consumer: carry out a pending flush, then drop the oldest frames beyond keep (0: none). */
static void ring_settle(lp_ring *r, uint32_t keep) {
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t reqs = atomic_load_explicit(&r->flushes, memory_order_acquire);
    if (reqs != atomic_load_explicit(&r->flushes_done, memory_order_relaxed)) {
        uint32_t to = atomic_load_explicit(&r->flush_to, memory_order_acquire);
        if ((int32_t)(to - t) > 0) t = to;
        atomic_store_explicit(&r->flushes_done, reqs, memory_order_relaxed);
    }
    if (keep) {
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (h - t > keep) {
            atomic_fetch_add_explicit(&r->trimmed, (h - t) - keep, memory_order_relaxed);
            t = h - keep;
        }
    }
    atomic_store_explicit(&r->tail, t, memory_order_release);
}

/* Consumer: copy up to n frames out; returns how many there were. */
static uint32_t ring_read(lp_ring *r, int16_t *out, uint32_t n) {
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    uint32_t have = h - t;
    uint32_t k = n < have ? n : have;
    for (uint32_t i = 0; i < k; i++) {
        memcpy(out + (size_t)i * LP_SAMPLES, r->buf + (size_t)((t + i) & (r->cap - 1)) * LP_SAMPLES,
               LP_FRAME_BYTES);
    }
    atomic_store_explicit(&r->tail, t + k, memory_order_release);
    if (k < n) atomic_fetch_add_explicit(&r->underruns, 1, memory_order_relaxed);
    return k;
}

/* Producer: ask the consumer to drop everything written so far. */
static void ring_flush(lp_ring *r) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->flush_to, h, memory_order_release);
    atomic_fetch_add_explicit(&r->flushes, 1, memory_order_release);
}

/* ---- the tick: the pump waits for it ---------------------------------------------------- */

static pthread_mutex_t g_tick_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_tick_cond;
static pthread_once_t g_tick_once = PTHREAD_ONCE_INIT;
static _Atomic int g_waiters;
static _Atomic int g_wake; /* lp_wake: the waiter returns with no new tick */
static _Atomic uint64_t g_tick_seq;
static _Atomic uint64_t g_tick_ts = UINT64_MAX; /* the bridge timestamp of the last tick */
static _Atomic int64_t g_tick_ns;               /* CLOCK_MONOTONIC of the last tick */

static void tick_init(void) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g_tick_cond, &attr);
    pthread_condattr_destroy(&attr);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Called from every port's put_frame; the first port of each tick counts it. */
static void tick_seen(uint64_t ts) {
    uint64_t last = atomic_load_explicit(&g_tick_ts, memory_order_relaxed);
    if (last == ts) return;
    atomic_store_explicit(&g_tick_ts, ts, memory_order_relaxed);
    atomic_store_explicit(&g_tick_ns, now_ns(), memory_order_relaxed);
    atomic_fetch_add_explicit(&g_tick_seq, 1, memory_order_release);
    if (atomic_load_explicit(&g_waiters, memory_order_acquire)) {
        pthread_mutex_lock(&g_tick_mutex);
        pthread_cond_broadcast(&g_tick_cond);
        pthread_mutex_unlock(&g_tick_mutex);
    }
}

/* ---- the port ----------------------------------------------------------------------------- */

typedef struct lp_port {
    pjmedia_port base; /* first: the bridge sees a pjmedia_port */
    char name[32];
    lp_ring say, hear, play;
    uint32_t say_keep; /* frames the say ring may hold at a read; older ones are trimmed */
    _Atomic uint64_t gets, puts, heard;
    _Atomic int destroyed;
} lp_port;

static pj_status_t lp_get_frame(pjmedia_port *this_port, pjmedia_frame *frame) {
    lp_port *p = (lp_port *)this_port;
    atomic_fetch_add_explicit(&p->gets, 1, memory_order_relaxed);
    ring_settle(&p->say, p->say_keep);
    if (ring_read(&p->say, (int16_t *)frame->buf, 1) == 0) {
        memset(frame->buf, 0, LP_FRAME_BYTES); /* underrun: silence */
    }
    frame->type = PJMEDIA_FRAME_TYPE_AUDIO;
    frame->size = LP_FRAME_BYTES;
    return PJ_SUCCESS;
}

static pj_status_t lp_put_frame(pjmedia_port *this_port, pjmedia_frame *frame) {
    lp_port *p = (lp_port *)this_port;
    int16_t local[LP_SAMPLES];
    int16_t out[LP_SAMPLES];
    const int16_t *bridged = NULL;
    atomic_fetch_add_explicit(&p->puts, 1, memory_order_relaxed);
    tick_seen(frame->timestamp.u64);
    if (frame->type == PJMEDIA_FRAME_TYPE_AUDIO && frame->buf && frame->size >= LP_FRAME_BYTES)
        bridged = (const int16_t *)frame->buf;
    ring_settle(&p->play, 0);
    int have_local = ring_count(&p->play) ? (int)ring_read(&p->play, local, 1) : 0;
    if (have_local && bridged) {
        for (int i = 0; i < LP_SAMPLES; i++) {
            int32_t s = (int32_t)local[i] + bridged[i];
            out[i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
        }
        ring_write(&p->hear, out, 1);
    } else if (have_local) {
        ring_write(&p->hear, local, 1);
    } else if (bridged) {
        ring_write(&p->hear, bridged, 1);
    } else {
        return PJ_SUCCESS; /* nothing for the line this tick */
    }
    atomic_fetch_add_explicit(&p->heard, 1, memory_order_relaxed);
    return PJ_SUCCESS;
}

static pj_status_t lp_on_destroy(pjmedia_port *this_port) {
    /* The bridge let go of the port. Its memory stays until lp_free: Python owns it. */
    atomic_store(&((lp_port *)this_port)->destroyed, 1);
    return PJ_SUCCESS;
}

/* ---- the API Python calls (ctypes) -------------------------------------------------------- */

#define LP_API __attribute__((visibility("default")))

LP_API const char *lp_built_version(void) { return LP_BUILT_VERSION; }
LP_API int lp_frame_samples(void) { return LP_SAMPLES; }
LP_API size_t lp_port_struct_size(void) { return sizeof(pjmedia_port); }

/* A pjmedia_port_info as this file sets one up (what pjmedia_port_info_init does), into
   buf: Python compares it with what the running library's pjmedia_port_info_init writes
   into a buffer of the same filler, which shows the library's size and field offsets. */
LP_API size_t lp_info_image(void *buf, char *name, long name_len, unsigned signature) {
    pjmedia_port_info *info = (pjmedia_port_info *)buf;
    memset(info, 0, sizeof(*info));
    info->name.ptr = name;
    info->name.slen = (pj_ssize_t)name_len;
    info->signature = signature;
    info->dir = PJMEDIA_DIR_ENCODING_DECODING;
    pjmedia_format_init_audio(&info->fmt, PJMEDIA_FORMAT_L16, LP_CLOCK_RATE, 1, 16,
                              LP_SAMPLES * 1000000u / LP_CLOCK_RATE, LP_CLOCK_RATE * 16,
                              LP_CLOCK_RATE * 16);
    return sizeof(*info);
}

LP_API lp_port *lp_create(const char *name, unsigned say_cap, unsigned hear_cap,
                          unsigned play_cap, unsigned say_keep) {
    pthread_once(&g_tick_once, tick_init);
    lp_port *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    snprintf(p->name, sizeof(p->name), "%s", name ? name : "line");
    if (ring_init(&p->say, say_cap) || ring_init(&p->hear, hear_cap) ||
        ring_init(&p->play, play_cap)) {
        free(p->say.buf);
        free(p->hear.buf);
        free(p->play.buf);
        free(p);
        return NULL;
    }
    p->say_keep = say_keep;
    /* pjmedia_port_info_init, by hand: nothing here calls into pjproject. */
    pjmedia_port_info *info = &p->base.info;
    info->name.ptr = p->name;
    info->name.slen = (pj_ssize_t)strlen(p->name);
    info->signature = LP_SIGNATURE;
    info->dir = PJMEDIA_DIR_ENCODING_DECODING;
    pjmedia_format_init_audio(&info->fmt, PJMEDIA_FORMAT_L16, LP_CLOCK_RATE, 1, 16,
                              LP_SAMPLES * 1000000u / LP_CLOCK_RATE, LP_CLOCK_RATE * 16,
                              LP_CLOCK_RATE * 16);
    p->base.port_data.pdata = p;
    p->base.put_frame = lp_put_frame;
    p->base.get_frame = lp_get_frame;
    p->base.on_destroy = lp_on_destroy;
    return p;
}

/* Only for a port the bridge never had, or once the library is gone. */
LP_API void lp_free(lp_port *p) {
    if (!p) return;
    free(p->say.buf);
    free(p->hear.buf);
    free(p->play.buf);
    free(p);
}

LP_API pjmedia_port *lp_pjmedia_port(lp_port *p) { return &p->base; }

/* Python side: batches of whole frames. */
LP_API unsigned lp_say(lp_port *p, const int16_t *pcm, unsigned frames) {
    return ring_write(&p->say, pcm, frames);
}
LP_API unsigned lp_hear(lp_port *p, int16_t *out, unsigned max_frames) {
    return ring_read(&p->hear, out, max_frames);
}
LP_API unsigned lp_play(lp_port *p, const int16_t *pcm, unsigned frames) {
    return ring_write(&p->play, pcm, frames);
}
LP_API void lp_play_flush(lp_port *p) { ring_flush(&p->play); }
/* Frames waiting in the playback ring (those a pending flush will drop do not count). */
LP_API unsigned lp_play_queued(lp_port *p) { return ring_pending(&p->play); }
LP_API unsigned lp_play_room(lp_port *p) { return p->play.cap - ring_count(&p->play); }
LP_API unsigned lp_hear_queued(lp_port *p) { return ring_count(&p->hear); }
LP_API unsigned lp_say_queued(lp_port *p) { return ring_count(&p->say); }
LP_API uint64_t lp_say_underruns(lp_port *p) { return atomic_load(&p->say.underruns); }
/* Python reads what the line hears, so it may also drop it (a line nobody pumps). */
LP_API void lp_hear_drop(lp_port *p) {
    atomic_store_explicit(&p->hear.tail, atomic_load(&p->hear.head), memory_order_release);
}

/* Counters: gets, puts, heard, say overflows/trimmed/underruns, hear overflows,
   play overflows/underruns, destroyed. */
LP_API void lp_stats(lp_port *p, uint64_t out[10]) {
    out[0] = atomic_load(&p->gets);
    out[1] = atomic_load(&p->puts);
    out[2] = atomic_load(&p->heard);
    out[3] = atomic_load(&p->say.overflows);
    out[4] = atomic_load(&p->say.trimmed);
    out[5] = atomic_load(&p->say.underruns);
    out[6] = atomic_load(&p->hear.overflows);
    out[7] = atomic_load(&p->play.overflows);
    out[8] = atomic_load(&p->play.trimmed);
    out[9] = (uint64_t)atomic_load(&p->destroyed);
}

/* For tests without a bridge: call the port's callbacks as the clock thread would. */
LP_API int lp_drive_get(lp_port *p, int16_t *out) {
    pjmedia_frame f;
    memset(&f, 0, sizeof(f));
    f.buf = out;
    f.size = LP_FRAME_BYTES;
    return p->base.get_frame(&p->base, &f) == PJ_SUCCESS ? (int)f.size : -1;
}
LP_API int lp_drive_put(lp_port *p, const int16_t *pcm, uint64_t timestamp) {
    pjmedia_frame f;
    memset(&f, 0, sizeof(f));
    f.type = pcm ? PJMEDIA_FRAME_TYPE_AUDIO : PJMEDIA_FRAME_TYPE_NONE;
    f.buf = (void *)pcm;
    f.size = pcm ? LP_FRAME_BYTES : 0;
    f.timestamp.u64 = timestamp;
    return p->base.put_frame(&p->base, &f) == PJ_SUCCESS ? 0 : -1;
}

/* The pump's wait for the bridge's next tick (ctypes releases the GIL around it).
   Returns the tick count now (unchanged after a timeout); *tick_ns gets the tick's
   CLOCK_MONOTONIC instant. after_us: once a new tick is seen, sleep that long too, so every
   port's put_frame of that tick has run. */
LP_API uint64_t lp_wait_tick(uint64_t seen, int timeout_ms, int after_us, int64_t *tick_ns) {
    pthread_once(&g_tick_once, tick_init);
    uint64_t seq = atomic_load_explicit(&g_tick_seq, memory_order_acquire);
    if (seq == seen) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        atomic_fetch_add(&g_waiters, 1);
        pthread_mutex_lock(&g_tick_mutex);
        while ((seq = atomic_load_explicit(&g_tick_seq, memory_order_acquire)) == seen &&
               !atomic_load(&g_wake)) {
            if (pthread_cond_timedwait(&g_tick_cond, &g_tick_mutex, &until) == ETIMEDOUT) break;
        }
        pthread_mutex_unlock(&g_tick_mutex);
        atomic_fetch_sub(&g_waiters, 1);
        atomic_store(&g_wake, 0);
        if (seq != seen && after_us > 0) {
            struct timespec pause = {0, (long)after_us * 1000L};
            nanosleep(&pause, NULL);
        }
    }
    if (tick_ns) *tick_ns = atomic_load_explicit(&g_tick_ns, memory_order_relaxed);
    return seq;
}

/* Name the calling thread (the pump), so per-thread CPU figures can tell it apart. */
LP_API void lp_name_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

/* Wake the waiter now, with no tick (the pump stopping or given new work). */
LP_API void lp_wake(void) {
    pthread_once(&g_tick_once, tick_init);
    atomic_store(&g_wake, 1);
    pthread_mutex_lock(&g_tick_mutex);
    pthread_cond_broadcast(&g_tick_cond);
    pthread_mutex_unlock(&g_tick_mutex);
}
