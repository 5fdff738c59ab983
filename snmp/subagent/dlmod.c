/*
 * snow.so: SNOW-CLUSTER-MIB inside snmpd, loaded with `dlmod snow PATH`.
 *
 * The same service as snow-subagent (svc.c), with snmpd's own loop in place
 * of the AgentX session: snmpd's master agent asks an AgentX subagent once
 * per GETBULK repetition (agent/mibgroup/agentx/master.c sends each bulk
 * round as a GetNext PDU), so a walk through a subagent is bound by round
 * trips; inside snmpd the table handlers are called directly, as for its own
 * tables.  The price: a fault in the module is a fault of snmpd.
 *
 * Settings come from the file named by $SNOW_SUBAGENT_CONF, else
 * /etc/snow/snow-subagent.conf (the subagent's file; agentx-socket and
 * agentx-ping mean nothing here), else the defaults.  The token is read while
 * snmpd still runs as root, before it drops to its user.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "svc.h"

#define DLMOD_CONF "/etc/snow/snow-subagent.conf"

/* snmpd calls these two by name (dlmod's init_NAME and deinit_NAME). */
void init_snow(void);
void deinit_snow(void);

static struct svc *dlmod_svc;

/* Our lines go to snmpd's log (-Lf, syslog...), where its own go. */
static void dlmod_log(int prio, const char *line)
{
	snmp_log(prio, "snow: %s\n", line);
}

void init_snow(void)
{
	const char *path = getenv("SNOW_SUBAGENT_CONF");
	struct svc *s;
	char err[512];
	int rc;

	log_init("snow", LOG_LVL_INFO);
	log_set_sink(dlmod_log);
	if (dlmod_svc)
		return;
	s = calloc(1, sizeof(*s));
	if (!s || svc_defaults(s)) {
		snmp_log(LOG_ERR, "snow: out of memory\n");
		free(s);
		return;
	}
	if (!path && access(DLMOD_CONF, F_OK) == 0)
		path = DLMOD_CONF;
	if (path && conf_parse_file(svc_options, &s->cfg, path, NULL, NULL, err, sizeof(err))) {
		snmp_log(LOG_ERR, "snow: %s: %s: SNOW-CLUSTER-MIB not served\n", path, err);
		goto fail;
	}
	if (s->cfg.verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (svc_check(s, err, sizeof(err))) {
		snmp_log(LOG_ERR, "snow: %s: SNOW-CLUSTER-MIB not served\n", err);
		goto fail;
	}
	rc = svc_start(s, 1);
	if (rc) {
		snmp_log(LOG_ERR, "snow: cannot start: %s\n", strerror(-rc));
		svc_unregister(s);
		svc_stop(s);
		goto fail;
	}
	dlmod_svc = s;
	snmp_log(LOG_INFO, "snow: serving SNOW-CLUSTER-MIB inside snmpd from %s\n", s->cfg.url);
	return;
fail:
	conf_free(svc_options, &s->cfg);
	free(s);
}

void deinit_snow(void)
{
	struct svc *s = dlmod_svc;

	if (!s)
		return;
	dlmod_svc = NULL;
	svc_unregister(s);
	svc_stop(s);
	conf_free(svc_options, &s->cfg);
	free(s);
}
