/* Benchmark helper for the scale suite (not shipped): the load generator and the sinks, in C so that
 * they cost little of a 2-core machine next to the server they load.
 *   scale_blast <seconds> <pps per publisher> pub:<client port>:<server port>:<packet file> ...
 *                                             sink:<client port>:<server port> ...
 * Every socket binds 127.0.0.1:<client port> with SO_REUSEPORT (the port of a connected
 * RTCPeerConnection of the suite, whose UdpMux also set it) and connects to the server's port: a
 * connected socket of a reuseport group wins the kernel's lookup, so from then on everything the
 * server sends to that client arrives here instead of at the JavaScript connection. A publisher sends
 * its file's SRTP packets (protected beforehand by its connection's session, so the server accepts
 * them) in order, paced in 1 ms ticks, with sendmmsg. The sinks never read during the run: each has
 * a small receive buffer that fills at once, and the kernel drops the rest and counts it per socket;
 * at the end a sink's delivered count is its drops (SO_MEMINFO, SK_MEMINFO_DROPS) plus what its queue
 * still holds (read then), so sinking costs the machine no reads, copies or wake-ups during the run.
 * Packet file: [u16 little-endian length][bytes] repeated.
 * Prints one line of JSON: {"sent":N,"received":N,"seconds":S,"cpu":C} (cpu = user+sys seconds).
 *   scale_blast spin <threads> <seconds>     the machine's share for us: busy threads, the CPU they
 *                                             got; prints {"cpu":C,"seconds":S} */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SOCKETS 1024

struct publisher {
  int fd;
  uint8_t *data;
  size_t *offsets;
  uint16_t *lengths;
  size_t count, next;
};

static struct publisher pubs[MAX_SOCKETS];
static int npubs;
static int sinks[MAX_SOCKETS];
static int nsinks;
static double seconds;
static double pps;
static volatile int stop;
static unsigned long long sent_total;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_connected(int client_port, int server_port, int recv_buffer) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int one = 1, big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof recv_buffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(client_port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); exit(1); }
  a.sin_port = htons(server_port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
  return fd;
}

static void load_file(struct publisher *p, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  p->data = malloc(size);
  if (fread(p->data, 1, size, f) != (size_t)size) { perror("read"); exit(1); }
  fclose(f);
  size_t cap = size / 3 + 1, n = 0;
  p->offsets = malloc(cap * sizeof *p->offsets);
  p->lengths = malloc(cap * sizeof *p->lengths);
  for (long at = 0; at + 2 <= size;) {
    uint16_t len = (uint16_t)(p->data[at] | (p->data[at + 1] << 8));
    if (at + 2 + len > size) break;
    p->offsets[n] = at + 2;
    p->lengths[n] = len;
    n++;
    at += 2 + len;
  }
  p->count = n;
}

static void *send_loop(void *arg) {
  (void)arg;
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  const double start = now();
  struct timespec tick = {0, 1000000};
  while (!stop) {
    double elapsed = now() - start;
    if (elapsed >= seconds) break;
    /* How many packets each publisher should have sent by now. */
    size_t due = (size_t)(elapsed * pps);
    int busy = 0;
    for (int i = 0; i < npubs; i++) {
      struct publisher *p = &pubs[i];
      while (p->next < due && p->next < p->count) {
        size_t n = 0;
        while (n < BATCH && p->next + n < due && p->next + n < p->count) {
          iovs[n].iov_base = p->data + p->offsets[p->next + n];
          iovs[n].iov_len = p->lengths[p->next + n];
          memset(&msgs[n], 0, sizeof msgs[n]);
          msgs[n].msg_hdr.msg_iov = &iovs[n];
          msgs[n].msg_hdr.msg_iovlen = 1;
          n++;
        }
        int r = sendmmsg(p->fd, msgs, n, 0);
        if (r <= 0) break; /* the kernel's buffer is full: try again next tick */
        p->next += r;
        sent_total += r;
      }
      if (p->next < p->count) busy = 1;
    }
    if (!busy) break;
    nanosleep(&tick, NULL);
  }
  /* A publisher that could not send its whole file in time (a saturated server's full queue) sends a
   * packet every 16384 of the rest and the last one: the server's SRTP index estimate (RFC 3711 §3.3.1)
   * follows steps below 2^15, so the next run's file, which continues after this one, authenticates. */
  struct timespec drain = {0, 300000000}; /* first let the server empty its queue, or the steps are dropped */
  int behind = 0;
  for (int i = 0; i < npubs; i++) behind |= pubs[i].next < pubs[i].count;
  if (behind) nanosleep(&drain, NULL);
  for (int i = 0; i < npubs; i++) {
    struct publisher *p = &pubs[i];
    if (p->next >= p->count) continue;
    for (size_t j = p->next + 16383;; j += 16384) {
      if (j >= p->count) j = p->count - 1;
      for (int tries = 0; tries < 1000; tries++) {
        if (send(p->fd, p->data + p->offsets[j], p->lengths[j], 0) >= 0) break;
        nanosleep(&tick, NULL); /* the queue is full: wait for the server to read */
      }
      nanosleep(&tick, NULL);
      if (j == p->count - 1) break;
    }
    p->next = p->count;
  }
  return NULL;
}

