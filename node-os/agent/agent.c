#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "jsonh.h"
#include "log.h"

#define OPT(field) offsetof(struct agent_conf, field)

const struct conf_option agent_options[] = {
	{ "config", 'c', CONF_STR, OPT(config), 0, 0, "FILE", "read settings from FILE (node.conf)" },
	{ "root", 0, CONF_STR, OPT(root), 0, 0, "DIR", "read DIR/proc and DIR/sys (tests)" },
	{ "name", 0, CONF_STR, OPT(name), 0, 0, "NAME", "this node's name" },
	{ "host_url", 0, CONF_STR, OPT(host_url), 0, 0, "URL", "snowd, http://HOST:PORT" },
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
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/* Keys the host adds later (env.*, threshold.*) must not stop an old agent. */
static int agent_conf_unknown(void *ctx, const char *key, const char *value, char *err,
			      size_t errlen)
{
	log_debug("%s: ignoring unknown key '%s'", (const char *)ctx, key);
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
	if (first.config) {
		rc = conf_parse_file(agent_options, c, first.config, agent_conf_unknown,
				     first.config, err, errlen);
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
}

int agent_init(struct agent_state *st, struct agent_conf *conf, int stop_fd, char *err,
	       size_t errlen)
{
	struct utsname u;
	int rc;

	memset(st, 0, sizeof(*st));
	st->conf = conf;
	st->stop_fd = stop_fd;
	st->interval_ms = conf->interval_ms ? conf->interval_ms : WIRE_DEFAULT_INTERVAL_MS;
	st->backoff_ms = AGENT_BACKOFF_FIRST_MS;
	rc = wire_client_init(&st->wire, conf->host_url, conf->name, conf->secret, err, errlen);
	if (rc)
		return rc;
	st->wire.timeout_ms = AGENT_HTTP_TIMEOUT_MS;
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
	return 0;
}

json_t *agent_register_body(struct agent_state *st)
{
	/* "o" steals the schema reference, also when json_pack fails. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", st->conf->name, "mac",
			 st->conf->mac, "boot_id", st->boot_id, "version", AGENT_VERSION, "kernel",
			 st->kernel, "hostname", st->hostname, "schema", sample_schema_json());
}

/* Seconds since boot from the sample, or the clock when /proc says nothing. */
static json_int_t agent_uptime_s(const struct sample_set *s)
{
	struct timespec ts;

	if (s->valid & (1u << SAMPLE_UPTIME_S))
		return (json_int_t)s->v[SAMPLE_UPTIME_S];
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (json_int_t)ts.tv_sec;
}

json_t *agent_report_body(struct agent_state *st)
{
	struct sample_set s;
	char err[256];
	int rc;

	rc = sample_read_all(st->conf->root, &s, err, sizeof(err));
	/* A broken file would otherwise be logged every interval. */
	if (rc && rc != st->sample_rc)
		log_warnx("sampling: %s (sending the other values)", err);
	else if (!rc && st->sample_rc)
		log_info("sampling: all values readable again");
	st->sample_rc = rc;
	return json_pack("{s:s, s:s, s:I, s:I, s:o}", "name", st->conf->name, "boot_id",
			 st->boot_id, "seq", (json_int_t)++st->seq, "uptime_s", agent_uptime_s(&s),
			 "values", sample_to_json(&s));
}

/*
 * A failure kind for "log once per outage": transport errors are one kind,
 * each HTTP status its own.
 */
static int agent_fail_kind(int rc, int status)
{
	return status ? status : 1;
}

static void agent_note_failure(struct agent_state *st, const char *what, int rc, int status,
			       const char *err)
{
	int kind = agent_fail_kind(rc, status);

	if (kind != st->fail_kind) {
		if (status)
			log_warnx("%s: %s", what, err);
		else
			log_warnx("%s: host unreachable: %s (retrying quietly)", what, err);
	} else {
		log_debug("%s: %s", what, err);
	}
	st->fail_kind = kind;
	st->fail_count++;
}

static void agent_note_success(struct agent_state *st)
{
	if (st->fail_kind)
		log_info("host answering again after %u failed attempt%s", st->fail_count,
			 st->fail_count == 1 ? "" : "s");
	st->fail_kind = 0;
	st->fail_count = 0;
}

int agent_register(struct agent_state *st)
{
	json_t *body, *reply = NULL;
	json_int_t iv;
	char err[512];
	int rc, status;

	body = agent_register_body(st);
	if (!body) {
		log_warnx("register: out of memory");
		return -ENOMEM;
	}
	rc = wire_post(&st->wire, WIRE_PATH_REGISTER, body, &reply, &status, err, sizeof(err));
	json_decref(body);
	if (rc) {
		agent_note_failure(st, "register", rc, status, err);
		goto out;
	}
	agent_note_success(st);
	st->registered = 1;
	st->seq = 0;
	if (reply) {
		rc = jsonh_get_int(reply, "interval_ms", 0, AGENT_INTERVAL_MIN_MS,
				   AGENT_INTERVAL_MAX_MS, &iv, err, sizeof(err));
		if (rc) {
			log_warnx("register: host's answer: %s (keeping %ld ms)", err,
				  st->interval_ms);
			rc = 0;
		} else if (json_object_get(reply, "interval_ms")) {
			st->interval_ms = (long)iv;
		}
	}
	log_info("registered with %s as %s (boot %s), reporting every %ld ms",
		 st->conf->host_url, st->conf->name, st->boot_id, st->interval_ms);
out:
	json_decref(reply);
	return rc;
}

int agent_report(struct agent_state *st)
{
	json_t *body;
	char err[512];
	int rc, status;

	body = agent_report_body(st);
	if (!body) {
		log_warnx("report: out of memory");
		return -ENOMEM;
	}
	rc = wire_post(&st->wire, WIRE_PATH_REPORT, body, NULL, &status, err, sizeof(err));
	json_decref(body);
	if (!rc) {
		agent_note_success(st);
		/*
		 * Only a report accepted ends the back-off: a host that takes the
		 * registration but refuses every report is not hammered.
		 */
		st->backoff_ms = AGENT_BACKOFF_FIRST_MS;
		log_debug("report %llu sent", (unsigned long long)st->seq);
		return 0;
	}
	if (status == 401 || status == 403 || status == 404) {
		/* The host forgot us (restart, node removed) or refuses this boot. */
		log_warnx("report: host answered %d: registering again", status);
		st->registered = 0;
		st->fail_kind = 0;
		st->fail_count = 0;
		return rc;
	}
	agent_note_failure(st, "report", rc, status, err);
	return rc;
}

static long long agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait ms or until a stop is signalled.  Sets st->stop. */
static void agent_wait(struct agent_state *st, long long ms)
{
	long long deadline = agent_now_ms() + ms;

	while (!st->stop) {
		struct pollfd pfd = { .fd = st->stop_fd, .events = POLLIN };
		long long left = deadline - agent_now_ms();
		int n;

		if (left <= 0)
			return;
		n = poll(&pfd, st->stop_fd >= 0 ? 1 : 0, (int)(left > 60000 ? 60000 : left));
		if (n > 0 && (pfd.revents & (POLLIN | POLLHUP))) {
			char sig;
			if (read(st->stop_fd, &sig, 1) >= 0)
				st->stop = 1;
		}
	}
}

/* Wait before the next registration attempt: 1 s doubling up to 10 s. */
static void agent_backoff(struct agent_state *st)
{
	agent_wait(st, st->backoff_ms);
	st->backoff_ms *= 2;
	if (st->backoff_ms > AGENT_BACKOFF_MAX_MS)
		st->backoff_ms = AGENT_BACKOFF_MAX_MS;
}

int agent_run(struct agent_state *st)
{
	long long next = 0;
	int rc;

	while (!st->stop) {
		if (!st->registered) {
			rc = agent_register(st);
			if (rc) {
				if (st->conf->once)
					return rc;
				agent_backoff(st);
				continue;
			}
			next = agent_now_ms();
		}
		agent_wait(st, next - agent_now_ms());
		if (st->stop)
			break;
		/* Schedule from the start, so the request time does not add drift. */
		next = agent_now_ms() + st->interval_ms;
		rc = agent_report(st);
		if (st->conf->once)
			return rc;
		if (!st->registered)
			agent_backoff(st);
	}
	log_info("stopping");
	return 0;
}
