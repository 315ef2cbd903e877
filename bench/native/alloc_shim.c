/* Benchmark helper (not shipped): an LD_PRELOAD malloc/free/calloc/realloc/memalign shim that counts
 * the live C heap by calling thread and by size class, and on request keeps a sampled backtrace of
 * allocations, so a reading can say which thread made what is still live, and where (docs/peer.md
 * "Where the idle C heap was made (fourteenth session)").
 *   cc -O2 -shared -fPIC -o alloc_shim.so bench/native/alloc_shim.c -ldl -lpthread
 *   LD_PRELOAD=./alloc_shim.so PWT_ALLOC_SHIM_OUT=/tmp/report.txt [PWT_ALLOC_SHIM_BT=N] node ...
 * Creating `<out>.trigger` (PWT_ALLOC_SHIM_OUT=<out>) makes a reporter thread, which looks for it
 * every 100 ms, write the report to <out>, remove the trigger and create `<out>.done` (a file, not a
 * signal: Node resets every signal's disposition at start-up, after this library's constructor). PWT_ALLOC_SHIM_BT=N keeps the call stack (12 frames) of every Nth allocation of each
 * thread; the report lists the stacks whose allocations are still live by live bytes (addresses as
 * module(+offset): `addr2line -f -C -e <module> <offset>` names them). One lock around every call:
 * slow, for diagnosis only. Frees of pointers the shim never saw (made before it was loaded, or by
 * the shim's own calls) pass through uncounted.
 * The live table is an open-addressed hash (linear probing, backward-shift deletion) in its own
 * mmap'd region, so the shim's bookkeeping never comes from the heap it measures. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TABLE_BITS 24 /* 16 M slots, 384 MiB of address space touched only as used */
#define TABLE_SIZE (1u << TABLE_BITS)
#define MAX_THREADS 4096
#define STACK_FRAMES 12
#define STACK_BITS 17
#define STACK_SIZE (1u << STACK_BITS)
#define SIZE_CLASSES 24 /* <= 16 B, <= 32, ... , > 64 MiB */

typedef struct {
  uintptr_t ptr; /* 0: empty */
  uint32_t size;
  uint16_t thread;
  uint16_t pad;
  uint32_t stack; /* 0: none */
  uint32_t pad2;
} Slot;

typedef struct {
  pid_t tid;
  uint64_t live_bytes, live_count, total_allocs;
  uint64_t class_bytes[SIZE_CLASSES], class_count[SIZE_CLASSES];
} ThreadStats;

typedef struct {
  uint64_t hash;
  int depth;
  void* frames[STACK_FRAMES];
} Stack;

static void* (*real_malloc)(size_t);
static void (*real_free)(void*);
static void* (*real_calloc)(size_t, size_t);
static void* (*real_realloc)(void*, size_t);
static int (*real_posix_memalign)(void**, size_t, size_t);
static void* (*real_aligned_alloc)(size_t, size_t);
static void* (*real_memalign)(size_t, size_t);

static Slot* table;
static ThreadStats* threads;
static Stack* stacks;
static uint32_t thread_count;
static uint32_t stack_count;
static uint64_t table_used;
static uint64_t untracked_frees;
static int table_full;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ready;
static unsigned sample_every;

static __thread int in_shim;      /* our own calls (dlsym, backtrace, the report) are not counted */
static __thread int thread_index = -1;
static __thread unsigned sample_counter;

/* dlsym may call calloc before real_calloc is known: served from here, never freed. */
static char boot_buf[8192];
static size_t boot_used;

static int IsBoot(void* p) { return (char*)p >= boot_buf && (char*)p < boot_buf + sizeof boot_buf; }

static void* BootAlloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (boot_used + n > sizeof boot_buf) return NULL;
  void* p = boot_buf + boot_used;
  boot_used += n;
  return p;
}