static void *spin(void *arg) {
  (void)arg;
  volatile unsigned long x = 0;
  const double start = now();
  while (now() - start < seconds) x++;
  return NULL;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "spin") == 0) {
    int threads = atoi(argv[2]);
    if (threads < 1 || threads > 64) return 2;
    seconds = atof(argv[3]);
    pthread_t t[64];
    const double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, spin, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    printf("{\"cpu\":%.4f,\"seconds\":%.3f}\n", cpu_seconds(), now() - start);
    return 0;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: scale_blast <seconds> <pps per publisher> pub:<client>:<server>:<file>... sink:<client>:<server>...\n");
    return 2;
  }
  seconds = atof(argv[1]);
  pps = atof(argv[2]);
  int ep = epoll_create1(0);
  for (int i = 3; i < argc; i++) {
    int c, s;
    char path[4096];
    if (sscanf(argv[i], "pub:%d:%d:%4095s", &c, &s, path) == 3 && npubs < MAX_SOCKETS) {
      struct publisher *p = &pubs[npubs++];
      p->fd = open_connected(c, s, 8 << 20);
      load_file(p, path);
      /* Replies to the publisher (RTCP, STUN) are read and not counted. */
      struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)p->fd};
      epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
    } else if (sscanf(argv[i], "sink:%d:%d", &c, &s) == 2 && nsinks < MAX_SOCKETS) {
      /* Not polled: its small queue fills, the kernel drops and counts the rest (read at the end). */
      sinks[nsinks++] = open_connected(c, s, 4096);
    } else {
      fprintf(stderr, "bad argument: %s\n", argv[i]);
      return 2;
    }
  }
  pthread_t sender;
  pthread_create(&sender, NULL, send_loop, NULL);
  static uint8_t bufs[BATCH][2048];
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  unsigned long long received = 0;
  const double start = now();
  /* The run plus half a second for what is still in flight: the publishers' replies (RTCP, STUN) are read
   * and not counted; the sinks are counted after it. */
  while (now() - start < seconds + 0.5) {
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, 50);
    for (int e = 0; e < n; e++) {
      int fd = (int)evs[e].data.u64;
      for (;;) {
        for (int k = 0; k < BATCH; k++) {
          iovs[k].iov_base = bufs[k];
          iovs[k].iov_len = sizeof bufs[k];
          memset(&msgs[k], 0, sizeof msgs[k]);
          msgs[k].msg_hdr.msg_iov = &iovs[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int r = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (r <= 0 || r < BATCH) break;
      }
    }
  }
  stop = 1;
  pthread_join(sender, NULL);
  for (int i = 0; i < nsinks; i++) {
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t len = sizeof mem;
    if (getsockopt(sinks[i], SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 || len <= SK_MEMINFO_DROPS * sizeof(uint32_t)) {
      perror("SO_MEMINFO");
      exit(1);
    }
    received += mem[SK_MEMINFO_DROPS];
    for (;;) {
      for (int k = 0; k < BATCH; k++) {
        iovs[k].iov_base = bufs[k];
        iovs[k].iov_len = sizeof bufs[k];
        memset(&msgs[k], 0, sizeof msgs[k]);
        msgs[k].msg_hdr.msg_iov = &iovs[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int r = recvmmsg(sinks[i], msgs, BATCH, MSG_DONTWAIT, NULL);
      if (r <= 0) break;
      received += r;
    }
  }
  double cpu = cpu_seconds();
  printf("{\"sent\":%llu,\"received\":%llu,\"seconds\":%.3f,\"cpu\":%.4f}\n", sent_total, received, now() - start, cpu);
  return 0;
}
