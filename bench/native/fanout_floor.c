/* The loopback floor under the fanout suite (not shipped; docs/bench/README.md "The loopback floor"):
 * what this machine's kernel alone costs per forwarded datagram, with ideal batching, no SRTP state,
 * no JavaScript, and then with AES-128-GCM per datagram through EVP as native/srtp seals.
 *   fanout_floor <kernel|aesgcm> <N> <k> <wake-ups/s> <warm-up s> <seconds> <rounds> [bytes] [gso|plain]
 * A sink process (forked, so that its own CPU is not ours; the loopback delivery into its sockets
 * and waking it are billed to the sender, as they are to the relay in the real bench) holds N UDP
 * sockets on 127.0.0.1 and drains them as bench/loadgen drains its subscribers' sockets: 1 MiB
 * SO_RCVBUF/SO_SNDBUF, one level-triggered epoll (64 events), recvmmsg of 64 2048-byte slots with
 * the source address, again while a batch comes back full. The sender (this process, one thread) has
 * ONE UDP socket like the relay's shared port (4 MiB buffers, as UdpMux.bind) and, woken by an
 * absolute timer <wake-ups/s> times a second, sends k incoming packets (k may be fractional: the
 * packets due so far at k per wake-up) times N destinations, consumer-major (a consumer's packets
 * together), up to 256 messages per sendmmsg; with `gso` a consumer's same-size run leaves as one
 * message with UDP_SEGMENT, as native/udp sends it (the fanout suite passes gso: the relay's port
 * sends so; at one packet per wake-up it changes nothing). Each datagram is <bytes> long (default 1028: a
 * 12-byte RTP header, 1000 payload bytes and the 16-byte GCM tag, what the relay sends the suite's
 * subscribers). `aesgcm` seals each datagram per destination: one EVP context per destination keyed
 * once, then per packet EVP_CipherInit_ex2 with the packet's IV, the header as AAD, the payload,
 * final and the tag (SrtpCipher::GcmSeal's calls).
 * Prints one JSON line per measured round: {"round","datagrams","userUs","sysUs","seconds",
 * "delivered","wakeups","blocked"}; delivered is what the sinks received in the round (all of the
 * round's datagrams once they have drained, up to 1 s after it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define MAX_N 4096
#define MAX_K 64
#define SEND_BATCH 256
#define SINK_BATCH 64
#define SINK_SLOT 2048
#define HEADER 12
#define TAG 16

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* ---- sink process ---------------------------------------------------------------------------- */

static void sink_loop(const int *fds, int n, int control) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < n; ++i) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) die("epoll_ctl");
  }
  struct epoll_event cev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, control, &cev) != 0) die("epoll_ctl");
  static uint8_t bufs[SINK_BATCH][SINK_SLOT];
  static struct sockaddr_in from[SINK_BATCH];
  static struct mmsghdr msgs[SINK_BATCH];
  static struct iovec iovs[SINK_BATCH];
  uint64_t received = 0;
  struct epoll_event events[64];
  for (;;) {
    int ne = epoll_wait(ep, events, 64, 1000);
    if (ne < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < ne; ++e) {
      if (events[e].data.u64 == UINT64_MAX) {
        char c;
        ssize_t r = read(control, &c, 1);
        if (r <= 0) _exit(0);
        if (write(control, &received, sizeof received) != (ssize_t)sizeof received) _exit(1);
        continue;
      }
      int fd = fds[events[e].data.u64];
      for (;;) {
        for (int i = 0; i < SINK_BATCH; ++i) {
          iovs[i].iov_base = bufs[i];
          iovs[i].iov_len = SINK_SLOT;
          memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
          msgs[i].msg_hdr.msg_name = &from[i];
          msgs[i].msg_hdr.msg_namelen = sizeof from[i];
          msgs[i].msg_hdr.msg_iov = &iovs[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = recvmmsg(fd, msgs, SINK_BATCH, MSG_DONTWAIT, NULL);
        if (r <= 0) break;
        received += (uint64_t)r;
        if (r < SINK_BATCH) break;
      }
    }
  }
}

static uint64_t sink_count(int control) {
  char c = 'c';
  uint64_t v = 0;
  if (write(control, &c, 1) != 1) die("control write");
  size_t got = 0;
  while (got < sizeof v) {
    ssize_t r = read(control, (char *)&v + got, sizeof v - got);
    if (r <= 0) die("control read");
    got += (size_t)r;
  }
  return v;
}

/* ---- sender ---------------------------------------------------------------------------------- */

static int n_dest;
static double k_per_wake;
static size_t bytes;
static int use_gso;
static int use_aes;
static int sender_fd;
static struct sockaddr_in dest[MAX_N];
static uint8_t *slots;       /* n_dest * MAX_K datagrams, each `bytes` long: what leaves */
static uint8_t source[MAX_K][2048]; /* the incoming packets in the clear (aesgcm) */
static EVP_CIPHER_CTX *ctx[MAX_N];
static uint16_t seq[MAX_N];
static uint64_t blocked;

static uint8_t *slot(int c, int j) { return slots + ((size_t)c * MAX_K + (size_t)j) * bytes; }

static void seal(int c, int j) {
  uint8_t *out = slot(c, j);
  const uint8_t *in = source[j];
  memcpy(out, in, HEADER);
  uint16_t s = ++seq[c];
  out[2] = (uint8_t)(s >> 8);
  out[3] = (uint8_t)s;
  /* RFC 7714 §8.1: the IV is the salt XOR (SSRC, ROC, SEQ); the salt here is zero. */
  uint8_t iv[12] = {0};
  memcpy(iv + 2, out + 8, 4);
  iv[10] = out[2];
  iv[11] = out[3];
  int outl = 0;
  const size_t len = bytes - HEADER - TAG;
  if (EVP_CipherInit_ex2(ctx[c], NULL, NULL, iv, -1, NULL) != 1 ||
      EVP_CipherUpdate(ctx[c], NULL, &outl, out, HEADER) != 1 ||
      EVP_CipherUpdate(ctx[c], out + HEADER, &outl, in + HEADER, (int)len) != 1 ||
      EVP_CipherFinal_ex(ctx[c], out + HEADER + len, &outl) != 1) {
    fprintf(stderr, "AES-GCM seal failed\n");
    exit(1);
  }
  OSSL_PARAM params[2] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + HEADER + len, TAG),
                          OSSL_PARAM_construct_end()};
  if (EVP_CIPHER_CTX_get_params(ctx[c], params) != 1) {
    fprintf(stderr, "AES-GCM tag failed\n");
    exit(1);
  }
}

