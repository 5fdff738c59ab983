/*
 * snow-subagent: serves SNOW-CLUSTER-MIB to net-snmp's snmpd over AgentX,
 * with data from snowd's REST API.
 *
 * The agent thread runs net-snmp's loop (agent_check_and_process); the
 * service (svc.c) and its fetcher thread are shared with the snmpd module
 * (dlmod.c).  The signals come in through a self-pipe registered as a read fd.  AgentX pings
 * reconnect to snmpd after it restarts; each poll is a new HTTP
 * connection, so a restarted snowd is simply found again.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "selfpipe.h"
#include "svc.h"

/* The daemon: the service plus its signals. */
struct subagent {
	struct svc svc;
	struct selfpipe sig; /* SIGTERM, SIGINT */
	int running;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: snow-subagent [OPTIONS]\n\nServes SNOW-CLUSTER-MIB to snmpd over "
		   "AgentX with data from snowd.\n\n");
	conf_usage(f, svc_options);
}

/* The daemon's own check: the AgentX address's form, then the service's. */
static int subagent_check(struct subagent *s, char *err, size_t errlen)
{
	const char *x = s->svc.cfg.agentx_socket;

	if (strncmp(x, "unix:/", 6) && strncmp(x, "tcp:", 4) && x[0] != '/') {
		snprintf(err, errlen, "agentx-socket: '%s' is not unix:/PATH or tcp:HOST:PORT", x);
		return -EINVAL;
	}
	return svc_check(&s->svc, err, errlen);
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

int main(int argc, char **argv)
{
	struct subagent s = { 0 };
	struct svc_config *c = &s.svc.cfg;
	char err[512];
	static const int sigs[] = { SIGTERM, SIGINT };
	int next = 0, rc;

	log_init("snow-subagent", LOG_LVL_INFO);
	if ((rc = conf_early(svc_options, svc_cmdline_only, "snow-subagent", argc, argv)))
		return rc < 0 ? 2 : 0;
	if (svc_defaults(&s.svc))
		fatalx("out of memory");
	rc = conf_parse_args(svc_options, c, argc, argv, &next, err, sizeof(err));
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
	if (c->config) {
		/* The file first, then the command line again so flags win. */
		if (conf_parse_file(svc_options, c, c->config, NULL, NULL, err, sizeof(err)) ||
		    conf_parse_args(svc_options, c, argc, argv, &next, err, sizeof(err))) {
			log_warnx("%s", err);
			return 2;
		}
	}
	if (c->verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (subagent_check(&s, err, sizeof(err))) {
		log_warnx("%s", err);
		return 2;
	}
	if (c->check_config) {
		printf("snow-subagent: configuration OK (snowd %s, AgentX %s)\n", c->url,
		       c->agentx_socket);
		conf_free(svc_options, c);
		return 0;
	}

	/* net-snmp: a subagent that reads no config or MIB files and stores nothing. */
	setenv("MIBS", "", 1);
	svc_route_snmp_log();
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
			      c->agentx_socket);
	if (init_agent("snow-subagent"))
		fatalx("net-snmp: init_agent failed");
	/* After init_agent(), which sets its own default (15 s). */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   (int)c->agentx_ping);
	rc = svc_start(&s.svc, 0);
	if (rc)
		fatalx("cannot start: %s", strerror(-rc));
	init_snmp("snow-subagent");

	rc = selfpipe_open(&s.sig, sigs, 2, SELFPIPE_RESTART);
	if (rc)
		fatalx("signals: %s", strerror(-rc));
	register_readfd(s.sig.rfd, subagent_on_sigfd, &s);
	log_info("serving SNOW-CLUSTER-MIB from %s over AgentX %s", c->url, c->agentx_socket);

	s.running = 1;
	while (s.running)
		agent_check_and_process(1);

	svc_stop(&s.svc);
	snmp_shutdown("snow-subagent");
	selfpipe_close(&s.sig);
	conf_free(svc_options, c);
	return 0;
}
