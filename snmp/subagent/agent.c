/*
 * SNOW-CLUSTER-MIB's objects in net-snmp's agent (agent.h): the
 * registrations, GETs over the served snapshot, and taking a new one.  SETs
 * are agent_set.c's, notifications agent_notify.c's.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "agent.h"
#include "agent_priv.h"
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static const oid oid_agent[] = { MIB_AGENT };
static const oid oid_nodes[] = { MIB_NODES };
static const oid oid_values[] = { MIB_VALUES };
static const oid oid_thrs[] = { MIB_THRS };
static const oid oid_devs[] = { MIB_DEVS };

static void set_int(netsnmp_request_info *r, int type, long v)
{
	snmp_set_var_typed_value(r->requestvb, (u_char)type, &v, sizeof(v));
}

static void set_str(netsnmp_request_info *r, const char *s)
{
	snmp_set_var_typed_value(r->requestvb, ASN_OCTET_STR, s, strlen(s));
}

static void set_date(netsnmp_request_info *r, int64_t t)
{
	unsigned char d[11];
	size_t len = model_date(t, d);

	snmp_set_var_typed_value(r->requestvb, ASN_OCTET_STR, d, len);
}

/* ---- reading ---------------------------------------------------------------- */

/*
 * The GET side of every table.  table_container has already found the row
 * (or the next one, for GETNEXT, which it turns into a GET) and parsed the
 * column; this fills the value.
 */
static void agent_get_node(netsnmp_request_info *r, const struct model_node *n, int col)
{
	int64_t now = (int64_t)time(NULL);

	switch (col) {
	case COL_NODE_NAME:
		set_str(r, n->name);
		break;
	case COL_NODE_MAC:
		snmp_set_var_typed_value(r->requestvb, ASN_OCTET_STR, n->mac, 6);
		break;
	case COL_NODE_IP:
		snmp_set_var_typed_value(r->requestvb, ASN_IPADDRESS, n->ip, 4);
		break;
	case COL_NODE_STATE:
		set_int(r, ASN_INTEGER, n->state);
		break;
	case COL_NODE_IMAGE:
		set_str(r, n->image);
		break;
	case COL_NODE_UPTIME: {
		int64_t up = n->state == MODEL_ONLINE && n->online_since && now > n->online_since ?
				     (now - n->online_since) * 100 : 0;
		set_int(r, ASN_TIMETICKS, up > UINT32_MAX ? UINT32_MAX : up);
		break;
	}
	case COL_NODE_LAST_SEEN:
		set_date(r, n->last_seen);
		break;
	case COL_NODE_HOSTNAME:
		set_str(r, n->hostname);
		break;
	case COL_NODE_STAGE:
		set_str(r, n->stage);
		break;
	case COL_NODE_LAST_CRASH:
		set_date(r, n->last_crash);
		break;
	case COL_NODE_POWER:
		set_int(r, ASN_INTEGER, n->power);
		break;
	default:
		netsnmp_request_set_error(r, SNMP_NOSUCHOBJECT);
	}
}

static void agent_get_value(netsnmp_request_info *r, const struct model_value *v, int col)
{
	char text[MODEL_TEXT_MAX + 1] = "";

	switch (col) {
	case COL_VAL_OID:
		set_str(r, v->oidstr);
		break;
	case COL_VAL_KIND:
		set_int(r, ASN_INTEGER, v->kind);
		break;
	case COL_VAL_UNIT:
		set_str(r, v->unit);
		break;
	case COL_VAL_DECIMALS:
		set_int(r, ASN_UNSIGNED, v->decimals);
		break;
	case COL_VAL_CURRENT:
		set_int(r, ASN_INTEGER, model_fixed(v->v, v->decimals));
		break;
	case COL_VAL_TEXT:
		if (v->has_reading)
			model_text(v->v, text, sizeof(text));
		set_str(r, text);
		break;
	case COL_VAL_LOW:
		set_int(r, ASN_INTEGER, model_fixed(v->low, v->decimals));
		break;
	case COL_VAL_HIGH:
		set_int(r, ASN_INTEGER, model_fixed(v->high, v->decimals));
		break;
	case COL_VAL_DESCR:
		set_str(r, v->desc);
		break;
	case COL_VAL_COUNTER: {
		struct counter64 c = { .high = (u_long)(v->count >> 32),
				       .low = (u_long)(v->count & 0xffffffffu) };
		snmp_set_var_typed_value(r->requestvb, ASN_COUNTER64, &c, sizeof(c));
		break;
	}
	default:
		netsnmp_request_set_error(r, SNMP_NOSUCHOBJECT);
	}
}

