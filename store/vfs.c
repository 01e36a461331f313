/*
 * The store's VFS (vfs.h): a copy of the default VFS whose files carry the
 * real file right behind our header and whose method table forwards every
 * call to it, with a WAL's appends gathered in a buffer and, with fault
 * injection built in, xSync able to fail. Copying the parent sqlite3_vfs
 * keeps its pAppData and limits, so the parent's own methods still work
 * when SQLite hands them our sqlite3_vfs.
 *
 * Why the buffer is safe (SQLite 3.40, wal.c): a connection writes a WAL
 * only while it holds the WAL write lock, so no other connection writes
 * this file meanwhile; other connections read only frames up to the last
 * WAL-index header they saw, which the writer publishes after the frames
 * (and, under synchronous=FULL, after the xSync that flushes us), with an
 * xShmBarrier on the main file in between; and this connection's own
 * reads of a frame go through xRead, which flushes first when it overlaps.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <sqlite3.h>

#include "base/check.h"
#include "base/fault.h"
#include "store/vfs.h"

typedef struct vfile vfile_t;
struct vfile {
	sqlite3_file base;
	sqlite3_file *real;             /* points right after this struct */
	/* A WAL: buf[0, len) is what belongs at offset off and is not
	 * written yet; buf is allocated at the first write (readers' WALs
	 * never write). db: its main file, while both are open. */
	bool is_wal;
	unsigned char *buf;
	size_t len;
	sqlite3_int64 off;
	vfile_t *db;
	/* A main file: its WAL, while both are open. */
	vfile_t *wal;
};

#define V(f) ((vfile_t *)(f))
#define REAL(f) (V(f)->real)
#define RM(f) (REAL(f)->pMethods)

static sqlite3_vfs vfs;
static sqlite3_vfs *parent;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Writes out what the buffer holds. The bytes are dropped either way: after
 * a failed write SQLite rolls the transaction back and rewrites whatever
 * it still wants. Returns: an SQLite result code. */
static int
flush(vfile_t *v)
{
	if (v->len == 0)
		return SQLITE_OK;
	int rc = RM(v)->xWrite(REAL(v), v->buf, (int)v->len, v->off);
	v->len = 0;
	return rc;
}

static int
f_close(sqlite3_file *f)
{
	vfile_t *v = V(f);
	int rc = flush(v);
	sqlite3_free(v->buf);
	v->buf = NULL;
	if (v->db)
		v->db->wal = NULL;
	if (v->wal)
		v->wal->db = NULL;
	int crc = RM(f)->xClose(REAL(f));
	return rc != SQLITE_OK ? rc : crc;
}

static int
f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	vfile_t *v = V(f);
	if (v->len > 0 && off < v->off + (sqlite3_int64)v->len
	    && off + n > v->off) {
		int rc = flush(v);
		if (rc != SQLITE_OK)
			return rc;
	}
	return RM(f)->xRead(REAL(f), buf, n, off);
}

static int
f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	vfile_t *v = V(f);
	if (!v->is_wal || n <= 0)
		return RM(f)->xWrite(REAL(f), buf, n, off);
	/* An append to what is buffered: the common case, frame after frame. */
	if (v->len > 0 && off == v->off + (sqlite3_int64)v->len
	    && (size_t)n <= RVK_VFS_WALBUF - v->len) {
		memcpy(v->buf + v->len, buf, (size_t)n);
		v->len += (size_t)n;
		return SQLITE_OK;
	}
	/* Anything else (the buffer is full, the log restarts at its head,
	 * a frame of this transaction is rewritten) starts a new run, after
	 * the old one, so writes reach the file in SQLite's order. */
	int rc = flush(v);
	if (rc != SQLITE_OK)
		return rc;
	if (!v->buf && (v->buf = sqlite3_malloc(RVK_VFS_WALBUF)) == NULL)
		return RM(f)->xWrite(REAL(f), buf, n, off);
	if ((size_t)n > RVK_VFS_WALBUF)
		return RM(f)->xWrite(REAL(f), buf, n, off);
	memcpy(v->buf, buf, (size_t)n);
	v->len = (size_t)n;
	v->off = off;
	return SQLITE_OK;
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush(V(f));
	if (rc != SQLITE_OK)
		return rc;
	return RM(f)->xTruncate(REAL(f), size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
	int rc = flush(V(f));
	if (rc != SQLITE_OK)
		return rc;
#ifdef RVK_FAULT_INJECTION
	if (RVK_FAULT("store.fsync"))
		return SQLITE_IOERR_FSYNC;
#endif
	return RM(f)->xSync(REAL(f), flags);
}

static int
f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush(V(f));
	if (rc != SQLITE_OK)
		return rc;
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
	int rc = flush(V(f));
	if (rc != SQLITE_OK)
		return rc;
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

/* Called on the main file between the two copies of a new WAL-index
 * header: after it, other connections may read the frames it counts. Under
 * synchronous=FULL the commit's xSync has flushed them already; a commit
 * that does not sync (the clean-stop marker, db.c) is flushed here. This
 * call cannot report an error: after a failed write the header counts
 * frames the file lacks, as when a disk loses a write it acknowledged;
 * the next start's WAL recovery stops at the first frame whose checksum
 * fails, so that commit is lost, and only that one (the marker's loss
 * makes the next start check the whole file, DECISIONS D26). */
static void
f_shm_barrier(sqlite3_file *f)
{
	vfile_t *v = V(f);
	if (v->wal)
		(void)flush(v->wal);
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
	vfile_t *vf = V(f);
	*vf = (vfile_t){ .real = (sqlite3_file *)(vf + 1) };
	int rc = parent->xOpen(parent, name, vf->real, flags, out_flags);
	/* SQLite calls xClose iff pMethods is set, so set ours only when the
	 * real file is open. The unix VFS always has version 3 methods. */
	if (!vf->real->pMethods) {
		f->pMethods = NULL;
		return rc;
	}
	RVK_REQUIRE(vf->real->pMethods->iVersion >= 3);
	f->pMethods = &methods;
	if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL)) {
		vf->is_wal = true;
		/* The main file, opened through this VFS too, learns its WAL
		 * for the barrier. */
		sqlite3_file *db = sqlite3_database_file_object(name);
		if (db && db->pMethods == &methods) {
			vf->db = V(db);
			V(db)->wal = vf;
		}
	}
	return rc;
}

static void
register_vfs(void)
{
	parent = sqlite3_vfs_find(NULL);
	RVK_REQUIRE(parent);
	vfs = *parent;
	vfs.zName = "rvk-store";
	vfs.pNext = NULL;
	vfs.szOsFile = (int)sizeof(vfile_t) + parent->szOsFile;
	vfs.xOpen = f_open;
	RVK_REQUIRE(sqlite3_vfs_register(&vfs, 0) == SQLITE_OK);
}

const char *
rvk_store_vfs_name(void)
{
	pthread_once(&once, register_vfs);
	return vfs.zName;
}
