/* The ceiling for SRTP throughput: a plain C loop doing only the cryptographic work of one
 * SRTP packet over OpenSSL EVP with contexts keyed once and reused (AES-CTR + HMAC-SHA1 via
 * EVP_MAC re-initialised without a key, or AES-GCM with the header as AAD).
 * Usage: srtp_evp_ceiling <profile 1|2|7|8> <payload bytes> <protect|unprotect> <ms>
 * Prints packets per CPU-second of this process (per core, robust on a shared machine). */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <profile> <payload> <protect|unprotect> <ms>\n", argv[0]);
    return 2;
  }
  const int profile = atoi(argv[1]);
  const size_t payload = (size_t)atoi(argv[2]);
  const int protect = strcmp(argv[3], "protect") == 0;
  const double seconds = atoi(argv[4]) / 1000.0;
  const int gcm = profile == 7 || profile == 8;
  const size_t tag_len = gcm ? 16 : profile == 2 ? 4 : 10;
  unsigned char key[32], auth_key[20], iv[16] = {0}, mac[EVP_MAX_MD_SIZE];
  for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 7 + 1);
  for (int i = 0; i < 20; i++) auth_key[i] = (unsigned char)(i * 5 + 3);
  const size_t hdr = 12;
  unsigned char* pkt = calloc(1, hdr + payload + 64);
  unsigned char* out = calloc(1, hdr + payload + 64);
  pkt[0] = 0x80;

  EVP_CIPHER* cipher = EVP_CIPHER_fetch(NULL, gcm ? (profile == 8 ? "AES-256-GCM" : "AES-128-GCM") : "AES-128-CTR", NULL);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CipherInit_ex2(ctx, cipher, key, NULL, gcm ? protect : 1, NULL);
  EVP_MAC* hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX* mctx = EVP_MAC_CTX_new(hmac);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0), OSSL_PARAM_construct_end()};
  EVP_MAC_init(mctx, auth_key, sizeof(auth_key), params);

  unsigned long packets = 0;
  unsigned volatile sink = 0;
  const double start = now_s();
  double elapsed = 0;
  do {
    for (int k = 0; k < 256; k++) {
      int outl = 0;
      size_t macl = 0;
      iv[13] = (unsigned char)packets;
      if (gcm) {
        EVP_CipherInit_ex2(ctx, NULL, NULL, iv, -1, NULL);
        EVP_CipherUpdate(ctx, NULL, &outl, pkt, (int)hdr);
        if (protect) {
          EVP_CipherUpdate(ctx, pkt + hdr, &outl, pkt + hdr, (int)payload);
          EVP_CipherFinal_ex(ctx, pkt + hdr + payload, &outl);
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, pkt + hdr + payload);
        } else {
          /* Out of place, so the input stays the same; the tag check fails but costs the same. */
          EVP_CipherUpdate(ctx, out + hdr, &outl, pkt + hdr, (int)payload);
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, pkt + hdr + payload);
          sink += (unsigned)EVP_CipherFinal_ex(ctx, out + hdr + payload, &outl);
        }
      } else if (protect) {
        EVP_CipherInit_ex2(ctx, NULL, NULL, iv, -1, NULL);
        EVP_CipherUpdate(ctx, pkt + hdr, &outl, pkt + hdr, (int)payload);
        EVP_MAC_init(mctx, NULL, 0, NULL);
        EVP_MAC_update(mctx, pkt, hdr + payload);
        EVP_MAC_update(mctx, iv, 4);
        EVP_MAC_final(mctx, mac, &macl, sizeof(mac));
        memcpy(pkt + hdr + payload, mac, tag_len);
      } else {
        EVP_MAC_init(mctx, NULL, 0, NULL);
        EVP_MAC_update(mctx, pkt, hdr + payload);
        EVP_MAC_update(mctx, iv, 4);
        EVP_MAC_final(mctx, mac, &macl, sizeof(mac));
        sink += (unsigned)CRYPTO_memcmp(mac, pkt + hdr + payload, tag_len);
        EVP_CipherInit_ex2(ctx, NULL, NULL, iv, -1, NULL);
        EVP_CipherUpdate(ctx, out + hdr, &outl, pkt + hdr, (int)payload);
      }
      packets++;
    }
    elapsed = now_s() - start;
  } while (elapsed < seconds);
  printf("%.0f\n", packets / elapsed);
  EVP_MAC_CTX_free(mctx);
  EVP_MAC_free(hmac);
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  free(pkt);
  free(out);
  return sink == 0xffffffffu;
}
