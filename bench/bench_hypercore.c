/*
 * The hypercore section: the yardstick issue 16 compares lernet's catch-up
 * with, Hypercore (the version pinned in scripts/install-deps) replicating
 * as many blocks as the catch-up has events, each as large as one signed
 * event, from one process to another over its encrypted loopback stream
 * (bench/hypercore.js), in the same run and on the same machine. The
 * ratio needs the catchup section in the same run.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

#define HC_OUT_MAX 4096
#define HC_DEADLINE_S 600

/* The node command's first arguments: the script and the npm modules. */
static void hc_argv(const char **argv, const char *mode)
{
    static char script[1024], mods[1024];
    snprintf(script, sizeof script, "%s/bench/hypercore.js", LERNET_SOURCE_DIR);
    snprintf(mods, sizeof mods, "%s/build-npm/node_modules", LERNET_SOURCE_DIR);
    argv[0] = "node";
    argv[1] = script;
    argv[2] = mods;
    argv[3] = mode;
}

/* Starts node with argv; *out_fd reads its standard output. */
static pid_t hc_spawn(const char *const *argv, int *out_fd)
{
    int fds[2];
    if (pipe(fds) != 0)
        bench_die("hypercore: pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        bench_die("hypercore: fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the seeder ends with the bench, even if it dies */
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    *out_fd = fds[0];
    return pid;
}

/* Reads fd until a line ends or it closes, within HC_DEADLINE_S. */
static void hc_read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    double end = bench_now() + HC_DEADLINE_S;
    while (n + 1 < size && bench_now() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t k = read(fd, buf + n, size - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
        buf[n] = '\0';
        if (memchr(buf, '\n', n))
            break;
    }
    buf[n] = '\0';
}

/* Runs node to the end: its first line in out, its CPU seconds. */
static void hc_run(const char *const *argv, char *out, size_t size, double *cpu_s)
{
    int fd, status;
    struct rusage ru;
    pid_t pid = hc_spawn(argv, &fd);
    hc_read_line(fd, out, size);
    close(fd);
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("hypercore: `node bench/hypercore.js %s` failed (scripts/install-deps puts "
                  "hypercore in build-npm/)",
                  argv[3]);
    *cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void bench_hypercore(bench_t *b)
{
    long blocks = b->quick ? 2000 : b->catchup_events > 0 ? b->catchup_events : 100000;
    int bytes = b->catchup_event_bytes > 0 ? (int)(b->catchup_event_bytes + 0.5) : 521;
    /* mkdtemp's template: the X's become the directory's name */
    char dir[] = "/tmp/lernet-bench-hc-XXXXXX", src[64], dst[64], nblocks[24], nbytes[16];
    char port[16], key[HC_OUT_MAX], line[HC_OUT_MAX];
    if (!mkdtemp(dir))
        bench_die("hypercore: mkdtemp: %s", strerror(errno));
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(nblocks, sizeof nblocks, "%ld", blocks);
    snprintf(nbytes, sizeof nbytes, "%d", bytes);
    snprintf(port, sizeof port, "%d", h_free_port());
    const char *argv[9] = {0};
    double cpu;
    hc_argv(argv, "fill");
    argv[4] = src, argv[5] = nblocks, argv[6] = nbytes;
    hc_run(argv, key, sizeof key, &cpu);
    key[strcspn(key, "\n")] = '\0';
    if (strlen(key) != 64)
        bench_die("hypercore: fill printed no key: %s", key);
    int seed_fd;
    hc_argv(argv, "seed");
    argv[4] = src, argv[5] = port, argv[6] = NULL;
    pid_t seeder = hc_spawn(argv, &seed_fd);
    hc_read_line(seed_fd, line, sizeof line);
    if (strncmp(line, "ready", 5) != 0)
        bench_die("hypercore: the seeding process did not start");
    double rate[9], cpu_unit[9];
    for (int r = 0; r < b->runs; r++) {
        snprintf(dst, sizeof dst, "%s/clone%d", dir, r);
        hc_argv(argv, "clone");
        argv[4] = dst, argv[5] = key, argv[6] = port, argv[7] = nblocks;
        double v0 = bench_verify_cpu_s(0.5);
        hc_run(argv, line, sizeof line, &cpu);
        double unit = (v0 + bench_verify_cpu_s(0.5)) / 2;
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        double secs = o ? json_number_value(json_object_get(o, "secs")) : 0;
        json_decref(o);
        if (secs <= 0)
            bench_die("hypercore: the clone said %s", line);
        rate[r] = (double)blocks / secs;
        cpu_unit[r] = cpu / ((double)blocks * unit);
    }
    kill(seeder, SIGTERM);
    close(seed_fd);
    waitpid(seeder, NULL, 0);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    double med = bench_median(rate, b->runs);
    char label[96];
    snprintf(label, sizeof label, "Hypercore replication, 2 processes: %ld blocks of %d B, /s", blocks,
             bytes);
    if (b->catchup_rate > 0)
        bench_row(b, "hypercore_replicate_per_s", label, med, "%.0f",
                  "lernet's catch-up %.0f ev/s = %.2f x it; goal >= 4", b->catchup_rate,
                  b->catchup_rate / med);
    else
        bench_row(b, "hypercore_replicate_per_s", label, med, "%.0f",
                  "run with the catchup section for the ratio");
    bench_row(b, "hypercore_reader_cpu_per_verify",
              "Hypercore: reader CPU per block / one verification", bench_median(cpu_unit, b->runs),
              "%.2f", "lernet's receiver: catchup_receiver_cpu_per_verify");
}
