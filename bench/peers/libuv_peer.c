/* libuv's cross-thread idiom on W1-W3, W5 and W6 for bench/compare.py (IMPL `libuv`): a
 * mutex-guarded queue that the loop takes whole, and uv_async_send to wake the loop (which
 * coalesces wake-ups). W5 is one uv_timer_t per sleeper: libuv has no coroutines, so its figure
 * is the floor of a bare timer, not a task. There is no W4 (no tasks to spawn). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef void (*callback_fn)(void *);
typedef struct {
  callback_fn fn;
  void *arg;
} item;

/* A loop on its own thread with an inbox. */
typedef struct {
  uv_loop_t loop;
  uv_async_t wake;
  pthread_mutex_t lock;
  item *items;
  size_t count, capacity;
  item *spare; /* the taken batch's array, reused */
  size_t spare_capacity;
  pthread_t thread;
  int cpu; /* -1: not pinned */
  atomic_int stop;
} loop_thread;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int allowed_cpu(int index) {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  int seen = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    if (seen++ == index) return c;
  }
  fprintf(stderr, "cross pinning needs two CPUs\n");
  exit(2);
}

static void pin_self(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void drain(uv_async_t *handle) {
  loop_thread *lt = handle->data;
  pthread_mutex_lock(&lt->lock);
  item *batch = lt->items;
  const size_t n = lt->count, batch_capacity = lt->capacity;
  lt->items = lt->spare;
  lt->capacity = lt->spare_capacity;
  lt->count = 0;
  pthread_mutex_unlock(&lt->lock);
  for (size_t i = 0; i < n; ++i) batch[i].fn(batch[i].arg);
  pthread_mutex_lock(&lt->lock);
  lt->spare = batch;
  lt->spare_capacity = batch_capacity;
  pthread_mutex_unlock(&lt->lock);
  if (atomic_load(&lt->stop)) uv_close((uv_handle_t *)&lt->wake, NULL);
}

static void post(loop_thread *lt, callback_fn fn, void *arg) {
  pthread_mutex_lock(&lt->lock);
  if (lt->count == lt->capacity) {
    lt->capacity = lt->capacity ? lt->capacity * 2 : 1024;
    lt->items = realloc(lt->items, lt->capacity * sizeof(item));
    if (!lt->items) abort();
  }
  lt->items[lt->count++] = (item){fn, arg};
  pthread_mutex_unlock(&lt->lock);
  uv_async_send(&lt->wake);
}

static void *run_loop(void *p) {
  loop_thread *lt = p;
  pin_self(lt->cpu);
  uv_run(&lt->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void start(loop_thread *lt, int cpu) {
  memset(lt, 0, sizeof *lt);
  lt->cpu = cpu;
  uv_loop_init(&lt->loop);
  uv_async_init(&lt->loop, &lt->wake, drain);
  lt->wake.data = lt;
  pthread_mutex_init(&lt->lock, NULL);
  pthread_create(&lt->thread, NULL, run_loop, lt);
}

static void finish(loop_thread *lt) {
  atomic_store(&lt->stop, 1);
  uv_async_send(&lt->wake);
  pthread_join(lt->thread, NULL);
  uv_loop_close(&lt->loop);
  free(lt->items);
  free(lt->spare);
}

/* W1/W2 */
static atomic_long ran;
static void count_one(void *arg) {
  (void)arg;
  atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
}

typedef struct {
  loop_thread *lt;
  long n;
  int cpu;
} producer;

static void *produce(void *p) {
  producer *pr = p;
  pin_self(pr->cpu);
  for (long i = 0; i < pr->n; ++i) post(pr->lt, count_one, NULL);
  return NULL;
}

static void callbacks(const char *workload, int producers, int cross) {
  loop_thread lt;
  start(&lt, cross ? allowed_cpu(1) : -1);
  const long total = 4000000, per = total / producers;
  pthread_t threads[2];
  producer pr = {&lt, per, cross ? allowed_cpu(0) : -1};
  const double t0 = now_s();
  for (int p = 0; p < producers; ++p) pthread_create(&threads[p], NULL, produce, &pr);
  for (int p = 0; p < producers; ++p) pthread_join(threads[p], NULL);
  while (atomic_load(&ran) < per * producers) sched_yield();
  printf("%s libuv callbacks_per_s=%.0f\n", workload, per * producers / (now_s() - t0));
  finish(&lt);
}

/* W3: the reply comes back through a mutex and condition variable, the thread-side idiom. */
typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done, value;
} reply;

static void answer(void *arg) {
  reply *r = arg;
  pthread_mutex_lock(&r->lock);
  r->value = 42;
  r->done = 1;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static int by_value(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void print_latency(const char *workload, const char *key, double *us, int n) {
  qsort(us, n, sizeof(double), by_value);
  printf("%s libuv %s=%.2f p99_us=%.2f p999_us=%.2f\n", workload, key, us[n / 2], us[(int)(n * 0.99)],
         us[(int)(n * 0.999)]);
}

static void round_trips_from_thread(int cross) {
  loop_thread lt;
  start(&lt, cross ? allowed_cpu(1) : -1);
  pin_self(cross ? allowed_cpu(0) : -1);
  enum { n = 20000 };
  static double us[n];
  reply r;
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.cond, NULL);
  for (int i = 0; i < n; ++i) {
    r.done = 0;
    const double t0 = now_s();
    post(&lt, answer, &r);
    pthread_mutex_lock(&r.lock);
    while (!r.done) pthread_cond_wait(&r.cond, &r.lock);
    pthread_mutex_unlock(&r.lock);
    if (r.value != 42) abort();
    us[i] = (now_s() - t0) * 1e6;
  }
  print_latency("W3", "p50_us", us, n);
  finish(&lt);
}

/* W5 */
static long resident_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
  }
  if (f) fclose(f);
  return kib * 1024;
}

static void timer_closed(uv_handle_t *h) { (void)h; }
static void timer_fired(uv_timer_t *t) { uv_close((uv_handle_t *)t, timer_closed); }

static void sleepers(void) {
  enum { n = 100000 };
  uv_loop_t loop;
  uv_loop_init(&loop);
  const long before = resident_bytes();
  const double t0 = now_s();
  /* One allocation per timer, as one per task elsewhere. */
  uv_timer_t **each = malloc(n * sizeof(uv_timer_t *));
  for (int i = 0; i < n; ++i) {
    each[i] = malloc(sizeof(uv_timer_t));
    uv_timer_init(&loop, each[i]);
    uv_timer_start(each[i], timer_fired, 2000, 0);
  }
  const long per = (resident_bytes() - before) / n;
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("W5 libuv bytes_per_task=%ld wall_s=%.3f\n", per, now_s() - t0);
  for (int i = 0; i < n; ++i) free(each[i]);
  free(each);
  uv_loop_close(&loop);
}

/* W6: A posts to B, B posts the reply back to A. */
typedef struct {
  loop_thread *a, *b;
  int left;
  double t0;
  double *us;
  int index;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int finished;
} hop_state;

static void hop_send(void *arg);
static void hop_back(void *arg) {
  hop_state *h = arg;
  h->us[h->index++] = (now_s() - h->t0) * 1e6;
  if (--h->left > 0) {
    hop_send(h);
    return;
  }
  pthread_mutex_lock(&h->lock);
  h->finished = 1;
  pthread_cond_signal(&h->cond);
  pthread_mutex_unlock(&h->lock);
}
static void hop_reply(void *arg) {
  hop_state *h = arg;
  post(h->a, hop_back, h);
}
static void hop_send(void *arg) {
  hop_state *h = arg;
  h->t0 = now_s();
  post(h->b, hop_reply, h);
}

static void round_trips_between_loops(int cross) {
  enum { n = 20000 };
  static double us[n];
  loop_thread a, b;
  start(&a, cross ? allowed_cpu(0) : -1);
  start(&b, cross ? allowed_cpu(1) : -1);
  hop_state h = {&a, &b, n, 0, us, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  post(&a, hop_send, &h);
  pthread_mutex_lock(&h.lock);
  while (!h.finished) pthread_cond_wait(&h.cond, &h.lock);
  pthread_mutex_unlock(&h.lock);
  print_latency("W6", "rt_us", us, n);
  finish(&a);
  finish(&b);
}

int main(int argc, char **argv) {
  if (argc != 4 || strcmp(argv[1], "libuv") != 0) {
    fprintf(stderr, "usage: %s libuv W1|W2|W3|W5|W6 none|cross|cpu0\n", argv[0]);
    return 2;
  }
  const char *w = argv[2];
  const int cross = strcmp(argv[3], "cross") == 0;
  if (!strcmp(w, "W1")) callbacks(w, 1, cross);
  else if (!strcmp(w, "W2")) callbacks(w, 2, cross);
  else if (!strcmp(w, "W3")) round_trips_from_thread(cross);
  else if (!strcmp(w, "W5")) sleepers();
  else if (!strcmp(w, "W6")) round_trips_between_loops(cross);
  else return 2;
  return 0;
}
