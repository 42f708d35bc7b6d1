/* Heap allocation counter for tools/bench.sh, loaded with LD_PRELOAD into the process under test.
 *
 * Every malloc, calloc, realloc and aligned allocation (libstdc++'s operator new calls malloc) is
 * counted, then served by glibc's own allocator through its exported __libc_* entry points, so no
 * dlsym bootstrap is needed. The counters live in a file mapped MAP_SHARED (path in the
 * environment variable ALLOC_COUNT_FILE): the benchmark reads them at any moment with od, without
 * a signal (nginx and HAProxy use SIGUSR1/SIGUSR2 themselves) and without a helper thread.
 * Layout of the file: six little-endian uint64 (malloc, calloc, realloc, aligned, free, total).
 *
 * build: cc -shared -fPIC -O2 -o alloc_count.so alloc_count.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
extern void __libc_free(void*);

enum { c_malloc, c_calloc, c_realloc, c_aligned, c_free, c_total, c_count };

/* Until the constructor maps the file (the loader and earlier constructors may allocate). */
static uint64_t early_counters[c_count];
static uint64_t* counters = early_counters;

static inline void count(int which) {
  __atomic_fetch_add(&counters[which], 1, __ATOMIC_RELAXED);
  if (which != c_free) __atomic_fetch_add(&counters[c_total], 1, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void alloc_count_init(void) {
  extern char** environ;
  const char* path = NULL;
  for (char** e = environ; e && *e; ++e) {
    const char* s = *e;
    const char* key = "ALLOC_COUNT_FILE=";
    size_t i = 0;
    while (key[i] && s[i] == key[i]) ++i;
    if (!key[i]) { path = s + i; break; }
  }
  if (!path || !*path) return;
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (ftruncate(fd, sizeof early_counters) != 0) { close(fd); return; }
  void* map = mmap(NULL, sizeof early_counters, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return;
  uint64_t* shared = map;
  for (int i = 0; i < c_count; ++i) shared[i] = early_counters[i];
  __atomic_store_n(&counters, shared, __ATOMIC_RELEASE);
}

void* malloc(size_t size) {
  count(c_malloc);
  return __libc_malloc(size);
}

void* calloc(size_t n, size_t size) {
  count(c_calloc);
  return __libc_calloc(n, size);
}

void* realloc(void* p, size_t size) {
  count(c_realloc);
  return __libc_realloc(p, size);
}

void free(void* p) {
  if (p) count(c_free);
  __libc_free(p);
}

void* memalign(size_t alignment, size_t size) {
  count(c_aligned);
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
  count(c_aligned);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  count(c_aligned);
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(size_t size) {
  count(c_aligned);
  return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}