static void send_all(struct mmsghdr *msgs, int count) {
  int done = 0;
  while (done < count) {
    int r = sendmmsg(sender_fd, msgs + done, (unsigned)(count - done), 0);
    if (r > 0) {
      done += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) die("sendmmsg");
    /* The send buffer is full: wait for room (counted), as the relay's queue waits. */
    ++blocked;
    struct pollfd pf = {sender_fd, POLLOUT, 0};
    poll(&pf, 1, 5);
  }
}

/* One wake-up: `k` packets to every destination, consumer-major; returns the datagrams sent. */
static uint64_t wake(int k) {
  static struct mmsghdr msgs[SEND_BATCH];
  static struct iovec iovs[SEND_BATCH * MAX_K];
  static union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } cmsg[SEND_BATCH];
  int m = 0, iov = 0;
  for (int c = 0; c < n_dest; ++c) {
    if (use_aes)
      for (int j = 0; j < k; ++j) seal(c, j);
    const int per_msg = use_gso ? k : 1;
    for (int j = 0; j < k; j += per_msg) {
      if (m == SEND_BATCH) {
        send_all(msgs, m);
        m = 0;
        iov = 0;
      }
      struct msghdr *h = &msgs[m].msg_hdr;
      memset(h, 0, sizeof *h);
      h->msg_name = &dest[c];
      h->msg_namelen = sizeof dest[c];
      h->msg_iov = &iovs[iov];
      h->msg_iovlen = (size_t)per_msg;
      for (int g = 0; g < per_msg; ++g) {
        iovs[iov + g].iov_base = slot(c, j + g);
        iovs[iov + g].iov_len = bytes;
      }
      if (per_msg > 1) {
        h->msg_control = cmsg[m].buf;
        h->msg_controllen = sizeof cmsg[m].buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(h);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t seg = (uint16_t)bytes;
        memcpy(CMSG_DATA(cm), &seg, sizeof seg);
      }
      iov += per_msg;
      ++m;
    }
  }
  if (m > 0) send_all(msgs, m);
  return (uint64_t)n_dest * (uint64_t)k;
}

