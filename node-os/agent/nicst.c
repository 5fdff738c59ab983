#include "nicst.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct nicst_counter nicst_counters[] = {
	{ "msgs_tx", INSTR_COUNTER, "", "messages sent" },
	{ "msgs_rx", INSTR_COUNTER, "", "messages received" },
	{ "bytes_tx", INSTR_COUNTER, "bytes", "message bytes sent" },
	{ "bytes_rx", INSTR_COUNTER, "bytes", "message bytes received" },
	{ "frags_tx", INSTR_COUNTER, "", "fragments sent" },
	{ "frags_rx", INSTR_COUNTER, "", "fragments received" },
	{ "small_tx", INSTR_COUNTER, "", "bypass (small) messages sent" },
	{ "small_rx", INSTR_COUNTER, "", "bypass (small) messages received" },
	{ "sf_tx", INSTR_COUNTER, "", "store-and-forward messages sent" },
	{ "sf_rx", INSTR_COUNTER, "", "store-and-forward messages received" },
	{ "stalls_credit", INSTR_COUNTER, "", "sends stalled for credits" },
	{ "stalls_slots", INSTR_COUNTER, "", "sends stalled for NIC buffers" },
	{ "drops_nobuf", INSTR_COUNTER, "", "frames dropped: no receive buffer" },
	{ "drops_ring", INSTR_COUNTER, "", "frames dropped by the kernel ring" },
	{ "frames_lost", INSTR_COUNTER, "", "frames detected lost (sequence gaps)" },
	{ "msgs_aborted", INSTR_COUNTER, "", "messages aborted (loss or timeout)" },
	{ "frames_bad", INSTR_COUNTER, "", "frames refused as malformed" },
	{ "frames_orphan", INSTR_COUNTER, "", "frames of a message whose start was lost" },
	{ "frames_dup", INSTR_COUNTER, "", "duplicate frames dropped" },
	{ "drops_closed", INSTR_COUNTER, "", "data dropped with no application attached" },
	{ "bad_desc", INSTR_COUNTER, "", "descriptors refused" },
	{ "ctrl_tx", INSTR_COUNTER, "", "control frames sent" },
	{ "ctrl_rx", INSTR_COUNTER, "", "control frames received" },
	{ "credits_avail", INSTR_GAUGE, "frames", "send credits available, all peers" },
	{ "held_frames", INSTR_GAUGE, "frames", "frames held in NIC memory for a buffer" },
	{ "send_queue", INSTR_GAUGE, "", "send descriptors queued on the NIC" },
	{ "post_queue", INSTR_GAUGE, "", "receive buffers posted to the NIC" },
};
const size_t nicst_ncounters = sizeof(nicst_counters) / sizeof(nicst_counters[0]);

static long nicst_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

void nicst_read(const char *root, time_t now, struct nicst *s)
{
	char path[4096];
	struct stat sb;
	json_t *j, *v;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", root, NICST_DOWN);
	s->down = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/%s", root, NICST_STATUS);
	if (stat(path, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 20))
		return;
	/* snow-nic writes it with rename(): it is whole or absent. */
	j = json_load_file(path, 0, NULL);
	if (!j || !json_is_object(j) || !json_is_object(json_object_get(j, "counters"))) {
		json_decref(j);
		return;
	}
	s->present = 1;
	s->json = j;
	s->age_s = (long)(now - sb.st_mtime);
	s->fresh = s->age_s <= NICST_FRESH_S && s->age_s >= -NICST_FRESH_S;
	v = json_object_get(j, "iface");
	if (json_is_string(v) && strlen(json_string_value(v)) < sizeof(s->iface) &&
	    !strchr(json_string_value(v), '/') && json_string_value(v)[0] != '.')
		snprintf(s->iface, sizeof(s->iface), "%s", json_string_value(v));
	s->pid = nicst_int(j, "pid");
	if (s->pid < 0)
		s->pid = 0;
	s->node = nicst_int(j, "node");
	s->mtu = nicst_int(j, "mtu");
}

void nicst_clear(struct nicst *s)
{
	json_decref(s->json);
	s->json = NULL;
}