static void agent_get_thr(netsnmp_request_info *r, const struct model_thr *t, int col)
{
	switch (col) {
	case COL_THR_RISE:
		set_int(r, ASN_INTEGER, t->enabled ? model_fixed(t->rise, t->decimals) : 0);
		break;
	case COL_THR_CLEAR:
		set_int(r, ASN_INTEGER, t->enabled ? model_fixed(t->clear, t->decimals) : 0);
		break;
	case COL_THR_ENABLED:
		set_int(r, ASN_INTEGER, t->enabled ? TV_TRUE : TV_FALSE);
		break;
	case COL_THR_STATE:
		set_int(r, ASN_INTEGER, t->enabled && t->raised ? 2 : 1);
		break;
	case COL_THR_SAMPLES:
		set_int(r, ASN_UNSIGNED, t->enabled ? t->samples : 1);
		break;
	case COL_THR_STATUS:
		set_int(r, ASN_INTEGER, RS_ACTIVE);
		break;
	default:
		netsnmp_request_set_error(r, SNMP_NOSUCHOBJECT);
	}
}

static void agent_get_dev(netsnmp_request_info *r, const struct model_dev *d, int col)
{
	switch (col) {
	case COL_DEV_CLASS:
		set_str(r, d->cls);
		break;
	case COL_DEV_ADMIN:
		set_int(r, ASN_INTEGER, d->enabled ? ADMIN_UNLOCKED : ADMIN_LOCKED);
		break;
	case COL_DEV_OPER:
		set_int(r, ASN_INTEGER, d->run == MODEL_ONLINE_RUN ? OPER_ENABLED : OPER_DISABLED);
		break;
	case COL_DEV_RUN:
		set_int(r, ASN_INTEGER, d->run);
		break;
	case COL_DEV_CAN_DISABLE:
		set_int(r, ASN_INTEGER, d->can_disable ? TV_TRUE : TV_FALSE);
		break;
	case COL_DEV_CAN_ENABLE:
		set_int(r, ASN_INTEGER, d->can_enable ? TV_TRUE : TV_FALSE);
		break;
	case COL_DEV_DIAG:
		set_int(r, ASN_INTEGER, d->diag.result);
		break;
	case COL_DEV_DIAG_TIME:
		set_date(r, d->diag.time);
		break;
	case COL_DEV_AUDIT:
		set_int(r, ASN_INTEGER, d->audit.result);
		break;
	case COL_DEV_AUDIT_TIME:
		set_date(r, d->audit.time);
		break;
	default:
		netsnmp_request_set_error(r, SNMP_NOSUCHOBJECT);
	}
}

/* ---- handlers --------------------------------------------------------------- */

/*
 * A GET of a row a SET changed, before the node has reported it: the row
 * as the command leaves it.  @ret 1 when answered here.
 */
static int agent_get_pending(struct agent *a, netsnmp_agent_request_info *reqinfo,
			     netsnmp_request_info *r, int table, const netsnmp_table_request_info *ti,
			     const void *row)
{
	const struct agent_pending *p = agent_pending_find(a, table, ti->index_oid, ti->index_oid_len);
	struct model_dev d;

	if (!p)
		return 0;
	if (table == TXN_THR) {
		struct model_thr t;
		if (!p->exists) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			return 1;
		}
		if (row)
			t = *(const struct model_thr *)row;
		else {
			memset(&t, 0, sizeof(t));
			t.samples = 1;
		}
		t.enabled = 1;
		t.rise = p->rise;
		t.clear = p->clear;
		t.decimals = p->decimals;
		agent_get_thr(r, &t, (int)ti->colnum);
		return 1;
	}
	if (!row)
		return 0;
	d = *(const struct model_dev *)row;
	d.enabled = p->enabled;
	agent_get_dev(r, &d, (int)ti->colnum);
	return 1;
}

static int agent_table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg,
			       netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct agent *a = handler->myvoid;
	const oid *base = reg->rootoid;
	int table = (int)base[reg->rootoid_len - 1]; /* 2 nodes, 3 values, 4 thrs, 5 devs */
	netsnmp_request_info *r;

	if (reqinfo->mode != MODE_GET)
		return table == 4 ? agent_set(a, TXN_THR, reqinfo, requests) :
		       table == 5 ? agent_set(a, TXN_DEV, reqinfo, requests) :
				    SNMP_ERR_NOERROR;
	for (r = requests; r; r = r->next) {
		netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);
		void *row = netsnmp_container_table_row_extract(r);

		if (r->processed)
			continue;
		if (ti && (table == 4 || table == 5) &&
		    agent_get_pending(a, reqinfo, r, table == 4 ? TXN_THR : TXN_DEV, ti, row))
			continue;
		if (!row || !ti) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			continue;
		}
		switch (table) {
		case 2:
			agent_get_node(r, row, (int)ti->colnum);
			break;
		case 3:
			agent_get_value(r, row, (int)ti->colnum);
			break;
		case 4:
			agent_get_thr(r, row, (int)ti->colnum);
			break;
		default:
			agent_get_dev(r, row, (int)ti->colnum);
		}
	}
	return SNMP_ERR_NOERROR;
}

