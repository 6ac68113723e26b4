/*
 * A one-file FUSE filesystem that plays an SD card for tests and benchmarks. /card is SIZE bytes.
 * A loop device over it is the "card" Cardsmith writes.
 *   --backing FILE       keep the card's bytes in FILE (e.g. in /dev/shm); without it the card
 *                        reads as zeros and forgets what is written (a card that loses data)
 *   --bad START END      any write touching bytes [START, END) fails with EIO (a card dying)
 *   --write-rate B/s     serve writes no faster than this many bytes per second
 *   --read-rate B/s      the same for reads
 *   --latency-us N       and add N microseconds to every request (the card's command overhead)
 * The card serves one request at a time (FUSE single-threaded, -s): a request finishes at
 * (when the previous one finished) + latency + size / rate, so the rates hold however the kernel
 * splits and queues the I/O (see book() for when the card counts as idle).
 * Usage: fuse-card <mountpoint> <size> [options]   (runs in the foreground)
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static off_t card_size, bad_start, bad_end;
static int backing = -1;
static double write_rate, read_rate, latency_s;
static struct timespec busy_until;

static double seconds(const struct timespec *t) { return (double)t->tv_sec + (double)t->tv_nsec / 1e9; }

/*
 * Books a request on the card's timeline and returns when it finishes. The card runs behind by up
 * to SLACK_S before it counts as idle: this program's own overhead between requests (a context
 * switch per 128 KiB request, more on a loaded host) would otherwise be added to every request,
 * which a real card, whose controller queues the next command while it works, does not pay.
 */
#define SLACK_S 0.05
static struct timespec book(size_t size, double rate) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double start = seconds(&busy_until) > seconds(&now) - SLACK_S ? seconds(&busy_until) : seconds(&now) - SLACK_S;
  double done = start + latency_s + (rate > 0 ? (double)size / rate : 0);
  busy_until.tv_sec = (time_t)done;
  busy_until.tv_nsec = (long)((done - (double)busy_until.tv_sec) * 1e9);
  return busy_until;
}

/* The copy happens first and counts against the request's time, like a card's transfer. */
static void wait_until(const struct timespec *done) {
  if (write_rate <= 0 && read_rate <= 0 && latency_s <= 0) return;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, done, NULL) == EINTR) {}
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0) { st->st_mode = S_IFDIR | 0755; st->st_nlink = 2; return 0; }
  if (strcmp(path, "/card") == 0) { st->st_mode = S_IFREG | 0666; st->st_nlink = 1; st->st_size = card_size; return 0; }
  return -ENOENT;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)off; (void)fi; (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, "card", NULL, 0, 0);
  return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
  if (strcmp(path, "/card") != 0) return -ENOENT;
  fi->direct_io = 1;
  return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  if (off >= card_size) return 0;
  if (off + (off_t)size > card_size) size = card_size - off;
  struct timespec done = book(size, read_rate);
  ssize_t got = (ssize_t)size;
  if (backing < 0) memset(buf, 0, size);
  else got = pread(backing, buf, size, off);
  wait_until(&done);
  return got < 0 ? -errno : (int)got;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  if (off < bad_end && off + (off_t)size > bad_start) return -EIO;
  if (off >= card_size) return -ENOSPC;
  if (off + (off_t)size > card_size) size = card_size - off;
  struct timespec done = book(size, write_rate);
  ssize_t put = backing < 0 ? (ssize_t)size : pwrite(backing, buf, size, off);
  wait_until(&done);
  return put < 0 ? -errno : (int)put;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  (void)path; (void)size; (void)fi;
  return 0;
}

static const struct fuse_operations ops = {
  .getattr = fs_getattr, .readdir = fs_readdir, .open = fs_open, .read = fs_read, .write = fs_write, .truncate = fs_truncate,
};

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: fuse-card <mountpoint> <size> [options]\n"); return 2; }
  card_size = atoll(argv[2]);
  for (int i = 3; i < argc; i++) {
    const char *opt = argv[i];
    if (strcmp(opt, "--bad") == 0 && i + 2 < argc) { bad_start = atoll(argv[++i]); bad_end = atoll(argv[++i]); continue; }
    if (i + 1 >= argc) { fprintf(stderr, "option %s needs a value\n", opt); return 2; }
    const char *value = argv[++i];
    if (strcmp(opt, "--backing") == 0) {
      backing = open(value, O_RDWR | O_CREAT, 0600);
      if (backing < 0 || ftruncate(backing, card_size) != 0) { perror(value); return 1; }
    } else if (strcmp(opt, "--write-rate") == 0) write_rate = atof(value);
    else if (strcmp(opt, "--read-rate") == 0) read_rate = atof(value);
    else if (strcmp(opt, "--latency-us") == 0) latency_s = atof(value) / 1e6;
    else { fprintf(stderr, "unknown option %s\n", opt); return 2; }
  }
  char *fargs[] = { argv[0], "-f", "-s", argv[1], NULL };
  return fuse_main(4, fargs, &ops, NULL);
}
