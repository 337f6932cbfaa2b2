/* A stand-in for s6-ftrigrd, the helper through which s6 2.15's libs6
 * (ftrigr_*: s6-rc-init, s6-rc, s6-svwait) waits for events in fifodirs.
 * bench-rc builds it when the peer's set lacks s6-ftrigrd, so that s6-rc
 * can be measured at all; it is not part of rinit.
 *
 * Written from the protocol, as the client speaks it:
 * - The client spawns it with a pipe on fd 0 (requests), a pipe on fd 1
 *   (answers to requests) and a third pipe, whose number is in
 *   SKALIBS_CHILD_SPAWN_FDS, for events.
 * - Every message, both ways, is a 4-byte big-endian length, then that
 *   many bytes.
 * - Handshake: the client sends its banner ("ftrigr v2.0 (b)\n"); the
 *   server answers the other one ("... (a)\n") on fd 1 and on the event fd.
 * - '+' id timeout opcode len payload (all 4-byte big-endian; some versions
 *   put a flags word after id): subscribe; payload = path NUL regex NUL.
 *   The answer is 4 bytes, the errno (0: done). The server makes a fifo
 *   "ftrig1:@<tai64n>:<random>" in the fifodir, reads what writers (the
 *   supervisor) put in it and, when the bytes read since the last match
 *   match the extended regex, sends id, 4 zero bytes and those bytes on the
 *   event fd; the subscription then ends unless flag 1 (keep) was given.
 *   A timeout (ms, 0: none) that passes first sends id and ETIMEDOUT.
 * - '-' id: cancel; answer as above.
 * - End of fd 0: exit, removing the fifos.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAXSUB 4096
#define FLAG_KEEP 1

struct sub {
    int used;
    uint32_t id, flags;
    int fdr, fdw;
    long long deadline; /* ms on CLOCK_MONOTONIC; 0: none */
    regex_t re;
    char *path; /* the fifo, removed at the end */
    char *buf;
    size_t len, cap;
};

static struct sub subs[MAXSUB];
static int asyncfd = -1;

