/*
 * snow-subagent: serves SNOW-CLUSTER-MIB to net-snmp's snmpd over AgentX,
 * with data from snowd's REST API.
 *
 * The agent thread runs net-snmp's loop (agent_check_and_process); the
 * poller thread (fetch.c) talks to snowd and wakes the loop through a pipe
 * registered as a read fd, as are the signals (self-pipe).  AgentX pings
 * reconnect to snmpd after it restarts; each poll is a new HTTP
 * connection, so a restarted snowd is simply found again.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "agent.h"
#include "conf.h"
#include "fetch.h"
#include "log.h"
#include "selfpipe.h"

struct subagent_config {
	char *config;
	char *url;
	char *token_file;
	char *agentx_socket;
	long interval_ms;
	long timeout_ms;
	long agentx_ping;
	int poll;
	int check_config;
	int verbose;
};

#define OPT(n, s, t, f, lo, hi, a, h) { n, s, t, offsetof(struct subagent_config, f), lo, hi, a, h }
static const struct conf_option subagent_options[] = {
	OPT("config", 'c', CONF_STR, config, 0, 0, "FILE", "read options from FILE (key = value)"),
	OPT("url", 'u', CONF_STR, url, 0, 0, "URL", "snowd's API (default http://127.0.0.1:8080)"),
	OPT("token-file", 't', CONF_STR, token_file, 0, 0, "FILE",
	    "file holding an operator or admin API token (default /var/lib/snow/admin.token)"),
	OPT("agentx-socket", 'x', CONF_STR, agentx_socket, 0, 0, "ADDR",
	    "snmpd's AgentX socket, unix:PATH or tcp:HOST:PORT (default unix:/var/agentx/master)"),
	OPT("interval-ms", 'i', CONF_INT, interval_ms, 100, 60000, "MS",
	    "how often the tables are renewed from snowd at most (default 500)"),
	OPT("poll", 0, CONF_BOOL, poll, 0, 0, NULL,
	    "read the whole node list every interval instead of following snowd's stream"),
	OPT("timeout-ms", 0, CONF_INT, timeout_ms, 100, 60000, "MS",
	    "deadline of one request to snowd (default 5000)"),
	OPT("agentx-ping", 0, CONF_INT, agentx_ping, 1, 3600, "S",
	    "ping snmpd this often and reconnect when it is gone (default 2)"),
	OPT("check-config", 'n', CONF_BOOL, check_config, 0, 0, NULL,
	    "check the configuration and the token file, then exit"),
	OPT("verbose", 'v', CONF_BOOL, verbose, 0, 0, NULL, "log debug messages"),
	{ 0 },
};
/* Actions, not settings: left out of /etc/snow/snow-subagent.conf. */
static const char *const subagent_cmdline_only[] = { "config", "check-config", NULL };

/* The daemon's one state. */
struct subagent {
	struct subagent_config cfg;
	char token[256];
	struct fetch fetch;
	struct agent agent;
	int notify_fd[2];
	struct selfpipe sig; /* SIGTERM, SIGINT */
	int running;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: snow-subagent [OPTIONS]\n\nServes SNOW-CLUSTER-MIB to snmpd over "
		   "AgentX with data from snowd.\n\n");
	conf_usage(f, subagent_options);
}

static int subagent_defaults(struct subagent_config *c)
{
	c->url = strdup("http://127.0.0.1:8080");
	c->token_file = strdup("/var/lib/snow/admin.token");
	c->agentx_socket = strdup("unix:/var/agentx/master");
	c->interval_ms = 500;
	c->timeout_ms = 5000;
	c->agentx_ping = 2;
	return c->url && c->token_file && c->agentx_socket ? 0 : -ENOMEM;
}

