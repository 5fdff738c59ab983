/* SNOW-CLUSTER-MIB's objects in net-snmp's agent.  See agent.h. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "agent.h"
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* 1.3.6.1.4.1.8072.9999.9999.7669: snowClusterMIB under netSnmpPlaypen. */
#define SNOW_MIB 1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7669
static const oid oid_agent[] = { SNOW_MIB, 1, 1 };
static const oid oid_nodes[] = { SNOW_MIB, 1, 2 };
static const oid oid_values[] = { SNOW_MIB, 1, 3 };
static const oid oid_thrs[] = { SNOW_MIB, 1, 4 };
static const oid oid_devs[] = { SNOW_MIB, 1, 5 };
static const oid oid_notify_objs[] = { SNOW_MIB, 1, 6 };
static const oid oid_notifications[] = { SNOW_MIB, 0 };
static const oid oid_trap[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 }; /* snmpTrapOID.0 */

enum { NOTIFY_THR_RAISED = 1, NOTIFY_THR_CLEARED, NOTIFY_DEV_STATE, NOTIFY_NODE_UP,
       NOTIFY_NODE_DOWN, NOTIFY_NODE_CRASHED };
/* snowNotifyObjects: the objects only notifications carry. */
enum { NOBJ_OBSERVED = 1, NOBJ_OBSERVED_TEXT, NOBJ_TIME, NOBJ_BOOT_ID, NOBJ_TEXT };
#define NOBJ_TEXT_MAX 255

/* Columns (see SNOW-CLUSTER-MIB). */
enum { COL_NODE_NAME = 2, COL_NODE_MAC, COL_NODE_IP, COL_NODE_STATE, COL_NODE_IMAGE,
       COL_NODE_UPTIME, COL_NODE_LAST_SEEN, COL_NODE_HOSTNAME, COL_NODE_STAGE,
       COL_NODE_LAST_CRASH, COL_NODE_POWER };
enum { COL_VAL_OID = 2, COL_VAL_KIND, COL_VAL_UNIT, COL_VAL_DECIMALS, COL_VAL_CURRENT,
       COL_VAL_TEXT, COL_VAL_LOW, COL_VAL_HIGH, COL_VAL_DESCR, COL_VAL_COUNTER };
enum { COL_THR_RISE = 2, COL_THR_CLEAR, COL_THR_ENABLED, COL_THR_STATE, COL_THR_SAMPLES,
       COL_THR_STATUS };
enum { COL_DEV_CLASS = 2, COL_DEV_ADMIN, COL_DEV_OPER, COL_DEV_RUN, COL_DEV_CAN_DISABLE,
       COL_DEV_CAN_ENABLE, COL_DEV_DIAG, COL_DEV_DIAG_TIME, COL_DEV_AUDIT,
       COL_DEV_AUDIT_TIME };

#define TXN_ABANDON_MS 10000 /* a SET the master never finished */

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

/* ---- writing ---------------------------------------------------------------- */

static void txn_reset(struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		json_decref(t->e[i].cmd);
		json_decref(t->e[i].undo);
	}
	memset(t, 0, sizeof(*t));
}

static struct txn_entry *txn_find(struct txn *t, int table, const oid *sub, size_t len)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].table == table && !snmp_oid_compare(t->e[i].sub, t->e[i].len, sub, len))
			return &t->e[i];
	return NULL;
}

/*
 * The entry for a row this SET writes, made from the row as it is now
 * (copied: the snapshot may go while the master runs the phases).
 * @ret the entry or NULL when the SET touches too many rows.
 */
static struct txn_entry *txn_get(struct txn *t, int table, const void *row)
{
	const netsnmp_index *idx = row;
	struct txn_entry *e = txn_find(t, table, idx->oids, idx->len);