static int agent_scalar_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg,
				netsnmp_agent_request_info *reqinfo,
				netsnmp_request_info *requests)
{
	struct agent *a = handler->myvoid;
	/* The scalar helper registers OID.0: the object is the one before. */
	int which = (int)reg->rootoid[reg->rootoid_len - 2];
	int64_t age = a->data_ms ? clock_mono_ms() - a->data_ms : UINT32_MAX;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	switch (which) {
	case 1:
		set_int(requests, ASN_INTEGER, a->reachable ? TV_TRUE : TV_FALSE);
		break;
	case 2:
		set_int(requests, ASN_UNSIGNED, age > UINT32_MAX ? UINT32_MAX : age);
		break;
	default:
		set_int(requests, ASN_UNSIGNED, (long)a->snap->nnodes);
	}
	return SNMP_ERR_NOERROR;
}

/* ---- the containers --------------------------------------------------------- */

static void *snapc_find(netsnmp_container *c, const void *key)
{
	struct snap_container *sc = (struct snap_container *)(void *)c;
	const netsnmp_index *k = key;

	return k ? (void *)(uintptr_t)model_row(*sc->snap, sc->table, k->oids, k->len, 0) : NULL;
}

static void *snapc_find_next(netsnmp_container *c, const void *key)
{
	struct snap_container *sc = (struct snap_container *)(void *)c;
	const netsnmp_index *k = key;

	return (void *)(uintptr_t)model_row(*sc->snap, sc->table, k ? k->oids : NULL, k ? k->len : 0, 1);
}

static size_t snapc_size(netsnmp_container *c)
{
	struct snap_container *sc = (struct snap_container *)(void *)c;
	const struct model_snap *s = *sc->snap;

	switch (sc->table) {
	case MODEL_T_NODES:
		return s->nnodes;
	case MODEL_T_VALUES:
		return s->nvalues;
	case MODEL_T_THRS:
		return s->nthrs;
	default:
		return s->ndevs;
	}
}

/* Rows belong to the snapshot: the container neither takes nor frees any. */
static int snapc_refuse(netsnmp_container *c, const void *data)
{
	return -1;
}

static int snapc_free(netsnmp_container *c)
{
	return 0;
}

static void snapc_init(struct snap_container *sc, struct model_snap *const *snap, int table)
{
	memset(sc, 0, sizeof(*sc));
	sc->snap = snap;
	sc->table = table;
	netsnmp_init_container(&sc->c, NULL, snapc_free, snapc_size, netsnmp_compare_netsnmp_index,
			       snapc_refuse, snapc_refuse, snapc_find);
	sc->c.find_next = snapc_find_next;
	sc->c.ncompare = netsnmp_ncompare_netsnmp_index;
}

