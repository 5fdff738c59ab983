/*
 * The SNOW-CLUSTER-MIB service, whatever runs it: its settings (the option
 * table of /etc/snow/snow-subagent.conf), snowd's token, the fetcher thread
 * and the agent's tables, started inside a net-snmp agent loop.  Two hosts
 * run it: snow-subagent (main.c, an AgentX subagent, its own process) and
 * snmpd itself through `dlmod snow` (dlmod.c), where no AgentX round trip
 * stands between a GETBULK and the tables.
 */
#ifndef SNOW_SNMP_SVC_H
#define SNOW_SNMP_SVC_H

#include <stdio.h>

#include "agent.h"
#include "conf.h"
#include "fetch.h"

struct svc_config {
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

extern const struct conf_option svc_options[];
/* Actions, not settings: left out of /etc/snow/snow-subagent.conf. */
extern const char *const svc_cmdline_only[];

struct svc {
	struct svc_config cfg;
	char token[256];
	struct fetch fetch;
	struct agent agent;
	int notify_fd[2];
	unsigned int tick;   /* net-snmp alarm, 0 when none */
	int started;         /* the fetcher runs */
};

/* The defaults into s->cfg.  @ret 0 or -ENOMEM. */
int svc_defaults(struct svc *s);
/* Read the token and check the URL.  @ret 0 or -EINVAL with err filled. */
int svc_check(struct svc *s, char *err, size_t errlen);
/*
 * Register the MIB's objects and the fetcher's wake-up in the running agent
 * library (after init_agent()).  With defer, the fetcher thread starts at the
 * first tick rather than now: snmpd forks into the background after loading
 * its modules, and a thread does not survive a fork.  @ret 0 or -errno.
 */
int svc_start(struct svc *s, int defer);
/* Stop the fetcher and forget what was fetched (the registrations stay). */
void svc_stop(struct svc *s);
/* Also undo the registrations: for a module snmpd unloads (dlmod). */
void svc_unregister(struct svc *s);
/* net-snmp's own messages through our log. */
void svc_route_snmp_log(void);

#endif
