/* snowd's own health: the inventory's writes and dnsmasq's supervision. */
#include "health.h"

#include <string.h>

#include "snowd.h"

json_t *snowd_health(struct snowd *sd)
{
	const struct inv_health *ih = &sd->inv.health;
	int dns = strcmp(sd->cfg.dnsmasq, "none") != 0;
	json_t *reasons = json_array(), *inv, *o;
	char text[400];

	if (!reasons)
		return NULL;
	inv = json_pack("{s:b, s:I}", "writable", !ih->failing, "write_failures",
			(json_int_t)ih->failures);
	if (inv && ih->failing) {
		json_object_set_new(inv, "reason", json_string(ih->reason));
		json_object_set_new(inv, "since", json_integer(ih->fail_since));
		snprintf(text, sizeof(text), "inventory: cannot write: %s", ih->reason);
		json_array_append_new(reasons, json_string(text));
	}
	if (dns && !sd->dnsmasq.pid) {
		snprintf(text, sizeof(text), "dnsmasq: not running (%d restarts)",
			 sd->dnsmasq.restarts);
		json_array_append_new(reasons, json_string(text));
	}
	o = json_pack("{s:s, s:o, s:o*, s:{s:b, s:b, s:i}}", "status",
		      json_array_size(reasons) ? "degraded" : "ok", "reasons", reasons, "inventory",
		      inv, "dnsmasq", "enabled", dns, "running", dns && sd->dnsmasq.pid, "restarts",
		      sd->dnsmasq.restarts);
	return o;
}
