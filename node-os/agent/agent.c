/*
 * snow-agent's set-up and what it watches: the option table and node.conf,
 * agent_init()/agent_fini(), the black box's events, sampling and
 * thresholds.  The loop that drives them is loop.c's.
 */
#include "agent.h"
#include "xcvr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "jsonh.h"
#include "log.h"
#include "hotrestart.h"
#include "persist.h"
#include "tree.h"
#include "wdog.h"

#define OPT(field) offsetof(struct agent_conf, field)

const struct conf_option agent_options[] = {
	{ "config", 'c', CONF_STR, OPT(config), 0, 0, "FILE", "read settings from FILE (node.conf)" },
	{ "root", 0, CONF_STR, OPT(root), 0, 0, "DIR", "read DIR/proc and DIR/sys (tests)" },
	{ "name", 0, CONF_STR, OPT(name), 0, 0, "NAME", "this node's name" },
	{ "host_url", 0, CONF_STR, OPT(host_url), 0, 0, "URLS",
	  "snowd, http://HOST:PORT; several separated by commas or blanks: the first that "
	  "answers is used until it stops answering, then the next" },
	{ "keep_alive", 0, CONF_BOOL, OPT(keep_alive), 0, 0, NULL,
	  "keep one connection to snowd open between requests (default yes; no: one per request)" },
	{ "secret", 0, CONF_STR, OPT(secret), 0, 0, "HEX",
	  "the node's secret, 64 hex digits (keep it in the file)" },
	{ "mac", 0, CONF_STR, OPT(mac), 0, 0, "MAC", "the service NIC's MAC" },
	{ "interval_ms", 0, CONF_INT, OPT(interval_ms), AGENT_INTERVAL_MIN_MS,
	  AGENT_INTERVAL_MAX_MS, "MS", "report interval (the host may override it)" },
	/* --interval is what people type; interval_ms is what snowd writes. */
	{ "interval", 0, CONF_INT, OPT(interval_ms), AGENT_INTERVAL_MIN_MS, AGENT_INTERVAL_MAX_MS,
	  "MS", "same as interval_ms" },
	{ "once", 0, CONF_BOOL, OPT(once), 0, 0, NULL, "register, send one report, exit" },
	{ "verbose", 'v', CONF_BOOL, OPT(verbose), 0, 0, NULL, "debug logging" },
	{ "check-config", 'n', CONF_BOOL, OPT(check), 0, 0, NULL,
	  "check the configuration and exit" },
	{ "dump", 0, CONF_BOOL, OPT(dump), 0, 0, NULL,
	  "print one sample of the tree and devices as JSON and exit" },
	{ "events", 0, CONF_STR, OPT(events), 0, 0, "FILE",
	  "write each event as a JSON line to FILE ('-': stdout)" },
	{ "sysctl.allow", 0, CONF_STR, OPT(sysctl_allow), 0, 0, "LIST",
	  "sysctls the host may set, comma separated (vm.swappiness,...)" },
	{ "state_dir", 0, CONF_STR, OPT(state_dir), 0, 0, "DIR",
	  "keep the black box here across agent restarts (default /run/snow on a node)" },
	{ "watchdog", 0, CONF_STR, OPT(watchdog), 0, 0, "DEV",
	  "watchdog device to pat (default /dev/watchdog on a node; 'none' for none)" },
	{ "watchdog_timeout", 0, CONF_INT, OPT(watchdog_s), 5, 600, "S",
	  "watchdog timeout in seconds" },
	{ "events_max", 0, CONF_INT, OPT(events_max), 4, 65536, "N",
	  "black box size (events kept until the host has them)" },
	{ "event_socket", 0, CONF_STR, OPT(event_socket), 0, 0, "PATH",
	  "programs on the node post events here (default STATE_DIR/event.sock; 'none')" },
	{ "event_group", 0, CONF_INT, OPT(event_group), 0, 2147483647, "GID",
	  "a group whose programs may post events too (root and the agent's user always may)" },
	{ "wake_port", 0, CONF_INT, OPT(wake_port), -1, 65535, "PORT",
	  "UDP port where the host wakes the agent when it has a command (0: any free one, "
	  "-1: none; commands then wait for the next report)" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

int agent_threshold_line(const char *name, const char *value, struct instr_threshold *t,
			 char *err, size_t errlen)
{
	char kind[8], extra[2];
	double rise, clear;
	unsigned samples = 1;
	enum instr_thr_kind k;
	int n;

	memset(t, 0, sizeof(*t));
	n = sscanf(value, "%7s %lf %lf %u %1s", kind, &rise, &clear, &samples, extra);
	if (n < 3 || n > 4) {
		snprintf(err, errlen,
			 "threshold.%s: '%s' must be 'high|low RISE CLEAR [SAMPLES]'", name, value);
		return -EINVAL;
	}
	if (instr_thr_kind_parse(kind, &k)) {
		snprintf(err, errlen, "threshold.%s: kind '%s' must be high or low", name, kind);
		return -EINVAL;
	}
	{
		char inner[256];
		int rc = threshold_set(t, name, k, rise, clear, samples, inner, sizeof(inner));
		if (rc) {
			snprintf(err, errlen, "threshold.%s: %s", name, inner);
			return rc;
		}
	}
	return 0;
}

struct agent_conf_ctx {
	const char *path;
	struct agent_conf *c;
};

/*
 * threshold.VALUE lines are ours; other keys the host adds later (env.*)
 * must not stop an old agent.
 */
static int agent_conf_unknown(void *ctx, const char *key, const char *value, char *err,
			      size_t errlen)
{
	struct agent_conf_ctx *x = ctx;
	struct agent_conf *c = x->c;
	struct instr_threshold t, *nt;
	size_t i;
	int rc;

	if (strncmp(key, "threshold.", 10)) {
		log_debug("%s: ignoring unknown key '%s'", x->path, key);
		return 0;
	}
	rc = agent_threshold_line(key + 10, value, &t, err, errlen);
	if (rc)
		return rc;
	for (i = 0; i < c->nthr; i++)
		if (!strcmp(c->thr[i].value, t.value) && c->thr[i].kind == t.kind) {
			c->thr[i] = t; /* the last line wins */
			return 0;
		}
	if (c->nthr >= AGENT_THRESHOLDS_MAX) {
		snprintf(err, errlen, "%s: more than %d thresholds", key, AGENT_THRESHOLDS_MAX);
		return -EINVAL;
	}
	nt = realloc(c->thr, (c->nthr + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	c->thr = nt;
	c->thr[c->nthr++] = t;
	return 0;
}

int agent_conf_load(struct agent_conf *c, int argc, char **argv, char *err, size_t errlen)
{
	struct agent_conf first = { 0 };
	int rc, next;

	/* Pass 1 finds --config (and -v, so unknown keys can be shown). */
	rc = conf_parse_args(agent_options, &first, argc, argv, &next, err, errlen);
	if (rc)
		goto err_first;
	if (next < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (try --help)", argv[next]);
		rc = -EINVAL;
		goto err_first;
	}
	if (first.verbose)
		log_set_level(LOG_LVL_DEBUG);
	c->interval_ms = WIRE_DEFAULT_INTERVAL_MS;
	c->watchdog_s = AGENT_WATCHDOG_DEFAULT_S;
	c->events_max = AGENT_EVENTS_DEFAULT;
	c->event_group = -1;
	c->keep_alive = 1;
	if (first.config) {
		struct agent_conf_ctx x = { first.config, c };
		rc = conf_parse_file(agent_options, c, first.config, agent_conf_unknown, &x, err,
				     errlen);
		if (rc)
			goto err_first;
	}
	/* Pass 2: the command line wins over the file. */
	rc = conf_parse_args(agent_options, c, argc, argv, &next, err, errlen);
	if (rc)
		goto err_first;
	if (!c->root) {
		c->root = strdup("");
		if (!c->root) {
			rc = -ENOMEM;
			goto err_first;
		}
	}
	conf_free(agent_options, &first);
	return 0;

err_first:
	conf_free(agent_options, &first);
	return rc;
}

int agent_standalone(const struct agent_conf *c)
{
	return c->dump || (c->events && (!c->host_url || !*c->host_url));
}

int agent_conf_check(struct agent_conf *c, char *err, size_t errlen)
{
	char mac[SNOW_MAC_STRLEN + 1];
	static const struct {
		const char *key;
		size_t off;
	} required[] = {
		{ "name", OPT(name) },
		{ "host_url", OPT(host_url) },
		{ "secret", OPT(secret) },
		{ "mac", OPT(mac) },
	};
	size_t i;
	int rc;

	if (agent_standalone(c)) {
		if (c->mac && *c->mac) {
			rc = valid_mac(c->mac, mac, err, errlen);
			if (rc)
				return rc;
			strcpy(c->mac, mac);
		}
		return 0;
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char *v = *(char **)((char *)c + required[i].off);
		if (!v || !*v) {
			snprintf(err, errlen, "%s: missing (set it in the --config file or with --%s)",
				 required[i].key, required[i].key);
			return -EINVAL;
		}
	}
	rc = valid_name(c->name, err, errlen);
	if (rc)
		return rc;
	rc = valid_mac(c->mac, mac, err, errlen);
	if (rc)
		return rc;
	strcpy(c->mac, mac); /* canonical form is never longer than a valid input */
	{
		/* wire_client_init() is the one place that judges url and secret. */
		struct wire_client w;
		rc = wire_client_init(&w, c->host_url, c->name, c->secret, err, errlen);
		memset(&w, 0, sizeof(w));
	}
	return rc;
}

void agent_conf_free(struct agent_conf *c)
{
	if (c->secret)
		memset(c->secret, 0, strlen(c->secret));
	conf_free(agent_options, c);
	free(c->thr);
	c->thr = NULL;
	c->nthr = 0;
}

int64_t agent_unix_now(void)
{
	return (int64_t)time(NULL);
}

uint64_t agent_event_ex(struct agent_state *st, const char *type, enum instr_severity sev,
			const char *publisher, json_t *attrs)
{
	uint64_t seq = instr_ring_push_ex(&st->ring, agent_unix_now(), type, sev, publisher, attrs);
	const struct instr_event *e;

	if (!seq) {
		log_warnx("event %s: out of memory", type);
		return 0;
	}
	st->ring_dirty = 1;
	log_debug("event %llu: %s", (unsigned long long)seq, type);
	if (!st->events_out)
		return seq;
	e = instr_ring_at(&st->ring, st->ring.len - 1);
	{
		json_t *j = instr_event_to_json(e);
		char *line = j ? jsonh_dump(j) : NULL;
		if (line) {
			fprintf(st->events_out, "%s\n", line);
			fflush(st->events_out);
		}
		free(line);
		json_decref(j);
	}
	return seq;
}

void agent_event(struct agent_state *st, const char *type, json_t *attrs)
{
	agent_event_ex(st, type, instr_severity_of(type), NULL, attrs);
}

/* A device operation that waits (a self-test) calls this between its slices. */
static void agent_ddm_tick(void *ctx)
{
	struct agent_state *st = ctx;

	wdog_pat(st->wdog_fd);
}

/* ddm's way of telling us about a device state change. */
static void agent_ddm_emit(void *ctx, const char *type, json_t *attrs)
{
	agent_event(ctx, type, attrs);
}

struct ddm_env agent_ddm_env(struct agent_state *st)
{
	struct ddm_env env = {
		.root = st->conf->root,
		.service_mac = st->conf->mac,
		.now = agent_unix_now(),
		.emit = agent_ddm_emit,
		.tick = agent_ddm_tick,
		.ctx = st,
		/* /init exports the node's environment (its env setting in snowd). */
		.nic_mac = getenv("SNOW_NIC_MAC"),
		.nic_id = getenv("SNOW_NIC_ID"),
		.nic_peers = getenv("SNOW_NIC_PEERS"),
		.nic_bin = getenv("SNOW_NIC_BIN"),
	};
	return env;
}

/* ---- set up ------------------------------------------------------------------- */

/* The event socket for programs on the node, and the netlink watchers. */
static void agent_listen(struct agent_state *st)
{
	const char *path = st->conf->event_socket;
	char buf[4200], err[600];

	if ((!path || !*path) && agent_has_state_dir(st)) {
		snprintf(buf, sizeof(buf), "%s/event.sock", st->conf->state_dir);
		mkdir(st->conf->state_dir, 0700);
		/* The group's programs must reach the socket; the files stay 0600. */
		if (st->conf->event_group >= 0)
			chmod(st->conf->state_dir, 0711);
		path = buf;
	}
	if (path && *path && strcmp(path, "none")) {
		if (post_open(&st->post, path, st->conf->event_group, err, sizeof(err)))
			log_warnx("%s (programs cannot post events)", err);
		else
			log_info("event socket: %s", path);
	}
	if (nlwatch_open(&st->nl, err, sizeof(err)))
		log_warnx("%s (device changes are seen at each sample only)", err);
	if (!agent_standalone(st->conf) &&
	    wake_listen(&st->wk, st->conf->wake_port, err, sizeof(err)))
		log_warnx("%s (commands come with the reports)", err);
	else if (st->wk.fd >= 0)
		log_info("wake-ups: udp port %u", st->wk.port);
}

int agent_init(struct agent_state *st, struct agent_conf *conf, int stop_fd, char *err,
	       size_t errlen)
{
	struct persist_state *kept = NULL;
	struct utsname u;
	char bad[600];
	int rc, restored, restored_state = 0;

	memset(st, 0, sizeof(*st));
	st->conf = conf;
	st->stop_fd = stop_fd;
	st->wdog_fd = -1;
	st->post.fd = -1;
	st->nl.uev_fd = st->nl.rt_fd = -1;
	st->wk.fd = -1;
	st->wire.conn.fd = -1; /* standalone: never set up, and agent_fini() closes it */
	st->interval_ms = conf->interval_ms ? conf->interval_ms : WIRE_DEFAULT_INTERVAL_MS;
	st->backoff_ms = AGENT_BACKOFF_FIRST_MS;
	if (!agent_standalone(conf)) {
		rc = wire_client_init(&st->wire, conf->host_url, conf->name, conf->secret, err,
				      errlen);
		if (rc)
			return rc;
		st->wire.timeout_ms = AGENT_HTTP_TIMEOUT_MS;
		st->wire.keep_alive = conf->keep_alive;
	}
	rc = sample_boot_id(conf->root, st->boot_id, err, errlen);
	if (rc)
		return rc;
	if (uname(&u)) {
		rc = -errno;
		snprintf(err, errlen, "uname: %s", strerror(errno));
		return rc;
	}
	snprintf(st->kernel, sizeof(st->kernel), "%s", u.release);
	if (gethostname(st->hostname, sizeof(st->hostname) - 1)) {
		rc = -errno;
		snprintf(err, errlen, "gethostname: %s", strerror(errno));
		return rc;
	}
	if (conf->sysctl_allow && !(st->allow = strdup(conf->sysctl_allow))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* On a node (no --root) the black box outlives the agent in /run. */
	if (!conf->state_dir && !conf->root[0] && !conf->dump &&
	    !(conf->state_dir = strdup("/run/snow"))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = instr_ring_init(&st->ring, (size_t)conf->events_max);
	if (rc) {
		snprintf(err, errlen, "events: cannot allocate %ld slots", conf->events_max);
		return rc;
	}
	if (conf->events && !conf->dump) {
		if (!strcmp(conf->events, "-")) {
			st->events_out = stdout;
		} else if (!(st->events_out = fopen(conf->events, "ae"))) {
			rc = -errno;
			snprintf(err, errlen, "events: %s: %s", conf->events, strerror(errno));
			return rc;
		}
	}
	snprintf(st->ring.publisher, sizeof(st->ring.publisher), "snow-agent");
	restored = -1;
	if (!conf->dump) {
		if (!(kept = calloc(1, sizeof(*kept)))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		restored = agent_events_load(st, bad, sizeof(bad));
		restored_state = agent_state_load(st, kept);
		if (restored < 0)
			agent_event(st, INSTR_EV_BOOT,
				    json_pack("{s:s, s:s}", "boot_id", st->boot_id, "kernel",
					      st->kernel));
		if (bad[0])
			agent_state_bad(st, "events.json", bad);
		agent_event(st, INSTR_EV_AGENT_START,
			    json_pack("{s:s, s:i, s:i, s:b}", "version", AGENT_VERSION, "pid",
				      (int)getpid(), "restored", restored < 0 ? 0 : restored,
				      "state", restored_state > 0));
	}
	/* The first sample: the schema for registering, a baseline for devices. */
	if (getenv("SNOW_NIC_MAC") && *getenv("SNOW_NIC_MAC"))
		tree_nic_declare(&st->tree);
	agent_sample(st);
	if (restored_state > 0)
		agent_state_merge(st, kept);
	if (kept) {
		persist_free(kept);
		free(kept);
	}
	if (!conf->dump)
		agent_listen(st);
	return 0;
}

void agent_fini(struct agent_state *st)
{
	size_t i;

	agent_state_save(st);
	post_close(&st->post);
	nlwatch_close(&st->nl);
	wake_stop(&st->wk);
	wdog_close(st->wdog_fd, 1);
	st->wdog_fd = -1;
	if (st->events_out && st->events_out != stdout)
		fclose(st->events_out);
	st->events_out = NULL;
	for (i = 0; i < st->nresults; i++)
		json_decref(st->results[i].res);
	st->nresults = 0;
	instr_tree_free(&st->tree);
	ddm_free(&st->ddm);
	instr_ring_free(&st->ring);
	json_decref(st->xcvr_thr);
	st->xcvr_thr = NULL;
	free(st->allow);
	st->allow = NULL;
	wire_client_fini(&st->wire);
	memset(&st->wire, 0, sizeof(st->wire)); /* holds a copy of the secret */
	st->wire.conn.fd = -1;
}

/* ---- sampling and thresholds --------------------------------------------------- */

struct instr_threshold *agent_thr_find(struct agent_state *st, const char *value,
				       enum instr_thr_kind kind)
{
	size_t i;

	for (i = 0; i < st->nthr; i++)
		if (st->thr[i].kind == kind && !strcmp(st->thr[i].value, value))
			return &st->thr[i];
	return NULL;
}

void agent_thr_remove(struct agent_state *st, struct instr_threshold *t)
{
	size_t i = (size_t)(t - st->thr);

	memmove(&st->thr[i], &st->thr[i + 1], (st->nthr - i - 1) * sizeof(st->thr[0]));
	memmove(&st->thr_conf[i], &st->thr_conf[i + 1], (st->nthr - i - 1) * sizeof(int));
	st->nthr--;
}

/*
 * Install threshold t (checked) on a gauge of the tree.  @ret 0, or -EINVAL
 * / -ENOSPC with err naming the problem; nothing changes then.
 */
int agent_thr_install(struct agent_state *st, const struct instr_threshold *t,
		      int from_conf, char *err, size_t errlen)
{
	struct instr_value *v = instr_tree_find(&st->tree, t->value);
	struct instr_threshold *x;

	if (!v) {
		snprintf(err, errlen, "value: '%s' is not a value of this node", t->value);
		return -EINVAL;
	}
	if (v->def.kind != INSTR_GAUGE) {
		snprintf(err, errlen, "value: '%s' is a %s; thresholds apply to gauges only",
			 t->value, instr_kind_name(v->def.kind));
		return -EINVAL;
	}
	x = agent_thr_find(st, t->value, t->kind);
	if (!x) {
		if (st->nthr >= AGENT_THRESHOLDS_MAX) {
			snprintf(err, errlen, "value: this node has %d thresholds already",
				 AGENT_THRESHOLDS_MAX);
			return -ENOSPC;
		}
		x = &st->thr[st->nthr];
		memset(x, 0, sizeof(*x));
		st->thr_conf[st->nthr++] = from_conf;
	} else {
		st->thr_conf[x - st->thr] = from_conf;
	}
	/* Checked already: threshold_set() keeps a raised state for the same kind. */
	return threshold_set(x, t->value, t->kind, t->rise, t->clear, t->samples, err, errlen);
}

/*
 * node.conf's thresholds: those of an earlier file that the new one lacks
 * go, the others are set.  A value the node does not have is logged.
 */
void agent_thr_from_conf(struct agent_state *st, const struct instr_threshold *thr, size_t n)
{
	char err[256];
	size_t i, j;

	for (i = st->nthr; i-- > 0;) {
		if (!st->thr_conf[i])
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(thr[j].value, st->thr[i].value) && thr[j].kind == st->thr[i].kind)
				break;
		if (j == n)
			agent_thr_remove(st, &st->thr[i]);
	}
	for (j = 0; j < n; j++)
		if (agent_thr_install(st, &thr[j], 1, err, sizeof(err)))
			log_warnx("node.conf: threshold.%s: %s (ignored)", thr[j].value, err);
}

/*
 * A transceiver's own alarm and warning limits become its gauges'
 * thresholds (high: rise at the high alarm, clear at the high warning; low
 * mirrored), once per boot: what the host sets or clears afterwards stays.
 */
static void agent_xcvr_thresholds(void *ctx, const char *ifname, const struct sff8472_diag *d)
{
	struct agent_state *st = ctx;
	char name[INSTR_NAME_MAX + 1], err[256];
	int k;

	if (!st->xcvr_thr && !(st->xcvr_thr = json_object()))
		return;
	for (k = 0; k < SFF_ITEMS; k++) {
		struct instr_threshold hi = { .kind = INSTR_THR_HIGH, .rise = d->r[k].high_alarm,
					      .clear = d->r[k].high_warn, .samples = 1 };
		struct instr_threshold lo = { .kind = INSTR_THR_LOW, .rise = d->r[k].low_alarm,
					      .clear = d->r[k].low_warn, .samples = 1 };
		snprintf(name, sizeof(name), "net.%s.xcvr.%s", ifname, d->r[k].name);
		if (json_object_get(st->xcvr_thr, name))
			continue;
		json_object_set_new(st->xcvr_thr, name, json_true());
		snprintf(hi.value, sizeof(hi.value), "%s", name);
		snprintf(lo.value, sizeof(lo.value), "%s", name);
		if (!agent_thr_find(st, name, INSTR_THR_HIGH) &&
		    !threshold_check(hi.rise, hi.clear, hi.kind, err, sizeof(err)))
			agent_thr_install(st, &hi, 0, err, sizeof(err));
		if (!agent_thr_find(st, name, INSTR_THR_LOW) &&
		    !threshold_check(lo.rise, lo.clear, lo.kind, err, sizeof(err)))
			agent_thr_install(st, &lo, 0, err, sizeof(err));
	}
}

static void agent_thr_event(struct agent_state *st, const struct instr_threshold *t,
			    enum instr_transition tr, double v)
{
	agent_event(st, tr == INSTR_TR_RAISE ? INSTR_EV_THR_RAISE : INSTR_EV_THR_CLEAR,
		    json_pack("{s:s, s:s, s:f, s:f, s:f}", "value", t->value, "kind",
			      instr_thr_kind_name(t->kind), "rise", t->rise, "clear", t->clear,
			      "observed", v));
}

int agent_sample(struct agent_state *st)
{
	struct ddm_env env = agent_ddm_env(st);
	char err[256];
	size_t i;
	int rc;

	rc = tree_sample(st->conf->root, &st->tree, err, sizeof(err));
	if (rc && rc != st->sample_rc)
		log_warnx("sampling: %s (sending the other values)", err);
	else if (!rc && st->sample_rc)
		log_info("sampling: all values readable again");
	st->sample_rc = rc;
	/* The black box's own health, as values. */
	{
		struct instr_def d = { .kind = INSTR_GAUGE, .integer = 1 };
		snprintf(d.name, sizeof(d.name), "agent.events.pending");
		snprintf(d.oid, sizeof(d.oid), "11.3");
		snprintf(d.desc, sizeof(d.desc), "events not yet acknowledged by snowd");
		instr_tree_set(&st->tree, &d, (double)st->ring.len);
		d.kind = INSTR_COUNTER;
		snprintf(d.name, sizeof(d.name), "agent.events.lost");
		snprintf(d.oid, sizeof(d.oid), "11.4");
		snprintf(d.desc, sizeof(d.desc), "events dropped because the black box was full");
		instr_tree_set(&st->tree, &d, (double)st->ring.lost_total);
	}
	if (!st->conf_thr_applied) {
		st->conf_thr_applied = 1;
		agent_thr_from_conf(st, st->conf->thr, st->conf->nthr);
	}
	xcvr_each(st->conf->root, agent_xcvr_thresholds, st);
	for (i = 0; i < st->nthr; i++) {
		struct instr_value *v = instr_tree_find(&st->tree, st->thr[i].value);
		enum instr_transition tr;
		if (!v || !v->valid)
			continue;
		unsigned hits = st->thr[i].hits;
		tr = threshold_update(&st->thr[i], v->v);
		if (tr != INSTR_TR_NONE)
			agent_thr_event(st, &st->thr[i], tr, v->v);
		if (tr != INSTR_TR_NONE || hits != st->thr[i].hits)
			st->state_dirty = 1; /* a restarted agent must not raise it twice */
	}
	ddm_scan(&st->ddm, &env, "observed");
	return rc;
}

json_t *agent_thresholds_json(struct agent_state *st)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < st->nthr; i++)
		if (json_array_append_new(a, threshold_to_json(&st->thr[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *agent_dump_json(struct agent_state *st)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "boot_id", st->boot_id, "values",
			 instr_tree_values_json(&st->tree), "schema",
			 instr_tree_schema_json(&st->tree), "watermarks",
			 instr_tree_watermarks_json(&st->tree), "thresholds",
			 agent_thresholds_json(st), "devices", ddm_json(&st->ddm));
}
