/* pjmedia's RTP ioqueue, polled by a thread of ours that sleeps until a packet comes.
 *
 * pjsua runs one media worker thread (pjmedia/endpoint.c, worker_proc) that polls the RTP
 * ioqueue with a 10 ms timeout, so an idle box with no RTP socket at all wakes it 100 times
 * a second. pjsua cannot run without it (media thread count 0 is raised back to 1), so
 * Python stops it (pjmedia_endpt_stop_threads) and starts this one on the same ioqueue,
 * whose poll waits until a socket is ready, at most timeout_ms.
 *
 * The ioqueue is select() based: a socket registered while the poll waits (a new call's
 * RTP) joins the wait only at the next poll. So the ioqueue also holds a socket of ours,
 * and mp_wake() sends it a datagram: the poll returns and the next one sees the new
 * sockets. Python wakes it after each SIP poll that handled something (a call's RTP
 * sockets are made while pjsua handles its SIP); the timeout is the safety net.
 *
 * pjlib functions are not linked: Python passes their addresses (mp_start), so the same
 * file serves the wheel and a source build. The thread registers itself with pjlib first,
 * as pjlib requires of threads that call it (pjsua2's DTMF callbacks ask for the thread).
 */

#include <pj/errno.h>
#include <pj/ioqueue.h>
#include <pj/os.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LP_API __attribute__((visibility("default")))

/* The pjlib functions used, as Python found them in the running library. */
typedef struct mp_api {
    int (*poll)(pj_ioqueue_t *, const pj_time_val *);
    pj_status_t (*thread_register)(const char *, pj_thread_desc, pj_thread_t **);
    pj_status_t (*register_sock)(pj_pool_t *, pj_ioqueue_t *, pj_sock_t, void *,
                                 const pj_ioqueue_callback *, pj_ioqueue_key_t **);
    pj_status_t (*unregister)(pj_ioqueue_key_t *);
    pj_status_t (*recv)(pj_ioqueue_key_t *, pj_ioqueue_op_key_t *, void *, pj_ssize_t *,
                        pj_uint32_t);
    void (*op_key_init)(pj_ioqueue_op_key_t *, pj_size_t);
} mp_api;

static mp_api g_api;
static pj_ioqueue_t *g_ioq;
static pj_ioqueue_key_t *g_key;
static pj_ioqueue_op_key_t g_op;
static char g_buf[64];
static int g_sock = -1;
static int g_timeout_ms;
static pthread_t g_thread;
static _Atomic int g_running;
static _Atomic int g_quit;
static _Atomic int g_pending;  /* a wake-up datagram is on its way: no second one */
static _Atomic uint64_t g_polls, g_wakes;

/* Keep a read pending on our socket (drain what is there first). */
static void arm(void) {
    for (int i = 0; i < 64; i++) {
        pj_ssize_t len = sizeof(g_buf);
        pj_status_t st = g_api.recv(g_key, &g_op, g_buf, &len, 0);
        if (st != PJ_SUCCESS) return; /* PJ_EPENDING: armed; an error: the timeout remains */
    }
}

static void on_read(pj_ioqueue_key_t *key, pj_ioqueue_op_key_t *op, pj_ssize_t n) {
    (void)key;
    (void)op;
    (void)n;
    atomic_store(&g_pending, 0);
    arm();
}