static uint64_t HashPtr(uintptr_t p) {
  uint64_t x = (uint64_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

static int SizeClass(size_t n) {
  int c = 0;
  size_t limit = 16;
  while (n > limit && c < SIZE_CLASSES - 1) {
    limit <<= 1;
    ++c;
  }
  return c;
}

static void* MapOrDie(size_t bytes) {
  void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) abort();
  return p;
}

static void* ReporterMain(void* arg);

static void Init(void) {
  in_shim = 1;
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_free = dlsym(RTLD_NEXT, "free");
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = dlsym(RTLD_NEXT, "memalign");
  table = MapOrDie(sizeof(Slot) * (size_t)TABLE_SIZE);
  threads = MapOrDie(sizeof(ThreadStats) * MAX_THREADS);
  stacks = MapOrDie(sizeof(Stack) * (size_t)STACK_SIZE);
  const char* bt = getenv("PWT_ALLOC_SHIM_BT");
  sample_every = bt ? (unsigned)strtoul(bt, NULL, 10) : 0;
  if (sample_every) {
    void* warm[4];
    backtrace(warm, 4); /* loads the unwinder now, not inside a counted call */
  }
  pthread_t t;
  pthread_create(&t, NULL, ReporterMain, NULL);
  ready = 1;
  in_shim = 0;
}

__attribute__((constructor)) static void ShimConstructor(void) {
  if (!ready && !real_malloc) Init();
}

static int ThisThread(void) {
  if (thread_index >= 0) return thread_index;
  uint32_t i = __atomic_fetch_add(&thread_count, 1, __ATOMIC_RELAXED);
  if (i >= MAX_THREADS) i = MAX_THREADS - 1; /* the last row collects the rest */
  else threads[i].tid = (pid_t)syscall(SYS_gettid);
  thread_index = (int)i;
  return thread_index;
}

/* Called with the lock held. */
static uint32_t InternStack(void** frames, int depth) {
  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < depth; ++i) h = (h ^ (uint64_t)(uintptr_t)frames[i]) * 1099511628211ULL;
  if (h == 0) h = 1;
  for (uint32_t probe = 0; probe < STACK_SIZE; ++probe) {
    uint32_t i = (uint32_t)((h + probe) & (STACK_SIZE - 1));
    if (i == 0) continue; /* id 0 means no stack */
    if (stacks[i].hash == 0) {
      if (stack_count + 2 >= STACK_SIZE) return 0;
      stacks[i].hash = h;
      stacks[i].depth = depth;
      memcpy(stacks[i].frames, frames, sizeof(void*) * (size_t)depth);
      ++stack_count;
      return i;
    }
    if (stacks[i].hash == h && stacks[i].depth == depth && memcmp(stacks[i].frames, frames, sizeof(void*) * (size_t)depth) == 0) return i;
  }
  return 0;
}

static void Track(void* p, size_t size) {
  if (!p || in_shim || !ready) return;
  in_shim = 1;
  int t = ThisThread();
  void* frames[STACK_FRAMES + 2];
  int depth = 0;
  if (sample_every && ++sample_counter >= sample_every) {
    sample_counter = 0;
    depth = backtrace(frames, STACK_FRAMES + 2);
  }
  pthread_mutex_lock(&lock);
  uint32_t stack = depth > 2 ? InternStack(frames + 2, depth - 2) : 0; /* drop Track and the wrapper */
  if (table_used + 1 < TABLE_SIZE - TABLE_SIZE / 8) {
    uint64_t i = HashPtr((uintptr_t)p) & (TABLE_SIZE - 1);
    while (table[i].ptr != 0 && table[i].ptr != (uintptr_t)p) i = (i + 1) & (TABLE_SIZE - 1);
    if (table[i].ptr == 0) ++table_used;
    else {
      ThreadStats* old = &threads[table[i].thread];
      int oc = SizeClass(table[i].size);
      old->live_bytes -= table[i].size;
      old->live_count -= 1;
      old->class_bytes[oc] -= table[i].size;
      old->class_count[oc] -= 1;
    }
    table[i].ptr = (uintptr_t)p;
    table[i].size = size > 0xffffffffu ? 0xffffffffu : (uint32_t)size;
    table[i].thread = (uint16_t)t;
    table[i].stack = stack;
    ThreadStats* s = &threads[t];
    int c = SizeClass(table[i].size);
    s->live_bytes += table[i].size;
    s->live_count += 1;
    s->total_allocs += 1;
    s->class_bytes[c] += table[i].size;
    s->class_count[c] += 1;
  } else {
    table_full = 1;
  }
  pthread_mutex_unlock(&lock);
  in_shim = 0;
}