	if (e)
		return e;
	if (t->n == AGENT_TXN_MAX || idx->len > MODEL_IDX_MAX)
		return NULL;
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->table = table;
	memcpy(e->sub, idx->oids, idx->len * sizeof(oid));
	e->len = idx->len;
	if (table == TXN_THR) {
		const struct model_thr *r = row;
		snprintf(e->node, sizeof(e->node), "%s", r->node);
		snprintf(e->name, sizeof(e->name), "%s", r->value);
		e->kind = r->kind;
		e->decimals = r->decimals;
		e->enabled = r->enabled;
		e->rise = r->rise;
		e->clear = r->clear;
		e->samples = r->samples;
	} else {
		const struct model_dev *r = row;
		snprintf(e->node, sizeof(e->node), "%s", r->node);
		snprintf(e->name, sizeof(e->name), "%s", r->path);
		e->enabled = r->enabled;
		e->can_enable = r->can_enable;
		e->can_disable = r->can_disable;
	}
	return e;
}

/*
 * The entry for a threshold row a SET would create: index (node, value
 * name, kind) of a gauge the node has.  @ret the entry, or NULL with *err
 * the SNMP error (no such gauge: noCreation; too many rows).
 */
static struct txn_entry *txn_get_new_thr(struct agent *a, const oid *sub, size_t len, int *err)
{
	struct txn *t = &a->txn;
	struct txn_entry *e = txn_find(t, TXN_THR, sub, len);
	const struct model_node *n;
	const struct model_value *v;
	char name[MODEL_NAME_MAX + 1];
	size_t i, nlen;

	if (e)
		return e;
	*err = SNMP_ERR_NOCREATION;
	/* node, length, the name's octets, kind */
	if (len < 4 || len > MODEL_IDX_MAX || sub[1] != len - 3 || sub[1] > MODEL_NAME_MAX ||
	    (sub[len - 1] != MODEL_HIGH && sub[len - 1] != MODEL_LOW) || sub[0] > UINT32_MAX)
		return NULL;
	nlen = sub[1];
	for (i = 0; i < nlen; i++) {
		if (sub[2 + i] < 0x21 || sub[2 + i] > 0x7e)
			return NULL;
		name[i] = (char)sub[2 + i];
	}
	name[nlen] = '\0';
	n = model_find_node(a->snap, (uint32_t)sub[0]);
	v = n ? model_find_value(a->snap, n->id, name) : NULL;
	if (!v || v->kind != MODEL_GAUGE)
		return NULL;
	*err = SNMP_ERR_RESOURCEUNAVAILABLE;
	if (t->n == AGENT_TXN_MAX)
		return NULL;
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->table = TXN_THR;
	memcpy(e->sub, sub, len * sizeof(oid));
	e->len = len;
	snprintf(e->node, sizeof(e->node), "%s", n->name);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kind = (int)sub[len - 1];
	e->decimals = v->decimals;
	e->samples = 1;
	return e;
}

static const char *mode_name(int mode)
{
	switch (mode) {
	case MODE_SET_RESERVE1:
		return "RESERVE1";
	case MODE_SET_RESERVE2:
		return "RESERVE2";
	case MODE_SET_ACTION:
		return "ACTION";
	case MODE_SET_COMMIT:
		return "COMMIT";
	case MODE_SET_FREE:
		return "FREE";
	case MODE_SET_UNDO:
		return "UNDO";
	}
	return "?";
}

/* The transaction id of the request: AgentX keeps it across the phases. */
static long agent_transid(netsnmp_agent_request_info *reqinfo)
{
	return reqinfo->asp && reqinfo->asp->pdu ? reqinfo->asp->pdu->transid : 0;
}

/* ---- rows a SET changed, until the node reports them ---------------------- */

static struct agent_pending *pending_find(struct agent *a, int table, const oid *sub, size_t len)
{
	size_t i;

	for (i = 0; i < a->npending; i++)
		if (a->pending[i].table == table &&
		    !snmp_oid_compare(a->pending[i].sub, a->pending[i].len, sub, len))
			return &a->pending[i];
	return NULL;
}

static void pending_del(struct agent *a, struct agent_pending *p)
{
	*p = a->pending[--a->npending];
}