static int agent_table(struct agent *a, struct snap_container *sc, const char *name,
		       const oid *base, size_t len, int writable, int max_col, int with_kind)
{
	netsnmp_handler_registration *reg;
	netsnmp_table_registration_info *ti;
	netsnmp_mib_handler *h;

	h = netsnmp_create_handler(name, agent_table_handler);
	if (!h)
		return -ENOMEM;
	h->myvoid = a;
	reg = netsnmp_handler_registration_create(name, h, base, len,
						  writable ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	ti = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	if (!reg || !ti)
		return -ENOMEM;
	if (base[len - 1] == 2)
		netsnmp_table_helper_add_indexes(ti, ASN_UNSIGNED, 0);
	else if (with_kind)
		netsnmp_table_helper_add_indexes(ti, ASN_UNSIGNED, ASN_OCTET_STR, ASN_INTEGER, 0);
	else
		netsnmp_table_helper_add_indexes(ti, ASN_UNSIGNED, ASN_OCTET_STR, 0);
	ti->min_column = 2;
	ti->max_column = (unsigned)max_col;
	if (netsnmp_container_table_register(reg, ti, &sc->c, TABLE_CONTAINER_KEY_NETSNMP_INDEX) !=
	    MIB_REGISTERED_OK) {
		log_warnx("%s: registration refused", name);
		return -EIO;
	}
	a->regs[a->nregs++] = (struct agent_reg){ reg, 1 };
	return 0;
}

static int agent_scalar(struct agent *a, const char *name, int which)
{
	oid o[OID_LENGTH(oid_agent) + 2];
	netsnmp_handler_registration *reg;
	netsnmp_mib_handler *h;

	memcpy(o, oid_agent, sizeof(oid_agent));
	o[OID_LENGTH(oid_agent)] = (oid)which;
	h = netsnmp_create_handler(name, agent_scalar_handler);
	if (!h)
		return -ENOMEM;
	h->myvoid = a;
	reg = netsnmp_handler_registration_create(name, h, o, OID_LENGTH(oid_agent) + 1,
						  HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	if (netsnmp_register_read_only_scalar(reg) != MIB_REGISTERED_OK)
		return -EIO;
	a->regs[a->nregs++] = (struct agent_reg){ reg, 0 };
	return 0;
}

int agent_init(struct agent *a, struct fetch *f)
{
	memset(a, 0, sizeof(*a));
	a->fetch = f;
	a->snap = calloc(1, sizeof(*a->snap));
	if (!a->snap)
		return -ENOMEM;
	snapc_init(&a->c_nodes, &a->snap, MODEL_T_NODES);
	snapc_init(&a->c_values, &a->snap, MODEL_T_VALUES);
	snapc_init(&a->c_thrs, &a->snap, MODEL_T_THRS);
	snapc_init(&a->c_devs, &a->snap, MODEL_T_DEVS);
	if (agent_table(a, &a->c_nodes, "snowNodeTable", oid_nodes, OID_LENGTH(oid_nodes), 0,
			COL_NODE_POWER, 0) ||
	    agent_table(a, &a->c_values, "snowValueTable", oid_values, OID_LENGTH(oid_values), 0,
			COL_VAL_COUNTER, 0) ||
	    agent_table(a, &a->c_thrs, "snowThresholdTable", oid_thrs, OID_LENGTH(oid_thrs), 1,
			COL_THR_STATUS, 1) ||
	    agent_table(a, &a->c_devs, "snowDeviceTable", oid_devs, OID_LENGTH(oid_devs), 1,
			COL_DEV_AUDIT_TIME, 0))
		return -EIO;
	if (agent_scalar(a, "snowAgentSnowdReachable", 1) ||
	    agent_scalar(a, "snowAgentDataAge", 2) || agent_scalar(a, "snowAgentNodes", 3))
		return -EIO;
	return 0;
}

/* ---- the snapshot ----------------------------------------------------------- */

void agent_take(struct agent *a, struct fetch_result *r)
{
	struct model_snap *old;

	if (!r)
		return;
	a->reachable = r->reachable;
	if (agent_set_open(a)) {
		/* The rows a SET is working on must stay until its last phase. */
		if (a->deferred) {
			json_array_extend(r->events, a->deferred->events);
			if (!r->snap) {
				r->snap = a->deferred->snap;
				a->deferred->snap = NULL;
			}
		}
		fetch_result_free(a->deferred);
		a->deferred = r;
		return;
	}
	if (r->snap) {
		old = a->snap;
		a->snap = r->snap;
		r->snap = NULL;
		a->data_ms = r->at_ms;
		agent_pending_settle(a);
		agent_notify_states(a, old);
		model_snap_free(old);
	}
	agent_notify_events(a, r->events);
	fetch_result_free(r);
}

void agent_tick(struct agent *a)
{
	struct fetch_result *r;

	if (a->txn.open && !agent_set_open(a)) {
		log_warnx("SET transaction %ld abandoned by the master", a->txn.transid);
		agent_txn_reset(&a->txn);
	}
	if (a->deferred && !agent_set_open(a)) {
		r = a->deferred;
		a->deferred = NULL;
		agent_take(a, r);
	}
}

void agent_unregister(struct agent *a)
{
	size_t i;

	for (i = 0; i < a->nregs; i++) {
		if (a->regs[i].table)
			netsnmp_container_table_unregister(a->regs[i].reg);
		else
			netsnmp_unregister_handler(a->regs[i].reg);
	}
	a->nregs = 0;
}

void agent_free(struct agent *a)
{
	agent_txn_reset(&a->txn);
	fetch_result_free(a->deferred);
	model_snap_free(a->snap);
	a->deferred = NULL;
	a->snap = NULL;
}
