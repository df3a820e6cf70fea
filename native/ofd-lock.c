/*
 * Linux open-file-description (OFD) byte-range locks for Node: fcntl F_OFD_SETLK and
 * F_OFD_GETLK, which Node's fs module does not expose. replayvm locks disk images with them
 * exactly as QEMU's block/file-posix.c does, so that QEMU and replayvm see each other's locks.
 *
 * OFD locks belong to the open file description, not the process: two descriptors opened
 * separately conflict even inside one process, and closing another descriptor of the same
 * file does not drop them (unlike POSIX process locks).
 *
 * JavaScript API (src/host/node/block/ofd-lock.ts):
 *   setLock(fd, start, length, shared)  shared: true takes a shared (read) lock, false unlocks;
 *                                       returns 0 or a positive errno (EAGAIN: conflict)
 *   testLock(fd, start, length)         1 when another open file description holds a lock that
 *                                       an exclusive lock on the range would conflict with,
 *                                       0 when none does, or a negative errno
 * Without OFD locks (not Linux) both return ENOSYS (negative for testLock).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <node_api.h>

static int read_args(napi_env env, napi_callback_info info, size_t want, int32_t *fd, int64_t *start,
                     int64_t *length, bool *flag) {
  napi_value argv[4];
  size_t argc = 4;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "ofd-lock: wrong number of arguments");
    return -1;
  }
  if (napi_get_value_int32(env, argv[0], fd) != napi_ok || napi_get_value_int64(env, argv[1], start) != napi_ok ||
      napi_get_value_int64(env, argv[2], length) != napi_ok) {
    napi_throw_type_error(env, NULL, "ofd-lock: fd, start and length must be numbers");
    return -1;
  }
  if (flag != NULL && napi_get_value_bool(env, argv[3], flag) != napi_ok) {
    napi_throw_type_error(env, NULL, "ofd-lock: the fourth argument must be a boolean");
    return -1;
  }
  return 0;
}

static napi_value number(napi_env env, int32_t value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  return v;
}

static napi_value set_lock(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t start, length;
  bool shared;
  if (read_args(env, info, 4, &fd, &start, &length, &shared) != 0) return NULL;
#ifdef F_OFD_SETLK
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = shared ? F_RDLCK : F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = length;
  return number(env, fcntl(fd, F_OFD_SETLK, &fl) == -1 ? errno : 0);
#else
  (void)fd; (void)start; (void)length; (void)shared;
  return number(env, ENOSYS);
#endif
}

static napi_value test_lock(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t start, length;
  if (read_args(env, info, 3, &fd, &start, &length, NULL) != 0) return NULL;
#ifdef F_OFD_GETLK
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = length;
  if (fcntl(fd, F_OFD_GETLK, &fl) == -1) return number(env, -errno);
  return number(env, fl.l_type == F_UNLCK ? 0 : 1);
#else
  (void)fd; (void)start; (void)length;
  return number(env, -ENOSYS);
#endif
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "setLock", NULL, set_lock, NULL, NULL, NULL, napi_enumerable, NULL },
    { "testLock", NULL, test_lock, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
