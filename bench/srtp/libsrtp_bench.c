/* libsrtp (Debian libsrtp2) called from C: protect and unprotect throughput for one profile
 * and payload size, the same workload the JS subjects run (distinct sequence numbers, so the
 * receiver's replay window accepts every packet).
 * Usage: srtp_libsrtp <profile 1|2|7|8> <payload bytes> <protect|unprotect> <ms>
 * Prints packets per CPU-second of this process (per core, robust on a shared machine). */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 2048

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static srtp_t make(int profile, unsigned char* key, int outbound) {
  srtp_policy_t p;
  memset(&p, 0, sizeof(p));
  srtp_crypto_policy_set_from_profile_for_rtp(&p.rtp, (srtp_profile_t)profile);
  srtp_crypto_policy_set_from_profile_for_rtcp(&p.rtcp, (srtp_profile_t)profile);
  p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  p.key = key;
  p.window_size = 1024;
  srtp_t s = NULL;
  if (srtp_create(&s, &p) != srtp_err_status_ok) {
    fprintf(stderr, "srtp_create failed for profile %d\n", profile);
    exit(1);
  }
  return s;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <profile> <payload> <protect|unprotect> <ms>\n", argv[0]);
    return 2;
  }
  const int profile = atoi(argv[1]);
  const int payload = atoi(argv[2]);
  const int protect = strcmp(argv[3], "protect") == 0;
  const double seconds = atoi(argv[4]) / 1000.0;
  unsigned char key[46];
  for (int i = 0; i < 46; i++) key[i] = (unsigned char)(i * 7 + 1);
  srtp_init();
  srtp_t tx = make(profile, key, 1);
  srtp_t rx = make(profile, key, 0);
  const int clear_len = 12 + payload;
  const int slot = clear_len + SRTP_MAX_TRAILER_LEN;
  unsigned char* pool = calloc(POOL, (size_t)slot);
  int* lens = calloc(POOL, sizeof(int));
  unsigned seq = 0;
  unsigned long packets = 0;
  double timed = 0;
  while (timed < seconds) {
    /* Fresh clear packets with new sequence numbers (untimed for unprotect). */
    const double t0 = now_s();
    for (int i = 0; i < POOL; i++) {
      unsigned char* p = pool + (size_t)i * slot;
      memset(p, 0xab, (size_t)clear_len);
      p[0] = 0x80;
      p[1] = 96;
      p[2] = (unsigned char)(seq >> 8);
      p[3] = (unsigned char)seq;
      p[8] = 0x12;
      seq++;
      lens[i] = clear_len;
      if (protect) {
        if (srtp_protect(tx, p, &lens[i]) != srtp_err_status_ok) return 1;
      }
    }
    if (protect) {
      timed += now_s() - t0;
      packets += POOL;
      continue;
    }
    for (int i = 0; i < POOL; i++) {
      if (srtp_protect(tx, pool + (size_t)i * slot, &lens[i]) != srtp_err_status_ok) return 1;
    }
    const double t1 = now_s();
    for (int i = 0; i < POOL; i++) {
      if (srtp_unprotect(rx, pool + (size_t)i * slot, &lens[i]) != srtp_err_status_ok) return 1;
    }
    timed += now_s() - t1;
    packets += POOL;
  }
  printf("%.0f\n", packets / timed);
  srtp_dealloc(tx);
  srtp_dealloc(rx);
  srtp_shutdown();
  free(pool);
  free(lens);
  return 0;
}
