/*
 * A one-file FUSE filesystem for tests: /card is SIZE bytes of zeros that accepts writes, except
 * that any write touching bytes [BAD_START, BAD_END) fails with EIO. A loop device over /card is
 * then a "card" that dies mid-write at a known offset.
 * Usage: fuse-eio <mountpoint> <size> <bad_start> <bad_end>   (runs in the foreground)
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static off_t card_size, bad_start, bad_end;

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
  memset(buf, 0, size);
  return (int)size;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)buf; (void)fi;
  if (off < bad_end && off + (off_t)size > bad_start) return -EIO;
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
  card_size = atoll(argv[2]);
  bad_start = atoll(argv[3]);
  bad_end = atoll(argv[4]);
  char *fargs[] = { argv[0], "-f", "-s", argv[1], NULL };
  return fuse_main(4, fargs, &ops, NULL);
}
