/*
 * SNOW-CLUSTER-MIB's notifications (agent_priv.h): snowThresholdRaised and
 * Cleared, snowDeviceStateChange and snowNodeCrashed from snowd's events,
 * snowNodeUp and Down from node states that changed between snapshots; each
 * carries the rows' columns and the snowNotifyObjects it names.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "agent_priv.h"
#include "plan.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const oid oid_nodes[] = { MIB_NODES };
static const oid oid_thrs[] = { MIB_THRS };
static const oid oid_devs[] = { MIB_DEVS };
static const oid oid_notify_objs[] = { MIB_NOTIFY_OBJS };
static const oid oid_notifications[] = { MIB_NOTIFICATIONS };
static const oid oid_trap[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 }; /* snmpTrapOID.0 */

enum { NOTIFY_THR_RAISED = 1, NOTIFY_THR_CLEARED, NOTIFY_DEV_STATE, NOTIFY_NODE_UP,
       NOTIFY_NODE_DOWN, NOTIFY_NODE_CRASHED };
/* snowNotifyObjects: the objects only notifications carry. */
enum { NOBJ_OBSERVED = 1, NOBJ_OBSERVED_TEXT, NOBJ_TIME, NOBJ_BOOT_ID, NOBJ_TEXT };
#define NOBJ_TEXT_MAX 255

static void vb_add(netsnmp_variable_list **vars, const oid *base, size_t baselen, int col,
		   const oid *sub, size_t sublen, int type, const void *val, size_t len)
{
	oid o[MAX_OID_LEN];
	size_t n = 0;

	if (baselen + 2 + sublen > MAX_OID_LEN)
		return;
	memcpy(o, base, baselen * sizeof(oid));
	n = baselen;
	o[n++] = 1; /* the entry */
	o[n++] = (oid)col;
	memcpy(o + n, sub, sublen * sizeof(oid));
	n += sublen;
	snmp_varlist_add_variable(vars, o, n, (u_char)type, val, len);
}

static void vb_int(netsnmp_variable_list **vars, const oid *base, size_t baselen, int col,
		   const oid *sub, size_t sublen, int type, long v)
{
	vb_add(vars, base, baselen, col, sub, sublen, type, &v, sizeof(v));
}

/* snowNotifyObserved.0 and friends: accessible-for-notify scalars. */
static void vb_notify_obj(netsnmp_variable_list **vars, int which, int type, const void *val,
			  size_t len)
{
	oid o[OID_LENGTH(oid_notify_objs) + 2];

	memcpy(o, oid_notify_objs, sizeof(oid_notify_objs));
	o[OID_LENGTH(oid_notify_objs)] = (oid)which;
	o[OID_LENGTH(oid_notify_objs) + 1] = 0;
	snmp_varlist_add_variable(vars, o, OID_LENGTH(o), (u_char)type, val, len);
}

static netsnmp_variable_list *notify_start(int which)
{
	netsnmp_variable_list *vars = NULL;
	oid trap[OID_LENGTH(oid_notifications) + 1];

	memcpy(trap, oid_notifications, sizeof(oid_notifications));
	trap[OID_LENGTH(oid_notifications)] = (oid)which;
	snmp_varlist_add_variable(&vars, oid_trap, OID_LENGTH(oid_trap), ASN_OBJECT_ID, trap,
				  sizeof(trap));
	return vars;
}

static void notify_send(struct agent *a, netsnmp_variable_list *vars)
{
	if (!vars)
		return;
	send_v2trap(vars);
	snmp_free_varbind(vars);
	a->notifications++;
}

static void notify_time(netsnmp_variable_list **vars, int64_t t)
{
	unsigned char d[11];
	size_t len = model_date(t, d);

	vb_notify_obj(vars, NOBJ_TIME, ASN_OCTET_STR, d, len);
}

static void notify_node_name(netsnmp_variable_list **vars, const struct model_node *n)
{
	oid sub = n->id;

	vb_add(vars, oid_nodes, OID_LENGTH(oid_nodes), COL_NODE_NAME, &sub, 1, ASN_OCTET_STR,
	       n->name, strlen(n->name));
}

