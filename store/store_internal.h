/*
 * store/store_internal.h - the store handle, for store/'s own files only.
 */
#ifndef CB_STORE_STORE_INTERNAL_H
#define CB_STORE_STORE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "store/store.h"

struct store {
	char *root;
	int lock_fd;
	int lock_depth;
	pthread_mutex_t lock_mu;
	store_blob_fetch_fn fetch; /* lazy blobs, see store_blob_ensure */
	void *fetch_ctx;
	/* the handle's lease (store/lease.c), begun lazily under lease_mu */
	pthread_mutex_t lease_mu;
	char *lease_id;      /* NULL until begun */
	int lease_fd;        /* leases/ID, flock(LOCK_EX) held; -1 */
	pid_t lease_pid;     /* the process that began it (forks do not end it) */
	char **lease_seen;   /* digests already written, sorted */
	int leases_lock_fd;  /* leases/lock; -1 until first used */
	int leases_lock_depth;
	pthread_mutex_t leases_lock_mu;
};

#endif
