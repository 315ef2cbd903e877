/* Benchmark helper (not shipped): the plain C recvmmsg/sendmmsg ceiling and a load generator.
 *   udp_blast send <ip> <port> <size> <seconds>   sends batches of 64 as fast as it can
 *   udp_blast gso <ip> <port> <size> <seconds>    the same, each batch as one UDP_SEGMENT send
 *                                                 (the load generator: it out-runs any receiver)
 *   udp_blast recv <ip> <port> <seconds>          event-driven receive: epoll_wait, then
 *                                                 recvmmsg(64, MSG_DONTWAIT) until EAGAIN, which
 *                                                 is the best an event-loop program can do
 * Prints one line of JSON: {"packets":N,"seconds":S,"cpu":C} (cpu = user+sys seconds). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: udp_blast send <ip> <port> <size> <seconds> | recv <ip> <port> <seconds>\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[3]));
  inet_pton(AF_INET, argv[2], &addr.sin_addr);
  static unsigned char bufs[BATCH][2048];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof(msgs));
  long long packets = 0;
  double c0 = cpu();
  double t0 = now();
  if (strcmp(argv[1], "gso") == 0) {
    int size = atoi(argv[4]);
    double seconds = atof(argv[5]);
    static unsigned char big_buf[BATCH * 2048];
    memset(big_buf, 0x5a, sizeof(big_buf));
    int per = 65000 / size < BATCH ? 65000 / size : BATCH;
    unsigned short seg = (unsigned short)size;
    setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
    while (now() - t0 < seconds) {
      for (int k = 0; k < 16; k++) {
        ssize_t n = sendto(fd, big_buf, (size_t)(per * size), 0, (struct sockaddr*)&addr, sizeof(addr));
        if (n > 0) packets += per;
      }
    }
  } else if (strcmp(argv[1], "send") == 0) {
    int size = atoi(argv[4]);
    double seconds = atof(argv[5]);
    for (int i = 0; i < BATCH; i++) {
      memset(bufs[i], 0x5a, sizeof(bufs[i]));
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = (size_t)size;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addr;
      msgs[i].msg_hdr.msg_namelen = sizeof(addr);
    }
    while (now() - t0 < seconds) {
      for (int k = 0; k < 16; k++) {
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0) packets += n;
      }
    }
  } else {
    double seconds = atof(argv[4]);
    if (bind(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) {
      perror("bind");
      return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = fd}};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof(bufs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    printf("{\"ready\":true}\n");
    fflush(stdout);
    /* The clock starts at the first datagram, like the JS receivers. */
    double first = 0;
    while (first == 0 || now() - first < seconds) {
      struct epoll_event out;
      if (epoll_wait(ep, &out, 1, 100) <= 0) {
        if (first == 0 && now() - t0 > 10) break;
        continue;
      }
      int n;
      while ((n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0) {
        if (first == 0) {
          first = now();
          c0 = cpu();
        }
        packets += n;
        if (n < BATCH) break;
      }
    }
    t0 = first;
  }
  printf("{\"packets\":%lld,\"seconds\":%.6f,\"cpu\":%.6f}\n", packets, now() - t0, cpu() - c0);
  return 0;
}
