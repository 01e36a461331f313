/*
 * vfs.h - the SQLite VFS of the store's write connection. Internal to
 * store/.
 *
 * It is the default VFS with two changes:
 *
 * - Appends to a write-ahead log are gathered in a buffer (RVK_VFS_WALBUF
 *   bytes per open WAL, allocated at its first write) and written with one
 *   pwrite(2) each, instead of two per frame (the 24-byte frame header, then
 *   the page). A group commit of thousands of new rows writes thousands of
 *   frames, and on this project's machines a system call costs several
 *   microseconds (docs/BENCHMARKS.md, "Fewer system calls per WAL frame").
 *   The buffer is written out before anything could need its bytes in the
 *   file: before the WAL is synced (so a commit under synchronous=FULL is
 *   as durable as without the buffer), read where the buffer overlaps,
 *   truncated, sized, closed or given a file control, and before the
 *   connection publishes a new WAL-index header (xShmBarrier on the main
 *   file; a commit that does not sync is visible to other connections only
 *   from then on). A failed write is reported by the call that made it,
 *   but for the barrier, which cannot report one (why that is safe: vfs.c).
 * - With fault injection built in, xSync fails when RVK_FAULT("store.fsync")
 *   fires (base/fault.h): SQLITE_IOERR_FSYNC, nothing synced.
 *
 * Threads: rvk_store_vfs_name() registers the VFS once, from any thread.
 * An open file belongs to its connection, which SQLite uses from one thread
 * at a time.
 */
#ifndef RVK_STORE_VFS_H
#define RVK_STORE_VFS_H

/* Under 128 KiB: SQLite's unix VFS writes at most 17 bits' worth of
 * length per call (seekAndWriteFd masks it with 0x1ffff), and a longer
 * write comes back short, as SQLITE_FULL. */
#define RVK_VFS_WALBUF (120 * 1024)

/* Returns: the VFS name to pass to sqlite3_open_v2 (static storage). Its
 * parent is the VFS that was the default at the first call. */
const char *rvk_store_vfs_name(void);

#endif
