/* minipbx's pjproject configuration (copied to pjlib/include/pj/config_site.h by
 * tools/pjsua2/build.sh). The box is an exchange, not a softphone: many calls, many
 * conference bridge ports, no video, no sound card (the null device clocks the bridge). */

/* SIP calls at once. The PyPI wheel is built with 4; the box wants at least 32. */
#define PJSUA_MAX_CALLS             64

/* Conference bridge slots: one per line port (a board has up to 16), one per call, and the
 * tone generators, prompt players and recorders that come and go around them. */
#define PJSUA_MAX_PLAYERS           64
#define PJSUA_MAX_RECORDERS         64
#define PJSUA_MAX_CONF_PORTS        254

/* Accounts: one per trunk, plus room for IP phones' registrations. */
#define PJSUA_MAX_ACC               32

/* Every call holds an RTP and an RTCP socket; select() caps us at FD_SETSIZE (1024). */
#define PJ_IOQUEUE_MAX_HANDLES      1024

/* No video. No sound devices either: configure --disable-sound; the daemon clocks the
 * bridge with the null device and moves line audio through AudioMediaPorts. */
#define PJMEDIA_HAS_VIDEO           0

/* TLS through the system OpenSSL 3 (TLS 1.3 included); SRTP (SDES) stays on. */
#define PJ_HAS_SSL_SOCK             1
#define PJMEDIA_HAS_SRTP            1
