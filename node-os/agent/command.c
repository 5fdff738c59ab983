/*
 * The commands snowd sends in its answers (docs/agent.md, "Commands"):
 * parsed once by lib/instr's instr_cmd_parse(), run here, and their results
 * kept by id so that a command sent again is answered, never run twice.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "hotrestart.h"
#include "log.h"
#include "tree.h"
#include "wdog.h"

struct agent_result *agent_result_find(struct agent_state *st, json_int_t id)
{
	size_t i;

	for (i = 0; i < st->nresults; i++)
		if (st->results[i].id == id)
			return &st->results[i];
	return NULL;
}

/* Keep res (stolen) as the result of id; the oldest result makes room. */
static struct agent_result *agent_result_add(struct agent_state *st, json_int_t id, json_t *res)
{
	struct agent_result *r;

	if (st->nresults < AGENT_RESULTS_KEEP) {
		r = &st->results[st->nresults++];
	} else {
		r = &st->results[st->next_result];
		st->next_result = (st->next_result + 1) % AGENT_RESULTS_KEEP;
		if (r->pending)
			log_warnx("command %lld: result dropped undelivered (more than %d pending)",
				  (long long)r->id, AGENT_RESULTS_KEEP);
		json_decref(r->res);
	}
	r->id = id;
	r->res = res;
	r->pending = 1;
	r->inflight = 0;
	return r;
}

/* The dotted sysctl name on the allow list (comma separated, blanks ignored)? */
static int agent_sysctl_allowed(const char *allow, const char *name)
{
	size_t len = strlen(name);
	const char *p = allow;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n;
		while (*p == ' ' || *p == '\t')
			p++;
		n = end ? (size_t)(end - p) : strlen(p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == len && !strncmp(p, name, len))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int agent_sysctl_set(struct agent_state *st, const struct instr_cmd *c, json_t **result,
			    char *err, size_t errlen)
{
	char rel[INSTR_SYSCTL_NAME_MAX + 16], path[4200], back[256], line[INSTR_SYSCTL_VALUE_MAX + 2];
	char *p;
	int fd, rc;
	ssize_t n;

	if (!agent_sysctl_allowed(st->allow, c->sysctl_name)) {
		snprintf(err, errlen,
			 "name: '%s' is not on this node's sysctl.allow list (node.conf)",
			 c->sysctl_name);
		return -EPERM;
	}
	snprintf(rel, sizeof(rel), "proc/sys/%s", c->sysctl_name);
	for (p = rel + 9; *p; p++)
		if (*p == '.')
			*p = '/';
	snprintf(path, sizeof(path), "%s/%s", st->conf->root, rel);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "name: %s: %s", c->sysctl_name, strerror(errno));
		return rc;
	}
	snprintf(line, sizeof(line), "%s\n", c->sysctl_value);
	n = write(fd, line, strlen(line));
	rc = n == (ssize_t)strlen(line) ? 0 : (n < 0 ? -errno : -EIO);
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "value: the kernel refused '%s' for %s: %s", c->sysctl_value,
			 c->sysctl_name, strerror(-rc));
		return rc;
	}
	if (tree_read_str(st->conf->root, rel, back, sizeof(back)))
		back[0] = '\0';
	*result = json_pack("{s:s, s:s}", "name", c->sysctl_name, "value", back);
	return 0;
}

/* Any sysctl may be read (only setting needs the allow list). */
static int agent_sysctl_get(struct agent_state *st, const struct instr_cmd *c, json_t **result,
			    char *err, size_t errlen)
{
	char rel[INSTR_SYSCTL_NAME_MAX + 16], value[4096];
	char *p;

	snprintf(rel, sizeof(rel), "proc/sys/%s", c->sysctl_name);
	for (p = rel + 9; *p; p++)
		if (*p == '.')
			*p = '/';
	if (tree_read_str(st->conf->root, rel, value, sizeof(value))) {
		snprintf(err, errlen, "name: %s: no such sysctl (or not readable)", c->sysctl_name);
		return -ENOENT;
	}
	*result = json_pack("{s:s, s:s}", "name", c->sysctl_name, "value", value);
	return 0;
}

