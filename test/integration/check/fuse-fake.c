/*
 * Fake and failing cards for the card-check tests: a one-file FUSE filesystem whose /card claims
 * CLAIMED bytes and misbehaves like the cards sold on market stalls. A loop device over /card is
 * the card.
 *   wrap    <claimed> <real>      holds REAL bytes; byte a is stored at a mod REAL (wrap-around)
 *   lost    <claimed> <real>      holds REAL bytes; writes past REAL vanish, reads there are zeros
 *   corrupt <claimed> <bad_from>  holds everything, but from BAD_FROM on every 512th byte reads
 *                                 back with its low bit flipped (a worn card returning wrong data)
 * Usage: fuse-fake <mountpoint> <mode> <claimed> <n>   (runs in the foreground)
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum mode { WRAP, LOST, CORRUPT };
static enum mode mode;
static off_t claimed, n;
static unsigned char *store;

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0) { st->st_mode = S_IFDIR | 0755; st->st_nlink = 2; return 0; }
  if (strcmp(path, "/card") == 0) { st->st_mode = S_IFREG | 0666; st->st_nlink = 1; st->st_size = claimed; return 0; }
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

/* Copies between the caller's buffer and the store, byte range by byte range, as the mode maps it. */
static size_t clip(off_t off, size_t size) {
  if (off >= claimed) return 0;
  return off + (off_t)size > claimed ? (size_t)(claimed - off) : size;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  size = clip(off, size);
  for (size_t done = 0; done < size;) {
    off_t at = off + (off_t)done;
    size_t len = size - done;
    if (mode == WRAP) {
      off_t cell = at % n;
      if ((off_t)len > n - cell) len = (size_t)(n - cell);
      memcpy(buf + done, store + cell, len);
    } else if (mode == LOST && at >= n) {
      memset(buf + done, 0, len);
    } else {
      if (mode == LOST && at + (off_t)len > n) len = (size_t)(n - at);
      memcpy(buf + done, store + at, len);
      if (mode == CORRUPT)
        for (size_t i = 0; i < len; i++)
          if (at + (off_t)i >= n && (at + (off_t)i) % 512 == 100) buf[done + i] ^= 1;
    }
    done += len;
  }
  return (int)size;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  size = clip(off, size);
  for (size_t done = 0; done < size;) {
    off_t at = off + (off_t)done;
    size_t len = size - done;
    if (mode == WRAP) {
      off_t cell = at % n;
      if ((off_t)len > n - cell) len = (size_t)(n - cell);
      memcpy(store + cell, buf + done, len);
    } else if (mode == LOST && at >= n) {
      /* lost */
    } else {
      if (mode == LOST && at + (off_t)len > n) len = (size_t)(n - at);
      memcpy(store + at, buf + done, len);
    }
    done += len;
  }
  return (int)size;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  (void)path; (void)size; (void)fi;
  return 0;
}

static const struct fuse_operations ops = {
  .getattr = fs_getattr, .readdir = fs_readdir, .open = fs_open, .read = fs_read, .write = fs_write, .truncate = fs_truncate,
};

int main(int argc, char **argv) {
  if (argc != 5) return 2;
  if (strcmp(argv[2], "wrap") == 0) mode = WRAP;
  else if (strcmp(argv[2], "lost") == 0) mode = LOST;
  else if (strcmp(argv[2], "corrupt") == 0) mode = CORRUPT;
  else return 2;
  claimed = atoll(argv[3]);
  n = atoll(argv[4]);
  if (n <= 0 || n > claimed) return 2;
  store = calloc(1, (size_t)(mode == CORRUPT ? claimed : n));
  if (!store) return 1;
  char *fargs[] = { argv[0], "-f", "-s", argv[1], NULL };
  return fuse_main(4, fargs, &ops, NULL);
}