/* Entry e's command went to snowd: GET shows its outcome from now on. */
static void pending_add(struct agent *a, const struct txn_entry *e)
{
	struct agent_pending *p = pending_find(a, e->table, e->sub, e->len);

	if (!p) {
		if (a->npending == AGENT_PENDING_MAX)
			pending_del(a, &a->pending[0]); /* the oldest shown goes first */
		p = &a->pending[a->npending++];
	}
	memset(p, 0, sizeof(*p));
	p->table = e->table;
	memcpy(p->sub, e->sub, e->len * sizeof(oid));
	p->len = e->len;
	p->exists = e->new_exists;
	p->enabled = e->new_enabled;
	p->rise = e->new_rise;
	p->clear = e->new_clear;
	p->decimals = e->decimals;
	p->until_ms = clock_mono_ms() + AGENT_PENDING_MS;
}

/* A new snapshot: drop what it shows already, and what waited too long. */
static void pending_settle(struct agent *a)
{
	int64_t now = clock_mono_ms();
	size_t i = 0;

	while (i < a->npending) {
		struct agent_pending *p = &a->pending[i];
		const netsnmp_index *row = model_row(a->snap, p->table == TXN_THR ? MODEL_T_THRS :
										  MODEL_T_DEVS,
						     p->sub, p->len, 0);
		int settled;

		if (p->table == TXN_THR) {
			const struct model_thr *t = (const struct model_thr *)row;
			settled = p->exists ? t && model_fixed(t->rise, p->decimals) ==
							     model_fixed(p->rise, p->decimals) &&
						      model_fixed(t->clear, p->decimals) ==
							      model_fixed(p->clear, p->decimals) :
					      !t;
		} else {
			const struct model_dev *d = (const struct model_dev *)row;
			settled = !d || d->enabled == p->enabled;
		}
		if (settled || now >= p->until_ms)
			pending_del(a, p);
		else
			i++;
	}
}

/*
 * One SET phase for the writable tables.  RESERVE1 checks types and
 * columns and copies each row; RESERVE2 checks values and their
 * consistency per row and plans one command per row; ACTION sends the
 * commands to snowd; UNDO sends the commands that undo them; COMMIT and
 * FREE end the transaction.  A refusal in RESERVE1/RESERVE2 has sent
 * nothing, so it changes nothing.
 */