/* Refetch the overlay, read node.conf from it, apply what can change live. */
static int agent_config_reload(struct agent_state *st, json_t **result, char *err,
			       size_t errlen)
{
	struct agent_conf nc = { 0 };
	char tmp[4096];
	char *argv[4];
	int rc;
	size_t i;

	if (agent_standalone(st->conf)) {
		snprintf(err, errlen, "no host to fetch the overlay from (standalone)");
		return -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), "%s/node.conf.new",
		 st->conf->state_dir && *st->conf->state_dir ? st->conf->state_dir : "/tmp");
	if (st->conf->state_dir && *st->conf->state_dir)
		mkdir(st->conf->state_dir, 0700);
	wdog_pat(st->wdog_fd); /* the report's request came just before */
	rc = agent_fetch_conf(st, tmp, err, errlen);
	if (rc)
		return rc;
	argv[0] = "snow-agent";
	argv[1] = "--config";
	argv[2] = tmp;
	argv[3] = NULL;
	rc = agent_conf_load(&nc, 3, argv, err, errlen);
	if (!rc && (!nc.name || strcmp(nc.name, st->conf->name))) {
		snprintf(err, errlen, "name: the new node.conf is for '%s', not '%s'",
			 nc.name ? nc.name : "", st->conf->name);
		rc = -EINVAL;
	}
	/* Check every threshold against the tree first: all or nothing. */
	for (i = 0; !rc && i < nc.nthr; i++) {
		struct instr_value *v = instr_tree_find(&st->tree, nc.thr[i].value);
		if (!v || v->def.kind != INSTR_GAUGE) {
			snprintf(err, errlen, "threshold.%s: %s", nc.thr[i].value,
				 v ? "not a gauge" : "not a value of this node");
			rc = -EINVAL;
		}
	}
	if (rc) {
		unlink(tmp);
		agent_conf_free(&nc);
		return rc;
	}
	agent_thr_from_conf(st, nc.thr, nc.nthr);
	free(st->allow);
	st->allow = nc.sysctl_allow ? strdup(nc.sysctl_allow) : NULL;
	/* An agent restarted later reads the new file too. */
	if (st->conf->config && rename(tmp, st->conf->config))
		log_warn("config.reload: cannot replace %s", st->conf->config);
	unlink(tmp);
	*result = json_pack("{s:i, s:s}", "thresholds", (int)nc.nthr, "sysctl.allow",
			    st->allow ? st->allow : "");
	log_info("config.reload: %zu threshold%s from node.conf, sysctl.allow '%s'", nc.nthr,
		 nc.nthr == 1 ? "" : "s", st->allow ? st->allow : "");
	agent_conf_free(&nc);
	return 0;
}