static void *run(void *arg) {
    (void)arg;
    static pj_thread_desc desc;
    pj_thread_t *self = NULL;
    pthread_setname_np(pthread_self(), "media-poll");
    g_api.thread_register("media-poll", desc, &self);
    while (!atomic_load(&g_quit)) {
        pj_time_val t = {g_timeout_ms / 1000, g_timeout_ms % 1000};
        int n = g_api.poll(g_ioq, &t);
        atomic_fetch_add_explicit(&g_polls, 1, memory_order_relaxed);
        if (n < 0) { /* select failed (a socket closed meanwhile): do not spin */
            struct timespec pause = {0, 5000000L};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

/* Register our socket in ioq (from a thread pjlib knows), stop pjmedia's worker thread
   (two threads polling one ioqueue would both run callbacks) and start ours.
   fns: the addresses of pj_ioqueue_poll, pj_thread_register, pj_ioqueue_register_sock,
   pj_ioqueue_unregister, pj_ioqueue_recv, pj_ioqueue_op_key_init and
   pjmedia_endpt_stop_threads, in that order. Returns 0, or -1 before pjmedia's thread was
   stopped (it goes on polling), or -2 after (no thread polls RTP: not expected). */
LP_API int mp_start(void *endpt, pj_ioqueue_t *ioq, pj_pool_t *pool, void *const fns[7],
                    int timeout_ms) {
    if (atomic_load(&g_running)) return -1;
    g_api.poll = (int (*)(pj_ioqueue_t *, const pj_time_val *))fns[0];
    g_api.thread_register = (pj_status_t(*)(const char *, pj_thread_desc, pj_thread_t **))fns[1];
    g_api.register_sock = (pj_status_t(*)(pj_pool_t *, pj_ioqueue_t *, pj_sock_t, void *,
                                          const pj_ioqueue_callback *, pj_ioqueue_key_t **))fns[2];
    g_api.unregister = (pj_status_t(*)(pj_ioqueue_key_t *))fns[3];
    g_api.recv = (pj_status_t(*)(pj_ioqueue_key_t *, pj_ioqueue_op_key_t *, void *, pj_ssize_t *,
                                 pj_uint32_t))fns[4];
    g_api.op_key_init = (void (*)(pj_ioqueue_op_key_t *, pj_size_t))fns[5];
    g_ioq = ioq;
    g_timeout_ms = timeout_ms > 0 ? timeout_ms : 500;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Connected to itself: a datagram sent on it comes back to it, from nobody else. */
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) || getsockname(s, (struct sockaddr *)&addr,
                                                                        &alen) ||
        connect(s, (struct sockaddr *)&addr, alen)) {
        close(s);
        return -1;
    }
    static pj_ioqueue_callback cb;
    memset(&cb, 0, sizeof(cb));
    cb.on_read_complete = on_read;
    if (g_api.register_sock(pool, ioq, s, NULL, &cb, &g_key) != PJ_SUCCESS) {
        close(s);
        return -1;
    }
    g_sock = s;
    g_api.op_key_init(&g_op, sizeof(g_op));
    arm();
    ((pj_status_t(*)(void *))fns[6])(endpt); /* pjmedia_endpt_stop_threads: joins it */
    atomic_store(&g_quit, 0);
    if (pthread_create(&g_thread, NULL, run, NULL)) {
        g_api.unregister(g_key); /* closes the socket */
        g_key = NULL;
        g_sock = -1;
        return -2;
    }
    atomic_store(&g_running, 1);
    return 0;
}

/* New sockets to watch (or stop): the poll returns now. Any thread. */
LP_API void mp_wake(void) {
    if (g_sock < 0 || atomic_exchange(&g_pending, 1)) return;
    atomic_fetch_add_explicit(&g_wakes, 1, memory_order_relaxed);
    if (send(g_sock, "w", 1, MSG_DONTWAIT) < 0) atomic_store(&g_pending, 0);
}

/* Stop the thread and take our socket out of the ioqueue (before the library goes). */
LP_API void mp_stop(void) {
    if (!atomic_load(&g_running)) return;
    atomic_store(&g_quit, 1);
    atomic_store(&g_pending, 0);
    mp_wake();
    pthread_join(g_thread, NULL);
    atomic_store(&g_running, 0);
    g_api.unregister(g_key);
    g_key = NULL;
    g_sock = -1;
}

/* Polls returned and wake-ups sent so far (for tests and status). */
LP_API void mp_counts(uint64_t out[2]) {
    out[0] = atomic_load(&g_polls);
    out[1] = atomic_load(&g_wakes);
}
