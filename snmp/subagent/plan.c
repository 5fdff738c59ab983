/* The SET planner (plan.h): pure, and fuzzed (tests/fuzz/snmp_plan.c). */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "plan.h"

/* A threshold level as JSON: an integer when the value has no decimals. */
static json_t *thr_num(double v, unsigned decimals)
{
	return decimals ? json_real(v) : json_integer((json_int_t)v);
}

static json_t *thr_set_cmd(const struct txn_entry *e, double rise, double clear)
{
	return json_pack("{s:s, s:{s:s, s:s, s:o, s:o, s:i}}", "op", "threshold.set", "args",
			 "value", e->name, "kind", e->kind == MODEL_HIGH ? "high" : "low", "rise",
			 thr_num(rise, e->decimals), "clear", thr_num(clear, e->decimals), "samples",
			 (int)(e->samples ? e->samples : 1));
}

static json_t *thr_clear_cmd(const struct txn_entry *e)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "op", "threshold.clear", "args", "value", e->name,
			 "kind", e->kind == MODEL_HIGH ? "high" : "low");
}

static json_t *dev_cmd(const struct txn_entry *e, int enable)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "op", "device", "args", "path", e->name, "op",
			 enable ? "enable" : "disable");
}

/*
 * The commands of a plan that needs them were made (json_pack() fails only
 * without memory or on a name that is not UTF-8).  @ret 0, or
 * SNMP_ERR_RESOURCEUNAVAILABLE with nothing planned.
 */
static int plan_made(struct txn_entry *e, int needed)
{
	if (!needed || (e->cmd && e->undo))
		return 0;
	json_decref(e->cmd);
	json_decref(e->undo);
	e->cmd = e->undo = NULL;
	return SNMP_ERR_RESOURCEUNAVAILABLE;
}

int plan_threshold(struct txn_entry *e)
{
	double rise, clear;
	int destroy;

	if (e->set_enabled && e->want_enabled != TV_TRUE && e->want_enabled != TV_FALSE)
		return SNMP_ERR_WRONGVALUE;
	/* RowStatus: createAndGo makes the row, destroy removes it; no createAndWait. */
	if (e->set_status && e->want_status != RS_ACTIVE && e->want_status != RS_CREATE_AND_GO &&
	    e->want_status != RS_DESTROY)
		return SNMP_ERR_WRONGVALUE;
	if (e->set_status && (e->want_status == RS_CREATE_AND_GO ? e->enabled :
			      e->want_status == RS_ACTIVE ? !e->enabled : 0))
		return SNMP_ERR_INCONSISTENTVALUE;
	/* A row that does not exist is made only by createAndGo (or enabled = true, as before). */
	if (!e->enabled && !e->set_status && !(e->set_enabled && e->want_enabled == TV_TRUE))
		return SNMP_ERR_NOCREATION;
	destroy = (e->set_status && e->want_status == RS_DESTROY) ||
		  (e->set_enabled && e->want_enabled == TV_FALSE);
	if (e->set_enabled && e->set_status && destroy != (e->want_enabled == TV_FALSE))
		return SNMP_ERR_INCONSISTENTVALUE;
	if (destroy) {
		/* Disabling and setting levels at once says two opposite things. */
		if (e->set_rise || e->set_clear)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (e->enabled) {
			e->cmd = thr_clear_cmd(e);
			e->undo = thr_set_cmd(e, e->rise, e->clear);
		}
		e->new_exists = 0;
		return plan_made(e, e->enabled);
	}
	if (!e->set_rise && !e->set_clear) {
		/* enabled = true alone: fine when it is, impossible without levels when not. */
		if (!e->enabled)
			return SNMP_ERR_INCONSISTENTVALUE;
		e->new_exists = 1; /* as it was: nothing to send */
		e->new_rise = e->rise;
		e->new_clear = e->clear;
		return 0;
	}
	if (!e->enabled && !(e->set_rise && e->set_clear))
		return SNMP_ERR_INCONSISTENTVALUE;
	rise = e->set_rise ? model_unfixed((int32_t)e->rise_fx, e->decimals) : e->rise;
	clear = e->set_clear ? model_unfixed((int32_t)e->clear_fx, e->decimals) : e->clear;
	if (e->kind == MODEL_HIGH ? clear > rise : clear < rise)
		return SNMP_ERR_INCONSISTENTVALUE;
	e->cmd = thr_set_cmd(e, rise, clear);
	e->undo = e->enabled ? thr_set_cmd(e, e->rise, e->clear) : thr_clear_cmd(e);
	e->new_exists = 1;
	e->new_rise = rise;
	e->new_clear = clear;
	return plan_made(e, 1);
}

int plan_device(struct txn_entry *e)
{
	int enable;

	if (e->want_admin != ADMIN_LOCKED && e->want_admin != ADMIN_UNLOCKED)
		return SNMP_ERR_WRONGVALUE;
	enable = e->want_admin == ADMIN_UNLOCKED;
	if (enable == e->enabled) {
		e->new_enabled = enable; /* already so: nothing to do */
		return 0;
	}
	if (enable ? !e->can_enable : !e->can_disable)
		return SNMP_ERR_INCONSISTENTVALUE;
	e->cmd = dev_cmd(e, enable);
	e->undo = dev_cmd(e, !enable);
	e->new_enabled = enable;
	return plan_made(e, 1);
}