/* Read the token: one line, no spaces.  @ret 0 or -errno with err filled. */
static int subagent_read_token(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f) {
		snprintf(err, errlen, "token-file: %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!fgets(out, (int)cap, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	len = strlen(out);
	if (!len || len >= cap - 1 || strpbrk(out, " \t")) {
		snprintf(err, errlen, "token-file: %s: must hold one token on its first line", path);
		return -EINVAL;
	}
	return 0;
}

static int subagent_check(struct subagent *s, char *err, size_t errlen)
{
	struct subagent_config *c = &s->cfg;
	struct fetch_conf fc = { c->url, s->token, (int)c->interval_ms, (int)c->timeout_ms, c->poll };

	if (strncmp(c->agentx_socket, "unix:/", 6) && strncmp(c->agentx_socket, "tcp:", 4) &&
	    c->agentx_socket[0] != '/') {
		snprintf(err, errlen, "agentx-socket: '%s' is not unix:/PATH or tcp:HOST:PORT",
			 c->agentx_socket);
		return -EINVAL;
	}
	if (subagent_read_token(c->token_file, s->token, sizeof(s->token), err, errlen))
		return -EINVAL;
	fc.token = s->token;
	return fetch_init(&s->fetch, &fc, err, errlen);
}

/* net-snmp's own messages, through our log with our prefix. */
static int subagent_snmp_log(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;
	char msg[512];

	if (!m || !m->msg)
		return 0;
	snprintf(msg, sizeof(msg), "%s", m->msg);
	msg[strcspn(msg, "\n")] = '\0';
	if (!msg[0])
		return 0;
	if (m->priority <= LOG_WARNING)
		log_warnx("net-snmp: %s", msg);
	else if (m->priority <= LOG_INFO)
		log_info("net-snmp: %s", msg);
	else
		log_debug("net-snmp: %s", msg);
	return 0;
}

static void subagent_on_fetch(int fd, void *arg)
{
	struct subagent *s = arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	agent_take(&s->agent, fetch_take(&s->fetch));
}

static void subagent_on_sigfd(int fd, void *arg)
{
	struct subagent *s = arg;
	int sig;

	while ((sig = selfpipe_next(&s->sig)) > 0) {
		log_info("signal %d: stopping", sig);
		s->running = 0;
	}
}

static void subagent_on_tick(unsigned int reg, void *arg)
{
	struct subagent *s = arg;

	agent_tick(&s->agent);
}

static int subagent_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC | O_NONBLOCK) ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct subagent s = { .notify_fd = { -1, -1 } };
	char err[512];
	static const int sigs[] = { SIGTERM, SIGINT };
	int next = 0, rc;

	log_init("snow-subagent", LOG_LVL_INFO);
	if ((rc = conf_early(subagent_options, subagent_cmdline_only, "snow-subagent", argc, argv)))
		return rc < 0 ? 2 : 0;
	if (subagent_defaults(&s.cfg))
		fatalx("out of memory");
	rc = conf_parse_args(subagent_options, &s.cfg, argc, argv, &next, err, sizeof(err));
	if (rc == -ECANCELED) {
		usage(stdout);
		return 0;
	}
	if (rc || next != argc) {
		if (!rc)
			snprintf(err, sizeof(err), "unexpected argument '%s'", argv[next]);
		log_warnx("%s", err);
		usage(stderr);
		return 2;
	}
	if (s.cfg.config) {
		/* The file first, then the command line again so flags win. */
		if (conf_parse_file(subagent_options, &s.cfg, s.cfg.config, NULL, NULL, err,
				    sizeof(err)) ||
		    conf_parse_args(subagent_options, &s.cfg, argc, argv, &next, err, sizeof(err))) {
			log_warnx("%s", err);
			return 2;
		}
	}
	if (s.cfg.verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (subagent_check(&s, err, sizeof(err))) {
		log_warnx("%s", err);
		return 2;
	}
	if (s.cfg.check_config) {
		printf("snow-subagent: configuration OK (snowd %s, AgentX %s)\n", s.cfg.url,
		       s.cfg.agentx_socket);
		conf_free(subagent_options, &s.cfg);
		return 0;
	}

	/* net-snmp: a subagent that reads no config or MIB files and stores nothing. */
	setenv("MIBS", "", 1);
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, subagent_snmp_log,
			       NULL);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
			      s.cfg.agentx_socket);
	if (init_agent("snow-subagent"))
		fatalx("net-snmp: init_agent failed");
	/* After init_agent(), which sets its own default (15 s). */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   (int)s.cfg.agentx_ping);
	if (agent_init(&s.agent, &s.fetch))
		fatalx("cannot register SNOW-CLUSTER-MIB's objects");
	init_snmp("snow-subagent");

	if (subagent_pipe(s.notify_fd))
		fatal("pipe");
	rc = selfpipe_open(&s.sig, sigs, 2, SELFPIPE_RESTART);
	if (rc)
		fatalx("signals: %s", strerror(-rc));
	register_readfd(s.sig.rfd, subagent_on_sigfd, &s);
	register_readfd(s.notify_fd[0], subagent_on_fetch, &s);
	snmp_alarm_register(1, SA_REPEAT, subagent_on_tick, &s);
	rc = fetch_start(&s.fetch, s.notify_fd[1]);
	if (rc)
		fatalx("cannot start the poller: %s", strerror(-rc));
	log_info("serving SNOW-CLUSTER-MIB from %s over AgentX %s", s.cfg.url, s.cfg.agentx_socket);

	s.running = 1;
	while (s.running)
		agent_check_and_process(1);

	fetch_stop(&s.fetch);
	snmp_shutdown("snow-subagent");
	agent_free(&s.agent);
	selfpipe_close(&s.sig);
	close(s.notify_fd[0]);
	close(s.notify_fd[1]);
	explicit_bzero(s.token, sizeof(s.token));
	conf_free(subagent_options, &s.cfg);
	return 0;
}