static void Untrack(void* p) {
  if (!p || !ready) return;
  pthread_mutex_lock(&lock);
  uint64_t i = HashPtr((uintptr_t)p) & (TABLE_SIZE - 1);
  while (table[i].ptr != 0 && table[i].ptr != (uintptr_t)p) i = (i + 1) & (TABLE_SIZE - 1);
  if (table[i].ptr == 0) {
    ++untracked_frees;
    pthread_mutex_unlock(&lock);
    return;
  }
  ThreadStats* s = &threads[table[i].thread];
  int c = SizeClass(table[i].size);
  s->live_bytes -= table[i].size;
  s->live_count -= 1;
  s->class_bytes[c] -= table[i].size;
  s->class_count[c] -= 1;
  /* Backward-shift deletion keeps every probe chain whole without tombstones. */
  uint64_t hole = i;
  uint64_t j = i;
  for (;;) {
    j = (j + 1) & (TABLE_SIZE - 1);
    if (table[j].ptr == 0) break;
    uint64_t home = HashPtr(table[j].ptr) & (TABLE_SIZE - 1);
    /* Move j into the hole unless its home lies cyclically in (hole, j]. */
    int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      table[hole] = table[j];
      hole = j;
    }
  }
  table[hole].ptr = 0;
  --table_used;
  pthread_mutex_unlock(&lock);
}

void* malloc(size_t n) {
  if (!real_malloc) {
    if (in_shim) return BootAlloc(n);
    Init();
  }
  void* p = real_malloc(n);
  Track(p, n);
  return p;
}

void* calloc(size_t a, size_t b) {
  if (!real_calloc) {
    void* p = BootAlloc(a * b);
    if (p) memset(p, 0, a * b);
    return p;
  }
  void* p = real_calloc(a, b);
  Track(p, a * b);
  return p;
}

void free(void* p) {
  if (!p || IsBoot(p)) return;
  if (!in_shim) Untrack(p);
  real_free(p);
}

void* realloc(void* p, size_t n) {
  if (IsBoot(p)) {
    /* The old block's size is not recorded: copy at most up to the end of the boot buffer's used
       part, which the old block cannot extend past. */
    size_t avail = (size_t)(boot_buf + boot_used - (char*)p);
    void* q = malloc(n);
    if (q) memcpy(q, p, n < avail ? n : avail);
    return q;
  }
  if (!real_realloc) Init();
  if (p && !in_shim) Untrack(p);
  void* q = real_realloc(p, n);
  if (q) Track(q, n);
  else if (p && n) Track(p, malloc_usable_size(p)); /* failed: the old block is still live */
  return q;
}

int posix_memalign(void** out, size_t align, size_t n) {
  if (!real_posix_memalign) Init();
  int r = real_posix_memalign(out, align, n);
  if (r == 0) Track(*out, n);
  return r;
}

void* aligned_alloc(size_t align, size_t n) {
  if (!real_aligned_alloc) Init();
  void* p = real_aligned_alloc(align, n);
  Track(p, n);
  return p;
}

void* memalign(size_t align, size_t n) {
  if (!real_memalign) Init();
  void* p = real_memalign(align, n);
  Track(p, n);
  return p;
}

typedef struct {
  uint32_t stack;
  uint16_t thread;
  uint64_t bytes, count;
} StackRow;

static int ByBytes(const void* a, const void* b) {
  const StackRow* x = a;
  const StackRow* y = b;
  return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static void ThreadName(pid_t tid, char* out, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, out, cap - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) {
    snprintf(out, cap, "(exited)");
    return;
  }
  out[n] = 0;
  if (n > 0 && out[n - 1] == '\n') out[n - 1] = 0;
}