/* Run a parsed command.  @ret 0 with *result (new reference, may be NULL) or -errno, err. */
static int agent_exec(struct agent_state *st, const struct instr_cmd *c, json_t **result,
		      char *err, size_t errlen)
{
	struct ddm_env env = agent_ddm_env(st);
	struct instr_threshold *t;
	int rc;

	*result = NULL;
	switch (c->op) {
	case INSTR_CMD_REBOOT:
	case INSTR_CMD_POWEROFF:
		st->power = c->op == INSTR_CMD_REBOOT ? AGENT_POWER_REBOOT : AGENT_POWER_POWEROFF;
		st->power_at = (long long)clock_mono_ms() + AGENT_POWER_WAIT_MS;
		st->power_id = c->id;
		*result = json_pack("{s:s}", "status", "after this result is delivered");
		return 0;
	case INSTR_CMD_THR_SET:
		rc = agent_thr_install(st, &c->thr, 0, err, errlen);
		if (rc)
			return rc;
		t = agent_thr_find(st, c->thr.value, c->thr.kind);
		*result = threshold_to_json(t);
		return 0;
	case INSTR_CMD_THR_CLEAR:
		t = agent_thr_find(st, c->thr.value, c->thr.kind);
		if (!t) {
			snprintf(err, errlen, "value: no %s threshold is set on '%s'",
				 instr_thr_kind_name(c->thr.kind), c->thr.value);
			return -ENOENT;
		}
		/* A raised threshold that goes away clears: consoles would show it raised forever. */
		if (t->state == INSTR_THR_RAISED) {
			struct instr_value *v = instr_tree_find(&st->tree, t->value);
			agent_event(st, INSTR_EV_THR_CLEAR,
				    json_pack("{s:s, s:s, s:f, s:f, s:o, s:s}", "value", t->value,
					      "kind", instr_thr_kind_name(t->kind), "rise", t->rise,
					      "clear", t->clear, "observed",
					      v && v->valid ? json_real(v->v) : json_null(), "cause",
					      "threshold.clear"));
		}
		agent_thr_remove(st, t);
		return 0;
	case INSTR_CMD_CNT_RESET:
		rc = instr_tree_counter_reset(&st->tree, c->value[0] ? c->value : NULL, err, errlen);
		if (rc < 0)
			return rc;
		*result = json_pack("{s:i}", "reset", rc);
		return 0;
	case INSTR_CMD_WM_RESET:
		rc = instr_tree_wm_reset(&st->tree, c->value[0] ? c->value : NULL, err, errlen);
		if (rc < 0)
			return rc;
		*result = json_pack("{s:i}", "reset", rc);
		return 0;
	case INSTR_CMD_DEVICE:
		return ddm_op(&st->ddm, &env, c->path, c->dev_op, result, err, errlen);
	case INSTR_CMD_SYSCTL_SET:
		return agent_sysctl_set(st, c, result, err, errlen);
	case INSTR_CMD_SYSCTL_GET:
		return agent_sysctl_get(st, c, result, err, errlen);
	case INSTR_CMD_CONFIG_RELOAD:
		return agent_config_reload(st, result, err, errlen);
	case INSTR_CMD_COUNT:
		break;
	}
	snprintf(err, errlen, "op: unknown");
	return -EINVAL;
}

json_t *agent_command(struct agent_state *st, json_t *cmd)
{
	struct instr_cmd c;
	struct agent_result *r;
	json_int_t id;
	json_t *res, *out = NULL;
	char err[512];
	int rc;

	rc = instr_cmd_parse(cmd, &c, &id, err, sizeof(err));
	if (id < 0) {
		log_warnx("command without a usable id refused: %s", err);
		return NULL;
	}
	r = agent_result_find(st, id);
	if (r) {
		/* Done already: the host did not get the result yet, send it again. */
		log_debug("command %lld: repeated id, resending its result", (long long)id);
		r->pending = 1;
		return r->res;
	}
	if (!rc)
		rc = agent_exec(st, &c, &out, err, sizeof(err));
	if (rc) {
		/* The op as the host wrote it: it may be one we do not know. */
		const char *op = json_string_value(json_object_get(cmd, "op"));
		char opname[40];
		snprintf(opname, sizeof(opname), "%s", op ? op : "?");
		log_info("command %lld (%s): refused: %s", (long long)id, opname, err);
		res = instr_result_err(id, err);
		agent_event(st, INSTR_EV_COMMAND_RESULT,
			    json_pack("{s:I, s:s, s:b, s:s}", "id", id, "op", opname, "ok", 0,
				      "error", err));
	} else {
		log_info("command %lld (%s): done", (long long)id, instr_cmd_op_name(c.op));
		res = instr_result_ok(id, out);
		agent_event(st, INSTR_EV_COMMAND_RESULT,
			    json_pack("{s:I, s:s, s:b}", "id", id, "op", instr_cmd_op_name(c.op),
				      "ok", 1));
	}
	if (!res)
		return NULL;
	st->state_dirty = 1; /* the result, and whatever the command changed */
	return agent_result_add(st, id, res)->res;
}