static void notify_threshold(struct agent *a, const struct model_node *n, json_t *ev, int raise)
{
	json_t *attrs = json_object_get(ev, "attrs");
	const char *value = json_string_value(json_object_get(attrs, "value"));
	const char *kind = json_string_value(json_object_get(attrs, "kind"));
	json_t *obs = json_object_get(attrs, "observed");
	const struct model_value *v;
	netsnmp_variable_list *vars;
	char text[MODEL_TEXT_MAX + 1] = "";
	oid sub[MODEL_IDX_MAX];
	unsigned dec;
	size_t len;
	long fx;
	int k;

	if (!value || !kind || strlen(value) > MODEL_NAME_MAX) {
		log_warnx("event %lld: threshold event without value/kind",
			  (long long)json_integer_value(json_object_get(ev, "id")));
		return;
	}
	k = !strcmp(kind, "low") ? MODEL_LOW : MODEL_HIGH;
	v = model_find_value(a->snap, n->id, value);
	dec = v ? v->decimals : json_is_real(obs) ? MODEL_DEC_REAL : 0;
	len = model_index(n->id, value, k, sub);
	vars = notify_start(raise ? NOTIFY_THR_RAISED : NOTIFY_THR_CLEARED);
	notify_node_name(&vars, n);
	vb_int(&vars, oid_thrs, OID_LENGTH(oid_thrs), COL_THR_RISE, sub, len, ASN_INTEGER,
	       model_fixed(json_number_value(json_object_get(attrs, "rise")), dec));
	vb_int(&vars, oid_thrs, OID_LENGTH(oid_thrs), COL_THR_CLEAR, sub, len, ASN_INTEGER,
	       model_fixed(json_number_value(json_object_get(attrs, "clear")), dec));
	vb_int(&vars, oid_thrs, OID_LENGTH(oid_thrs), COL_THR_STATE, sub, len, ASN_INTEGER,
	       raise ? 2 : 1);
	fx = model_fixed(json_number_value(obs), dec);
	vb_notify_obj(&vars, NOBJ_OBSERVED, ASN_INTEGER, &fx, sizeof(fx));
	if (json_is_number(obs))
		model_text(json_number_value(obs), text, sizeof(text));
	vb_notify_obj(&vars, NOBJ_OBSERVED_TEXT, ASN_OCTET_STR, text, strlen(text));
	notify_time(&vars, json_integer_value(json_object_get(ev, "time")));
	notify_send(a, vars);
	log_info("notification: %s %s %s/%s (observed %s)", raise ? "raised" : "cleared", n->name,
		 value, kind, text);
}

static void notify_device(struct agent *a, const struct model_node *n, json_t *ev)
{
	json_t *attrs = json_object_get(ev, "attrs");
	const char *path = json_string_value(json_object_get(attrs, "path"));
	const char *avail = json_string_value(json_object_get(attrs, "avail"));
	const char *run = json_string_value(json_object_get(attrs, "run"));
	const struct model_dev *d;
	netsnmp_variable_list *vars;
	oid sub[MODEL_IDX_MAX];
	int enabled, runst;
	size_t len;

	if (!path || strlen(path) > MODEL_NAME_MAX) {
		log_warnx("event %lld: device event without a path",
			  (long long)json_integer_value(json_object_get(ev, "id")));
		return;
	}
	d = model_find_dev(a->snap, n->id, path);
	/* The event says what the state became; the row may already be later. */
	enabled = avail ? strcmp(avail, "disabled") != 0 : d ? d->enabled : 1;
	runst = run ? (!strcmp(run, "online")	 ? MODEL_ONLINE_RUN :
		       !strcmp(run, "offline") ? MODEL_OFFLINE_RUN :
						 MODEL_INACTIVE) :
		      d ? d->run : MODEL_INACTIVE;
	len = model_index(n->id, path, 0, sub);
	vars = notify_start(NOTIFY_DEV_STATE);
	notify_node_name(&vars, n);
	vb_add(&vars, oid_devs, OID_LENGTH(oid_devs), COL_DEV_CLASS, sub, len, ASN_OCTET_STR,
	       d ? d->cls : "", d ? strlen(d->cls) : 0);
	vb_int(&vars, oid_devs, OID_LENGTH(oid_devs), COL_DEV_ADMIN, sub, len, ASN_INTEGER,
	       enabled ? ADMIN_UNLOCKED : ADMIN_LOCKED);
	vb_int(&vars, oid_devs, OID_LENGTH(oid_devs), COL_DEV_OPER, sub, len, ASN_INTEGER,
	       runst == MODEL_ONLINE_RUN ? OPER_ENABLED : OPER_DISABLED);
	vb_int(&vars, oid_devs, OID_LENGTH(oid_devs), COL_DEV_RUN, sub, len, ASN_INTEGER, runst);
	notify_time(&vars, json_integer_value(json_object_get(ev, "time")));
	notify_send(a, vars);
	log_info("notification: device %s %s", n->name, path);
}