static uint64_t us_of(struct timeval t) { return (uint64_t)t.tv_sec * 1000000ull + (uint64_t)t.tv_usec; }

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: fanout_floor <kernel|aesgcm> <N> <k> <wake-ups/s> <warm-up s> <seconds> <rounds> [bytes] [gso|plain]\n");
    return 2;
  }
  use_aes = strcmp(argv[1], "aesgcm") == 0;
  if (!use_aes && strcmp(argv[1], "kernel") != 0) {
    fprintf(stderr, "variant must be kernel or aesgcm\n");
    return 2;
  }
  n_dest = atoi(argv[2]);
  k_per_wake = atof(argv[3]);
  const double wakes_per_s = atof(argv[4]);
  const double warmup = atof(argv[5]);
  const double seconds = atof(argv[6]);
  const int rounds = atoi(argv[7]);
  bytes = argc > 8 ? (size_t)atoi(argv[8]) : 1028;
  use_gso = argc > 9 && strcmp(argv[9], "gso") == 0;
  if (n_dest < 1 || n_dest > MAX_N || !(k_per_wake > 0) || k_per_wake > MAX_K - 1 || !(wakes_per_s > 0) || wakes_per_s > 100000 ||
      warmup < 0 || !(seconds > 0) || rounds < 1 || bytes < HEADER + TAG + 1 || bytes > 1472) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }

  /* The sinks' sockets, made here so that the sender knows their ports, then handed to the child. */
  static int sink_fds[MAX_N];
  for (int i = 0; i < n_dest; ++i) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &alen) != 0) die("bind");
    dest[i] = a;
    sink_fds[i] = fd;
  }
  int control[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0) die("socketpair");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(control[0]);
    sink_loop(sink_fds, n_dest, control[1]);
    _exit(0);
  }
  close(control[1]);
  for (int i = 0; i < n_dest; ++i) close(sink_fds[i]);

  sender_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sender_fd < 0) die("socket");
  int big = 4 << 20;
  setsockopt(sender_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(sender_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in self = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(sender_fd, (struct sockaddr *)&self, sizeof self) != 0) die("bind");

  slots = calloc((size_t)n_dest * MAX_K, bytes);
  if (!slots) die("calloc");
  for (int j = 0; j < MAX_K; ++j) {
    source[j][0] = 0x80;
    source[j][1] = 111;
    for (size_t b = HEADER; b < bytes; ++b) source[j][b] = (uint8_t)(b * 7 + (size_t)j);
  }
  for (int c = 0; c < n_dest; ++c)
    for (int j = 0; j < MAX_K; ++j) memcpy(slot(c, j), source[j], bytes);
  if (use_aes) {
    EVP_CIPHER *gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    if (!gcm) die("EVP_CIPHER_fetch");
    for (int c = 0; c < n_dest; ++c) {
      uint8_t key[16];
      for (int b = 0; b < 16; ++b) key[b] = (uint8_t)(c * 31 + b);
      ctx[c] = EVP_CIPHER_CTX_new();
      if (!ctx[c] || EVP_CipherInit_ex2(ctx[c], gcm, key, NULL, 1, NULL) != 1) die("EVP_CipherInit_ex2");
    }
  }

  const uint64_t interval = (uint64_t)(1e9 / wakes_per_s);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  double due = 0;        /* packets due so far at k per wake-up */
  uint64_t packets = 0;  /* incoming packets handled so far */
  uint64_t datagrams = 0, wakeups = 0;
  for (int round = 0; round <= rounds; ++round) {
    const double length = round == 0 ? warmup : seconds;
    const uint64_t sunk0 = sink_count(control[0]);
    struct rusage r0;
    getrusage(RUSAGE_SELF, &r0);
    const uint64_t t0 = now_ns();
    const uint64_t d0 = datagrams, w0 = wakeups, b0 = blocked;
    const uint64_t end = t0 + (uint64_t)(length * 1e9);
    while (now_ns() < end) {
      uint64_t ns = (uint64_t)next.tv_nsec + interval;
      next.tv_sec += (time_t)(ns / 1000000000ull);
      next.tv_nsec = (long)(ns % 1000000000ull);
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
      }
      due += k_per_wake;
      const int k = (int)(floor(due) - (double)packets);
      if (k <= 0) continue;
      packets += (uint64_t)k;
      datagrams += wake(k);
      ++wakeups;
    }
    struct rusage r1;
    getrusage(RUSAGE_SELF, &r1);
    const uint64_t t1 = now_ns();
    /* Settle: the round's datagrams all reach the sinks (or 1 s passes), so the next round's count
     * starts from a drained link. */
    const uint64_t want = sunk0 + (datagrams - d0);
    uint64_t sunk = sink_count(control[0]);
    for (const uint64_t until = now_ns() + 1000000000ull; sunk < want && now_ns() < until;) {
      struct timespec pause = {0, 5000000};
      nanosleep(&pause, NULL);
      sunk = sink_count(control[0]);
    }
    if (round > 0)
      printf("{\"round\":%d,\"datagrams\":%llu,\"userUs\":%llu,\"sysUs\":%llu,\"seconds\":%.6f,\"delivered\":%llu,\"wakeups\":%llu,\"blocked\":%llu}\n",
           round, (unsigned long long)(datagrams - d0), (unsigned long long)(us_of(r1.ru_utime) - us_of(r0.ru_utime)),
           (unsigned long long)(us_of(r1.ru_stime) - us_of(r0.ru_stime)), (double)(t1 - t0) / 1e9,
           (unsigned long long)(sunk - sunk0), (unsigned long long)(wakeups - w0), (unsigned long long)(blocked - b0));
    fflush(stdout);
    /* The timer restarts from now, so the settle pause is not made up for by a burst. */
    clock_gettime(CLOCK_MONOTONIC, &next);
    due = (double)packets;
  }
  close(control[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return 0;
}