static int agent_set(struct agent *a, int table, netsnmp_agent_request_info *reqinfo,
		     netsnmp_request_info *requests)
{
	struct txn *t = &a->txn;
	long transid = agent_transid(reqinfo);
	netsnmp_request_info *r;
	char err[256];
	int rc;

	if (reqinfo->mode == MODE_SET_RESERVE1 && (!t->open || t->transid != transid)) {
		txn_reset(t);
		t->open = 1;
		t->transid = transid;
		t->opened_ms = clock_mono_ms();
	}
	for (r = requests; r; r = r->next) {
		netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);
		void *row = netsnmp_container_table_row_extract(r);
		netsnmp_variable_list *vb = r->requestvb;
		struct txn_entry *e;
		int col = ti ? (int)ti->colnum : 0;

		if (r->processed)
			continue;
		switch (reqinfo->mode) {
		case MODE_SET_RESERVE1:
			if (!ti || (!row && table != TXN_THR)) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				continue;
			}
			if ((table == TXN_THR && (col < COL_THR_RISE || col > COL_THR_STATUS ||
						  col == COL_THR_STATE || col == COL_THR_SAMPLES)) ||
			    (table == TXN_DEV && col != COL_DEV_ADMIN)) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
				continue;
			}
			rc = netsnmp_check_vb_type_and_size(vb, ASN_INTEGER, sizeof(long));
			if (rc) {
				netsnmp_set_request_error(reqinfo, r, rc);
				continue;
			}
			rc = SNMP_ERR_RESOURCEUNAVAILABLE;
			e = row ? txn_get(t, table, row) :
				  txn_get_new_thr(a, ti->index_oid, ti->index_oid_len, &rc);
			if (!e) {
				netsnmp_set_request_error(reqinfo, r, rc);
				continue;
			}
			if (col == COL_THR_RISE && table == TXN_THR) {
				e->set_rise = 1;
				e->rise_fx = *vb->val.integer;
			} else if (col == COL_THR_CLEAR && table == TXN_THR) {
				e->set_clear = 1;
				e->clear_fx = *vb->val.integer;
			} else if (col == COL_THR_ENABLED && table == TXN_THR) {
				e->set_enabled = 1;
				e->want_enabled = *vb->val.integer;
			} else if (col == COL_THR_STATUS && table == TXN_THR) {
				e->set_status = 1;
				e->want_status = *vb->val.integer;
			} else {
				e->set_admin = 1;
				e->want_admin = *vb->val.integer;
			}
			break;
		case MODE_SET_RESERVE2:
			e = ti ? txn_find(t, table, ti->index_oid, ti->index_oid_len) : NULL;
			if (!e) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_INCONSISTENTNAME);
				continue;
			}
			if (!e->planned) {
				e->planned = 1;
				e->error = table == TXN_THR ? plan_threshold(e) : plan_device(e);
				if (e->error)
					log_info("SET %s %s%s%s refused (%s)", e->node, e->name,
						 table == TXN_THR ? "/" : "",
						 table == TXN_THR ? (e->kind == MODEL_HIGH ? "high" : "low") : "",
						 e->error == SNMP_ERR_WRONGVALUE ? "wrongValue" :
										   "inconsistentValue");
				if (!e->error && (e->cmd == NULL) != (e->undo == NULL))
					e->error = SNMP_ERR_RESOURCEUNAVAILABLE; /* out of memory */
			}
			if (e->error)
				netsnmp_set_request_error(reqinfo, r, e->error);
			break;
		case MODE_SET_ACTION:
			e = ti ? txn_find(t, table, ti->index_oid, ti->index_oid_len) : NULL;
			if (!e || !e->cmd || e->posted)
				continue;
			rc = fetch_command(a->fetch, e->node, e->cmd, &e->cmd_id, err, sizeof(err));
			if (rc) {
				log_warnx("SET %s %s: command not sent: %s", e->node, e->name, err);
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_COMMITFAILED);
				continue;
			}
			e->posted = 1;
			pending_add(a, e);
			log_info("SET %s %s: command %lld (%s) queued", e->node, e->name,
				 (long long)e->cmd_id, json_string_value(json_object_get(e->cmd, "op")));
			break;
		case MODE_SET_UNDO:
			e = ti ? txn_find(t, table, ti->index_oid, ti->index_oid_len) : NULL;
			if (!e || !e->posted || !e->undo)
				continue;
			e->posted = 0;
			if (pending_find(a, table, e->sub, e->len))
				pending_del(a, pending_find(a, table, e->sub, e->len));
			if (fetch_command(a->fetch, e->node, e->undo, &e->cmd_id, err, sizeof(err))) {
				log_warnx("SET %s %s: undo not sent: %s", e->node, e->name, err);
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_UNDOFAILED);
			}
			break;
		default:
			break;
		}
	}
	/*
	 * COMMIT, FREE and UNDO end the transaction, but each table's handler
	 * runs them in turn: the entries stay (posted ones are not sent twice)
	 * until the next RESERVE1 starts another transaction.
	 */
	if (reqinfo->mode == MODE_SET_COMMIT || reqinfo->mode == MODE_SET_FREE ||
	    reqinfo->mode == MODE_SET_UNDO) {
		if (t->open)
			log_debug("SET transaction %ld ends: %s", transid, mode_name(reqinfo->mode));
		t->open = 0;
	}
	return SNMP_ERR_NOERROR;
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
	const struct agent_pending *p = pending_find(a, table, ti->index_oid, ti->index_oid_len);
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

/* ---- notifications ---------------------------------------------------------- */

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

/* A crash event of snowd's (klog.c): {attrs: {panic, source, log, lines}, boot_id}. */
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

static void agent_notify_events(struct agent *a, json_t *events)
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

/* Node up/down: what changed between the snapshot served and the new one. */
static void agent_notify_states(struct agent *a, const struct model_snap *old)
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

/* ---- the snapshot ----------------------------------------------------------- */

static int agent_set_open(struct agent *a)
{
	return a->txn.open && clock_mono_ms() - a->txn.opened_ms < TXN_ABANDON_MS;
}

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
		pending_settle(a);
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
		txn_reset(&a->txn);
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
	txn_reset(&a->txn);
	fetch_result_free(a->deferred);
	model_snap_free(a->snap);
	a->deferred = NULL;
	a->snap = NULL;
}
