/*
 * Fuzz shim: the daemon's clock (host/snowd.c), for targets that link a
 * host/ file using it without the daemon.
 */
#include "snowd.h"

int64_t snowd_now_ms(void)
{
	return 1000;
}
