#include <pthread.h>

#include "base/check.h"
#include "base/rcu.h"

__thread int rvk_rcu_registered;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
on_thread_exit(void *arg)
{
	(void)arg;
	if (rvk_rcu_registered) {
		urcu_memb_unregister_thread();
		rvk_rcu_registered = 0;
	}
}

static void
make_key(void)
{
	RVK_REQUIRE(pthread_key_create(&key, on_thread_exit) == 0);
}

void
rvk_rcu_register_slow(void)
{
	pthread_once(&once, make_key);
	urcu_memb_register_thread();
	rvk_rcu_registered = 1;
	/* A non-NULL value is what makes the destructor run at thread exit. */
	pthread_setspecific(key, (void *)1);
}