/* A crash event of snowd's (klog_crash.c): {attrs: {panic, source, log, lines}, boot_id}. */
static void notify_crash(struct agent *a, const struct model_node *n, json_t *ev)
{
	json_t *attrs = json_object_get(ev, "attrs");
	const char *boot = json_string_value(json_object_get(ev, "boot_id"));
	const char *panic = json_string_value(json_object_get(attrs, "panic"));
	netsnmp_variable_list *vars = notify_start(NOTIFY_NODE_CRASHED);
	char text[NOBJ_TEXT_MAX + 1];
	size_t blen = boot ? strnlen(boot, 39) : 0;

	snprintf(text, sizeof(text), "%s", panic && panic[0] ? panic : "kernel crash (no panic line)");
	notify_node_name(&vars, n);
	vb_notify_obj(&vars, NOBJ_BOOT_ID, ASN_OCTET_STR, boot ? boot : "", blen);
	vb_notify_obj(&vars, NOBJ_TEXT, ASN_OCTET_STR, text, strlen(text));
	notify_time(&vars, json_integer_value(json_object_get(ev, "time")));
	notify_send(a, vars);
	log_info("notification: crash of %s (boot %.*s)", n->name, (int)blen, boot ? boot : "");
}

static void notify_node(struct agent *a, const struct model_node *n, int up)
{
	netsnmp_variable_list *vars = notify_start(up ? NOTIFY_NODE_UP : NOTIFY_NODE_DOWN);
	oid sub = n->id;

	notify_node_name(&vars, n);
	vb_add(&vars, oid_nodes, OID_LENGTH(oid_nodes), COL_NODE_IP, &sub, 1, ASN_IPADDRESS, n->ip,
	       4);
	vb_int(&vars, oid_nodes, OID_LENGTH(oid_nodes), COL_NODE_STATE, &sub, 1, ASN_INTEGER,
	       n->state);
	notify_time(&vars, (int64_t)time(NULL));
	notify_send(a, vars);
	log_info("notification: node %s %s", n->name, up ? "up" : "down");
}

void agent_notify_events(struct agent *a, json_t *events)
{
	json_t *ev;
	size_t i;

	json_array_foreach(events, i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));
		const char *node = json_string_value(json_object_get(ev, "node"));
		const struct model_node *n = node ? model_find_node_name(a->snap, node) : NULL;

		if (!type || !n)
			continue;
		if (!strcmp(type, "threshold.raise"))
			notify_threshold(a, n, ev, 1);
		else if (!strcmp(type, "threshold.clear"))
			notify_threshold(a, n, ev, 0);
		else if (!strcmp(type, "device.state"))
			notify_device(a, n, ev);
		else if (!strcmp(type, "crash"))
			notify_crash(a, n, ev);
	}
}

void agent_notify_states(struct agent *a, const struct model_snap *old)
{
	size_t i;

	if (!old || !old->nnodes)
		return; /* the first snapshot: states are not changes */
	for (i = 0; i < a->snap->nblocks; i++) {
		const struct model_node *n = model_node_at(a->snap, i);
		const struct model_node *o = model_find_node(old, n->id);

		if (!o || o->state == n->state)
			continue;
		if (n->state == MODEL_ONLINE)
			notify_node(a, n, 1);
		else if (o->state == MODEL_ONLINE)
			notify_node(a, n, 0);
	}
}

