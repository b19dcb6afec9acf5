/*
 * wallclock-shift.so: moves the wall clock of one process, for the clock-jump drill
 * (Tests/EdgegwTests/ClockJumpDrillTests.swift), without touching the machine's clock.
 *
 *   cc -shared -fPIC -O2 -o wallclock-shift.so scripts/wallclock-shift.c -ldl
 *   echo 7200 > shift; LD_PRELOAD=$PWD/wallclock-shift.so WALLCLOCK_SHIFT_FILE=$PWD/shift edgegw run ...
 *
 * The file holds the shift in seconds (a decimal number, negative for the past); it is read again
 * at most every 100 ms, so writing another number into it makes the process's wall clock jump
 * while it runs. clock_gettime(CLOCK_REALTIME, _COARSE), gettimeofday(), time() and
 * timespec_get() are shifted; the monotonic and boot-time clocks are not, as when NTP or an
 * administrator steps the system clock.
 *
 * What it cannot do: a wait on an absolute wall-clock deadline that began before a jump is not
 * stretched or cut the way the kernel would after a real step; one that begins after a forward
 * jump waits as much too long as the jump. (libfaketime was tried first: it also moves the
 * deadlines of timerfd timers on the monotonic clocks, which stops libdispatch's timers, so Swift
 * tasks never wake after a jump back, which no real system does.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
static char shift_path[4096];
static _Atomic long long shift_ns;
static _Atomic long long next_read_ns;

static void find_real(void) {
    if (!real_clock_gettime) real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
}

__attribute__((constructor)) static void start(void) {
    find_real();
    const char *path = getenv("WALLCLOCK_SHIFT_FILE");
    if (path) {
        size_t i = 0;
        for (; path[i] && i < sizeof shift_path - 1; i++) shift_path[i] = path[i];
        shift_path[i] = 0;
    }
}

/* Reads the file with plain system calls (no allocation: callers may hold any lock). */
static void refresh(void) {
    if (!shift_path[0] || !real_clock_gettime) return;
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    long long due = atomic_load(&next_read_ns);
    if (ns < due || !atomic_compare_exchange_strong(&next_read_ns, &due, ns + 100000000LL)) return;
    int fd = open(shift_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char text[64];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return;
    text[n] = 0;
    char *end;
    double seconds = strtod(text, &end);
    if (end != text) atomic_store(&shift_ns, (long long)(seconds * 1e9));
}

static void shift(struct timespec *ts) {
    refresh();
    long long total = (long long)ts->tv_nsec + atomic_load(&shift_ns) % 1000000000LL;
    ts->tv_sec += (time_t)(atomic_load(&shift_ns) / 1000000000LL);
    if (total < 0) { total += 1000000000LL; ts->tv_sec -= 1; }
    if (total >= 1000000000LL) { total -= 1000000000LL; ts->tv_sec += 1; }
    ts->tv_nsec = (long)total;
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    find_real();
    int rc = real_clock_gettime(clock, ts);
    if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) shift(ts);
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}

int timespec_get(struct timespec *ts, int base) {
    if (base != TIME_UTC || clock_gettime(CLOCK_REALTIME, ts) != 0) return 0;
    return base;
}
