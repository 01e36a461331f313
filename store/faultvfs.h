/*
 * faultvfs.h - an SQLite VFS that can fail fsync, for the "store.fsync"
 * fault point (base/fault.h). Internal to store/.
 *
 * It is the default VFS with xSync wrapped: when RVK_FAULT("store.fsync")
 * fires, xSync returns SQLITE_IOERR_FSYNC without syncing; everything else
 * goes straight to the default VFS. Built only with fault injection;
 * otherwise rvk_faultvfs_name() is NULL (the default VFS).
 *
 * Threads: rvk_faultvfs_name() registers the VFS once, from any thread.
 */
#ifndef RVK_STORE_FAULTVFS_H
#define RVK_STORE_FAULTVFS_H

/* Returns: the VFS name to pass to sqlite3_open_v2, or NULL. */
const char *rvk_faultvfs_name(void);

#endif