static void WriteReport(const char* path) {
  FILE* f = fopen(path, "w");
  if (!f) return;
  pthread_mutex_lock(&lock);
  uint32_t nthreads = thread_count < MAX_THREADS ? thread_count : MAX_THREADS;
  uint64_t total = 0, total_count = 0;
  for (uint32_t t = 0; t < nthreads; ++t) {
    total += threads[t].live_bytes;
    total_count += threads[t].live_count;
  }
  fprintf(f, "live %llu bytes in %llu blocks; table %llu slots used%s; untracked frees %llu; stacks %u\n",
          (unsigned long long)total, (unsigned long long)total_count, (unsigned long long)table_used,
          table_full ? " (FULL: some allocations not counted)" : "", (unsigned long long)untracked_frees, stack_count);
  fprintf(f, "\nby allocating thread (live bytes, blocks, allocations ever):\n");
  for (uint32_t t = 0; t < nthreads; ++t) {
    ThreadStats* s = &threads[t];
    if (s->live_count == 0) continue;
    char name[32];
    ThreadName(s->tid, name, sizeof name);
    fprintf(f, "thread %u tid %d %-16s live %10llu B %8llu blocks  allocs %llu\n", t, (int)s->tid, name,
            (unsigned long long)s->live_bytes, (unsigned long long)s->live_count, (unsigned long long)s->total_allocs);
    for (int c = 0; c < SIZE_CLASSES; ++c) {
      if (s->class_count[c] == 0) continue;
      fprintf(f, "    <= %8llu B: %10llu B in %8llu\n", 16ULL << c, (unsigned long long)s->class_bytes[c],
              (unsigned long long)s->class_count[c]);
    }
  }
  if (sample_every) {
    /* Live bytes by (stack, thread) of the sampled allocations, scaled by nothing: the counts are of
     * samples (every Nth allocation), so multiply by N for an estimate of the whole. */
    size_t cap = 1u << 18;
    StackRow* rows = mmap(NULL, sizeof(StackRow) * cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    size_t nrows = 0;
    if (rows != MAP_FAILED) {
      for (uint64_t i = 0; i < TABLE_SIZE; ++i) {
        if (table[i].ptr == 0 || table[i].stack == 0) continue;
        size_t r = 0;
        /* A small linear scan per slot would be slow; hash (stack, thread) into rows instead. */
        uint64_t key = ((uint64_t)table[i].stack << 16) | table[i].thread;
        uint64_t h = HashPtr(key) & (cap - 1);
        for (r = h; rows[r].count != 0 && (((uint64_t)rows[r].stack << 16) | rows[r].thread) != key; r = (r + 1) & (cap - 1)) {}
        if (rows[r].count == 0) {
          rows[r].stack = table[i].stack;
          rows[r].thread = table[i].thread;
          ++nrows;
        }
        rows[r].bytes += table[i].size;
        rows[r].count += 1;
      }
      size_t k = 0;
      for (size_t r = 0; r < cap; ++r)
        if (rows[r].count != 0) rows[k++] = rows[r];
      qsort(rows, k, sizeof(StackRow), ByBytes);
      fprintf(f, "\nsampled live allocations by stack and thread (every %u-th allocation; %zu rows, top 60):\n", sample_every, k);
      fflush(f);
      for (size_t r = 0; r < k && r < 60; ++r) {
        char name[32];
        ThreadName(threads[rows[r].thread].tid, name, sizeof name);
        fprintf(f, "\n#%zu %llu B in %llu sampled blocks, thread %u %s\n", r, (unsigned long long)rows[r].bytes,
                (unsigned long long)rows[r].count, rows[r].thread, name);
        fflush(f);
        Stack* s = &stacks[rows[r].stack];
        backtrace_symbols_fd(s->frames, s->depth, fileno(f));
      }
      munmap(rows, sizeof(StackRow) * cap);
    }
  }
  pthread_mutex_unlock(&lock);
  fprintf(f, "\nmalloc_info:\n");
  fflush(f);
  malloc_info(0, f);
  fclose(f);
}

static void* ReporterMain(void* arg) {
  (void)arg;
  in_shim = 1; /* nothing this thread allocates is counted */
  const char* out = getenv("PWT_ALLOC_SHIM_OUT");
  char path[512];
  snprintf(path, sizeof path, "%s", out ? out : "/tmp/alloc_shim_report.txt");
  char trigger[600];
  snprintf(trigger, sizeof trigger, "%s.trigger", path);
  for (;;) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (access(trigger, F_OK) != 0) continue;
    unlink(trigger);
    WriteReport(path);
    char done[600];
    snprintf(done, sizeof done, "%s.done", path);
    int fd = open(done, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
  }
  return NULL;
}