static void die(const char *what) {
    fprintf(stderr, "s6-ftrigrd (bench stand-in): fatal: unable to %s: %s\n", what, strerror(errno));
    for (int i = 0; i < MAXSUB; i++)
        if (subs[i].used) unlink(subs[i].path);
    _exit(111);
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint32_t get32(const unsigned char *s) {
    return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

static void put32(unsigned char *s, uint32_t u) {
    s[0] = u >> 24;
    s[1] = u >> 16;
    s[2] = u >> 8;
    s[3] = u;
}

/* The pipes are blocking: the client reads every answer, so a write
 * waits at most for the client to get to it. */
static void writeall(int fd, const void *p, size_t n) {
    const char *s = p;
    while (n) {
        ssize_t r = write(fd, s, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("write to the client");
        }
        s += r;
        n -= r;
    }
}

static void send_msg(int fd, const void *a, size_t alen, const void *b, size_t blen) {
    unsigned char h[4];
    put32(h, alen + blen);
    writeall(fd, h, 4);
    writeall(fd, a, alen);
    if (blen) writeall(fd, b, blen);
}

static void answer(uint32_t e) {
    unsigned char a[4];
    put32(a, e);
    send_msg(1, a, 4, 0, 0);
}

static int readall(int fd, void *p, size_t n) {
    char *s = p;
    while (n) {
        ssize_t r = read(fd, s, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) die("read from the client");
        if (r == 0) return 0;
        s += r;
        n -= r;
    }
    return 1;
}

/* One message from the client, malloc'd; NULL at the end of fd 0. */
static unsigned char *recv_msg(size_t *len) {
    unsigned char h[4];
    if (!readall(0, h, 4)) return 0;
    *len = get32(h);
    if (*len > 1 << 20) { errno = EPROTO; die("read a request"); }
    unsigned char *m = malloc(*len + 1);
    if (!m) die("allocate");
    if (*len && !readall(0, m, *len)) { errno = EPIPE; die("read a request"); }
    m[*len] = 0;
    return m;
}

static void drop(struct sub *s) {
    close(s->fdr);
    close(s->fdw);
    unlink(s->path);
    free(s->path);
    free(s->buf);
    regfree(&s->re);
    s->used = 0;
}

static void event(struct sub *s, uint32_t e, const char *data, size_t len) {
    unsigned char h[8];
    put32(h, s->id);
    put32(h + 4, e);
    send_msg(asyncfd, h, 8, data, len);
}

static int subscribe(uint32_t id, uint32_t flags, uint32_t timeout, const char *p, size_t len) {
    if (len < 3 || p[len - 1]) return EPROTO;
    size_t pathlen = strlen(p);
    if (pathlen + 1 >= len) return EPROTO;
    struct sub *s = 0;
    for (int i = 0; i < MAXSUB; i++)
        if (!subs[i].used) { s = subs + i; break; }
    if (!s) return ENFILE;
    int r = regcomp(&s->re, p + pathlen + 1, REG_EXTENDED | REG_NOSUB);
    if (r) return r == REG_ESPACE ? ENOMEM : EINVAL;
    /* The name writers look for: "ftrig1:@" then a TAI64N label, made
     * under a dot name and renamed, so no writer sees it half made. */
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    static unsigned n;
    char name[64], tmp[4200], fin[4200];
    snprintf(name, sizeof name, "ftrig1:@%016llx%08lx:%06x", 0x400000000000000aULL + (unsigned long long)t.tv_sec,
             (unsigned long)t.tv_nsec, (unsigned)((getpid() * 2654435761u) ^ n++) & 0xffffff);
    if (pathlen + strlen(name) + 3 > sizeof tmp) { regfree(&s->re); return ENAMETOOLONG; }
    snprintf(tmp, sizeof tmp, "%s/.%s", p, name);
    snprintf(fin, sizeof fin, "%s/%s", p, name);
    if (mkfifo(tmp, 0622) < 0) goto err0;
    s->fdr = open(tmp, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->fdr < 0) goto err1;
    /* Our own writer: the fifo never reads as ended between writers. */
    s->fdw = open(tmp, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->fdw < 0) goto err2;
    if (rename(tmp, fin) < 0) goto err3;
    s->path = strdup(fin);
    s->used = 1;
    s->id = id;
    s->flags = flags;
    s->deadline = timeout ? now_ms() + timeout : 0;
    s->buf = 0;
    s->len = s->cap = 0;
    return 0;
err3:
    close(s->fdw);
err2:
    close(s->fdr);
err1:
    unlink(tmp);
err0:
    r = errno;
    regfree(&s->re);
    return r;
}

static void request(const unsigned char *m, size_t len) {
    if (len == 5 && m[0] == '-') {
        uint32_t id = get32(m + 1);
        for (int i = 0; i < MAXSUB; i++)
            if (subs[i].used && subs[i].id == id) {
                drop(subs + i);
                answer(0);
                return;
            }
        answer(EINVAL);
        return;
    }
    if (len >= 17 && m[0] == '+') {
        /* With a flags word: + id flags timeout opcode len; without:
         * + id timeout opcode len. The length field tells which. */
        if (len >= 21 && get32(m + 17) == len - 21) {
            answer(subscribe(get32(m + 1), get32(m + 5), get32(m + 9), (const char *)m + 21, len - 21));
            return;
        }
        if (get32(m + 13) == len - 17) {
            answer(subscribe(get32(m + 1), 0, get32(m + 5), (const char *)m + 17, len - 17));
            return;
        }
    }
    errno = EPROTO;
    die("understand a request");
}

static void readable(struct sub *s) {
    char b[256];
    for (;;) {
        ssize_t r = read(s->fdr, b, sizeof b);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) return;
        if (r <= 0) {
            event(s, r < 0 ? errno : EPIPE, 0, 0);
            drop(s);
            return;
        }
        if (s->len + r + 1 > s->cap) {
            s->cap = (s->len + r + 1) * 2;
            s->buf = realloc(s->buf, s->cap);
            if (!s->buf) die("allocate");
        }
        memcpy(s->buf + s->len, b, r);
        s->len += r;
        s->buf[s->len] = 0;
        if (!regexec(&s->re, s->buf, 0, 0, 0)) {
            event(s, 0, s->buf, s->len);
            s->len = 0;
            if (!(s->flags & FLAG_KEEP)) {
                drop(s);
                return;
            }
        }
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *x = getenv("SKALIBS_CHILD_SPAWN_FDS");
    if (!x || !*x) { errno = EPROTO; die("find the event fd in SKALIBS_CHILD_SPAWN_FDS"); }
    asyncfd = atoi(x);
    size_t len;
    unsigned char *m = recv_msg(&len);
    if (!m) { errno = EPIPE; die("read the banner"); }
    /* Answer with the other banner: "(b)" for "(a)" and the reverse. */
    char *paren = strstr((char *)m, "(b)");
    if (paren) paren[1] = 'a';
    else if ((paren = strstr((char *)m, "(a)"))) paren[1] = 'b';
    send_msg(1, m, len, 0, 0);
    send_msg(asyncfd, m, len, 0, 0);
    free(m);

    static struct pollfd pf[MAXSUB + 1];
    static int at[MAXSUB + 1];
    for (;;) {
        int n = 1;
        long long next = 0;
        pf[0].fd = 0;
        pf[0].events = POLLIN;
        for (int i = 0; i < MAXSUB; i++)
            if (subs[i].used) {
                pf[n].fd = subs[i].fdr;
                pf[n].events = POLLIN;
                at[n++] = i;
                if (subs[i].deadline && (!next || subs[i].deadline < next)) next = subs[i].deadline;
            }
        int wait = -1;
        if (next) {
            long long d = next - now_ms();
            wait = d < 0 ? 0 : d > 1000000 ? 1000000 : (int)d;
        }
        if (poll(pf, n, wait) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        for (int k = 1; k < n; k++)
            if (pf[k].revents && subs[at[k]].used) readable(subs + at[k]);
        long long t = now_ms();
        for (int i = 0; i < MAXSUB; i++)
            if (subs[i].used && subs[i].deadline && subs[i].deadline <= t) {
                event(subs + i, ETIMEDOUT, 0, 0);
                drop(subs + i);
            }
        if (pf[0].revents) {
            m = recv_msg(&len);
            if (!m) break;
            request(m, len);
            free(m);
        }
    }
    for (int i = 0; i < MAXSUB; i++)
        if (subs[i].used) drop(subs + i);
    return 0;
}
