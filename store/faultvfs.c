/*
 * The "store.fsync" fault point, as a VFS shim: a copy of the default VFS
 * whose files carry the real file right behind our header and whose method
 * table forwards every call to it, xSync excepted. Copying the parent
 * sqlite3_vfs keeps its pAppData and limits, so the parent's own methods
 * still work when SQLite hands them our sqlite3_vfs.
 */
#include <pthread.h>
#include <string.h>

#include <sqlite3.h>

#include "base/check.h"
#include "base/fault.h"
#include "store/faultvfs.h"

#ifdef RVK_FAULT_INJECTION

typedef struct ffile {
	sqlite3_file base;
	sqlite3_file *real;             /* points right after this struct */
} ffile_t;

#define REAL(f) (((ffile_t *)(f))->real)
#define RM(f) (REAL(f)->pMethods)

static sqlite3_vfs vfs;
static sqlite3_vfs *parent;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int
f_close(sqlite3_file *f)
{
	return RM(f)->xClose(REAL(f));
}

static int
f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return RM(f)->xRead(REAL(f), buf, n, off);
}

static int
f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	return RM(f)->xWrite(REAL(f), buf, n, off);
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return RM(f)->xTruncate(REAL(f), size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
	if (RVK_FAULT("store.fsync"))
		return SQLITE_IOERR_FSYNC;
	return RM(f)->xSync(REAL(f), flags);
}

static int
f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return RM(f)->xFileSize(REAL(f), size);
}

static int
f_lock(sqlite3_file *f, int level)
{
	return RM(f)->xLock(REAL(f), level);
}

static int
f_unlock(sqlite3_file *f, int level)
{
	return RM(f)->xUnlock(REAL(f), level);
}

static int
f_check_reserved(sqlite3_file *f, int *out)
{
	return RM(f)->xCheckReservedLock(REAL(f), out);
}

static int
f_file_control(sqlite3_file *f, int op, void *arg)
{
	return RM(f)->xFileControl(REAL(f), op, arg);
}

static int
f_sector_size(sqlite3_file *f)
{
	return RM(f)->xSectorSize(REAL(f));
}

static int
f_device_chars(sqlite3_file *f)
{
	return RM(f)->xDeviceCharacteristics(REAL(f));
}

static int
f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return RM(f)->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int
f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return RM(f)->xShmLock(REAL(f), offset, n, flags);
}

static void
f_shm_barrier(sqlite3_file *f)
{
	RM(f)->xShmBarrier(REAL(f));
}

static int
f_shm_unmap(sqlite3_file *f, int del)
{
	return RM(f)->xShmUnmap(REAL(f), del);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return RM(f)->xFetch(REAL(f), off, n, pp);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return RM(f)->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods methods = {
	.iVersion = 3,
	.xClose = f_close, .xRead = f_read, .xWrite = f_write,
	.xTruncate = f_truncate, .xSync = f_sync, .xFileSize = f_file_size,
	.xLock = f_lock, .xUnlock = f_unlock,
	.xCheckReservedLock = f_check_reserved,
	.xFileControl = f_file_control, .xSectorSize = f_sector_size,
	.xDeviceCharacteristics = f_device_chars,
	.xShmMap = f_shm_map, .xShmLock = f_shm_lock,
	.xShmBarrier = f_shm_barrier, .xShmUnmap = f_shm_unmap,
	.xFetch = f_fetch, .xUnfetch = f_unfetch,
};

static int
f_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
       int *out_flags)
{
	(void)v;
	ffile_t *ff = (ffile_t *)f;
	ff->real = (sqlite3_file *)(ff + 1);
	int rc = parent->xOpen(parent, name, ff->real, flags, out_flags);
	/* SQLite calls xClose iff pMethods is set, so set ours only when the
	 * real file is open. The unix VFS always has version 3 methods. */
	if (ff->real->pMethods) {
		RVK_REQUIRE(ff->real->pMethods->iVersion >= 3);
		f->pMethods = &methods;
	} else {
		f->pMethods = NULL;
	}
	return rc;
}

static void
register_vfs(void)
{
	parent = sqlite3_vfs_find(NULL);
	RVK_REQUIRE(parent);
	vfs = *parent;
	vfs.zName = "rvk-fault";
	vfs.pNext = NULL;
	vfs.szOsFile = (int)sizeof(ffile_t) + parent->szOsFile;
	vfs.xOpen = f_open;
	RVK_REQUIRE(sqlite3_vfs_register(&vfs, 0) == SQLITE_OK);
}

const char *
rvk_faultvfs_name(void)
{
	pthread_once(&once, register_vfs);
	return vfs.zName;
}

#else

const char *
rvk_faultvfs_name(void)
{
	return NULL;
}

#endif
