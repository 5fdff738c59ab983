/*
 * SETs of SNOW-CLUSTER-MIB's writable tables (agent_priv.h): a transaction
 * through net-snmp's phases, each row planned (plan.c) into one snowd
 * command and the command that undoes it, and the rows a SET changed, shown
 * by GET until the node reports them.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "agent_priv.h"
#include "plan.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define TXN_ABANDON_MS 10000 /* a SET the master never finished */

/* ---- the transaction ------------------------------------------------------- */

void agent_txn_reset(struct txn *t)
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

struct agent_pending *agent_pending_find(struct agent *a, int table, const oid *sub, size_t len)
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
	struct agent_pending *p = agent_pending_find(a, e->table, e->sub, e->len);

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

void agent_pending_settle(struct agent *a)
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
int agent_set(struct agent *a, int table, netsnmp_agent_request_info *reqinfo,
	      netsnmp_request_info *requests)
{
	struct txn *t = &a->txn;
	long transid = agent_transid(reqinfo);
	netsnmp_request_info *r;
	char err[256];
	int rc;

	if (reqinfo->mode == MODE_SET_RESERVE1 && (!t->open || t->transid != transid)) {
		agent_txn_reset(t);
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
			if (agent_pending_find(a, table, e->sub, e->len))
				pending_del(a, agent_pending_find(a, table, e->sub, e->len));
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

int agent_set_open(struct agent *a)
{
	return a->txn.open && clock_mono_ms() - a->txn.opened_ms < TXN_ABANDON_MS;
}
