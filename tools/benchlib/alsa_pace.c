/* LD_PRELOAD shim for benchmarks: makes ALSA playback take its real duration.
 *
 * ALSA's "null" PCM accepts any amount of audio at once, so a player thread that writes
 * as fast as the device takes it (baresip's alsa module) spins a whole core. This shim
 * wraps snd_pcm_writei: after the real write it sleeps until the audio written so far on
 * that PCM would have been played at the rate set with snd_pcm_hw_params, as a real sound
 * card's blocking write does. Built by tools/bench_box.py with
 *     gcc -shared -fPIC -O2 -o alsa_pace.so alsa_pace.c -ldl
 * It declares the few ALSA types it needs itself, so no ALSA headers are needed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

typedef long snd_pcm_sframes_t;
typedef unsigned long snd_pcm_uframes_t;

#define MAX_PCMS 64

struct paced { void *pcm; unsigned rate; struct timespec next; };

static struct paced table[MAX_PCMS];

/* The real ALSA function. libasound is often loaded privately (RTLD_LOCAL, as a dependency
 * of a plug-in module), where RTLD_NEXT does not reach: then ask libasound itself. */
static void *real_sym(const char *name) {
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        void *lib = dlopen("libasound.so.2", RTLD_LAZY | RTLD_NOLOAD);
        if (!lib) lib = dlopen("libasound.so.2", RTLD_LAZY);
        if (lib) fn = dlsym(lib, name);
    }
    return fn;
}
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct paced *find(void *pcm, int create) {
    struct paced *free_slot = NULL;
    for (int i = 0; i < MAX_PCMS; i++) {
        if (table[i].pcm == pcm) return &table[i];
        if (!table[i].pcm && !free_slot) free_slot = &table[i];
    }
    if (create && free_slot) { free_slot->pcm = pcm; free_slot->rate = 0;
        free_slot->next.tv_sec = 0; free_slot->next.tv_nsec = 0; }
    return create ? free_slot : NULL;
}

int snd_pcm_hw_params(void *pcm, void *params) {
    static int (*real)(void *, void *);
    static int (*get_rate)(const void *, unsigned *, int *);
    if (!real) real = (int (*)(void *, void *))real_sym("snd_pcm_hw_params");
    if (!get_rate)
        get_rate = (int (*)(const void *, unsigned *, int *))real_sym(
            "snd_pcm_hw_params_get_rate");
    int err = real(pcm, params);
    unsigned rate = 0;
    int dir = 0;
    if (err == 0 && get_rate && get_rate(params, &rate, &dir) == 0 && rate > 0) {
        pthread_mutex_lock(&lock);
        struct paced *p = find(pcm, 1);
        if (p) { p->rate = rate; p->next.tv_sec = 0; p->next.tv_nsec = 0; }
        pthread_mutex_unlock(&lock);
    }
    return err;
}

int snd_pcm_close(void *pcm) {
    static int (*real)(void *);
    if (!real) real = (int (*)(void *))real_sym("snd_pcm_close");
    pthread_mutex_lock(&lock);
    struct paced *p = find(pcm, 0);
    if (p) p->pcm = NULL;
    pthread_mutex_unlock(&lock);
    return real(pcm);
}

snd_pcm_sframes_t snd_pcm_writei(void *pcm, const void *buf, snd_pcm_uframes_t frames) {
    static snd_pcm_sframes_t (*real)(void *, const void *, snd_pcm_uframes_t);
    if (!real)
        real = (snd_pcm_sframes_t (*)(void *, const void *, snd_pcm_uframes_t))real_sym(
            "snd_pcm_writei");
    snd_pcm_sframes_t n = real(pcm, buf, frames);
    if (n <= 0) return n;
    struct timespec now, next;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&lock);
    struct paced *p = find(pcm, 0);
    if (!p || !p->rate) { pthread_mutex_unlock(&lock); return n; }
    /* Start (or restart after a stall of more than 200 ms) from now. */
    double lag = (now.tv_sec - p->next.tv_sec) + (now.tv_nsec - p->next.tv_nsec) / 1e9;
    if (p->next.tv_sec == 0 || lag > 0.2) p->next = now;
    long ns = (long)((double)n * 1e9 / p->rate);
    p->next.tv_nsec += ns % 1000000000L;
    p->next.tv_sec += ns / 1000000000L + p->next.tv_nsec / 1000000000L;
    p->next.tv_nsec %= 1000000000L;
    next = p->next;
    pthread_mutex_unlock(&lock);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
    return n;
}
